"""The ``spectrum`` command through ``spectral_jax.cli.main``."""

import json

import pytest

from spectral_jax.cli import main


def test_spectrum_json(capsys, tmp_path):
    rc = main(
        [
            "spectrum",
            "--width",
            "120",
            "--json",
            "--quiet",
            "--plot",
            str(tmp_path / "s.png"),
            "--eigenfunctions",
            "3",
        ]
    )
    assert rc in (0, None)
    data = json.loads(capsys.readouterr().out)
    assert data["gram_method"] == "closed_form"
    assert abs(data["decay_fit"]["rate"] - 4.0) < 0.15
    assert data["resolvable_modes_float64"] == 120 and data["resolvable_modes_float32"] < 20
    assert (tmp_path / "s.png").exists() and (tmp_path / "s_eigenfunctions.png").exists()


def test_spectrum_table_and_fit_range(capsys):
    rc = main(
        ["spectrum", "--activation", "relu2", "--width", "80", "--fit-range", "4:30", "--quiet"]
    )
    assert rc in (0, None)
    out = capsys.readouterr().out
    assert "decay rate p" in out and "4:30" in out


def test_spectrum_bad_input(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["spectrum", "--width", "0"])
    assert exc.value.code == 2
    assert "argument --width: expected a positive integer; got 0" in capsys.readouterr().err
    assert main(["spectrum", "--fit-range", "abc", "--quiet"]) == 2
    assert "--fit-range must look like K1:K2" in capsys.readouterr().err
    assert main(["spectrum", "--activation", "nope", "--quiet"]) == 2
    assert "nope" in capsys.readouterr().err


def test_spectrum_plot_formats_and_exact_paths(capsys, tmp_path):
    """--plot writes exactly the reported files, in the format of the extension, and
    refuses to replace them without --force."""
    pdf = tmp_path / "s.pdf"
    args = ["spectrum", "--width", "20", "--json", "--quiet", "--plot", str(pdf)]
    assert main(args + ["--eigenfunctions", "2"]) == 0
    data = json.loads(capsys.readouterr().out)
    eig = tmp_path / "s_eigenfunctions.pdf"
    assert data["files"] == [str(pdf), str(eig)]
    assert pdf.read_bytes()[:5] == b"%PDF-" and eig.read_bytes()[:5] == b"%PDF-"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.pdf", "s_eigenfunctions.pdf"]
    before = pdf.read_bytes()
    assert main(args) == 2
    assert "already exists; pass --force" in capsys.readouterr().err
    assert pdf.read_bytes() == before
    assert main(args + ["--force"]) == 0


def test_spectrum_memory_refusal_names_the_width(capsys, monkeypatch):
    monkeypatch.setenv("SPECTRAL_JAX_MEMORY_LIMIT", "1G")
    assert main(["spectrum", "--width", "20000", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "spectrum: --width 20000 (a 20000 x 20000 float64 Gram matrix" in err
    assert "needs about" in err and "use a smaller --width (about" in err


def test_quasi_directions_cover_the_product_measure_in_2d(capsys):
    """--directions quasi with uniform biases is a design of the (direction, bias) pairs:
    its 2D decay rate agrees with random parameters (pairing the i-th direction with the
    i-th bias gave the 1-D rate 4)."""
    import json

    from spectral_jax.cli import main

    rates = {}
    for q in ("quasi", "random"):
        assert (
            main(
                ["spectrum", "--dim", "2", "--width", "200", "--directions", q, "--json", "--quiet"]
            )
            == 0
        )
        rates[q] = json.loads(capsys.readouterr().out)["decay_fit"]["rate"]
    assert abs(rates["quasi"] - rates["random"]) < 0.35, rates
    assert rates["quasi"] < 3.4, rates


def test_spectrum_out_saves_every_eigenvalue_and_the_gram(capsys, tmp_path):
    """--out writes all n eigenvalues (the table shows --show of them), the network, the
    inputs and, with --save-gram, the Gram matrix: its eigenvalues are the saved ones and
    it matches the 1D ReLU closed form at the saved biases."""
    import numpy as np

    out = tmp_path / "s.npz"
    argv = ["spectrum", "--width", "24", "--out", str(out), "--save-gram", "--json", "--quiet"]
    assert main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["files"] == [str(out)] and doc["inputs"]["out"] == str(out)
    with np.load(out) as z:
        lam, G, w, b = z["eigenvalues"], z["gram"], z["weights"], z["biases"]
        inputs = json.loads(str(z["inputs"]))
    assert lam.shape == (24,) and np.all(np.diff(lam) <= 0)
    np.testing.assert_allclose(lam[:8], doc["leading_eigenvalues"], rtol=1e-12)
    np.testing.assert_allclose(np.linalg.eigvalsh(G)[::-1], lam, rtol=1e-9, atol=1e-12)
    assert w.shape == (24, 1) and inputs["width"] == 24 and inputs["seed"] == 0
    # G_ij = int_m^1 (x - m)(x - l) dx = (1 - m)^3/3 + (m - l)(1 - m)^2/2, m = max(b_i, b_j),
    # l = min(b_i, b_j)
    bi, bj = np.meshgrid(b, b, indexing="ij")
    m, lo = np.maximum(bi, bj), np.minimum(bi, bj)
    ref = (1 - m) ** 3 / 3 + (m - lo) * (1 - m) ** 2 / 2
    np.testing.assert_allclose(G, ref, rtol=1e-12, atol=1e-14)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.npz"]  # no temporary left
    assert main(argv) == 2  # an existing file needs --force
    assert "--out" in capsys.readouterr().err


def test_spectrum_refuses_modes_beyond_the_width(capsys, tmp_path):
    """--fit-range and --eigenfunctions past the n eigenpairs are refused up front, naming
    the option and --width (the fit range was refused by the library under its API name,
    the eigenfunctions silently cut to n)."""
    assert main(["spectrum", "--width", "8", "--fit-range", "5:200", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("spectral-jax spectrum: error: spectrum: --fit-range K1:K2 must")
    assert "K2 <= --width 8" in err and "got 5:200" in err and "\n" not in err
    png = tmp_path / "s.png"
    args = ["spectrum", "--width", "8", "--eigenfunctions", "9", "--plot", str(png), "--quiet"]
    assert main(args) == 2 and not png.exists()
    assert "spectrum: --eigenfunctions 9 exceeds --width 8" in capsys.readouterr().err
