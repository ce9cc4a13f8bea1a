"""The continuous Gram operator on the ball, by spherical-harmonic degree, against brute
force on the parameter side and against closed forms of its pieces."""

import math

import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate, special

import spectral_jax as sj
from spectral_jax.domains import Ball
from spectral_jax.spectrum._ball import _a_full, _a_hat_2d, _a_hat_3d, _legendre_table


@pytest.mark.parametrize(
    "d, ell, n", [(2, 0, 1), (2, 1, 2), (2, 5, 2), (3, 0, 1), (3, 1, 3), (3, 4, 9), (4, 2, 9)]
)
def test_harmonic_dimension(d, ell, n):
    assert sj.harmonic_dimension(d, ell) == n


@pytest.mark.parametrize("d", [2, 3])
@pytest.mark.parametrize("ell", [0, 1, 2, 7])
@pytest.mark.parametrize("tau", [-0.93, -0.2, 0.41, 0.97])
def test_funk_hecke_coefficients_against_scipy_quad(d, ell, tau):
    """a_l(1, tau) = |S^{d-2}| int_{-1}^1 relu(t - tau) P_l^{(d)}(t) (1-t^2)^{(d-3)/2} dt."""
    if d == 2:
        ref = (
            2
            * integrate.quad(
                lambda th: (np.cos(th) - tau) * np.cos(ell * th),
                0,
                np.arccos(tau),
                epsabs=1e-13,
                epsrel=1e-11,
                limit=200,
            )[0]
        )
        ours = _a_hat_2d(np.array([tau]), ell, np.arccos(np.array([tau])))[0]
    else:
        ref = (
            2
            * np.pi
            * integrate.quad(
                lambda t: (t - tau) * special.eval_legendre(ell, t),
                tau,
                1,
                epsabs=1e-13,
                epsrel=1e-11,
                limit=200,
            )[0]
        )
        P = _legendre_table(np.array([tau]), ell + 2)
        ours = _a_hat_3d(np.array([tau]), ell, P)[0]
    assert abs(ours - ref) <= 1e-11 * max(1.0, abs(ref))


@pytest.mark.parametrize("d", [2, 3])
def test_linear_regime_coefficients(d):
    """For b <= -r the ReLU is linear on the sphere: a_0 = -b |S^{d-1}|, a_1 = r |S^{d-1}|/d."""
    area = 2 * math.pi ** (d / 2) / math.gamma(d / 2)
    r, b = 0.3, -0.7
    if d == 2:
        ref1 = 2 * integrate.quad(lambda th: (r * np.cos(th) - b) * np.cos(th), 0, np.pi)[0]
    else:
        ref1 = 2 * np.pi * integrate.quad(lambda t: (r * t - b) * t, -1, 1)[0]
    assert _a_full(b, r, 0, d) == pytest.approx(-b * area, rel=1e-14)
    assert _a_full(b, r, 1, d) == pytest.approx(ref1, rel=1e-12)
    assert _a_full(b, r, 2, d) == 0


def test_2d_against_brute_force_nystrom_on_the_disk():
    """Brute force: an equal-weight tensor grid of (angle, Gauss bias) parameters, the Gram
    matrix on the disk from the library's ball quadrature, eigenvalues of
    W^{1/2} G W^{1/2}: no harmonic decomposition anywhere."""
    J, K = 32, 16
    th = 2 * np.pi * (np.arange(J) + 0.5) / J
    g, gw = np.polynomial.legendre.leggauss(K)
    T, B = np.meshgrid(th, g, indexing="ij")
    w = np.stack([np.cos(T.ravel()), np.sin(T.ravel())], -1)
    wt = ((np.ones(J) / J)[:, None] * (gw / 2)[None, :]).ravel()
    G = np.asarray(sj.gram_matrix("relu", jnp.asarray(w), jnp.asarray(B.ravel()), Ball(2), level=2))
    sq = np.sqrt(wt)
    brute = np.linalg.eigvalsh(sq[:, None] * G * sq[None, :])[::-1][:6]
    ours = sj.ball_gram_eigenvalues(2, radial_nodes=48, max_degree=8).eigenvalues[:6]
    np.testing.assert_allclose(ours, brute, rtol=2e-3)
    # the multiplicities of the rotation group: degree 1 twice, then degree 2 twice
    assert ours[1] == pytest.approx(ours[2], rel=1e-12) and ours[3] == pytest.approx(
        ours[4], rel=1e-12
    )


@pytest.mark.slow
def test_3d_against_brute_force_nystrom_on_the_ball():
    J, K = 200, 10
    w = np.asarray(sj.quasi_uniform_directions(J, 3))
    g, gw = np.polynomial.legendre.leggauss(K)
    W = np.repeat(w, K, axis=0)
    B = np.tile(g, J)
    wt = np.tile(gw / 2, J) / J
    G = np.asarray(sj.gram_matrix("relu", jnp.asarray(W), jnp.asarray(B), Ball(3), level=2))
    sq = np.sqrt(wt)
    brute = np.linalg.eigvalsh(sq[:, None] * G * sq[None, :])[::-1][:4]
    ours = sj.ball_gram_eigenvalues(3, radial_nodes=48, max_degree=6).eigenvalues[:4]
    np.testing.assert_allclose(ours, brute, rtol=5e-3)


def test_discrete_gram_over_n_tends_to_the_operator():
    """lambda_k(G)/n -> mu_k for neurons drawn from the uniform measure (quasi-uniform)."""
    n = 600
    w, b = sj.quasi_uniform_parameters(n, 2)
    G = sj.gram_matrix("relu", w, b, Ball(2), level=2)
    lam = np.asarray(sj.eigh_spectrum(G).eigenvalues)[:3] / n
    mu = sj.ball_gram_eigenvalues(2, radial_nodes=48, max_degree=4).eigenvalues[:3]
    np.testing.assert_allclose(lam, mu, rtol=2e-2)


def test_resolution_bookkeeping_and_errors():
    s = sj.ball_gram_eigenvalues(3, radial_nodes=40, max_degree=10, k=50)
    lam = s.eigenvalues
    assert lam.shape == (50,) and np.all(np.diff(lam) <= 0) and lam[-1] > s.complete_to
    assert np.all(s.error_estimate <= 1e-3)
    # multiplicity 2l+1 in 3D: every (degree, radial index) appears 2l+1 times
    for ell, j in set(zip(s.degree.tolist(), s.radial_index.tolist(), strict=False)):
        cnt = np.sum((s.degree == ell) & (s.radial_index == j))
        assert cnt == 2 * ell + 1 or lam[-1] <= lam[(s.degree == ell) & (s.radial_index == j)][0]
    with pytest.raises(ValueError, match="ball_gram_eigenvalues: d must be 2 or 3"):
        sj.ball_gram_eigenvalues(4)
    with pytest.raises(ValueError, match="activation must be 'relu'"):
        sj.ball_gram_eigenvalues(2, activation="tanh")
    with pytest.raises(ValueError, match="radial_nodes must be >= 16"):
        sj.ball_gram_eigenvalues(2, radial_nodes=8)


@pytest.mark.slow
@pytest.mark.parametrize("d, rate", [(2, 2.5), (3, 2.0)])
def test_local_exponent_tends_to_d_plus_3_over_d(d, rate):
    """Far into the tail the local exponent of mu_k approaches (d+3)/d from above."""
    s = sj.ball_gram_eigenvalues(
        d, radial_nodes=192 if d == 2 else 160, max_degree=64 if d == 2 else 32
    )
    lam = s.eigenvalues
    k = np.arange(1, lam.size + 1)
    edges = np.unique(np.geomspace(16, lam.size, 7).astype(int))
    slopes = [
        -np.polyfit(np.log(k[a - 1 : b]), np.log(lam[a - 1 : b]), 1)[0]
        for a, b in zip(edges[:-1], edges[1:], strict=False)
    ]
    assert lam.size > 1000
    assert all(s1 >= s2 - 0.02 for s1, s2 in zip(slopes[1:], slopes[2:], strict=False)), (
        slopes
    )  # decreasing
    assert rate - 0.02 < slopes[-1] < rate + 0.15, slopes


def test_local_decay_exponents_on_closed_forms():
    k = np.arange(1, 2001, dtype=float)
    loc = sj.local_decay_exponents(3.0 * k**-2.5, windows=6, start=10)
    assert len(loc) == 6 and loc[0][0] == 10 and loc[-1][1] == 2000
    for _, _, e, u in loc:
        assert e == pytest.approx(2.5, abs=1e-10) and u < 1e-10
    # lambda_k = k^-2 (1 + 30/k): the exponent decreases toward 2, and the spread shows it
    loc = sj.local_decay_exponents(k**-2.0 * (1 + 30 / k), windows=6, start=10)
    ex = [e for _, _, e, _ in loc]
    assert all(b < a for a, b in zip(ex, ex[1:], strict=False)) and 2.0 < ex[-1] < 2.05
    assert loc[0][3] > loc[-1][3] > 0
    with pytest.raises(ValueError, match="too short"):
        sj.local_decay_exponents(k[:20] ** -2.0, windows=8, start=8)
    with pytest.raises(ValueError, match="must be positive"):
        sj.local_decay_exponents(np.r_[1.0, 0.5, -1.0, 0.1], windows=2, start=1)
