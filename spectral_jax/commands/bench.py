"""``spectral-jax bench``: run the benchmark suite (from a source checkout)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

from ._common import CommandResult

NAME = "bench"
HELP = "run the benchmark suite in benchmarks/ (needs a source checkout)"
DESCRIPTION = (
    "Runs benchmarks/run_all.py: every workload side by side with its comparators, "
    "writing JSON, a markdown summary and a ratio chart into benchmarks/results/. Its "
    "progress streams to stderr and its summary to stdout as it runs (to stderr with "
    "--json, whose stdout is one JSON object). Without --root, the current folder is "
    "used if it holds benchmarks/run_all.py, else the source tree of this installation; "
    "an explicit --root must hold benchmarks/run_all.py."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true", help="small sizes")
    p.add_argument("--only", nargs="*", default=None, help="benchmark names, e.g. gram ntk")
    p.add_argument(
        "--root",
        default=None,
        help="the source checkout containing benchmarks/ (default: the current folder, "
        "else this installation's source tree)",
    )


def _runner_under(base: Path) -> Path | None:
    cand = base / "benchmarks" / "run_all.py"
    return cand if cand.is_file() else None


def _find_runner(root: str | None) -> Path:
    """``benchmarks/run_all.py`` under ``--root`` (exactly there when given)."""
    if root is not None:
        if not root.strip():
            raise ValueError("--root: expected a folder path; got an empty string")
        base = Path(root).expanduser()
        if not base.exists():
            raise ValueError(f"--root: {root!r} does not exist")
        if not base.is_dir():
            raise ValueError(f"--root: {root!r} is not a folder")
        runner = _runner_under(base.resolve())
        if runner is None:
            raise ValueError(
                f"--root: no benchmarks/run_all.py under {root!r}; pass the root of a source "
                "checkout of spectral_jax"
            )
        return runner
    for base in (Path.cwd(), Path(__file__).resolve().parents[2]):
        runner = _runner_under(base)
        if runner is not None:
            return runner
    raise ValueError(
        f"--root: benchmarks/run_all.py not found under the current folder ({os.getcwd()!r}) "
        "or this installation's source tree; run from a clone of the repository or pass --root"
    )


def _check_only(runner: Path, only: list[str] | None) -> int:
    """Refuse unknown ``--only`` names; returns the number of scripts to run."""
    known = sorted(p.stem.removeprefix("bench_") for p in runner.parent.glob("bench_*.py"))
    if not only:
        return len(known)
    unknown = [n for n in dict.fromkeys(only) if n not in known]
    if unknown:
        raise ValueError(
            f"--only: unknown benchmark(s) {', '.join(unknown)}; "
            f"known: {', '.join(known) or '(none)'}"
        )
    return len(dict.fromkeys(only))


def _pump(src: IO[str], write, keep: list[str]) -> None:
    """Pass ``src`` line by line to ``write`` (live; ``None``: nowhere) and keep the
    lines."""
    for line in iter(src.readline, ""):
        keep.append(line)
        if write is not None:
            write(line)
    src.close()


def _writer(dst: IO[str] | None, bar, lock: threading.Lock):
    """Write a line to ``dst`` above the status line ``bar`` (``lock`` is shared by the
    writers of stdout and stderr); the runner's ``== NAME`` lines advance the bar (one
    per benchmark script)."""
    if dst is None:
        return None
    started = [0]

    def write(line: str) -> None:
        with lock:
            bar.clear()
            dst.write(line)
            dst.flush()
            if line.startswith("== "):
                bar.update(started[0], note=line[3:].strip())
                started[0] += 1
            else:
                bar.update(bar.done)

    return write


def run(args: argparse.Namespace) -> CommandResult:
    import time

    from .._progress import Progress

    runner = _find_runner(args.root)
    count = _check_only(runner, args.only)
    cmd = [sys.executable, str(runner)] + (["--quick"] if args.quick else [])
    if args.only:
        cmd += ["--only", *dict.fromkeys(args.only)]
    # the summary goes to stdout live, unless stdout is reserved for the JSON result
    out_dst = None if args.quiet and args.json else (sys.stderr if args.json else sys.stdout)
    err_dst = None if args.quiet else sys.stderr
    out_lines: list[str] = []
    err_lines: list[str] = []
    bar = Progress(count, "bench", enabled=not args.quiet)
    lock = threading.Lock()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        bufsize=1,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    pump_err = threading.Thread(
        target=_pump, args=(proc.stderr, _writer(err_dst, bar, lock), err_lines), daemon=True
    )
    pump_err.start()
    try:
        _pump(proc.stdout, _writer(out_dst, bar, lock), out_lines)
        code = proc.wait()
    except BaseException:  # Ctrl-C / SIGTERM: do not leave the suite running
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        raise
    finally:
        pump_err.join(timeout=5)
        bar.close()
    if code != 0 and err_dst is None and err_lines:  # --quiet: still say why it failed
        sys.stderr.write("".join(err_lines[-20:]))
    exit_code = 0 if code == 0 else 1
    results = runner.parent / "results" / ("quick" if args.quick else "")
    status = "finished" if code == 0 else f"FAILED (exit status {code} of {runner.name})"
    text = f"benchmarks {status}; results in {results}"
    data = {
        "runner": str(runner),
        "exit_code": code,
        "summary": "".join(out_lines),
        "results": str(results),
    }
    timings = {"bench_s": time.perf_counter() - t0}
    return CommandResult(data, text, exit_code=exit_code, timings=timings)
