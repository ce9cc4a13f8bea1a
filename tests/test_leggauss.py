"""Gauss-Legendre nodes by Newton's method for large orders (O(q) memory)."""

import numpy as np
import pytest

from spectral_jax.quadrature._rules import _NEWTON_ORDER, leggauss


@pytest.mark.parametrize("q", [_NEWTON_ORDER + 1, 1100])
def test_newton_rule_is_exact_and_matches_numpy(q):
    x, w = leggauss(q)
    assert x.shape == w.shape == (q,) and np.all(np.diff(x) > 0) and np.all(w > 0)
    xr, wr = np.polynomial.legendre.leggauss(q)
    np.testing.assert_allclose(x, xr, rtol=0, atol=4e-16)
    np.testing.assert_allclose(w, wr, rtol=0, atol=1e-9 * wr.max())  # NumPy is the less accurate
    # exact for degree 2q - 1: x^(2q-2) integrates to 2/(2q-1)
    assert abs(w @ x ** (2 * q - 2) - 2 / (2 * q - 1)) < 1e-14
    # int e^t cos(a t) dt = e^t (cos(a t) + a sin(a t)) / (1 + a^2)
    a = 40.0
    F = lambda t: np.exp(t) * (np.cos(a * t) + a * np.sin(a * t)) / (1 + a * a)
    assert abs(w @ (np.cos(a * x) * np.exp(x)) - (F(1.0) - F(-1.0))) < 3e-15


def test_small_orders_are_numpys():
    x, w = leggauss(5)
    xr, wr = np.polynomial.legendre.leggauss(5)
    assert np.array_equal(x, xr) and np.array_equal(w, wr)
