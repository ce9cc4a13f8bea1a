"""activation_spectrum (FFT/DTFT of a decaying derivative) against every closed form."""

import jax.numpy as jnp
import numpy as np
import pytest

from spectral_jax.activations import get_activation
from spectral_jax.design import activation_spectrum, choose_derivative_order, spectral_penalty

K = jnp.linspace(0.3, 8.0, 24)
ACC = 1e-6


@pytest.mark.parametrize(
    "name,order",
    [
        ("relu", 2),
        ("relu2", 3),
        ("relu3", 4),
        ("leaky_relu", 2),
        ("tanh", 1),
        ("sigmoid", 1),
        ("softplus", 2),
        ("gelu", 2),
        ("gaussian", 0),
        ("cauchy", None),
    ],
)
def test_fft_matches_closed_form(name, order):
    act = get_activation(name)
    r = activation_spectrum(act, K, accuracy=ACC, full_output=True)
    if order is not None:
        assert r.derivative_order == order
    ref = np.asarray(act.fourier_sq(K))
    mask = np.asarray(r.resolved)
    assert mask.sum() >= 10  # most of the band is above the rounding floor
    err = np.max(np.abs(np.asarray(r.values)[mask] / ref[mask] - 1))
    assert err < 20 * ACC, (name, err)


def test_k_zero_treatment():
    v = activation_spectrum("tanh", jnp.array([0.0, 1.0]))
    assert np.isinf(v[0]) and np.isfinite(v[1])
    g = activation_spectrum("gaussian", jnp.array([0.0]))  # decaying: |int phi|^2 = 2 pi
    assert abs(float(g[0]) / (2 * np.pi) - 1) < 1e-6


def test_penalty_normalisation():
    k = jnp.array([0.5, 1.0, 2.0])
    for D in (1, 2, 3):
        rho = spectral_penalty("relu", k, D)
        np.testing.assert_allclose(rho, np.asarray(k) ** (D - 1) * np.asarray(k) ** 4, rtol=1e-12)
    fft = spectral_penalty("tanh", k, 2, method="fft")
    np.testing.assert_allclose(fft, spectral_penalty("tanh", k, 2, method="closed"), rtol=1e-5)
    assert float(spectral_penalty("relu", jnp.array([0.0]), 2)[0]) == 0.0


def test_bad_input():
    with pytest.raises(ValueError, match="no derivative of 'sine'"):
        activation_spectrum("sine", K)
    with pytest.raises(ValueError, match="grid too coarse"):
        activation_spectrum("relu", jnp.array([50.0]), accuracy=1e-12, max_points=10_000)
    with pytest.raises(ValueError, match="k must be a 1-D"):
        activation_spectrum("relu", jnp.ones((2, 2)))
    with pytest.raises(ValueError, match="derivative_order=1 of 'relu' does not decay"):
        activation_spectrum("relu", K, derivative_order=1)
    with pytest.raises(ValueError, match="D must be an integer >= 1"):
        spectral_penalty("relu", K, 0)
    with pytest.raises(NotImplementedError, match="Dirac"):
        spectral_penalty("sine", K, method="closed")
    assert choose_derivative_order("gelu")[0] == 2
