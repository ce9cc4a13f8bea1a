r"""The constant $\kappa$ of the Hoeffding bound and the bound itself.

With $h=\frac1n\sum_j a_j\sigma(w_j\cdot x-b_j)$, $\langle h,f\rangle=\frac1n\sum_j X_j$,
$X_j=a_j\,\psi(w_j,b_j)$, $\psi(w,b)=\int_D\sigma(w\cdot x-b)f(x)\,dx$: i.i.d., mean zero,
in $[-A\kappa, A\kappa]$ with $\kappa=\sup_{w,b}|\psi(w,b)|$ (``method="direct"``).
The slides write $\psi$ as the hyperplane integral of $g$, $\Delta g=f$. Green's formula
gives $\psi(w,b)=\int_{w\cdot x=b}g\,dH_{d-1}+\int_{\partial D}\sigma(w\cdot x-b)\,\partial_n g\,dS$
when $g|_{\partial D}=0$: the slides' $\kappa$ (``method="poisson"``) equals the direct one
only when also $\partial_n g=0$ on $\partial D$ (in 1D: $f\perp\{1,x\}$).
"""

from __future__ import annotations

import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_positive_int
from .._types import Array, Float
from ..activations import AbstractActivation, get_activation
from ..domains import Ball, Interval
from ..quadrature import QuadratureRule
from ._result import HoeffdingBound
from ._setup import check_common, setup

__all__ = ["rashomon_kappa", "hoeffding_bound", "ridge_inner_products"]

_GL = 48  # Gauss points per smooth piece


def _gl(order: int, dt) -> tuple[Array, Array]:
    t, q = np.polynomial.legendre.leggauss(order)
    return jnp.asarray((t + 1) / 2, dt), jnp.asarray(q / 2, dt)  # on [0, 1]


def _split(lo, hi, cut, order, dt):
    """Gauss nodes/weights (..., 2*order) on [lo, cut] and [cut, hi] (cut clipped)."""
    t, q = _gl(order, dt)
    cut = jnp.clip(cut, lo, hi)
    lo = jnp.broadcast_to(lo, cut.shape)
    hi = jnp.broadcast_to(hi, cut.shape)
    t = t.reshape((1,) * cut.ndim + (-1,))
    q = q.reshape((1,) * cut.ndim + (-1,))
    x1 = lo[..., None] + (cut - lo)[..., None] * t
    x2 = cut[..., None] + (hi - cut)[..., None] * t
    return jnp.concatenate([x1, x2], -1), jnp.concatenate(
        [(cut - lo)[..., None] * q, (hi - cut)[..., None] * q], -1
    )


@eqx.filter_jit
def _psi_disk(target, act, dirs, o):
    """Unit disk: x = s w + t w_perp, s = cos(theta), t = sin(theta) u; theta split at
    arccos(b). Vectorised over directions (one compile per target)."""
    dt = o.dtype
    th, qth = _split(
        jnp.asarray(0.0, dt), jnp.asarray(math.pi, dt), jnp.arccos(jnp.clip(o, -1, 1)), _GL // 2, dt
    )
    u, qu = _gl(_GL // 2, dt)
    u, qu = 2 * u - 1, 2 * qu
    s, st = jnp.cos(th), jnp.sin(th)  # (p, M)
    tt = st[..., None] * u[None, None, :]  # (p, M, U)

    def one(w):
        wp = jnp.stack([-w[1], w[0]])
        pts = s[..., None, None] * w[None, None, None, :] + tt[..., None] * wp[None, None, None, :]
        fx = target(pts.reshape(-1, 2)).reshape(pts.shape[:-1])
        inner = st * jnp.sum(qu[None, None, :] * fx, -1)  # chord integral
        return jnp.sum(qth * st * act(s - o[:, None]) * inner, -1)

    return jax.vmap(one)(dirs)


def ridge_inner_products(
    target,
    domain,
    act: AbstractActivation,
    dirs: Float[Array, "k d"],
    offsets: Float[Array, " p"],
    rule: QuadratureRule,
    dt,
) -> Float[Array, "k p"]:
    r"""$\psi(w,b)=\int_D\sigma(w\cdot x-b)f(x)dx$ on a grid of directions and offsets.

    1D interval and 2D ball: Gauss rules split at the kink $w\cdot x=b$ (spectrally
    accurate for smooth $f$); otherwise the given quadrature rule."""
    o = offsets
    if isinstance(domain, Interval) or (
        isinstance(domain, Ball)
        and domain.dim == 1
        and domain.center is None
        and domain.radius == 1.0
    ):
        lo, hi = (
            (float(domain.lo), float(domain.hi)) if isinstance(domain, Interval) else (-1.0, 1.0)
        )
        rows = []
        for w in np.asarray(dirs)[:, 0]:
            x, q = _split(jnp.asarray(lo, dt), jnp.asarray(hi, dt), o / w, 4 * _GL, dt)  # (p, M)
            fx = target(x.reshape(-1, 1)).reshape(x.shape)
            rows.append(jnp.sum(q * act(w * x - o[:, None]) * fx, -1))
        return jnp.stack(rows)
    if (
        isinstance(domain, Ball)
        and domain.dim == 2
        and domain.center is None
        and domain.radius == 1.0
    ):
        return _psi_disk(target, act, jnp.asarray(dirs, dt), o)
    z = rule.nodes @ jnp.asarray(dirs, dt).T  # (m, k)
    wf = rule.weights * target(rule.nodes)
    return jnp.einsum("m,mkp->kp", wf, act(z[..., None] - o[None, None, :]))


def _directions(dim: int, k: int, dt) -> np.ndarray:
    if dim == 1:
        return np.array([[1.0], [-1.0]])
    if dim == 2:
        th = 2 * np.pi * np.arange(k) / k
        return np.stack([np.cos(th), np.sin(th)], -1)
    from ..networks import quasi_uniform_directions

    return np.asarray(quasi_uniform_directions(k, dim, dtype=dt))


def _kappa_direct(prob, act, num_offsets, num_directions, dt) -> float:
    d = prob.target.dim
    dirs = _directions(d, num_directions, dt)
    if d >= 2:  # the grid only seeds the local refinement; keep the 2D work small
        num_offsets = min(num_offsets, 65)
    offs = jnp.linspace(-1.0, 1.0, num_offsets, dtype=dt)
    psi = np.abs(
        np.asarray(ridge_inner_products(prob.target, prob.domain, act, dirs, offs, prob.rule, dt))
    )
    kbest, pbest = np.unravel_index(np.argmax(psi), psi.shape)
    best = float(psi[kbest, pbest])
    # local refinement around the grid maximum (offset, and angle in 2D)
    db = 2.0 / (num_offsets - 1)
    b0 = float(offs[pbest])
    for _ in range(2):
        fine = jnp.linspace(max(-1.0, b0 - db), min(1.0, b0 + db), 41, dtype=dt)
        if d == 2:
            th0 = math.atan2(dirs[kbest][1], dirs[kbest][0])
            dth = 2 * math.pi / len(dirs)
            ths = th0 + np.linspace(-dth, dth, 21)
            cand = np.stack([np.cos(ths), np.sin(ths)], -1)
        else:
            cand = dirs[kbest : kbest + 1]
        v = np.abs(
            np.asarray(
                ridge_inner_products(prob.target, prob.domain, act, cand, fine, prob.rule, dt)
            )
        )
        i, j = np.unravel_index(np.argmax(v), v.shape)
        if v[i, j] > best:
            best = float(v[i, j])
        dirs, kbest, b0, db = cand, i, float(fine[j]), db / 20
    return best


def _kappa_poisson(prob, num_offsets, dt) -> float:
    d = prob.target.dim
    dom = prob.domain
    unit = (isinstance(dom, Interval) and dom.lo == -1.0 and dom.hi == 1.0) or (
        isinstance(dom, Ball) and dom.center is None and dom.radius == 1.0
    )
    if not unit:
        raise ValueError("rashomon_kappa: method='poisson' needs D = (-1, 1) or the unit ball")
    f = prob.target
    c = jnp.linspace(-1.0, 1.0, num_offsets, dtype=dt)
    if d == 1:
        # g(c) = -(1-c)/2 int_{-1}^c (1+y) f - (1+c)/2 int_c^1 (1-y) f  (g'' = f, g(+-1) = 0)
        y, q = _split(jnp.asarray(-1.0, dt), jnp.asarray(1.0, dt), c, 4 * _GL, dt)
        fy = f(y.reshape(-1, 1)).reshape(y.shape)
        left = y <= c[:, None]
        kern = jnp.where(left, -(1 - c[:, None]) * (1 + y), -(1 + c[:, None]) * (1 - y)) / 2
        return float(jnp.max(jnp.abs(jnp.sum(q * kern * fy, -1))))
    if d not in (2, 3):
        raise ValueError(
            f"rashomon_kappa: method='poisson' is implemented for d = 1, 2, 3; got d = {d}"
        )
    # radial f only: g(r) = int_0^1 t^{d-1} f(t) G(r, t) dt, G = log(max) (2D), 1 - 1/max (3D)
    tt = jnp.linspace(0.05, 0.95, 7, dtype=dt)
    ang = np.linspace(0.3, 2 * np.pi, 5)
    ref = f(jnp.stack([tt] + [jnp.zeros_like(tt)] * (d - 1), -1))
    for a in ang:
        e = np.zeros(d)
        e[0], e[1] = np.cos(a), np.sin(a)
        val = f(tt[:, None] * jnp.asarray(e, dt)[None, :])
        if not np.allclose(
            np.asarray(val), np.asarray(ref), rtol=1e-6, atol=1e-9 * float(np.max(np.abs(ref)) + 1)
        ):
            raise ValueError(
                "rashomon_kappa: method='poisson' in d >= 2 is implemented for radial targets "
                f"only; {f.name!r} is not radial. Use method='direct' (the valid constant)."
            )

    def g(r):  # r: (...,)
        t, q = _split(jnp.asarray(0.0, dt), jnp.asarray(1.0, dt), r, 2 * _GL, dt)
        ft = f(jnp.stack([t.reshape(-1)] + [jnp.zeros(t.size, dt)] * (d - 1), -1)).reshape(t.shape)
        mx = jnp.maximum(r[..., None], t)
        G = jnp.log(mx) if d == 2 else 1.0 - 1.0 / mx
        return jnp.sum(q * t ** (d - 1) * ft * G, -1)

    b = jnp.abs(c)
    u, qu = _gl(2 * _GL, dt)
    half = jnp.sqrt(jnp.clip(1 - b * b, 0.0, 1.0))
    # rho = half * sin(pi/2 * u) clusters nodes at the chord end (sqrt behaviour of g near r = 1)
    phi = 0.5 * math.pi * u[None, :]
    rho = half[:, None] * jnp.sin(phi)
    jac = half[:, None] * 0.5 * math.pi * jnp.cos(phi) * qu[None, :]
    gv = g(jnp.sqrt(b[:, None] ** 2 + rho**2).reshape(-1)).reshape(rho.shape)
    if d == 2:
        radon = 2 * jnp.sum(jac * gv, -1)
    else:
        radon = 2 * math.pi * jnp.sum(jac * rho * gv, -1)
    return float(jnp.max(jnp.abs(radon)))


def rashomon_kappa(
    target: Any,
    *,
    domain: Any = None,
    method: str = "direct",
    activation: AbstractActivation | str = "relu",
    num_offsets: int = 401,
    num_directions: int = 64,
    quadrature: QuadratureRule | None = None,
    dtype: Any = None,
) -> float:
    r"""The constant $\kappa$ of the Rashomon Hoeffding bound.

    - ``method="direct"`` (always valid): $\kappa=\sup_{w\in S^{d-1},|b|\le1}
      \big|\int_D\sigma(w\cdot x-b)f(x)\,dx\big|$, the range of $X_j/a_j$; computed on a
      grid of ``num_offsets`` offsets (and ``num_directions`` directions in $d\ge2$),
      refined twice around the maximum.
    - ``method="poisson"`` (the slides'): $\kappa=\sup_{w,b}\big|\int_{w\cdot x=b}g\,dH_{d-1}\big|$
      with $\Delta g=f$, $g=0$ on $\partial D$ ($D=(-1,1)$, or the unit disk/ball and a
      radial $f$). It equals the direct constant only if also $\partial_n g=0$ on
      $\partial D$ (1D: $\int f=\int xf=0$; radial: $\int_D f=0$); otherwise it can be far
      smaller and the bound then fails (e.g. $f=\sin(\nu\pi x)$: $1/(\nu\pi)^2$ against
      the valid $2/(\nu\pi)$).

    **Returns:** $\kappa$ as a float.

    **Raises:** ``ValueError`` for an unknown method, a non-radial target with
    ``"poisson"`` in $d\ge2$, or a target that is NaN/inf on $D$.

    **References:** arXiv 2306.17301 (slides: "Rashomon set for two layer NN", "Key observations").
    """
    where = "rashomon_kappa"
    if method not in ("direct", "poisson"):
        raise ValueError(f"{where}: method must be 'direct' or 'poisson'; got {method!r}")
    num_offsets = check_positive_int(num_offsets, "num_offsets", where)
    num_directions = check_positive_int(num_directions, "num_directions", where)
    if num_offsets < 3:
        raise ValueError(f"{where}: num_offsets must be at least 3; got {num_offsets}")
    prob = setup(target, domain, quadrature, dtype, where)
    if method == "poisson":
        return _kappa_poisson(prob, num_offsets, prob.dtype)
    return _kappa_direct(prob, get_activation(activation), num_offsets, num_directions, prob.dtype)


def hoeffding_bound(
    target: Any,
    n: int,
    epsilon: float,
    A: float = 1.0,
    domain: Any = None,
    *,
    kappa: float | None = None,
    kappa_method: str = "direct",
    activation: AbstractActivation | str = "relu",
    quadrature: QuadratureRule | None = None,
    dtype: Any = None,
) -> HoeffdingBound:
    r"""The bound $\mathbb{P}(\mathcal{R}_\varepsilon)\le\exp\!\big(-\frac{n(1-\varepsilon)^2
    \|f\|^4_{L^2(D)}}{2A^2\kappa^2}\big)$ (Hoeffding for the mean of $X_j\in[-A\kappa,A\kappa]$).

    It bounds the probability of the larger event $\langle h,f\rangle\ge(1-\varepsilon)\|f\|^2$
    and holds for every $f$ with ``kappa_method="direct"``; with the slides' ``"poisson"``
    constant it can fail (see `rashomon_kappa`).

    **Arguments:** `target`, `n` (width), `epsilon` in $(0,1)$, `A` $>0$, `domain`
    (default $(-1,1)$ / unit ball); `kappa`: use this value instead of computing it;
    `kappa_method`: ``"direct"`` or ``"poisson"``; `activation`, `quadrature`, `dtype`.

    **Returns:** a `HoeffdingBound`.

    **Raises:** ``ValueError`` for $\varepsilon\notin(0,1)$, $A\le0$, $n\le0$, $\kappa\le0$.

    **References:** arXiv 2306.17301 (slides: the Rashomon theorem).
    """
    where = "hoeffding_bound"
    n, eps, A = check_common(n, epsilon, A, where)
    prob = setup(target, domain, quadrature, dtype, where)
    if kappa is None:
        kappa = rashomon_kappa(
            prob.target,
            domain=prob.domain,
            method=kappa_method,
            activation=activation,
            quadrature=prob.rule,
            dtype=prob.dtype,
        )
        method = kappa_method
    else:
        method = "given"
    kappa = float(kappa)
    if not (math.isfinite(kappa) and kappa > 0):
        raise ValueError(f"{where}: kappa must be positive and finite; got {kappa}")
    expo = -n * (1 - eps) ** 2 * prob.f_norm_sq**2 / (2 * A * A * kappa * kappa)
    return HoeffdingBound(
        bound=math.exp(expo),
        exponent=expo,
        kappa=kappa,
        kappa_method=method,
        f_norm_sq=prob.f_norm_sq,
        n=n,
        epsilon=eps,
        A=A,
    )
