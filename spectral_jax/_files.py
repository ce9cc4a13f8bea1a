"""Safe output files: checks before work starts, atomic writes, no overwriting by surprise.

The project's one convention for every file a command or function writes:

- **Checked first.** :func:`check_output_file` runs before any long work: the parent
  folder must exist and be writable, the path must not be a folder, and an existing file
  is refused unless ``force=True`` (the CLI's ``--force``). The error names the argument.
- **Atomic.** :func:`atomic_write` writes to a hidden temporary file in the same folder,
  flushes and ``fsync``s it, then ``os.replace``s it over the target: a full disk or an
  interrupted run leaves the old file (or none) and never a truncated one, and the
  temporary file is removed on every failure.
- **Permissions** follow the user's umask (``0o666 & ~umask`` for files).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

__all__ = [
    "check_output_file",
    "atomic_write",
    "atomic_open",
    "current_umask",
    "OutputPathError",
    "figure_format",
    "save_figure",
]


class OutputPathError(ValueError):
    """An output path that cannot (or must not) be written. A ``ValueError`` subclass."""


def current_umask() -> int:
    """The process umask (read without changing it for longer than one call)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_output_file(
    path: str | os.PathLike,
    *,
    arg: str = "--out",
    force: bool = False,
    suffixes: tuple[str, ...] | None = None,
) -> Path:
    """Check that ``path`` can be written as a file, before any work starts.

    **Arguments:**

    - `path`: the output file.
    - `arg`: the option or argument name used in error messages (e.g. ``"--plot"``).
    - `force`: allow replacing an existing file.
    - `suffixes`: accepted file extensions (lower case, with the dot), or ``None``.

    **Returns:** the path as a :class:`pathlib.Path`.

    **Raises:** :class:`OutputPathError` naming ``arg``: empty path, a folder, a missing
    or non-writable parent folder, a wrong extension, or an existing file without
    ``force``.
    """
    text = os.fspath(path)
    if not isinstance(text, str) or not text.strip():
        raise OutputPathError(f"{arg}: expected a file path; got an empty string")
    if "\x00" in text:
        raise OutputPathError(f"{arg}: the path contains a NUL character")
    p = Path(text).expanduser()
    if text.endswith(os.sep) or p.is_dir():
        raise OutputPathError(f"{arg}: {text!r} is a folder; expected a file path")
    if suffixes is not None and p.suffix.lower() not in suffixes:
        raise OutputPathError(
            f"{arg}: {text!r} has extension {p.suffix or '(none)'!r}; expected one of "
            f"{', '.join(suffixes)}"
        )
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.exists():
        raise OutputPathError(f"{arg}: the folder {str(parent)!r} does not exist (create it first)")
    if not parent.is_dir():
        raise OutputPathError(f"{arg}: {str(parent)!r} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputPathError(f"{arg}: the folder {str(parent)!r} is not writable")
    try:  # os.access says yes to root on a read-only file system: try it
        fd, probe = tempfile.mkstemp(prefix=".spectral_jax-probe-", dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise OutputPathError(
            f"{arg}: cannot write in the folder {str(parent)!r} ({err.strerror or err})"
        ) from None
    if p.exists() or p.is_symlink():
        if not p.is_file():
            raise OutputPathError(f"{arg}: {text!r} exists and is not a regular file")
        if not force:
            raise OutputPathError(
                f"{arg}: {text!r} already exists; pass --force to replace it (or choose "
                "another path)"
            )
        if not os.access(p, os.W_OK):
            raise OutputPathError(f"{arg}: {text!r} exists and is read-only")
    return p


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success it atomically replaces ``path``.

    On any exception (including ``KeyboardInterrupt`` and a full disk) the temporary file
    is removed and ``path`` is left as it was. The new file gets ``0o666 & ~umask``.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open: mode must be 'w' or 'wb'; got {mode!r}")
    dist = sys.modules.get("spectral_jax._distributed")
    if dist is not None and dist.is_secondary_process():
        # a multi-process run writes each file once, from process 0
        with open(os.devnull, mode) as fh:
            yield fh
        return
    p = Path(os.fspath(path))
    parent = p.parent if str(p.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".part", dir=parent)
    try:
        with os.fdopen(fd, mode) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write(
    path: str | os.PathLike, write: Callable[[IO], object], *, binary: bool = True
) -> Path:
    """Write a file atomically: ``write(fh)`` fills a temporary file that then replaces
    ``path`` (see :func:`atomic_open`). Returns the path."""
    with atomic_open(path, "wb" if binary else "w") as fh:
        write(fh)
    return Path(os.fspath(path))


def figure_format(path: str | os.PathLike, where: str = "save_figure") -> str:
    """The figure format named by ``path``'s extension (``png`` without one).

    **Raises:** ``ValueError`` naming ``where`` for a format matplotlib cannot write."""
    fmt = os.path.splitext(os.fspath(path))[1].lstrip(".").lower() or "png"
    from matplotlib.backend_bases import FigureCanvasBase

    if fmt not in FigureCanvasBase.get_supported_filetypes():
        raise ValueError(
            f"{where}: cannot write {os.fspath(path)!r}: unknown figure format {fmt!r}; "
            "use .png, .pdf or .svg"
        )
    return fmt


def save_figure(fig, path: str | os.PathLike, *, dpi: int = 200, where: str = "save_figure") -> str:
    """Save a matplotlib figure atomically (see `atomic_open`) in the format named by the
    extension, raster formats at ``dpi``; returns the path. The one figure writer of the
    library and the command line."""
    fmt = figure_format(path, where)
    with atomic_open(path, "wb") as fh:
        fig.savefig(fh, format=fmt, dpi=dpi)
    return os.fspath(path)
