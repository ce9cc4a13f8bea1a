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


def test_fit_2d_expression_infers_the_dimension(capsys):
    rc = main(["fit", "sin(2*x0)*cos(x1)", "--width", "60", "--eval-points", "41", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert rc == 0 and data["dim"] == 2 and data["max_error"] < 0.2


def test_fit_rcond_and_misplaced_samples(capsys):
    args = ["fit", "arctan25", "--width", "40", "--eval-points", "501", "--json"]
    assert main(args + ["--solver", "svd", "--rcond", "0.01"]) == 0
    kept = json.loads(capsys.readouterr().out)["rank"]
    assert main(args + ["--solver", "svd"]) == 0
    assert json.loads(capsys.readouterr().out)["rank"] > kept
    assert main(args + ["--solver", "cholesky", "--samples", "200"]) == 2
    assert "samples applies to the sampled solvers" in capsys.readouterr().err


def test_fit_iid_biases_are_the_same_network_in_both_precisions(capsys):
    args = ["fit", "arctan25", "--width", "60", "--bias-rule", "iid", "--basis", "fem"]
    args += ["--solver", "cholesky", "--eval-points", "2001", "--seed", "3", "--json"]
    errs = []
    for dt in ("float32", "float64"):
        assert main(args + ["--dtype", dt]) == 0
        errs.append(json.loads(capsys.readouterr().out)["max_error"])
    assert abs(errs[0] - errs[1]) <= 1e-3 * errs[1]  # FEM barely feels the precision
