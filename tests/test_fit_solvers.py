"""Solver modules of `spectral_jax.fit` against SciPy/NumPy float64 solutions, the
ill-conditioning warning, knob validation, and the SVD cut-off reporting."""

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

from spectral_jax.fit import (
    LU,
    QR,
    SVD,
    Cholesky,
    FEMBasis,
    IllConditionedWarning,
    NetworkBasis,
    TruncatedEigh,
    fit_least_squares,
    fit_samples,
)
from spectral_jax.networks import uniform_biases

TOL = {"float32": 2e-5, "float64": 1e-12}
SOLVERS = [QR(), SVD(), Cholesky(), LU(), TruncatedEigh()]


def _fem(dtype):
    # non-uniform nodes (h_max / h_min ~ 2.5): mass matrix condition ~ 7
    u = np.linspace(-1.0, 1.0, 25)
    t = u + 0.3 * (u[1] - u[0]) * np.sin(7 * u) * (1 - u**2)
    return FEMBasis(jnp.asarray(t, dtype))


@pytest.mark.parametrize("dtype", [pytest.param("float32", marks=pytest.mark.slow), "float64"])
def test_l2_projection_vs_scipy(dtype):
    """Every solver on the exact L2 problem of a well-conditioned basis equals SciPy's
    float64 solve of G c = F (G, F from the same basis in float64)."""
    basis = _fem(dtype)
    rule = basis.rule(order=8, dtype="float64")
    g = np.asarray(basis.gram(dtype="float64"))
    f = np.asarray(basis.load(jnp.arctan(25 * rule.nodes[:, 0]), rule))
    ref = scipy.linalg.solve(g, f, assume_a="pos")
    for solver in SOLVERS:
        r = fit_least_squares(basis, "arctan25", solver=solver, dtype=dtype, eval_points=101)
        c = np.asarray(r.coefficients, np.float64)
        assert np.linalg.norm(c - ref) / np.linalg.norm(ref) < TOL[dtype], solver
        assert r.solver == solver.name and r.rank == basis.size and not r.ill_conditioned


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sampled_vs_numpy_lstsq(dtype):
    """On samples, QR/SVD and the normal equations (Phi^T Phi c = Phi^T y) all equal NumPy's
    float64 lstsq of a well-conditioned problem."""
    basis = _fem(dtype)
    x = np.linspace(-1, 1, 300)
    y = np.cos(3 * x) + 0.1 * x**2
    phi = np.asarray(basis.evaluate(jnp.asarray(x)[:, None], dtype="float64"))
    ref = np.linalg.lstsq(phi, y, rcond=None)[0]
    xs, ys = jnp.asarray(x, dtype), jnp.asarray(y, dtype)
    for solver in SOLVERS:
        r = fit_samples(basis, xs, ys, solver=solver, dtype=dtype)
        c = np.asarray(r.coefficients, np.float64)
        assert np.linalg.norm(c - ref) / np.linalg.norm(ref) < TOL[dtype], solver


def test_normal_equations_run_when_ill_conditioned_with_a_warning():
    """cond(G) > 1/eps in float32: LU runs, warns and returns finite coefficients; the
    truncated eigen-solve keeps fewer modes; QR on the same problem stays accurate."""
    n = 60
    basis = NetworkBasis("relu", jnp.ones((n, 1), "float32"), uniform_biases(n, dtype="float32"))
    with pytest.warns(IllConditionedWarning, match="solver 'lu' ran although the Gram matrix"):
        r = fit_least_squares(basis, "arctan25", solver=LU(), dtype="float32", eval_points=201)
    assert r.ill_conditioned and np.all(np.isfinite(np.asarray(r.coefficients)))
    e = fit_least_squares(basis, "arctan25", solver="eigh", dtype="float32", eval_points=201)
    assert e.rank < n + 1 and e.rank_deficient and e.cutoff == pytest.approx(2.0**-23)
    assert "default tau = eps" in e.cutoff_rule and e.spectrum.shape == (n + 1,)
    q = fit_least_squares(basis, "arctan25", solver=QR(), dtype="float32", eval_points=201)
    assert q.max_error < r.max_error and not q.ill_conditioned


def test_knobs_belong_to_their_solver():
    basis = _fem("float64")
    with pytest.raises(ValueError, match="rcond applies only to solver='svd'"):
        fit_least_squares(basis, "x", solver="qr", rcond=1e-3)
    with pytest.raises(ValueError, match="tau applies only to solver='eigh'"):
        fit_least_squares(basis, "x", solver="lu", tau=1e-3)
    with pytest.raises(ValueError, match="rcond is given twice"):
        fit_least_squares(basis, "x", solver=SVD(1e-6), rcond=1e-3)
    with pytest.raises(ValueError, match="tau is given twice"):
        fit_samples(basis, jnp.linspace(-1, 1, 50), jnp.zeros(50), solver=QR(), rcond=None) and (
            fit_least_squares(basis, "x", solver=QR(), tau=1e-3)
        )
    with pytest.raises(ValueError, match="SVD: rcond must be a relative threshold"):
        SVD(rcond=2.0)
    with pytest.raises(ValueError, match="TruncatedEigh: tau must be a relative threshold"):
        TruncatedEigh(tau=-1.0)
    with pytest.raises(TypeError, match="TruncatedEigh: tau must be a number"):
        TruncatedEigh(tau="big")
    with pytest.raises(ValueError, match="solver must be one of .* or a solver module"):
        fit_least_squares(basis, "x", solver="magic")
    with pytest.raises(ValueError, match="allow_rank_deficient needs solver='svd'"):
        fit_samples(basis, jnp.linspace(-1, 1, 50), jnp.zeros(50), solver=LU(),
                    allow_rank_deficient=True)  # fmt: skip


def test_string_shorthands_equal_modules():
    basis = _fem("float64")
    a = fit_least_squares(basis, "arctan25", solver="svd", rcond=0.5, eval_points=101)
    b = fit_least_squares(basis, "arctan25", solver=SVD(rcond=0.5), eval_points=101)
    assert np.array_equal(a.coefficients, b.coefficients) and a.rank == b.rank < basis.size
    assert a.cutoff == b.cutoff == 0.5 and "given" in a.cutoff_rule


def test_svd_default_cutoff_agrees_between_fit_samples_and_fit_least_squares():
    """A well-posed float32 problem with s_N/s_1 between eps and the default cut-off
    eps*sqrt(m): fit_samples used to refuse it as rank deficient while
    fit_least_squares(samples=m) silently truncated. Both now return the same truncated
    fit and say how many modes were kept, at which cut-off and why."""
    m, n = 400, 40
    b = np.sort(np.r_[np.asarray(uniform_biases(n)), 0.013, 0.013 + 1e-4])  # a near-twin pair
    basis = NetworkBasis("relu", jnp.ones((n + 2, 1), "float32"), jnp.asarray(b, "float32"))
    x = jnp.linspace(-1, 1, m, dtype="float32")
    s = np.linalg.svd(np.asarray(basis.evaluate(x[:, None], dtype="float64")), compute_uv=False)
    eps = 2.0**-23
    assert eps < s[-1] / s[0] < eps * np.sqrt(m)  # well posed, below the default cut-off
    r1 = fit_samples(basis, x, jnp.cos(3 * x), solver="svd", target="cos(3*x)", dtype="float32")
    r2 = fit_least_squares(basis, "cos(3*x)", solver="svd", samples=m, dtype="float32")
    assert r1.rank == r2.rank == basis.size - 1 and r1.numerical_rank == basis.size
    assert r1.cutoff == r2.cutoff == pytest.approx(eps * np.sqrt(m))
    assert r1.cutoff_rule == r2.cutoff_rule and "default rcond" in r1.cutoff_rule
    np.testing.assert_allclose(r1.coefficients, r2.coefficients, rtol=1e-5, atol=1e-5)
    assert r1.max_error == pytest.approx(r2.max_error, rel=1e-4)


def test_network_gram_goes_through_the_gram_engine(monkeypatch):
    """NetworkBasis.gram is assembled by spectral_jax.gram.gram_matrix (one engine) and
    equals the direct contraction Phi^T diag(q) Phi it replaced, to rounding."""
    import spectral_jax.gram
    from spectral_jax.fit import AbstractBasis

    calls = []
    engine = spectral_jax.gram.gram_matrix

    def spy(*args, **kwargs):
        calls.append(1)
        return engine(*args, **kwargs)

    monkeypatch.setattr(spectral_jax.gram, "gram_matrix", spy)
    for constant in (True, False):
        nb = NetworkBasis("relu", jnp.ones((30, 1)), uniform_biases(30), constant=constant)
        g = np.asarray(nb.gram())
        direct = np.asarray(AbstractBasis.gram(nb))
        assert np.max(np.abs(g - direct)) <= 1e-14 * np.max(np.abs(direct))
    assert len(calls) == 2
