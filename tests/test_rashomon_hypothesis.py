"""Targets that satisfy the Rashomon bound's hypothesis f = Delta g, g in C_0^2: both
constants agree and match closed forms; outside it (sin) they differ."""

import math

import pytest

import spectral_jax as sj
from spectral_jax.rashomon import oscillatory_target


@pytest.mark.parametrize("nu", [1, 2, 5])
def test_cos_1d_satisfies_the_hypothesis(nu):
    f = oscillatory_target(nu, 1, "cos")
    k = 2 / (nu * math.pi) ** 2  # sup |g|, g = ((-1)^nu - cos(nu pi x)) / (nu pi)^2
    assert sj.rashomon_kappa(f) == pytest.approx(k, rel=1e-9)
    assert sj.rashomon_kappa(f, method="poisson") == pytest.approx(k, rel=1e-9)


def test_sin_1d_is_the_counterexample():
    f = oscillatory_target(2, 1, "sin")
    assert sj.rashomon_kappa(f) == pytest.approx(2 / (2 * math.pi), rel=1e-9)
    assert sj.rashomon_kappa(f, method="poisson") == pytest.approx(1 / (2 * math.pi) ** 2, rel=1e-9)


def test_kind_is_checked():
    with pytest.raises(ValueError, match="kind must be 'sin' or 'cos'"):
        oscillatory_target(2, 1, "tan")
