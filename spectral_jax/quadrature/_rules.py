r"""Quadrature rules on intervals, boxes and balls.

* `gauss_legendre` — (composite) Gauss–Legendre, tensor product on boxes; exact for
  polynomials of degree $2\,\mathrm{order}-1$ per axis and panel.
* `composite_gauss` — Gauss–Legendre on the panels of a breakpoint mesh. With the
  kinks of piecewise-polynomial integrands (e.g. the biases of a 1D ReLU$^p$ network) as
  breakpoints and ``order >= p+1`` it integrates Gram entries *exactly*.
* `ball_rule` — polar (d = 2) or spherical (d = 3) product rule: Gauss in the radius,
  trapezoid in periodic angles, Gauss in $\cos\theta$.
* `qmc_rule` — Halton quasi–Monte Carlo, any domain and dimension (fallback).
* `estimate_error` — error estimate by comparing a rule with its refinement.
"""

from __future__ import annotations

from collections.abc import Callable

import jax.numpy as jnp
import numpy as np

from .._checks import check_positive_int
from .._precision import resolve_dtype
from .._types import Array, ArrayLike, Float, PRNGKeyArray
from ..domains import AbstractDomain, Ball, Box, Interval
from ._rule import QuadratureRule

__all__ = ["gauss_legendre", "composite_gauss", "ball_rule", "qmc_rule", "estimate_error"]


#: above this order the Gauss nodes come from Newton's method, O(order) memory
_NEWTON_ORDER = 256


def leggauss(order: int) -> tuple[np.ndarray, np.ndarray]:
    r"""Gauss–Legendre nodes and weights on $[-1, 1]$ in float64, ascending.

    NumPy's ``leggauss`` solves an ``order x order`` eigenproblem ($O(q^2)$ memory,
    $O(q^3)$ time: 12 GiB at $q = 40000$). Above ``_NEWTON_ORDER`` the nodes are found by
    Newton's method on $P_q$ from Tricomi's initial guesses
    $x_k=\cos(\pi(k-\tfrac14)/(q+\tfrac12))$, with $P_q, P_{q-1}$ from the three-term
    recurrence and $w_k = 2/((1-x_k^2)P_q'(x_k)^2)$: $O(q)$ memory, $O(q^2)$ time.
    """
    order = int(order)
    if order <= _NEWTON_ORDER:
        return np.polynomial.legendre.leggauss(order)
    k = np.arange(1, order + 1, dtype=np.float64)
    x = np.cos(np.pi * (k - 0.25) / (order + 0.5))
    for _ in range(100):
        p0, p1 = np.ones_like(x), x.copy()
        for n in range(1, order):
            p0, p1 = p1, ((2 * n + 1) * x * p1 - n * p0) / (n + 1)
        dp = order * (x * p1 - p0) / (x * x - 1.0)
        step = p1 / dp
        x = x - step
        if np.max(np.abs(step)) < 1e-15:
            break
    p0, p1 = np.ones_like(x), x.copy()
    for n in range(1, order):
        p0, p1 = p1, ((2 * n + 1) * x * p1 - n * p0) / (n + 1)
    dp = order * (x * p1 - p0) / (x * x - 1.0)
    w = 2.0 / ((1.0 - x * x) * dp * dp)
    return x[::-1].copy(), w[::-1].copy()


def _gl_panels(edges: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Legendre with ``order`` points on each panel ``[edges[j], edges[j+1]]``."""
    t, w = leggauss(order)
    a, b = edges[:-1, None], edges[1:, None]
    half = 0.5 * (b - a)
    x = (0.5 * (a + b) + half * t[None, :]).ravel()
    q = (half * w[None, :]).ravel()
    return x, q


def _axes_rule(lo, hi, order: int, panels: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    xs, qs = [], []
    for a, b in zip(lo, hi, strict=True):
        x, q = _gl_panels(np.linspace(a, b, panels + 1), order)
        xs.append(x)
        qs.append(q)
    return xs, qs


def _tensor(xs: list[np.ndarray], qs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    grids = np.meshgrid(*xs, indexing="ij")
    wgrid = np.meshgrid(*qs, indexing="ij")
    nodes = np.stack([g.ravel() for g in grids], axis=-1)
    weights = np.prod(np.stack([g.ravel() for g in wgrid], axis=-1), axis=-1)
    return nodes, weights


def gauss_legendre(
    domain: Interval | Box, order: int, *, panels: int = 1, dtype=None
) -> QuadratureRule:
    r"""Composite tensor-product Gauss–Legendre rule on an interval or box.

    Each axis is split into ``panels`` equal panels with ``order`` Gauss points each;
    nodes: $(\mathrm{order}\cdot\mathrm{panels})^d$.

    **Arguments:**

    - `domain`: an `Interval` or `Box`.
    - `order`: Gauss points per panel and axis (exact to degree $2\,\mathrm{order}-1$).
    - `panels`: equal panels per axis (refinement for non-smooth integrands).
    - `dtype`: float32/float64 (default from x64).
    """
    where = "gauss_legendre"
    order = check_positive_int(order, "order", where)
    panels = check_positive_int(panels, "panels", where)
    dt = resolve_dtype(dtype, where)
    if not isinstance(domain, (Interval, Box)):
        raise TypeError(
            f"{where}: domain must be an Interval or Box; got {type(domain).__name__} "
            "(use ball_rule for balls, qmc_rule otherwise)"
        )
    lo, hi = domain.bounding_box()
    nodes, weights = _tensor(*_axes_rule(lo, hi, order, panels))
    return QuadratureRule(
        jnp.asarray(nodes, dt), jnp.asarray(weights, dt), kind=f"gauss{order}x{panels}"
    )


def composite_gauss(
    domain: Interval, breakpoints: Float[ArrayLike, " k"], order: int, *, dtype=None
) -> QuadratureRule:
    r"""Gauss–Legendre on the mesh whose nodes are the domain's ends and the
    ``breakpoints`` inside it.

    For an integrand that is a polynomial of degree $\le 2\,\mathrm{order}-1$ on each
    panel the rule is exact. A 1D ReLU$^p$ Gram entry
    $\int \sigma(x-b_i)\sigma(x-b_j)dx$ is piecewise of degree $2p$ with breaks at the
    biases, so ``order = p + 1`` and the biases as breakpoints give it exactly with about
    $(p+1)(n+1)$ nodes.

    **Arguments:**

    - `domain`: an `Interval`.
    - `breakpoints`: 1-D array of finite values; those outside the open interval are
      ignored, duplicates merged.
    - `order`: Gauss points per panel.
    """
    where = "composite_gauss"
    if not isinstance(domain, Interval):
        raise TypeError(f"{where}: domain must be an Interval; got {type(domain).__name__}")
    order = check_positive_int(order, "order", where)
    dt = resolve_dtype(dtype, where)
    bp = np.asarray(breakpoints, dtype=np.float64)
    if bp.ndim != 1:
        raise ValueError(f"{where}: breakpoints must be a 1-D array; got shape {bp.shape}")
    if not np.all(np.isfinite(bp)):
        raise ValueError(
            f"{where}: breakpoints must be finite; got {int(np.sum(~np.isfinite(bp)))} NaN/inf"
        )
    lo, hi = float(domain.lo), float(domain.hi)
    inner = np.unique(bp[(bp > lo) & (bp < hi)])
    edges = np.concatenate([[lo], inner, [hi]])
    edges = edges[np.concatenate([[True], np.diff(edges) > 0])]
    x, q = _gl_panels(edges, order)
    return QuadratureRule(
        jnp.asarray(x[:, None], dt), jnp.asarray(q, dt), kind=f"composite_gauss{order}"
    )


def ball_rule(ball: Ball, n_radial: int, n_angular: int, *, dtype=None) -> QuadratureRule:
    r"""Product rule on a ball in $d = 1, 2, 3$.

    - d = 2: $\int_0^R\int_0^{2\pi} g\, r\,d\theta\,dr$ with ``n_radial`` Gauss points in
      $r$ and ``n_angular`` equispaced angles (trapezoid, spectral for periodic $g$).
    - d = 3: Gauss in $r$ (weight $r^2$), ``n_angular`` Gauss points in $\cos\theta$ and
      ``2 n_angular`` equispaced azimuths.
    - d = 1: Gauss–Legendre with ``n_radial`` points on the interval.

    Nodes: d = 2: ``n_radial*n_angular``; d = 3: ``2*n_radial*n_angular**2``.
    Converges algebraically for kinked integrands; use `estimate_error`.
    """
    where = "ball_rule"
    if not isinstance(ball, Ball):
        raise TypeError(f"{where}: ball must be a Ball; got {type(ball).__name__}")
    nr = check_positive_int(n_radial, "n_radial", where)
    na = check_positive_int(n_angular, "n_angular", where)
    dt = resolve_dtype(dtype, where)
    d, R = ball.dim, float(ball.radius)
    c = np.asarray(ball.centre)
    if d == 1:
        x, q = _gl_panels(np.array([c[0] - R, c[0] + R]), nr)
        return QuadratureRule(jnp.asarray(x[:, None], dt), jnp.asarray(q, dt), kind="ball1")
    r, wr = _gl_panels(np.array([0.0, R]), nr)
    if d == 2:
        th = 2 * np.pi * np.arange(na) / na
        rr, tt = np.meshgrid(r, th, indexing="ij")
        w = (wr * r)[:, None] * np.full(na, 2 * np.pi / na)[None, :]
        nodes = np.stack([rr.ravel() * np.cos(tt.ravel()), rr.ravel() * np.sin(tt.ravel())], -1)
        return QuadratureRule(jnp.asarray(nodes + c, dt), jnp.asarray(w.ravel(), dt), kind="polar")
    if d == 3:
        ct, wct = leggauss(na)
        nphi = 2 * na
        ph = 2 * np.pi * np.arange(nphi) / nphi
        R_, C_, P_ = np.meshgrid(r, ct, ph, indexing="ij")
        st = np.sqrt(1 - C_**2)
        nodes = np.stack([R_ * st * np.cos(P_), R_ * st * np.sin(P_), R_ * C_], -1).reshape(-1, 3)
        w = (wr * r**2)[:, None, None] * wct[None, :, None] * np.full(nphi, 2 * np.pi / nphi)
        return QuadratureRule(
            jnp.asarray(nodes + c, dt), jnp.asarray(w.ravel(), dt), kind="spherical"
        )
    raise ValueError(
        f"{where}: product rules are implemented for balls of dimension 1, 2, 3; got "
        f"dimension {d}. Use qmc_rule(ball, n) for higher dimensions."
    )


_PRIMES = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71]


def _halton(n: int, d: int, skip: int = 20) -> np.ndarray:
    if d > len(_PRIMES):
        raise ValueError(
            f"qmc_rule: Halton points are implemented up to dimension {len(_PRIMES)}; got {d}"
        )
    idx = np.arange(skip + 1, skip + n + 1)
    out = np.empty((n, d))
    for j in range(d):
        base, f, x, i = _PRIMES[j], 1.0, np.zeros(n), idx.copy()
        while np.any(i > 0):
            f /= base
            x += f * (i % base)
            i //= base
        out[:, j] = x
    return out


def qmc_rule(
    domain: AbstractDomain, n: int, *, key: PRNGKeyArray | None = None, dtype=None
) -> QuadratureRule:
    r"""Halton quasi–Monte Carlo rule with ``n`` nodes and equal weights $|D|/n$.

    Works on any domain and dimension (points outside a ball are rejected from the
    bounding box deterministically). With a ``key``, a random Cranley–Patterson shift
    makes the rule randomised: independent shifts give an unbiased error estimate.
    Error $O(n^{-1}\log^d n)$ for smooth integrands.
    """
    where = "qmc_rule"
    n = check_positive_int(n, "n", where)
    dt = resolve_dtype(dtype, where)
    if not isinstance(domain, AbstractDomain):
        raise TypeError(f"{where}: domain must be a domain; got {type(domain).__name__}")
    lo, hi = map(np.asarray, domain.bounding_box())
    d = domain.dim
    shift = None
    if key is not None:
        import jax.random as jr

        shift = np.asarray(jr.uniform(key, (d,)), dtype=np.float64)
    frac = domain.volume / float(np.prod(hi - lo))
    m = int(np.ceil(n / frac * 1.3)) + 16
    while True:
        u = _halton(m, d)
        if shift is not None:
            u = (u + shift) % 1.0
        pts = lo + (hi - lo) * u
        pts = pts[np.asarray(domain.contains(pts))]
        if pts.shape[0] >= n:
            pts = pts[:n]
            break
        m *= 2
    w = np.full(n, domain.volume / n)
    return QuadratureRule(jnp.asarray(pts, dt), jnp.asarray(w, dt), kind="halton")


def estimate_error(
    integrand: Callable[[Array], Array],
    build: Callable[[int], QuadratureRule],
    level: int,
) -> tuple[Array, Array]:
    r"""Integrate with ``build(2*level)`` and estimate the error of ``build(level)`` as
    $|I_{2\ell} - I_\ell|$ (elementwise for vector/matrix-valued integrands).

    ``integrand`` maps nodes ``(m, d)`` to values ``(m, ...)``.

    **Returns:** ``(fine_value, error_estimate_of_coarse)``.
    """
    coarse = build(level)
    fine = build(2 * level)
    ic = coarse.integrate(integrand(coarse.nodes))
    if_ = fine.integrate(integrand(fine.nodes))
    return if_, jnp.abs(if_ - ic)
