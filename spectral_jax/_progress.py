"""Progress output for long computations: one status line on stderr, drawn only on a
terminal, cleared when the work ends.

`Progress` counts units of work (``label: 37/100 (37.0%) 12.3 s, eta 20.9 s note``),
redrawn in place at most every ``min_interval`` seconds. It draws only when its stream is
a terminal (``isatty()``): piped or redirected into a file, it writes nothing, so logs and
captured output stay clean. The line is cut to the terminal's width (a wrapped line could
not be redrawn in place) and erased by `Progress.close` (no final line is left behind: the
result the command prints says what was done). `Progress.log` prints a permanent line
(e.g. "section done") above the status line, on any stream.

The estimated time left ignores the first unit of work: in JAX the first call compiles,
so the rate is measured from the end of the first unit on (no ETA is shown before a
second unit is done).
"""

from __future__ import annotations

import shutil
import sys
import time
from typing import TextIO

__all__ = ["Progress", "end_open_line"]

#: the stream whose status line is drawn now (one at a time), so that an error message
#: can first erase it
_open_line: dict[str, TextIO | None] = {"stream": None}


def _erase(stream: TextIO) -> None:
    stream.write("\r\x1b[K")
    stream.flush()


def end_open_line() -> None:
    """Erase a status line left drawn (e.g. when an error interrupts the work)."""
    stream = _open_line["stream"]
    if stream is not None:
        try:
            _erase(stream)
        except (OSError, ValueError):  # a closed stream: nothing to erase
            pass
        _open_line["stream"] = None


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, OSError, ValueError):
        return False


def _clock(seconds: float) -> str:
    """``12.3 s``, ``4 min 05 s``, ``2 h 03 min``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"


class Progress:
    """A throttled status line ``label: done/total (pct%) elapsed, eta left note``.

    **Arguments:**

    - `total`: number of units of work (``0``: unknown, only the count is shown).
    - `label`: what is being done.
    - `enabled`: ``False`` draws nothing (``--quiet``).
    - `min_interval`: seconds between redraws.
    - `stream`: where to draw (default ``sys.stderr``); nothing is drawn unless it is a
      terminal.

    The estimated time left is $(t - t_1)/(c - c_1)\\,(N - c)$, where $(t_1, c_1)$ are the
    time and count of the first update: the first unit of work, which in JAX includes the
    compilation, is left out of the rate.

    !!! Example

        ```python
        with Progress(len(items), "fit") as bar:
            for item in items:
                work(item)
                bar.update()
        ```
    """

    def __init__(
        self,
        total: int,
        label: str,
        *,
        enabled: bool = True,
        min_interval: float = 0.2,
        stream: TextIO | None = None,
    ):
        self.total = max(int(total), 0)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = bool(enabled)
        self.draws = self.enabled and _is_terminal(self.stream)
        self.min_interval = min_interval
        self.start = time.perf_counter()
        self.done = 0
        self.note = ""
        self._first: tuple[float, int] | None = None  # (time, count) after the first unit
        self._last = -float("inf")
        self._drawn = False
        self._closed = False
        if self.draws:  # show the label at once (the first unit may take a while)
            self._draw(self.line(self.start))

    def eta(self, now: float | None = None) -> float | None:
        """Seconds left, from the rate after the first unit of work (``None``: unknown)."""
        if self._first is None or self.total == 0 or self.done >= self.total:
            return None
        t1, c1 = self._first
        now = time.perf_counter() if now is None else now
        if self.done <= c1 or now <= t1:
            return None
        return (now - t1) / (self.done - c1) * (self.total - self.done)

    def line(self, now: float | None = None) -> str:
        """The status line as it would be drawn now (without the terminal controls)."""
        now = time.perf_counter() if now is None else now
        parts = [f"{self.label}:"]
        if self.total:
            parts.append(f"{self.done}/{self.total} ({100 * self.done / self.total:.0f}%)")
        elif self.done:
            parts.append(str(self.done))
        parts.append(_clock(now - self.start))
        left = self.eta(now)
        if left is not None:
            parts[-1] += f", eta {_clock(left)}"
        if self.note:
            parts.append(self.note)
        return " ".join(parts)

    def update(self, done: int | None = None, *, advance: int = 1, note: str | None = None):
        """Record progress (``done`` units in all, or ``advance`` more) and redraw if due."""
        self.done = self.done + advance if done is None else int(done)
        if note is not None:
            self.note = note
        now = time.perf_counter()
        if self._first is None and self.done > 0:
            self._first = (now, self.done)
        if self.draws and not self._closed and now - self._last >= self.min_interval:
            self._last = now
            self._draw(self.line(now))

    def set_note(self, note: str) -> None:
        """Change the note (e.g. the current stage) and redraw."""
        self.update(self.done, note=note)

    def _draw(self, text: str) -> None:
        width = shutil.get_terminal_size((100, 24)).columns - 1
        self.stream.write("\r\x1b[K" + text[: max(width, 20)])
        self.stream.flush()
        self._drawn = True
        _open_line["stream"] = self.stream

    def clear(self) -> None:
        """Erase the status line now (it is drawn again at the next update), e.g. before
        other output goes to the terminal."""
        if self._drawn:
            _erase(self.stream)
            self._drawn = False
            if _open_line["stream"] is self.stream:
                _open_line["stream"] = None

    def log(self, message: str) -> None:
        """Print ``message`` as a permanent line (on any stream, unless disabled), above
        the status line."""
        if not self.enabled:
            return
        self.clear()
        self.stream.write(message + "\n")
        self.stream.flush()
        if self.draws and not self._closed:
            self._draw(self.line())

    def close(self) -> None:
        """End the work: erase the status line (nothing is left on the terminal)."""
        self._closed = True
        self.clear()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
