"""Training dynamics: gradient flow/descent as jitted scans, tracked mode by mode."""

from ._batched import TrajectoryBatch, stack_models, train_many
from ._checkpoint import Checkpoint, CheckpointError, read_checkpoint
from ._curvature import CurvatureEstimate, top_hessian_eigenvalue
from ._engine import records_bytes
from ._experiments import gauss_newton_lmax, gram_mode_study, mode_learning, welper_run
from ._fast1d import fast1d_order, fast1d_outputs
from ._flow import FlowCheckpointError, FlowTrajectory, flow_save_times, gradient_flow
from ._linear_flow import OuterFlow, outer_flow
from ._mode_study import ModeStudy, mode_study
from ._modes import (
    ModeTracker,
    PowerLawFit,
    fit_exponent,
    fit_power_law,
    fourier_modes,
    fourier_modes_bytes,
    halving_times,
    mode_has_content,
    ntk_modes,
    steps_to_halve,
)
from ._plot import plot_flow_vs_descent, plot_mode_studies, plot_trajectory, plot_welper_sweep
from ._problem import LossDomain, loss_domain, select_trainable
from ._steppers import (
    RK4,
    AbstractStepper,
    Euler,
    ExpEuler,
    LinearisedFlow,
    OptaxStepper,
    get_stepper,
)
from ._train import TrainingInterrupted, train
from ._trajectory import Trajectory, TrajectoryFileError, load_trajectory
from ._welper import WelperRun, WelperSweep, welper_sweep

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
    "get_stepper",
    "top_hessian_eigenvalue",
    "CurvatureEstimate",
    "train",
    "TrainingInterrupted",
    "CheckpointError",
    "Checkpoint",
    "read_checkpoint",
    "records_bytes",
    "TrajectoryFileError",
    "gradient_flow",
    "FlowTrajectory",
    "FlowCheckpointError",
    "flow_save_times",
    "train_many",
    "stack_models",
    "TrajectoryBatch",
    "Trajectory",
    "load_trajectory",
    "ModeTracker",
    "fourier_modes",
    "fourier_modes_bytes",
    "ntk_modes",
    "steps_to_halve",
    "fit_exponent",
    "fast1d_outputs",
    "fast1d_order",
    "plot_trajectory",
    "plot_mode_studies",
    "plot_welper_sweep",
    "plot_flow_vs_descent",
    "mode_learning",
    "gram_mode_study",
    "welper_run",
    "gauss_newton_lmax",
    "mode_has_content",
    "halving_times",
    "PowerLawFit",
    "fit_power_law",
    "outer_flow",
    "OuterFlow",
    "mode_study",
    "ModeStudy",
    "welper_sweep",
    "WelperSweep",
    "WelperRun",
]
