"""Smoke-run every example at small sizes: each ends by checking its own claim and
exits non-zero when the claim fails."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.py"))
#: examples whose claims the default suite already checks through the library's own tests
#: (the dynamics studies, the round trip, the 2-D fit); they run under ``-m slow``
SLOW = {"dynamics_linearised", "dynamics_flow_vs_descent", "design_roundtrip", "fit_2d"}
PARAMS = [
    pytest.param(p, id=p.stem, marks=[pytest.mark.slow] if p.stem in SLOW else []) for p in EXAMPLES
]


@pytest.mark.parametrize("path", PARAMS)
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
