"""`spectral-jax fit` through the CLI entry point."""

import json

from spectral_jax.cli import main


def test_fit_json(capsys, tmp_path):
    png = tmp_path / "fit.png"
    rc = main(
        [
            "fit",
            "arctan25",
            "--width",
            "50",
            "--basis",
            "fem",
            "--json",
            "--eval-points",
            "501",
            "--plot",
            str(png),
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0
    data = json.loads(out)
    assert data["basis"] == "fem" and data["n_features"] == 51 and 0 < data["max_error"] < 0.1
    assert png.exists()


def test_fit_text_float32_eigh(capsys):
    rc = main(
        [
            "fit",
            "sin(3*pi*x)",
            "--width",
            "40",
            "--solver",
            "eigh",
            "--dtype",
            "float32",
            "--eval-points",
            "301",
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0 and "max_error" in out and "float32" in out


def test_fit_bad_input_exits_2(capsys):
    rc = main(["fit", "arctan25", "--width", "50", "--solver", "svd", "--samples", "10"])
    err = capsys.readouterr().err
    assert rc == 2 and "too few samples for the number of features" in err
    rc = main(["fit", "test2d", "--basis", "fem"])
    assert rc == 2 and "1-D only" in capsys.readouterr().err
