"""Least squares in network / FEM bases against FEM, SciPy (float64) and closed forms."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

from spectral_jax.domains import Interval
from spectral_jax.fit import (
    FEMBasis,
    FitResult,
    IllConditionedWarning,
    NetworkBasis,
    _solvers,
    eigenmode_projection,
    fit_least_squares,
    fit_samples,
    max_fittable_frequency,
    predicted_max_frequency,
    resolvable_frequency_table,
)
from spectral_jax.networks import uniform_biases
from tests.helpers import RTOL, rel_err


def relu_basis(n, constant=True, dtype="float64"):
    b = uniform_biases(n, dtype=dtype)
    return NetworkBasis("relu", jnp.ones((n, 1), dtype), b, constant=constant)


def closed_form_relu_gram(b, lo=-1.0, hi=1.0):
    """int_lo^hi (x-bi)_+ (x-bj)_+ dx for x > max(bi, bj) =: c, plus the constant feature."""
    n = b.size
    g = np.zeros((n + 1, n + 1))
    g[0, 0] = hi - lo
    for i in range(n):
        g[0, i + 1] = g[i + 1, 0] = (hi - max(b[i], lo)) ** 2 / 2
        for j in range(n):
            c = max(b[i], b[j], lo)
            u = hi - c
            g[i + 1, j + 1] = (
                u**3 / 3 + (c - b[i] + c - b[j]) * u**2 / 2 + (c - b[i]) * (c - b[j]) * u
            )
    return g


def test_network_gram_exact():
    basis = relu_basis(12)
    g = np.asarray(basis.gram())
    assert rel_err(g, closed_form_relu_gram(np.asarray(basis.biases))) < 10 * RTOL["float64"]


@pytest.mark.parametrize("solver", ["cholesky", "lu", "eigh", "qr", "svd"])
def test_nn_span_equals_fem_span(solver):
    n = 40
    nn = relu_basis(n)
    fem = FEMBasis.from_biases(nn.biases)
    assert fem.size == nn.size
    r_nn = fit_least_squares(nn, "arctan25", solver=solver, tau=0.0 if solver == "eigh" else None)
    r_fem = fit_least_squares(fem, "arctan25", solver="cholesky")
    x = jnp.linspace(-1, 1, 3001)
    assert rel_err(r_nn(x), r_fem(x)) < 1e-8
    assert abs(r_nn.mse - r_fem.mse) / r_fem.mse < 1e-6


def test_without_constant_the_span_misses_f_at_left_end():
    nn = relu_basis(40, constant=False)
    x = jnp.linspace(-1, 1, 11)
    assert np.allclose(np.asarray(nn.evaluate(x))[0], 0.0)  # every feature vanishes at -1
    r = fit_least_squares(nn, "1 + 0*x", solver="qr")
    assert r.rel_l2_error > 1e-2  # a constant is not in the span
    r1 = fit_least_squares(relu_basis(40), "1 + 0*x", solver="qr")
    assert r1.rel_l2_error < 1e-12


def test_gram_solvers_vs_scipy():
    basis = relu_basis(30)
    g = np.asarray(basis.gram())
    rule = basis.rule(order=8)
    t = lambda x: jnp.exp(x[:, 0]) * jnp.sin(3 * x[:, 0])  # noqa: E731
    f = np.asarray(basis.load(t(rule.nodes), rule))
    ref = scipy.linalg.solve(g, f, assume_a="pos")
    for solver in ("cholesky", "lu"):
        r = fit_least_squares(basis, t, solver=solver)
        assert rel_err(r.coefficients, ref) < 1e-6  # cond(G) ~ 1e7 amplifies rounding
        assert r.residual < 1e-12


def test_eigh_tau_zero_equals_direct_solve_and_truncates():
    basis = relu_basis(20)
    r0 = fit_least_squares(basis, "sin(2*pi*x)", solver="eigh", tau=0.0)
    rc = fit_least_squares(basis, "sin(2*pi*x)", solver="cholesky")
    assert r0.rank == basis.size and not r0.rank_deficient
    assert rel_err(r0.coefficients, rc.coefficients) < 1e-8
    lam = np.linalg.eigvalsh(np.asarray(basis.gram()))
    tau = 1e-4
    rt = fit_least_squares(basis, "sin(2*pi*x)", solver="eigh", tau=tau)
    assert rt.rank == int(np.sum(lam > tau * lam[-1])) and rt.rank_deficient


def test_sample_solvers_vs_scipy_lstsq():
    basis = relu_basis(25)
    x = jnp.linspace(-1, 1, 200)
    y = jnp.cos(4 * x)
    phi = np.asarray(basis.evaluate(x))
    ref = scipy.linalg.lstsq(phi, np.asarray(y))[0]
    for solver in ("qr", "svd"):
        r = fit_samples(basis, x, y, solver=solver)
        assert rel_err(r.coefficients, ref) < 1e-7
        assert r.rank == basis.size
    rs = fit_least_squares(basis, "cos(4*x)", solver="svd", samples=200)
    assert rel_err(rs.coefficients, ref) < 1e-7


@pytest.mark.parametrize("solver", ["cholesky", "lu"])
def test_condition_estimate_vs_numpy(solver):
    """The O(n^2 k) estimate is a lower bound of cond_2(G) and within 10% of it."""
    basis = relu_basis(150)
    lam = np.linalg.eigvalsh(np.asarray(basis.gram()))
    true = lam[-1] / lam[0]
    r = fit_least_squares(basis, "arctan25", solver=solver)
    assert 0.9 * true <= r.condition_number <= true * (1 + 1e-8)
    re = fit_least_squares(basis, "arctan25", solver="eigh", tau=0.0)
    assert abs(re.condition_number - true) < 1e-6 * true  # exact from the eigenvalues


def test_svd_is_r_svd_with_phi_singular_values_and_min_norm_when_wide():
    basis = relu_basis(25)
    x = jnp.linspace(-1, 1, 120)
    phi = np.asarray(basis.evaluate(x))
    coef, rank, s = _solvers.solve_svd(jnp.asarray(phi), jnp.cos(4 * x), jnp.asarray(1e-14))
    s_ref = np.linalg.svd(phi, compute_uv=False)
    assert rel_err(s, s_ref) < 1e-13 and int(rank) == 26
    r = fit_samples(basis, x, jnp.cos(4 * x), solver="svd")
    assert r.condition_number == pytest.approx(s_ref[0] / s_ref[-1], rel=1e-8)
    # fewer samples than features: the minimum-norm solution (NumPy's lstsq, same cut-off)
    xs = jnp.linspace(-1, 1, 12)
    ys = jnp.cos(4 * xs)
    rw = fit_samples(basis, xs, ys, solver="svd", allow_rank_deficient=True)
    ref = np.linalg.lstsq(np.asarray(basis.evaluate(xs)), np.asarray(ys), rcond=None)[0]
    assert rw.rank == 12 and rw.rank_deficient
    assert rel_err(rw.coefficients, ref) < 1e-9


def test_float32_normal_equations_low_pass_vs_stable_qr():
    """The slides' float32 pattern: Gram-based solves stall, QR on the weighted
    quadrature nodes does not, FEM is unaffected."""
    nn = relu_basis(300, dtype="float32")
    r_eigh = fit_least_squares(nn, "arctan25", solver="eigh", dtype="float32")
    r_qr = fit_least_squares(nn, "arctan25", solver="qr", dtype="float32")
    r_fem = fit_least_squares(
        FEMBasis.from_biases(nn.biases), "arctan25", solver="cholesky", dtype="float32"
    )
    r64 = fit_least_squares(relu_basis(300), "arctan25", solver="cholesky")
    assert r_eigh.max_error > 10 * r64.max_error and r_eigh.rank_deficient
    assert r_qr.max_error < 2 * r64.max_error
    assert r_fem.max_error < 1.1 * r64.max_error


def test_projection_parseval():
    basis = relu_basis(30)
    p = eigenmode_projection(basis, "sin(pi*x)")
    r = fit_least_squares(basis, "sin(pi*x)", solver="cholesky", eval_points=20001)
    # ||P f||^2 = sum c_k^2 and ||f - Pf||^2 = ||f||^2 - ||Pf||^2 (norm of sin(pi x) = 1)
    assert abs(float(p.norm_sq) - 1.0) < 1e-12
    assert abs(p.tail_energy(basis.size) - r.mse * 2 / 1.0) < 0.05 * r.mse * 2
    lam = np.asarray(p.eigenvalues)
    assert np.all(np.diff(lam) <= 0)


def test_predicted_frequency_table():
    assert predicted_max_frequency(2.0**-52, 1) == pytest.approx(8192.0, rel=1e-12)
    rows = {(r["dtype"], r["d"]): r for r in resolvable_frequency_table()}
    assert rows[("float32", 1)]["k_d"] == pytest.approx(2 ** (23 / 4))
    assert rows[("float64", 3)]["k_d"] == pytest.approx(2 ** (52 / 6))
    assert rows[("float64", 3)]["slides_agree"] is False  # 406 vs the slides' 411
    with pytest.raises(ValueError, match="eps must lie in"):
        predicted_max_frequency(1.5, 1)


def test_max_fittable_frequency_float32_below_float64():
    nn32, nn64 = relu_basis(200, dtype="float32"), relu_basis(200)
    k32 = max_fittable_frequency(nn32, solver="eigh", ks=range(1, 41), dtype="float32")
    k64 = max_fittable_frequency(nn64, solver="eigh", ks=range(1, 41))
    assert 0 < k32["k_max"] < k64["k_max"]


def test_jitted_solver_no_retrace():
    f = eqx.debug.assert_max_traces(_solvers.solve_cholesky.__wrapped__, max_traces=1)
    import jax

    jf = jax.jit(f)
    g = jnp.eye(4) * 2.0
    for _ in range(3):
        jf(g, jnp.ones(4))


def test_bad_inputs():
    basis = relu_basis(10)
    with pytest.raises(TypeError, match="target must be callable"):
        fit_least_squares(basis, 3.0)
    with pytest.raises(ValueError, match="target returned NaN/inf"):
        fit_least_squares(basis, "log(x)")
    with pytest.raises(ValueError, match="eval_grid has 1 points outside the domain"):
        fit_least_squares(basis, "x", eval_grid=jnp.array([0.0, 0.5, 1.5]))
    with pytest.raises(
        ValueError, match="too few samples for the number of features: 5 samples < 11"
    ):
        fit_least_squares(basis, "x", solver="qr", samples=5)
    with pytest.raises(ValueError, match="solver must be one of"):
        fit_least_squares(basis, "x", solver="magic")
    with pytest.raises(ValueError, match=r"biases must have shape \(3,?\); got \(4,\)"):
        NetworkBasis("relu", jnp.ones((3, 1)), jnp.zeros(4))
    with pytest.raises(ValueError, match=r"y must have shape \(4,?\); got \(5,\)"):
        fit_samples(basis, jnp.linspace(-1, 1, 4), jnp.zeros(5))
    dup = NetworkBasis("relu", jnp.ones((2, 1)), jnp.array([0.0, 0.0]))
    with pytest.raises(ValueError, match="solver 'cholesky' failed in float64: the factorisa"):
        fit_least_squares(dup, "x", solver="cholesky", eval_points=101)
    with pytest.raises(ValueError, match="solver 'lu' failed in float64: the Gram matrix is exa"):
        fit_least_squares(dup, "x", solver="lu", eval_points=101)
    near = NetworkBasis("relu", jnp.ones((2, 1)), jnp.array([0.0, 1e-8]))  # cond ~ 2e17
    msg = "solver 'lu' ran although the Gram matrix is numerically singular in float64"
    with pytest.warns(IllConditionedWarning, match=msg):
        assert fit_least_squares(near, "x", solver="lu", eval_points=101).ill_conditioned
    with pytest.raises(ValueError, match="domain .* differs from the basis domain"):
        fit_least_squares(basis, "x", Interval(0.0, 1.0))


def test_float64_without_x64_is_an_error(no_x64):
    with pytest.raises(ValueError, match="float64 was requested but JAX's x64 mode is off"):
        fit_least_squares(relu_basis(5, dtype="float32"), "x", dtype="float64")


def test_plot_projection_and_fit_write_png(tmp_path):
    from spectral_jax.fit import plot_fit, plot_projection

    basis = relu_basis(20)
    p = plot_projection({"float64": eigenmode_projection(basis, "arctan25")}, tmp_path / "p.png")
    r = fit_least_squares(basis, "arctan25", solver="qr", eval_points=201)
    q = plot_fit(r, "arctan25", tmp_path / "f.png", points=201)
    assert (tmp_path / "p.png").stat().st_size > 1000 and (tmp_path / "f.png").stat().st_size > 1000
    assert p.get_axes() and q.get_axes()  # the figures are returned (saved only with a path)


def test_svd_default_cutoff_keeps_the_modes_float32_resolves():
    """The default rcond (eps*sqrt(max(m, N))) keeps what float32 can resolve: the SVD fit
    matches QR; NumPy's eps*max(m, N) on the 8N quadrature rows drops most modes."""
    basis = relu_basis(400, dtype="float32")
    qr = fit_least_squares(basis, "arctan25", solver="qr", dtype="float32", eval_points=4001)
    svd = fit_least_squares(basis, "arctan25", solver="svd", dtype="float32", eval_points=4001)
    m = basis.rule(order=8).nodes.shape[0]
    eps = float(np.finfo(np.float32).eps)
    worst = fit_least_squares(
        basis, "arctan25", solver="svd", dtype="float32", rcond=eps * m, eval_points=4001
    )
    assert svd.max_error <= 1.2 * qr.max_error
    assert worst.max_error > 3 * qr.max_error and worst.rank < svd.rank


def test_rank_deficiency_is_an_error_not_a_fit():
    dup = NetworkBasis("relu", jnp.ones((4, 1)), jnp.array([-0.5, 0.0, 0.0, 0.5]))
    for dt in ("float64", "float32"):
        with pytest.raises(
            ValueError,
            match="solver 'qr' found the weighted feature matrix numerically rank deficient",
        ):
            fit_least_squares(dup, "x", solver="qr", dtype=dt)
    basis = relu_basis(10)
    x = jnp.repeat(jnp.linspace(-1, 1, 3), 10)  # 30 samples at 3 distinct points
    y = jnp.sin(x)
    with pytest.raises(ValueError, match="numerically rank deficient in float64: rank 3 of 11"):
        fit_samples(basis, x, y, solver="svd")
    with pytest.raises(ValueError, match="solver 'qr' found the feature matrix"):
        fit_samples(basis, x, y, solver="qr")
    r = fit_samples(basis, x, y, solver="svd", allow_rank_deficient=True)
    assert r.rank_deficient and r.rank == 3
    with pytest.raises(ValueError, match="max_fittable_frequency: solver 'cholesky' failed"):
        max_fittable_frequency(
            NetworkBasis("relu", jnp.ones((3, 1)), jnp.array([0.0, 0.0, 0.0])),
            solver="cholesky",
            ks=np.arange(1, 3),
        )


def test_more_bad_inputs_name_the_argument():
    basis = relu_basis(10)
    with pytest.raises(ValueError, match="fit_samples: x has 1 points outside the domain"):
        fit_samples(basis, jnp.array([0.0, 2.0] + [0.1] * 20), jnp.zeros(22))
    with pytest.raises(ValueError, match="fit_least_squares: eval_grid is empty"):
        fit_least_squares(basis, "x", eval_grid=jnp.zeros((0, 1)))
    for kw, name in (({"rcond": float("nan")}, "rcond"), ({"rcond": -1.0}, "rcond")):
        with pytest.raises(ValueError, match=f"{name} must be a relative threshold in"):
            fit_least_squares(basis, "x", solver="svd", **kw)
    with pytest.raises(ValueError, match="tau must be a relative threshold in"):
        fit_least_squares(basis, "x", solver="eigh", tau=2.0)
    with pytest.raises(ValueError, match="rcond applies only to solver='svd'"):
        fit_least_squares(basis, "x", solver="qr", rcond=1e-3)
    r = fit_least_squares(basis, "x", eval_points=11)
    with pytest.raises(ValueError, match=r"FitResult: coefficients must have shape \(11,\)"):
        FitResult(r.basis, jnp.zeros(5), "qr", "float64", 5, 11, 1.0, 0.0, 0.0, 0.0, 0.0, 11)
    fem = FEMBasis.from_biases(uniform_biases(5))
    with pytest.raises(ValueError, match=r"FEMBasis.evaluate: x must have shape \(\*, 1\)"):
        fem.evaluate(jnp.zeros((3, 2)))
