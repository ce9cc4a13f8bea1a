"""Shallow (one-hidden-layer) network as an Equinox module."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp

from .._checks import check_array
from .._types import Array, ArrayLike, Float
from ..activations import AbstractActivation, get_activation
from ._features import check_features_args, preactivations

__all__ = ["ShallowNetwork"]


class ShallowNetwork(eqx.Module):
    r"""$h(x) = \sum_{i=1}^n a_i\,\sigma(w_i\cdot x - b_i) + c$, $x\in\mathbb{R}^d$.

    **Fields:**

    - `outer`: $a$, shape ``(n,)``.
    - `weights`: $w$, shape ``(n, d)`` (rows need not be unit vectors).
    - `biases`: $b$, shape ``(n,)``.
    - `activation`: an `AbstractActivation` (or its name).
    - `offset`: the constant $c$ (a scalar array; 0 by default).

    Call it on one point ``x`` of shape ``(d,)``; use `batch` for ``(m, d)``.
    """

    outer: Float[Array, " n"]
    weights: Float[Array, "n d"]
    biases: Float[Array, " n"]
    activation: AbstractActivation
    offset: Float[Array, ""]

    def __init__(self, outer, weights, biases, activation="relu", offset=0.0):
        where = "ShallowNetwork"
        w = jnp.asarray(weights)
        if w.ndim == 1:
            w = w[:, None]
        b = jnp.asarray(biases, dtype=w.dtype)
        a = jnp.asarray(outer, dtype=w.dtype)
        check_features_args(w, b, where)
        check_array(a, "outer", where, shape=(w.shape[0],))
        self.outer, self.weights, self.biases = a, w, b
        self.activation = get_activation(activation)
        self.offset = jnp.asarray(offset, dtype=w.dtype)

    @property
    def width(self) -> int:
        return int(self.biases.shape[0])

    @property
    def dim(self) -> int:
        return int(self.weights.shape[1])

    def features(self, x: Float[ArrayLike, "m d"]) -> Float[Array, "m n"]:
        r"""$\Phi_{li} = \sigma(w_i\cdot x_l - b_i)$."""
        return self.activation(preactivations(x, self.weights, self.biases))

    def batch(self, x: Float[ArrayLike, "m d"]) -> Float[Array, " m"]:
        """$h$ at each row of ``x``."""
        x = jnp.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(
                f"ShallowNetwork.batch: x must have shape (m, {self.dim}); got {tuple(x.shape)}"
            )
        return self.features(x) @ self.outer + self.offset

    def __call__(self, x: Float[ArrayLike, " d"]) -> Float[Array, ""]:
        x = jnp.asarray(x)
        if x.shape != (self.dim,):
            raise ValueError(
                f"ShallowNetwork: x must have shape ({self.dim},); got {tuple(x.shape)}"
            )
        return self.batch(x[None, :])[0]
