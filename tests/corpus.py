"""The bad-input corpus: table-driven cases for the CLI (run in a capped subprocess) and the
API (run in-process).

A :class:`CliCase` runs ``spectral-jax ARGV`` inside a fresh temporary folder (the case's
``files`` are created there first) in one worker subprocess per test module, with a memory
cap (``SPECTRAL_JAX_MEMORY_LIMIT`` for the library's budget checks, and a watchdog that
kills the worker if its resident memory passes ``RSS_CAP``) and a per-case time limit. The
outcome of each case is classified as

- ``error``: exit status 2 and a one-line ``spectral-jax CMD: error: ...`` message;
- ``ok``: exit status 0 (or 1 where a case allows it);
- ``traceback``: an uncaught exception reached the top (a Python traceback);
- ``crash``: the worker died (signal, out of memory, time limit).

and compared with what the case expects. ``keep`` lists files (relative to the case folder)
that must be unchanged afterwards, ``absent`` files that must not exist (e.g. a temporary
file left behind), ``exists`` files that must.

Usage in a test module::

    CASES = [CliCase("report-out-dot", ["report", "--out", "."], files={"notes.txt": "x"},
                     match=r"--out", keep=["notes.txt"]), ...]
    results = corpus_fixture(CASES)        # module-level: one worker for the module

    @pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
    def test_cli_case(case, results):
        check_cli_case(case, results[case.id])
"""

from __future__ import annotations

import json
import os
import pickle
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

#: memory budget the library's up-front checks see inside the worker
MEMORY_LIMIT = "3G"
#: resident memory at which the watchdog kills the worker (a case that grows unchecked)
RSS_CAP = 6 * 2**30
#: default seconds per case
CASE_TIMEOUT = 90.0

_RUNNER = Path(__file__).with_name("_corpus_runner.py")


@dataclass(frozen=True)
class CliCase:
    """One command line and its expected outcome.

    **Arguments:**
    - `id`: unique name of the case.
    - `argv`: the arguments after ``spectral-jax``.
    - `expect`: ``"error"`` (exit 2, one line), ``"ok"`` (exit 0) or ``"warn"`` (exit 0 and a
      ``warning:`` line on stderr matching `match`).
    - `match`: regex the error (or warning) line must match (for errors: the argument name).
    - `files`: files to create first, ``{relpath: text | bytes | None}`` (``None``: a folder).
    - `keep`: files that must be unchanged afterwards.
    - `absent`: glob patterns that must match nothing afterwards.
    - `exists`: files that must exist afterwards.
    - `env`: extra environment variables for this case.
    - `timeout`: seconds.
    - `chmod`: ``{relpath: mode}`` applied after the files are created.
    """

    id: str
    argv: list[str]
    expect: str = "error"
    match: str | None = None
    files: dict = field(default_factory=dict)
    keep: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    exists: list[str] = field(default_factory=list)
    env: dict = field(default_factory=dict)
    timeout: float = CASE_TIMEOUT
    chmod: dict = field(default_factory=dict)


def run_cli_cases(cases: list[CliCase]) -> dict[str, dict]:
    """Run ``cases`` in worker subprocesses; returns ``{case.id: outcome}``.

    A worker that dies (crash, time limit, memory cap) marks its current case ``crash`` and
    a fresh worker continues with the next case."""
    ids = [c.id for c in cases]
    dup = {i for i in ids if ids.count(i) > 1}
    assert not dup, f"duplicate corpus ids: {sorted(dup)}"
    results: dict[str, dict] = {}
    remaining = list(cases)
    base = Path(tempfile.mkdtemp(prefix="sj-corpus-"))
    env = {
        **os.environ,
        "SPECTRAL_JAX_MEMORY_LIMIT": MEMORY_LIMIT,
        "MPLBACKEND": "Agg",
        "SPECTRAL_JAX_NO_COMPILE_CACHE": "1",
    }
    env.pop("PYTEST_CURRENT_TEST", None)
    while remaining:
        todo = base / "todo.pkl"
        out = base / "results.jsonl"
        todo.write_bytes(pickle.dumps(remaining))
        if out.exists():
            out.unlink()
        log = base / "worker.log"  # a file, not a pipe: a full pipe would stall the worker
        with open(log, "w") as fh:
            proc = subprocess.Popen(
                [sys.executable, str(_RUNNER), str(todo), str(out), str(base), str(RSS_CAP)],
                env=env,
                stdout=fh,
                stderr=subprocess.STDOUT,
            )
            _supervise(proc, out, {c.id: c.timeout for c in remaining})
            proc.wait()
        proc.stderr_text = log.read_text(errors="replace")
        done = []
        if out.exists():
            for line in out.read_text().splitlines():
                if line.strip():
                    rec = json.loads(line)
                    if rec.get("started_only"):
                        continue
                    results[rec["id"]] = rec
                    done.append(rec["id"])
        left = [c for c in remaining if c.id not in results]
        if proc.returncode != 0 and left:
            # the worker died on the first unfinished case
            dead = left[0]
            results[dead.id] = {
                "id": dead.id,
                "kind": "crash",
                "status": proc.returncode,
                "stderr": proc.stderr_text[-2000:],
                "stdout": "",
            }
            left = left[1:]
        elif proc.returncode != 0:
            pass
        elif left:  # worker exited cleanly without finishing: should not happen
            for c in left:
                results[c.id] = {
                    "id": c.id,
                    "kind": "crash",
                    "status": -1,
                    "stderr": proc.stderr_text[-2000:],
                    "stdout": "",
                }
            left = []
        remaining = left
    return results


def _supervise(proc: subprocess.Popen, out: Path, timeouts: dict[str, float]) -> None:
    """Kill the worker when its current case runs past its time limit or its resident
    memory passes ``RSS_CAP``. This runs in the parent: a thread inside the worker cannot
    interrupt a computation that holds the GIL (e.g. Python's big-integer ``9**9**9``)."""
    import time

    started: tuple[str, float] | None = None
    seen = 0
    while proc.poll() is None:
        time.sleep(0.1)
        if out.exists():
            lines = out.read_text().splitlines()
            for line in lines[seen:]:
                if not line.strip():
                    continue
                rec = json.loads(line)
                started = (rec["id"], time.monotonic()) if rec.get("started_only") else None
            seen = len(lines)
        over_time = started is not None and time.monotonic() - started[1] > timeouts[started[0]] + 5
        rss = 0
        try:
            with open(f"/proc/{proc.pid}/status") as fh:
                for ln in fh:
                    if ln.startswith("VmRSS:"):
                        rss = int(ln.split()[1]) * 1024
        except OSError:
            pass
        if over_time or rss > RSS_CAP:
            proc.kill()
            proc.wait()
            return


def corpus_fixture(cases: list[CliCase]):
    """A module-scoped fixture that runs ``cases`` once and returns their outcomes."""

    @pytest.fixture(scope="module")
    def results():
        return run_cli_cases(cases)

    return results


def check_cli_case(case: CliCase, out: dict) -> None:
    """Assert that ``out`` (from :func:`run_cli_cases`) is what ``case`` expects."""
    kind = out["kind"]
    err = out.get("stderr", "")
    detail = (
        f"[{case.id}] spectral-jax {' '.join(case.argv)}\n exit {out.get('status')}\n"
        f"--- stderr ---\n{err[-3000:]}"
    )
    assert kind != "traceback", "traceback:\n" + detail
    assert kind != "crash", "crash:\n" + detail
    assert "Traceback (most recent call last)" not in err, "traceback text:\n" + detail
    if case.expect == "error":
        assert kind == "error", f"expected exit 2 with one error line, got {kind}:\n" + detail
        lines = [ln for ln in err.splitlines() if ln.strip()]
        errs = [ln for ln in lines if ": error: " in ln]
        assert len(errs) == 1, "expected exactly one error line:\n" + detail
        if case.match:
            assert re.search(case.match, errs[0]), (
                f"error line does not match {case.match!r}:\n" + detail
            )
        msg = errs[0].split(": error: ", 1)[1]
        # a message that opens a quote closes it
        for q in ("'", '"'):
            assert msg.count(q) % 2 == 0 or q == "'" and "'s " in msg, (
                f"unbalanced {q} in:\n" + detail
            )
    elif case.expect in ("ok", "warn"):
        assert kind == "ok", f"expected exit 0, got {kind}:\n" + detail
        if case.expect == "warn":
            warns = [ln for ln in err.splitlines() if ": warning: " in ln]
            assert warns, "expected a warning line:\n" + detail
            if case.match:
                assert any(re.search(case.match, w) for w in warns), (
                    f"no warning matches {case.match!r}:\n" + detail
                )
    else:  # pragma: no cover
        raise AssertionError(f"unknown expectation {case.expect!r}")
    for rel in case.keep:
        assert out["kept"].get(rel, False), f"{rel} was changed or removed:\n" + detail
    for pat in case.absent:
        assert not out["globbed"].get(pat), f"left behind {out['globbed'].get(pat)}:\n" + detail
    for rel in case.exists:
        assert out["existing"].get(rel, False), f"{rel} was not written:\n" + detail
