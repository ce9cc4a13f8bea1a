r"""Feature matrices $\Phi_{li} = \sigma(w_i\cdot x_l - b_i)$ of shallow networks."""

from __future__ import annotations

import jax.numpy as jnp

from .._checks import check_shallow_parameters
from .._types import Array, ArrayLike, Float
from ..activations import AbstractActivation, get_activation

__all__ = ["feature_matrix", "preactivations"]


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
    check_shallow_parameters(w, b, where="feature_matrix", x=x)
    return act(preactivations(x, w, b))
