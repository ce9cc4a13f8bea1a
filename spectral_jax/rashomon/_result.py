"""Result containers of the Rashomon computations."""

from __future__ import annotations

import equinox as eqx

__all__ = ["RashomonResult", "HoeffdingBound"]


class RashomonResult(eqx.Module):
    r"""A Monte Carlo estimate of $\mathbb{P}(\mathcal{R}_\varepsilon(f))$.

    **Fields:**

    - `probability`: hits / samples, the estimate of $\mathbb{P}(\|h-f\|\le\varepsilon\|f\|)$.
    - `ci_low`, `ci_high`: 95% interval (`interval_method`: ``"wilson"``, or
      ``"rule-of-three"`` $[0, 3/N]$ when there are no hits).
    - `hits`, `num_samples`.
    - `hoeffding_probability`, `hoeffding_ci_low`, `hoeffding_ci_high`, `hoeffding_hits`:
      the same for the larger "Hoeffding event" $\langle h,f\rangle\ge(1-\varepsilon)\|f\|^2$.
    - `best_relative_error`: the smallest $\|h-f\|/\|f\|$ met among the samples.
    - `f_norm_sq`: $\|f\|^2_{L^2(D)}$ by the quadrature rule.
    - `n`, `epsilon`, `A`, `dim`, `num_nodes`, `batch_size`, `num_devices`: the set-up.
    """

    probability: float
    ci_low: float
    ci_high: float
    hits: int
    num_samples: int
    interval_method: str
    hoeffding_probability: float
    hoeffding_ci_low: float
    hoeffding_ci_high: float
    hoeffding_hits: int
    best_relative_error: float
    f_norm_sq: float
    n: int
    epsilon: float
    A: float
    dim: int
    num_nodes: int
    batch_size: int
    num_devices: int

    def as_dict(self) -> dict:
        """The fields as a plain JSON-able dict."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


class HoeffdingBound(eqx.Module):
    r"""The Hoeffding bound $\mathbb{P}(\mathcal{R}_\varepsilon)\le
    \mathbb{P}(\langle h,f\rangle\ge(1-\varepsilon)\|f\|^2)\le
    \exp\!\big(-n(1-\varepsilon)^2\|f\|^4/(2A^2\kappa^2)\big)$.

    **Fields:** `bound`, `exponent` (the argument of exp, $\le 0$), `kappa`, `kappa_method`
    (``"direct"``: $\sup_{w,b}|\langle\sigma(w\cdot x-b),f\rangle|$, always valid;
    ``"poisson"``: the slides' $\sup|\int_{w\cdot x=b}g|$ with $\Delta g=f$, $g|_{\partial D}=0$,
    valid only when also $\partial_n g=0$ on $\partial D$), `f_norm_sq`, `n`, `epsilon`, `A`.
    """

    bound: float
    exponent: float
    kappa: float
    kappa_method: str
    f_norm_sq: float
    n: int
    epsilon: float
    A: float

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}
