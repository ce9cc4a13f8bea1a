r"""Model and input checks of the NTK routines; the trainable-leaf selection is the
library's one resolver, `spectral_jax.networks.trainable_spec` (re-exported here).
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np

from .._checks import concrete_or_none
from ..networks import MLP, ShallowNetwork
from ..networks._trainable import NAMED_SELECTIONS, trainable_spec

__all__ = ["trainable_spec", "NAMED_SELECTIONS"]

# One resolver for the whole library (shared with the dynamics).


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
