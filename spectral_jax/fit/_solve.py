r"""Run a solver module on a least-squares problem and collect its diagnostics.

`solve_normal` solves $G\alpha = b$ (`Cholesky`, `LU`, `TruncatedEigh`); `solve_sampled`
solves $\min\|A\alpha - y\|_2$ with $A = W^{1/2}\Phi$ (`QR`, `SVD`), or forms the normal
equations $A^\top A\,\alpha = A^\top y$ in the working precision for the normal-equation
solvers. Both return a `Solved` record: coefficients, modes kept (`rank`), the condition
number, the relative residual, the cut-off and its rule, and the spectrum the solver saw
(eigenvalues of $G$, singular values of $A$, or $|R_{ii}|$ for QR).
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from .._precision import machine_epsilon
from . import _solvers as S
from ._solver import (
    LU,
    QR,
    SVD,
    AbstractSolver,
    Cholesky,
    IllConditionedWarning,
    TruncatedEigh,
)

__all__ = ["Solved", "default_rcond", "solve_normal", "solve_sampled"]


class Solved(NamedTuple):
    coef: object
    rank: int
    cond: float
    residual: float
    cutoff: float | None
    cutoff_rule: str
    spectrum: np.ndarray | None
    ill_conditioned: bool
    numerical_rank: int


def default_rcond(eps: float, m: int, n: int) -> float:
    r"""The SVD solvers' default cut-off $\epsilon\sqrt{\max(m, N)}$.

    Rounding errors of a backward-stable SVD perturb each computed singular value by
    about $\epsilon\sqrt{\max(m,N)}\,s_1$ (they accumulate like a random walk), so modes
    below that are noise. NumPy's $\epsilon\max(m, N)$ is the worst-case bound; on the
    weighted quadrature problem ($m \approx 8N$ nodes) it drops most resolvable modes in
    float32: for the slides' arctan(25x) with N = 1001 it kept 20 modes (MAX error 0.13)
    where this cut-off keeps 184 and matches QR (1.4e-4).
    """
    return eps * float(np.sqrt(max(m, n)))


def _warn(where: str, solver: AbstractSolver, what: str, cond: float, eps: float, dt) -> None:
    warnings.warn(
        f"{where}: solver {solver.name!r} ran although {what} is numerically singular in "
        f"{np.dtype(dt).name} (condition number ~{cond:.3g} >= 1/eps = {1 / eps:.3g}); the "
        "coefficients may carry large errors (use QR/SVD on the features, a truncated "
        "solver, or a higher precision)",
        IllConditionedWarning,
        stacklevel=4,
    )


def _residual(g, coef, f, dt) -> float:
    return float(
        jnp.linalg.norm(g @ coef - f) / jnp.maximum(jnp.linalg.norm(f), jnp.finfo(dt).tiny)
    )


def solve_normal(g, f, solver: AbstractSolver, dt, where: str, *, what="the Gram matrix"):
    """Solve $G\\alpha = f$ with a normal-equation solver (see the module docstring)."""
    eps = machine_epsilon(dt)
    n = g.shape[0]
    if isinstance(solver, (Cholesky, LU)):
        kernel = S.cholesky_fit if isinstance(solver, Cholesky) else S.lu_fit
        coef, res, lmax, lmin = kernel(g, f)
        lmax, lmin = float(lmax), float(lmin)
        finite = bool(np.all(np.isfinite(np.asarray(coef))))
        if not finite and isinstance(solver, Cholesky):
            lam = np.asarray(S.gram_eigenvalues(g), np.float64)
            cond = float(lam[-1] / lam[0]) if lam[0] > 0 else float("inf")
            raise ValueError(
                f"{where}: solver 'cholesky' failed in {np.dtype(dt).name}: the factorisation "
                f"broke down (a non-positive pivot: {what} is not numerically positive definite "
                f"in this precision, condition number {cond:.3g}, 1/eps = {1 / eps:.3g}). Use "
                "solver='lu' (runs at any condition number, with a warning), 'eigh' "
                "(truncated), 'qr' or 'svd', or a higher precision."
            )
        if not finite:
            raise ValueError(
                f"{where}: solver 'lu' failed in {np.dtype(dt).name}: {what} is exactly "
                "singular (a zero pivot). Use solver='eigh' (truncated) or 'svd'."
            )
        ok = lmin > 0 and np.isfinite(lmax)
        cond = lmax / lmin if ok else float("inf")
        ill = not cond * eps < 1
        if ill:
            _warn(where, solver, what, cond, eps, dt)
        return Solved(coef, n, cond, float(res), None, "none (full solve)", None, ill, n)
    if not isinstance(solver, TruncatedEigh):
        raise TypeError(f"{where}: {type(solver).__name__} does not solve normal equations")
    tau = eps if solver.tau is None else solver.tau
    rule = (
        f"default tau = eps = {eps:.3g}: keep lambda_k > tau * lambda_1"
        if solver.tau is None
        else f"tau = {tau:.3g} (given): keep lambda_k > tau * lambda_1"
    )
    coef, rank, lam = S.solve_eigh(g, f, jnp.asarray(tau, dt))
    lam = np.asarray(lam, np.float64)
    cond = float(lam[-1] / lam[0]) if lam[0] > 0 else float("inf")
    if not np.all(np.isfinite(np.asarray(coef))):
        raise ValueError(
            f"{where}: solver 'eigh' failed in {np.dtype(dt).name} (non-finite coefficients)"
        )
    nrank = int(np.sum(lam > eps * lam[-1]))
    return Solved(
        coef,
        int(rank),
        cond,
        _residual(g, coef, f, dt),
        tau,
        rule,
        lam[::-1].copy(),
        not cond * eps < 1,
        nrank,
    )


def solve_sampled(a, y, solver: AbstractSolver, dt, where: str, *, weighted: bool):
    """Least squares on the (weighted) feature matrix ``a``: QR/SVD directly, the
    normal-equation solvers on $A^\\top A$ formed in the working precision."""
    eps = machine_epsilon(dt)
    m, n = a.shape
    name = f"the {'weighted ' if weighted else ''}feature matrix"
    if solver.normal_equations:
        g, f = a.T @ a, a.T @ y
        s = solve_normal(g, f, solver, dt, where, what=f"the normal matrix A^T A of {name}")
        return s._replace(residual=_residual(a, s.coef, y, dt))
    if isinstance(solver, QR):
        # No pivoting: backward stable, but |R_ii| is no rank estimate; the rank is N
        # unless the triangular solve breaks down (checked below).
        coef, rdiag = S.solve_qr(a, y)
        rd = np.asarray(rdiag, np.float64)
        cond = float(rd.max() / rd.min()) if rd.min() > 0 else float("inf")
        if not cond * eps < 1:  # max|R_ii|/min|R_ii| <= kappa_2: certainly singular
            raise ValueError(
                f"{where}: solver 'qr' found {name} numerically rank deficient in "
                f"{np.dtype(dt).name} (max|R_ii|/min|R_ii| = {cond:.3g} >= 1/eps = "
                f"{1 / eps:.3g}): QR without pivoting cannot pick a solution. Use solver='svd' "
                "(truncated, minimum-norm), remove repeated features, or use a higher precision."
            )
        rank, cutoff, rule, spec = n, None, "none (full solve)", rd
    elif isinstance(solver, SVD):
        cutoff = default_rcond(eps, m, n) if solver.rcond is None else solver.rcond
        rule = (
            f"default rcond = eps*sqrt(max(m, N)) = {cutoff:.3g} (m = {m} rows, N = {n}): "
            "keep s_k > rcond * s_1"
            if solver.rcond is None
            else f"rcond = {cutoff:.3g} (given): keep s_k > rcond * s_1"
        )
        coef, rank, s = S.solve_svd(a, y, jnp.asarray(cutoff, dt))
        spec = np.asarray(s, np.float64)
        rank = int(rank)
        cond = float(spec[0] / max(spec[-1], np.finfo(float).tiny))
    else:
        raise TypeError(f"{where}: unknown solver {type(solver).__name__}")
    if not np.all(np.isfinite(np.asarray(coef))):
        raise ValueError(
            f"{where}: solver {solver.name!r} failed in {np.dtype(dt).name} (non-finite "
            f"coefficients; the system is numerically singular, condition number ~{cond:.3g}). "
            "Use solver='eigh' (truncated) or 'svd', or a higher precision."
        )
    nrank = min(m, n if isinstance(solver, QR) else int(np.sum(spec > eps * spec[0])))
    return Solved(
        coef,
        rank,
        cond,
        _residual(a, coef, y, dt),
        cutoff,
        rule,
        spec,
        not cond * eps < 1 or m < n,
        nrank,
    )
