r"""Linear solvers for least squares: normal equations with the Gram matrix
(Cholesky, LU, truncated eigen-solve) and backward-stable sampled least squares (QR, SVD).

Each returns ``(coefficients, rank, condition_number)``; all are jitted and run in the
dtype of their inputs.

**References:** arXiv:2306.17301 (the low-pass filter: only modes with
$\lambda_k \gtrsim \epsilon\lambda_1$ are usable).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl

__all__ = ["GRAM_SOLVERS", "SAMPLE_SOLVERS", "SOLVERS"]

GRAM_SOLVERS = ("cholesky", "lu", "eigh")
SAMPLE_SOLVERS = ("qr", "svd")
SOLVERS = GRAM_SOLVERS + SAMPLE_SOLVERS


@jax.jit
def solve_cholesky(g, f):
    c = jsl.cho_factor(g, lower=True)
    return jsl.cho_solve(c, f)


@jax.jit
def solve_lu(g, f):
    return jsl.lu_solve(jsl.lu_factor(g), f)


@jax.jit
def solve_eigh(g, f, tau):
    """Truncated eigen-solve: keep modes with $\\lambda_k > \\tau\\lambda_1$."""
    lam, v = jnp.linalg.eigh(g)
    keep = lam > tau * lam[-1]
    coef_modes = jnp.where(keep, (v.T @ f) / jnp.where(keep, lam, 1), 0)
    return v @ coef_modes, jnp.sum(keep), lam


@jax.jit
def solve_qr(phi, y):
    r"""Householder QR of the augmented matrix $[\Phi\,|\,y]$: its R factor holds $R$ and
    $Q^\top y$, so $Q$ is never formed (``mode="r"``, several times faster than forming Q)."""
    n = phi.shape[1]
    yy = y[:, None] if y.ndim == 1 else y
    r = jnp.linalg.qr(jnp.concatenate([phi, yy], axis=1), mode="r")
    coef = jsl.solve_triangular(r[:n, :n], r[:n, n:], lower=False)
    return (coef[:, 0] if y.ndim == 1 else coef), jnp.abs(jnp.diag(r[:n, :n]))


@jax.jit
def solve_svd(phi, y, rcond):
    u, s, vt = jnp.linalg.svd(phi, full_matrices=False)
    keep = s > rcond * s[0]
    w = jnp.where(keep, (u.T @ y) / jnp.where(keep, s, 1), 0)
    return vt.T @ w, jnp.sum(keep), s


@jax.jit
def gram_eigenvalues(g):
    return jnp.linalg.eigvalsh(g)
