r"""Least-squares fits $\min_\alpha \|\sum_i \alpha_i\phi_i - f\|_{L^2(D)}$ in a basis.

Gram solvers solve the normal equations $G\alpha = F$ with the exact Gram matrix
$G_{ij} = \int_D\phi_i\phi_j$ and the load $F_i = \int_D f\phi_i$; sample solvers solve
$\min\|\Phi\alpha - y\|_2$ on sampled points, backward stably (QR, SVD).

**References:** S. Zhang, H. Zhao, Y. Zhong, H. Zhou, arXiv:2306.17301 (slides' Table 1).
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from .._argnames import argname, option
from .._checks import check_array, check_positive_int
from .._memory import check_memory
from .._precision import resolve_dtype
from .._types import Array, ArrayLike, Float
from ..domains import AbstractDomain, Interval
from ..targets import Target, get_target
from . import _solvers as S
from ._basis import AbstractBasis, FEMBasis, rule_rows
from ._solve import solve_normal, solve_sampled
from ._solver import SVD, AbstractSolver, as_solver

__all__ = ["FitResult", "fit_least_squares", "fit_samples", "as_target", "evaluation_grid"]


class FitResult(eqx.Module):
    r"""A fit $h = \sum_i \alpha_i\phi_i$ and its diagnostics.

    **Fields:** `basis`, `coefficients` ``(N,)``; static: `solver` (its name:
    ``"qr"``, ``"svd"``, ``"cholesky"``, ``"lu"``, ``"eigh"``), `dtype` (name), `rank`
    (modes kept: $N$ for full solves, the modes above the cut-off for ``"svd"`` and
    ``"eigh"``), `n_features`, `condition_number` ($\kappa_2$ of $G$, or of $\Phi$ for
    QR/SVD, in the working precision: exact from the eigenvalues for ``"eigh"``, the
    singular values for ``"svd"``; for ``"cholesky"``/``"lu"`` an $O(n^2)$ estimate from
    block power/inverse iteration on the factorisation, a lower bound, within ~7% for
    network Grams and a factor 1.6 for FEM mass matrices; for ``"qr"``
    $\max|R_{ii}|/\min|R_{ii}|$), `residual` (relative residual of the solved system),
    `max_error`, `mse`, `rel_l2_error` (on the evaluation grid), `eval_points`,
    `rank_deficient` (fewer than $N$ modes kept), `cutoff` (the relative cut-off used,
    None for full solves), `cutoff_rule` (why: the default rule and its value, or the
    given one), `ill_conditioned` (the system was numerically singular in this precision:
    $\operatorname{cond} \ge 1/\epsilon$; an `IllConditionedWarning` was emitted),
    `numerical_rank` (modes above $\epsilon$ times the largest); array: `spectrum` (the
    eigenvalues of $G$ in descending order for ``"eigh"``, the singular values for
    ``"svd"``, $|R_{ii}|$ for ``"qr"``, None for Cholesky/LU).
    Call it on points ``x`` to evaluate $h$.
    """

    basis: AbstractBasis
    coefficients: Float[Array, " N"]
    solver: str = eqx.field(static=True)
    dtype: str = eqx.field(static=True)
    rank: int = eqx.field(static=True)
    n_features: int = eqx.field(static=True)
    condition_number: float = eqx.field(static=True)
    residual: float = eqx.field(static=True)
    max_error: float = eqx.field(static=True)
    mse: float = eqx.field(static=True)
    rel_l2_error: float = eqx.field(static=True)
    eval_points: int = eqx.field(static=True)
    rank_deficient: bool = eqx.field(static=True, default=False)
    cutoff: float | None = eqx.field(static=True, default=None)
    cutoff_rule: str = eqx.field(static=True, default="none (full solve)")
    ill_conditioned: bool = eqx.field(static=True, default=False)
    numerical_rank: int | None = eqx.field(static=True, default=None)
    spectrum: Float[Array, " k"] | None = None

    def __check_init__(self):
        if self.coefficients.shape != (self.basis.size,):
            raise ValueError(
                f"FitResult: coefficients must have shape ({self.basis.size},) (one per basis "
                f"function); got {tuple(self.coefficients.shape)}"
            )

    def __call__(self, x: Float[ArrayLike, "m d"]) -> Float[Array, " m"]:
        return self.basis.evaluate(x, dtype=self.coefficients.dtype) @ self.coefficients

    def summary(self) -> dict:
        """Diagnostics as a JSON-able dict."""
        return {
            "solver": self.solver,
            "dtype": self.dtype,
            "n_features": self.n_features,
            "rank": self.rank,
            "rank_deficient": self.rank_deficient,
            "numerical_rank": self.numerical_rank,
            "cutoff": self.cutoff,
            "cutoff_rule": self.cutoff_rule,
            "ill_conditioned": self.ill_conditioned,
            "condition_number": self.condition_number,
            "residual": self.residual,
            "max_error": self.max_error,
            "mse": self.mse,
            "rel_l2_error": self.rel_l2_error,
            "eval_points": self.eval_points,
        }


def _result(basis, solved, solver, dt, errors, npts) -> FitResult:
    mx, mse, rel = errors
    spec = None if solved.spectrum is None else jnp.asarray(solved.spectrum)
    return FitResult(
        basis,
        solved.coef,
        solver.name,
        np.dtype(dt).name,
        solved.rank,
        basis.size,
        solved.cond,
        solved.residual,
        mx,
        mse,
        rel,
        int(npts),
        solved.rank < basis.size,
        solved.cutoff,
        solved.cutoff_rule,
        solved.ill_conditioned,
        solved.numerical_rank,
        spec,
    )


def as_target(target, domain: AbstractDomain, where: str) -> Target:
    """A `Target` from a name, an expression, a `Target` or a batch callable ``(m, d) -> (m,)``."""
    if isinstance(target, (str, Target)) or callable(target):
        t = get_target(target, dim=domain.dim)
        if t.dim != domain.dim:
            raise ValueError(f"{where}: target is {t.dim}-D but the domain is {domain.dim}-D")
        return t
    raise TypeError(
        f"{where}: target must be callable (or a target name/expression); "
        f"got {type(target).__name__}"
    )


def _values(t: Target, x, where: str, what: str):
    v = jnp.asarray(t(x))
    if v.shape != (x.shape[0],):
        raise ValueError(
            f"{where}: target must map points (m, d) to values (m,); got shape {v.shape} "
            f"for m={x.shape[0]}"
        )
    bad = ~np.isfinite(np.asarray(v))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"{where}: target returned NaN/inf at {int(bad.sum())} of the {what} "
            f"(first at x={np.asarray(x[i]).tolist()})"
        )
    return v.astype(x.dtype)


#: the largest number of points an array may index (int32 indexing in XLA kernels)
MAX_POINTS = 2**31 - 1
#: bytes of features evaluated at once when measuring the error on a grid
_CHUNK_BYTES = 32 * 2**20


def default_eval_points(dim: int) -> int:
    """Default evaluation points per axis: 10001 in 1D, 201 in 2D, 41 in 3D, 11 beyond
    (the grid has ``n**dim`` points)."""
    return {1: 10001, 2: 201, 3: 41}.get(dim, 11)


def _grid_bytes(m: int, d: int) -> int:
    """Peak bytes of building an ``m``-point grid in ``d`` dimensions (NumPy meshgrid,
    stack, mask and the device copy) and the float64 target/fit/error values on it."""
    return m * (3 * d + 8) * 8


def _check_eval_points(domain: AbstractDomain, eval_points: int | None, where: str) -> int:
    """Points per axis of the default evaluation grid, refused up front if the grid
    cannot be indexed (more than 2**31 - 1 points) or does not fit in memory."""
    d = domain.dim
    n = default_eval_points(d) if eval_points is None else eval_points
    n = check_positive_int(n, "eval_points", where)
    total = n**d
    w, arg = argname("where", where), argname("eval_points")
    pts = f"{total} points" + (f" ({n} per axis in {d}-D)" if d > 1 else "")
    if total > MAX_POINTS:
        raise ValueError(
            f"{w}: {arg} {n} asks for {pts}, more than the 2**31 - 1 an array can index; "
            f"use fewer {arg}"
        )
    check_memory(
        _grid_bytes(total, d) + 3 * _CHUNK_BYTES,
        what=f"{w}: {arg} {n} ({pts} to measure the error on)",
        hint=f"use fewer {arg}",
    )
    return n


def evaluation_grid(
    domain: AbstractDomain,
    eval_grid,
    eval_points: int | None,
    dtype,
    where: str,
    name: str = "eval_grid",
):
    """The user's grid (checked to be non-empty, finite and in the domain; called `name`
    in errors) or a dense uniform one of `eval_points` per axis (default
    `default_eval_points`), refused up front if it cannot be indexed or fit in memory."""
    if eval_grid is None:
        return domain.grid(_check_eval_points(domain, eval_points, where), dtype=dtype)
    g = jnp.asarray(eval_grid, dtype)
    if g.ndim == 1 and domain.dim == 1:
        g = g[:, None]
    check_array(g, name, where, shape=(None, domain.dim))
    if g.shape[0] == 0:
        raise ValueError(f"{where}: {name} is empty; pass at least one point")
    inside = np.asarray(domain.contains(g, tol=1e-12))
    if not inside.all():
        i = int(np.argmin(inside))
        raise ValueError(
            f"{where}: {name} has {int((~inside).sum())} points outside the domain "
            f"{domain.bounding_box()} (first: {np.asarray(g[i]).tolist()})"
        )
    return g


def _errors(basis, coef, t, grid, where):
    """MAX, MSE and relative L2 error of the fit on ``grid``; the features are evaluated
    in chunks of about 32 MiB, so any grid that fits in memory can be used."""
    m = grid.shape[0]
    step = max(1024, _CHUNK_BYTES // max(1, basis.size * np.dtype(coef.dtype).itemsize))
    if m <= step:
        h = basis.evaluate(grid, dtype=coef.dtype) @ coef
        f = _values(t, grid, where, "evaluation points")
        e = np.asarray(h, np.float64) - np.asarray(f, np.float64)
        fn = np.asarray(f, np.float64)
        rel = float(np.sqrt(np.mean(e**2) / max(np.mean(fn**2), np.finfo(float).tiny)))
        return float(np.max(np.abs(e))), float(np.mean(e**2)), rel
    mx, se, sf = 0.0, 0.0, 0.0
    for a in range(0, m, step):
        g = grid[a : a + step]
        h = basis.evaluate(g, dtype=coef.dtype) @ coef
        f = np.asarray(_values(t, g, where, "evaluation points"), np.float64)
        e = np.asarray(h, np.float64) - f
        mx, se, sf = (
            max(mx, float(np.max(np.abs(e)))),
            se + float(np.sum(e**2)),
            sf + float(np.sum(f**2)),
        )
    rel = float(np.sqrt((se / m) / max(sf / m, np.finfo(float).tiny)))
    return mx, se / m, rel


def _check_fit_memory(where, basis, solver, rows, dt, *, sampled: bool = False) -> None:
    """Refuse a fit whose feature matrices and solve cannot fit, before they are built.

    ``rows``: rows of the least-squares matrix (sampled solvers) or of the load rule (Gram
    solvers). Measured peaks (float64, 1D ReLU): 2.1-2.3 ``rows x N`` feature arrays for
    the Gram solvers, 2.6 for QR, 3.2 for SVD, about 0.3 more for FEM hats."""
    n = basis.size
    rows_g = rule_rows(basis)
    if rows_g is None:
        return
    isz = np.dtype(dt).itemsize
    extra = 0.5 if isinstance(basis, FEMBasis) else 0.0
    if solver in S.GRAM_SOLVERS:
        feat = (2.5 + extra) * max(rows_g, rows) * n * isz
        need = n * n * isz + max(feat, {"eigh": 5}.get(solver, 3) * n * n * isz)
    else:
        feat = ((3.0 if solver == "qr" else 3.5) + extra) * max(rows_g, rows) * n * isz
        need = feat + 2 * n * n * isz
    on = "samples" if sampled else "quadrature nodes"
    hint = f"use a smaller {argname('width', 'basis')}"
    if isz > 4:
        hint += f" or {option('dtype', 'float32')}"
    if sampled:
        hint += f", or fewer {argname('samples')}"
    elif solver not in S.GRAM_SOLVERS:
        hint += f", or fewer rows with {argname('samples')} (unweighted)"
    check_memory(
        int(need),
        what=(
            f"{argname('where', where)}: {n} features (a {max(rows, rows_g)} x {n} "
            f"{np.dtype(dt).name} feature matrix on the {on}, solver {solver!r})"
        ),
        hint=hint,
    )


def _check_dead_features(g, where):
    d = np.asarray(jnp.diag(g), np.float64)
    dead = np.flatnonzero(d <= 1e-30 * max(d.max(), 1e-300))
    if dead.size:
        raise ValueError(
            f"{where}: {dead.size} basis function(s) vanish on the whole domain (indices "
            f"{dead[:5].tolist()}; e.g. ReLU(x - b) with b at the right end): the Gram matrix "
            "is singular. Remove them (biases inside the domain)."
        )


def _sample_count(domain, samples: int) -> int:
    """Number of points `_sample_points` makes (without making them)."""
    if isinstance(domain, Interval):
        return samples
    return max(2, int(round(samples ** (1.0 / domain.dim)))) ** domain.dim


def _sample_points(domain, samples, dt):
    if isinstance(domain, Interval):
        return jnp.linspace(domain.lo, domain.hi, samples, dtype=dt)[:, None]
    per_axis = max(2, int(round(samples ** (1.0 / domain.dim))))
    return domain.grid(per_axis, dtype=dt)


def _check_rank(where, solved, m, n, dt, allow, what):
    r"""Refuse a sampled problem that does not determine every coefficient in this precision
    (fewer rows than features, or $s_N \le \epsilon s_1$), unless ``allow``."""
    if allow:
        return
    if m < n:
        raise ValueError(
            f"{where}: too few samples for the number of features: {m} samples < {n} "
            "features; the sampled least-squares problem is rank deficient (use samples >= "
            "features, ideally several times more, or allow_rank_deficient=True with "
            "solver='svd' for the minimum-norm fit)"
        )
    if solved.numerical_rank < n:
        raise ValueError(
            f"{where}: the {what} is numerically rank deficient in {np.dtype(dt).name}: "
            f"rank {solved.numerical_rank} of {n} features (singular values at or below "
            f"eps*s_1; condition number {solved.cond:.3g}). The samples do not determine every "
            "coefficient (repeated or clustered points, or features this precision cannot "
            "tell apart). Use more or better spread samples, fewer features or float64, or "
            "pass allow_rank_deficient=True to accept the minimum-norm truncated-SVD fit."
        )


def _check_allow(where, allow, solver):
    if allow and not isinstance(solver, SVD):
        raise ValueError(
            f"{where}: allow_rank_deficient needs solver='svd' (minimum-norm); got {solver.name!r}"
        )


def fit_samples(
    basis: AbstractBasis,
    x: Float[ArrayLike, "m d"],
    y: Float[ArrayLike, " m"],
    *,
    solver: str | AbstractSolver = "svd",
    rcond: float | None = None,
    target=None,
    dtype=None,
    eval_grid=None,
    eval_points: int | None = None,
    allow_rank_deficient: bool = False,
) -> FitResult:
    r"""Discrete least squares $\min_\alpha\|\Phi\alpha - y\|_2$ on given samples.

    Use it for noisy data. Errors (MAX/MSE) are measured against ``target`` (the clean
    function) if given, else against the data at the samples.

    **Arguments:** `basis`; `x` ``(m, d)`` sample points in the domain; `y` ``(m,)`` data;
    `solver`: a solver module (`QR`, `SVD`, `Cholesky`, `LU`, `TruncatedEigh`) or its
    string shorthand; the normal-equation solvers form $G = \Phi^\top\Phi$ and
    $b = \Phi^\top y$ in the working precision and run at any condition number (an
    `IllConditionedWarning` when $\operatorname{cond}(G) \ge 1/\epsilon$); `rcond`: the
    legacy keyword of ``solver="svd"`` (same as ``SVD(rcond)``; default
    $\epsilon\sqrt{\max(m, N)}$, the typical rounding error of the computed singular
    values); `target`, `dtype`, `eval_grid`, `eval_points` as in `fit_least_squares`;
    `allow_rank_deficient`: with the SVD solver, accept a numerically rank-deficient
    problem (fewer samples than features, or $s_N \le \epsilon s_1$: repeated or
    clustered points) and return the minimum-norm truncated-SVD solution (the
    over-parametrised regime).

    The cut-off never makes a problem "rank deficient": modes between $\epsilon s_1$ and
    the cut-off are dropped as rounding noise, and the result says how many were kept
    (`rank`), at which cut-off (`cutoff`) and by which rule (`cutoff_rule`). `fit_samples`
    and `fit_least_squares(..., samples=m)` apply the same rules.

    **Returns:** a `FitResult`.

    **Raises:** ``ValueError`` for fewer samples than features or $s_N \le \epsilon s_1$
    (unless ``allow_rank_deficient`` with SVD), shape mismatches, non-finite data, points
    outside the domain, `rcond` outside [0, 1) or a knob the solver does not read.
    """
    where = "fit_samples"
    dt = resolve_dtype(dtype, where)
    slv = as_solver(solver, rcond=rcond, where=where)
    _check_allow(where, allow_rank_deficient, slv)
    domain = basis.domain
    xs = evaluation_grid(domain, x, 1, dt, where, name="x")
    yv = jnp.asarray(y, dt)
    check_array(yv, "y", where, shape=(xs.shape[0],))
    _check_fit_memory(where, basis, slv.name, xs.shape[0], dt, sampled=True)
    if target is not None and eval_grid is None:
        _check_eval_points(domain, eval_points, where)
    return _sample_fit(
        basis, xs, yv, slv, target, dt, eval_grid, eval_points, where,
        allow_rank_deficient=allow_rank_deficient,
    )  # fmt: skip


def _sample_fit(
    basis, xs, yv, solver, target, dt, eval_grid, eval_points, where, sqrt_w=None,
    allow_rank_deficient=False,
):  # fmt: skip
    m, n = xs.shape[0], basis.size
    if m < n and not allow_rank_deficient:
        _check_rank(where, None, m, n, dt, False, "")
    phi = basis.evaluate(xs, dtype=dt)
    if sqrt_w is not None:  # weighted (quadrature) least squares = the L2 projection
        phi, yv = sqrt_w[:, None] * phi, sqrt_w * yv
    weighted = sqrt_w is not None
    solved = solve_sampled(phi, yv, solver, dt, where, weighted=weighted)
    if not weighted and not solver.normal_equations:
        _check_rank(where, solved, m, n, dt, allow_rank_deficient, "sampled problem")
    if target is not None:
        t = as_target(target, basis.domain, where)
        grid = evaluation_grid(basis.domain, eval_grid, eval_points, dt, where)
        errors = _errors(basis, solved.coef, t, grid, where)
        npts = grid.shape[0]
    else:
        e = np.asarray(phi @ solved.coef - yv, np.float64)
        mx, mse = float(np.abs(e).max()), float(np.mean(e**2))
        ym = max(float(np.mean(np.asarray(yv, np.float64) ** 2)), 1e-300)
        errors, npts = (mx, mse, float(np.sqrt(mse / ym))), m
    return _result(basis, solved, solver, dt, errors, npts)


def fit_least_squares(
    basis: AbstractBasis,
    target: Target | str | Callable,
    domain: AbstractDomain | None = None,
    *,
    solver: str | AbstractSolver = "cholesky",
    tau: float | None = None,
    rcond: float | None = None,
    samples: int | None = None,
    load_order: int = 8,
    dtype=None,
    eval_grid: Float[ArrayLike, "m d"] | None = None,
    eval_points: int | None = None,
    allow_rank_deficient: bool = False,
) -> FitResult:
    r"""Best $L^2(D)$ approximation of ``target`` in the span of ``basis``.

    Solvers (`solver=`, a module or its string shorthand):

    - `Cholesky()` ``"cholesky"``, `LU()` ``"lu"``: solve $G\alpha = F$ with the exact
      Gram matrix $G_{ij} = \int_D\phi_i\phi_j$ and load $F_i = \int_D f\phi_i$; they
      run at any condition number, with an `IllConditionedWarning` when
      $\operatorname{cond}(G) \ge 1/\epsilon$ (an error only if Cholesky breaks down);
    - `TruncatedEigh(tau)` ``"eigh"``: $\alpha = \sum_{\lambda_k > \tau\lambda_1}
      \lambda_k^{-1}(v_k^\top F)\,v_k$ (the low-pass filter, made explicit);
    - `QR()` ``"qr"``, `SVD(rcond)` ``"svd"``: backward-stable
      $\min\|W^{1/2}(\Phi\alpha - y)\|_2$ on the quadrature nodes with $W$ = the weights
      (the same $L^2$ problem as $G\alpha = F$, without squaring the condition number).

    With ``samples=m`` every solver works on $m$ evenly spaced points instead (the Gram
    solvers on the sampled normal equations $\Phi^\top\Phi\,\alpha = \Phi^\top y$),
    with the rules of `fit_samples`.

    **Arguments:**

    - `basis`: a `NetworkBasis` or `FEMBasis`.
    - `target`: a name (``"arctan25"``), an expression (``"sin(3*pi*x)"``), a `Target` or a
      callable on batches ``(m, d) -> (m,)``.
    - `domain`: defaults to (and must equal) ``basis.domain``.
    - `tau`, `rcond`: legacy keywords of ``"eigh"`` / ``"svd"`` (same as
      ``TruncatedEigh(tau)`` / ``SVD(rcond)``; refused with any other solver). Defaults:
      $\tau = \epsilon$ (the slides suggest $n\epsilon$, which drops too many modes, see
      the guide); rcond $= \epsilon\sqrt{\max(m, N)}$ with $m$ the number of rows.
    - `samples`: fit on this many evenly spaced points instead of the exact $L^2$ problem.
    - `load_order`: Gauss points per panel for $F_i = \int f\phi_i$.
    - `dtype`: working precision (default from x64).
    - `eval_grid`: points ``(m, d)`` in $D$ for MAX/MSE; default `eval_points` evenly
      spaced points per axis (default 10001 in 1D, 201 in 2D, 41 in 3D; the error is
      measured in chunks, so any grid that fits in memory works). The slides' Table 1 is
      reproduced with ``eval_points=10000`` (see the approximation guide).
    - `allow_rank_deficient`: with ``samples`` and SVD, as in `fit_samples`.

    **Returns:** a `FitResult` (coefficients + modes kept and why, condition number,
    residual, MAX, MSE, relative $L^2$ error).

    Sizes are checked before anything is allocated: a basis, sample count or evaluation
    grid whose estimated peak memory exceeds what is available raises
    `spectral_jax._memory.MemoryBudgetError` (a ``ValueError``) naming the size, the
    memory it needs and what to reduce; more than $2^{31}-1$ points is a ``ValueError``.

    **Raises:** ``TypeError`` for a non-callable target; ``ValueError`` for NaN/inf
    target values, an unknown solver, a knob the solver does not read, an evaluation grid
    outside the domain, fewer samples than features, `tau`/`rcond` outside [0, 1), a
    Cholesky breakdown, or a rank-deficient matrix for ``"qr"``.

    **References:** arXiv:2306.17301, Table 1 of the talk slides.
    """
    where = "fit_least_squares"
    if not isinstance(basis, AbstractBasis):
        raise TypeError(
            f"{where}: basis must be a NetworkBasis or FEMBasis; got {type(basis).__name__}"
        )
    dt = resolve_dtype(dtype, where)
    slv = as_solver(solver, tau=tau, rcond=rcond, where=where)
    if allow_rank_deficient and samples is None:
        raise ValueError(
            f"{where}: allow_rank_deficient applies to sampled fits (samples=m); the exact "
            "L2 problem has no samples to be too few"
        )
    _check_allow(where, allow_rank_deficient, slv)
    if domain is not None and (
        type(domain) is not type(basis.domain)
        or domain.bounding_box() != basis.domain.bounding_box()
    ):
        raise ValueError(f"{where}: domain {domain} differs from the basis domain {basis.domain}")
    domain = basis.domain
    t = as_target(target, domain, where)
    load_order = check_positive_int(load_order, "load_order", where)
    if samples is not None:
        samples = check_positive_int(samples, "samples", where)
        rows = _sample_count(domain, samples)
        if rows > MAX_POINTS:
            raise ValueError(
                f"{argname('where', where)}: {argname('samples')} {samples} asks for {rows} "
                "sample points, more than the 2**31 - 1 an array can index; use fewer "
                f"{argname('samples')}"
            )
    else:
        rows = rule_rows(basis, load_order) or 0
    if eval_grid is None:
        _check_eval_points(domain, eval_points, where)
    _check_fit_memory(where, basis, slv.name, rows, dt, sampled=samples is not None)
    grid = evaluation_grid(domain, eval_grid, eval_points, dt, where)
    if samples is not None or not slv.normal_equations:
        if samples is None:  # the quadrature rule, weighted: the continuous L2 problem
            rule = basis.rule(order=load_order, dtype=dt)
            xs, sw = rule.nodes, jnp.sqrt(rule.weights)
        else:
            xs, sw = _sample_points(domain, samples, dt), None
        _check_dead_features(basis.gram(dtype=dt), where)
        ys = _values(t, xs, where, "sample points")
        return _sample_fit(
            basis, xs, ys, slv, t, dt, grid, eval_points, where, sw,
            allow_rank_deficient=allow_rank_deficient,
        )  # fmt: skip
    g = basis.gram(dtype=dt)
    rule = basis.rule(order=load_order, dtype=dt)
    f = basis.load(_values(t, rule.nodes, where, "quadrature nodes"), rule)
    _check_dead_features(g, where)
    solved = solve_normal(g, f, slv, dt, where)
    errors = _errors(basis, solved.coef, t, grid, where)
    return _result(basis, solved, slv, dt, errors, grid.shape[0])
