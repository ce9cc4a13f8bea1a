"""Activations: value, autodiff derivatives, closed-form Fourier magnitudes, lookup."""

from ._base import AbstractActivation
from ._builtin import (
    GELU,
    Cauchy,
    Gaussian,
    LeakyReLU,
    ReLU,
    ReLUPower,
    Sigmoid,
    Sine,
    Softplus,
    Tanh,
)
from ._registry import available_activations, get_activation, register_activation
from ._tabulated import TabulatedActivation, load_activation, save_activation

__all__ = [
    "AbstractActivation",
    "ReLU",
    "ReLUPower",
    "LeakyReLU",
    "Tanh",
    "Sigmoid",
    "Softplus",
    "GELU",
    "Sine",
    "Gaussian",
    "Cauchy",
    "get_activation",
    "available_activations",
    "register_activation",
    "TabulatedActivation",
    "save_activation",
    "load_activation",
]
