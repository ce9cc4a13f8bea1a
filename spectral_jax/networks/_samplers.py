r"""Samplers for biases and directions of shallow networks.

- `uniform_biases`: evenly spaced, $b_i = lo + (hi-lo)(i-1)/n$ (the seeds' rule) or
  midpoints/endpoints;
- `iid_biases`: i.i.d. uniform on $[lo, hi]$;
- `random_directions`: uniform on $S^{d-1}$ (normalised Gaussians);
- `quasi_uniform_directions`: $\pm1$ in 1D, evenly spaced angles in 2D, a Fibonacci
  lattice in 3D;
- `quasi_uniform_parameters`: (direction, bias) pairs that cover the *product* measure on
  $S^{d-1}\times[lo, hi]$ with low discrepancy (pairing the i-th quasi-uniform direction
  with the i-th evenly spaced bias puts all pairs on one curve);
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
    "quasi_uniform_parameters",
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


def _kronecker(n: int, dim: int) -> np.ndarray:
    r"""The first ``n`` points of the $R_{dim}$ Kronecker sequence in $[0, 1)^{dim}$ (float64).

    $t_i = \{1/2 + i\,\alpha\}$ with $\alpha_j = g^{-j}$ and $g$ the root of
    $x^{dim+1} = x + 1$ (the golden ratio for ``dim = 1``, the plastic number for 2): a
    low-discrepancy sequence whose every prefix is well spread, in any dimension."""
    g = 2.0
    for _ in range(100):  # fixed point of g = (1 + g)^(1/(dim+1)), converges fast
        g = (1.0 + g) ** (1.0 / (dim + 1))
    alpha = g ** -np.arange(1, dim + 1, dtype=np.float64)
    i = np.arange(n, dtype=np.float64)[:, None]
    return np.mod(0.5 + i * alpha, 1.0)


def quasi_uniform_parameters(
    n: int, d: int, lo: float = -1.0, hi: float = 1.0, *, dtype=None
) -> tuple[Float[Array, "n d"], Float[Array, " n"]]:
    r"""Deterministic (direction, bias) pairs that cover $S^{d-1}\times[lo, hi]$ uniformly.

    The parameters of a shallow network $\sum_i a_i\sigma(w_i\cdot x - b_i)$ live in the
    product space $S^{d-1}\times[lo, hi]$; a quasi-uniform design must fill that space,
    not a curve in it. The pairs are the image of a low-discrepancy point set
    $t_i\in[0,1)^{p}$ under measure-preserving maps:

    - $d = 1$: the seeds' setting, $w_i = 1$ and evenly spaced biases
      $b_i = lo + (hi-lo)(i-1)/n$;
    - $d = 2$: $t_i = ((i+\tfrac12)/n, \{\tfrac12 + i/\varphi\})$ (a Fibonacci lattice on
      the torus), $w_i = (\cos 2\pi t_{i1}, \sin 2\pi t_{i1})$, $b_i = lo + (hi-lo)t_{i2}$;
    - $d = 3$: the $R_2$ sequence $(u, v)$ with a stratified first coordinate
      $z_i = 1 - 2(i+\tfrac12)/n$ (Archimedes: $z$ uniform gives the uniform measure on
      $S^2$), azimuth $2\pi u$, bias from $v$;
    - $d\ge4$: the $R_{d+1}$ sequence (from its second point); its first $d$ coordinates through the normal
      quantile function give a Gaussian vector, normalised onto $S^{d-1}$; the last gives
      the bias.

    **Arguments:**

    - `n`: number of neurons.
    - `d`: input dimension.
    - `lo`, `hi`: the bias interval.
    - `dtype`: floating dtype (default from JAX's x64 mode).

    **Returns:** ``(directions, biases)`` of shapes ``(n, d)`` and ``(n,)``.

    **References:** M. Roberts, *The unreasonable effectiveness of quasirandom sequences*
    (2018) for $R_d$; the Fibonacci lattice as in `quasi_uniform_directions`.
    """
    where = "quasi_uniform_parameters"
    n = check_positive_int(n, "n", where)
    d = check_positive_int(d, "d", where)
    dt = resolve_dtype(dtype, where)
    if not lo < hi:
        raise ValueError(f"{where}: need lo < hi; got ({lo}, {hi})")
    i = np.arange(n, dtype=np.float64)
    if d == 1:
        w = np.ones((n, 1))
        t = i / n
    elif d == 2:
        u = (i + 0.5) / n
        t = np.mod(0.5 + i * (np.sqrt(5.0) - 1.0) / 2.0, 1.0)
        w = np.stack([np.cos(2 * np.pi * u), np.sin(2 * np.pi * u)], -1)
    elif d == 3:
        uv = _kronecker(n, 2)
        z = 1.0 - 2.0 * (i + 0.5) / n
        r = np.sqrt(np.clip(1.0 - z * z, 0.0, None))
        phi = 2 * np.pi * uv[:, 0]
        w = np.stack([r * np.cos(phi), r * np.sin(phi), z], -1)
        t = uv[:, 1]
    else:
        from statistics import NormalDist

        pts = _kronecker(n + 1, d + 1)[1:]  # t_0 = (1/2, ...) would map to the origin
        inv = np.vectorize(NormalDist().inv_cdf)
        g = inv(np.clip(pts[:, :d], 1e-12, 1 - 1e-12))
        w = g / np.linalg.norm(g, axis=1, keepdims=True)
        t = pts[:, d]
    b = lo + (hi - lo) * t
    return jnp.asarray(w, dtype=dt), jnp.asarray(b, dtype=dt)


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
