"""Least squares in a basis (shallow-network features or P1 finite elements), the
eigenmode projection and the low-pass filter."""

from ._basis import AbstractBasis, FEMBasis, NetworkBasis
from ._fit import FitResult, fit_least_squares, fit_samples
from ._lowpass import max_fittable_frequency, predicted_max_frequency, resolvable_frequency_table
from ._paper_data import SLIDES_TABLE1
from ._plot import plot_fit, plot_fittable_frequency, plot_projection
from ._projection import ModeProjection, eigenmode_projection
from ._solver import (
    LU,
    QR,
    SVD,
    AbstractSolver,
    Cholesky,
    IllConditionedWarning,
    TruncatedEigh,
)

__all__ = [
    "AbstractBasis",
    "NetworkBasis",
    "FEMBasis",
    "FitResult",
    "fit_least_squares",
    "fit_samples",
    "AbstractSolver",
    "QR",
    "SVD",
    "Cholesky",
    "LU",
    "TruncatedEigh",
    "IllConditionedWarning",
    "ModeProjection",
    "eigenmode_projection",
    "predicted_max_frequency",
    "resolvable_frequency_table",
    "max_fittable_frequency",
    "plot_fit",
    "plot_fittable_frequency",
    "plot_projection",
    "SLIDES_TABLE1",
]
