r"""Feature matrices $\Phi_{li} = \sigma(w_i\cdot x_l - b_i)$ of shallow networks."""

from __future__ import annotations

import jax.numpy as jnp

from .._checks import check_array
from .._types import Array, ArrayLike, Float
from ..activations import AbstractActivation, get_activation

__all__ = ["feature_matrix", "preactivations", "check_features_args"]


def check_features_args(weights, biases, where: str, x=None) -> None:
    """Validate ``weights (n, d)``, ``biases (n,)`` and optionally ``x (m, d)``."""
    check_array(weights, "weights", where, ndim=2)
    n, d = weights.shape
    if n == 0:
        raise ValueError(
            f"{where}: width must be positive; got weights of shape {tuple(weights.shape)}"
        )
    check_array(biases, "biases", where, shape=(n,))
    if x is not None:
        check_array(x, "x", where, ndim=2)
        if x.shape[1] != d:
            raise ValueError(
                f"{where}: x has dimension {x.shape[1]} but the directions (weights) have "
                f"dimension {d}; they must match"
            )


def preactivations(
    x: Float[ArrayLike, "m d"], weights: Float[ArrayLike, "n d"], biases: Float[ArrayLike, " n"]
) -> Float[Array, "m n"]:
    r"""$z_{li} = w_i\cdot x_l - b_i$."""
    x, w, b = jnp.asarray(x), jnp.asarray(weights), jnp.asarray(biases)
    return x @ w.T - b[None, :]


def feature_matrix(
    activation: AbstractActivation | str,
    weights: Float[ArrayLike, "n d"],
    biases: Float[ArrayLike, " n"],
    x: Float[ArrayLike, "m d"],
) -> Float[Array, "m n"]:
    r"""$\Phi_{li} = \sigma(w_i\cdot x_l - b_i)$, shape ``(m, n)``.

    **Raises:** ``ValueError`` for mismatched shapes or non-finite inputs.
    """
    act = get_activation(activation)
    x, w, b = jnp.asarray(x), jnp.asarray(weights), jnp.asarray(biases)
    check_features_args(w, b, "feature_matrix", x)
    return act(preactivations(x, w, b))
