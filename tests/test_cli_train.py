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
from spectral_jax.dynamics import load_trajectory, read_checkpoint


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
    assert data["lr"] == 0.05  # an optax stepper's step size is recorded (was None)
    # the public reader: the checkpoint now holds 12 steps, and the options it was
    # written with; another --lr is a difference the resume check reports
    c = read_checkpoint(ck)
    assert (c.steps_done, c.record_every, c.networks) == (12, 2, None)
    assert c.info["--lr"] == 0.05 and c.differences(c.info) == []
    assert c.differences({**c.info, "--lr": 0.1}) == ["--lr: checkpoint has 0.05, this run 0.1"]
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
    done = read_checkpoint(tmp_path / "ck.npz").steps_done
    assert done > 0 and done % 2000 == 0, err
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        rc = main([*args, "--steps", str(done + 20), "--resume", "ck.npz"])
    finally:
        os.chdir(cwd)
    assert rc == 0


_SMALL = ["train", "--quiet", "--width", "4", "--nodes", "2", "--modes", "2"]


@pytest.mark.parametrize(
    "extra, option",
    [
        (["--stepper", "adam", "--lr", "auto"], "--lr auto"),
        (["--lr", "auto", "--auto-factor", "2.5"], "--auto-factor"),
        (["--auto-factor", "1.5"], "--auto-factor"),
        (["--time", "5"], "--time"),
        (["--rtol", "1e-3"], "--rtol"),
        (["--stepper", "tsit5", "--steps", "10"], "--steps"),
        (["--stepper", "tsit5", "--lr", "0.1"], "--lr"),
        (["--stepper", "kvaerno5", "--rtol", "0"], "--rtol"),
        (["--stepper", "dopri5", "--atol", "-1"], "--atol"),
        (["--stepper", "tsit5", "--time", "nan"], "--time"),
        (["--stepper", "tsit5", "--save-times", "0"], "--save-times"),
        (["--stepper", "tsit5", "--checkpoint-times", "1,x"], "--checkpoint-times"),
        (["--stepper", "tsit5", "--checkpoint-times", "1"], "--checkpoint-times"),
        (
            [
                "--stepper",
                "tsit5",
                "--time",
                "2",
                "--checkpoint",
                "c.npz",
                "--checkpoint-times",
                "3",
            ],
            "--checkpoint-times",
        ),  # fmt: skip
        (["--stepper", "tsit5", "--networks", "2"], "--networks"),
        (["--networks", "0"], "--networks"),
        (["--networks", "2", "--plot", "p.png"], "--plot"),
        (["--stepper", "rk45"], "--stepper"),
    ],
)
def test_train_cli_new_options_bad_input(extra, option, capsys):
    """Options that are malformed or do not apply to the stepper: one line naming the
    option, exit status 2, before any training."""
    try:
        rc = main([*_SMALL, *extra])
    except SystemExit as info:  # argparse
        rc = info.code
    err = capsys.readouterr().err
    assert rc == 2, err
    last = [ln for ln in err.splitlines() if ln.strip()][-1]  # argparse prints usage first
    assert option in last and "error" in last and "Traceback" not in err


@pytest.mark.slow
def test_train_cli_flow_outputs_and_force(tmp_path, capsys):
    """--stepper tsit5: json (solver statistics, monotone loss, halving times or None),
    --out readable as a FlowTrajectory, an existing --out refused without --force."""
    from spectral_jax.dynamics import FlowTrajectory

    out = tmp_path / "f.npz"
    args = [*_SMALL, "--stepper", "tsit5", "--activation", "relu2", "--time", "4"]
    args += ["--save-times", "6", "--trainable", "outer", "--json"]
    assert main([*args, "--out", str(out)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["completed"] and data["monotone"] and data["rejected_steps"] >= 0
    assert data["final_loss"] < data["initial_loss"]
    assert set(data["steps_to_halve"]) == {"1", "2"} or set(data["steps_to_halve"]) == {1, 2}
    tr = load_trajectory(out)
    assert isinstance(tr, FlowTrajectory) and tr.times[-1] == 4.0 and len(tr.times) == 7
    assert np.isclose(tr.loss[-1], data["final_loss"])
    before = out.read_bytes()
    assert main([*args, "--out", str(out)]) == 2
    assert "--out" in capsys.readouterr().err and out.read_bytes() == before


def test_train_cli_networks_checkpoint_resume(tmp_path, capsys):
    """--networks 2 with --checkpoint, resumed to a larger --steps, equals the straight
    run; per-network results in the JSON."""
    base = [*_SMALL, "--networks", "2", "--record-every", "2", "--lr", "0.05", "--json"]
    ck = tmp_path / "ck.npz"  # with a checkpoint, one compiled chunk length for all runs
    assert main([*base, "--steps", "8", "--checkpoint", str(tmp_path / "full.npz")]) == 0
    one = json.loads(capsys.readouterr().out)
    assert main([*base, "--steps", "4", "--checkpoint", str(ck)]) == 0
    capsys.readouterr()
    assert main([*base, "--steps", "8", "--resume", str(ck), "--checkpoint", str(ck)]) == 0
    two = json.loads(capsys.readouterr().out)
    assert two["resumed_from"] == 4 and two["networks"] == 2
    assert two["final_loss"] == one["final_loss"] and len(one["final_loss"]) == 2
    assert one["initial_loss"][0] != one["initial_loss"][1]  # the networks differ
    # another --lr is a different run
    assert main([*base, "--steps", "8", "--resume", str(ck), "--lr", "0.1"]) == 2
    assert "--lr" in capsys.readouterr().err


def test_halving_table_prints_na_for_none(monkeypatch):
    """The library's None (no content in the initial residual) prints n/a, NaN (never
    halved within the run) prints 'not reached'; the JSON holds None for both."""
    import types

    import spectral_jax.dynamics as dyn
    from spectral_jax.commands import _train_output as cmd

    monkeypatch.setattr(dyn, "halving_times", lambda traj, interpolate: [None, float("nan"), 30.0])
    halve, shown = cmd._halving(types.SimpleNamespace(mode_labels=(1, 2, 3)))
    assert halve == {1: None, 2: None, 3: 30.0}
    assert shown == {1: "n/a", 2: "not reached", 3: 30.0}
    text = cmd._halving_table(shown, "steps")
    assert "n/a" in text.splitlines()[2] and "not reached" in text.splitlines()[3]


def test_train_refuses_depth_and_warns_of_seed_for_the_shallow_network(capsys):
    """--depth (an MLP option) with --arch shallow is refused before any work; --seed
    with the single (deterministic) shallow network is said to be ignored."""
    import argparse
    import warnings

    from spectral_jax.commands import train as cmd

    base = ["train", "--quiet", "--width", "4", "--nodes", "2", "--steps", "5"]
    assert main([*base, "--depth", "3"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "spectral-jax train: error: train: --depth applies to --arch mlp only (the shallow "
        "network has one hidden layer)"
    )

    def check(*argv):
        p = argparse.ArgumentParser()
        cmd.add_arguments(p)
        args = p.parse_args(argv)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cmd._check_combinations(args)
        return args, [str(w.message) for w in caught]

    args, said = check("--seed", "3")
    assert said == [
        "--seed is ignored with --arch shallow and --networks 1 (the alternating-sign "
        "network is deterministic)"
    ]
    assert (args.seed, args.depth) == (3, None)
    for argv in (["--arch", "mlp", "--seed", "3"], ["--networks", "2", "--seed", "3"], []):
        args, said = check(*argv)
        assert said == [] and args.seed == (3 if argv else 0)
        assert args.depth == (2 if "mlp" in argv else None)
