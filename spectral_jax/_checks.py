"""Input validation shared by the public API.

Every message names the function, the argument, what was given and what was expected,
e.g. ``"gram_matrix: biases must be a 1-D array of finite values; got shape (3, 2)"``.
Checks that need concrete values are skipped for traced values (under ``jit``), where
callers use ``eqx.error_if`` instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import numpy as np

__all__ = [
    "concrete_or_none",
    "check_array",
    "check_positive_int",
    "check_positive",
    "check_finite_scalar",
    "check_in_open_interval",
    "check_shallow_parameters",
]


def concrete_or_none(x: Any) -> np.ndarray | None:
    """``np.asarray(x)`` if ``x`` has a concrete value, ``None`` for a tracer."""
    try:
        return np.asarray(x)
    except (jax.errors.ConcretizationTypeError, jax.errors.TracerArrayConversionError):
        return None


def check_array(
    x: Any,
    name: str,
    where: str,
    *,
    ndim: int | Sequence[int] | None = None,
    shape: Sequence[int | None] | None = None,
    finite: bool = True,
    what: str | None = None,
) -> None:
    """Validate rank, shape and finiteness of an array argument."""
    if not hasattr(x, "shape"):
        try:
            x = np.asarray(x, dtype=float)
        except (TypeError, ValueError) as err:
            raise TypeError(f"{where}: {name} must be an array; got {type(x).__name__}") from err
    desc = what or "array"
    if ndim is not None:
        dims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if x.ndim not in dims:
            dstr = " or ".join(f"{d}-D" for d in dims)
            raise ValueError(f"{where}: {name} must be a {dstr} {desc}; got shape {tuple(x.shape)}")
    if shape is not None:
        ok = len(shape) == x.ndim and all(
            s is None or s == t for s, t in zip(shape, x.shape, strict=True)
        )
        if not ok:
            want = "(" + ", ".join("*" if s is None else str(s) for s in shape)
            want += ",)" if len(shape) == 1 else ")"
            raise ValueError(f"{where}: {name} must have shape {want}; got {tuple(x.shape)}")
    if finite:
        val = concrete_or_none(x)
        if val is not None and val.size and not np.all(np.isfinite(val)):
            bad = int(np.sum(~np.isfinite(val)))
            raise ValueError(
                f"{where}: {name} must contain only finite values; got {bad} NaN/inf "
                f"entr{'y' if bad == 1 else 'ies'} in shape {tuple(x.shape)}"
            )


def check_positive_int(n: Any, name: str, where: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"{where}: {name} must be a positive integer; got {n!r}")
    if n <= 0:
        raise ValueError(f"{where}: {name} must be a positive integer; got {n}")
    return int(n)


def check_finite_scalar(v: Any, name: str, where: str) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{where}: {name} must be a real number; got {v!r}") from err
    if not np.isfinite(f):
        raise ValueError(f"{where}: {name} must be finite; got {f}")
    return f


def check_positive(v: Any, name: str, where: str) -> float:
    f = check_finite_scalar(v, name, where)
    if f <= 0:
        raise ValueError(f"{where}: {name} must be positive; got {f}")
    return f


def check_in_open_interval(v: Any, lo: float, hi: float, name: str, where: str) -> float:
    f = check_finite_scalar(v, name, where)
    if not (lo < f < hi):
        raise ValueError(f"{where}: {name} must lie in ({lo}, {hi}); got {f}")
    return f


def check_shallow_parameters(weights: Any, biases: Any, *, where: str, x: Any = None) -> None:
    r"""Validate the parameters $(w_i, b_i)_{i=1}^n$ of a shallow network
    $\sum_i a_i\sigma(w_i\cdot x - b_i)$, and optionally the points ``x``.

    ``weights`` must be a 2-D ``(n, d)`` array with ``n >= 1``, ``biases`` an ``(n,)``
    array, both finite (checked when their values are concrete); ``x``, if given, an
    ``(m, d)`` array of the same dimension ``d``. The one check behind `gram_matrix`,
    `feature_matrix`, `ShallowNetwork` and the fit bases.

    **Raises:** ``TypeError`` for a non-array, ``ValueError`` naming ``where`` and the
    argument for a wrong shape, width 0, NaN/inf or a dimension mismatch.
    """
    check_array(weights, "weights", where, ndim=2, what="array of directions (n, d)")
    n, d = np.shape(weights)
    if n == 0:
        raise ValueError(f"{where}: width must be positive; got weights of shape {(n, d)}")
    check_array(biases, "biases", where, shape=(n,))
    if x is not None:
        check_array(x, "x", where, ndim=2)
        if np.shape(x)[1] != d:
            raise ValueError(
                f"{where}: x has dimension {np.shape(x)[1]} but the directions (weights) have "
                f"dimension {d}; they must match"
            )
