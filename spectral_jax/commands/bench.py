"""``spectral-jax bench``: run the benchmark suite (from a source checkout)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from ._common import CommandResult

NAME = "bench"
HELP = "run the benchmark suite in benchmarks/ (needs a source checkout)"
DESCRIPTION = (
    "Runs benchmarks/run_all.py: every workload side by side with its comparators, "
    "writing JSON, a markdown summary and a ratio chart into benchmarks/results/."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true", help="small sizes")
    p.add_argument("--only", nargs="*", default=None, help="benchmark names, e.g. gram ntk")
    p.add_argument("--root", default=".", help="the source checkout containing benchmarks/")


def _find_runner(root: str) -> Path:
    for base in (Path(root).resolve(), Path(__file__).resolve().parents[2]):
        cand = base / "benchmarks" / "run_all.py"
        if cand.exists():
            return cand
    raise FileNotFoundError(
        f"bench: benchmarks/run_all.py not found under {Path(root).resolve()} or the package's "
        "source tree; run from a clone of the repository or pass --root"
    )


def run(args: argparse.Namespace) -> CommandResult:
    runner = _find_runner(args.root)
    cmd = [sys.executable, str(runner)] + (["--quick"] if args.quick else [])
    if args.only:
        cmd += ["--only", *args.only]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if not args.quiet:
        sys.stderr.write(out.stderr)
    return CommandResult({"runner": str(runner), "exit_code": out.returncode, "summary": out.stdout}, out.stdout, exit_code=out.returncode)
