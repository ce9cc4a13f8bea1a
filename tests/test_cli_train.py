"""`spectral-jax train` through cli.main."""

import json

import numpy as np

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
    rc = main(["train", "--lr", "-1", "--steps", "10", "--quiet"])
    assert rc == 2
    assert "--lr (step size) must be positive" in capsys.readouterr().err


def test_train_cli_bad_record_every(capsys):
    rc = main(
        ["train", "--steps", "5", "--record-every", "10", "--quiet", "--width", "4", "--nodes", "2"]
    )
    assert rc == 2
    assert "record_every must be <= steps" in capsys.readouterr().err
