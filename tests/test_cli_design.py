"""``spectral-jax design`` and ``spectral-jax penalty`` through the CLI entry point."""

import json

import numpy as np

from spectral_jax.cli import main


def test_design_then_penalty(tmp_path, capsys):
    out = tmp_path / "act.npz"
    rc = main(
        [
            "design",
            "--rho",
            "exp(2*abs(k))",
            "--band",
            "0.2",
            "5",
            "--out",
            str(out),
            "--plot",
            str(tmp_path / "d.png"),
            "--json",
            "--quiet",
        ]
    )
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    assert data["derivative_order"] == 0 and data["max_rel_error"] < 1e-3
    assert data["accuracy_met"] is True and data["max_rel_error"] <= data["accuracy"]
    assert out.exists() and (tmp_path / "d.png").read_bytes().startswith(b"\x89PNG")
    assert data["plot"] == str(tmp_path / "d.png")
    rc = main(
        [
            "penalty",
            "--activation",
            "relu",
            str(out),
            "--dim",
            "2",
            "--band",
            "0.5",
            "4",
            "--points",
            "3",
            "--plot",
            str(tmp_path / "p.pdf"),
            "--json",
            "--quiet",
        ]
    )
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    k = np.asarray(data["k"])
    np.testing.assert_allclose(data["rho"]["relu"], k * k**4, rtol=1e-12)
    # the designed activation realises rho = e^{2k} (times k^{D-1} = k for D = 2)
    np.testing.assert_allclose(data["rho"][str(out)], k * np.exp(2 * k), rtol=1e-3)
    assert (tmp_path / "p.pdf").read_bytes().startswith(b"%PDF")
    rc = main(["penalty", "--activation", "tanh", "--points", "3"])
    assert rc == 0 and "rho(k)" in capsys.readouterr().out


def test_cli_bad_input(tmp_path, capsys):
    assert main(["design", "--rho=-exp(k)", "--out", str(tmp_path / "x.npz")]) == 2
    assert "must be positive on the band" in capsys.readouterr().err
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"garbage")
    assert main(["penalty", "--activation", str(bad)]) == 2
    assert "not a valid saved activation" in capsys.readouterr().err
    assert main(["penalty", "--activation", "nope"]) == 2
    assert "unknown activation 'nope'" in capsys.readouterr().err
    # an existing figure is refused before any work, and left as it was
    fig = tmp_path / "keep.svg"
    fig.write_text("mine")
    assert main(["penalty", "--plot", str(fig)]) == 2
    assert "--plot" in capsys.readouterr().err and fig.read_text() == "mine"


def test_design_fails_fast_when_the_check_grid_is_too_large(tmp_path, capsys):
    """rho = k^6 on the default band needs a ~1e7-point grid to recompute the achieved
    penalty: refused before that work with the option to raise, and no file written."""
    out = tmp_path / "k6.npz"
    assert main(["design", "--rho", "k**6", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "needs about" in err  # the estimate before the check, not a failed refinement
    assert "--max-points" in err and "max_points=4194304" in err and err.count("\n") == 1
    assert not out.exists()
