"""Radon-spline coordinates, kernel vs adaptive regime, breakplane clustering, data sets."""

import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from spectral_jax.networks import ShallowNetwork, feature_matrix
from spectral_jax.radon import (
    breakplane_distances,
    cluster_count,
    from_radon,
    kernel_gradient_descent,
    kernel_min_norm_fit,
    load_dataset,
    to_radon,
    train_adaptive,
    zero_plane_similarity,
)


@pytest.mark.parametrize("act", ["relu", "relu3", "tanh", "gelu"])
def test_radon_round_trip(act, key):
    k1, k2, k3, k4 = jr.split(key, 4)
    net = ShallowNetwork(jr.normal(k1, (17,)), jr.normal(k2, (17, 3)), jr.normal(k3, (17,)), act)
    c = to_radon(net)
    np.testing.assert_allclose(jnp.linalg.norm(c.xi, axis=1), 1.0, rtol=1e-14)
    back = from_radon(c, act)
    for f in ("outer", "weights", "biases"):
        np.testing.assert_allclose(getattr(back, f), getattr(net, f), rtol=1e-14, atol=1e-15)
    x = jr.normal(k4, (9, 3))
    np.testing.assert_allclose(back.batch(x), net.batch(x), rtol=1e-13)
    # breakplane: w.x = b  <=>  xi.x = gamma
    p = c.gamma[:, None] * c.xi  # the foot of each breakplane
    np.testing.assert_allclose(jnp.sum(net.weights * p, axis=1), net.biases, rtol=1e-12, atol=1e-14)


def test_homogeneous_network_depends_on_xi_gamma_mu_only(key):
    k1, k2, k3 = jr.split(key, 3)
    net = ShallowNetwork(jr.normal(k1, (8,)), jr.normal(k2, (8, 2)), jr.normal(k3, (8,)), "relu2")
    c = to_radon(net)
    scaled = from_radon(type(c)(c.xi, c.gamma, c.mu, 3.7 * c.omega, c.degree), "relu2")
    x = jr.normal(k1, (11, 2))
    np.testing.assert_allclose(scaled.batch(x), net.batch(x), rtol=1e-12)


def test_radon_bad_input():
    net = ShallowNetwork(jnp.ones(2), jnp.array([[1.0, 0.0], [0.0, 0.0]]), jnp.zeros(2))
    with pytest.raises(ValueError, match="neuron 1 has w = 0"):
        to_radon(net)
    good = to_radon(ShallowNetwork(jnp.ones(1), jnp.ones((1, 1)), jnp.zeros(1)))
    with pytest.raises(ValueError, match="homogeneity degree 1 but activation 'tanh' has degree 0"):
        from_radon(good, "tanh")


def test_kernel_gd_limit_is_min_norm(key):
    x = jnp.array([[-0.75], [-0.25], [0.25], [0.75]])
    y = jnp.sin(3 * x[:, 0])
    kb, kw = jr.split(key)
    b = jr.uniform(kb, (60,), minval=-1.0, maxval=1.0)
    w = jnp.where(jr.normal(kw, (60, 1)) > 0, 1.0, -1.0)
    F = feature_matrix("relu", w, b, x)
    assert np.linalg.cond(np.asarray(F @ F.T)) < 1e4  # GD converges in the steps below
    a_star = kernel_min_norm_fit(F, y)
    # independent reference: the pseudo-inverse in NumPy
    np.testing.assert_allclose(
        a_star, np.linalg.pinv(np.asarray(F)) @ np.asarray(y), rtol=1e-8, atol=1e-10
    )
    a_gd, losses = kernel_gradient_descent(F, y, steps=20000)
    assert float(losses[-1]) < 1e-10
    assert np.max(np.abs(a_gd - a_star)) / np.max(np.abs(a_star)) < 1e-4
    with pytest.raises(ValueError, match="y must have shape"):
        kernel_min_norm_fit(F, y[:3])


def test_adaptive_training_and_clustering(key):
    k1, k2 = jr.split(key)
    x, y = load_dataset("bumps", 48)
    net = ShallowNetwork(
        0.01 * jr.normal(k1, (24,)),
        jnp.where(jr.normal(k2, (24, 1)) > 0, 1.0, -1.0),
        jnp.linspace(-0.95, 0.95, 24),
        "relu",
    )
    tr = train_adaptive(
        net, x, y, steps=600, learning_rate=0.05, record_every=100, optimizer="adam"
    )
    assert tr.xi.shape == (6, 24, 1) and tr.losses.shape == (600,)
    assert float(tr.losses[-1]) < 0.5 * float(tr.losses[0])
    frozen = train_adaptive(
        tr.network, x, y, steps=100, learning_rate=0.01, record_every=50, train=("outer",)
    )
    np.testing.assert_array_equal(frozen.gamma[-1], tr.gamma[-1])  # switch: breakplanes frozen
    with pytest.raises(ValueError, match="multiple of record_every"):
        train_adaptive(net, x, y, steps=10, record_every=3)


def test_similarity_and_cluster_count():
    xi = jnp.array([[1.0, 0.0], [-1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    gamma = jnp.array([0.5, -0.5, 0.52, 0.0])  # planes 0, 1 identical (sign flip), 2 close
    d = breakplane_distances(xi, gamma)
    assert float(d[0, 1]) == 0.0 and abs(float(d[0, 2]) - 0.02) < 1e-12
    s = zero_plane_similarity(xi, gamma, tau=0.1)
    np.testing.assert_allclose(s[0, 2], np.exp(-0.5 * 0.2**2), rtol=1e-12)
    assert cluster_count(xi, gamma, tau=0.1) == 2
    assert cluster_count(xi, gamma, tau=0.01) == 3


def test_datasets():
    x, y = load_dataset("terrain", 12)
    assert (
        x.shape == (144, 2)
        and abs(float(jnp.mean(y))) < 1e-12
        and abs(float(jnp.std(y)) - 1) < 1e-12
    )
    x, y = load_dataset("ring_fourier", 5)
    assert x.shape == (25, 2)
    with pytest.raises(ValueError, match="unknown data set 'mnist'"):
        load_dataset("mnist")
