"""Gram matrices: closed forms vs quadrature vs SciPy, blocking, sharding, Nyström, errors."""

import warnings

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from helpers import RTOL, fitted_order, rel_err
from multidevice import run_with_devices
from scipy.integrate import quad

from spectral_jax.activations import get_activation
from spectral_jax.domains import Box, Interval
from spectral_jax.gram import (
    gram_kernel_eigenvalues,
    gram_matrix,
    gram_matrix_with_error,
    relu_gram_1d,
    relu_power_gram_1d,
)
from spectral_jax.gram._assembly import assemble_gram
from spectral_jax.networks import uniform_biases
from spectral_jax.quadrature import gauss_legendre


def _scipy_gram(act, w, b, lo, hi):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # quad's roundoff notes at 1e-13
        return _scipy_gram_impl(act, w, b, lo, hi)


def _scipy_gram_impl(act, w, b, lo, hi):
    """Independent reference: adaptive quadrature with the kinks as break points."""
    n = len(b)
    kinks = [bi / wi for bi, wi in zip(b, w, strict=True) if wi != 0 and lo < bi / wi < hi]
    f = lambda x, i: float(act(w[i] * x - b[i]))  # noqa: E731
    G = np.empty((n, n))
    for i in range(n):
        for j in range(i, n):
            G[i, j] = G[j, i] = quad(
                lambda x, i=i, j=j: f(x, i) * f(x, j),
                lo,
                hi,
                points=kinks or None,
                epsabs=1e-14,
                epsrel=1e-13,
                limit=400,
            )[0]
    return G


@pytest.mark.parametrize("p", [1, 2, 3])
def test_relu_power_closed_form_vs_scipy(p):
    rng = np.random.default_rng(p)
    n = 6
    b = rng.uniform(-1.4, 1.4, n)
    s = rng.choice([-1.0, 1.0], n)
    D = Interval(-0.6, 1.3)
    G = relu_power_gram_1d(p, b, s, D)
    R = _scipy_gram(lambda z: max(z, 0.0) ** p, s, b, D.lo, D.hi)
    assert rel_err(G, R) < 1e-13


def test_relu_gram_matches_seed_formula():
    b = np.linspace(-1, 0.95, 9)
    bi, bj = b[:, None], b[None, :]
    seed = (
        np.abs(bi - bj) ** 3 / 12 + (2 - bi - bj) * (2 * (1 - bi) * (1 - bj) - (bi - bj) ** 2) / 12
    )
    assert rel_err(relu_gram_1d(b), seed) < 1e-15


def test_exact_composite_rule_vs_closed_form_n400():
    n = 400
    b = uniform_biases(n)
    w = jnp.ones((n, 1))
    G0 = relu_gram_1d(b)
    r = gram_matrix_with_error("relu", w, b, Interval(), method="exact")
    assert r.method == "exact" and r.rule.size == 2 * n + 0  # 2 points on n panels ((-1) is a kink)
    assert rel_err(r.matrix, G0) < RTOL["float64"]
    # auto picks the closed form and agrees
    r2 = gram_matrix_with_error("relu", w, b, Interval())
    assert r2.method == "closed_form"
    assert rel_err(r2.matrix, G0) < 1e-15


def test_general_weights_closed_form_vs_exact_rule():
    rng = np.random.default_rng(3)
    n = 30
    w = rng.uniform(0.3, 2.0, (n, 1)) * rng.choice([-1.0, 1.0], (n, 1))
    b = rng.uniform(-1, 1, n)
    for act in ["relu", "relu3"]:
        Gc = gram_matrix(act, w, b, Interval(-0.5, 2.0), method="closed_form")
        Ge = gram_matrix(act, w, b, Interval(-0.5, 2.0), method="exact")
        assert rel_err(Gc, Ge) < RTOL["float64"]


def test_tanh_gauss_refinement_vs_scipy():
    n = 8
    b = np.linspace(-0.9, 0.9, n)
    w = np.linspace(1.0, 8.0, n)
    r = gram_matrix_with_error("tanh", w[:, None], b, Interval())
    R = _scipy_gram(np.tanh, w, b, -1.0, 1.0)
    assert r.method == "gauss" and r.error_estimate < 1e-12
    assert rel_err(r.matrix, R) < 1e-12


def test_2d_gauss_converges_to_reference():
    """2D ReLU Gram on the square: refined Gauss vs a much finer rule."""
    key = jr.key(0)
    W = jr.normal(key, (12, 2))
    W = W / jnp.linalg.norm(W, axis=1, keepdims=True)
    b = jnp.linspace(-0.8, 0.8, 12)
    r = gram_matrix_with_error("relu", W, b, Box.cube(2), tol=1e-4)
    ref = gram_matrix("relu", W, b, gauss_legendre(Box.cube(2), 4, panels=256))
    assert r.error_estimate <= 1e-4
    assert rel_err(r.matrix, ref) < 3 * r.error_estimate + 1e-9


def test_blocked_equals_unblocked():
    n = 64
    b = uniform_biases(n)
    w = jnp.ones((n, 1))
    rule = gauss_legendre(Interval(), 6, panels=50)  # 300 nodes
    G1 = gram_matrix("tanh", w, 3 * b, rule, block_size=rule.size)
    G2 = gram_matrix("tanh", w, 3 * b, rule, block_size=37)  # uneven last block (padding)
    # only the summation order over blocks differs: agreement to a few ulps
    assert rel_err(G2, G1) <= 2e-15, rel_err(G2, G1)


# n = 4500 takes the same clamped-last-tile branch as n = 2500 (default): slow
@pytest.mark.parametrize("n", [2048, 2500, pytest.param(4500, marks=pytest.mark.slow)])
def test_tiled_assembly_vs_numpy(n):
    """Row tiles of 256 (n = 2048: 8 exact tiles), 313 and 563 (n = 2500, 4500: the last
    tile read at the clamped start n - t with its overlap masked). The Gram must equal
    NumPy's Phi^T diag(q) Phi in float64 and be exactly symmetric."""
    from spectral_jax.gram import _assembly

    assert _assembly._tile_width(n) == {2048: 256, 2500: 313, 4500: 563}[n]
    b = np.linspace(-1, 1, n)
    rule = gauss_legendre(Interval(), 4, panels=16)  # 64 nodes
    G = np.asarray(gram_matrix("tanh", jnp.ones((n, 1)), jnp.asarray(3 * b), rule, block_size=24))
    x, q = np.asarray(rule.nodes)[:, 0], np.asarray(rule.weights)
    phi = np.tanh(x[:, None] - 3 * b[None, :])
    ref = phi.T @ (q[:, None] * phi)
    assert rel_err(G, ref) < 1e-14, rel_err(G, ref)
    assert np.array_equal(G, G.T)


@pytest.mark.parametrize("n", [3000, 6000])
def test_chunked_assembly_work_memory_is_one_tile_not_the_gram(n):
    """XLA's own buffer plan for the jitted assembly: the donated Gram plus temporaries of
    about one tile and one block (~0.6x the Gram when the tile products were written out
    and all live at once)."""
    from spectral_jax.gram import _assembly

    rule = gauss_legendre(Interval(), 4, panels=32)
    Xb, Qb = _assembly._blocks(rule.nodes, rule.weights, 64, 1)
    W, b = jnp.ones((n, 1)), jnp.linspace(-1.0, 1.0, n)
    arrays, static = _assembly._split(get_activation("relu"))
    compiled = _assembly._assemble_local.lower(
        static, arrays, W, b, Xb, Qb, jnp.zeros((n, n))
    ).compile()
    mem = compiled.memory_analysis()
    if mem is None:
        pytest.skip("no memory analysis on this backend")
    gram_bytes = n * n * 8
    assert mem.alias_size_in_bytes == gram_bytes  # the Gram is the donated buffer
    assert mem.temp_size_in_bytes < 0.05 * gram_bytes, mem.temp_size_in_bytes / gram_bytes


def test_no_retrace_on_repeated_assembly():
    act = get_activation("relu")
    rule = gauss_legendre(Interval(), 4, panels=20)
    f = eqx.debug.assert_max_traces(
        lambda W, b: assemble_gram(act, W, b, rule.nodes, rule.weights, block_size=16), max_traces=1
    )
    f = eqx.filter_jit(f)
    for s in (1.0, 2.0, 3.0):
        f(jnp.ones((10, 1)) * s, jnp.linspace(-1, 1, 10))


def test_nystrom_converges_with_fitted_order():
    ref = np.asarray(gram_kernel_eigenvalues("relu", nodes=512, order=4, k=6))
    ns = [32, 64, 128]
    errs = [
        np.max(
            np.abs(np.asarray(gram_kernel_eigenvalues("relu", nodes=m, order=4, k=6)) - ref) / ref
        )
        for m in ns
    ]
    order = -fitted_order(ns, errs)
    assert errs[-1] < 3e-6
    assert order > 3.0, (errs, order)
    # the discrete Gram of n evenly spaced biases scales like (n/2) mu_k
    n = 300
    lam = np.sort(np.linalg.eigvalsh(np.asarray(relu_gram_1d(uniform_biases(n)))))[::-1]
    assert np.allclose(lam[:5] / (n * ref[:5]), 0.5 + 1.0 / n, rtol=1e-3)  # (n/2 + 1) mu_k


def test_bad_input():
    w = jnp.ones((3, 1))
    with pytest.raises(ValueError, match="gram_matrix: biases must contain only finite values"):
        gram_matrix("relu", w, jnp.array([0.0, jnp.nan, 1.0]), Interval())
    with pytest.raises(ValueError, match="gram_matrix: width must be positive"):
        gram_matrix("relu", jnp.ones((0, 1)), jnp.ones((0,)), Interval())
    with pytest.raises(
        ValueError, match="domain has dimension 2 but the directions .* dimension 1"
    ):
        gram_matrix("relu", w, jnp.zeros(3), Box.cube(2))
    with pytest.raises(ValueError, match="unknown activation|Unknown activation|known"):
        gram_matrix("nope", w, jnp.zeros(3), Interval())
    with pytest.raises(ValueError, match="method must be one of"):
        gram_matrix("relu", w, jnp.zeros(3), Interval(), method="magic")
    with pytest.raises(ValueError, match="relu_power_gram_1d: signs must be \\+1 or -1"):
        relu_power_gram_1d(2, jnp.zeros(3), jnp.array([1.0, 0.5, -1.0]))
    with pytest.raises(ValueError, match="relu_power_gram_1d: p must be an integer >= 1"):
        relu_power_gram_1d(0, jnp.zeros(3))


def test_float64_without_x64(no_x64):
    with pytest.raises(
        ValueError, match="gram_matrix: float64 was requested but JAX's x64 mode is off"
    ):
        gram_matrix("relu", np.ones((3, 1)), np.zeros(3), Interval(), dtype="float64")


def test_too_coarse_quadrature_warns():
    W = jnp.array([[0.6, 0.8], [1.0, 0.0], [0.0, 1.0]])
    with pytest.warns(
        RuntimeWarning, match="quadrature too coarse for tol=1.0e-12: estimated relative error"
    ):
        r = gram_matrix_with_error(
            "relu", W, jnp.array([0.1, -0.2, 0.3]), Box.cube(2), tol=1e-12, max_nodes=5000
        )
    assert np.isfinite(r.error_estimate) and r.error_estimate > 1e-12


def test_sharded_equals_single_device():
    """4 simulated devices, both layouts against one device: the node split (replicated
    result) and layout='rows' (each device holds its (n/4, n) rows; n = 772 has three
    column tiles, the last one clamped), to 1e-12 in 1D and 2D; top_eigenpairs on the
    row-sharded Gram (never gathered) against numpy eigh; the layout errors."""
    out = run_with_devices(
        """
        import jax, jax.numpy as jnp, numpy as np
        from spectral_jax.gram import gram_matrix
        from spectral_jax.domains import Interval, Box
        from spectral_jax.quadrature import gauss_legendre
        from spectral_jax._sharding import device_mesh, gather
        from spectral_jax._subspace import top_eigenpairs
        assert len(jax.devices()) == 4
        rel = lambda A, B: float(np.max(np.abs(np.subtract(A, B))) / np.max(np.abs(B)))
        W = jnp.ones((772, 1)); b = jnp.linspace(-1, 1, 772)
        rule = gauss_legendre(Interval(), 5, panels=41)
        G1 = gram_matrix('tanh', W, 4 * b, rule, block_size=16)
        G4 = gram_matrix('tanh', W, 4 * b, rule, block_size=16, sharded=True)
        R4 = gram_matrix('tanh', W, 4 * b, rule, block_size=16, mesh=device_mesh(),
                         layout='rows')
        print({s.data.shape for s in R4.addressable_shards}, len(R4.addressable_shards))
        W2 = jnp.stack([jnp.cos(b[:48] * 3), jnp.sin(b[:48] * 3)], 1)
        r2 = gauss_legendre(Box.cube(2), 4, panels=9)
        H1 = gram_matrix('relu', W2, b[:48] * 0.9, r2)
        H4 = gram_matrix('relu', W2, b[:48] * 0.9, r2, sharded=True)
        Q4 = gram_matrix('relu', W2, b[:48] * 0.9, r2, sharded=True, layout='rows')
        print(rel(G4, G1), rel(H4, H1), rel(R4, G1), rel(Q4, H1))
        r = top_eigenpairs(R4, 4, oversample=8)
        lam = np.linalg.eigvalsh(np.asarray(gather(G1)))[::-1][:4]
        print(float(np.max(np.abs(r.eigenvalues - lam) / lam)), r.converged,
              {s.data.shape for s in r.eigenvectors.addressable_shards})
        for kw, msg in [(dict(layout='cols', sharded=True), "layout must be 'replicated'"),
                        (dict(layout='rows'), "layout='rows' splits the Gram's rows"),
                        (dict(layout='rows', sharded=True, n=50), "multiple of the mesh's 4"),
                        (dict(layout='rows', sharded=True, method='closed_form'),
                         "closed form builds the whole")]:
            n = kw.pop('n', 48)
            try:
                gram_matrix('relu', jnp.ones((n, 1)), jnp.linspace(-1, 1, n), Interval(), **kw)
            except ValueError as e:
                assert msg in str(e) and str(e).startswith('gram_matrix: layout'), e
            else:
                raise AssertionError(kw)
        """
    )
    lines = out.strip().splitlines()
    assert lines[0] == "{(193, 772)} 4"
    assert all(float(e) < 1e-12 for e in lines[1].split())
    ev, conv, vshape = lines[2].split(" ", 2)
    assert float(ev) < 1e-12 and conv == "True" and vshape == "{(193, 4)}"


@pytest.mark.parametrize("p", [1, 2, 3])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_closed_form_single_direction_case_equals_the_mixed_formula(p, sign):
    """All directions equal: only that case is computed; it must equal the general
    four-case formula (and hence the quadrature it is tested against) bit for bit."""
    from spectral_jax.gram import _closed_form as cf

    t = jnp.asarray(np.random.default_rng(p).uniform(-1.3, 1.3, 57))
    s = jnp.full((57,), sign)
    c = jnp.asarray(np.random.default_rng(p + 1).uniform(0.5, 2.0, 57))
    assert cf._sign_cases(np.asarray(s)) == ("+" if sign > 0 else "-")
    assert cf._sign_cases(np.array([1.0, -1.0])) == "mixed"
    fast = cf._kinks_gram(p, t, s, c, -1.0, 1.0, "+" if sign > 0 else "-")
    mixed = cf._kinks_gram(p, t, s, c, -1.0, 1.0, "mixed")
    np.testing.assert_array_equal(np.asarray(fast), np.asarray(mixed))


def test_quadrature_modules_are_the_method_strings():
    from spectral_jax.gram import QMC, AdaptiveGauss, ClosedForm, ExactComposite

    b = uniform_biases(24)
    w = jnp.ones((24, 1))
    cases = [
        ("relu", ClosedForm(), {"method": "closed_form"}),
        ("relu2", ExactComposite(order=5), {"method": "exact", "order": 5}),
        ("tanh", AdaptiveGauss(level=8, order=6), {"method": "gauss", "level": 8, "order": 6}),
        ("tanh", AdaptiveGauss(tol=1e-9), {"method": "gauss", "tol": 1e-9}),
        ("tanh", QMC(level=512), {"method": "qmc", "level": 512}),
    ]
    for act, q, kw in cases:
        r = gram_matrix_with_error(act, w, b, Interval(), quadrature=q)
        s = gram_matrix_with_error(act, w, b, Interval(), **kw)
        assert r.method == s.method == q.method
        np.testing.assert_array_equal(np.asarray(r.matrix), np.asarray(s.matrix))
        # the string name alone is the module with its defaults
        t = gram_matrix(act, w, b, Interval(), quadrature=q.method, level=kw.get("level"))
        assert t.shape == (24, 24)
    ref = np.asarray(gram_kernel_eigenvalues("relu", nodes=64, k=5))
    got = gram_kernel_eigenvalues("relu", nodes=64, k=5, quadrature=ExactComposite())
    np.testing.assert_allclose(np.asarray(got), ref, rtol=1e-12)


def test_quadrature_knobs_that_do_not_apply_are_errors():
    from spectral_jax.gram import AdaptiveGauss, ClosedForm, ExactComposite

    b = uniform_biases(8)
    w = jnp.ones((8, 1))
    with pytest.raises(TypeError):
        ExactComposite(level=3)
    with pytest.raises(TypeError):
        ClosedForm(order=2)
    with pytest.raises(ValueError, match="AdaptiveGauss: tol applies only when refining"):
        AdaptiveGauss(level=4, tol=1e-3)
    with pytest.raises(ValueError, match="order must be a positive integer"):
        ExactComposite(order=0)
    bad = [
        ({"quadrature": ClosedForm(), "order": 3}, ValueError, "its knobs go inside it"),
        ({"quadrature": ClosedForm(), "method": "exact"}, ValueError, "give the rule once"),
        ({"quadrature": 3}, TypeError, "quadrature must be"),
        ({"method": "closed_form", "tol": 1e-3}, ValueError, "tol applies only to the refined"),
        ({"tol": 1e-3}, ValueError, "closed form, which does not use it"),
        ({"method": "exact", "max_nodes": 99}, ValueError, "max_nodes applies only"),
        ({"method": "gauss", "level": 4, "tol": 1e-3}, ValueError, "a fixed level is not"),
    ]
    for kw, err, match in bad:
        with pytest.raises(err, match=match):
            gram_matrix("relu", w, b, Interval(), **kw)
    rule = gauss_legendre(Interval(), 4, panels=4)
    with pytest.raises(ValueError, match="given rule, which does not use it"):
        gram_matrix("relu", w, b, rule, order=4)
