"""Memory budgets: estimate peak bytes before allocating, refuse what cannot fit.

Large Gram, NTK and feature matrices are sized by the user. Rather than letting XLA abort
or the kernel's out-of-memory killer end the process, entry points call
:func:`check_memory` with an estimate of their peak bytes first; it compares the estimate
with the memory available to this process (host: ``MemAvailable`` and any cgroup limit;
accelerators: the device's free memory where JAX reports it) and raises a
:class:`MemoryBudgetError` that names the size, the bytes needed and what to do.

The environment variable ``SPECTRAL_JAX_MEMORY_LIMIT`` (bytes, or with a ``K``/``M``/``G``
suffix) caps the budget further, e.g. for tests or shared machines.
"""

from __future__ import annotations

import os

import numpy as np

__all__ = [
    "MemoryBudgetError",
    "available_memory",
    "check_memory",
    "format_bytes",
    "array_bytes",
]

_ENV = "SPECTRAL_JAX_MEMORY_LIMIT"


class MemoryBudgetError(ValueError):
    """A requested size whose estimated peak memory exceeds what is available.

    A ``ValueError`` subclass, so callers that handle bad input handle this too."""


def format_bytes(n: float) -> str:
    """``1.5 GiB`` style."""
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"  # pragma: no cover


def array_bytes(*shape: int, dtype="float64") -> int:
    """Bytes of a dense array of ``shape`` and ``dtype`` (Python ints: no overflow)."""
    size = 1
    for s in shape:
        size *= int(s)
    return size * np.dtype(dtype).itemsize


def _parse_bytes(text: str) -> int | None:
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    mult = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
    try:
        if t and t[-1] in mult:
            return int(float(t[:-1]) * mult[t[-1]])
        return int(float(t))
    except ValueError:
        return None


def _host_available() -> int | None:
    avail = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            avail = None
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as fh:
                raw = fh.read().strip()
        except OSError:
            continue
        if raw.isdigit():
            limit = int(raw)
            used = None
            for upath in (
                "/sys/fs/cgroup/memory.current",
                "/sys/fs/cgroup/memory/memory.usage_in_bytes",
            ):
                try:
                    with open(upath) as fh:
                        used = int(fh.read().strip())
                    break
                except (OSError, ValueError):
                    continue
            if limit < 2**60:
                room = limit - (used or 0)
                avail = room if avail is None else min(avail, room)
        break
    return avail


def _device_available() -> int | None:
    """Free memory of the default device when it is an accelerator (``None`` on CPU)."""
    try:
        import jax

        dev = jax.devices()[0]
        if dev.platform == "cpu":
            return None
        stats = dev.memory_stats() or {}
        limit = stats.get("bytes_limit")
        used = stats.get("bytes_in_use", 0)
        return None if limit is None else int(limit - used)
    except Exception:  # noqa: BLE001 - a backend without stats: no device budget
        return None


def available_memory() -> int | None:
    """Bytes this process can still allocate for one workload (``None`` if unknown).

    The smaller of the host's available memory (``MemAvailable`` and cgroup room), the
    accelerator's free memory, and ``$SPECTRAL_JAX_MEMORY_LIMIT``.
    """
    cands = [_host_available(), _device_available()]
    env = os.environ.get(_ENV)
    if env:
        parsed = _parse_bytes(env)
        if parsed is not None:
            cands.append(parsed)
    known = [c for c in cands if c is not None]
    return min(known) if known else None


def check_memory(nbytes: int, *, what: str, hint: str, fraction: float = 0.85) -> None:
    """Refuse a workload whose estimated peak ``nbytes`` exceeds ``fraction`` of the
    available memory.

    **Arguments:**

    - `nbytes`: estimated peak bytes of the workload.
    - `what`: the size in the user's terms, e.g. ``"spectrum: --width 60000 (a 60000 x
      60000 float64 Gram matrix)"``.
    - `hint`: what to do instead, e.g. ``"use a smaller --width or --dtype float32"``.
    - `fraction`: the share of the available memory a workload may take.

    **Raises:** :class:`MemoryBudgetError` with one line naming all three.
    """
    avail = available_memory()
    if avail is None:
        return
    if nbytes > fraction * avail:
        raise MemoryBudgetError(
            f"{what} needs about {format_bytes(nbytes)} but only {format_bytes(avail)} is "
            f"available; {hint}"
        )
