"""Networks (shallow and deep) and parameter samplers."""

from ._features import feature_matrix, preactivations
from ._mlp import MLP
from ._samplers import (
    adaptive_biases,
    iid_biases,
    quasi_uniform_directions,
    quasi_uniform_parameters,
    random_directions,
    uniform_biases,
)
from ._shallow import ShallowNetwork
from ._trainable import NAMED_SELECTIONS, trainable_spec

__all__ = [
    "ShallowNetwork",
    "MLP",
    "feature_matrix",
    "preactivations",
    "uniform_biases",
    "iid_biases",
    "random_directions",
    "quasi_uniform_directions",
    "quasi_uniform_parameters",
    "adaptive_biases",
    "trainable_spec",
    "NAMED_SELECTIONS",
]
