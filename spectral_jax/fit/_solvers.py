r"""Linear solvers for least squares: normal equations with the Gram matrix
(Cholesky, LU, truncated eigen-solve) and backward-stable sampled least squares (QR, SVD).

All are jitted and run in the dtype of their inputs. The normal-equation solvers return
the coefficients with cheap diagnostics computed in the same call: the relative residual
and a condition-number estimate $\kappa_2(G) \approx \hat\lambda_{\max}/\hat\lambda_{\min}$
from a few steps of block power iteration ($G$) and block inverse iteration (with the
factorisation already computed), each finished by a Rayleigh-Ritz step. The estimate costs
$O(n^2 k)$ with $k = 8$ vectors (about 7 sweeps over $G$ beyond the solve), not the
$O(n^3)$ of an eigendecomposition; it is a lower bound of $\kappa_2(G)$ (Ritz values lie
inside the spectrum).

The SVD solver uses the R-SVD route: Householder QR of the augmented tall matrix
$[\Phi\,|\,y]$ (so $Q$ is never formed), then the SVD of the small $R$, which has the
singular values of $\Phi$.

**References:** arXiv:2306.17301 (the low-pass filter: only modes with
$\lambda_k \gtrsim \epsilon\lambda_1$ are usable); G. H. Golub, C. F. Van Loan,
*Matrix Computations* (R-SVD, subspace iteration).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl

from ._cholesky import cholesky_lower, cholesky_solve

__all__ = ["GRAM_SOLVERS", "SAMPLE_SOLVERS", "SOLVERS"]

GRAM_SOLVERS = ("cholesky", "lu", "eigh")
SAMPLE_SOLVERS = ("qr", "svd")
SOLVERS = GRAM_SOLVERS + SAMPLE_SOLVERS

COND_BLOCK = 8  # vectors of the block iterations of the condition estimate
COND_ITERS = 3  # block inverse iterations (the first shares the solve's triangular sweeps)
POWER_ITERS = 2  # block power iterations (lambda_max of a Gram is well separated)


def _nan_unless(ok, x):
    return jnp.where(ok, x, jnp.nan)


@jax.jit
def solve_cholesky(g, f):
    """$G^{-1}F$ by Cholesky; NaN where $G$ is not numerically positive definite."""
    fac, ok = cholesky_lower(g)
    ff = f[:, None] if f.ndim == 1 else f
    x = _nan_unless(ok, cholesky_solve(fac, ff))
    return x[:, 0] if f.ndim == 1 else x


@jax.jit
def solve_lu(g, f):
    return jsl.lu_solve(jsl.lu_factor(g), f)


def _start_block(n, dtype):
    k = min(COND_BLOCK, n)
    return jax.random.normal(jax.random.key(0), (n, k), dtype)


def _orth(x):
    return jnp.linalg.qr(x)[0]


def _ritz_min_max(t):
    """Smallest and largest eigenvalue of the symmetrised small matrix ``t``."""
    lam = jnp.linalg.eigvalsh((t + t.T) / 2)
    return lam[0], lam[-1]


def _solve_with_diagnostics(g, f, apply_inverse):
    r"""Solve $G\alpha = F$ and estimate $\lambda_{\max}, \lambda_{\min}$ with few sweeps
    over $G$ (memory-bound at large n): the first inverse iteration rides on the solve's
    triangular sweeps ($[F\,|\,X_0]$ solved together), `POWER_ITERS` products with $G$
    for $\lambda_{\max}$, and one final product $G[\alpha\,|\,Q_{\max}\,|\,Q_{\min}]$
    gives the residual and both Rayleigh-Ritz matrices."""
    n = g.shape[0]
    x0 = _start_block(n, g.dtype)
    k = x0.shape[1]
    ff = f[:, None] if f.ndim == 1 else f
    r = ff.shape[1]
    sol = apply_inverse(jnp.concatenate([ff, x0], axis=1))
    coef, qmin = sol[:, :r], _orth(sol[:, r:])
    for _ in range(COND_ITERS - 1):
        qmin = _orth(apply_inverse(qmin))
    qmax = _orth(x0)
    for _ in range(POWER_ITERS):
        qmax = _orth(g @ qmax)
    prod = g @ jnp.concatenate([coef, qmax, qmin], axis=1)
    res = jnp.linalg.norm(prod[:, :r] - ff) / jnp.maximum(
        jnp.linalg.norm(ff), jnp.finfo(g.dtype).tiny
    )
    lmax = _ritz_min_max(qmax.T @ prod[:, r : r + k])[1]
    lmin = _ritz_min_max(qmin.T @ prod[:, r + k :])[0]
    return (coef[:, 0] if f.ndim == 1 else coef), res, lmax, lmin


@jax.jit
def cholesky_fit(g, f):
    """Cholesky solve of $G\alpha = F$ with its relative residual and the condition
    estimate: ``(coef, residual, lambda_max_est, lambda_min_est)``."""
    fac, ok = cholesky_lower(g)
    coef, res, lmax, lmin = _solve_with_diagnostics(g, f, lambda x: cholesky_solve(fac, x))
    return tuple(_nan_unless(ok, v) for v in (coef, res, lmax, lmin))


@jax.jit
def lu_fit(g, f):
    """As `cholesky_fit` with an LU factorisation."""
    c = jsl.lu_factor(g)
    return _solve_with_diagnostics(g, f, lambda x: jsl.lu_solve(c, x))


@jax.jit
def solve_eigh(g, f, tau):
    """Truncated eigen-solve: keep modes with $\\lambda_k > \\tau\\lambda_1$."""
    lam, v = jnp.linalg.eigh(g)
    keep = lam > tau * lam[-1]
    coef_modes = jnp.where(keep, (v.T @ f) / jnp.where(keep, lam, 1), 0)
    return v @ coef_modes, jnp.sum(keep), lam


def _qr_r(phi, y):
    """R factor of $[\\Phi\\,|\\,y]$: ``(R, Q^T y)`` with $R$ of shape (min(m, n), n)."""
    n = phi.shape[1]
    yy = y[:, None] if y.ndim == 1 else y
    r = jnp.linalg.qr(jnp.concatenate([phi, yy], axis=1), mode="r")
    k = min(phi.shape[0], n)
    return r[:k, :n], r[:k, n:]


@jax.jit
def solve_qr(phi, y):
    r"""Householder QR of the augmented matrix $[\Phi\,|\,y]$: its R factor holds $R$ and
    $Q^\top y$, so $Q$ is never formed (``mode="r"``, several times faster than forming Q)."""
    r, qty = _qr_r(phi, y)
    coef = jsl.solve_triangular(r, qty, lower=False)
    return (coef[:, 0] if y.ndim == 1 else coef), jnp.abs(jnp.diag(r))


@jax.jit
def solve_svd(phi, y, rcond):
    r"""Truncated SVD least squares by the R-SVD route: QR of $[\Phi\,|\,y]$, then the SVD
    $R = U\Sigma V^\top$ of the small factor; keep $s_k >$ rcond $s_1$. Returns
    ``(coef, rank, singular_values)`` (those of $\Phi$)."""
    r, qty = _qr_r(phi, y)
    u, s, vt = jnp.linalg.svd(r, full_matrices=False)
    keep = s > rcond * s[0]
    uty = u.T @ qty  # (k, r): r right-hand sides
    w = jnp.where(keep[:, None], uty / jnp.where(keep, s, 1)[:, None], 0)
    coef = vt.T @ w
    return (coef[:, 0] if y.ndim == 1 else coef), jnp.sum(keep), s


@jax.jit
def gram_eigenvalues(g):
    return jnp.linalg.eigvalsh(g)
