"""The ``spectrum`` command through ``spectral_jax.cli.main``."""

import json

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
    assert main(["spectrum", "--width", "0"]) == 2
    assert "--width must be a positive integer; got 0" in capsys.readouterr().err
    assert main(["spectrum", "--fit-range", "abc", "--quiet"]) == 2
    assert "--fit-range must look like K1:K2" in capsys.readouterr().err
    assert main(["spectrum", "--activation", "nope", "--quiet"]) == 2
    assert "nope" in capsys.readouterr().err
