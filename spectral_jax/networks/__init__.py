"""Networks (shallow and deep) and parameter samplers."""

from ._features import feature_matrix, preactivations
from ._interop import from_stax_mlp, stax_ntk, to_stax_mlp
from ._mlp import MLP
from ._samplers import (
    adaptive_biases,
    golden_directions,
    iid_biases,
    quasi_uniform_directions,
    quasi_uniform_parameters,
    random_directions,
    shallow_parameters,
    uniform_biases,
)
from ._shallow import ShallowNetwork, alternating_network
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
    "golden_directions",
    "shallow_parameters",
    "alternating_network",
    "trainable_spec",
    "NAMED_SELECTIONS",
    "from_stax_mlp",
    "to_stax_mlp",
    "stax_ntk",
]
