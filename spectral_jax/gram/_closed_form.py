r"""Closed-form Gram matrices of 1D ReLU$^p$ networks on an interval.

For $\sigma(z) = \max(z,0)^p$ and a direction $s_i=\pm1$, the feature
$\sigma(s_i x - b_i) = (s_i(x - t_i))_+^p$ has its kink at $t_i = s_i b_i$. A Gram entry is
the integral of a product of two such piecewise polynomials over the part of $D=(lo,hi)$
where both are non-zero. Shifting the variable to the left (or right) end of that part
writes every entry as a finite sum of **non-negative** terms,

$$\int_0^L (u+\alpha)^p(u+\beta)^p\,du = \sum_{r,s=0}^p \binom pr\binom ps
  \alpha^{p-r}\beta^{p-s}\frac{L^{r+s+1}}{r+s+1}\qquad(\alpha,\beta\ge0)$$

for equal directions and, with the Beta integral
$\int_0^L u^r(L-u)^s du = L^{r+s+1} r!\,s!/(r+s+1)!$,

$$\int_0^L (u+\alpha)^p(L-u+\gamma)^p\,du = \sum_{r,s=0}^p \binom pr\binom ps
  \alpha^{p-r}\gamma^{p-s}\,\frac{r!\,s!}{(r+s+1)!}L^{r+s+1}\qquad(\alpha,\gamma\ge0)$$

for opposite ones. No term cancels, so the entries are accurate to a few ulps in any
precision, in $O(p^2 n^2)$ vectorised work.

**References:** Z. Zhang, H. Zhao et al., *Why shallow networks struggle to approximate
and learn high frequencies* (2306.17301), Gram formula for 1D ReLU.
"""

from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_array
from .._precision import resolve_dtype
from .._types import Array, ArrayLike, Float
from ..domains import Interval

__all__ = ["relu_gram_1d", "relu_power_gram_1d", "relu_power_gram_kinks"]


def _same_dir(p: int, a, b, L):
    """$\\int_0^L (u+a)^p (u+b)^p du$ for $a, b, L \\ge 0$ (broadcast)."""
    out = jnp.zeros(jnp.broadcast_shapes(a.shape, b.shape, L.shape), L.dtype)
    for r in range(p + 1):
        ar = math.comb(p, r) * a ** (p - r)
        for s in range(p + 1):
            out = out + ar * (math.comb(p, s) * b ** (p - s)) * L ** (r + s + 1) / (r + s + 1)
    return out


def _opp_dir(p: int, a, g, L):
    """$\\int_0^L (u+a)^p (L-u+g)^p du$ for $a, g, L \\ge 0$ (broadcast)."""
    out = jnp.zeros(jnp.broadcast_shapes(a.shape, g.shape, L.shape), L.dtype)
    for r in range(p + 1):
        ar = math.comb(p, r) * a ** (p - r)
        for s in range(p + 1):
            beta = math.factorial(r) * math.factorial(s) / math.factorial(r + s + 1)
            out = out + ar * (math.comb(p, s) * g ** (p - s)) * beta * L ** (r + s + 1)
    return out


@partial(jax.jit, static_argnums=(0, 4, 5, 6))
def _kinks_gram(p: int, t, s, scale, lo: float, hi: float, cases: str = "mixed"):
    """The closed-form entries; ``cases`` (static) is ``"+"`` or ``"-"`` when every
    direction is $+1$ (or $-1$): only that case is computed (~4x less work than the
    four cases and the selection needed for mixed directions)."""
    ti, tj = t[:, None], t[None, :]
    si, sj = s[:, None], s[None, :]
    zero = jnp.zeros((), t.dtype)

    def plus_plus():  # support [max(ti, tj, lo), hi]
        c = jnp.clip(jnp.maximum(ti, tj), lo, hi)
        return _same_dir(p, c - jnp.minimum(ti, hi), c - jnp.minimum(tj, hi), hi - c)

    def minus_minus():  # support [lo, min(ti, tj, hi)], mirrored
        c2 = jnp.clip(jnp.minimum(ti, tj), lo, hi)
        return _same_dir(p, jnp.maximum(ti, lo) - c2, jnp.maximum(tj, lo) - c2, c2 - lo)

    # (+,-) with i increasing and j decreasing: support [max(ti, lo), min(tj, hi)]
    def opp(tp, tm):
        a_end = jnp.clip(tp, lo, hi)
        b_end = jnp.clip(tm, lo, hi)
        L = jnp.maximum(b_end - a_end, zero)
        return _opp_dir(p, a_end - jnp.minimum(tp, a_end), tm - jnp.minimum(tm, b_end), L)

    if cases == "+":
        g = plus_plus()
    elif cases == "-":
        g = minus_minus()
    else:
        g = jnp.where(
            (si > 0) & (sj > 0),
            plus_plus(),
            jnp.where(
                (si < 0) & (sj < 0), minus_minus(), jnp.where(si > 0, opp(ti, tj), opp(tj, ti))
            ),
        )
    return g * scale[:, None] * scale[None, :]


def _sign_cases(signs) -> str:
    """``"+"``/``"-"`` when every (concrete) sign is +1/-1, else ``"mixed"``."""
    if isinstance(signs, jax.core.Tracer):
        return "mixed"
    sn = np.asarray(signs)
    if sn.size and np.all(sn > 0):
        return "+"
    if sn.size and np.all(sn < 0):
        return "-"
    return "mixed"


def relu_power_gram_kinks(
    p: int,
    kinks: Float[ArrayLike, " n"],
    signs: Float[ArrayLike, " n"],
    scale: Float[ArrayLike, " n"],
    domain: Interval,
    *,
    dtype=None,
) -> Float[Array, "n n"]:
    r"""Gram of the features $c_i\,(s_i(x-t_i))_+^p$ on ``domain`` from kinks $t_i$,
    signs $s_i=\pm1$ and scales $c_i$ (the building block of `relu_power_gram_1d`;
    a network $\sigma(w_i x - b_i)$ has $t_i=b_i/w_i$, $s_i=\mathrm{sign}\,w_i$,
    $c_i=|w_i|^p$)."""
    dt = resolve_dtype(dtype, "relu_power_gram_kinks")

    def cast(x):  # host arrays go to the jitted call as they are (its fast argument path)
        return x.astype(dt) if isinstance(x, jax.Array) else np.asarray(x, np.dtype(dt))

    return _kinks_gram(
        int(p),
        cast(kinks),
        cast(signs),
        cast(scale),
        float(domain.lo),
        float(domain.hi),
        _sign_cases(signs),
    )


def relu_power_gram_1d(
    p: int,
    biases: Float[ArrayLike, " n"],
    signs: Float[ArrayLike, " n"] | None = None,
    domain: Interval | None = None,
    *,
    dtype=None,
) -> Float[Array, "n n"]:
    r"""Exact Gram matrix $G_{ij} = \int_D \sigma(s_i x - b_i)\sigma(s_j x - b_j)dx$ of
    1D ReLU$^p$ features, $\sigma(z)=\max(z,0)^p$, with directions $s_i = \pm1$.

    Every entry is a sum of non-negative terms (see the module docstring), hence
    accurate to rounding with no cancellation; $O(p^2n^2)$ work.

    **Arguments:**

    - `p`: integer power $\ge 1$.
    - `biases`: 1-D array of finite values $b_i$.
    - `signs`: directions $s_i\in\{+1,-1\}$ (default all $+1$).
    - `domain`: an `Interval` (default $(-1,1)$).
    - `dtype`: float32/float64 (default from x64).

    **Returns:** the symmetric ``(n, n)`` Gram matrix.

    **Raises:** ``ValueError`` for a bad ``p``, non-finite biases, signs other than
    $\pm1$ or of the wrong shape; ``TypeError`` for a non-interval domain.

    **References:** 2306.17301 (ReLU Gram closed form); derivation in the module docstring.
    """
    where = "relu_power_gram_1d"
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or p < 1:
        raise ValueError(f"{where}: p must be an integer >= 1; got {p!r}")
    domain = Interval() if domain is None else domain
    if not isinstance(domain, Interval):
        raise TypeError(f"{where}: domain must be an Interval; got {type(domain).__name__}")
    dt = resolve_dtype(dtype, where)
    check_array(biases, "biases", where, ndim=1)
    b = np.asarray(biases, dtype=np.float64)
    if b.shape[0] == 0:
        raise ValueError(f"{where}: width must be positive; got biases of shape {b.shape}")
    if signs is None:
        s = np.ones_like(b)
    else:
        check_array(signs, "signs", where, shape=(b.shape[0],))
        s = np.asarray(signs, dtype=np.float64)
        if not np.all(np.abs(s) == 1.0):
            raise ValueError(f"{where}: signs must be +1 or -1; got values {np.unique(s)[:5]}")
    return relu_power_gram_kinks(int(p), s * b, s, np.ones_like(b), domain, dtype=dt)


def relu_gram_1d(
    biases: Float[ArrayLike, " n"], domain: Interval | None = None, *, dtype=None
) -> Float[Array, "n n"]:
    r"""Exact Gram matrix of 1D ReLU features $\sigma(x - b_i)$ on $D=(lo,hi)$.

    With $c=\min(\max(b_i,b_j,lo),hi)$, $\alpha=c-b_i$, $\beta=c-b_j$ (clipped at
    $hi$) and $L = hi-c$:
    $G_{ij} = L^3/3 + (\alpha+\beta)L^2/2 + \alpha\beta L$. On $(-1,1)$ with biases inside it
    equals the seeds' formula
    $\tfrac1{12}|b_i-b_j|^3 + \tfrac1{12}(2-b_i-b_j)\big(2(1-b_i)(1-b_j)-(b_i-b_j)^2\big)$.

    **Arguments:** `biases` (1-D, finite), `domain` (an `Interval`), `dtype`.

    **Returns:** the ``(n, n)`` Gram matrix.

    **References:** 2306.17301 (slides: the 1D ReLU Gram matrix).
    """
    return relu_power_gram_1d(1, biases, None, domain, dtype=dtype)
