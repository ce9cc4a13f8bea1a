"""Shared machinery of the command line: results, tables, JSON, options.

Every command module defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and
``run(args) -> CommandResult``. The convention for all commands: ``--json`` prints
``CommandResult.data`` as one JSON object (named fields, numbers as numbers) instead of
the human-readable ``text``; ``--quiet`` silences progress output on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .._serialize import dump_json, to_jsonable, tool_version

__all__ = [
    "CommandResult",
    "JSON_SCHEMA_VERSION",
    "json_document",
    "resolved_inputs",
    "format_table",
    "to_jsonable",
    "dump_json",
    "add_dtype_option",
    "add_force_option",
    "check_plot_path",
    "save_figure",
    "seed_type",
    "positive_int",
    "nonnegative_int",
    "positive_float",
    "named_option",
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
    #: the inputs the results were computed from, defaults and derived values resolved
    #: (``None``: the parsed options, see :func:`resolved_inputs`)
    inputs: dict[str, Any] | None = None
    #: wall-clock seconds of the command's phases (``total_s`` is added by the CLI)
    timings: dict[str, float] = field(default_factory=dict)


#: version of the layout of every ``--json`` document (see :func:`json_document`)
JSON_SCHEMA_VERSION = 1

#: keys of a ``--json`` document that are not results
_HEADER = ("tool", "version", "schema_version", "command", "inputs", "timings")

#: parsed options that change the presentation, not the results
_PRESENTATION = ("command", "json", "quiet", "no_compile_cache")


def resolved_inputs(args: argparse.Namespace, **resolved: Any) -> dict[str, Any]:
    """The inputs of a command: its parsed options (defaults filled in by argparse),
    without the presentation flags, updated with the values the command resolved
    (``resolved``, e.g. the default target an option left as ``None`` stands for)."""
    out = {k: v for k, v in vars(args).items() if k not in _PRESENTATION}
    out.update(resolved)
    return out


def json_document(
    command: str,
    inputs: dict[str, Any],
    results: dict[str, Any],
    timings: dict[str, float],
) -> dict[str, Any]:
    """The one layout of every ``--json`` object (schema version 1)::

        {"tool": "spectral-jax", "version": "0.3.0", "schema_version": 1,
         "command": "spectrum", "inputs": {...}, <result fields>..., "timings": {...}}

    The result fields sit at the top level between the header and ``timings`` (so a
    script reads ``doc["condition_number"]``); ``inputs`` holds the resolved inputs
    (every option, defaults filled in), ``timings`` the wall-clock seconds
    (``total_s`` and the command's phases). Results never use the header's keys."""
    clash = [k for k in results if k in _HEADER]
    if clash:  # pragma: no cover - a programming error in a command
        raise RuntimeError(f"{command}: result fields {clash} clash with the JSON header")
    return {
        "tool": "spectral-jax",
        "version": tool_version(),
        "schema_version": JSON_SCHEMA_VERSION,
        "command": command,
        "inputs": inputs,
        **results,
        "timings": timings,
    }


def fmt(v: Any, digits: int = 4) -> str:
    """Compact number formatting for tables."""
    import numpy as np

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
    lines.append("  ".join(c.rjust(w) for c, w in zip(cells[0], widths, strict=True)))
    lines.append("  ".join("-" * w for w in widths))
    for r in cells[1:]:
        lines.append("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)))
    return "\n".join(lines)


def add_dtype_option(p: argparse.ArgumentParser, default: str = "float64") -> None:
    p.add_argument(
        "--dtype",
        choices=["float32", "float64"],
        default=default,
        help="floating-point precision of the computation",
    )


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


@contextlib.contextmanager
def named_option(where: str, option: str, value: Any) -> Iterator[None]:
    """Within the block, a ``ValueError`` from the library (``get_activation: unknown
    activation 'foo'; known: ...``) is re-raised naming the option and its value first
    (``spectrum: --activation 'foo': get_activation: unknown ...``), in one line."""
    try:
        yield
    except ValueError as err:
        raise ValueError(f"{where}: {option} {value!r}: {err}") from None
