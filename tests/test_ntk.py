"""Empirical NTK: the paths against each other and against a hand-contracted Jacobian;
blocking, recompiles, NTK-vector products, Lanczos, the limit kernel, coercivity, errors."""

import equinox as eqx
import jax
import jax.flatten_util  # noqa: F401
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from helpers import RTOL, fitted_order, rel_err

from spectral_jax.domains import Interval
from spectral_jax.networks import MLP, ShallowNetwork
from spectral_jax.ntk import (
    choose_method,
    empirical_ntk,
    lanczos_eigvalsh,
    limit_mc_constant,
    limit_ntk,
    limit_ntk_eigenvalues,
    ntk_coercivity,
    ntk_operator_eigenvalues,
    ntk_vector_product,
    nystrom_eigenvalues,
    structured_ntk,
    welper_shallow_network,
)
from spectral_jax.quadrature import gauss_legendre


def _hand_jacobian(model, x, spec):
    """The explicit Jacobian: one `jax.grad` per input and output of the flattened
    parameters, stacked in NumPy; the caller contracts J J^T by hand."""
    params, static = eqx.partition(model, spec)
    flat, unravel = jax.flatten_util.ravel_pytree(params)

    def f(theta, xi):
        return jnp.ravel(eqx.combine(unravel(theta), static)(xi))

    jac = jax.jit(jax.jacrev(f))
    rows = [np.asarray(jac(flat, jnp.asarray(xi))) for xi in np.asarray(x)]  # (O, P) each
    return np.concatenate(rows), rows[0].shape[0]


@pytest.fixture
def mlp(key):
    return MLP(2, (8, 8), 3, "tanh", key=key)


@pytest.mark.parametrize(
    "method,dtype",
    [
        # jacfwd: its trace on eqx.nn.MLP in test_equinox_mlp_matches_jacrev, its full
        # output against the NTK-vector product in test_ntk_vector_product
        pytest.param("jacfwd", "float64", marks=pytest.mark.slow),
        ("jacrev", "float64"),
        ("ntvp", "float64"),
        ("jacrev", "float32"),
        pytest.param("ntvp", "float32", marks=pytest.mark.slow),
        pytest.param("jacfwd", "float32", marks=pytest.mark.slow),
        pytest.param("auto", "float64", marks=pytest.mark.slow),
    ],
)
def test_paths_match_hand_contraction(mlp, key, method, dtype):
    x = jr.normal(key, (5, 2))
    spec = jax.tree_util.tree_map(lambda leaf: eqx.is_inexact_array(leaf), mlp)
    j, o = _hand_jacobian(mlp, x, spec)
    kfull = (j @ j.T).reshape(5, o, 5, o).transpose(0, 2, 1, 3)
    got = empirical_ntk(mlp, x, method=method, output="full", dtype=dtype)
    assert got.dtype == jnp.dtype(dtype)
    tol = 1e-12 if dtype == "float64" else 1e-5
    assert rel_err(got, kfull) < tol
    tr = empirical_ntk(mlp, x, method=method, dtype=dtype)
    assert rel_err(tr, np.trace(kfull, axis1=2, axis2=3)) < tol


def test_symmetric_contraction_matches_hand(key):
    """K(x, x) (x2=None) is assembled from the upper block triangle of J J^T once N >= 64;
    it must equal the hand-contracted Jacobian, for the trace and the full output."""
    mlp = MLP(2, (4,), 2, "tanh", key=key)
    x = jr.normal(key, (65, 2))
    spec = jax.tree_util.tree_map(lambda leaf: eqx.is_inexact_array(leaf), mlp)
    j, o = _hand_jacobian(mlp, x, spec)
    kfull = (j @ j.T).reshape(65, o, 65, o).transpose(0, 2, 1, 3)
    assert rel_err(empirical_ntk(mlp, x, method="jacrev", output="full"), kfull) < 1e-12
    got = empirical_ntk(mlp, x, method="jacrev")
    assert rel_err(got, np.trace(kfull, axis1=2, axis2=3)) < 1e-12
    np.testing.assert_array_equal(np.asarray(got), np.asarray(got).T)


def test_auto_rule():
    assert choose_method(3 * 512, 1) == "jacrev"
    assert choose_method(4, 10) == "jacfwd"


@pytest.mark.parametrize(
    "method",
    [
        "jacrev",
        pytest.param("jacfwd", marks=pytest.mark.slow),
        pytest.param("ntvp", marks=pytest.mark.slow),
    ],
)
def test_blocking_identical(mlp, key, method):
    x1, x2 = jr.normal(key, (11, 2)), jr.normal(jr.fold_in(key, 1), (7, 2))
    ref = empirical_ntk(mlp, x1, x2, method=method)
    for b in (3, 20):
        got = empirical_ntk(mlp, x1, x2, method=method, block_size=b)
        assert got.shape == (11, 7)
        assert rel_err(got, ref) < 1e-14


def test_no_recompiles(mlp, key):
    from spectral_jax.ntk import _empirical

    x = jr.normal(key, (6, 2))
    counted = eqx.debug.assert_max_traces(
        lambda m, xx: empirical_ntk(m, xx, method="jacrev"), max_traces=1
    )
    jitted = eqx.filter_jit(counted)
    jitted(mlp, x)
    empirical_ntk(mlp, x, method="jacrev", block_size=4)
    n0 = eqx.debug.get_num_traces(_empirical._ntk_traced)
    for s in range(3):
        jitted(mlp, x + s)
        empirical_ntk(mlp, x + s, method="jacrev", block_size=4)
    mlp2 = eqx.tree_at(lambda m: m.layers[0].bias, mlp, mlp.layers[0].bias + 1.0)
    empirical_ntk(mlp2, x, method="jacrev", block_size=4)
    assert eqx.debug.get_num_traces(_empirical._ntk_traced) == n0


@pytest.mark.slow
def test_trainable_selections(key):
    mlp = MLP(1, (6, 5), activation="tanh", key=key)
    x = jr.normal(key, (4, 1))
    for name, sel in [
        ("second_to_last", lambda m: (m.layers[-2].weight, m.layers[-2].bias)),
        ("outer", lambda m: (m.layers[-1].weight, m.layers[-1].bias)),
    ]:
        spec = jax.tree_util.tree_map(lambda _: False, mlp)
        spec = eqx.tree_at(sel, spec, replace=(True, True))
        j, _ = _hand_jacobian(mlp, x, spec)
        assert rel_err(empirical_ntk(mlp, x, trainable=name), j @ j.T) < RTOL["float64"]
        assert rel_err(empirical_ntk(mlp, x, trainable=spec), j @ j.T) < RTOL["float64"]
    # predicate: 2-D leaves are the weights
    a = empirical_ntk(mlp, x, trainable=lambda leaf: leaf.ndim == 2)
    assert rel_err(a, empirical_ntk(mlp, x, trainable="weights")) < RTOL["float64"]


def test_ntk_vector_product(mlp, key):
    x = jr.normal(key, (6, 2))
    v = jr.normal(jr.fold_in(key, 2), (6, 3))
    kfull = empirical_ntk(mlp, x, output="full", method="jacfwd")
    assert (
        rel_err(ntk_vector_product(mlp, x, v), jnp.einsum("ijab,jb->ia", kfull, v))
        < RTOL["float64"]
    )


def test_lanczos_matches_eigh(key):
    a = jr.normal(key, (60, 60))
    a = a @ a.T
    ref = np.sort(np.linalg.eigvalsh(np.asarray(a)))[::-1][:5]
    got = lanczos_eigvalsh(lambda v: a @ v, 60, 5, num_iter=60, key=key)
    assert rel_err(got, ref) < 1e-10


@pytest.mark.slow
def test_operator_eigenvalues_lanczos_vs_dense(key):
    net = welper_shallow_network(300, key=key)
    dense = ntk_operator_eigenvalues(net, trainable="biases", n_points=120, k=6)
    lan = ntk_operator_eigenvalues(
        net, trainable="biases", n_points=120, k=6, lanczos=True, key=key
    )
    assert rel_err(lan, dense) < 1e-10


def test_limit_eigenvalues_converge_to_closed_form():
    """Nyström of K_inf = (1 + min)/2 -> 2/((k-1/2)^2 pi^2), second order in h (kink)."""
    errs, hs = [], []
    for panels in (8, 16, 32):
        rule = gauss_legendre(Interval(), 4, panels=panels)
        ev = nystrom_eigenvalues(limit_ntk(rule.nodes), rule.weights)[:4]
        errs.append(rel_err(ev, limit_ntk_eigenvalues(4)))
        hs.append(2.0 / panels)
    assert errs[-1] < 2e-4
    assert fitted_order(hs, errs) > 1.8


def test_limit_mc_constant_by_quadrature():
    rule = gauss_legendre(Interval(), 8, panels=16)
    p = np.asarray(limit_ntk(rule.nodes))
    q = np.asarray(rule.weights)
    assert abs(q @ (p * (1 - p)) @ q - limit_mc_constant()) < 1e-3


def test_finite_width_converges_to_limit(key):
    rule = gauss_legendre(Interval(), 4, panels=16)
    kinf = limit_ntk(rule.nodes)
    ms = [64, 256, 1024]  # each width compiles once; seeds are nearly free
    errs = []
    for m in ms:
        e2 = []
        for s in range(12):
            net = welper_shallow_network(m, key=jr.fold_in(key, 100 * m + s))
            km = structured_ntk(net, rule.nodes, trainable="biases")
            e2.append(float(rule.weights @ ((km - kinf) ** 2) @ rule.weights))
        errs.append(np.sqrt(np.mean(e2)))
    rate = fitted_order(ms, errs)
    assert -0.65 < rate < -0.35
    # the law-of-large-numbers constant: E||K_m - K_inf||^2 = (2/3)/m
    assert np.allclose(np.square(errs) * np.asarray(ms), limit_mc_constant(), rtol=0.5)


def test_coercivity_limit_kernel_is_h_minus_one():
    est = ntk_coercivity(limit_ntk, 32, n_points=256)
    assert 1.7 < est.exponent < 2.2  # eigenvalues ~ omega^-2
    assert 0.85 <= est.s <= 1.1
    assert est.constant > 0


@pytest.mark.slow
def test_coercivity_smooth_activation_has_no_finite_s():
    net = ShallowNetwork(
        jnp.ones(64) / 8,
        jnp.where(jnp.arange(64) % 2 == 0, 1.0, -1.0),
        jnp.linspace(-1, 1, 64),
        "tanh",
    )
    est = ntk_coercivity(
        lambda a, b: structured_ntk(net, a, b, trainable="biases"), 32, n_points=256
    )
    assert est.exponent > 6


# ---------------------------------------------------------------- bad input
def test_bad_inputs(mlp, key):
    x = jr.normal(key, (4, 2))
    with pytest.raises(ValueError, match="selects no floating-point array"):
        empirical_ntk(mlp, x, trainable=lambda leaf: False)
    with pytest.raises(ValueError, match=r"x1 must have shape \(N, 2\).*got \(4, 3\)"):
        empirical_ntk(mlp, jnp.ones((4, 3)))
    with pytest.raises(ValueError, match="x1 must contain only finite values"):
        empirical_ntk(mlp, x.at[0, 0].set(jnp.nan))
    bad = eqx.tree_at(lambda m: m.layers[0].bias, mlp, mlp.layers[0].bias.at[0].set(jnp.inf))
    with pytest.raises(ValueError, match=r"model parameter .*layers.*bias.* NaN/inf"):
        empirical_ntk(bad, x)
    with pytest.raises(ValueError, match="block_size must be a positive integer or None; got 0"):
        empirical_ntk(mlp, x, block_size=0)
    with pytest.raises(ValueError, match="method must be one of"):
        empirical_ntk(mlp, x, method="magic")
    with pytest.raises(ValueError, match="structured_ntk covers ShallowNetwork"):
        empirical_ntk(mlp, x, method="structured")
    with pytest.raises(ValueError, match="not a known selection"):
        empirical_ntk(mlp, x, trainable="gamma")


def test_generic_model_shape_mismatch(key):
    lin = eqx.nn.Linear(3, 1, key=key)
    with pytest.raises(ValueError, match="cannot be applied to one input of shape"):
        empirical_ntk(lin, jnp.ones((4, 2)))
    k = empirical_ntk(lin, jnp.ones((4, 3)))
    assert np.allclose(k, 3.0 + 1.0)  # weights give x.x' = 3, bias gives 1


def test_float64_without_x64(no_x64, mlp):
    with pytest.raises(ValueError, match="float64 was requested but JAX's x64 mode is off"):
        empirical_ntk(mlp, jnp.ones((2, 2), jnp.float32), dtype="float64")


# --- plain Equinox models (issue 16): non-array leaves, scalar and size-1 outputs ---------
def _jjt(model, x):
    """J J^T by jax.jacrev of the flattened parameters, all inputs at once (float64)."""
    params, static = eqx.partition(model, eqx.is_inexact_array)
    flat, unravel = jax.flatten_util.ravel_pytree(params)

    def f(theta):
        out = jax.vmap(eqx.combine(unravel(theta), static))(x)
        return out.reshape(x.shape[0], -1).sum(axis=1)  # one output per input here

    j = np.asarray(jax.jacrev(f)(flat))
    return j @ j.T


_ACTS = {"tanh": jnp.tanh, "relu": jax.nn.relu, "lambda": lambda z: jnp.sin(z) + 0.5 * z}


# default: a lambda activation with a scalar output, a library one with a size-1 output
_FAST = {("lambda", "scalar"), ("relu", 1)}


@pytest.mark.parametrize(
    "act,out_size",
    [
        pytest.param(a, o, marks=() if (a, o) in _FAST else pytest.mark.slow)
        for a in sorted(_ACTS)
        for o in ("scalar", 1)
    ],
)
def test_equinox_mlp_matches_jacrev(act, out_size, key):
    kx, km = jr.split(key)
    model = eqx.nn.MLP(2, out_size, 6, 2, activation=_ACTS[act], key=km)
    x = jr.uniform(kx, (7, 2), jnp.float64, -1, 1)
    ref = _jjt(model, x)
    for method in ("jacfwd", "jacrev", "ntvp"):
        k = empirical_ntk(model, x, method=method)
        assert k.shape == (7, 7)
        assert rel_err(k, ref) < 1e-12, method
    v = jr.normal(kx, (7,) if out_size == "scalar" else (7, 1), jnp.float64)
    kv = ntk_vector_product(model, x, v)
    assert kv.shape == v.shape
    assert rel_err(np.asarray(kv).ravel(), ref @ np.asarray(v).ravel()) < 1e-12
    if out_size == "scalar":  # top-k operator spectrum (Lanczos needs a scalar output)
        rule = gauss_legendre(Interval(), 6)
        nodes2 = jnp.stack([rule.nodes[:, 0], rule.nodes[::-1, 0] * 0.5], -1)
        from spectral_jax.quadrature import QuadratureRule

        r2 = QuadratureRule(nodes2, rule.weights)
        s = np.sqrt(np.asarray(rule.weights))
        want = np.sort(np.linalg.eigvalsh(s[:, None] * _jjt(model, nodes2) * s[None, :]))[::-1]
        top = ntk_operator_eigenvalues(model, rule=r2, k=3, lanczos=True, key=key)
        dense = ntk_operator_eigenvalues(model, rule=r2, k=3)
        assert rel_err(top, want[:3]) < 1e-12 and rel_err(dense, want[:3]) < 1e-12
