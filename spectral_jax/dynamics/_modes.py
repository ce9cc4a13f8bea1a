r"""Mode tracking: the residual $r=h-f$ projected onto Fourier or Gram/NTK eigenmodes.

A `ModeTracker` holds basis functions $\varphi_k$ sampled at the loss nodes and a group
index $m(k)$. The error of mode $m$ is the $L^2_q$ norm of the $q$-orthogonal projection
of $r$ onto $\mathrm{span}\{\varphi_k: m(k)=m\}$,
$e_m=\big(\sum_{m(k)=m}\langle r,\varphi_k\rangle_q^2
/\langle\varphi_k,\varphi_k\rangle_q\big)^{1/2}$
(exact when the $\varphi_k$ are $q$-orthogonal, as sin/cos on a symmetric Gauss rule are).

**References:** seeds 000/001 (mode $m$ needs $O(m)$ / $O(m^2)$ / $O(m^3)$ steps to halve).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from .._checks import check_positive_int
from .._memory import array_bytes, check_memory
from .._types import Array, Float
from ._problem import LossDomain, select_trainable

__all__ = [
    "ModeTracker",
    "fourier_modes",
    "ntk_modes",
    "steps_to_halve",
    "fit_exponent",
    "mode_has_content",
    "halving_times",
    "PowerLawFit",
    "fit_power_law",
    "fourier_modes_bytes",
]

#: a mode whose initial error is below this fraction of the initial residual's norm has
#: no content: it has no time to halve (`halving_times` reports ``None``)
CONTENT_RTOL = 0.05


class ModeTracker(eqx.Module):
    """Basis ``(K, N)`` at the loss nodes, its group ids and the mode labels; for
    `ntk_modes` also the `eigenvalues` ``(K,)`` of the modes (else ``None``)."""

    basis: Float[Array, "K N"]
    groups: tuple[int, ...] = eqx.field(static=True)
    labels: tuple = eqx.field(static=True)
    eigenvalues: Float[Array, " K"] | None = None

    @property
    def n_modes(self) -> int:
        return len(self.labels)

    def errors(
        self, residual: Float[Array, " N"], weights: Float[Array, " N"]
    ) -> Float[Array, " M"]:
        """$e_m$ for each mode, shape ``(M,)``."""
        qb = self.basis * weights[None, :]
        c = qb @ residual
        nrm = jnp.sum(qb * self.basis, axis=1)
        contrib = c**2 / nrm
        return jnp.sqrt(jax.ops.segment_sum(contrib, jnp.asarray(self.groups), self.n_modes))


def fourier_basis_size(max_mode: int, dim: int, *, include_constant: bool = False) -> int:
    """Number of basis functions `fourier_modes` builds: $(2M+1)^d$, less the constant."""
    return (2 * int(max_mode) + 1) ** int(dim) - (0 if include_constant else 1)


def fourier_modes_bytes(
    max_mode: int, n_nodes: int, dim: int, *, include_constant: bool = False, dtype="float64"
) -> int:
    r"""Peak bytes of ``fourier_modes(dom, max_mode, include_constant=...)`` on a loss domain
    of `n_nodes` nodes in `dim` dimensions, and of the mode errors computed from it: the
    $K = (2M+1)^d - 1$ (or $(2M+1)^d$) basis functions in float64 (rows, then stacked),
    their copy in `dtype` and one weighted copy, $2K N (8 + \text{itemsize})$ bytes.
    `fourier_modes` checks it before building the basis.

    **Returns:** an ``int`` number of bytes."""
    k = fourier_basis_size(max_mode, dim, include_constant=include_constant)
    return 2 * array_bytes(k, n_nodes, dtype="float64") + 2 * array_bytes(k, n_nodes, dtype=dtype)


def fourier_modes(dom: LossDomain, max_mode: int, *, include_constant: bool = False) -> ModeTracker:
    r"""Fourier modes on the box $[lo, hi]^d$ of `dom`, with $t=(2x-lo-hi)/(hi-lo)\in[-1,1]$.

    1D: mode $m$ = span$\{\cos(m\pi t),\sin(m\pi t)\}$, $m=1..M$ (and $m=0$, the constant,
    if `include_constant`). $d$-D: tensor products $\prod_j\{\cos,\sin\}(m_j\pi t_j)$
    grouped by $m=\max_j m_j$.

    **Raises:** ``TypeError``/``ValueError`` for a `max_mode` that is not a positive
    integer; `MemoryBudgetError` (a ``ValueError``) when the basis (about
    $(2M+1)^d\times N$ values) cannot fit in the available memory.
    """
    where = "fourier_modes"
    M = check_positive_int(max_mode, "max_mode", where)
    if not isinstance(dom, LossDomain):
        raise TypeError(
            f"{where}: dom must be a LossDomain (see loss_domain); got {type(dom).__name__}"
        )
    d, N = dom.dim, dom.size
    k = fourier_basis_size(M, d, include_constant=include_constant)
    check_memory(
        fourier_modes_bytes(M, N, d, include_constant=include_constant, dtype=dom.nodes.dtype),
        what=f"{where}: max_mode={M} ({k} basis functions on {N} nodes in {d}-D)",
        hint="track fewer modes (a smaller max_mode)",
    )
    x = np.asarray(dom.nodes, dtype=np.float64)
    lo, hi = np.asarray(dom.lo), np.asarray(dom.hi)
    t = (2 * x - lo - hi) / (hi - lo)
    m0 = 0 if include_constant else 1
    rows, groups = [], []
    import itertools

    one_d = [(0, "c")] + [(m, kind) for m in range(1, M + 1) for kind in ("c", "s")]
    for combo in itertools.product(one_d, repeat=d):
        m = max(c[0] for c in combo)
        if m < m0:
            continue
        v = np.ones(x.shape[0])
        for j, (mj, kind) in enumerate(combo):
            v = v * (np.cos(mj * np.pi * t[:, j]) if kind == "c" else np.sin(mj * np.pi * t[:, j]))
        rows.append(v)
        groups.append(m - m0)
    labels = tuple(range(m0, M + 1))
    return ModeTracker(jnp.asarray(np.array(rows), dom.nodes.dtype), tuple(groups), labels)


def ntk_modes(model, dom: LossDomain, k: int, *, trainable="all") -> ModeTracker:
    r"""The top-`k` eigenvectors of the (trainable-part) NTK Gram operator at `model`.

    $K=JJ^T$ with $J_{lj}=\partial h(x_l)/\partial\theta_j$; the eigenvectors of the
    $q$-symmetrised $Q^{1/2}KQ^{1/2}$ mapped back by $Q^{-1/2}$ are $q$-orthogonal.
    Mode labels are the eigenvalue ranks 1..k (largest first); the eigenvalues
    $\lambda_m$ of $Q^{1/2}KQ^{1/2}$ (those of the Gram matrix $J^TQJ$) are kept in
    ``tracker.eigenvalues``. Under the linearised flow mode $m$ decays like
    $e^{-\lambda_m t}$ (Euler with step $\eta$: $(1-\eta\lambda_m)^k$).
    """
    from ._problem import model_outputs

    k = check_positive_int(k, "k", "ntk_modes")
    spec = select_trainable(model, trainable, "ntk_modes")
    diff, static = eqx.partition(model, spec)
    flat, unravel = ravel_pytree(diff)
    J = jax.jacfwd(lambda v: model_outputs(eqx.combine(unravel(v), static), dom.nodes))(flat)
    sq = jnp.sqrt(dom.weights)
    S = (sq[:, None] * J) @ (sq[:, None] * J).T
    lam, V = jnp.linalg.eigh(S)
    k = min(k, V.shape[1])
    V = V[:, ::-1][:, :k] / sq[:, None]
    return ModeTracker(V.T, tuple(range(k)), tuple(range(1, k + 1)), lam[::-1][:k])


def steps_to_halve(trajectory, modes=None, *, factor: float = 0.5) -> np.ndarray:
    """First recorded step at which $e_m\\le$ `factor` $\\cdot e_m(0)$, per mode (NaN if never).

    **Arguments:** `trajectory` (a `Trajectory` with mode errors), `modes` (labels to
    report; default all), `factor` (0.5 = halving).

    **Raises:** ``ValueError`` if the trajectory recorded no mode errors or a label is unknown.
    """
    if trajectory.mode_errors is None:
        raise ValueError(
            "steps_to_halve: the trajectory has no mode errors; pass mode_tracker= to train"
        )
    labels = list(trajectory.mode_labels)
    modes = labels if modes is None else list(modes)
    out = []
    for m in modes:
        if m not in labels:
            raise ValueError(f"steps_to_halve: mode {m!r} was not tracked; tracked: {labels}")
        e = np.asarray(trajectory.mode_errors[:, labels.index(m)])
        hit = np.nonzero(e <= factor * e[0])[0]
        out.append(float(trajectory.steps[hit[0]]) if hit.size else np.nan)
    return np.asarray(out)


def fit_exponent(modes, steps) -> float:
    """Least-squares slope of $\\log(\\text{steps})$ vs $\\log m$ (NaNs dropped)."""
    m = np.asarray(modes, float)
    s = np.asarray(steps, float)
    ok = np.isfinite(s) & (s > 0) & (m > 0)
    if ok.sum() < 2:
        raise ValueError(f"fit_exponent: need at least two finite positive points; got {ok.sum()}")
    return float(np.polyfit(np.log(m[ok]), np.log(s[ok]), 1)[0])


def _initial_residual_norm(trajectory) -> float:
    """$\\|r_0\\|_q=\\sqrt{2E_0}$ from the recorded loss $E=\\tfrac12\\|r\\|_q^2$."""
    return math.sqrt(max(2.0 * float(trajectory.loss[0]), 0.0))


def mode_has_content(trajectory, *, rtol: float = CONTENT_RTOL) -> np.ndarray:
    r"""Whether each tracked mode has content in the initial residual:
    $e_m(0) > $ `rtol` $\cdot\|r_0\|_q$ (with $\|r_0\|_q=\sqrt{2E(0)}$).

    A mode without content (e.g. every mode but 4 of the residual of ``sin(4 pi x)`` against
    a near-zero initial network) has no meaningful time to halve: what halves there is
    the trace of the initial network, not the target.

    **Arguments:** `trajectory` (a `Trajectory`/`FlowTrajectory` with mode errors),
    `rtol` (default ``CONTENT_RTOL`` = 0.05).

    **Returns:** a boolean array, one entry per tracked mode.

    **Raises:** ``ValueError`` without mode errors or for `rtol` outside $[0, 1)$.
    """
    if trajectory.mode_errors is None:
        raise ValueError(
            "mode_has_content: the trajectory has no mode errors; pass mode_tracker= to train"
        )
    rtol = float(rtol)
    if not 0.0 <= rtol < 1.0:
        raise ValueError(f"mode_has_content: rtol must lie in [0, 1); got {rtol}")
    e0 = np.asarray(trajectory.mode_errors[0], float)
    return e0 > rtol * _initial_residual_norm(trajectory)


def halving_times(
    trajectory,
    modes=None,
    *,
    factor: float = 0.5,
    content_rtol: float = CONTENT_RTOL,
    interpolate: bool = True,
) -> list:
    r"""Time (or step) at which mode $m$'s error first falls to `factor` $\cdot e_m(0)$.

    Unlike `steps_to_halve`, a mode without content in the initial residual
    (`mode_has_content`) gets ``None`` ("n/a"), not a number; a mode with content that
    never halves within the run gets ``nan``. With `interpolate`, the crossing is placed
    between the two records that bracket it, linearly in $(\log t, \log e_m)$ (exact for
    an exponential between records); otherwise it is the first record at or below.

    **Arguments:** `trajectory` (`Trajectory`: steps; `FlowTrajectory`: flow times),
    `modes` (labels; default all), `factor` in $(0, 1)$, `content_rtol` (see
    `mode_has_content`), `interpolate`.

    **Returns:** a list of ``float | None``, one per mode.

    **Raises:** ``ValueError`` without mode errors, for an unknown label or a `factor`
    outside $(0, 1)$.
    """
    where = "halving_times"
    factor = float(factor)
    if not 0.0 < factor < 1.0:
        raise ValueError(f"{where}: factor must lie in (0, 1); got {factor}")
    if trajectory.mode_errors is None:
        raise ValueError(f"{where}: the trajectory has no mode errors; pass mode_tracker= to train")
    labels = list(trajectory.mode_labels)
    modes = labels if modes is None else list(modes)
    content = mode_has_content(trajectory, rtol=content_rtol)
    t = np.asarray(trajectory.steps, float)
    out: list = []
    for m in modes:
        if m not in labels:
            raise ValueError(f"{where}: mode {m!r} was not tracked; tracked: {labels}")
        j = labels.index(m)
        if not content[j]:
            out.append(None)
            continue
        e = np.asarray(trajectory.mode_errors[:, j], float)
        goal = factor * e[0]
        hit = np.nonzero(e <= goal)[0]
        if not hit.size:
            out.append(math.nan)
            continue
        i = int(hit[0])
        if not interpolate or i == 0 or e[i] <= 0 or t[i - 1] <= 0:
            out.append(float(t[i]))
            continue
        # log-log interpolation between records i-1 (above goal) and i (at or below)
        u = (math.log(goal) - math.log(e[i - 1])) / (math.log(e[i]) - math.log(e[i - 1]))
        out.append(float(math.exp(math.log(t[i - 1]) + u * (math.log(t[i]) - math.log(t[i - 1])))))
    return out


# two-sided 97.5 % quantiles of Student's t, degrees of freedom 1..30 (beyond: 1.96)
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201,
         2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074,
         2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)  # fmt: skip


@dataclass(frozen=True)
class PowerLawFit:
    r"""Least-squares fit of $\log y=\log C+p\log x$ with its uncertainty.

    **Fields:** `exponent` $p$; `stderr` (its standard error from the residuals);
    `ci95` (the 95 % interval $p\pm t_{0.975,n-2}\,$stderr, ``(nan, nan)`` for two
    points); `local_slopes` (slopes between consecutive points; their `slope_min` /
    `slope_max` show whether the growth is a power law over the range or still
    bending); `x_range` (first and last $x$ used), `n` (points used), `prefactor` $C$."""

    exponent: float
    stderr: float
    ci95: tuple[float, float]
    local_slopes: tuple[float, ...]
    x_range: tuple[float, float]
    n: int
    prefactor: float

    @property
    def slope_min(self) -> float:
        return min(self.local_slopes)

    @property
    def slope_max(self) -> float:
        return max(self.local_slopes)

    def summary(self, var: str = "m") -> str:
        """``"p = 3.02 +- 0.05 (95 % CI 2.9..3.1; local slopes 2.8..3.2; m = 2..8, 7 points)"``."""
        lo, hi = self.ci95
        ci = "" if not math.isfinite(lo) else f"95% CI {lo:.2f}..{hi:.2f}; "
        pm = f" +- {self.stderr:.2f}" if math.isfinite(self.stderr) else ""
        return (
            f"{self.exponent:.2f}{pm} ({ci}local slopes "
            f"{self.slope_min:.2f}..{self.slope_max:.2f}; {var} = {self.x_range[0]:g}.."
            f"{self.x_range[1]:g}, {self.n} points)"
        )


def fit_power_law(x, y) -> PowerLawFit:
    r"""Fit $y=Cx^p$ by least squares in $(\log x,\log y)$, with the uncertainty of $p$.

    Points with a non-finite or non-positive $x$ or $y$ (``None``, ``nan``: a mode that did
    not halve or has no content) are dropped. The standard error is
    $\sqrt{\frac{\sum_i \hat\varepsilon_i^2/(n-2)}{\sum_i(\log x_i-\overline{\log x})^2}}$
    (ordinary least squares); the 95 % interval uses Student's $t$ with $n-2$ degrees of
    freedom. The local slopes $\Delta\log y/\Delta\log x$ between consecutive points are
    the model-free spread.

    **Returns:** a `PowerLawFit`.

    **Raises:** ``ValueError`` with fewer than two usable points.
    """
    xs = np.asarray([np.nan if v is None else v for v in np.ravel(np.asarray(x, object))], float)
    ys = np.asarray([np.nan if v is None else v for v in np.ravel(np.asarray(y, object))], float)
    if xs.shape != ys.shape:
        raise ValueError(
            f"fit_power_law: x and y must have the same length; got {xs.size}, {ys.size}"
        )
    ok = np.isfinite(xs) & np.isfinite(ys) & (xs > 0) & (ys > 0)
    n = int(ok.sum())
    if n < 2:
        raise ValueError(f"fit_power_law: need at least two finite positive points; got {n}")
    order = np.argsort(xs[ok])
    xo = xs[ok][order]
    lx, ly = np.log(xo), np.log(ys[ok][order])
    sxx = float(np.sum((lx - lx.mean()) ** 2))
    if sxx == 0.0:
        raise ValueError("fit_power_law: the x values are all equal")
    p = float(np.sum((lx - lx.mean()) * (ly - ly.mean())) / sxx)
    c = float(ly.mean() - p * lx.mean())
    if n > 2:
        res = ly - (c + p * lx)
        se = math.sqrt(float(np.sum(res**2)) / (n - 2) / sxx)
        tq = _T975[n - 3] if n - 2 <= len(_T975) else 1.96
        ci = (p - tq * se, p + tq * se)
    else:
        se, ci = math.nan, (math.nan, math.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        loc = np.diff(ly) / np.diff(lx)
    loc = tuple(float(v) for v in loc[np.isfinite(loc)]) or (p,)
    return PowerLawFit(p, se, ci, loc, (float(xo[0]), float(xo[-1])), n,
                       math.exp(c))  # fmt: skip
