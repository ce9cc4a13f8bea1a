"""Spectral penalties of activations, their spectra by FFT, and inverse design rho -> phi.

References: arXiv 2503.10587 (spectral bias shaped by the non-linearity).
"""

from ._design import DesignResult, design_activation
from ._rho import as_rho, spectral_penalty
from ._roundtrip import RoundTripResult, gram_eigenvalues, roundtrip_training
from ._spectrum import SpectrumResult, activation_spectrum, choose_derivative_order

__all__ = [
    "activation_spectrum",
    "SpectrumResult",
    "choose_derivative_order",
    "spectral_penalty",
    "as_rho",
    "design_activation",
    "DesignResult",
    "gram_eigenvalues",
    "roundtrip_training",
    "RoundTripResult",
]
