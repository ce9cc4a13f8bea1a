r"""Spectra of Gram matrices: eigenpairs, eigenfunctions, decay-rate fits, condition
numbers and the modes resolvable at a given precision."""

from ._ball import BallSpectrum, ball_gram_eigenvalues, harmonic_dimension
from ._decay import DecayFit, decay_rate, local_decay_exponents
from ._plot import plot_eigenfunctions, plot_local_exponents, plot_spectrum
from ._spectrum import (
    Spectrum,
    condition_number,
    eigenfunctions,
    eigh_bytes,
    eigh_spectrum,
    predicted_resolvable_frequency,
    resolvable_modes,
)

__all__ = [
    "Spectrum",
    "eigh_spectrum",
    "eigh_bytes",
    "eigenfunctions",
    "DecayFit",
    "decay_rate",
    "condition_number",
    "resolvable_modes",
    "predicted_resolvable_frequency",
    "plot_spectrum",
    "plot_eigenfunctions",
    "plot_local_exponents",
    "BallSpectrum",
    "ball_gram_eigenvalues",
    "harmonic_dimension",
    "local_decay_exponents",
]
