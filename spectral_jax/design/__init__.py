"""Spectral penalties of activations, their spectra by FFT, and inverse design rho -> phi.

References: arXiv 2503.10587 (spectral bias shaped by the non-linearity).
"""

from ._design import DesignResult, design_activation
from ._plot import plot_design, plot_penalties
from ._rho import as_rho, spectral_penalty
from ._roundtrip import RoundTripResult, gram_eigenvalues, roundtrip_training
from ._spectrum import ActivationSpectrum, activation_spectrum, choose_derivative_order

__all__ = [
    "activation_spectrum",
    "ActivationSpectrum",
    "choose_derivative_order",
    "spectral_penalty",
    "as_rho",
    "design_activation",
    "DesignResult",
    "gram_eigenvalues",
    "roundtrip_training",
    "RoundTripResult",
    "plot_design",
    "plot_penalties",
]


def __getattr__(name: str):
    if name == "SpectrumResult":  # the former name of ActivationSpectrum
        import warnings

        warnings.warn(
            "spectral_jax.design.SpectrumResult is deprecated; use ActivationSpectrum (the "
            "activation's Fourier spectrum; `Spectrum` is a matrix's eigenpairs)",
            DeprecationWarning,
            stacklevel=2,
        )
        return ActivationSpectrum
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
