r"""The exact gradient flow (and gradient descent) of a network trained in its outer
weights only: a linear, stiff flow solved by one eigendecomposition.

With the biases (and inner weights) fixed, $h=\Phi a+c$ with features
$\Phi_{li}=\sigma(w_i\cdot x_l-b_i)$, and $E(a)=\tfrac12(\Phi a+c-f)^TQ(\Phi a+c-f)$ is
quadratic. With $A=\Phi^TQ\Phi=V\Lambda V^T$ and $g_0=\Phi^TQr_0$ the flow
$\dot a=-\nabla E$ is

$$a(t)=a_0-V\,\varphi_t(\Lambda)\,V^Tg_0,\qquad \varphi_t(\lambda)=\frac{1-e^{-\lambda t}}
{\lambda}\ (\to t\text{ at }\lambda=0),$$

and $k$ gradient-descent steps of size $\eta$ replace $\varphi_t$ by
$\psi_k(\lambda)=(1-(1-\eta\lambda)^k)/\lambda$. The residual is
$r(t)=r_0-\Phi V\varphi_t(\Lambda)V^Tg_0$, so loss and mode errors are available at any
time, however stiff the flow (Gram condition numbers of $10^{12}$ and more), without a
time step: the reference for the fixed-bias rows of the report and a check of
`gradient_flow`'s implicit solvers.

**References:** seeds 000/001 (training dynamics with fixed biases).
"""

from __future__ import annotations

import math

import numpy as np

from .._types import Array, Float
from ..networks import ShallowNetwork
from ._modes import CONTENT_RTOL, ModeTracker
from ._problem import LossDomain

__all__ = ["OuterFlow", "outer_flow"]


class OuterFlow:
    r"""The exact outer-weight flow of one network on one loss (see the module text).

    Built by `outer_flow`. Methods take NumPy arrays of times (flow time, or step counts
    for `descent_residuals`) and return float64 NumPy arrays.

    **Attributes:** `eigenvalues` ($\Lambda$, ascending, clipped at 0), `lambda_max`,
    `modes` (the tracker's labels), `initial_errors` ($e_m(0)$), `initial_norm`
    ($\|r_0\|_q$)."""

    def __init__(self, phi, q, r0, tracker: ModeTracker | None):
        self._q = q
        self._r0 = r0
        s = np.sqrt(q)[:, None] * phi
        lam, V = np.linalg.eigh(s.T @ s)
        self.eigenvalues = np.maximum(lam, 0.0)
        self.lambda_max = float(self.eigenvalues[-1])
        g0 = phi.T @ (q * r0)
        self._W = (phi @ V) * (V.T @ g0)[None, :]  # (N, n): r(t) = r0 - W phi_t
        self._tracker = None
        if tracker is not None:
            B = np.asarray(tracker.basis, np.float64)
            self._qb = B * q[None, :]
            self._nrm = np.sum(self._qb * B, axis=1)
            self._groups = np.asarray(tracker.groups)
            self._tracker = tracker
        self.modes = tuple(tracker.labels) if tracker is not None else ()
        self.initial_norm = math.sqrt(float(np.sum(q * r0 * r0)))
        self.initial_errors = self._errors(r0[None, :])[0] if tracker is not None else None

    # ------------------------------------------------------------------ residuals
    def _phi(self, t):
        lam = self.eigenvalues[None, :]
        t = np.asarray(t, np.float64)[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            out = -np.expm1(-lam * t) / lam
        return np.where(lam > 0, out, t)

    def residuals(self, times) -> Float[Array, "T N"]:
        """$r(t)$ at the loss nodes for each flow time in `times`."""
        return self._r0[None, :] - self._phi(times) @ self._W.T

    def descent_residuals(self, steps, lr: float) -> Float[Array, "T N"]:
        r"""The residual after $k$ gradient-descent steps of size `lr`, for each $k$ in
        `steps` (exact: $\psi_k(\lambda)=(1-(1-\eta\lambda)^k)/\lambda$)."""
        lam = self.eigenvalues[None, :]
        k = np.asarray(steps, np.float64)[:, None]
        base = 1.0 - lr * lam
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            # base > 0: expm1/log1p keep 1 - base^k accurate when lr*lambda is tiny
            smooth = -np.expm1(k * np.log(np.where(base > 0, base, 1.0))) / lam
            direct = (1.0 - np.power(base, k)) / lam  # base <= 0 (oscillating/unstable)
        psi = np.where(base > 0, smooth, direct)
        psi = np.where(lam > 0, psi, lr * k)
        with np.errstate(over="ignore", invalid="ignore"):  # lr > 2/lambda: unbounded
            return self._r0[None, :] - psi @ self._W.T

    def loss(self, times) -> Float[Array, " T"]:
        """$E(t)=\\tfrac12\\|r(t)\\|_q^2$."""
        r = self.residuals(times)
        return 0.5 * np.sum(self._q[None, :] * r * r, axis=1)

    def _errors(self, R):
        c = R @ self._qb.T
        contrib = c**2 / self._nrm[None, :]
        out = np.zeros((R.shape[0], len(self.modes)))
        np.add.at(out.T, self._groups, contrib.T)
        return np.sqrt(out)

    def mode_errors(self, times) -> Float[Array, "T M"]:
        """$e_m(t)$ for each time and tracked mode."""
        if self._tracker is None:
            raise ValueError("OuterFlow.mode_errors: built without a tracker")
        return self._errors(self.residuals(times))

    # ------------------------------------------------------------------ halving
    def has_content(self, rtol: float = CONTENT_RTOL) -> np.ndarray:
        """`mode_has_content` for this flow: $e_m(0)>$ `rtol` $\\|r_0\\|_q$."""
        return self.initial_errors > rtol * self.initial_norm

    def halving_times(
        self,
        *,
        factor: float = 0.5,
        content_rtol: float = CONTENT_RTOL,
        t_max: float | None = None,
        per_decade: int = 40,
    ) -> list:
        r"""The first flow time at which $e_m(t)\le$ `factor` $e_m(0)$, per mode: found on a
        log grid from $10^{-3}/\lambda_{\max}$ to `t_max` (default $10^{16}/\lambda_{\max}$)
        with `per_decade` points, then refined by bisection to relative $10^{-10}$.
        ``None``: no content; ``nan``: not halved by `t_max`."""
        if self._tracker is None:
            raise ValueError("OuterFlow.halving_times: built without a tracker")
        t_lo = 1e-3 / self.lambda_max
        t_hi = 1e16 / self.lambda_max if t_max is None else float(t_max)
        n = int(per_decade * max(math.log10(t_hi / t_lo), 1.0)) + 1
        grid = np.concatenate([[0.0], np.geomspace(t_lo, t_hi, n)])
        E = self.mode_errors(grid)
        content = self.has_content(content_rtol)
        out: list = []
        for j in range(len(self.modes)):
            if not content[j]:
                out.append(None)
                continue
            goal = factor * E[0, j]
            hit = np.nonzero(E[:, j] <= goal)[0]
            if not hit.size:
                out.append(math.nan)
                continue
            i = int(hit[0])
            a, b = grid[i - 1], grid[i]
            for _ in range(200):
                if b - a <= 1e-10 * b:
                    break
                mid = 0.5 * (a + b)
                if self._errors(self.residuals([mid]))[0, j] <= goal:
                    b = mid
                else:
                    a = mid
            out.append(float(b))
        return out


def outer_flow(model: ShallowNetwork, dom: LossDomain, tracker: ModeTracker | None = None):
    r"""The exact gradient flow of `model`'s outer weights on `dom` (biases, inner weights
    and offset fixed): an `OuterFlow`.

    **Arguments:** `model` (a `ShallowNetwork`, any activation), `dom` (a `LossDomain`),
    `tracker` (a `ModeTracker` on the same nodes, for mode errors and halving times).

    **Returns:** an `OuterFlow` (NumPy float64; one $n\times n$ eigendecomposition).

    **Raises:** ``TypeError`` for a model that is not a `ShallowNetwork` or a `dom` that
    is not a `LossDomain`; ``ValueError`` for a tracker on other nodes.

    !!! Example
        ```python
        flow = outer_flow(net, dom, fourier_modes(dom, 8))
        flow.halving_times()  # flow time to halve modes 1..8 (None: no content)
        ```
    """
    where = "outer_flow"
    if not isinstance(model, ShallowNetwork):
        raise TypeError(f"{where}: model must be a ShallowNetwork; got {type(model).__name__}")
    if not isinstance(dom, LossDomain):
        raise TypeError(f"{where}: dom must be a LossDomain; got {type(dom).__name__}")
    if tracker is not None and (
        not isinstance(tracker, ModeTracker) or tracker.basis.shape[1] != dom.size
    ):
        raise ValueError(
            f"{where}: tracker must be a ModeTracker built on the same loss nodes ({dom.size})"
        )
    phi = np.asarray(model.features(dom.nodes), np.float64)
    h0 = np.asarray(model.batch(dom.nodes), np.float64)
    q = np.asarray(dom.weights, np.float64)
    r0 = h0 - np.asarray(dom.values, np.float64)
    return OuterFlow(phi, q, r0, tracker)
