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
    with pytest.raises(ValueError, match="dim must be an integer >= 1"):
        spectral_penalty("relu", K, 0)
    with pytest.raises(NotImplementedError, match="Dirac"):
        spectral_penalty("sine", K, method="closed")
    assert choose_derivative_order("gelu")[0] == 2


@pytest.mark.parametrize("name", ["relu", "relu3", "tanh", "gelu", "gaussian", "sigmoid"])
def test_fft_summation_equals_direct_sum_and_closed_form(name):
    """Uniformly spaced k: the zero-padded FFT bins are the same sums as the direct DTFT
    (same grid), so the two agree far below the accuracy, and both match the closed form."""
    k = jnp.linspace(0.25, 8.0, 125)  # 125 >= 32 uniformly spaced: 'auto' takes the FFT
    acc = 1e-8
    rf = activation_spectrum(name, k, accuracy=acc, full_output=True)
    rd = activation_spectrum(name, k, accuracy=acc, full_output=True, method="direct")
    assert rf.method == "fft" and rd.method == "direct"
    # Delta k = 1/16 and the first step pi/32 give P_0 = 1024 (already a fast length):
    # both routes refine through the same grids
    assert rf.step == rd.step and rf.points == rd.points
    ref = np.asarray(get_activation(name).fourier_sq(k))
    mask = np.asarray(rf.resolved) & np.asarray(rd.resolved)
    assert mask.sum() >= 40
    vf, vd = np.asarray(rf.values)[mask], np.asarray(rd.values)[mask]
    assert np.max(np.abs(vf / vd - 1)) < 1e-9, np.max(np.abs(vf / vd - 1))
    assert np.max(np.abs(vf / ref[mask] - 1)) < 20 * acc
    assert np.max(np.abs(vd / ref[mask] - 1)) < 20 * acc


def test_fft_band_with_offset_and_coarse_spacing():
    """k_0 != 0 (modulation) and Delta k > pi / L (oversampled FFT): still exact bins."""
    k = jnp.asarray(3.0 + 0.9 * np.arange(40))  # up to 38.1, spacing 0.9
    rf = activation_spectrum("relu", k, accuracy=1e-7, full_output=True, method="fft")
    ref = np.asarray(get_activation("relu").fourier_sq(k))
    mask = np.asarray(rf.resolved)
    assert mask.sum() >= 30
    assert np.max(np.abs(np.asarray(rf.values)[mask] / ref[mask] - 1)) < 2e-6


def test_next_fast_len_is_the_smallest_5_smooth_length():
    from spectral_jax.design._spectrum import _next_fast_len

    def smooth(n):
        for p in (2, 3, 5):
            while n % p == 0:
                n //= p
        return n == 1

    for n in list(range(1, 400)) + [1001, 4097, 65537, 100_003]:
        f = _next_fast_len(n)
        assert f >= n and smooth(f)
        assert all(not smooth(j) for j in range(n, f)), n


def test_method_errors():
    with pytest.raises(ValueError, match="method must be 'auto', 'fft' or 'direct'"):
        activation_spectrum("relu", K, method="nufft")
    with pytest.raises(ValueError, match="method='fft' needs >= 32 uniformly spaced"):
        activation_spectrum("relu", jnp.asarray(np.geomspace(0.3, 6.0, 40)), method="fft")
    # a log-spaced band takes the direct sum under 'auto'
    r = activation_spectrum("relu", jnp.asarray(np.geomspace(0.3, 6.0, 40)), full_output=True)
    assert r.method == "direct"


def test_penalty_dimension_keyword_D_is_deprecated():
    k = jnp.array([0.5, 1.0, 2.0])
    ref = np.asarray(spectral_penalty("relu", k, dim=2, method="closed"))
    with pytest.warns(DeprecationWarning, match="use dim"):
        got = spectral_penalty("relu", k, D=2, method="closed")
    np.testing.assert_array_equal(np.asarray(got), ref)
    np.testing.assert_allclose(ref, k**5, rtol=1e-14)  # rho = k^(D-1) k^4
    with pytest.raises(ValueError, match="give the dimension once"):
        with pytest.warns(DeprecationWarning):
            spectral_penalty("relu", k, dim=3, D=2)
