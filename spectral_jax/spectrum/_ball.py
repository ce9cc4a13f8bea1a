r"""Eigenvalues of the continuous ReLU Gram operator on the unit ball, degree by degree.

The setting of the seeds' decay theorem in $d\ge2$: neurons $\sigma(w\cdot x-b)$ with
$w$ uniform on $S^{d-1}$ and $b$ uniform on $[-1,1]$, and $x$ in the unit ball $B^d$
with Lebesgue measure. With $\mu$ the product of the two uniform *probability* measures,
the Gram operator $(\mathcal G c)(w,b)=\int k((w,b),(w',b'))c(w',b')\,d\mu$,
$k=\int_{B^d}\sigma(w\cdot x-b)\sigma(w'\cdot x-b')\,dx$, has the same non-zero spectrum as
$\mathcal K f(x)=\int_{B^d}K(x,y)f(y)\,dy$ with
$K(x,y)=\mathbb E_{w,b}[\sigma(w\cdot x-b)\sigma(w\cdot y-b)]$; for $n$ neurons drawn from
$\mu$, the Gram matrix satisfies $\lambda_k(G)/n\to\mu_k$.

**Rotation invariance.** $K(Rx,Ry)=K(x,y)$, so $\mathcal K$ is block diagonal in the
spherical harmonics $Y_{\ell m}$. By the Funk–Hecke formula,
$\sigma(r\,\xi\cdot w-b)=\sum_\ell a_\ell(r,b)\sum_m Y_{\ell m}(\xi)Y_{\ell m}(w)$ with

$$a_\ell(r,b)=|S^{d-2}|\int_{-1}^{1}\sigma(rt-b)\,P_\ell^{(d)}(t)\,(1-t^2)^{(d-3)/2}\,dt,$$

($P_\ell^{(d)}$ the Gegenbauer polynomial with $P_\ell^{(d)}(1)=1$), and for
$f=g(r)Y_{\ell m}$,

$$(\mathcal K f)(r\xi)=Y_{\ell m}(\xi)\,\frac1{|S^{d-1}|}\int_0^1 A_\ell(r,s)\,g(s)\,s^{d-1}ds,
\qquad A_\ell(r,s)=\tfrac12\int_{-1}^{1}a_\ell(r,b)\,a_\ell(s,b)\,db .$$

Each degree $\ell$ is a one-dimensional problem whose eigenvalues $\mu_{\ell,j}$ carry the
multiplicity $N(d,\ell)=\dim\mathcal H_\ell$ (1, then 2 in $d=2$; $2\ell+1$ in $d=3$).

**ReLU in closed form.** With $\tau=b/r$, $a_\ell(r,b)=r\,\hat a_\ell(\tau)$: zero for
$\tau\ge1$; for $\tau\le-1$ only $\ell\le1$ survive; for $|\tau|<1$, in $d=2$
($t=\cos\theta$, $\alpha=\arccos\tau$, $P_\ell=\cos\ell\theta$)
$\hat a_\ell=2\int_0^\alpha(\cos\theta-\cos\alpha)\cos\ell\theta\,d\theta$, and in $d=3$
$\hat a_\ell=2\pi\int_\tau^1(t-\tau)P_\ell(t)\,dt$, the second antiderivative of the
Legendre polynomial (from $\int_\tau^1P_\ell=(P_{\ell-1}-P_{\ell+1})/(2\ell+1)$).

**Discretisation.** Gauss–Legendre in $r$ (weights $q_i r_i^{d-1}$) and a composite
Gauss rule in $b$ whose panel ends include every $\pm r_i$ (where $a_\ell$ is not smooth):
$M_\ell=B_\ell B_\ell^\top$ with $B_{ik}=\sqrt{q_ir_i^{d-1}\beta_k/(2|S^{d-1}|)}\,
a_\ell(r_i,b_k)$ (one GEMM and a symmetric eigen-solve per degree; absolute accuracy
$\varepsilon\mu_1$). The kernel $A_\ell$ is not smooth on its diagonal, so the Nyström
eigenvalues converge algebraically in the number of radial nodes (about $M^{-3}$); a
second solve at half the resolution gives the error estimate per eigenvalue.

**References:** 2306.17301 (the decay $\lambda_k\asymp k^{-(d+3)/d}$); Funk–Hecke: e.g.
Atkinson & Han, *Spherical Harmonics and Approximations on the Unit Sphere* (2012), §2.5.
"""

from __future__ import annotations

import math

import equinox as eqx
import numpy as np

from .._checks import check_positive_int

__all__ = ["BallSpectrum", "ball_gram_eigenvalues", "harmonic_dimension"]


def harmonic_dimension(d: int, ell: int) -> int:
    r"""$N(d,\ell)$, the dimension of the spherical harmonics of degree $\ell$ on
    $S^{d-1}$: $\binom{\ell+d-1}{d-1}-\binom{\ell+d-3}{d-1}$."""
    if ell == 0:
        return 1
    return math.comb(ell + d - 1, d - 1) - (math.comb(ell + d - 3, d - 1) if ell >= 2 else 0)


def _sphere_area(d: int) -> float:
    """|S^{d-1}| = 2 pi^{d/2} / Gamma(d/2)."""
    return 2 * math.pi ** (d / 2) / math.gamma(d / 2)


def _a_hat_2d(tau: np.ndarray, ell: int, al: np.ndarray) -> np.ndarray:
    """2 * int_0^alpha (cos t - cos alpha) cos(ell t) dt, alpha = arccos(tau), |tau| < 1."""
    c = tau
    if ell == 0:
        v = np.sin(al) - al * c
    elif ell == 1:
        v = al / 2 - np.sin(2 * al) / 4
    else:
        v = (
            np.sin((ell - 1) * al) / (2 * (ell - 1))
            + np.sin((ell + 1) * al) / (2 * (ell + 1))
            - c * np.sin(ell * al) / ell
        )
    return 2.0 * v


def _legendre_table(tau: np.ndarray, top: int) -> list[np.ndarray]:
    """P_0..P_top at tau (three-term recurrence)."""
    P = [np.ones_like(tau), tau.copy()]
    for n in range(1, top):
        P.append(((2 * n + 1) * tau * P[n] - n * P[n - 1]) / (n + 1))
    return P[: top + 1]


def _a_hat_3d(tau: np.ndarray, ell: int, P: list[np.ndarray]) -> np.ndarray:
    """2 pi * int_tau^1 (t - tau) P_ell(t) dt, |tau| < 1 (P: Legendre table at tau)."""
    if ell == 0:
        v = (1 - tau) ** 2 / 2
    elif ell == 1:
        v = (1 - tau**3) / 3 - tau * (1 - tau**2) / 2
    else:
        # int_tau^1 int_s^1 P_ell = int_tau^1 (P_{l-1} - P_{l+1})(s) ds / (2l+1)
        v = ((P[ell - 2] - P[ell]) / (2 * ell - 1) - (P[ell] - P[ell + 2]) / (2 * ell + 3)) / (
            2 * ell + 1
        )
    return 2 * math.pi * v


def _a_full(b: np.ndarray, r: np.ndarray, ell: int, d: int) -> np.ndarray:
    """a_ell(r, b) for b <= -r (the ReLU is linear over the whole sphere): only l <= 1."""
    area = _sphere_area(d)
    if ell == 0:
        return -b * area
    if ell == 1:
        return r * area / d  # |S^{d-2}| int t^2 (1-t^2)^{(d-3)/2} dt = |S^{d-1}| / d
    return np.zeros(np.broadcast_shapes(np.shape(b), np.shape(r)))


def _coefficients(r: np.ndarray, b: np.ndarray, ells, d: int):
    """Yield (ell, a_ell(r_i, b_k)) for ell in ells; r: (M,), b: (K,)."""
    R, Bm = np.meshgrid(r, b, indexing="ij")
    tau = Bm / R
    inside = np.abs(tau) < 1
    below = tau <= -1
    ti = np.where(inside, tau, 0.0)
    P = _legendre_table(ti, max(ells) + 2) if d == 3 else None
    al = np.arccos(ti) if d == 2 else None
    for ell in ells:
        a = np.zeros_like(R)
        hat = _a_hat_2d(ti, ell, al) if d == 2 else _a_hat_3d(ti, ell, P)
        a = np.where(inside, R * hat, a)
        a = np.where(below, _a_full(Bm, R, ell, d), a)
        yield ell, a


class BallSpectrum(eqx.Module):
    r"""Eigenvalues of the continuous Gram operator on the ball, with their provenance.

    **Fields:**

    - `eigenvalues`: $\mu_1\ge\mu_2\ge\dots$ with multiplicity, trusted ones only.
    - `degree`: the spherical-harmonic degree $\ell$ of each eigenvalue.
    - `radial_index`: $j$, the index within its degree (1-based).
    - `error_estimate`: $|\mu-\mu^{\text{coarse}}|/\mu$ against the coarser solve.
    - `d`: dimension; `radial_nodes`, `max_degree`: the resolution.
    - `complete_to`: every eigenvalue above this value is in the list (the largest
      eigenvalue *not* computed is below it).
    """

    eigenvalues: np.ndarray
    degree: np.ndarray
    radial_index: np.ndarray
    error_estimate: np.ndarray
    d: int = eqx.field(static=True)
    radial_nodes: int = eqx.field(static=True)
    max_degree: int = eqx.field(static=True)
    complete_to: float = eqx.field(static=True)


def _degree_eigenvalues(d: int, radial_nodes: int, order: int, ells) -> dict[int, np.ndarray]:
    r, qr = np.polynomial.legendre.leggauss(radial_nodes)
    r, qr = (r + 1) / 2, qr / 2
    # b-mesh: panels between sorted {-1, +-r_i, 1}
    brk = np.unique(np.concatenate([[-1.0, 1.0], r, -r]))
    g, gw = np.polynomial.legendre.leggauss(order)
    lo, hi = brk[:-1], brk[1:]
    b = ((hi - lo)[:, None] * (g[None, :] + 1) / 2 + lo[:, None]).ravel()
    bw = ((hi - lo)[:, None] / 2 * gw[None, :]).ravel()
    scale = np.sqrt(qr * r ** (d - 1))[:, None] * np.sqrt(bw / (2 * _sphere_area(d)))[None, :]
    out = {}
    for ell, a in _coefficients(r, b, list(ells), d):
        Bm = scale * a
        out[ell] = np.linalg.eigvalsh(Bm @ Bm.T)[::-1]
    return out


def ball_gram_eigenvalues(
    d: int = 2,
    *,
    activation: str = "relu",
    radial_nodes: int = 96,
    max_degree: int = 64,
    order: int = 6,
    rtol: float = 1e-3,
    k: int | None = None,
) -> BallSpectrum:
    r"""Eigenvalues of the continuous ReLU Gram operator on the unit ball $B^d$, $d=2,3$,
    far into the tail, from one-dimensional problems per spherical-harmonic degree.

    See the module docstring for the derivation. Each degree $\ell\le$ ``max_degree`` is
    solved twice, with ``radial_nodes`` and with ``radial_nodes // 2 + 8`` radial nodes
    (and the composite $b$-rule that follows them); an eigenvalue is kept when the two
    agree to ``rtol`` relatively. The list is then cut where it stops being complete:
    below the largest eigenvalue that was not resolved (the first unresolved radial index
    of each degree, and the top of degree ``max_degree + 1`` bounded by that of
    ``max_degree``).

    **Arguments:**

    - `d`: 2 or 3.
    - `activation`: ``"relu"`` (the closed form; other activations are not implemented).
    - `radial_nodes`: Gauss–Legendre nodes in $r$ of the fine solve.
    - `max_degree`: largest harmonic degree $\ell$.
    - `order`: Gauss points per panel of the $b$-rule.
    - `rtol`: relative agreement that makes an eigenvalue trusted.
    - `k`: return at most this many eigenvalues.

    **Returns:** a :class:`BallSpectrum` ($\lambda_k(G)/n\to\mu_k$ for $n$ neurons drawn
    from the uniform measure).

    **Raises:** ``ValueError`` for ``d`` not in {2, 3}, bad sizes, or a non-ReLU
    activation.

    **References:** 2306.17301.
    """
    where = "ball_gram_eigenvalues"
    if isinstance(d, bool) or d not in (2, 3):
        raise ValueError(f"{where}: d must be 2 or 3; got {d!r}")
    if activation != "relu":
        raise ValueError(
            f"{where}: activation must be 'relu' (the closed form of a_l); got {activation!r}"
        )
    radial_nodes = check_positive_int(radial_nodes, "radial_nodes", where)
    max_degree = check_positive_int(max_degree, "max_degree", where)
    order = check_positive_int(order, "order", where)
    if radial_nodes < 16:
        raise ValueError(f"{where}: radial_nodes must be >= 16; got {radial_nodes}")
    if not 0 < rtol < 1:
        raise ValueError(f"{where}: rtol must be in (0, 1); got {rtol}")
    ells = range(max_degree + 1)
    fine = _degree_eigenvalues(d, radial_nodes, order, ells)
    coarse = _degree_eigenvalues(d, radial_nodes // 2 + 8, order, ells)
    vals, degs, idx, errs = [], [], [], []
    unresolved = [fine[max_degree][0]]  # degree max_degree + 1 is below this
    for ell in ells:
        f, c = fine[ell], coarse[ell]
        m = min(len(f), len(c))
        err = np.abs(f[:m] - c[:m]) / np.maximum(np.abs(f[:m]), np.finfo(float).tiny)
        bad = np.nonzero(err > rtol)[0]
        good = int(bad[0]) if bad.size else m
        if good < len(f):
            unresolved.append(f[good])
        mult = harmonic_dimension(d, ell)
        for j in range(good):
            vals += [f[j]] * mult
            degs += [ell] * mult
            idx += [j + 1] * mult
            errs += [err[j]] * mult
    floor = float(max(unresolved))
    order_ = np.argsort(vals)[::-1]
    vals = np.asarray(vals)[order_]
    keep = vals > floor
    sel = order_[keep]
    if k is not None:
        k = check_positive_int(k, "k", where)
        sel = sel[:k]
    return BallSpectrum(
        eigenvalues=np.asarray(vals[keep][: len(sel)]),
        degree=np.asarray(degs)[sel],
        radial_index=np.asarray(idx)[sel],
        error_estimate=np.asarray(errs)[sel],
        d=d,
        radial_nodes=radial_nodes,
        max_degree=max_degree,
        complete_to=floor,
    )
