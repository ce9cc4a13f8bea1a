r"""Selecting the trainable leaves of a model, and checking models and inputs.

A selection is resolved into an Equinox *filter spec*: a pytree with the model's
structure whose array leaves are ``True`` (trainable) or ``False`` (frozen). The NTK is
then $K(x,x') = \sum_{p\ \mathrm{trainable}} \partial_p f(x)\,\partial_p f(x')$.

Named selections:

| name | `ShallowNetwork` | `MLP` |
|---|---|---|
| ``"all"`` | every floating array leaf | every floating array leaf |
| ``"outer"`` | $a$ | last layer (weight and bias) |
| ``"weights"`` | $w$ | every layer's weight |
| ``"biases"`` | $b$ | every layer's bias |
| ``"second_to_last"`` | $w, b$ (the hidden layer) | ``layers[-2]`` (weight and bias) |
| ``"offset"`` | $c$ | -- |

A tuple of names is their union, e.g. ``("outer", "biases")``. A callable is a predicate
on leaves; a pytree of bools is used as the filter spec directly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np

from .._checks import concrete_or_none
from ..networks import MLP, ShallowNetwork

__all__ = ["trainable_spec", "NAMED_SELECTIONS"]

NAMED_SELECTIONS = ("all", "outer", "weights", "biases", "second_to_last", "offset")


def _false_spec(model: Any) -> Any:
    return jtu.tree_map(lambda _: False, model)


def _set(model: Any, spec: Any, where_fn: Callable[[Any], Any]) -> Any:
    nodes = where_fn(spec)
    n = len(nodes) if isinstance(nodes, (tuple, list)) else 1
    return eqx.tree_at(
        where_fn, spec, replace=(True,) * n if isinstance(nodes, (tuple, list)) else True
    )


def _named(model: Any, name: str, where: str) -> Any:
    spec = _false_spec(model)
    if name == "all":
        return jtu.tree_map(eqx.is_inexact_array, model)
    if isinstance(model, ShallowNetwork):
        fields = {
            "outer": lambda m: m.outer,
            "weights": lambda m: m.weights,
            "biases": lambda m: m.biases,
            "offset": lambda m: m.offset,
            "second_to_last": lambda m: (m.weights, m.biases),
        }
        if name in fields:
            return _set(model, spec, fields[name])
    elif isinstance(model, MLP):
        layers = model.layers
        if name == "outer":
            return _set(model, spec, lambda m: (m.layers[-1].weight, m.layers[-1].bias))
        if name == "weights":
            return _set(model, spec, lambda m: tuple(l.weight for l in m.layers))
        if name == "biases":
            return _set(model, spec, lambda m: tuple(l.bias for l in m.layers))
        if name == "second_to_last":
            if len(layers) < 2:
                raise ValueError(
                    f"{where}: trainable='second_to_last' needs an MLP with >= 2 layers"
                )
            return _set(model, spec, lambda m: (m.layers[-2].weight, m.layers[-2].bias))
    raise ValueError(
        f"{where}: trainable={name!r} is not a known selection for {type(model).__name__}; "
        f"known names: {list(NAMED_SELECTIONS)} ('all' for any model; the others for "
        "ShallowNetwork and MLP), or pass a filter-spec pytree or a predicate on leaves"
    )


def trainable_spec(model: Any, trainable: Any = "all", *, where: str = "trainable_spec") -> Any:
    """Resolve a trainable selection into a filter-spec pytree of bools.

    **Arguments:**
    - `model`: any Equinox module (or pytree) of parameters.
    - `trainable`: a name (see the module table), a tuple of names, a predicate
      ``leaf -> bool``, or a filter-spec pytree of bools.

    **Returns:** a pytree like ``model`` with ``True`` at trainable array leaves.

    **Raises:** ``ValueError`` if the selection is unknown or selects no floating array.
    """
    if isinstance(trainable, str):
        spec = _named(model, trainable, where)
    elif (
        isinstance(trainable, (tuple, list))
        and trainable
        and all(isinstance(t, str) for t in trainable)
    ):
        specs = [_named(model, t, where) for t in trainable]
        spec = jtu.tree_map(lambda *b: any(bool(v) for v in b), *specs)
    elif callable(trainable) and not isinstance(trainable, eqx.Module):
        spec = jtu.tree_map(
            lambda leaf: eqx.is_inexact_array(leaf) and bool(trainable(leaf)), model
        )
    else:
        try:
            spec = jtu.tree_map(
                lambda leaf, s: bool(s) and eqx.is_inexact_array(leaf), model, trainable
            )
        except (ValueError, TypeError) as err:
            raise TypeError(
                f"{where}: trainable must be a name, a tuple of names, a predicate or a filter "
                f"spec with the model's structure; got {type(trainable).__name__}"
            ) from err
    spec = jtu.tree_map(lambda leaf, s: bool(s) and eqx.is_inexact_array(leaf), model, spec)
    if not any(jtu.tree_leaves(spec)):
        raise ValueError(
            f"{where}: the trainable selection {trainable!r} selects no floating-point array "
            f"leaf of the {type(model).__name__}; the NTK would be identically zero"
        )
    return spec


def check_params_finite(model: Any, where: str) -> None:
    """Raise if a concrete floating leaf of ``model`` holds NaN/inf."""
    for path, leaf in jtu.tree_leaves_with_path(model):
        if eqx.is_inexact_array(leaf):
            val = concrete_or_none(leaf)
            if val is not None and val.size and not np.all(np.isfinite(val)):
                raise ValueError(
                    f"{where}: model parameter {jtu.keystr(path)} contains "
                    f"{int(np.sum(~np.isfinite(val)))} NaN/inf value(s); parameters must be finite"
                )


def input_shape(model: Any) -> tuple[int, ...] | None:
    """The single-input shape of the library's networks (None for other models)."""
    if isinstance(model, ShallowNetwork):
        return (model.dim,)
    if isinstance(model, MLP):
        return (model.in_size,)
    return None


def prepare_inputs(model: Any, x: Any, name: str, where: str, dtype: Any) -> jax.Array:
    """Check ``x`` (a batch of inputs) against the model; returns it cast to ``dtype``."""
    if not hasattr(x, "shape"):
        try:
            x = np.asarray(x, dtype=float)
        except (TypeError, ValueError) as err:
            raise TypeError(f"{where}: {name} must be an array; got {type(x).__name__}") from err
    shp = input_shape(model)
    if shp == (1,) and x.ndim == 1:
        x = x[:, None]
    if x.ndim < 1 or x.shape[0] == 0:
        raise ValueError(
            f"{where}: {name} must be a non-empty batch of inputs; got shape {tuple(x.shape)}"
        )
    if shp is not None and tuple(x.shape[1:]) != shp:
        raise ValueError(
            f"{where}: {name} must have shape (N, {', '.join(map(str, shp))}) to match the "
            f"{type(model).__name__}; got {tuple(x.shape)}"
        )
    val = concrete_or_none(x)
    if val is not None and not np.all(np.isfinite(val)):
        raise ValueError(
            f"{where}: {name} must contain only finite values; got "
            f"{int(np.sum(~np.isfinite(val)))} NaN/inf entries in shape {tuple(x.shape)}"
        )
    x = jnp.asarray(x, dtype=dtype)
    if shp is None:
        try:
            jax.eval_shape(lambda m, xi: m(xi), model, x[0])
        except Exception as err:  # noqa: BLE001 - report the shape mismatch clearly
            raise ValueError(
                f"{where}: the model cannot be applied to one input of shape "
                f"{tuple(x.shape[1:])} taken from {name} of shape {tuple(x.shape)}: {err}"
            ) from err
    return x


def cast_model(model: Any, dtype: Any) -> Any:
    """Cast every floating array leaf of ``model`` to ``dtype``."""
    return jtu.tree_map(
        lambda l: l.astype(dtype) if eqx.is_inexact_array(l) and l.dtype != dtype else l, model
    )
