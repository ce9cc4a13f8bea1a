"""Plain-JSON serialisation shared by the command line and the report.

A base module (it imports only the standard library; NumPy is imported when an array
is met), so that `report` and `commands` can both use it without importing each other.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["to_jsonable", "dump_json", "tool_version"]


def to_jsonable(obj: Any) -> Any:
    """Convert NumPy/JAX scalars and arrays (recursively) to plain JSON types.

    Dictionaries keep their order (keys become strings), tuples become lists, arrays
    become (nested) lists, and non-finite floats become ``None`` (JSON has no NaN)."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, bool) or obj is None or isinstance(obj, (int, str)):
        return obj
    if isinstance(obj, float):  # NumPy's float64 is one too
        return float(obj) if math.isfinite(obj) else None
    if hasattr(obj, "shape") and hasattr(obj, "dtype"):
        import numpy as np

        arr = np.asarray(obj)
        if arr.ndim == 0:
            return to_jsonable(arr.item())
        return to_jsonable(arr.tolist())
    import numpy as np

    if isinstance(obj, np.floating):
        return to_jsonable(float(obj))
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if hasattr(obj, "__fspath__"):  # a path
        return str(obj)
    return obj


def dump_json(data: Any, *, indent: int | None = None) -> str:
    """``data`` as JSON text (through :func:`to_jsonable`; NaN is never written)."""
    return json.dumps(to_jsonable(data), indent=indent, sort_keys=False, allow_nan=False)


def tool_version() -> str:
    """The installed version of spectral-jax (from the package metadata, without importing
    the library)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("spectral-jax")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0+unknown"
