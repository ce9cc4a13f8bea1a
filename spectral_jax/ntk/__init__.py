"""Neural tangent kernels: empirical (any Equinox model), structured (shallow nets),
NTK-vector products, NTK operator spectra (Nyström, Lanczos), the infinite-width limit of
Welper's shallow 1D setting, and Sobolev coercivity estimates."""

from ._coercivity import CoercivityEstimate, fourier_galerkin, ntk_coercivity
from ._empirical import (
    METHODS,
    check_ntk_memory,
    choose_method,
    empirical_ntk,
    ntk_peak_bytes,
    ntk_vector_product,
)
from ._layered import layered_applies, layered_ntk, layered_peak_bytes
from ._limit import limit_mc_constant, limit_ntk, limit_ntk_eigenvalues, welper_shallow_network
from ._methods import NTVP, AbstractNTKMethod, Auto, Jacfwd, Jacrev, Layered, Structured
from ._plot import plot_limit_convergence, plot_ntk_spectra
from ._spectrum import (
    eigenvalue_bytes,
    lanczos_eigvalsh,
    ntk_eigenvalues,
    ntk_operator_eigenvalues,
    nystrom_eigenvalues,
)
from ._structured import shallow_relu_1d_ntk, structured_ntk, structured_peak_bytes
from ._studies import coercivity_study, limit_convergence_study
from ._trainable import NAMED_SELECTIONS, trainable_spec

__all__ = [
    "empirical_ntk",
    "structured_ntk",
    "layered_ntk",
    "layered_applies",
    "shallow_relu_1d_ntk",
    "ntk_vector_product",
    "choose_method",
    "trainable_spec",
    "METHODS",
    "AbstractNTKMethod",
    "Auto",
    "Jacrev",
    "Jacfwd",
    "NTVP",
    "Structured",
    "Layered",
    "NAMED_SELECTIONS",
    "lanczos_eigvalsh",
    "nystrom_eigenvalues",
    "ntk_operator_eigenvalues",
    "ntk_eigenvalues",
    "welper_shallow_network",
    "limit_ntk",
    "limit_ntk_eigenvalues",
    "limit_mc_constant",
    "fourier_galerkin",
    "ntk_coercivity",
    "CoercivityEstimate",
    "plot_ntk_spectra",
    "plot_limit_convergence",
    "limit_convergence_study",
    "coercivity_study",
    "ntk_peak_bytes",
    "structured_peak_bytes",
    "layered_peak_bytes",
    "eigenvalue_bytes",
    "check_ntk_memory",
]
