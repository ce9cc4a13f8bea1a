r"""Gram matrices $G_{ij}=\int_D\sigma(w_i\cdot x-b_i)\sigma(w_j\cdot x-b_j)dx$ of shallow
networks: chunked quadrature assembly, 1D closed forms and the continuous kernel's
eigenvalues (Nyström)."""

from ._closed_form import relu_gram_1d, relu_power_gram_1d
from ._gram import GramResult, gram_matrix, gram_matrix_with_error
from ._methods import QMC, AbstractGramQuadrature, AdaptiveGauss, ClosedForm, ExactComposite
from ._nystrom import gram_kernel_eigenvalues

__all__ = [
    "gram_matrix",
    "gram_matrix_with_error",
    "GramResult",
    "AbstractGramQuadrature",
    "ClosedForm",
    "ExactComposite",
    "AdaptiveGauss",
    "QMC",
    "relu_gram_1d",
    "relu_power_gram_1d",
    "gram_kernel_eigenvalues",
]
