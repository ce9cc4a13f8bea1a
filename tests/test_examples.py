"""Smoke-run every example at small sizes: each ends by checking its own claim and
exits non-zero when the claim fails."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs_small(path, tmp_path):
    root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")  # source tree too
    out = subprocess.run(
        [sys.executable, str(path), "--small", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert out.returncode == 0, f"{path.name} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
