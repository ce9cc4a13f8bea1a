"""Fast checks of the helpers behind the report's seed-claim rows (closed forms only)."""

import numpy as np
import pytest

from spectral_jax.report._approximation import p1_projection_errors
from spectral_jax.report._eigenfunctions import (
    cantilever_mode,
    cantilever_roots,
    kernel_eigenpairs,
    power_fit,
    relu_kernel,
)


def test_cantilever_roots_solve_the_frequency_equation_and_sum_to_the_trace():
    beta = cantilever_roots(8)
    assert np.allclose(np.cos(beta) + 1 / np.cosh(beta), 0.0, atol=1e-14)  # cos cosh = -1
    assert beta[0] == pytest.approx(1.8751040687, abs=1e-9)  # textbook clamped-free beam
    tail = np.sum((2 / ((np.arange(9, 400001) - 0.5) * np.pi)) ** 4)
    assert np.sum((2 / beta) ** 4) + tail == pytest.approx(4 / 3, rel=1e-10)  # trace of G


def test_cantilever_mode_satisfies_the_boundary_value_problem():
    beta = cantilever_roots(5)[-1]
    x = np.linspace(-1, 1, 20001)
    m = cantilever_mode(beta, x)
    h = x[1] - x[0]
    d = [m]
    for _ in range(4):
        d.append(np.gradient(d[-1], h))
    scale = np.max(np.abs(m))
    assert abs(m[-1]) < 1e-12 * scale and abs(d[1][-1]) < 1e-3 * (beta / 2) * scale
    assert abs(d[2][0]) < 1e-2 * (beta / 2) ** 2 * scale
    inner = slice(100, -100)
    assert np.max(np.abs(d[4][inner] - (beta / 2) ** 4 * m[inner])) < 1e-2 * (beta / 2) ** 4 * scale


def test_nystrom_eigenpairs_match_the_closed_forms():
    x = np.linspace(-1, 1, 801)
    mu, phi = kernel_eigenpairs(160, 4, x)
    beta = cantilever_roots(4)
    assert np.allclose(mu, (2 / beta) ** 4, rtol=1e-8)
    m = cantilever_mode(beta[1], x)
    m /= np.sqrt(np.trapezoid(m * m, x))
    assert np.max(np.abs(np.sign(m @ phi[:, 1]) * m - phi[:, 1])) < 1e-5
    assert relu_kernel(np.array([1.0]), np.array([0.3]))[0, 0] == 0.0


def test_power_fit_recovers_an_exact_power_and_needs_five_points():
    x = np.geomspace(1, 100, 6)
    f = power_fit(x, 3 * x**-2.5)
    assert f["slope"] == pytest.approx(-2.5, abs=1e-12) and f["stderr"] < 1e-10
    assert np.allclose(f["local"], -2.5)
    with pytest.raises(ValueError, match="at least 5 points"):
        power_fit(x[:4], x[:4])


def test_p1_projection_is_exact_for_linear_functions_and_second_order():
    nodes = np.linspace(-1, 1, 11)
    mx, mse, dmx, l2 = p1_projection_errors(nodes, lambda x: 2 * x - 0.5)
    assert max(mx, mse, dmx, l2) < 1e-13
    e = [p1_projection_errors(np.linspace(-1, 1, n + 1), np.sin)[2] for n in (8, 16, 32, 64, 128)]
    assert power_fit([8, 16, 32, 64, 128], e)["slope"] == pytest.approx(-2.0, abs=0.05)


def test_table1_setup_reproduces_the_slides_fem_rows():
    """The setup found for Table 1 (nodes linspace(-1, 1, n), exact L2 projection, MAX and
    MSE on linspace(-1, 1, 10000)) gives every float64 FEM cell of the slides to 0.5%;
    the theorem's nodes b_i = -1 + 2(i-1)/n or a 10001-point grid do not at n = 1000."""
    from spectral_jax.fit import SLIDES_TABLE1

    f = lambda x: np.arctan(25 * x)  # noqa: E731
    finv = lambda u: np.tan((2 * u - 1) * np.arctan(25)) / 25  # noqa: E731  F^-1, closed form
    for n in (100, 1000):
        for rule, nodes in (
            ("uniform", np.linspace(-1, 1, n)),
            ("adaptive", finv(np.arange(n) / (n - 1))),
        ):
            mx, mse = p1_projection_errors(nodes, f, eval_points=10000)[:2]
            pm, ps = SLIDES_TABLE1[("FEM", rule, "float64", n)]
            assert abs(mx / pm - 1) < 5e-3 and abs(mse / ps - 1) < 5e-3, (rule, n)
    left = np.r_[-1 + 2 * np.arange(1000) / 1000, 1.0]
    for nodes, e in ((left, 10000), (np.linspace(-1, 1, 1000), 10001)):
        mx, mse = p1_projection_errors(nodes, f, eval_points=e)[:2]
        assert max(abs(mx / 1.05e-4 - 1), abs(mse / 1.33e-10 - 1)) > 0.05
