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

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from .._checks import check_positive_int
from .._memory import array_bytes, check_memory
from .._types import Array, Float
from ._problem import LossDomain, select_trainable

__all__ = ["ModeTracker", "fourier_modes", "ntk_modes", "steps_to_halve", "fit_exponent"]


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
    """Peak bytes of `fourier_modes` and of the mode errors computed from it: the basis
    in float64 (rows, then stacked), its copy in `dtype` and one weighted copy."""
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
