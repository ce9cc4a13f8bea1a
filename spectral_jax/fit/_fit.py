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

from .._checks import check_array, check_positive_int
from .._memory import check_memory
from .._precision import machine_epsilon, resolve_dtype
from .._types import Array, ArrayLike, Float
from ..domains import AbstractDomain, Interval
from ..gram._gram import argname, option
from ..targets import Target, get_target
from . import _solvers as S
from ._basis import AbstractBasis, FEMBasis, rule_rows

__all__ = ["FitResult", "fit_least_squares", "fit_samples", "as_target", "evaluation_grid"]


class FitResult(eqx.Module):
    r"""A fit $h = \sum_i \alpha_i\phi_i$ and its diagnostics.

    **Fields:** `basis`, `coefficients` ``(N,)``; static: `solver`, `dtype` (name),
    `rank` (modes kept / numerical rank used), `n_features`, `condition_number`
    ($\kappa_2$ of $G$, or of $\Phi$ for sample solvers, in the working precision: exact
    from the eigenvalues for ``"eigh"``, the singular values for ``"svd"``; for
    ``"cholesky"``/``"lu"`` an $O(n^2)$ estimate from block power/inverse iteration on
    the factorisation, a lower bound, within ~7% for network Grams and a factor 1.6
    for FEM mass matrices; for ``"qr"`` $\max|R_{ii}|/\min|R_{ii}|$), `residual`
    (relative residual of the solved system), `max_error`, `mse`, `rel_l2_error`
    (on the evaluation grid), `eval_points`, `rank_deficient` (numerical rank < N).
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
            "condition_number": self.condition_number,
            "residual": self.residual,
            "max_error": self.max_error,
            "mse": self.mse,
            "rel_l2_error": self.rel_l2_error,
            "eval_points": self.eval_points,
        }


def as_target(target, domain: AbstractDomain, where: str) -> Target:
    """A `Target` from a name, an expression, a `Target` or a batch callable ``(m, d) -> (m,)``."""
    if isinstance(target, (str, Target)) or callable(target):
        t = get_target(target, dim=domain.dim)
        if t.dim != domain.dim:
            raise ValueError(f"{where}: target is {t.dim}-D but the domain is {domain.dim}-D")
        return t
    raise TypeError(
        f"{where}: target must be callable (or a target name/expression); got {type(target).__name__}"
    )


def _values(t: Target, x, where: str, what: str):
    v = jnp.asarray(t(x))
    if v.shape != (x.shape[0],):
        raise ValueError(
            f"{where}: target must map points (m, d) to values (m,); got shape {v.shape} for m={x.shape[0]}"
        )
    bad = ~np.isfinite(np.asarray(v))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"{where}: target returned NaN/inf at {int(bad.sum())} of the {what} (first at x={np.asarray(x[i]).tolist()})"
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


def _check_coef(coef, solver, cond, dt, where):
    if not np.all(np.isfinite(np.asarray(coef))):
        raise ValueError(
            f"{where}: solver {solver!r} failed in {np.dtype(dt).name} (non-finite coefficients; the "
            f"system is numerically singular, condition number ~{cond:.3g}). Use solver='eigh' "
            "(truncated) or 'svd', or a higher precision."
        )


def _check_dead_features(g, where):
    d = np.asarray(jnp.diag(g), np.float64)
    dead = np.flatnonzero(d <= 1e-30 * max(d.max(), 1e-300))
    if dead.size:
        raise ValueError(
            f"{where}: {dead.size} basis function(s) vanish on the whole domain (indices {dead[:5].tolist()}; e.g. "
            "ReLU(x - b) with b at the right end): the Gram matrix is singular. Remove them (biases inside the domain)."
        )


def _cutoff(value, name: str, where: str) -> float | None:
    """A relative cut-off (``tau``, ``rcond``): None or a finite value in [0, 1)."""
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{where}: {name} must be a number in [0, 1); got {value!r}") from err
    if not (0.0 <= v < 1.0):
        raise ValueError(
            f"{where}: {name} must be a relative threshold in [0, 1) (modes at or below "
            f"{name} times the largest are dropped); got {value!r}"
        )
    return v


def _default_rcond(eps: float, m: int, n: int) -> float:
    r"""The SVD solvers' default cut-off $\epsilon\sqrt{\max(m, N)}$.

    Rounding errors of a backward-stable SVD perturb each computed singular value by
    about $\epsilon\sqrt{\max(m,N)}\,s_1$ (they accumulate like a random walk), so modes
    below that are noise. NumPy's $\epsilon\max(m, N)$ is the worst-case bound; on the
    weighted quadrature problem ($m \approx 8N$ nodes) it drops most resolvable modes in
    float32: for the slides' arctan(25x) with N = 1001 it kept 20 modes (MAX error 0.13)
    where this cut-off keeps 184 and matches QR (1.4e-4).
    """
    return eps * float(np.sqrt(max(m, n)))


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


def fit_samples(
    basis: AbstractBasis,
    x: Float[ArrayLike, "m d"],
    y: Float[ArrayLike, " m"],
    *,
    solver: str = "svd",
    rcond: float | None = None,
    target=None,
    dtype=None,
    eval_grid=None,
    eval_points: int | None = None,
    allow_rank_deficient: bool = False,
) -> FitResult:
    r"""Discrete least squares $\min_\alpha\|\Phi\alpha - y\|_2$ on given samples (QR or SVD).

    Use it for noisy data. Errors (MAX/MSE) are measured against ``target`` (the clean
    function) if given, else against the data at the samples.

    **Arguments:** `basis`; `x` ``(m, d)`` sample points in the domain; `y` ``(m,)`` data;
    `solver` ``"qr"`` or ``"svd"``; `rcond` (SVD: drop $s_k \le$ rcond$\cdot s_1$; default
    $\epsilon\sqrt{\max(m, N)}$: the typical rounding error of the computed singular
    values; NumPy's $\epsilon\max(m, N)$ drops resolvable modes in float32); `target`, `dtype`, `eval_grid`,
    `eval_points` as in `fit_least_squares`; `allow_rank_deficient`: with
    ``solver="svd"``, accept a numerically rank-deficient problem (fewer samples than
    features, or samples that do not tell all features apart: repeated or clustered
    points) and return the minimum-norm truncated-SVD solution, flagged
    ``rank_deficient=True`` (the over-parametrised regime).

    **Returns:** a `FitResult`.

    **Raises:** ``ValueError`` for fewer samples than features or a numerically
    rank-deficient sample matrix (unless ``allow_rank_deficient`` with SVD), shape
    mismatches, non-finite data, points outside the domain, or `rcond` outside [0, 1).
    """
    where = "fit_samples"
    dt = resolve_dtype(dtype, where)
    if solver not in S.SAMPLE_SOLVERS:
        raise ValueError(f"{where}: solver must be one of {list(S.SAMPLE_SOLVERS)}; got {solver!r}")
    domain = basis.domain
    xs = evaluation_grid(domain, x, 1, dt, where, name="x")
    yv = jnp.asarray(y, dt)
    check_array(yv, "y", where, shape=(xs.shape[0],))
    if allow_rank_deficient and solver != "svd":
        raise ValueError(
            f"{where}: allow_rank_deficient needs solver='svd' (minimum-norm); got {solver!r}"
        )
    _check_fit_memory(where, basis, solver, xs.shape[0], dt, sampled=True)
    if target is not None and eval_grid is None:
        _check_eval_points(domain, eval_points, where)
    r = _sample_fit(
        basis,
        xs,
        yv,
        solver,
        _cutoff(rcond, "rcond", where),
        target,
        dt,
        eval_grid,
        eval_points,
        where,
        allow_rank_deficient=allow_rank_deficient,
    )
    if r.rank_deficient and not allow_rank_deficient:
        raise ValueError(
            f"{where}: the sampled problem is numerically rank deficient in {np.dtype(dt).name}: "
            f"rank {r.rank} of {r.n_features} features (singular values below rcond*s_1 dropped). "
            "The samples do not determine every coefficient (repeated or clustered points, or "
            "features this precision cannot tell apart). Use more or better spread samples, "
            "fewer features or float64, or pass allow_rank_deficient=True to accept the "
            "minimum-norm truncated-SVD fit."
        )
    return r


def _sample_fit(
    basis,
    xs,
    yv,
    solver,
    rcond,
    target,
    dt,
    eval_grid,
    eval_points,
    where,
    sqrt_w=None,
    allow_rank_deficient=False,
):
    m, n = xs.shape[0], basis.size
    if m < n and not allow_rank_deficient:
        raise ValueError(
            f"{where}: too few samples for the number of features: {m} samples < {n} features; the "
            "sampled least-squares problem is rank deficient (use samples >= features, ideally several times more)"
        )
    phi = basis.evaluate(xs, dtype=dt)
    if sqrt_w is not None:  # weighted (quadrature) least squares = the L2 projection
        phi, yv = sqrt_w[:, None] * phi, sqrt_w * yv
    eps = machine_epsilon(dt)
    if solver == "qr":
        # No pivoting: backward stable, but |R_ii| is no rank estimate; the rank is N
        # unless the triangular solve breaks down (checked below).
        coef, rdiag = S.solve_qr(phi, yv)
        rd = np.asarray(rdiag, np.float64)
        rank = n
        cond = float(rd.max() / rd.min()) if rd.min() > 0 else float("inf")
        if not cond * eps < 1:  # max|R_ii|/min|R_ii| <= kappa_2: certainly singular
            raise ValueError(
                f"{where}: solver 'qr' found the {'weighted ' if sqrt_w is not None else ''}"
                f"feature matrix numerically rank deficient in {np.dtype(dt).name} "
                f"(max|R_ii|/min|R_ii| = {cond:.3g} >= 1/eps = {1 / eps:.3g}): QR without "
                "pivoting cannot pick a solution. Use solver='svd' (truncated, minimum-norm), "
                "remove repeated features, or use a higher precision."
            )
    else:
        rc = _default_rcond(eps, m, n) if rcond is None else rcond
        coef, rank, s = S.solve_svd(phi, yv, jnp.asarray(rc, dt))
        s = np.asarray(s, np.float64)
        rank, cond = int(rank), float(s[0] / max(s[-1], np.finfo(float).tiny))
    _check_coef(coef, solver, cond, dt, where)
    res = float(
        jnp.linalg.norm(phi @ coef - yv) / jnp.maximum(jnp.linalg.norm(yv), jnp.finfo(dt).tiny)
    )
    if target is not None:
        t = as_target(target, basis.domain, where)
        grid = evaluation_grid(basis.domain, eval_grid, eval_points, dt, where)
        mx, mse, rel = _errors(basis, coef, t, grid, where)
        npts = grid.shape[0]
    else:
        e = np.asarray(phi @ coef - yv, np.float64)
        mx, mse = float(np.abs(e).max()), float(np.mean(e**2))
        rel, npts = float(np.sqrt(mse / max(np.mean(np.asarray(yv, np.float64) ** 2), 1e-300))), m
    return FitResult(
        basis, coef, solver, np.dtype(dt).name, rank, n, cond, res, mx, mse, rel, npts, rank < n
    )


def fit_least_squares(
    basis: AbstractBasis,
    target: Target | str | Callable,
    domain: AbstractDomain | None = None,
    *,
    solver: str = "cholesky",
    tau: float | None = None,
    rcond: float | None = None,
    samples: int | None = None,
    load_order: int = 8,
    dtype=None,
    eval_grid: Float[ArrayLike, "m d"] | None = None,
    eval_points: int | None = None,
) -> FitResult:
    r"""Best $L^2(D)$ approximation of ``target`` in the span of ``basis``.

    - ``"cholesky"``, ``"lu"``: solve $G\alpha = F$ with the exact Gram matrix (an error if
      the factorisation breaks down in this precision);
    - ``"eigh"``: truncated eigen-solve $\alpha = \sum_{\lambda_k > \tau\lambda_1}
      \lambda_k^{-1}(v_k^\top F)\,v_k$ (the low-pass filter, made explicit);
    - ``"qr"``, ``"svd"``: backward-stable $\min\|W^{1/2}(\Phi\alpha - y)\|_2$ on the
      quadrature nodes with $W$ = the weights (the same $L^2$ problem as $G\alpha = F$,
      without squaring the condition number), or, if ``samples`` is given, unweighted on
      that many evenly spaced points.

    **Arguments:**

    - `basis`: a `NetworkBasis` or `FEMBasis`.
    - `target`: a name (``"arctan25"``), an expression (``"sin(3*pi*x)"``), a `Target` or a
      callable on batches ``(m, d) -> (m,)``.
    - `domain`: defaults to (and must equal) ``basis.domain``.
    - `tau`: eigh threshold (default $\epsilon$ of the dtype; the slides suggest
      $n\epsilon$, which drops too many modes, see the guide).
    - `rcond`: SVD cut-off in [0, 1) (default $\epsilon\sqrt{\max(m, N)}$ with $m$ the
      number of rows: the typical rounding error of the computed singular values).
    - `samples`: ``"qr"``/``"svd"`` only: fit on this many evenly spaced points instead of
      the weighted quadrature nodes.
    - `load_order`: Gauss points per panel for $F_i = \int f\phi_i$.
    - `dtype`: working precision (default from x64).
    - `eval_grid`: points ``(m, d)`` in $D$ for MAX/MSE; default `eval_points` evenly
      spaced points per axis (default 10001 in 1D, 201 in 2D, 41 in 3D; the error is
      measured in chunks, so any grid that fits in memory works).

    **Returns:** a `FitResult` (coefficients + rank, condition number, residual, MAX,
    MSE, relative $L^2$ error).

    Sizes are checked before anything is allocated: a basis, sample count or evaluation
    grid whose estimated peak memory exceeds what is available raises
    `spectral_jax._memory.MemoryBudgetError` (a ``ValueError``) naming the size, the
    memory it needs and what to reduce; more than $2^{31}-1$ points is a ``ValueError``.

    **Raises:** ``TypeError`` for a non-callable target; ``ValueError`` for NaN/inf
    target values, an unknown solver, an evaluation grid outside the domain, fewer
    samples than features, `samples` with a Gram solver, `tau`/`rcond` outside [0, 1),
    a failed factorisation, or a rank-deficient matrix for ``"qr"``.

    **References:** arXiv:2306.17301, Table 1 of the talk slides.
    """
    where = "fit_least_squares"
    if not isinstance(basis, AbstractBasis):
        raise TypeError(
            f"{where}: basis must be a NetworkBasis or FEMBasis; got {type(basis).__name__}"
        )
    dt = resolve_dtype(dtype, where)
    if solver not in S.SOLVERS:
        raise ValueError(f"{where}: solver must be one of {list(S.SOLVERS)}; got {solver!r}")
    tau, rcond = _cutoff(tau, "tau", where), _cutoff(rcond, "rcond", where)
    if samples is not None and solver not in S.SAMPLE_SOLVERS:
        raise ValueError(
            f"{where}: samples applies to the sampled solvers {list(S.SAMPLE_SOLVERS)}; solver "
            f"{solver!r} integrates exactly with the Gram matrix (drop samples, or use 'qr'/'svd')"
        )
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
    _check_fit_memory(where, basis, solver, rows, dt, sampled=samples is not None)
    grid = evaluation_grid(domain, eval_grid, eval_points, dt, where)
    n = basis.size
    if solver in S.SAMPLE_SOLVERS:
        if samples is None:  # the quadrature rule, weighted: the continuous L2 problem
            rule = basis.rule(order=load_order, dtype=dt)
            xs, sw = rule.nodes, jnp.sqrt(rule.weights)
        else:
            xs, sw = _sample_points(domain, samples, dt), None
        _check_dead_features(basis.gram(dtype=dt), where)
        ys = _values(t, xs, where, "sample points")
        return _sample_fit(basis, xs, ys, solver, rcond, t, dt, grid, eval_points, where, sw)
    g = basis.gram(dtype=dt)
    rule = basis.rule(order=load_order, dtype=dt)
    f = basis.load(_values(t, rule.nodes, where, "quadrature nodes"), rule)
    _check_dead_features(g, where)
    rank = n
    eps = machine_epsilon(dt)
    if solver in ("cholesky", "lu"):
        coef, res, lmax, lmin = (S.cholesky_fit if solver == "cholesky" else S.lu_fit)(g, f)
        lmax, lmin = float(lmax), float(lmin)
        ok = np.all(np.isfinite(np.asarray(coef))) and lmin > 0 and np.isfinite(lmax)
        cond = lmax / lmin if ok else float("inf")
        if not ok:  # the error path only: the exact condition number for the message
            lam = np.asarray(S.gram_eigenvalues(g), np.float64)
            cond = float(lam[-1] / lam[0]) if lam[0] > 0 else float("inf")
        if not (ok and cond * eps < 1):
            raise ValueError(
                f"{where}: solver {solver!r} failed in {np.dtype(dt).name}: the Gram matrix is numerically "
                f"singular in this precision (condition number {cond:.3g} >= 1/eps = {1 / eps:.3g}). "
                "Use solver='eigh' (truncated), 'qr' or 'svd', or a higher precision."
            )
        res = float(res)
    else:
        tv = eps if tau is None else tau
        coef, rank, lam = S.solve_eigh(g, f, jnp.asarray(tv, dt))
        rank = int(rank)
        lam = np.asarray(lam, np.float64)
        cond = float(lam[-1] / lam[0]) if lam[0] > 0 else float("inf")
        _check_coef(coef, solver, cond, dt, where)
        res = float(
            jnp.linalg.norm(g @ coef - f) / jnp.maximum(jnp.linalg.norm(f), jnp.finfo(dt).tiny)
        )
    mx, mse, rel = _errors(basis, coef, t, grid, where)
    return FitResult(
        basis,
        coef,
        solver,
        np.dtype(dt).name,
        rank,
        n,
        cond,
        res,
        mx,
        mse,
        rel,
        int(grid.shape[0]),
        rank < n,
    )
