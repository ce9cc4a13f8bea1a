r"""Which leaves of a model are trained: one resolver shared by the NTK and the dynamics.

A selection resolves into an Equinox *filter spec*: a pytree with the model's structure
whose array leaves are ``True`` (trainable) or ``False`` (frozen); use it with
``eqx.partition(model, spec)``.

| name | `ShallowNetwork` | `MLP` |
|---|---|---|
| ``"all"`` | every floating array leaf | every floating array leaf (any model) |
| ``"outer"`` | $a$ | the last layer (weight and bias) |
| ``"weights"`` | $w$ | every layer's weight |
| ``"biases"`` | $b$ | every layer's bias |
| ``"offset"`` | $c$ | the last layer's bias |
| ``"last"`` | $a, c$ | the last layer (weight and bias) |
| ``"second_to_last"`` | $w, b$ (the hidden layer) | ``layers[-2]`` (weight and bias) |

Combine names as a tuple ``("outer", "biases")`` or a string ``"outer,biases"``; a
callable is a predicate on leaves; a pytree of bools is used as the filter spec.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax.tree_util as jtu
import numpy as np

from ._mlp import MLP
from ._shallow import ShallowNetwork

__all__ = ["trainable_spec", "NAMED_SELECTIONS"]

NAMED_SELECTIONS = ("all", "outer", "weights", "biases", "offset", "last", "second_to_last")


def _table(model: Any, where: str) -> dict[str, Callable[[Any], tuple]]:
    if isinstance(model, ShallowNetwork):
        return {
            "outer": lambda m: (m.outer,),
            "weights": lambda m: (m.weights,),
            "biases": lambda m: (m.biases,),
            "offset": lambda m: (m.offset,),
            "last": lambda m: (m.outer, m.offset),
            "second_to_last": lambda m: (m.weights, m.biases),
        }
    if isinstance(model, MLP):
        table = {
            "outer": lambda m: (m.layers[-1].weight, m.layers[-1].bias),
            "weights": lambda m: tuple(lay.weight for lay in m.layers),
            "biases": lambda m: tuple(lay.bias for lay in m.layers),
            "offset": lambda m: (m.layers[-1].bias,),
            "last": lambda m: (m.layers[-1].weight, m.layers[-1].bias),
        }
        if len(model.layers) >= 2:
            table["second_to_last"] = lambda m: (m.layers[-2].weight, m.layers[-2].bias)
        return table
    raise ValueError(
        f"{where}: a named trainable selection other than 'all' needs a ShallowNetwork or MLP; "
        f"for a {type(model).__name__} pass 'all' or an Equinox filter (a pytree of bools "
        "or a predicate on leaves)"
    )


def _named(model: Any, name: str, where: str) -> Any:
    if name == "all":
        return jtu.tree_map(eqx.is_inexact_array, model)
    table = _table(model, where)
    if name not in table:
        raise ValueError(
            f"{where}: trainable={name!r} is not a known selection for "
            f"{type(model).__name__}; trainable must be one of {sorted(table) + ['all']} (or a "
            "comma-separated combination, a tuple of names, a predicate on leaves or a "
            "filter spec)"
        )
    spec = jtu.tree_map(lambda _: False, model)
    n = len(table[name](model))
    return eqx.tree_at(table[name], spec, replace=(True,) * n)


def _where_spec(model: Any, fn: Callable[[Any], Any], where: str) -> Any | None:
    """The spec of a ``where``-function (as `eqx.tree_at` takes: ``lambda m: m.layers[0]``
    or a tuple of parts), or None if ``fn`` is a predicate on leaves (it returns a bool,
    or fails, when given the whole model)."""
    try:
        sel = fn(model)
    except Exception:  # noqa: BLE001 - not a where-function: a predicate on leaves
        return None
    if (
        sel is None
        or isinstance(sel, (bool, np.bool_))
        or (hasattr(sel, "shape") and hasattr(sel, "dtype") and sel.dtype == bool)
    ):
        return None
    false = jtu.tree_map(lambda _: False, model)
    try:
        return eqx.tree_at(fn, false, replace_fn=lambda node: jtu.tree_map(lambda _: True, node))
    except (ValueError, TypeError) as err:
        raise ValueError(
            f"{where}: the trainable where-function must select parts of the model (as "
            f"eqx.tree_at's where); {err}"
        ) from err


def trainable_spec(model: Any, trainable: Any = "all", *, where: str = "trainable_spec") -> Any:
    """Resolve a trainable selection into a filter-spec pytree of bools.

    **Arguments:**

    - `model`: any Equinox module (or pytree) of parameters.
    - `trainable`: a name (see the module table), names joined by ``,``/``+``, a tuple
      of names, a predicate ``leaf -> bool`` (e.g. `eqx.is_inexact_array`), a
      where-function as `eqx.tree_at` takes (``lambda m: m.layers[-1]`` or a tuple of
      parts; recognised by returning parts of the model, not a bool, when called on it),
      or a filter-spec pytree of bools.
    - `where`: the calling function's name, for error messages.

    **Returns:** a pytree like ``model`` with ``True`` at the trainable array leaves.

    **Raises:** ``ValueError`` for an unknown name, a spec whose structure does not
    match the model, or a selection that selects no floating-point array.
    """
    if isinstance(trainable, str):
        names = [s.strip() for s in trainable.replace("+", ",").split(",") if s.strip()]
        if not names:
            raise ValueError(f"{where}: trainable must name at least one part; got {trainable!r}")
    elif (
        isinstance(trainable, (tuple, list))
        and trainable
        and all(isinstance(t, str) for t in trainable)
    ):
        names = list(trainable)
    else:
        names = None
    if names is not None:
        specs = [_named(model, n, where) for n in names]
        spec = jtu.tree_map(lambda *b: any(bool(v) for v in b), *specs)
    elif callable(trainable) and not isinstance(trainable, eqx.Module):
        spec = _where_spec(model, trainable, where)
        if spec is None:
            spec = jtu.tree_map(
                lambda leaf: eqx.is_inexact_array(leaf) and bool(trainable(leaf)), model
            )
    else:
        try:
            spec = jtu.tree_map(
                lambda leaf, s: bool(s) and eqx.is_inexact_array(leaf), model, trainable
            )
        except (ValueError, TypeError) as err:
            raise ValueError(
                f"{where}: the trainable filter spec does not have the structure of the "
                f"{type(model).__name__} (expected a name, a tuple of names, a predicate or a "
                f"pytree of bools like the model): {err}"
            ) from err
    spec = jtu.tree_map(lambda leaf, s: bool(s) and eqx.is_inexact_array(leaf), model, spec)
    if not any(jtu.tree_leaves(spec)):
        raise ValueError(
            f"{where}: the trainable selection {trainable!r} selects no parameters of the "
            f"{type(model).__name__}: it selects no floating-point array leaf"
        )
    return spec
