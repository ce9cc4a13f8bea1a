"""Spectra: eigh vs SciPy, eigenfunction normalisation, decay fits, resolvable modes."""

import numpy as np
import pytest
import scipy.linalg
from helpers import rel_err

from spectral_jax.domains import Interval
from spectral_jax.gram import relu_gram_1d, relu_power_gram_1d
from spectral_jax.networks import uniform_biases
from spectral_jax.quadrature import composite_gauss
from spectral_jax.spectrum import (
    condition_number,
    decay_rate,
    eigenfunctions,
    eigh_spectrum,
    plot_eigenfunctions,
    plot_spectrum,
    predicted_resolvable_frequency,
    resolvable_modes,
)


def test_eigh_matches_scipy():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(60, 60))
    A = A + A.T
    s = eigh_spectrum(A)
    ref = scipy.linalg.eigh(A, eigvals_only=True)[::-1]
    assert rel_err(s.eigenvalues, ref) < 1e-13
    assert np.all(np.diff(np.asarray(s.eigenvalues)) <= 0)
    V = np.asarray(s.eigenvectors)
    assert rel_err(A @ V, V * np.asarray(s.eigenvalues)[None, :]) < 1e-12
    s5 = eigh_spectrum(A, k=5)
    assert s5.eigenvalues.shape == (5,) and s5.eigenvectors.shape == (60, 5)


def test_eigh_float32():
    A = np.diag(np.arange(1.0, 6.0))
    s = eigh_spectrum(A, dtype="float32")
    assert s.eigenvalues.dtype == np.float32
    np.testing.assert_allclose(s.eigenvalues, [5, 4, 3, 2, 1], rtol=1e-6)


def test_eigh_bad_input(no_x64):
    with pytest.raises(
        ValueError, match="eigh_spectrum: matrix must be symmetric; got relative asymmetry"
    ):
        eigh_spectrum(np.array([[1.0, 2.0], [0.0, 1.0]]), dtype="float32")
    with pytest.raises(ValueError, match="eigh_spectrum: matrix must contain only finite values"):
        eigh_spectrum(np.array([[1.0, np.nan], [np.nan, 1.0]]), dtype="float32")
    with pytest.raises(ValueError, match="eigh_spectrum: matrix must be square"):
        eigh_spectrum(np.ones((2, 3)), dtype="float32")
    with pytest.raises(
        ValueError, match="eigh_spectrum: float64 was requested but JAX's x64 mode is off"
    ):
        eigh_spectrum(np.eye(2), dtype="float64")


def test_eigenfunctions_orthonormal_in_L2():
    n = 40
    b = uniform_biases(n)
    w = np.ones((n, 1))
    s = eigh_spectrum(relu_gram_1d(b), k=6)
    rule = composite_gauss(Interval(), np.asarray(b), 2)  # exact for products of ReLU features
    psi = np.asarray(eigenfunctions(s, "relu", w, b, rule.nodes))
    M = psi.T @ (np.asarray(rule.weights)[:, None] * psi)
    assert np.max(np.abs(M - np.eye(6))) < 1e-9


def test_decay_fit_recovers_synthetic_rate():
    k = np.arange(1, 501, dtype=float)
    lam = 3.0 * k**-4.0
    f = decay_rate(lam, fit_range=(5, 200))
    assert abs(f.rate - 4.0) < 1e-10 and abs(f.constant - 3.0) < 1e-9 and f.r_squared > 1 - 1e-12
    # automatic range stops before a precision floor (plateau at 1e-14)
    noisy = np.maximum(lam, 1e-14 * (1 + 0.3 * np.sin(k)))
    fa = decay_rate(noisy)
    assert abs(fa.rate - 4.0) < 1e-3
    assert 3.0 * fa.fit_range[1] ** -4.0 > 100 * fa.floor


def test_relu_rates_1d():
    """1D ReLU^p spectra decay like k^-(2p+2) (ReLU: the seeds' k^-4)."""
    b = uniform_biases(300)
    for p, rate in [(1, 4.0), (2, 6.0), (3, 8.0)]:
        f = decay_rate(eigh_spectrum(relu_power_gram_1d(p, b)).eigenvalues)
        assert abs(f.rate - rate) < 0.1 * rate if p > 1 else abs(f.rate - rate) < 0.05, (p, f)


def test_resolvable_modes_synthetic():
    lam = 10.0 ** -np.arange(0, 20, dtype=float)  # 1, 0.1, ..., 1e-19
    # threshold n eps lambda_1 = 20 * 2^-52 ~ 4.4e-15: modes 1..15 (>= 1e-14)
    assert resolvable_modes(lam, np.float64) == 15
    assert resolvable_modes(lam, 1e-3, n=1) == 3
    assert resolvable_modes(lam, np.float32) == 6  # 20 * 2^-23 ~ 2.4e-6
    with pytest.raises(ValueError, match="resolvable_modes: eps must lie in"):
        resolvable_modes(lam, 2.0)


def test_predicted_frequency_and_condition():
    assert predicted_resolvable_frequency(1, np.float64) == pytest.approx(8192.0, rel=1e-12)
    assert predicted_resolvable_frequency(10, 2.0**-52) == pytest.approx(16.0, rel=1e-12)
    assert predicted_resolvable_frequency(3, np.float64) == pytest.approx(2 ** (52 / 6), rel=1e-12)
    assert condition_number(np.array([4.0, 2.0, 0.5])) == 8.0
    assert condition_number(np.array([1.0, 0.0])) == float("inf")
    with pytest.raises(ValueError, match="decay_rate: fit_range must satisfy"):
        decay_rate(np.ones(10), fit_range=(0, 5))


def test_plots(tmp_path):
    k = np.arange(1, 51, dtype=float)
    lam = k**-4.0
    f = decay_rate(lam, fit_range=(2, 40))
    p, q = tmp_path / "s.png", tmp_path / "e.png"
    plot_spectrum([lam], p, labels=["x"], fits=[f], floor=1e-12)
    assert p.exists() and p.stat().st_size > 1000
    x = np.linspace(-1, 1, 50)
    plot_eigenfunctions(x, np.stack([x, x**2], 1), q)
    assert q.exists()
