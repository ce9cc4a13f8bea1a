r"""Time to halve Fourier mode $m$ on stable trajectories (seeds 000/001), for the four
cases of the seeds' remarks: fixed biases, trained biases, Adam, a smoother activation.

Target $f=\sum_{m=1}^M\sin(m\pi x)$ on $[-1,1]$ (every mode has the same content),
continuous $L^2$ loss (Gauss–Legendre), a shallow net of alternating outer signs
$\pm1/n$, $w=1$, evenly spaced biases. How each case is integrated, stably:

- ``method="exact"`` (outer weights only: fixed biases, any activation): the flow is
  linear and is solved exactly (`outer_flow`); times are flow times, found by bisection
  to relative $10^{-10}$, however stiff.
- ``method="descent"``: gradient descent in segments; before each segment the top
  Gauss–Newton eigenvalue $\lambda_{\max}$ is measured at the current parameters and the
  step is $\eta=c/\lambda_{\max}$, so the step follows the curvature as the biases and
  outer weights move (a fixed step from the initial $\lambda_{\max}$ becomes unstable:
  the oscillation after ~4000 steps of the earlier report); a segment whose loss rises
  between two records is run again at half the step (up to three times). Times are flow
  times $t=\sum_k\eta_k$; the result says whether the loss was non-increasing at every
  record.
- ``method="adam"``: Adam at a fixed learning rate; times are steps.

A mode with no content in the initial residual gets ``None`` (n/a); one that did not halve
within the budget gets ``nan``, and the budget is a lower bound for its time.

**References:** seeds 000/001 (slides "Training dynamics": mode $m$ needs at least $O(m)$
steps to halve, $O(m^2)$ under a mild condition, $O(m^3)$ with fixed biases; smoother
activations are slower; Adam similar at first).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import jax.numpy as jnp
import numpy as np
import optax

from .._checks import check_positive_int
from ..domains import Interval
from ..networks import alternating_network
from ..quadrature import gauss_legendre
from ..targets import get_target
from ._experiments import gauss_newton_lmax
from ._linear_flow import outer_flow
from ._modes import CONTENT_RTOL, PowerLawFit, fit_power_law, fourier_modes, halving_times
from ._problem import loss_domain
from ._steppers import Euler, OptaxStepper
from ._train import train

__all__ = ["mode_study", "ModeStudy", "sum_of_modes_problem"]


@dataclass
class ModeStudy:
    r"""Result of `mode_study`.

    **Fields:** `label`, `method`, `activation`, `trainable`, `width`, `time_unit`
    (``"flow time"`` or ``"steps"``); `modes` ($1..M$); `times` (per mode: float, ``nan``
    = not halved within `budget`, ``None`` = no content); `has_content`; `fit` (a
    `PowerLawFit` of time against $m$ over the halved modes $m\ge$ `fit_from`, or
    ``None`` with fewer than two); `budget` (the largest time reached); `steps` (gradient
    steps taken; for ``"exact"`` the steps at the stable step $1/\lambda_{\max}$ that the
    flow time corresponds to, $t\lambda_{\max}$); `monotone` (loss non-increasing at
    every record); `lambda_max` (initial and final); `record_times`, `loss`,
    `mode_errors` (the curves, for figures); `wall_s`."""

    label: str
    method: str
    activation: str
    trainable: str
    width: int
    time_unit: str
    modes: list
    times: list
    has_content: list
    fit: PowerLawFit | None
    fit_from: int
    budget: float
    steps: float
    monotone: bool
    lambda_max: tuple
    record_times: np.ndarray
    loss: np.ndarray
    mode_errors: np.ndarray
    wall_s: float
    extra: dict = field(default_factory=dict)

    @property
    def halved(self) -> list:
        """The modes that halved."""
        return [m for m, t in zip(self.modes, self.times, strict=True) if t is not None and t == t]

    def time_text(self) -> list:
        """Per mode: ``"%.3g"``, ``"> budget"`` (not halved) or ``"n/a"`` (no content)."""
        out = []
        for t in self.times:
            if t is None:
                out.append("n/a")
            elif t != t:
                out.append(f">{self.budget:.3g}")
            else:
                out.append(f"{t:.3g}")
        return out


def sum_of_modes_problem(width: int, max_mode: int, activation="relu", panels: int = 16):
    r"""The network, loss domain and Fourier tracker of the study: $f=\sum_{m\le M}
    \sin(m\pi x)$, Gauss–Legendre with `panels` panels of 8 nodes, alternating outer
    signs $\pm1/n$, $w=1$, evenly spaced biases."""
    target = get_target(
        lambda x: sum(jnp.sin(m * jnp.pi * x[:, 0]) for m in range(1, max_mode + 1)), dim=1
    )
    dom = loss_domain(target, gauss_legendre(Interval(), 8, panels=panels), bounds=(-1.0, 1.0))
    net = alternating_network(width, activation)
    return net, dom, fourier_modes(dom, max_mode)


def _monotone(tr) -> bool:
    """The run's loss never rose from one record to the next, and it did not stop early.

    (Records, not steps: with ReLU and trained biases the loss is only piecewise smooth
    in the biases, and a step across a breakpoint/node crossing can raise it by a few
    ulps at any step size; what matters here is the trend, and an unstable step shows
    within a record interval.)"""
    return bool(np.all(np.diff(np.asarray(tr.loss)) <= 0)) and tr.failed_at is None


class _Records:
    def __init__(self):
        self.t, self.loss, self.err = [], [], []

    def add(self, t, loss, err, first):
        s = slice(0 if first else 1, None)
        self.t.extend(np.asarray(t, float)[s])
        self.loss.extend(np.asarray(loss, float)[s])
        self.err.extend(np.asarray(err, float)[s])

    def traj(self, labels):
        class _T:  # what `halving_times` reads
            pass

        tr = _T()
        tr.steps, tr.loss = np.asarray(self.t), np.asarray(self.loss)
        tr.mode_errors, tr.mode_labels = np.asarray(self.err), tuple(labels)
        return tr


def mode_study(
    *,
    method: str = "exact",
    width: int = 32,
    max_mode: int = 8,
    activation: str = "relu",
    trainable: str | None = None,
    panels: int = 16,
    c: float = 0.5,
    segment: int = 2000,
    max_steps: int = 100_000,
    adam_lr: float = 1e-3,
    record_every: int = 50,
    fit_from: int = 2,
    content_rtol: float = CONTENT_RTOL,
    fast1d: bool | str = False,
    label: str | None = None,
) -> ModeStudy:
    r"""Time to halve each Fourier mode $m=1..M$ on a stable trajectory, and the fitted
    growth exponent with its uncertainty.

    **Arguments:**

    - `method`: ``"exact"`` (outer weights only, exact linear flow), ``"descent"``
      (gradient descent with $\eta=c/\lambda_{\max}$ re-measured every `segment` steps)
      or ``"adam"`` (Adam, step `adam_lr`). See the module text.
    - `width`, `max_mode` ($M$), `activation`, `panels`: the problem
      (`sum_of_modes_problem`).
    - `trainable`: default ``"outer"`` for ``"exact"``, ``"outer,biases"`` for
      ``"descent"``, ``"all"`` for ``"adam"``.
    - `max_steps`: the step budget (``"descent"``/``"adam"``); the run stops early once
      every mode with content has halved. `record_every`: record interval (steps).
    - `fit_from`: the first mode of the exponent fit (mode 1 of the sum is the
      near-constant direction with an outsized eigenvalue).
    - `content_rtol`: see `mode_has_content`. `fast1d`: as in `train` (the generic path
      compiles faster at these small widths).

    **Returns:** a `ModeStudy`.

    **Raises:** ``ValueError`` for an unknown `method`, ``"exact"`` with trainable biases,
    or a `fit_from` outside ``1 .. max_mode - 1``.
    """
    where = "mode_study"
    if method not in ("exact", "descent", "adam"):
        raise ValueError(f"{where}: method must be 'exact', 'descent' or 'adam'; got {method!r}")
    M = check_positive_int(max_mode, "max_mode", where)
    if not (isinstance(fit_from, int) and 1 <= fit_from <= M - 1):
        raise ValueError(f"{where}: fit_from must be an int in 1..max_mode-1; got {fit_from!r}")
    trainable = trainable or dict(exact="outer", descent="outer,biases", adam="all")[method]
    if method == "exact" and trainable != "outer":
        raise ValueError(f"{where}: method='exact' needs trainable='outer'; got {trainable!r}")
    t0 = time.perf_counter()
    net, dom, tracker = sum_of_modes_problem(width, M, activation, panels)
    modes = list(tracker.labels)
    extra: dict = {}
    if method == "exact":
        flow = outer_flow(net, dom, tracker)
        times = flow.halving_times(content_rtol=content_rtol)
        finite = [t for t in times if t is not None and t == t]
        budget = 1e16 / flow.lambda_max
        t_end = 2.0 * max(finite) if finite else budget
        grid = np.concatenate([[0.0], np.geomspace(1e-3 / flow.lambda_max, t_end, 200)])
        rec_t, loss, err = grid, flow.loss(grid), flow.mode_errors(grid)
        content = list(flow.has_content(content_rtol))
        steps = (max(finite) if finite else t_end) * flow.lambda_max
        monotone, lam = True, (flow.lambda_max, flow.lambda_max)
        unit = "flow time"
        extra["eigenvalue_ratio"] = float(flow.lambda_max / max(flow.eigenvalues[0], 1e-300))
    else:
        rec = _Records()
        model, t_now, done, lam0 = net, 0.0, 0, None
        monotone = True
        seg = segment if method == "descent" else max_steps
        seg = max(record_every, seg - seg % record_every)
        lam_now = math.nan
        retries = 0
        while done < max_steps:
            n = min(seg, max_steps - done)
            if method == "descent":
                lam_now = gauss_newton_lmax(model, dom, trainable)
                lam0 = lam0 or lam_now
                # a segment whose loss rises at some step (the curvature grew within it) is
                # run again from its start at half the step, up to three times
                for cc in (c, c / 2, c / 4, c / 8):
                    lr, stepper = cc / lam_now, Euler(cc / lam_now)
                    tr = train(
                        model, dom, stepper=stepper, steps=n, record_every=record_every,
                        trainable=trainable, mode_tracker=tracker, progress=False,
                        fast1d=fast1d,
                    )  # fmt: skip
                    if _monotone(tr):
                        break
                    retries += 1
            else:
                lr, stepper = 1.0, OptaxStepper(optax.adam(adam_lr), "adam")
                tr = train(
                    model, dom, stepper=stepper, steps=n, record_every=record_every,
                    trainable=trainable, mode_tracker=tracker, progress=False, fast1d=fast1d,
                )  # fmt: skip
            rec.add(t_now + np.asarray(tr.steps) * lr, tr.loss, tr.mode_errors, done == 0)
            monotone &= _monotone(tr)
            t_now += n * lr
            done += n
            model = tr.model
            if method == "adam":
                break
            ht = halving_times(rec.traj(modes), content_rtol=content_rtol)
            if all(t is None or t == t for t in ht):
                break
        traj = rec.traj(modes)
        times = halving_times(traj, content_rtol=content_rtol)
        content = [t is not None for t in times]
        rec_t, loss, err = traj.steps, traj.loss, traj.mode_errors
        budget, steps = float(t_now), float(done)
        lam = (lam0, lam_now) if method == "descent" else (math.nan, math.nan)
        extra["segments_rerun_at_a_smaller_step"] = retries
        unit = "flow time" if method == "descent" else "steps"
    ms = [m for m, t in zip(modes, times, strict=True) if m >= fit_from]
    ts = [t for m, t in zip(modes, times, strict=True) if m >= fit_from]
    try:
        fit = fit_power_law(ms, ts)
    except ValueError:
        fit = None
    return ModeStudy(
        label=label or f"{activation}, {trainable}, {method}",
        method=method, activation=activation, trainable=trainable, width=width,
        time_unit=unit, modes=modes, times=times, has_content=content, fit=fit,
        fit_from=fit_from, budget=float(budget), steps=float(steps), monotone=monotone,
        lambda_max=tuple(float(v) for v in lam), record_times=np.asarray(rec_t),
        loss=np.asarray(loss), mode_errors=np.asarray(err),
        wall_s=time.perf_counter() - t0, extra=extra,
    )  # fmt: skip
