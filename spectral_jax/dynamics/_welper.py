r"""Welper's shallow 1D setting (seed 003) across widths: gradient descent on the biases
with the step size scaled with the width.

**Setting.** $f_\theta(x)=m^{-1/2}\sum_{r=1}^m a_r\,\mathrm{ReLU}(x-\theta_r)$ on
$[-1,1]$, $a_r=\pm1$ fixed (random signs), $\theta_r\sim U[-1,1]$ trained by gradient
descent $\theta^{k+1}=\theta^k-\eta_m\nabla E(\theta^k)$ on the continuous loss
$E=\tfrac12\|f_\theta-f\|^2_{L^2}$ (Gauss–Legendre). Under this scaling the NTK tends to
$K_\infty(x,x')=(1+\min(x,x'))/2$ and the top Gauss–Newton eigenvalue $\lambda_{\max}$
stays $O(1)$ in $m$, so gradient descent is stable for $\eta_m\lambda_{\max}<2$ whatever
the width. The seed states the step size scaled with the width two ways; both are run
from the same reference step $\eta_{m_0}=c/\lambda_{\max}(m_0)$ at the smallest width:

- ``"sqrt"``: $\eta_m=h\sqrt m$ ($h=\eta_{m_0}/\sqrt{m_0}$);
- ``"inv_sqrt"``: $\eta_m=h/\sqrt m$ ($h=\eta_{m_0}\sqrt{m_0}$);
- ``"lambda"`` (reference): $\eta_m=c/\lambda_{\max}(m)$, measured at each width.

Each run records the $L^2$ error $\|f_\theta-f\|$ and the largest bias drift
$\max_r|\theta_r-\theta_r(0)|$; it is *stable* when the loss is finite and
non-increasing at every step (checked inside the scan, not only at the records). The
direct-approximation reference is the least-squares error of the same features with free
outer weights (the best fit with the initial breakpoints). All widths run through
**one** compiled `lax.scan` on the fast 1D path (`fast1d_sorted_outputs`): networks are
padded to the largest width with $a_r=0$ neurons at $\theta_r=2$ (outside the domain: no
output, zero gradient).

**References:** G. Welper, *Approximation and Gradient Descent Training with Neural
Networks*, arXiv 2405.11696 (seed 003); R. Gentile and G. Welper, arXiv 2209.08399.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_positive_int
from ..domains import Interval
from ..networks import ShallowNetwork
from ..quadrature import gauss_legendre
from ._fast1d import fast1d_sorted_outputs
from ._modes import PowerLawFit, fit_power_law

__all__ = ["welper_sweep", "WelperRun", "WelperSweep", "WELPER_TARGETS", "WELPER_SCALINGS"]

#: targets of the sweep (smooth, with the amplitude the class reaches at small widths)
WELPER_TARGETS = {
    "gauss": lambda x: np.exp(-4.0 * x**2),
    "sin1": lambda x: np.sin(np.pi * x),
}
WELPER_SCALINGS = ("sqrt", "inv_sqrt", "lambda")


@dataclass
class WelperRun:
    r"""One width and one step-size schedule.

    **Fields:** `width` $m$, `scaling`, `lr` $\eta_m$, `lr_lambda` ($\eta_m\lambda_{\max}$,
    stable below 2), `lambda_max`, `steps`, `stable` (finite loss, non-increasing at
    every step), `diverged_at` (first record with a non-finite loss or one above
    $10^6E_0$; ``None``), `record_steps`, `errors` ($\|f_\theta-f\|_{L^2}$ per record),
    `drift` (max bias drift per record), `initial_error`, `final_error`,
    `ls_error` (least squares with the initial breakpoints, outer weights free),
    `rate` (fitted $-\mathrm d\log\|e\|/\mathrm dt$ per unit flow time $t=\eta k$ over
    the decay phase, records with error above twice the final one), `exp_r2` and
    `pow_r2` (R² of $\log\|e\|$ against $t$ and against $\log t$ over that phase: which
    law the decay follows), `drift_max`, `spacing` ($2/m$)."""

    width: int
    scaling: str
    lr: float
    lr_lambda: float
    lambda_max: float
    steps: int
    stable: bool
    diverged_at: int | None
    record_steps: np.ndarray
    errors: np.ndarray
    drift: np.ndarray
    initial_error: float
    final_error: float
    ls_error: float
    rate: float
    exp_r2: float
    pow_r2: float
    drift_max: float
    spacing: float

    @property
    def drift_over_spacing(self) -> float:
        return self.drift_max / self.spacing


@dataclass
class WelperSweep:
    """All runs of `welper_sweep`, with the fits over widths.

    **Fields:** `runs` (list of `WelperRun`), `widths`, `scalings`, `target`, `nodes`,
    `c`, `ref_width`; `error_fit` (`PowerLawFit` of the final error against $m$ over the
    stable ``"lambda"`` runs), `ls_fit` (the same for the least-squares level),
    `drift_fit` (drift / spacing against $m$), `wall_s`."""

    runs: list
    widths: tuple
    scalings: tuple
    target: str
    nodes: int
    c: float
    ref_width: int
    error_fit: PowerLawFit | None = None
    ls_fit: PowerLawFit | None = None
    drift_fit: PowerLawFit | None = None
    wall_s: float = 0.0
    meta: dict = field(default_factory=dict)

    def select(self, scaling: str) -> list:
        """The runs of one schedule, by increasing width."""
        return sorted((r for r in self.runs if r.scaling == scaling), key=lambda r: r.width)


def _network(m, seed):
    r"""Signs $a_r=\pm m^{-1/2}$ and biases $\theta_r\sim U[-1,1]$ of width `m` (NumPy
    float64; the generator is seeded by ``(seed, m)``, so every schedule and every sweep
    that contains `m` starts from the same network)."""
    rng = np.random.default_rng([int(seed), int(m)])
    a = np.where(rng.random(m) < 0.5, 1.0, -1.0) / math.sqrt(m)
    b = rng.uniform(-1.0, 1.0, m)
    return a, b


@eqx.filter_jit
def _descent(a, b0, lr, xs, q, f, n_records, record_every, limit):
    """`n_records` x `record_every` gradient steps on the biases (one compiled scan)."""
    M = a.shape[0]
    ones = jnp.ones((M, 1), xs.dtype)

    def loss(b):
        net = ShallowNetwork(a, ones, b, "relu")
        r = fast1d_sorted_outputs(net, xs) - f
        return 0.5 * jnp.sum(q * r * r)

    def step(c, _):
        b, bad, prev, rose = c
        val, g = jax.value_and_grad(loss)(b)
        bad = bad | ~jnp.isfinite(val) | (val > limit)
        rose = rose | (val > prev * (1 + 1e-12))
        return (jnp.where(bad, b, b - lr * g), bad, val, rose), None

    def chunk(c, _):
        c, _ = jax.lax.scan(step, c, None, length=record_every)
        b, bad, _, rose = c
        val = loss(b)
        drift = jnp.max(jnp.where(a != 0, jnp.abs(b - b0), 0.0))
        return c, (val, drift, bad | ~jnp.isfinite(val), rose)

    inf = jnp.asarray(jnp.inf, xs.dtype)
    c0 = (b0, jnp.asarray(False), inf, jnp.asarray(False))
    _, (vals, drift, bad, rose) = jax.lax.scan(chunk, c0, None, length=n_records)
    return vals, drift, bad, rose


def _gn_lambda_max(a, b, x, q):
    r"""Top eigenvalue of $J^TQJ$, $J_{lr}=-a_r\mathbf 1[x_l>b_r]$ (NumPy float64), from
    $(J^TQJ)_{rs}=a_ra_s\,W(\max(b_r,b_s))$ with $W(t)=\sum_{x_l>t}q_l$: $O(m^2)$, no
    $N\times m$ matrix."""
    tail = np.concatenate([np.cumsum(q[::-1])[::-1], [0.0]])  # tail[i] = sum_{l >= i} q_l
    W = tail[np.searchsorted(x, b, side="right")]
    order = np.argsort(b)
    Wmax = np.minimum.outer(W[order], W[order])  # W decreases in b: W(max) = min(W)
    ao = a[order]
    return float(np.linalg.eigvalsh(ao[:, None] * Wmax * ao[None, :])[-1])


def _ls_error(b, x, q, f):
    r"""$L^2_q$ error of the least-squares fit by $\mathrm{span}\{\mathrm{ReLU}(x-b_r)\}
    \cup\{1\}$: the continuous piecewise-linear functions with knots $b_r$, constant left
    of the first. In the hat basis on the knots (and $x=1$) every node meets two basis
    functions, so the normal matrix is tridiagonal and well conditioned (no $N\times m$
    design matrix)."""
    t = np.concatenate([np.sort(b), [1.0]])
    n = t.size
    i = np.clip(np.searchsorted(t, x, side="right") - 1, 0, n - 2)
    left = x < t[0]
    w = np.where(left, 0.0, (x - t[i]) / (t[i + 1] - t[i]))
    c1, c2 = np.where(left, 0, i), np.where(left, 0, i + 1)
    v1, v2 = 1.0 - w, w
    d = np.zeros(n)  # diagonal and super-diagonal of the tridiagonal normal matrix
    e = np.zeros(n)
    np.add.at(d, c1, q * v1 * v1)
    np.add.at(d, c2, q * v2 * v2)
    np.add.at(e, c1, np.where(c2 > c1, q * v1 * v2, 0.0))
    rhs = np.zeros(n)
    np.add.at(rhs, c1, q * v1 * f)
    np.add.at(rhs, c2, q * v2 * f)
    # a knot interval may hold no node (an empty row): a ridge of 1e-13 max(d) sets that
    # coefficient to zero without touching the others
    c = _tridiagonal_solve(d + 1e-13 * d.max(), e[:-1], rhs)
    r = c[c1] * v1 + c[c2] * v2 - f
    return float(np.sqrt(np.sum(q * r * r)))


def _tridiagonal_solve(d, e, rhs):
    """Solve the symmetric tridiagonal system (diagonal `d`, off-diagonal `e`) by the Thomas
    algorithm (the normal matrix of hat functions is diagonally dominant)."""
    n = d.size
    cp, dp = np.zeros(n), np.zeros(n)
    cp[0], dp[0] = (e[0] / d[0] if n > 1 else 0.0), rhs[0] / d[0]
    for i in range(1, n):
        den = d[i] - e[i - 1] * cp[i - 1]
        cp[i] = e[i] / den if i < n - 1 else 0.0
        dp[i] = (rhs[i] - e[i - 1] * dp[i - 1]) / den
    x = np.zeros(n)
    x[-1] = dp[-1]
    for i in range(n - 2, -1, -1):
        x[i] = dp[i] - cp[i] * x[i + 1]
    return x


def _r2(x, y):
    if x.size < 3 or np.ptp(x) == 0:
        return math.nan
    p = np.polyfit(x, y, 1)
    res = y - np.polyval(p, x)
    tot = np.sum((y - y.mean()) ** 2)
    return float(1 - np.sum(res**2) / tot) if tot > 0 else math.nan


def _decay_fit(t, err):
    """Rate and R² of the exponential and power-law fits over the decay phase."""
    ok = np.isfinite(err) & (err > 2 * err[-1]) & (t > 0)
    idx = np.nonzero(ok)[0]
    if idx.size < 3:
        return math.nan, math.nan, math.nan
    tt, le = t[idx], np.log(err[idx])
    rate = float(-np.polyfit(tt, le, 1)[0])
    return rate, _r2(tt, le), _r2(np.log(tt), le)


def welper_sweep(
    widths=(32, 64, 128, 256, 512, 1024),
    *,
    target: str = "gauss",
    scalings=WELPER_SCALINGS,
    c: float = 0.5,
    steps: int = 4000,
    record_every: int = 50,
    panels: int | None = None,
    seed: int = 0,
    progress=None,
) -> WelperSweep:
    r"""Run Welper's setting at each width in `widths` with each step-size schedule.

    **Arguments:**

    - `widths`: increasing widths $m$ (the first is the reference $m_0$).
    - `target`: a name in ``WELPER_TARGETS`` (``"gauss"``: $e^{-4x^2}$; ``"sin1"``:
      $\sin\pi x$).
    - `scalings`: subset of ``("sqrt", "inv_sqrt", "lambda")`` (see the module text).
    - `c`: $\eta_{m_0}\lambda_{\max}(m_0)$ (and $\eta_m\lambda_{\max}(m)$ for
      ``"lambda"``).
    - `steps`, `record_every`: gradient steps per run and the record interval.
    - `panels`: Gauss–Legendre panels of 8 nodes (default: half the largest width, at
      least 64: about four nodes per neuron).
    - `seed`: seed of the initialisations; the network of width $m$ comes from NumPy's
      generator seeded by ``(seed, m)``, the same for every schedule.
    - `progress`: a callable taking a message, or ``None``.

    **Returns:** a `WelperSweep`.

    **Raises:** ``ValueError`` for widths that are not increasing positive integers, an
    unknown target or schedule, or `c` not in $(0, 2)$.
    """
    where = "welper_sweep"
    ws = tuple(check_positive_int(m, "widths", where) for m in widths)
    if len(ws) < 2 or any(b <= a for a, b in zip(ws, ws[1:], strict=False)):
        raise ValueError(f"{where}: widths must be at least two increasing integers; got {ws}")
    if target not in WELPER_TARGETS:
        raise ValueError(f"{where}: target must be one of {sorted(WELPER_TARGETS)}; got {target!r}")
    bad = [s for s in scalings if s not in WELPER_SCALINGS]
    if bad or not scalings:
        raise ValueError(f"{where}: scalings must be taken from {WELPER_SCALINGS}; got {scalings}")
    c = float(c)
    if not 0 < c < 2:
        raise ValueError(f"{where}: c = eta * lambda_max must lie in (0, 2); got {c}")
    steps = check_positive_int(steps, "steps", where)
    record_every = check_positive_int(record_every, "record_every", where)
    if steps % record_every:
        raise ValueError(f"{where}: steps must be a multiple of record_every; got {steps}")
    say = progress or (lambda msg: None)
    t_start = time.perf_counter()
    dtype = jnp.float64 if jax.config.jax_enable_x64 else jnp.float32
    panels = max(64, ws[-1] // 2) if panels is None else check_positive_int(panels, "panels", where)
    rule = gauss_legendre(Interval(), 8, panels=panels, dtype=dtype)
    x = np.asarray(rule.nodes, np.float64)[:, 0]
    order = np.argsort(x)
    x, q = x[order], np.asarray(rule.weights, np.float64)[order]
    f = WELPER_TARGETS[target](x)
    M = ws[-1]
    xs_j, q_j, f_j = (jnp.asarray(v, dtype) for v in (x, q, f))
    nets = {m: _network(m, seed) for m in ws}
    lam = {m: _gn_lambda_max(*nets[m], x, q) for m in ws}
    m0 = ws[0]
    eta0 = c / lam[m0]
    runs = []
    for m in ws:
        a, b = nets[m]
        a_pad = jnp.asarray(np.concatenate([a, np.zeros(M - m)]), dtype)
        b_pad = jnp.asarray(np.concatenate([b, np.full(M - m, 2.0)]), dtype)
        ls = _ls_error(b, x, q, f)
        r0 = np.sum(a[None, :] * np.maximum(x[:, None] - b[None, :], 0.0), axis=1) - f
        e0 = math.sqrt(float(np.sum(q * r0 * r0)))
        for s in scalings:
            lr = dict(sqrt=eta0 * math.sqrt(m / m0), inv_sqrt=eta0 * math.sqrt(m0 / m))
            lr = lr.get(s, c / lam[m])
            say(f"welper: width {m}, {s} (lr {lr:.3g})")
            vals, drift, badf, rose = _descent(
                a_pad, b_pad, jnp.asarray(lr, dtype), xs_j, q_j, f_j,
                steps // record_every, record_every, jnp.asarray(1e6 * 0.5 * e0**2, dtype),
            )  # fmt: skip
            vals, drift, badf = np.asarray(vals), np.asarray(drift), np.asarray(badf)
            rose = bool(np.asarray(rose)[-1])
            err = np.sqrt(2 * np.maximum(vals, 0.0))
            err = np.concatenate([[e0], err])
            dr = np.concatenate([[0.0], drift])
            ks = np.arange(0, steps + 1, record_every)
            div = int(ks[1:][badf][0]) if badf.any() else None
            fin = np.isfinite(err)
            stable = div is None and not rose and bool(np.all(np.diff(err[fin]) <= 0))
            rate, r2e, r2p = _decay_fit(ks * lr, err) if div is None else (math.nan,) * 3
            runs.append(
                WelperRun(
                    width=m, scaling=s, lr=float(lr), lr_lambda=float(lr * lam[m]),
                    lambda_max=lam[m], steps=steps, stable=stable, diverged_at=div,
                    record_steps=ks, errors=err, drift=dr, initial_error=e0,
                    final_error=float(err[-1]), ls_error=ls, rate=rate, exp_r2=r2e,
                    pow_r2=r2p, drift_max=float(dr[fin].max()), spacing=2.0 / m,
                )
            )  # fmt: skip
    sweep = WelperSweep(runs, ws, tuple(scalings), target, int(x.size), c, m0)
    ref = [r for r in sweep.select("lambda") if r.stable] if "lambda" in scalings else []
    if len(ref) >= 2:
        sweep.error_fit = fit_power_law([r.width for r in ref], [r.final_error for r in ref])
        sweep.ls_fit = fit_power_law([r.width for r in ref], [r.ls_error for r in ref])
        sweep.drift_fit = fit_power_law([r.width for r in ref], [r.drift_over_spacing for r in ref])
    sweep.wall_s = time.perf_counter() - t_start
    return sweep
