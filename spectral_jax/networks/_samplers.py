r"""Samplers for biases and directions of shallow networks.

- `uniform_biases`: evenly spaced, $b_i = lo + (hi-lo)(i-1)/n$ (the seeds' rule) or
  midpoints/endpoints;
- `iid_biases`: i.i.d. uniform on $[lo, hi]$;
- `random_directions`: uniform on $S^{d-1}$ (normalised Gaussians);
- `quasi_uniform_directions`: $\pm1$ in 1D, evenly spaced angles in 2D, a Fibonacci
  lattice in 3D;
- `adaptive_biases`: equidistribute $F(x) = \int_{lo}^x |f'| / \int_{lo}^{hi} |f'|$,
  i.e. $F(b_i) = (i-1)/(n-1)$.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from .._checks import check_positive_int
from .._precision import resolve_dtype
from .._types import Array, Float, PRNGKeyArray
from ..domains import Interval

__all__ = [
    "uniform_biases",
    "iid_biases",
    "random_directions",
    "quasi_uniform_directions",
    "adaptive_biases",
]


def uniform_biases(
    n: int, lo: float = -1.0, hi: float = 1.0, *, kind: str = "left", dtype=None
) -> Float[Array, " n"]:
    r"""Evenly spaced biases on $[lo, hi]$.

    ``kind="left"``: $b_i = lo + (hi - lo)(i-1)/n$, $i = 1..n$ (the seeds' rule: it
    includes $lo$, excludes $hi$); ``"midpoint"``: cell midpoints;
    ``"endpoints"``: ``linspace(lo, hi, n)``.
    """
    where = "uniform_biases"
    n = check_positive_int(n, "n", where)
    dt = resolve_dtype(dtype, where)
    if not lo < hi:
        raise ValueError(f"{where}: need lo < hi; got ({lo}, {hi})")
    i = np.arange(n, dtype=np.float64)
    if kind == "left":
        b = lo + (hi - lo) * i / n
    elif kind == "midpoint":
        b = lo + (hi - lo) * (i + 0.5) / n
    elif kind == "endpoints":
        b = np.linspace(lo, hi, n)
    else:
        raise ValueError(f"{where}: kind must be 'left', 'midpoint' or 'endpoints'; got {kind!r}")
    return jnp.asarray(b, dtype=dt)


def iid_biases(
    n: int, lo: float = -1.0, hi: float = 1.0, *, key: PRNGKeyArray, dtype=None
) -> Float[Array, " n"]:
    """I.i.d. uniform biases on $[lo, hi]$."""
    where = "iid_biases"
    n = check_positive_int(n, "n", where)
    dt = resolve_dtype(dtype, where)
    if not lo < hi:
        raise ValueError(f"{where}: need lo < hi; got ({lo}, {hi})")
    return jr.uniform(key, (n,), dtype=dt, minval=lo, maxval=hi)


def random_directions(n: int, d: int, *, key: PRNGKeyArray, dtype=None) -> Float[Array, "n d"]:
    r"""I.i.d. uniform directions on $S^{d-1}$ (in 1D: random signs)."""
    where = "random_directions"
    n = check_positive_int(n, "n", where)
    d = check_positive_int(d, "d", where)
    dt = resolve_dtype(dtype, where)
    g = jr.normal(key, (n, d), dtype=dt)
    norm = jnp.linalg.norm(g, axis=1, keepdims=True)
    return g / jnp.where(norm == 0, 1, norm)


def quasi_uniform_directions(n: int, d: int, *, dtype=None) -> Float[Array, "n d"]:
    r"""Deterministic, nearly uniform directions on $S^{d-1}$.

    d = 1: alternating $+1, -1$; d = 2: angles $2\pi i/n$; d = 3: the Fibonacci lattice
    $z_i = 1 - (2i+1)/n$, azimuth $i\,\pi(3-\sqrt5)$.
    """
    where = "quasi_uniform_directions"
    n = check_positive_int(n, "n", where)
    d = check_positive_int(d, "d", where)
    dt = resolve_dtype(dtype, where)
    i = np.arange(n, dtype=np.float64)
    if d == 1:
        w = np.where(i % 2 == 0, 1.0, -1.0)[:, None]
    elif d == 2:
        t = 2 * np.pi * i / n
        w = np.stack([np.cos(t), np.sin(t)], -1)
    elif d == 3:
        z = 1 - (2 * i + 1) / n
        r = np.sqrt(1 - z * z)
        phi = i * np.pi * (3 - np.sqrt(5))
        w = np.stack([r * np.cos(phi), r * np.sin(phi), z], -1)
    else:
        raise ValueError(f"{where}: implemented for d = 1, 2, 3; got d={d} (use random_directions)")
    return jnp.asarray(w, dtype=dt)


def adaptive_biases(
    f: Callable[[Array], Array],
    n: int,
    domain: Interval | None = None,
    *,
    grid: int = 20001,
    dtype=None,
) -> Float[Array, " n"]:
    r"""Biases that equidistribute the total variation of ``f``.

    $F(x) = \int_{lo}^x |f'(t)|dt \,/ \int_{lo}^{hi}|f'(t)|dt$, and $b_i = F^{-1}((i-1)/(n-1))$,
    so biases cluster where $f$ changes fast. $f'$ comes from autodiff
    (``f`` maps a scalar to a scalar and must be JAX-traceable), integrated by the
    trapezoid rule on ``grid`` points and inverted by linear interpolation.

    **Raises:** ``ValueError`` if ``f`` is not callable, returns NaN/inf, or is constant.
    """
    where = "adaptive_biases"
    if not callable(f):
        raise TypeError(f"{where}: f must be a callable scalar function; got {type(f).__name__}")
    n = check_positive_int(n, "n", where)
    if n < 2:
        raise ValueError(f"{where}: n must be >= 2; got {n}")
    domain = Interval() if domain is None else domain
    if not isinstance(domain, Interval):
        raise TypeError(f"{where}: domain must be an Interval; got {type(domain).__name__}")
    dt = resolve_dtype(dtype, where)
    x = jnp.linspace(domain.lo, domain.hi, grid, dtype=dt)
    df = jax.vmap(jax.grad(lambda t: jnp.asarray(f(t), dtype=dt)))(x)
    df = np.abs(np.asarray(df, dtype=np.float64))
    if not np.all(np.isfinite(df)):
        raise ValueError(f"{where}: f' is NaN/inf somewhere on [{domain.lo}, {domain.hi}]")
    xs = np.asarray(x, dtype=np.float64)
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (df[1:] + df[:-1]) * np.diff(xs))])
    if cum[-1] <= 0:
        raise ValueError(f"{where}: f is constant on the domain; adaptive biases are undefined")
    F = cum / cum[-1]
    levels = np.arange(n) / (n - 1)
    # F is non-decreasing; make it strictly increasing for interpolation.
    F = F + np.arange(F.size) * 1e-15
    F = F / F[-1]
    return jnp.asarray(np.interp(levels, F, xs), dtype=dt)
