"""Progress output for long computations (stderr, throttled, no dependencies).

``Progress`` is for Python-level loops; ``scan_progress`` returns a callback to be
used inside a jitted ``lax.scan`` through ``jax.debug.callback`` every ``every`` steps,
so the host is touched rarely and the scan is not slowed materially.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress", "end_open_line"]

_open_line = {"stream": None}


def end_open_line() -> None:
    """Terminate a progress line left open (e.g. when an error interrupts the work)."""
    stream = _open_line["stream"]
    if stream is not None:
        stream.write("\n")
        stream.flush()
        _open_line["stream"] = None


class Progress:
    """A minimal throttled progress line: ``label  37/100  12.3 s``.

    **Arguments:**

    - `total`: number of units of work.
    - `label`: what is being done.
    - `enabled`: print nothing when ``False``.
    - `min_interval`: seconds between redraws.
    """

    def __init__(
        self,
        total: int,
        label: str,
        *,
        enabled: bool = True,
        min_interval: float = 0.5,
        stream: TextIO | None = None,
    ):
        self.total = max(int(total), 1)
        self.label = label
        self.enabled = enabled
        self.min_interval = min_interval
        self.stream = stream if stream is not None else sys.stderr
        self.start = time.perf_counter()
        self._last = 0.0
        self.done = 0

    def update(self, done: int | None = None, *, advance: int = 1, note: str = "") -> None:
        self.done = self.done + advance if done is None else int(done)
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self._last < self.min_interval and self.done < self.total:
            return
        self._last = now
        el = now - self.start
        frac = self.done / self.total
        eta = f", eta {el / frac - el:5.1f} s" if 0 < frac < 1 else ""
        msg = (
            f"\r{self.label}: {self.done}/{self.total} ({100 * frac:5.1f}%) {el:6.1f} s{eta} {note}"
        )
        self.stream.write(msg[:160])
        self.stream.flush()
        _open_line["stream"] = self.stream

    def close(self, note: str = "") -> None:
        if self.enabled:
            self.update(self.total, note=note)
            self.stream.write("\n")
            self.stream.flush()
            _open_line["stream"] = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
