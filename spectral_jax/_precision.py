"""Precision handling.

The library never changes JAX's x64 mode.  Every routine that creates arrays takes
a ``dtype`` argument; ``None`` means float64 when x64 is on and float32 otherwise.
Asking for float64 while x64 is off is an error, never a silent downcast; a float64
NumPy *input* computed in float32 because x64 is off gets one warning per process
(`warn_float64_input`).
"""

from __future__ import annotations

import warnings
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "x64_enabled",
    "default_dtype",
    "resolve_dtype",
    "machine_epsilon",
    "warn_float64_input",
    "Float64InputWarning",
]

_ALIASES = {
    "float32": jnp.float32,
    "f32": jnp.float32,
    "single": jnp.float32,
    "float64": jnp.float64,
    "f64": jnp.float64,
    "double": jnp.float64,
}


def x64_enabled() -> bool:
    """Whether JAX's 64-bit mode is on (read through the public dtype canonicalisation,
    which maps float64 to float32 when it is off)."""
    return jax.dtypes.canonicalize_dtype(np.float64) == np.dtype(np.float64)


def default_dtype() -> Any:
    """float64 if x64 is enabled, else float32."""
    return jnp.float64 if x64_enabled() else jnp.float32


def resolve_dtype(dtype: Any, where: str = "spectral_jax") -> Any:
    """Turn a user ``dtype`` (None, a string or a NumPy/JAX dtype) into a floating dtype.

    **Raises:** ``ValueError`` for a non-floating dtype, or for float64 while x64 is off.
    """
    if dtype is None:
        return default_dtype()
    if isinstance(dtype, str):
        key = dtype.lower()
        if key not in _ALIASES:
            raise ValueError(
                f"{where}: dtype must be one of {sorted(set(_ALIASES))} or a floating dtype; "
                f"got {dtype!r}"
            )
        dt = _ALIASES[key]
    else:
        try:
            dt = np.dtype(dtype).type
        except TypeError as err:
            raise ValueError(f"{where}: dtype must be a floating dtype; got {dtype!r}") from err
    if dt not in (jnp.float32, jnp.float64, np.float32, np.float64):
        raise ValueError(f"{where}: dtype must be float32 or float64; got {np.dtype(dt).name}")
    if np.dtype(dt) == np.float64 and not x64_enabled():
        raise ValueError(
            f"{where}: float64 was requested but JAX's x64 mode is off. Enable it at the "
            "start of your program with `jax.config.update('jax_enable_x64', True)` "
            "(the library never changes it for you), or ask for float32."
        )
    return jnp.float64 if np.dtype(dt) == np.float64 else jnp.float32


def machine_epsilon(dtype: Any) -> float:
    """Unit roundoff-style epsilon ``2^-(p-1)`` of a floating dtype (2^-23 or 2^-52)."""
    return float(np.finfo(np.dtype(dtype)).eps)


class Float64InputWarning(UserWarning):
    """A float64 input computed in float32 because JAX's x64 mode is off."""


#: set once the float64-input warning has been shown (one warning per process)
_float64_warned = False


def warn_float64_input(x: Any, name: str, where: str, *, dtype: Any = None) -> None:
    """Warn (once per process) that a float64 NumPy input will be computed in float32.

    Called where the public API turns user inputs into JAX arrays. It warns only when x64 is
    off, ``x`` is a NumPy float64 array (or scalar) and the caller did not ask for a dtype
    (``dtype=None``): an explicit ``dtype="float32"`` is a requested downcast. JAX arrays
    are never float64 with x64 off, and Python lists carry no precision intent, so neither
    warns.

    **Arguments:** `x` (the input as given), `name` (the argument, e.g. ``"x1"``), `where`
    (the public function), `dtype` (the caller's ``dtype`` argument as given).
    """
    global _float64_warned
    if _float64_warned or dtype is not None or x64_enabled():
        return
    if isinstance(x, (np.ndarray, np.generic)) and x.dtype == np.float64:
        _float64_warned = True
        warnings.warn(
            f"{where}: {name} is a float64 array but JAX's x64 mode is off, so it is computed "
            "in float32; enable jax_enable_x64 for float64 "
            "(`jax.config.update('jax_enable_x64', True)` at the start of your program), or "
            "pass float32 inputs or dtype='float32' to silence this (shown once per process)",
            Float64InputWarning,
            stacklevel=3,
        )
