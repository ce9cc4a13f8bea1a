"""The dynamics rows' building blocks: the n/a rule for modes without content, the
power-law fit with its uncertainty (against SciPy), the exact outer-weight flow (against
the matrix exponential and a NumPy gradient-descent loop) and its halving times."""

import math
from types import SimpleNamespace

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg
import scipy.stats

from spectral_jax.domains import Interval
from spectral_jax.dynamics import (
    fit_power_law,
    fourier_modes,
    halving_times,
    loss_domain,
    mode_has_content,
)
from spectral_jax.dynamics._linear_flow import outer_flow
from spectral_jax.networks import ShallowNetwork, uniform_biases
from spectral_jax.quadrature import gauss_legendre
from spectral_jax.targets import get_target


def _net(n, act="relu"):
    sign = jnp.where(jnp.arange(n) % 2 == 0, 1.0, -1.0)
    return ShallowNetwork(sign / n, jnp.ones(n), uniform_biases(n), act)


def _dom(name="sin4", panels=8):
    return loss_domain(get_target(name), gauss_legendre(Interval(), 8, panels=panels),
                       bounds=(-1.0, 1.0))  # fmt: skip


# ----------------------------------------------------------------- the n/a rule


def test_no_content_modes_are_na():
    """sin(4 pi x) against a near-zero network: only mode 4 has content; the others get
    None (n/a), not the time it takes the initial network's trace to halve."""
    net, dom = _net(16), _dom("sin4")
    flow = outer_flow(net, dom, fourier_modes(dom, 8))
    t = np.concatenate([[0.0], np.geomspace(1e-3, 1e6, 300)])
    traj = SimpleNamespace(steps=t, loss=flow.loss(t), mode_errors=flow.mode_errors(t),
                           mode_labels=tuple(range(1, 9)))  # fmt: skip
    content = mode_has_content(traj)
    e0 = flow.initial_errors
    np.testing.assert_array_equal(content, e0 > 0.05 * math.sqrt(2 * traj.loss[0]))
    assert content.tolist() == [m == 4 for m in range(1, 9)]
    ht = halving_times(traj)
    assert [h is None for h in ht] == [m != 4 for m in range(1, 9)]
    assert ht == flow.halving_times()[:3] + [ht[3]] + flow.halving_times()[4:]
    # the interpolated time is within one record of the exact (bisection) time
    exact = flow.halving_times()[3]
    i = np.searchsorted(t, exact)
    assert t[i - 1] <= ht[3] <= t[i] and abs(ht[3] - exact) < 0.05 * exact
    # content_rtol=0: every mode counts; a mode that never halves is nan
    ht0 = halving_times(traj, content_rtol=0.0)
    assert all(h is not None for h in ht0)
    with pytest.raises(ValueError, match="halving_times: factor must lie in"):
        halving_times(traj, factor=1.5)
    with pytest.raises(ValueError, match="mode_has_content: rtol must lie in"):
        mode_has_content(traj, rtol=2.0)


# ----------------------------------------------------------------- power-law fit


def test_power_law_fit_exact_and_against_scipy():
    m = np.arange(2, 10, dtype=float)
    f = fit_power_law(m, 0.7 * m**3.25)
    assert f.exponent == pytest.approx(3.25, abs=1e-12) and f.stderr < 1e-10
    assert f.prefactor == pytest.approx(0.7, rel=1e-10) and f.n == 8
    assert np.allclose(f.local_slopes, 3.25) and f.x_range == (2.0, 9.0)
    rng = np.random.default_rng(0)
    y = 2.0 * m**2.5 * np.exp(0.1 * rng.standard_normal(m.size))
    f = fit_power_law(m, y)
    ref = scipy.stats.linregress(np.log(m), np.log(y))
    assert f.exponent == pytest.approx(ref.slope, rel=1e-12)
    assert f.stderr == pytest.approx(ref.stderr, rel=1e-10)
    tq = scipy.stats.t.ppf(0.975, m.size - 2)
    assert f.ci95[0] == pytest.approx(ref.slope - tq * ref.stderr, rel=1e-3)
    assert f.ci95[1] == pytest.approx(ref.slope + tq * ref.stderr, rel=1e-3)
    slopes = np.diff(np.log(y)) / np.diff(np.log(m))
    assert f.slope_min == pytest.approx(slopes.min()) and f.slope_max == pytest.approx(slopes.max())
    # None / nan (n/a, not halved) are dropped
    g = fit_power_law([1, 2, 3, 4], [None, 4.0, float("nan"), 16.0])
    assert g.n == 2 and g.exponent == pytest.approx(2.0) and math.isnan(g.stderr)
    with pytest.raises(ValueError, match="fit_power_law: need at least two"):
        fit_power_law([1, 2], [1.0, None])


# ----------------------------------------------------------------- exact outer flow


def test_outer_flow_against_expm_and_descent_loop():
    net, dom = _net(8, "relu2"), _dom("sin2", panels=4)
    flow = outer_flow(net, dom, fourier_modes(dom, 3))
    x = np.asarray(dom.nodes)
    phi = np.asarray(net.features(dom.nodes))
    q, f = np.asarray(dom.weights), np.asarray(dom.values) - float(net.offset)
    A, b = phi.T @ (q[:, None] * phi), phi.T @ (q * f)
    n = A.shape[0]
    Mx = np.zeros((n + 1, n + 1))
    Mx[:n, :n], Mx[:n, n] = -A, b
    a0 = np.append(np.asarray(net.outer), 1.0)
    for t in (0.0, 0.3, 7.0, 400.0):
        a = (scipy.linalg.expm(Mx * t) @ a0)[:n]
        want = phi @ a + float(net.offset) - np.asarray(dom.values)
        got = flow.residuals([t])[0]
        assert np.max(np.abs(got - want)) < 1e-10 * max(1.0, np.max(np.abs(want)))
    # gradient descent: k steps of a <- a - lr (A a - b), in NumPy
    lr = 1.5 / flow.lambda_max
    a = np.asarray(net.outer, float).copy()
    ks, want = [0, 1, 5, 40], []
    for k in range(41):
        if k in ks:
            want.append(phi @ a + float(net.offset) - np.asarray(dom.values))
        a = a - lr * (A @ a - b)
    np.testing.assert_allclose(flow.descent_residuals(ks, lr), np.asarray(want), atol=1e-10)
    # halving times: e_m(t_m) = e_m(0) / 2 at the bisected time, above it just before
    ht = flow.halving_times()
    E0 = flow.initial_errors
    for j, t in enumerate(ht):
        if t is None or t != t:
            continue
        e = flow.mode_errors([t * (1 - 1e-6), t])
        assert e[1, j] <= 0.5 * E0[j] * (1 + 1e-9) and e[0, j] > 0.5 * E0[j] * (1 - 1e-6)
    assert x.shape[0] == flow.residuals([0.0]).shape[1]


def test_outer_flow_bad_input():
    dom = _dom()
    with pytest.raises(TypeError, match="outer_flow: model must be a ShallowNetwork"):
        outer_flow(object(), dom)
    with pytest.raises(ValueError, match="outer_flow: tracker must be a ModeTracker"):
        outer_flow(_net(4), dom, fourier_modes(_dom(panels=2), 2))
