"""The ``spectral-jax ntk`` command."""

import json

import numpy as np
import pytest

from spectral_jax.cli import main
from spectral_jax.ntk import limit_ntk_eigenvalues


def test_cli_ntk_json_welper_like(capsys, tmp_path):
    png = tmp_path / "ev.png"
    rc = main(
        [
            "ntk",
            "--width",
            "64",
            "--points",
            "64",
            "--trainable",
            "biases",
            "--method",
            "structured",
            "--eigs",
            "4",
            "--json",
            "--quiet",
            "--plot",
            str(png),
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0
    data = json.loads(out)
    assert data["points"] == 64 and len(data["eigenvalues"]) == 4
    assert png.exists()
    assert np.all(np.diff(data["eigenvalues"]) <= 0)


def test_cli_ntk_text_mlp(capsys):
    rc = main(
        [
            "ntk",
            "--arch",
            "mlp",
            "--width",
            "8",
            "--depth",
            "2",
            "--activation",
            "tanh",
            "--points",
            "16",
            "--trainable",
            "second_to_last",
            "--method",
            "jacrev",
            "--quiet",
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0 and "decay exponent" in out and "eigenvalue" in out


def test_cli_ntk_bad_input(capsys):
    rc = main(["ntk", "--arch", "mlp", "--method", "structured", "--points", "8", "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "structured_ntk covers ShallowNetwork" in err
    with pytest.raises(SystemExit) as exc:  # argparse: exit status 2, one line
        main(["ntk", "--block-size", "0", "--points", "8", "--quiet"])
    assert exc.value.code == 2
    assert "--block-size: expected a positive integer" in capsys.readouterr().err


def test_limit_eigs_sanity():
    assert abs(float(limit_ntk_eigenvalues(1)[0]) - 8 / np.pi**2) < 1e-15


@pytest.mark.slow
def test_cli_ntk_layered_out_file(capsys, tmp_path):
    """--method layered writes every eigenvalue and, with --save-kernel, the NTK whose
    Nystrom eigenvalues they are; the kernel equals the jacrev kernel of the same MLP."""
    import jax.random as jr

    from spectral_jax.networks import MLP
    from spectral_jax.ntk import empirical_ntk, nystrom_eigenvalues

    out = tmp_path / "k.npz"
    argv = ["ntk", "--arch", "mlp", "--width", "8", "--points", "24", "--eigs", "3"]
    rc = main([*argv, "--method", "layered", "--out", str(out), "--save-kernel", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert rc == 0 and data["out"] == str(out)
    d = np.load(out)
    assert d["eigenvalues"].shape == (24,) and d["ntk"].shape == (24, 24)
    np.testing.assert_allclose(d["eigenvalues"][:3], data["eigenvalues"], rtol=1e-12)
    ev = np.asarray(nystrom_eigenvalues(d["ntk"], d["weights"]))
    np.testing.assert_allclose(ev, d["eigenvalues"], rtol=1e-10, atol=1e-14)
    mlp = MLP(1, (8, 8), activation="relu", key=jr.key(0))
    k = np.asarray(empirical_ntk(mlp, d["nodes"], method="jacrev"))
    np.testing.assert_allclose(d["ntk"], k, rtol=1e-10, atol=1e-13)
    assert json.loads(str(d["inputs"]))["method"] == "layered"
