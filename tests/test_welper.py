"""Welper's width sweep (seed 003): one small sweep against a NumPy float64 reference of
the same gradient descent, the step-size schedules, the fits and bad input."""

import math

import numpy as np
import pytest

from spectral_jax.domains import Interval
from spectral_jax.dynamics._welper import _network, welper_sweep
from spectral_jax.quadrature import gauss_legendre


def _numpy_descent(a, b, x, q, f, lr, steps, record_every):
    """Gradient descent on the biases of m^-1/2 sum a_r ReLU(x - b_r), in NumPy float64:
    dE/db_r = -a_r sum_l q_l r_l 1[x_l > b_r]."""
    errs = []
    for k in range(steps + 1):
        r = np.sum(a[None, :] * np.maximum(x[:, None] - b[None, :], 0.0), axis=1) - f
        if k % record_every == 0:
            errs.append(math.sqrt(float(np.sum(q * r * r))))
        if k == steps:
            break
        g = -a * ((x[:, None] > b[None, :]) * (q * r)[:, None]).sum(axis=0)
        b = b - lr * g
    return np.asarray(errs), b


@pytest.fixture(scope="module")
def sweep():
    return welper_sweep(
        (8, 32), steps=60, record_every=20, panels=16, c=1.2, seed=3,
        scalings=("sqrt", "inv_sqrt", "lambda"),
    )  # fmt: skip


def test_sweep_matches_numpy_reference(sweep):
    rule = gauss_legendre(Interval(), 8, panels=16)
    x = np.asarray(rule.nodes)[:, 0]
    o = np.argsort(x)
    x, q = x[o], np.asarray(rule.weights)[o]
    f = np.exp(-4 * x**2)
    for r in sweep.runs:
        a, b = _network(r.width, 3)
        # lambda_max of J^T Q J, J = -a 1[x > b] (dense NumPy eigensolver)
        J = -(a[None, :] * (x[:, None] > b[None, :]))
        lam = np.linalg.eigvalsh(J.T @ (q[:, None] * J)).max()
        assert abs(r.lambda_max - lam) < 1e-12 * lam
        errs, b_end = _numpy_descent(a, b, x, q, f, r.lr, 60, 20)
        np.testing.assert_allclose(r.errors, errs, rtol=1e-9, atol=1e-12)
        assert abs(r.drift[-1] - np.max(np.abs(b_end - b))) < 1e-9
        assert r.drift_max == pytest.approx(np.max(r.drift))
        assert r.spacing == 2.0 / r.width


def test_least_squares_level_against_lstsq():
    """The banded (hat-basis) least-squares level equals NumPy's lstsq with the ReLU
    features and a constant."""
    from spectral_jax.dynamics._welper import _ls_error

    rule = gauss_legendre(Interval(), 8, panels=32)
    x = np.sort(np.asarray(rule.nodes)[:, 0])
    q = np.asarray(rule.weights)[np.argsort(np.asarray(rule.nodes)[:, 0])]
    f = np.sin(3 * x) + x**2
    b = np.random.default_rng(1).uniform(-1, 1, 24)
    A = np.sqrt(q)[:, None] * np.concatenate(
        [np.maximum(x[:, None] - b, 0), np.ones((x.size, 1))], 1
    )
    c = np.linalg.lstsq(A, np.sqrt(q) * f, rcond=None)[0]
    want = np.linalg.norm(A @ c - np.sqrt(q) * f)
    assert _ls_error(b, x, q, f) == pytest.approx(want, rel=1e-8)


def test_schedules_and_fits(sweep):
    lam = {r.width: r.lambda_max for r in sweep.runs}
    m0 = 8
    eta0 = 1.2 / lam[m0]
    for r in sweep.runs:
        want = dict(
            sqrt=eta0 * math.sqrt(r.width / m0),
            inv_sqrt=eta0 * math.sqrt(m0 / r.width),
            **{"lambda": 1.2 / lam[r.width]},
        )[r.scaling]
        assert r.lr == pytest.approx(want, rel=1e-12)
        assert r.lr_lambda == pytest.approx(r.lr * lam[r.width], rel=1e-12)
    # eta * lambda_max = 1.2 * 2 > 2 for h sqrt(m) at m = 32: not a stable run
    big = next(r for r in sweep.select("sqrt") if r.width == 32)
    assert big.lr_lambda > 2 and not big.stable
    assert all(r.stable for r in sweep.select("inv_sqrt"))
    # the fits are power laws over the stable "lambda" runs: two points give the slope
    ref = [r for r in sweep.select("lambda") if r.stable]
    if len(ref) == 2:
        want = math.log(ref[1].final_error / ref[0].final_error) / math.log(4)
        assert sweep.error_fit.exponent == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(widths=(8,)), "widths must be at least two increasing"),
        (dict(widths=(16, 8)), "widths must be at least two increasing"),
        (dict(target="nope"), "target must be one of"),
        (dict(scalings=("cube",)), "scalings must be taken from"),
        (dict(c=2.5), "c = eta . lambda_max must lie in"),
        (dict(steps=30, record_every=20), "steps must be a multiple of record_every"),
    ],
)
def test_bad_input(kw, match):
    kw = {"widths": (8, 16), **kw}
    with pytest.raises(ValueError, match=f"welper_sweep: {match}"):
        welper_sweep(**kw)
