"""The normal equations' Cholesky factor (`fit/_cholesky.py`) against SciPy in float64,
central differences for its derivative, and its fallback."""

import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

from spectral_jax.fit import _solvers
from spectral_jax.fit._cholesky import (
    _cpu_potrf_target,
    _generic,
    cholesky_lower,
    cholesky_solve,
)


def spd(n, seed=0, shift=1e-2):
    a = np.random.default_rng(seed).standard_normal((n, n))
    return a @ a.T / n + shift * np.eye(n)


def test_cpu_path_is_the_lapack_kernel():
    """On CPU the fast path must be taken (else the fit benchmark measures the fallback)."""
    assert _cpu_potrf_target(np.dtype(np.float64)) == "lapack_dpotrf_ffi"
    assert _cpu_potrf_target(np.dtype(np.float32)) == "lapack_spotrf_ffi"
    assert _cpu_potrf_target(np.dtype(np.complex128)) is None
    hlo = _solvers.solve_cholesky.lower(jnp.eye(4), jnp.ones(4)).as_text()
    assert "lapack_dpotrf_ffi" in hlo


@pytest.mark.parametrize("n", [1, 7, 300])
def test_factor_and_solve_match_scipy(n):
    a = spd(n, seed=n)
    b = np.random.default_rng(1).standard_normal((n, 3))
    fac, ok = jax.jit(cholesky_lower)(jnp.asarray(a))
    assert bool(ok)
    ref = scipy.linalg.cholesky(a, lower=True)
    np.testing.assert_allclose(np.tril(np.asarray(fac)), ref, rtol=1e-12, atol=1e-13)
    x = jax.jit(cholesky_solve)(fac, jnp.asarray(b))
    xr = scipy.linalg.cho_solve((ref, True), b)
    assert np.linalg.norm(np.asarray(x) - xr) <= 1e-11 * np.linalg.norm(xr)
    # the fallback (GPU/TPU, or a jaxlib without the kernel) agrees
    ug, okg = jax.jit(_generic)(jnp.asarray(a))
    assert bool(okg)
    np.testing.assert_allclose(np.asarray(ug), ref, rtol=1e-12, atol=1e-13)


def test_reads_the_lower_triangle_like_scipy():
    """A Gram assembled in floating point is symmetric only to rounding; the factor must
    use the lower triangle (SciPy's and JAX's ``cho_factor(lower=True)`` convention) and
    then agree with SciPy to the last bit: the same LAPACK routine on the same numbers."""
    a = spd(400, seed=9)
    a[np.triu_indices(400, 1)] += 1e-3  # upper triangle differs: must be ignored
    b = np.random.default_rng(2).standard_normal(400)
    ref = scipy.linalg.cho_solve(scipy.linalg.cho_factor(a, lower=True), b)
    x = np.asarray(_solvers.solve_cholesky(jnp.asarray(a), jnp.asarray(b)))
    np.testing.assert_array_equal(x, ref)


def test_float32_is_a_float32_factor():
    a = spd(200, seed=3, shift=0.5)
    fac, ok = jax.jit(cholesky_lower)(jnp.asarray(a, jnp.float32))
    assert fac.dtype == jnp.float32 and bool(ok)
    ref = scipy.linalg.cholesky(a, lower=True)
    err = np.abs(np.tril(np.asarray(fac, np.float64)) - ref).max() / np.abs(ref).max()
    assert err < 1e-5


def test_not_positive_definite_is_reported():
    a = spd(50)
    a[10, 10] = -1.0  # indefinite
    _, ok = jax.jit(cholesky_lower)(jnp.asarray(a))
    assert not bool(ok)
    assert np.all(np.isnan(np.asarray(_solvers.solve_cholesky(jnp.asarray(a), jnp.ones(50)))))
    coef, res, lmax, lmin = _solvers.cholesky_fit(jnp.asarray(a), jnp.ones(50))
    assert np.all(np.isnan(np.asarray(coef))) and np.isnan(float(lmin))


def test_derivative_matches_central_differences():
    n = 12
    a = jnp.asarray(spd(n, seed=5, shift=0.3))
    e = np.random.default_rng(6).standard_normal((n, n))
    e = jnp.asarray(e + e.T)  # symmetric direction: the factor reads one triangle
    b = jnp.asarray(np.random.default_rng(7).standard_normal((n, 2)))

    def f(x):
        return cholesky_solve(cholesky_lower(x)[0], b)

    _, jv = jax.jvp(f, (a,), (e,))
    h = 1e-6
    fd = (f(a + h * e) - f(a - h * e)) / (2 * h)
    np.testing.assert_allclose(np.asarray(jv), np.asarray(fd), rtol=1e-6, atol=1e-8)
    g = jax.grad(lambda x: jnp.sum(f(x) ** 2))(a)
    assert np.isclose(float(jnp.sum(g * e)), float(jnp.sum(2 * f(a) * jv)), rtol=1e-10)


def test_vmap_matches_one_at_a_time():
    mats = jnp.asarray(np.stack([spd(20, seed=s) for s in range(3)]))
    ls, oks = jax.vmap(cholesky_lower)(mats)
    assert bool(jnp.all(oks))
    for i in range(3):
        np.testing.assert_allclose(
            np.tril(np.asarray(ls[i])),
            scipy.linalg.cholesky(np.asarray(mats[i]), lower=True),
            rtol=1e-12,
            atol=1e-13,
        )


def test_bad_shape_is_named():
    with pytest.raises(ValueError, match="cholesky_lower: a must be a square matrix"):
        cholesky_lower(jnp.ones((3, 4)))


def test_first_use_inside_jit_in_a_fresh_process():
    """The kernel check runs at first trace, possibly inside another jit's trace."""
    code = (
        "import jax, jax.numpy as jnp, numpy as np\n"
        "jax.config.update('jax_enable_x64', True)\n"
        "from spectral_jax.fit import _solvers as S\n"
        "g = jnp.asarray(np.diag(np.arange(1.0, 6.0)))\n"
        "x = S.solve_cholesky(g, jnp.ones(5))\n"
        "assert np.allclose(np.asarray(x), 1 / np.arange(1.0, 6.0)), x\n"
        "assert 'lapack_dpotrf_ffi' in S.solve_cholesky.lower(g, jnp.ones(5)).as_text()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
