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
  i.e. $F(b_i) = (i-1)/(n-1)$;
- `golden_directions`: the golden-angle lattice on $S^1$ (and the Fibonacci sphere);
- `shallow_parameters`: one call for the ``(weights, biases)`` of a shallow network by
  a named bias rule and direction choice (what the command line and the report use).
"""

from __future__ import annotations

import warnings
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
    "golden_directions",
    "shallow_parameters",
    "BIAS_RULES",
    "DIRECTIONS",
]

#: the bias rules of `shallow_parameters`
BIAS_RULES = ("uniform", "left", "midpoint", "endpoints", "iid", "adaptive")
#: the direction choices of `shallow_parameters`
DIRECTIONS = ("ones", "alternating", "random", "quasi", "golden")


def _dim(dim, d, where: str) -> int:
    """The dimension from ``dim`` (or the deprecated keyword ``d``)."""
    if d is not None:
        warnings.warn(
            f"{where}: the keyword d is deprecated; use dim", DeprecationWarning, stacklevel=3
        )
        if dim is not None and dim != d:
            raise ValueError(f"{where}: give the dimension once (dim); got dim={dim}, d={d}")
        dim = d
    if dim is None:
        raise TypeError(f"{where}: missing the dimension dim")
    return check_positive_int(dim, "dim", where)


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


def random_directions(
    n: int, dim: int | None = None, *, key: PRNGKeyArray, dtype=None, d: int | None = None
) -> Float[Array, "n d"]:
    r"""I.i.d. uniform directions on $S^{d-1}$ (in 1D: random signs)."""
    where = "random_directions"
    n = check_positive_int(n, "n", where)
    d = _dim(dim, d, where)
    dt = resolve_dtype(dtype, where)
    g = jr.normal(key, (n, d), dtype=dt)
    norm = jnp.linalg.norm(g, axis=1, keepdims=True)
    return g / jnp.where(norm == 0, 1, norm)


def quasi_uniform_directions(
    n: int, dim: int | None = None, *, dtype=None, d: int | None = None
) -> Float[Array, "n d"]:
    r"""Deterministic, nearly uniform directions on $S^{d-1}$.

    d = 1: alternating $+1, -1$; d = 2: angles $2\pi i/n$; d = 3: the Fibonacci lattice
    $z_i = 1 - (2i+1)/n$, azimuth $i\,\pi(3-\sqrt5)$.
    """
    where = "quasi_uniform_directions"
    n = check_positive_int(n, "n", where)
    d = _dim(dim, d, where)
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
    n: int,
    dim: int | None = None,
    lo: float = -1.0,
    hi: float = 1.0,
    *,
    dtype=None,
    d: int | None = None,
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
    - $d\ge4$: the $R_{d+1}$ sequence (from its second point); its first $d$ coordinates
      through the normal quantile function give a Gaussian vector, normalised onto
      $S^{d-1}$; the last gives the bias.

    **Arguments:**

    - `n`: number of neurons.
    - `dim`: input dimension (the keyword ``d=`` is deprecated).
    - `lo`, `hi`: the bias interval.
    - `dtype`: floating dtype (default from JAX's x64 mode).

    **Returns:** ``(directions, biases)`` of shapes ``(n, d)`` and ``(n,)``.

    **References:** M. Roberts, *The unreasonable effectiveness of quasirandom sequences*
    (2018) for $R_d$; the Fibonacci lattice as in `quasi_uniform_directions`.
    """
    where = "quasi_uniform_parameters"
    n = check_positive_int(n, "n", where)
    d = _dim(dim, d, where)
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


def golden_directions(n: int, dim: int, *, dtype=None) -> Float[Array, "n d"]:
    r"""Directions on the golden-angle lattice.

    d = 2: $w_i = (\cos\theta_i, \sin\theta_i)$ with $\theta_i = 2\pi i/\varphi$,
    $\varphi = (1+\sqrt5)/2$ (every prefix is well spread, unlike evenly spaced angles,
    which need $n$ in advance); d = 3: the Fibonacci sphere of
    `quasi_uniform_directions` (golden-angle azimuths); d = 1: alternating $\pm1$.
    """
    where = "golden_directions"
    n = check_positive_int(n, "n", where)
    d = check_positive_int(dim, "dim", where)
    if d != 2:
        if d > 3:
            raise ValueError(f"{where}: implemented for d = 1, 2, 3; got d={d}")
        return quasi_uniform_directions(n, d, dtype=dtype)
    dt = resolve_dtype(dtype, where)
    t = 2 * np.pi * np.arange(n, dtype=np.float64) * ((np.sqrt(5.0) - 1.0) / 2.0)
    return jnp.asarray(np.stack([np.cos(t), np.sin(t)], -1), dtype=dt)


def shallow_parameters(
    width: int,
    dim: int = 1,
    *,
    bias_rule: str = "uniform",
    directions: str | None = None,
    key: PRNGKeyArray | None = None,
    target=None,
    bias_range: tuple[float, float] = (-1.0, 1.0),
    dtype=None,
) -> tuple[Float[Array, "n d"], Float[Array, " n"]]:
    r"""The parameters $(w_i, b_i)_{i=1}^n$ of a shallow network
    $\sum_i a_i\sigma(w_i\cdot x - b_i)$ on $[-1, 1]^d$, by a named rule.

    **Bias rules** (``bias_rule``, on ``bias_range`` $=[lo, hi]$):

    - ``"uniform"``: evenly spaced, the seeds' rule $b_i = lo + (hi-lo)(i-1)/n$ in 1D and
      the cell midpoints $lo + (hi-lo)(i-\tfrac12)/n$ for $d\ge2$ (then $|b_i| < 1$, so
      every breakplane $w_i\cdot x = b_i$ with a unit $w_i$ crosses the cube);
    - ``"left"``, ``"midpoint"``, ``"endpoints"``: the kinds of `uniform_biases`;
    - ``"iid"``: i.i.d. uniform on $[lo, hi]$ (needs ``key``);
    - ``"adaptive"``: $F(b_i) = (i-1)/(n-1)$ with $F$ the normalised cumulative $|f'|$ of
      ``target`` (`adaptive_biases`; 1D only).

    **Directions** (``directions``; default ``"ones"`` in 1D, ``"random"`` otherwise):

    - ``"ones"``: $w_i = 1$ (1D only);
    - ``"alternating"``: $w_i = \pm1$ alternately (1D only);
    - ``"random"``: uniform on $S^{d-1}$ (needs ``key``);
    - ``"quasi"``: `quasi_uniform_directions`; with ``bias_rule="uniform"`` the pairs
      $(w_i, b_i)$ together form the low-discrepancy design of `quasi_uniform_parameters`
      over $S^{d-1}\times[lo, hi]$ (pairing the $i$-th direction with the $i$-th evenly
      spaced bias would put every pair on one curve);
    - ``"golden"``: `golden_directions` ($d = 2, 3$).

    Random draws split ``key`` into ``(key_biases, key_directions)`` and are made in
    float32, then cast to ``dtype``, so float32 and float64 runs use the same network.

    **Arguments:**

    - `width`: $n$.
    - `dim`: $d$.
    - `bias_rule`, `directions`: as above.
    - `key`: a PRNG key (for ``"iid"`` and ``"random"``).
    - `target`: for ``"adaptive"``: a scalar callable $f$ or a 1-D target name.
    - `bias_range`: $(lo, hi)$.
    - `dtype`: floating dtype (default from JAX's x64 mode).

    **Returns:** ``(weights, biases)`` of shapes ``(n, d)`` and ``(n,)``.

    **Raises:** ``ValueError``/``TypeError`` naming the argument for an unknown rule, a
    rule that does not apply in this dimension, a missing ``key`` or ``target``.

    !!! Example
        ```python
        from spectral_jax.networks import shallow_parameters
        w, b = shallow_parameters(64, 2, bias_rule="uniform", directions="quasi")
        ```
    """
    where = "shallow_parameters"
    n = check_positive_int(width, "width", where)
    d = check_positive_int(dim, "dim", where)
    dt = resolve_dtype(dtype, where)
    lo, hi = (float(v) for v in bias_range)
    if not lo < hi:
        raise ValueError(f"{where}: bias_range must have lo < hi; got {bias_range}")
    if bias_rule not in BIAS_RULES:
        raise ValueError(f"{where}: bias_rule must be one of {BIAS_RULES}; got {bias_rule!r}")
    directions = ("ones" if d == 1 else "random") if directions is None else directions
    if directions not in DIRECTIONS:
        raise ValueError(f"{where}: directions must be one of {DIRECTIONS}; got {directions!r}")
    if d > 1 and directions in ("ones", "alternating"):
        raise ValueError(
            f"{where}: directions={directions!r} is for dim=1; got dim={d} (use 'random', "
            "'quasi' or 'golden')"
        )
    if bias_rule == "adaptive" and d != 1:
        raise ValueError(f"{where}: bias_rule='adaptive' is 1-D only; got dim={d}")
    if bias_rule != "adaptive" and target is not None:
        raise ValueError(
            f"{where}: target applies only with bias_rule='adaptive'; got bias_rule={bias_rule!r}"
        )
    if key is None and (bias_rule == "iid" or directions == "random"):
        what = "bias_rule='iid'" if bias_rule == "iid" else "directions='random'"
        raise ValueError(f"{where}: {what} needs a PRNG key (key=jax.random.key(seed))")
    key_b, key_w = jr.split(key) if key is not None else (None, None)
    if directions == "quasi" and bias_rule == "uniform":
        return quasi_uniform_parameters(n, d, lo, hi, dtype=dt)
    if bias_rule == "iid":
        b = iid_biases(n, lo, hi, key=key_b, dtype="float32").astype(dt)
    elif bias_rule == "adaptive":
        b = _adaptive(target, n, lo, hi, dt, where)
    else:
        kind = bias_rule if bias_rule != "uniform" else ("left" if d == 1 else "midpoint")
        b = uniform_biases(n, lo, hi, kind=kind, dtype=dt)
    if directions == "ones":
        w = jnp.ones((n, 1), dt)
    elif directions == "alternating":
        w = quasi_uniform_directions(n, 1, dtype=dt)
    elif directions == "random":
        w = random_directions(n, d, key=key_w, dtype="float32").astype(dt)
    elif directions == "quasi":
        w = quasi_uniform_directions(n, d, dtype=dt)
    else:
        w = golden_directions(n, d, dtype=dt)
    return w, b


def _adaptive(target, n: int, lo: float, hi: float, dt, where: str) -> Array:
    """Adaptive biases for a scalar callable or a 1-D target name."""
    if target is None:
        raise ValueError(f"{where}: bias_rule='adaptive' needs a target (f or a target name)")
    from ..targets import Target, get_target

    if isinstance(target, (str, Target)):
        t = get_target(target)
        if t.dim != 1:
            raise ValueError(
                f"{where}: the target for adaptive biases must be 1-D; got {target!r} ({t.dim}-D)"
            )
        target = t.scalar()
    return adaptive_biases(target, n, Interval(lo, hi), dtype=dt)
