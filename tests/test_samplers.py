"""Quasi-uniform (direction, bias) designs cover the product measure on S^{d-1} x [lo, hi]."""

import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import spectral_jax as sj
from spectral_jax.domains import Box


@pytest.mark.parametrize("d", [1, 2, 3, 4, 5])
def test_shapes_norms_and_range(d):
    w, b = sj.quasi_uniform_parameters(257, d, -0.5, 2.0)
    w, b = np.asarray(w), np.asarray(b)
    assert w.shape == (257, d) and b.shape == (257,)
    np.testing.assert_allclose(np.linalg.norm(w, axis=1), 1.0, rtol=1e-12)
    assert b.min() >= -0.5 and b.max() < 2.0


def _box_discrepancy(u, v, rng, boxes=400):
    """max over random boxes [a1,b1]x[a2,b2] of |fraction inside - area| (a star-type
    discrepancy estimate of points (u, v) in [0,1)^2)."""
    worst = 0.0
    for _ in range(boxes):
        a = np.sort(rng.random(2))
        c = np.sort(rng.random(2))
        inside = np.mean((u >= a[0]) & (u < a[1]) & (v >= c[0]) & (v < c[1]))
        worst = max(worst, abs(inside - (a[1] - a[0]) * (c[1] - c[0])))
    return worst


@pytest.mark.parametrize("d", [2, 3])
def test_product_measure_is_covered_with_low_discrepancy(d):
    n = 1024
    w, b = sj.quasi_uniform_parameters(n, d)
    w, b = np.asarray(w), np.asarray(b)
    # coordinates in which the product measure is uniform on [0,1)^2: an angle (2D) or
    # Archimedes' height (3D) of the direction, and the bias
    u = np.mod(np.arctan2(w[:, 1], w[:, 0]) / (2 * np.pi), 1.0) if d == 2 else (1 - w[:, 2]) / 2
    v = (b + 1) / 2
    rng = np.random.default_rng(0)
    ours = _box_discrepancy(u, v, rng)
    iid = _box_discrepancy(rng.random(n), rng.random(n), np.random.default_rng(0))
    # the old design paired the i-th direction with the i-th bias: all pairs on one curve
    old_u = (np.arange(n) + 0.0) / n
    old = _box_discrepancy(old_u, (np.arange(n) + 0.5) / n, np.random.default_rng(0))
    assert ours < 0.5 * iid  # low discrepancy: clearly better than i.i.d. (~n^-1/2)
    assert old > 0.2  # a curve misses most of the square
    assert ours < 0.02


def test_2d_relu_spectrum_matches_random_parameters_not_a_curve():
    """The decay rate of the 2-D ReLU Gram spectrum from the quasi-uniform design agrees
    with i.i.d. parameters (both sample the same product measure); pairing quasi-uniform
    directions with evenly spaced biases gives the 1-D rate k^-4 instead."""
    n = 300
    dom = Box.cube(2)

    def rate(w, b):
        lam = np.asarray(sj.eigh_spectrum(sj.gram_matrix("relu", w, b, dom)).eigenvalues)
        return sj.decay_rate(lam, fit_range=(10, 80)).rate

    quasi = rate(*sj.quasi_uniform_parameters(n, 2))
    rnd = np.mean(
        [
            rate(sj.random_directions(n, 2, key=jr.key(s)), sj.iid_biases(n, key=jr.key(s + 100)))
            for s in range(2)
        ]
    )
    curve = rate(sj.quasi_uniform_directions(n, 2), sj.uniform_biases(n, kind="midpoint"))
    assert abs(quasi - rnd) < 0.2, (quasi, rnd)
    assert curve > quasi + 0.7, (curve, quasi)


def test_bad_arguments():
    with pytest.raises(ValueError, match="quasi_uniform_parameters: n must be"):
        sj.quasi_uniform_parameters(0, 2)
    with pytest.raises(ValueError, match="need lo < hi"):
        sj.quasi_uniform_parameters(4, 2, 1.0, 1.0)


def test_shallow_parameters_rules_match_the_samplers():
    key = jr.key(3)
    kb, kw = jr.split(key)
    # 1D: the seeds' left rule and w = 1; d >= 2: midpoints
    w, b = sj.shallow_parameters(8)
    np.testing.assert_array_equal(np.asarray(b), -1 + 2 * np.arange(8) / 8)
    np.testing.assert_array_equal(np.asarray(w), np.ones((8, 1)))
    w, b = sj.shallow_parameters(8, 2, key=key)
    np.testing.assert_array_equal(np.asarray(b), -1 + 2 * (np.arange(8) + 0.5) / 8)
    ref = sj.random_directions(8, 2, key=kw, dtype="float32").astype(w.dtype)
    np.testing.assert_array_equal(np.asarray(w), np.asarray(ref))
    np.testing.assert_allclose(np.linalg.norm(np.asarray(w), axis=1), 1.0, rtol=1e-6)
    # iid biases are drawn in float32: float32 and float64 networks agree
    b64 = sj.shallow_parameters(8, bias_rule="iid", key=key, dtype="float64")[1]
    b32 = sj.shallow_parameters(8, bias_rule="iid", key=key, dtype="float32")[1]
    np.testing.assert_array_equal(np.asarray(b64), np.asarray(b32, np.float64))
    # quasi + uniform: the product-space design; quasi + iid: the direction lattice
    w, b = sj.shallow_parameters(16, 3, directions="quasi")
    w2, b2 = sj.quasi_uniform_parameters(16, 3)
    np.testing.assert_array_equal(np.asarray(w), np.asarray(w2))
    w, _ = sj.shallow_parameters(16, 3, directions="quasi", bias_rule="iid", key=key)
    np.testing.assert_array_equal(np.asarray(w), np.asarray(sj.quasi_uniform_directions(16, 3)))
    # endpoints and the golden-angle lattice: theta_i = 2 pi i / phi
    w, b = sj.shallow_parameters(5, 2, bias_rule="endpoints", directions="golden")
    np.testing.assert_allclose(np.asarray(b), np.linspace(-1, 1, 5), rtol=0, atol=1e-15)
    t = 2 * np.pi * np.arange(5) * 2 / (1 + np.sqrt(5))
    np.testing.assert_allclose(np.asarray(w), np.stack([np.cos(t), np.sin(t)], -1), atol=1e-14)
    w, _ = sj.shallow_parameters(4, directions="alternating")
    np.testing.assert_array_equal(np.asarray(w)[:, 0], [1, -1, 1, -1])


def test_shallow_parameters_adaptive_clusters_at_the_steep_part():
    # f = arctan(25 x): |f'| peaks at 0, so the adaptive biases crowd there; F(b_i) = i/(n-1)
    _, b = sj.shallow_parameters(21, bias_rule="adaptive", target=lambda x: jnp.arctan(25 * x))
    b = np.asarray(b)
    F = (np.arctan(25 * b) + np.arctan(25)) / (2 * np.arctan(25))
    np.testing.assert_allclose(F, np.arange(21) / 20, atol=2e-4)
    _, b2 = sj.shallow_parameters(21, bias_rule="adaptive", target="arctan25")
    np.testing.assert_allclose(np.asarray(b2), b, atol=1e-9)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"bias_rule": "grid"}, "bias_rule must be one of"),
        ({"directions": "spiral"}, "directions must be one of"),
        ({"dim": 2, "directions": "ones"}, "is for dim=1"),
        ({"dim": 2, "bias_rule": "adaptive", "target": "sin"}, "1-D only"),
        ({"bias_rule": "iid"}, "needs a PRNG key"),
        ({"dim": 2}, "needs a PRNG key"),
        ({"bias_rule": "adaptive"}, "needs a target"),
        ({"target": "sin"}, "target applies only"),
        ({"bias_range": (1.0, -1.0)}, "lo < hi"),
    ],
)
def test_shallow_parameters_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sj.shallow_parameters(8, **kwargs)


def test_alternating_network():
    net = sj.alternating_network(6, "tanh")
    np.testing.assert_allclose(np.asarray(net.outer), np.array([1, -1, 1, -1, 1, -1]) / 6)
    np.testing.assert_array_equal(np.asarray(net.biases), -1 + 2 * np.arange(6) / 6)
    x = np.linspace(-1, 1, 7)[:, None]
    ref = (np.tanh(x - np.asarray(net.biases)[None, :]) @ np.asarray(net.outer)).ravel()
    np.testing.assert_allclose(np.asarray(net.batch(x)), ref, rtol=1e-13)
    assert sj.alternating_network(4, scale=1.0).outer[0] == 1.0


def test_sampler_dimension_keyword_d_is_deprecated():
    ref = sj.quasi_uniform_directions(5, 2)
    with pytest.warns(DeprecationWarning, match="use dim"):
        got = sj.quasi_uniform_directions(5, d=2)
    np.testing.assert_array_equal(np.asarray(got), np.asarray(ref))
    with pytest.raises(ValueError, match="dim must be a positive integer"):
        sj.random_directions(5, 0, key=jr.key(0))
