"""A command's warnings reach the user whether the command succeeds or fails."""

import warnings

from spectral_jax import cli
from spectral_jax.commands import penalty


def _run(monkeypatch, capsys, body):
    monkeypatch.setattr(penalty, "run", body)
    code = cli.main(["penalty"])
    return code, capsys.readouterr().err.strip().splitlines()


def test_warning_printed_before_the_error_line(monkeypatch, capsys):
    def body(args):
        warnings.warn("--seed is ignored: nothing random", UserWarning, stacklevel=1)
        raise ValueError("--width must be positive; got -1")

    code, err = _run(monkeypatch, capsys, body)
    assert code == 2
    assert err == [
        "spectral-jax penalty: warning: --seed is ignored: nothing random",
        "spectral-jax penalty: error: --width must be positive; got -1",
    ]


def test_deprecations_stay_quiet_on_failure(monkeypatch, capsys):
    def body(args):
        warnings.warn("old name", DeprecationWarning, stacklevel=1)
        raise ValueError("--dim must be 1, 2 or 3; got 7")

    code, err = _run(monkeypatch, capsys, body)
    assert code == 2
    assert err == ["spectral-jax penalty: error: --dim must be 1, 2 or 3; got 7"]
