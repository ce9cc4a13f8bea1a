"""Shared machinery of the command line: results, tables, JSON, options.

Every command module defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and
``run(args) -> CommandResult``. The convention for all commands: ``--json`` prints
``CommandResult.data`` as one JSON object (named fields, numbers as numbers) instead of
the human-readable ``text``; ``--quiet`` silences progress output on stderr.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "CommandResult",
    "format_table",
    "to_jsonable",
    "add_dtype_option",
    "add_force_option",
    "check_plot_path",
    "save_figure",
    "seed_type",
    "positive_int",
    "nonnegative_int",
    "positive_float",
    "fmt",
]


@dataclass
class CommandResult:
    """What a command returns: JSON-able ``data`` and a human-readable ``text``.

    ``exit_code`` lets a command report partial failure (e.g. a failed report section)."""

    data: dict[str, Any]
    text: str
    exit_code: int = 0
    files: list[str] = field(default_factory=list)


def to_jsonable(obj: Any) -> Any:
    """Convert NumPy/JAX scalars and arrays (recursively) to plain JSON types.

    Non-finite floats become ``None`` (JSON has no NaN)."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if hasattr(obj, "shape") and hasattr(obj, "dtype"):
        arr = np.asarray(obj)
        if arr.ndim == 0:
            return to_jsonable(arr.item())
        return to_jsonable(arr.tolist())
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    return obj


def fmt(v: Any, digits: int = 4) -> str:
    """Compact number formatting for tables."""
    if v is None:
        return "-"
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return str(int(v))
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if not math.isfinite(f):
        return str(f)
    if f != 0 and (abs(f) < 1e-3 or abs(f) >= 1e5):
        return f"{f:.{digits - 1}e}"
    return f"{f:.{digits}g}"


def format_table(headers: list[str], rows: list[list[Any]], title: str | None = None) -> str:
    """A plain aligned text table."""
    cells = [[str(h) for h in headers]] + [
        [c if isinstance(c, str) else fmt(c) for c in r] for r in rows
    ]
    widths = [max(len(r[j]) for r in cells) for j in range(len(headers))]
    lines = []
    if title:
        lines.append(title)
    lines.append("  ".join(c.rjust(w) for c, w in zip(cells[0], widths)))
    lines.append("  ".join("-" * w for w in widths))
    for r in cells[1:]:
        lines.append("  ".join(c.rjust(w) for c, w in zip(r, widths)))
    return "\n".join(lines)


def add_dtype_option(p: argparse.ArgumentParser, default: str = "float64") -> None:
    p.add_argument(
        "--dtype",
        choices=["float32", "float64"],
        default=default,
        help="floating-point precision of the computation",
    )


def dump_json(data: dict[str, Any]) -> str:
    return json.dumps(to_jsonable(data), indent=None, sort_keys=False, allow_nan=False)


def add_force_option(p: argparse.ArgumentParser) -> None:
    """``--force``: the one convention for output files (refuse to replace without it)."""
    p.add_argument(
        "--force",
        action="store_true",
        help="replace existing output files (without it an existing file is an error)",
    )


#: figure formats ``--plot`` accepts, chosen by the file's extension
FIGURE_SUFFIXES = (".png", ".pdf", ".svg")


def check_plot_path(path: str | None, *, force: bool, arg: str = "--plot"):
    """Check a ``--plot`` path before the work starts (``None`` passes through)."""
    if path is None:
        return None
    from .._files import check_output_file

    return check_output_file(path, arg=arg, force=force, suffixes=FIGURE_SUFFIXES)


def save_figure(fig, path, *, dpi: int = 200) -> str:
    """Save ``fig`` atomically in the format named by the extension (PNG at ``dpi``)."""
    from .._files import save_figure as _save

    return _save(fig, path, dpi=dpi)


def _bounded_int(text: str, lo: int, hi: int | None, what: str) -> int:
    """Parse an integer in ``[lo, hi)`` (``hi=None``: no upper bound) for argparse."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}; got {text!r}") from None
    if v < lo or (hi is not None and v >= hi):
        raise argparse.ArgumentTypeError(f"expected {what}; got {v}")
    return v


def seed_type(text: str) -> int:
    """argparse type for ``--seed``: an integer in [0, 2**32)."""
    return _bounded_int(text, 0, 2**32, "an integer in [0, 2**32)")


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    return _bounded_int(text, 1, None, "a positive integer")


def nonnegative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    return _bounded_int(text, 0, None, "a non-negative integer")


def positive_float(text: str) -> float:
    """argparse type: a finite real number > 0."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number; got {text!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"expected a positive finite number; got {text}")
    return v
