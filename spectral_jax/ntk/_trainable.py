r"""Model and input checks of the NTK routines; the trainable-leaf selection is the
library's one resolver, `spectral_jax.networks.trainable_spec` (re-exported here).
"""

from __future__ import annotations

import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np

from .._checks import concrete_or_none
from .._precision import warn_float64_input
from ..networks import MLP, ShallowNetwork
from ..networks._trainable import NAMED_SELECTIONS, trainable_spec

__all__ = ["trainable_spec", "NAMED_SELECTIONS"]

# One resolver for the whole library (shared with the dynamics).


def check_model(model: Any, where: str) -> None:
    """Raise ``TypeError`` for something that is not a model (not callable on one input)."""
    if not callable(model) or isinstance(model, type):
        raise TypeError(
            f"{where}: model must be an Equinox module (or other pytree) called on one input, "
            f"e.g. an MLP, ShallowNetwork or eqx.nn.MLP; got {type(model).__name__}"
        )


def _is_state(node: Any) -> bool:
    return isinstance(node, eqx.nn.StateIndex)


def _stateful(model: Any) -> bool:
    return any(_is_state(leaf) for leaf in jtu.tree_leaves(model, is_leaf=_is_state))


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


def prepare_inputs(
    model: Any,
    x: Any,
    name: str,
    where: str,
    dtype: Any,
    *,
    dtype_arg: Any = "given",
    shape: tuple[int, ...] | None = None,
) -> jax.Array:
    """Check ``x`` (a batch of inputs) against the model; returns it cast to ``dtype``.

    ``shape`` is the model's single-input shape when the caller knows it (default:
    `input_shape`, the library's networks).

    Concrete NaN/inf inputs raise ``ValueError``; traced inputs (under ``jit``) get an
    `eqx.error_if` so a NaN input raises when the computation runs instead of returning a
    NaN kernel. ``dtype_arg`` is the caller's ``dtype`` argument as given (``None``: the
    float64-without-x64 warning applies, see `warn_float64_input`).
    """
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        try:
            x = np.asarray(x, dtype=float)
        except (TypeError, ValueError) as err:
            raise TypeError(f"{where}: {name} must be an array; got {type(x).__name__}") from err
    elif not (jnp.issubdtype(x.dtype, jnp.floating) or jnp.issubdtype(x.dtype, jnp.integer)):
        raise TypeError(
            f"{where}: {name} must be a real floating (or integer) array; got dtype {x.dtype}"
        )
    warn_float64_input(x, name, where, dtype=dtype_arg)
    shp = input_shape(model) if shape is None else tuple(shape)
    if shp == (1,) and x.ndim == 1:
        x = x[:, None]
    if x.ndim < 1 or x.shape[0] == 0:
        raise ValueError(
            f"{where}: {name} must be a non-empty batch of inputs; got shape {tuple(x.shape)}"
        )
    if shp is not None and tuple(x.shape[1:]) != shp:
        dims = ", ".join(["N", *map(str, shp)]) + ("," if not shp else "")
        raise ValueError(
            f"{where}: {name} must have shape ({dims}) to match the "
            f"{type(model).__name__}; got {tuple(x.shape)}"
        )
    val = concrete_or_none(x)
    if val is not None and not np.all(np.isfinite(val)):
        raise ValueError(
            f"{where}: {name} must contain only finite values; got "
            f"{int(np.sum(~np.isfinite(val)))} NaN/inf entries in shape {tuple(x.shape)}"
        )
    x = jnp.asarray(x, dtype=dtype)
    if val is None:  # traced (under jit): checked when the computation runs
        x = eqx.error_if(
            x,
            ~jnp.all(jnp.isfinite(x)),
            f"{where}: {name} must contain only finite values (got NaN/inf under jit)",
        )
    if shp is None:
        try:
            out = eqx.filter_eval_shape(lambda m, xi: m(xi), model, x[0])
        except Exception as err:  # noqa: BLE001 - report the shape mismatch clearly
            if _stateful(model):
                raise ValueError(
                    f"{where}: stateful models (eqx.nn.State: BatchNorm, SpectralNorm, ...) are "
                    "unsupported: the model must map one input to its output; wrap it with "
                    "its state fixed (a module whose __call__ returns model(x, state)[0])"
                ) from err
            msg = " ".join(str(err).split())[:300]
            raise ValueError(
                f"{where}: the model cannot be applied to one input of shape "
                f"{tuple(x.shape[1:])} taken from {name} of shape {tuple(x.shape)}: {msg}"
            ) from err
        if not isinstance(out, jax.ShapeDtypeStruct):
            raise ValueError(
                f"{where}: the model must return one array per input; on an input of shape "
                f"{tuple(x.shape[1:])} it returns a {type(out).__name__}"
            )
        if not jnp.issubdtype(out.dtype, jnp.inexact):
            raise ValueError(
                f"{where}: the model must return floating values; it returns {out.dtype}"
            )
    return x


def output_size(model: Any, x: jax.Array) -> int:
    """Number of output entries of the model on one input (1 for a scalar output)."""
    out = eqx.filter_eval_shape(lambda m, xi: m(xi), model, x[0])
    return max(1, math.prod(out.shape))


def count_params(model: Any, spec: Any) -> int:
    """Number of trainable scalars of ``model`` under the filter ``spec``."""
    params, _ = eqx.partition(model, spec)
    return sum(int(np.prod(np.shape(leaf))) for leaf in jtu.tree_leaves(params))


def widest_axis(model: Any) -> int:
    """The longest axis of any array leaf: a proxy for the widest hidden layer (memory
    estimates of forward-mode Jacobians and NTK-vector products)."""
    dims = [max(np.shape(leaf), default=1) for leaf in jtu.tree_leaves(model) if eqx.is_array(leaf)]
    return max(dims, default=1)


def cast_model(model: Any, dtype: Any) -> Any:
    """Cast every floating array leaf of ``model`` to ``dtype``."""
    return jtu.tree_map(
        lambda a: a.astype(dtype) if eqx.is_inexact_array(a) and a.dtype != dtype else a, model
    )
