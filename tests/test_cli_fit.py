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
            "--seed",
            "1",
        ]
    )
    out, err = capsys.readouterr()
    assert rc == 0 and "max_error" in out and "float32" in out
    # 1-D uniform biases have no random part: --seed is said to be ignored (as spectrum
    # and ntk say it); with --bias-rule iid it is used (test below: no warning)
    assert "warning: --seed is ignored: the network has no random part (--bias-rule uniform" in err


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
    data = json.loads(capsys.readouterr().out)
    kept = data["rank"]
    assert data["inputs"]["uniform_kind"] == "left"  # the default kind, resolved
    assert main(args + ["--solver", "svd"]) == 0
    assert json.loads(capsys.readouterr().out)["rank"] > kept
    assert main(args + ["--solver", "lu", "--samples", "200"]) == 0  # sampled normal eqs
    capsys.readouterr()
    assert main(args + ["--solver", "qr", "--rcond", "0.01"]) == 2
    assert "--rcond applies only to --solver svd" in capsys.readouterr().err


def test_fit_iid_biases_are_the_same_network_in_both_precisions(capsys):
    args = ["fit", "arctan25", "--width", "60", "--bias-rule", "iid", "--basis", "fem"]
    args += ["--solver", "cholesky", "--eval-points", "2001", "--seed", "3", "--json"]
    errs = []
    for dt in ("float32", "float64"):
        assert main(args + ["--dtype", dt]) == 0
        out, err = capsys.readouterr()
        errs.append(json.loads(out)["max_error"])
        assert "--seed is ignored" not in err
    assert abs(errs[0] - errs[1]) <= 1e-3 * errs[1]  # FEM barely feels the precision


def test_fit_default_eval_grid_depends_on_the_dimension(capsys):
    """The default evaluation grid is 10001 points in 1D and 201 per axis in 2D (10001
    per axis would be 10^8 points)."""
    assert main(["fit", "sin(2*x0)*cos(x1)", "--width", "30", "--json", "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out)["eval_points"] == 201**2


def test_fit_memory_refusal_names_the_options(capsys, monkeypatch):
    monkeypatch.setenv("SPECTRAL_JAX_MEMORY_LIMIT", "1G")
    assert main(["fit", "--width", "5000", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "fit: 5001 features (a" in err and "needs about" in err and "--width" in err
    assert main(["fit", "--width", "12", "--eval-points", str(10**8), "--quiet"]) == 2
    assert "fit: --eval-points 100000000 (100000000 points" in capsys.readouterr().err


def test_fit_out_npz_table1_setup(capsys, tmp_path):
    """--out writes the full result (checked before the work, refused if it exists);
    --uniform-kind endpoints with --eval-points 10000 is the slides' Table 1 setup (FEM
    n = 100: MAX 1.37e-2, MSE 1.70e-6)."""
    import numpy as np

    out = tmp_path / "fit.npz"
    args = ["fit", "arctan25", "--width", "100", "--basis", "fem", "--uniform-kind"]
    args += ["endpoints", "--eval-points", "10000", "--json", "--out", str(out), "--save-gram"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["inputs"]["uniform_kind"] == "endpoints"
    assert abs(data["max_error"] / 1.37e-2 - 1) < 0.01 and abs(data["mse"] / 1.70e-6 - 1) < 0.01
    d = np.load(out)
    assert d["coefficients"].shape == (100,) and d["gram"].shape == (100, 100)
    assert float(d["max_error"]) == data["max_error"] and int(d["rank"]) == 100
    assert main(args) == 2 and "already exists" in capsys.readouterr().err
    bad = ["fit", "--out", str(tmp_path / "x.txt")]
    assert main(bad) == 2 and "expected one of .npz" in capsys.readouterr().err
    assert main(["fit", "--save-gram"]) == 2 and "--save-gram needs --out" in (
        capsys.readouterr().err
    )


def test_fit_uniform_kind_applies_only_to_1d_uniform_biases(capsys):
    """--uniform-kind places 1-D uniform biases; in d-D (cell midpoints) or with another
    --bias-rule it would be ignored, so it is refused in one line naming it."""
    for args in (
        ["test2d", "--uniform-kind", "midpoint"],
        ["sin(x0)*x1", "--uniform-kind", "left"],
        ["arctan25", "--bias-rule", "iid", "--uniform-kind", "endpoints"],
    ):
        assert main(["fit", *args, "--width", "8"]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("spectral-jax fit: error: fit: --uniform-kind applies only to")
        assert "\n" not in err and "Traceback" not in err
    # 1-D: the kind used is in the --json inputs (test_fit_rcond_and_misplaced_samples:
    # left when not given; test_fit_out_npz_table1_setup: endpoints)
