"""`spectral-jax train` through cli.main (and, for signals, the real entry point)."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from spectral_jax.cli import main
from spectral_jax.dynamics import load_trajectory


def test_train_cli_json_and_files(tmp_path, capsys):
    out, png = tmp_path / "t.npz", tmp_path / "t.png"
    rc = main(
        [
            "train",
            "--width",
            "16",
            "--steps",
            "40",
            "--record-every",
            "10",
            "--lr",
            "0.5",
            "--trainable",
            "biases",
            "--modes",
            "3",
            "--nodes",
            "8",
            "--out",
            str(out),
            "--plot",
            str(png),
            "--json",
            "--quiet",
        ]
    )
    assert rc in (0, None)
    data = json.loads(capsys.readouterr().out)
    assert data["fast1d"] is True and data["steps"] == 40
    assert data["final_loss"] < data["initial_loss"]
    tr = load_trajectory(out)
    assert np.isclose(tr.loss[-1], data["final_loss"]) and png.stat().st_size > 1000


def test_train_cli_bad_lr(capsys):
    with pytest.raises(SystemExit) as info:  # argparse: exit status 2, one line
        main(["train", "--lr", "-1", "--steps", "10", "--quiet"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "argument --lr: expected a positive finite number" in err and "Traceback" not in err


def test_train_cli_bad_record_every(capsys):
    rc = main(
        ["train", "--steps", "5", "--record-every", "10", "--quiet", "--width", "4", "--nodes", "2"]
    )
    assert rc == 2
    assert "--record-every (10) must be <= --steps (5)" in capsys.readouterr().err


def test_train_cli_checkpoint_every_resume_and_force(tmp_path, capsys):
    """--checkpoint-every, then --resume (updating the same checkpoint without --force)
    equals the uninterrupted run; an existing --out needs --force."""
    small = ["train", "--quiet", "--json", "--width", "4", "--nodes", "2", "--modes", "2"]
    small += ["--record-every", "2", "--stepper", "adam", "--lr", "0.05"]
    one, ck, out = tmp_path / "one.npz", tmp_path / "ck.npz", tmp_path / "t.npz"
    assert main([*small, "--steps", "12", "--out", str(one)]) == 0
    capsys.readouterr()
    assert main([*small, "--steps", "6", "--checkpoint", str(ck), "--checkpoint-every", "4"]) == 0
    assert (
        main(
            [
                *small,
                "--steps",
                "12",
                "--resume",
                str(ck),
                "--checkpoint",
                str(ck),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert data["resumed_from"] == 6 and data["stopped"] is None
    a, b = load_trajectory(one), load_trajectory(out)
    assert np.array_equal(a.loss, b.loss) and np.array_equal(a.mode_errors, b.mode_errors)
    before = out.read_bytes()
    assert main([*small, "--steps", "12", "--resume", str(ck), "--out", str(out)]) == 2
    assert "--out" in capsys.readouterr().err and out.read_bytes() == before
    assert main([*small, "--steps", "12", "--resume", str(ck), "--out", str(out), "--force"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.npz", "one.npz", "t.npz"]


def test_train_cli_sigterm_writes_checkpoint(tmp_path):
    """SIGTERM during a long run: the state of the last completed chunk is saved, one line
    says where, exit status 130, no temporary file left; the run resumes from it."""
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"}
    args = ["train", "--quiet", "--width", "4", "--nodes", "2", "--modes", "2"]
    args += ["--record-every", "10", "--checkpoint", "ck.npz"]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "spectral_jax.cli",
            *args,
            "--steps",
            "100000000",
            "--checkpoint-every",
            "2000",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 240
        while not (tmp_path / "ck.npz").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert (tmp_path / "ck.npz").exists(), "no checkpoint was written"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    err = err.decode()
    assert proc.returncode == 130, err
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines[-1].startswith("spectral-jax train: interrupted; checkpoint of step"), err
    assert lines[-1].endswith("continue with --resume ck.npz"), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.npz"]
    from spectral_jax.dynamics._checkpoint import read_checkpoint

    done = read_checkpoint(tmp_path / "ck.npz").steps_done
    assert done > 0 and done % 2000 == 0, err
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        rc = main([*args, "--steps", str(done + 20), "--resume", "ck.npz"])
    finally:
        os.chdir(cwd)
    assert rc == 0
