"""Training dynamics: gradient flow/descent as jitted scans, tracked mode by mode."""

from ._fast1d import fast1d_outputs
from ._modes import ModeTracker, fit_exponent, fourier_modes, ntk_modes, steps_to_halve
from ._plot import plot_trajectory
from ._problem import LossDomain, loss_domain, select_trainable
from ._steppers import RK4, AbstractStepper, Euler, ExpEuler, LinearisedFlow, OptaxStepper
from ._train import train
from ._trajectory import Trajectory, load_trajectory

__all__ = [
    "LossDomain",
    "loss_domain",
    "select_trainable",
    "AbstractStepper",
    "Euler",
    "RK4",
    "OptaxStepper",
    "LinearisedFlow",
    "ExpEuler",
    "train",
    "Trajectory",
    "load_trajectory",
    "ModeTracker",
    "fourier_modes",
    "ntk_modes",
    "steps_to_halve",
    "fit_exponent",
    "fast1d_outputs",
    "plot_trajectory",
]
