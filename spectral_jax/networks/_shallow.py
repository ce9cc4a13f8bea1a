"""Shallow (one-hidden-layer) network as an Equinox module."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp

from .._checks import check_array, check_positive_int, check_shallow_parameters
from .._precision import resolve_dtype
from .._types import Array, ArrayLike, Float
from ..activations import AbstractActivation, get_activation
from ._features import preactivations

__all__ = ["ShallowNetwork", "alternating_network"]


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
        check_shallow_parameters(w, b, where=where)
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


def alternating_network(
    width: int,
    activation: AbstractActivation | str = "relu",
    *,
    scale: float | None = None,
    weights: Float[ArrayLike, "n d"] | None = None,
    biases: Float[ArrayLike, " n"] | None = None,
    dtype=None,
) -> ShallowNetwork:
    r"""The seeds' alternating-sign shallow network
    $h(x) = s\sum_{i=1}^n (-1)^{i-1}\sigma(x - b_i)$ on $[-1, 1]$.

    Outer weights $a_i = s\,(-1)^{i-1}$ (so $h$ starts small: neighbouring neurons
    cancel), $w_i = 1$ and the evenly spaced biases $b_i = -1 + 2(i-1)/n$ of
    `uniform_biases` unless ``weights``/``biases`` are given.

    **Arguments:**

    - `width`: $n$.
    - `activation`: an activation or its name.
    - `scale`: $s$ (default $1/n$).
    - `weights`, `biases`: override the directions ``(n, d)`` / biases ``(n,)``.
    - `dtype`: floating dtype (default from JAX's x64 mode).

    **Returns:** a `ShallowNetwork`.
    """
    from ._samplers import uniform_biases

    where = "alternating_network"
    n = check_positive_int(width, "width", where)
    dt = resolve_dtype(dtype, where)
    s = 1.0 / n if scale is None else scale
    sign = jnp.where(jnp.arange(n) % 2 == 0, 1.0, -1.0).astype(dt)
    w = jnp.ones((n, 1), dt) if weights is None else jnp.asarray(weights, dt)
    b = uniform_biases(n, dtype=dt) if biases is None else jnp.asarray(biases, dt)
    return ShallowNetwork(sign * jnp.asarray(s, dt), w, b, activation)
