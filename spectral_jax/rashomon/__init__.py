r"""The Rashomon set of a shallow network class: Monte Carlo measure and Hoeffding bound.

$\mathbb{P}(\|h-f\|_{L^2(D)}\le\varepsilon\|f\|)$ for $h=\frac1n\sum_j a_j\sigma(w_j\cdot x-b_j)$
with uniform parameters, the bound $\exp(-n(1-\varepsilon)^2\|f\|^4/(2A^2\kappa^2))$ and its
constant $\kappa$ (arXiv 2306.17301, slides).
"""

from ._estimate import (
    network_inner_products,
    rashomon_batch_bytes,
    rashomon_batch_size,
    rashomon_estimate,
    sample_parameters,
)
from ._exact import ExactRashomon, rashomon_exact
from ._interval import binomial_interval
from ._kappa import hoeffding_bound, rashomon_kappa
from ._plot import plot_frequency_sweep
from ._result import HoeffdingBound, RashomonResult
from ._setup import rashomon_rule
from ._sweep import FrequencySweep, oscillatory_target, rashomon_frequency_sweep

__all__ = [
    "rashomon_estimate",
    "RashomonResult",
    "rashomon_kappa",
    "hoeffding_bound",
    "HoeffdingBound",
    "rashomon_exact",
    "ExactRashomon",
    "rashomon_frequency_sweep",
    "FrequencySweep",
    "oscillatory_target",
    "plot_frequency_sweep",
    "binomial_interval",
    "sample_parameters",
    "network_inner_products",
    "rashomon_rule",
    "rashomon_batch_size",
    "rashomon_batch_bytes",
]
