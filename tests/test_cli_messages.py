"""Bad values of the options that name library objects (activations, targets, Rashomon
parameters): a one-line error that names the command and the option first, then the
library's reason, before any work. (Were: the API's name alone, e.g. ``get_activation:
unknown activation 'nope'`` or ``rashomon_estimate: epsilon must ...``, or for
``rashomon --dim 100`` the quadrature's ``qmc_rule: ...``.)"""

from __future__ import annotations

import pytest

from spectral_jax.cli import main

_TRAIN = ["train", "--width", "4", "--nodes", "2", "--steps", "2", "--record-every", "1"]

CASES = [
    (["spectrum", "--activation", "nope"], "spectrum: --activation 'nope': get_activation: "),
    (["ntk", "--activation", "nope"], "ntk: --activation 'nope': get_activation: "),
    ([*_TRAIN, "--activation", "nope"], "train: --activation 'nope': get_activation: "),
    ([*_TRAIN, "--target", "nope"], "train: --target 'nope': target expression: unknown name"),
    (["fit", "nope"], "fit: target 'nope': target expression: unknown name 'nope'"),
    (["rashomon", "--activation", "nope"], "rashomon: --activation 'nope': get_activation: "),
    (["rashomon", "--target", "nope"], "rashomon: --target 'nope': target expression: "),
    (["rashomon", "--epsilon", "1.5"], "rashomon: --epsilon must lie in (0.0, 1.0); got 1.5"),
    (["rashomon", "--epsilon", "nan"], "rashomon: --epsilon must lie in (0.0, 1.0); got nan"),
    (["rashomon", "--A", "-1"], "rashomon: --A must be a positive finite number; got -1.0"),
    (["rashomon", "--A", "inf"], "rashomon: --A must be a positive finite number; got inf"),
    (["rashomon", "--dim", "100", "--width", "2"], "rashomon: --dim 100: qmc_rule: Halton"),
]


@pytest.mark.parametrize("argv, start", CASES, ids=lambda v: v if isinstance(v, str) else None)
def test_option_named_first_in_one_line(argv, start, capsys):
    assert main([*argv, "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"spectral-jax {argv[0]}: error: {start}"), err
    assert "\n" not in err and "Traceback" not in err
