"""Domains, quadrature rules, samplers, networks, precision handling."""

import math

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from helpers import rel_err

import spectral_jax as sj


# -- precision ---------------------------------------------------------------------------
def test_float64_without_x64_is_a_clear_error(no_x64):
    with pytest.raises(ValueError, match="float64 was requested but JAX's x64 mode is off"):
        sj.uniform_biases(4, dtype="float64")
    assert sj.uniform_biases(4).dtype == jnp.float32


def test_float64_input_without_x64_warns_once(no_x64, monkeypatch):
    import warnings

    import spectral_jax._precision as prec
    from spectral_jax.networks import MLP
    from spectral_jax.ntk import empirical_ntk

    monkeypatch.setattr(prec, "_float64_warned", False)
    net = MLP(2, (3,), key=jr.key(0))
    x64 = np.linspace(-1, 1, 6).reshape(3, 2)  # NumPy float64
    with pytest.warns(
        prec.Float64InputWarning,
        match=r"empirical_ntk: x1 is a float64 .*enable jax_enable_x64 for float64",
    ):
        k = empirical_ntk(net, x64)
    assert k.dtype == jnp.float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        empirical_ntk(net, x64)  # once per process
        monkeypatch.setattr(prec, "_float64_warned", False)
        empirical_ntk(net, x64.astype(np.float32))  # float32 input: no warning
        empirical_ntk(net, x64, dtype="float32")  # an explicit downcast: no warning
        empirical_ntk(net, jnp.asarray(x64))  # a JAX array is float32 already
    assert not prec._float64_warned


def test_float64_input_with_x64_does_not_warn(monkeypatch):
    import warnings

    import spectral_jax._precision as prec

    monkeypatch.setattr(prec, "_float64_warned", False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prec.warn_float64_input(np.ones(3), "x", "f")
    assert not prec._float64_warned


def test_bad_dtype():
    with pytest.raises(ValueError, match="dtype must be"):
        sj.resolve_dtype("int8")
    assert sj.machine_epsilon(jnp.float32) == 2.0**-23


# -- domains ------------------------------------------------------------------------------
def test_domain_volumes_and_membership():
    assert sj.Interval(-1, 3).volume == 4
    assert sj.Box((0, 0), (2, 3)).volume == 6
    assert math.isclose(sj.Ball(3, 2.0).volume, 4 / 3 * math.pi * 8)
    assert math.isclose(sj.Ball(5).volume, 8 * math.pi**2 / 15)
    m = sj.Ball(2).contains(jnp.array([[0.5, 0.5], [0.8, 0.8]]))
    assert m.tolist() == [True, False]


@pytest.mark.parametrize(
    "make,msg",
    [
        (lambda: sj.Interval(1.0, 1.0), "lo < hi"),
        (lambda: sj.Interval(0.0, float("nan")), "finite"),
        (lambda: sj.Box((0, 0), (1, 0)), "non-degenerate"),
        (lambda: sj.Box((0,), (1, 2)), "same positive length"),
        (lambda: sj.Ball(2, 0.0), "radius must be positive"),
        (lambda: sj.Ball(0), "dimension must be a positive integer"),
    ],
)
def test_degenerate_domains(make, msg):
    with pytest.raises(ValueError, match=msg):
        make()


# -- quadrature ---------------------------------------------------------------------------
def test_gauss_legendre_exact_for_polynomials():
    r = sj.gauss_legendre(sj.Interval(-1, 2), 5)
    x = r.nodes[:, 0]
    # degree 9 is the highest exact degree for 5 points
    assert rel_err(r.integrate(x**9), (2**10 - 1) / 10) < 1e-14
    box = sj.gauss_legendre(sj.Box((0, 0), (1, 2)), 3)
    x, y = box.nodes[:, 0], box.nodes[:, 1]
    assert rel_err(box.integrate(x**5 * y**3), (1 / 6) * (16 / 4)) < 1e-14


def test_composite_gauss_exact_for_piecewise_polynomials():
    b = np.array([-0.7, -0.1, 0.35])
    r = sj.composite_gauss(sj.Interval(), b, 3)  # exact to degree 5 per panel
    x = r.nodes[:, 0]
    f = jnp.maximum(x + 0.1, 0) ** 2 * jnp.maximum(x - 0.35, 0) ** 3
    # closed form via numpy polynomial integration on [0.35, 1]
    p = np.polynomial.Polynomial([0.1, 1]) ** 2 * np.polynomial.Polynomial([-0.35, 1]) ** 3
    ref = p.integ()(1.0) - p.integ()(0.35)
    assert rel_err(r.integrate(f), ref) < 1e-14
    assert r.size == 3 * 4


def test_ball_rules_integrate_moments():
    r2 = sj.ball_rule(sj.Ball(2, 1.5), 8, 16)
    x = r2.nodes
    assert rel_err(r2.integrate(jnp.sum(x**2, 1) ** 2), 2 * math.pi * 1.5**6 / 6) < 1e-13
    r3 = sj.ball_rule(sj.Ball(3), 8, 8)
    x = r3.nodes
    assert rel_err(r3.integrate(x[:, 2] ** 2), 4 * math.pi / 15) < 1e-13
    with pytest.raises(ValueError, match="qmc_rule"):
        sj.ball_rule(sj.Ball(4), 4, 4)


def test_qmc_converges_and_estimate_error_bounds_it():
    ball = sj.Ball(2)
    f = lambda x: jnp.exp(x[:, 0]) * jnp.cos(x[:, 1])
    ref = sj.ball_rule(ball, 40, 80)
    exact = float(ref.integrate(f(ref.nodes)))
    ns = [500, 2000, 8000]
    errs = [
        abs(float(sj.qmc_rule(ball, n).integrate(f(sj.qmc_rule(ball, n).nodes))) - exact)
        for n in ns
    ]
    assert errs[-1] < 2e-3 * abs(exact)
    # on a box (no rejected boundary) QMC beats Monte Carlo's standard error by far
    box = sj.Box.cube(2)
    exact_box = (math.e - 1 / math.e) * 2 * math.sin(1.0)
    for n in (8000, 32000):
        r = sj.qmc_rule(box, n)
        vals = f(r.nodes)
        mc_std_err = 4.0 * float(jnp.std(vals)) / math.sqrt(n)
        assert abs(float(r.integrate(vals)) - exact_box) < 0.1 * mc_std_err


def test_estimate_error_tracks_true_error_of_kinked_integrand():
    # sqrt(1 + x) on (-1, 1): composite Gauss converges like panels^-1.5; the refinement
    # estimate |I_2l - I_l| must be within a factor ~[0.5, 2] of the true coarse error.
    g = lambda x: jnp.sqrt(1.0 + x[:, 0])
    exact = 2.0 / 3.0 * 2.0**1.5
    for level in (3, 7, 15):
        build = lambda p: sj.gauss_legendre(sj.Interval(), 2, panels=p)
        _, est = sj.estimate_error(g, build, level)
        coarse = build(level)
        true = abs(float(coarse.integrate(g(coarse.nodes))) - exact)
        assert 0.5 * true <= float(est) <= 2.0 * true


def test_rule_shape_errors():
    with pytest.raises(ValueError, match="order must be a positive integer"):
        sj.gauss_legendre(sj.Interval(), 0)
    with pytest.raises(ValueError, match="breakpoints must be finite"):
        sj.composite_gauss(sj.Interval(), np.array([0.0, np.nan]), 2)
    with pytest.raises(ValueError, match="weights must have shape"):
        sj.QuadratureRule(jnp.zeros((3, 1)), jnp.zeros(2))


# -- samplers -------------------------------------------------------------------------------
def test_uniform_biases_seed_rule():
    b = sj.uniform_biases(4)
    assert np.allclose(b, [-1.0, -0.5, 0.0, 0.5])


def test_directions_on_sphere(key):
    for d in (1, 2, 3):
        w = sj.quasi_uniform_directions(64, d)
        assert np.allclose(jnp.linalg.norm(w, axis=1), 1.0)
    w = sj.random_directions(5000, 3, key=key)
    assert np.allclose(jnp.linalg.norm(w, axis=1), 1.0)
    assert np.abs(np.asarray(w).mean(0)).max() < 0.05
    f = sj.quasi_uniform_directions(2000, 3)
    assert np.abs(np.asarray(f).mean(0)).max() < 1e-3  # Fibonacci lattice is balanced


def test_adaptive_biases_equidistribute_variation():
    # f = x^2 on (0, 1): F(x) = x^2, so b_i = sqrt((i-1)/(n-1))
    b = sj.adaptive_biases(lambda x: x**2, 6, sj.Interval(0.0, 1.0))
    assert rel_err(b, np.sqrt(np.arange(6) / 5)) < 1e-6
    # linear f gives evenly spaced biases
    b = sj.adaptive_biases(lambda x: 3 * x, 5)
    assert rel_err(b, np.linspace(-1, 1, 5)) < 1e-9
    with pytest.raises(ValueError, match="constant"):
        sj.adaptive_biases(lambda x: 0.0 * x + 1.0, 5)
    with pytest.raises(TypeError, match="callable"):
        sj.adaptive_biases(3.0, 5)


# -- networks -------------------------------------------------------------------------------
def test_shallow_network_matches_manual_sum(key):
    k1, k2, k3 = jr.split(key, 3)
    w = sj.random_directions(7, 2, key=k1)
    b = sj.iid_biases(7, key=k2)
    a = jr.normal(k3, (7,))
    net = sj.ShallowNetwork(a, w, b, "tanh")
    x = jnp.array([[0.3, -0.2], [0.9, 0.1]])
    ref = np.tanh(np.asarray(x) @ np.asarray(w).T - np.asarray(b)) @ np.asarray(a)
    assert rel_err(net.batch(x), ref) < 1e-14
    assert rel_err(net(x[1]), ref[1]) < 1e-14
    assert (
        rel_err(
            sj.feature_matrix("tanh", w, b, x),
            np.tanh(np.asarray(x) @ np.asarray(w).T - np.asarray(b)),
        )
        < 1e-14
    )


def test_network_bad_input():
    with pytest.raises(ValueError, match="biases must contain only finite values"):
        sj.ShallowNetwork(jnp.ones(2), jnp.ones((2, 1)), jnp.array([0.0, jnp.nan]))
    with pytest.raises(ValueError, match="width must be positive"):
        sj.ShallowNetwork(jnp.ones(0), jnp.ones((0, 1)), jnp.ones(0))
    with pytest.raises(ValueError, match="dimension 2 but the directions"):
        sj.feature_matrix("relu", jnp.ones((3, 1)), jnp.zeros(3), jnp.ones((4, 2)))
    with pytest.raises(ValueError, match="x must have shape"):
        sj.ShallowNetwork(jnp.ones(2), jnp.ones((2, 1)), jnp.zeros(2))(jnp.ones(3))


def test_mlp_forward_and_grad(key):
    m = sj.MLP(2, [5, 4], activation="tanh", key=key)
    y = m(jnp.ones(2))
    assert y.shape == ()
    g = jax.grad(lambda mm: mm(jnp.ones(2)))(m)
    assert g.layers[-2].weight.shape == (4, 5)
    with pytest.raises(ValueError, match="widths"):
        sj.MLP(2, [], key=key)


def test_public_api_names_are_unique_and_resolve():
    import importlib

    import spectral_jax as sj

    assert len(sj.__all__) == len(set(sj.__all__)), "duplicate names in spectral_jax.__all__"
    for name in sj.__all__:
        assert hasattr(sj, name), name
    # a name exported by two sub-packages is one object (a re-export), never two concepts
    seen: dict = {}
    for sub in (
        "activations domains quadrature networks gram spectrum fit rashomon ntk dynamics "
        "design radon targets"
    ).split():
        mod = importlib.import_module(f"spectral_jax.{sub}")
        assert len(mod.__all__) == len(set(mod.__all__)), sub
        for name in mod.__all__:
            obj = getattr(mod, name)
            if name in seen:
                assert obj is seen[name][1], (name, seen[name][0], sub)
            seen[name] = (sub, obj)
            assert getattr(sj, name) is obj, (name, sub)
    with pytest.warns(DeprecationWarning, match="ActivationSpectrum"):
        assert sj.SpectrumResult is sj.ActivationSpectrum
