"""Fully connected deep network with a scalar (or vector) output."""

from __future__ import annotations

from collections.abc import Sequence

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr

from .._checks import check_positive_int
from .._precision import resolve_dtype
from .._types import Array, ArrayLike, Float, PRNGKeyArray
from ..activations import AbstractActivation, get_activation

__all__ = ["MLP"]


class MLP(eqx.Module):
    r"""$f(x) = W_L\,\sigma(\cdots\sigma(W_1 x + b_1)\cdots) + b_L$ with `eqx.nn.Linear` layers.

    **Arguments:**

    - `in_size`: input dimension $d$.
    - `widths`: hidden widths, e.g. ``(64, 64)``.
    - `out_size`: output size; ``"scalar"`` (default) gives a scalar output.
    - `activation`: an activation or its name.
    - `key`: PRNG key (keyword-only).
    - `dtype`: parameter dtype.

    Layers are in `layers`; e.g. the second-to-last layer is ``layers[-2]`` (Welper's
    deep setting trains only that one: select it with a filter spec).
    """

    layers: tuple[eqx.nn.Linear, ...]
    activation: AbstractActivation

    def __init__(
        self,
        in_size: int,
        widths: Sequence[int],
        out_size: int | str = "scalar",
        activation: AbstractActivation | str = "relu",
        *,
        key: PRNGKeyArray,
        dtype=None,
    ):
        where = "MLP"
        in_size = check_positive_int(in_size, "in_size", where)
        widths = [check_positive_int(w, "widths[i]", where) for w in widths]
        if not widths:
            raise ValueError(f"{where}: widths must name at least one hidden layer; got {widths!r}")
        if out_size != "scalar":
            out_size = check_positive_int(out_size, "out_size", where)
        dt = resolve_dtype(dtype, where)
        sizes = [in_size, *widths]
        keys = jr.split(key, len(sizes))
        layers = [
            eqx.nn.Linear(sizes[i], sizes[i + 1], key=keys[i], dtype=dt) for i in range(len(widths))
        ]
        layers.append(eqx.nn.Linear(sizes[-1], out_size, key=keys[-1], dtype=dt))
        self.layers = tuple(layers)
        self.activation = get_activation(activation)

    @property
    def in_size(self) -> int:
        return int(self.layers[0].in_features)

    def __call__(self, x: Float[ArrayLike, " d"]) -> Float[Array, "*out"]:
        x = jnp.asarray(x)
        if x.shape != (self.in_size,):
            raise ValueError(f"MLP: x must have shape ({self.in_size},); got {tuple(x.shape)}")
        for layer in self.layers[:-1]:
            x = self.activation(layer(x))
        return self.layers[-1](x)
