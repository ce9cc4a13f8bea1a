r"""`gradient_flow`: $\dot\theta=-\nabla E(\theta)$ by an adaptive, error-controlled
Diffrax solver.

The loss $E$ is exactly the one `train` minimises (the same `Problem`, so the fast 1D
ReLU$^p$ path supplies the vector field when it applies). The state is the flattened
vector of trainable parameters. Explicit Runge–Kutta solvers (Tsit5, Dopri5, Dopri8) run
under a PID step-size controller; for the stiff flows of ill-conditioned Gram matrices
(condition numbers up to $10^{12}$) the implicit, L-stable ESDIRK solvers Kvaerno3/5
take steps far beyond the explicit stability limit $\approx 3/\lambda_{\max}$. Loss,
$\|\theta\|$, the drift and per-mode errors are recorded at chosen flow times by a
function of the state inside `diffeqsolve` (`SaveAt(fn=...)`), all in one
`eqx.filter_jit`-ed call.

**Checkpoints.** With `checkpoint=`, the flow is integrated in segments ending at
`checkpoint_times`; after each segment the state, the solver state (the FSAL stage), the
controller state, and the step size to start the next segment with (the larger of the
last two accepted steps, since the last one is clipped to the segment end) are written
atomically. A run resumed from such a file equals the same segmented run uninterrupted,
bit for bit on CPU. It does **not** equal a single unsegmented `diffeqsolve` bit for bit:
ending a segment at $t_a$ clips the step that would have stepped over $t_a$, so the two
runs take different steps after it, and a `diffrax.Solution` does not expose the
controller's next proposed step. The two agree to the solver tolerance (tested).

**Non-smooth flows.** With ReLU and trained biases (or inner weights) the gradient of the
*discrete* loss jumps whenever a breakpoint $b_i/w_i$ crosses a quadrature node, so the
vector field is only piecewise smooth: error control then shrinks the step at every
crossing (many rejected steps; the global error can exceed the tolerance), and where the
flow slides along a crossing the step size collapses and the run stops at `max_steps`
(``completed=False``, the records end there). ReLU$^2$ (continuous gradient) or fixed
biases (a linear, smooth, stiff flow: use Kvaerno5) avoid it.

**References:** Kidger, *On Neural Differential Equations* (2021) — Diffrax; Hairer &
Wanner, *Solving ODEs II* (stiff solvers); Kværnø (2004), *BIT* 44 (ESDIRK);
Tsitouras (2011); seeds 000/001 (gradient flow of shallow ReLU networks).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

import diffrax as dfx
import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
from jax.flatten_util import ravel_pytree

from .._checks import check_finite_scalar, check_positive, check_positive_int
from .._files import check_output_file
from ._engine import setup as _setup
from ._flow_checkpoint import FlowCheckpointError
from ._flow_checkpoint import restore as _restore
from ._flow_checkpoint import settings as _settings
from ._flow_checkpoint import write_checkpoint as _write_checkpoint
from ._modes import ModeTracker
from ._problem import LossDomain
from ._trajectory import save_records

__all__ = [
    "gradient_flow",
    "FlowTrajectory",
    "FlowCheckpointError",
    "FLOW_SOLVERS",
    "flow_save_times",
]

#: solver names accepted by `gradient_flow`
FLOW_SOLVERS = {
    "tsit5": dfx.Tsit5,
    "dopri5": dfx.Dopri5,
    "dopri8": dfx.Dopri8,
    "kvaerno3": dfx.Kvaerno3,
    "kvaerno5": dfx.Kvaerno5,
}

FLOW_FORMAT = "spectral_jax.flow_trajectory/1"
_RECORD_KEYS = ("loss", "param_norm", "drift", "drift_max")


@dataclass
class FlowTrajectory:
    r"""Records of a gradient flow at the flow times `times` (NumPy arrays), the solver
    statistics and the final `model`.

    `steps` is an alias of `times`, so `steps_to_halve(traj)` gives the flow *time* to
    halve each mode. `stats`: ``num_steps`` (accepted + rejected), ``num_accepted_steps``,
    ``num_rejected_steps``, ``segments`` and, with ``count_evaluations=True``,
    ``vector_field_evaluations`` (calls of the gradient in this call of
    `gradient_flow`; a Jacobian of the vector field formed by an implicit solver, one
    batched forward-mode call, counts as one). `completed` is ``False`` when
    the solver stopped before `t1` (`stopped` says why; the records then end at the last
    saved time reached and `model` is the state there).

    `first_increase` is the first saved time at which the recorded loss exceeded the
    one before by more than $64\varepsilon(E_0+E_{\text{prev}})$ (``None``: the loss was
    non-increasing at every saved time, as the exact flow's $\dot E=-|\nabla E|^2\le0$
    is); `monotone` is ``first_increase is None``. Checked at the saved times only."""

    times: np.ndarray
    loss: np.ndarray
    param_norm: np.ndarray
    drift: np.ndarray
    drift_max: np.ndarray
    mode_errors: np.ndarray | None = None
    mode_labels: tuple = ()
    stats: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    completed: bool = True
    stopped: str | None = None
    model: Any = None
    first_increase: float | None = None

    @property
    def steps(self) -> np.ndarray:
        return self.times

    @property
    def monotone(self) -> bool:
        """Whether the recorded loss never increased."""
        return self.first_increase is None

    @property
    def failed_at(self) -> None:
        """Always ``None`` (a flow that fails stops: see `completed`); for plotting."""
        return None

    def save(self, path: str | os.PathLike) -> str:
        """Write the records as a trajectory ``.npz`` (see `load_trajectory`), with the
        flow times in ``times`` and ``header["flow"]`` holding the solver statistics;
        atomically. Returns the path."""
        header = dict(
            format=FLOW_FORMAT,
            completed=self.completed,
            stopped=self.stopped,
            first_increase=self.first_increase,
            stats=self.stats,
            metadata=self.metadata,
        )
        return save_records(path, self, "times", header)


def first_increase_at(times, loss) -> float | None:
    """The first saved time whose loss exceeds the previous one beyond rounding."""
    loss = np.asarray(loss)
    if loss.size < 2:
        return None
    eps = np.finfo(loss.dtype).eps
    up = loss[1:] > loss[:-1] + 64 * eps * (loss[0] + loss[:-1])
    k = np.flatnonzero(up)
    return None if k.size == 0 else float(np.asarray(times)[k[0] + 1])


# --------------------------------------------------------------------------- inputs


def _resolve_solver(solver, where):
    if isinstance(solver, str):
        key = solver.strip().lower()
        if key not in FLOW_SOLVERS:
            raise ValueError(
                f"{where}: solver must be one of {', '.join(sorted(FLOW_SOLVERS))} or a "
                f"diffrax solver; got {solver!r}"
            )
        return key, FLOW_SOLVERS[key]()
    if isinstance(solver, dfx.AbstractSolver):
        if not isinstance(solver, dfx.AbstractAdaptiveSolver):
            raise ValueError(
                f"{where}: solver must be adaptive (have an error estimate for step-size "
                f"control); got {type(solver).__name__}"
            )
        return type(solver).__name__.lower(), solver
    raise TypeError(
        f"{where}: solver must be a name ({', '.join(sorted(FLOW_SOLVERS))}) or a diffrax "
        f"solver; got {type(solver).__name__}"
    )


def _check_times(times, t1, where, name):
    try:
        ts = np.asarray(times, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{where}: {name} must be a 1-D sequence of real times") from err
    if ts.ndim != 1 or ts.size == 0:
        raise ValueError(f"{where}: {name} must be a non-empty 1-D sequence; got shape {ts.shape}")
    if not np.all(np.isfinite(ts)):
        raise ValueError(f"{where}: {name} must be finite")
    if ts[0] < 0 or ts[-1] > t1:
        raise ValueError(
            f"{where}: {name} must lie in [0, t1] = [0, {t1:g}]; got [{ts[0]:g}, {ts[-1]:g}]"
        )
    if np.any(np.diff(ts) <= 0):
        raise ValueError(f"{where}: {name} must be strictly increasing")
    return ts


def flow_save_times(t1: float, n: int = 48, decades: int = 4) -> np.ndarray:
    r"""The times at which `gradient_flow` records by default: $0$ and `n` log-spaced times up
    to $t_1$,

    $$t_j = t_1\,10^{-\text{decades}\,(n-j)/(n-1)},\qquad j = 1, \dots, n,$$

    i.e. ``[0, *numpy.geomspace(t1 * 10**-decades, t1, n)]``: a halving time anywhere in
    the last `decades` decades before $t_1$ is resolved to a ratio $10^{\text{decades}/
    (n-1)}$ (1.22 at the defaults).

    **Arguments:** `t1` (the final time, > 0), `n` (log-spaced points), `decades`.

    **Returns:** a float64 NumPy array of shape ``(n + 1,)``, strictly increasing, from
    0 to `t1` (``[0, t1]`` for ``n = 1``); pass it (or a variant) as ``saveat_times``.

    **Raises:** `ValueError` naming the argument for a `t1` that is not a positive finite
    number, or an `n` or `decades` that is not a positive integer.
    """
    where = "flow_save_times"
    t1 = check_positive(t1, "t1", where)
    n = check_positive_int(n, "n", where)
    decades = check_positive_int(decades, "decades", where)
    if n == 1:
        return np.array([0.0, t1])
    return np.concatenate([[0.0], np.geomspace(t1 * 10.0**-decades, t1, n)])


# --------------------------------------------------------------------------- the solve


def _vector_field(t, y, args):
    problem, template, counter = args
    _, unravel = ravel_pytree(template)
    g, _ = ravel_pytree(problem.grad(unravel(y)))
    if counter is not None:
        jax.debug.callback(counter, ordered=False)
    return -g


class _EvaluationCounter:
    """Counts the gradient evaluations of one `gradient_flow` call: the vector field calls
    it through a host callback. A fresh counter per call (no state outside the call): two
    flows running at once, in threads, each count their own. Hashed by identity, so a
    counted call compiles its own solve (its settings are static anyway)."""

    def __init__(self):
        self.n = 0

    def __call__(self):
        self.n += 1


def _recorder(tracker, flat0, nrm0):
    def rec(t, y, args):
        problem, template, _ = args
        _, unravel = ravel_pytree(template)
        r = problem.residual(unravel(y))
        d = y - flat0
        out = dict(
            loss=0.5 * jnp.sum(problem.weights * r * r),  # as `train` records it
            param_norm=jnp.linalg.norm(y),
            drift=jnp.linalg.norm(d) / nrm0,
            drift_max=jnp.max(jnp.abs(d)),
        )
        if tracker is not None:
            out["mode_errors"] = tracker.errors(r, problem.weights)
        return out

    return rec


@eqx.filter_jit
def _init(problem, template, solver, controller, y0, t0, t1, *, counter):
    """The first step size (Diffrax's heuristic), the solver and controller states: what
    `diffeqsolve` would make at the start, made once here so that every segment runs the
    same compiled solve."""
    term = dfx.ODETerm(_vector_field)
    args = (problem, template, counter)
    tnext, cstate = controller.init(
        term, t0, t1, y0, None, args, solver.func, solver.error_order(term)
    )
    tnext = jnp.minimum(tnext, t1)
    sstate = solver.init(term, t0, tnext, y0, args)
    return tnext - t0, sstate, cstate


@eqx.filter_jit
def _solve(
    problem,
    template,
    tracker,
    solver,
    controller,
    y0,
    t0,
    t1,
    dt0,
    ts,
    flat0,
    nrm0,
    solver_state,
    controller_state,
    made_jump,
    *,
    max_steps,
    counter,
    meter,
):
    saveat = dfx.SaveAt(
        subs=[
            dfx.SubSaveAt(ts=ts, fn=_recorder(tracker, flat0, nrm0)),
            dfx.SubSaveAt(t1=True),
            # accepted step times: the next segment's first step size
            dfx.SubSaveAt(steps=True, fn=lambda t, y, args: t),
        ],
        solver_state=True,
        controller_state=True,
        made_jump=True,
    )
    sol = dfx.diffeqsolve(
        dfx.ODETerm(_vector_field),
        solver,
        t0,
        t1,
        dt0,
        y0,
        args=(problem, template, counter),
        saveat=saveat,
        stepsize_controller=controller,
        max_steps=max_steps,
        throw=False,
        progress_meter=meter,
        solver_state=solver_state,
        controller_state=controller_state,
        made_jump=made_jump,
    )
    return dict(
        records=sol.ys[0],
        y=sol.ys[1][0],
        t_end=sol.ts[1][0],
        ok=sol.result == dfx.RESULTS.successful,
        stats={k: v for k, v in sol.stats.items() if k != "max_steps"},
        solver_state=sol.solver_state,
        controller_state=sol.controller_state,
        made_jump=sol.made_jump,
        steps_t=sol.ts[2],
    )


def _next_dt0(steps_t, t0):
    """The larger of the last two accepted steps (the last is clipped to the segment end)."""
    s = np.asarray(steps_t)
    s = np.concatenate([[float(t0)], s[np.isfinite(s)]])
    dts = np.diff(s)[-2:]
    return float(np.max(dts))


def _meter(progress):
    if not progress:
        return dfx.NoProgressMeter()
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return dfx.TextProgressMeter()
    return dfx.TqdmProgressMeter()


# --------------------------------------------------------------------------- public


def gradient_flow(
    model: Any,
    dom: LossDomain,
    t1: float,
    *,
    solver: str | dfx.AbstractSolver = "tsit5",
    rtol: float = 1e-6,
    atol: float = 1e-9,
    saveat_times=None,
    trainable: Any = "all",
    tracker: ModeTracker | None = None,
    max_steps: int = 100_000,
    fast1d: bool | str = "auto",
    progress: bool = False,
    count_evaluations: bool = False,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_times=None,
    resume: str | os.PathLike | None = None,
    overwrite: bool = False,
) -> FlowTrajectory:
    r"""Integrate the gradient flow $\dot\theta=-\nabla E(\theta)$ of the trainable part of
    `model` on $E=\tfrac12\sum_l q_l(h_\theta(x_l)-f_l)^2$ from $t=0$ to `t1`, with an
    adaptive, error-controlled Diffrax solver.

    **Arguments:**

    - `model`, `dom`, `trainable`, `fast1d`: as for `train` (same loss, same fast path).
    - `t1`: final flow time ($>0$).
    - `solver`: ``"tsit5"`` (default), ``"dopri5"``, ``"dopri8"`` (explicit RK), or
      ``"kvaerno3"``/``"kvaerno5"`` (implicit, for stiff flows), or an adaptive
      ``diffrax`` solver instance.
    - `rtol`, `atol`: tolerances of the PID step-size controller (local error per step
      $\le$ `atol` + `rtol` $\cdot|\theta|$, RMS norm); ``rtol > 0``, ``atol >= 0``.
    - `saveat_times`: increasing flow times in $[0, t_1]$ to record at (default: $0$ and
      48 log-spaced times from $10^{-4}t_1$ to $t_1$).
    - `tracker`: a `ModeTracker` for per-mode errors, or ``None``.
    - `max_steps`: the most solver steps (accepted + rejected) per segment.
    - `progress`: a Diffrax progress meter (tqdm if installed, else text); quiet by
      default.
    - `count_evaluations`: count the gradient evaluations of this call (a host callback
      per evaluation into a counter of the call's own; off by default as it costs time,
      and a counted call compiles its own solve).
    - `checkpoint`: a file (``.npz``) written atomically after each segment;
      `checkpoint_times`: the segment ends in $(0, t_1)$ (default with a checkpoint: every
      sixth saved time); `resume`: a checkpoint of this run to continue from (the
      same settings, `t1` included). An existing `checkpoint` file is refused unless it
      is the `resume` file or `overwrite` is ``True``.

    **Returns:** a `FlowTrajectory` (records at `times`, solver `stats`, final `model`).

    **Raises:** ``ValueError``/``TypeError`` naming the argument for ``t1 <= 0``, a
    non-positive `rtol`, a negative `atol`, an unknown solver, a non-finite initial loss,
    saved times outside
    $[0,t_1]$, a selection with no trainable array, or a checkpoint that is corrupt or
    of another run (`FlowCheckpointError`).

    !!! Example
        ```python
        traj = gradient_flow(net, dom, 100.0, solver="kvaerno5", rtol=1e-6,
                             trainable="outer,biases", tracker=fourier_modes(dom, 8))
        traj.loss, traj.stats["num_steps"]
        ```
    """
    where = "gradient_flow"
    t1 = check_finite_scalar(t1, "t1", where)
    if t1 <= 0:
        raise ValueError(f"{where}: t1 must be a positive flow time; got {t1}")
    rtol = check_finite_scalar(rtol, "rtol", where)
    if rtol <= 0:
        raise ValueError(f"{where}: rtol must be positive; got {rtol}")
    atol = check_finite_scalar(atol, "atol", where)
    if atol < 0:
        raise ValueError(f"{where}: atol must be >= 0; got {atol}")
    max_steps = check_positive_int(max_steps, "max_steps", where)
    solver_name, solver_obj = _resolve_solver(solver, where)
    if not isinstance(dom, LossDomain):
        raise TypeError(
            f"{where}: dom must be a LossDomain (see loss_domain); got {type(dom).__name__}"
        )
    if tracker is not None and (
        not isinstance(tracker, ModeTracker) or tracker.basis.shape[1] != dom.size
    ):
        raise ValueError(
            f"{where}: tracker must be a ModeTracker built on the same loss nodes ({dom.size})"
        )
    ts = (
        flow_save_times(t1)
        if saveat_times is None
        else _check_times(saveat_times, t1, where, "saveat_times")
    )
    if checkpoint is not None:
        same = (
            resume is not None
            and os.path.exists(checkpoint)
            and os.path.exists(resume)
            and os.path.samefile(checkpoint, resume)
        )
        if not (overwrite or same) and os.path.isfile(checkpoint):
            raise FlowCheckpointError(
                f"{where}: checkpoint {os.fspath(checkpoint)!r} already exists (not replaced); "
                "pass it as resume= as well to continue that run, or overwrite=True"
            )
        check_output_file(checkpoint, arg=f"{where}: checkpoint", force=True)
        if checkpoint_times is None:
            inner = ts[(ts > 0) & (ts < t1)]
            checkpoint_times = inner[5::6]
    if checkpoint_times is None:
        seg_ends = [t1]
    else:
        ct = np.asarray(checkpoint_times, dtype=np.float64).reshape(-1)
        ct = _check_times(ct, t1, where, "checkpoint_times") if ct.size else ct
        if ct.size and (ct[0] <= 0 or ct[-1] >= t1):
            raise ValueError(f"{where}: checkpoint_times must lie strictly inside (0, t1)")
        seg_ends = [*ct.tolist(), t1]

    spec, use_fast, problem, params, static = _setup(model, dom, trainable, fast1d, where)
    flat0, _ = ravel_pytree(params)
    if not jnp.issubdtype(flat0.dtype, jnp.floating):
        raise TypeError(f"{where}: the trainable parameters must be floating point")
    dtype = flat0.dtype
    if not (bool(jnp.all(jnp.isfinite(flat0))) and np.isfinite(float(problem.loss(params)))):
        raise ValueError(
            f"{where}: the loss or the trainable parameters of the initial model are not finite"
        )
    nrm0 = jnp.maximum(jnp.linalg.norm(flat0), 1.0)
    controller = dfx.PIDController(rtol=rtol, atol=atol)
    settings = _settings(
        solver_name, rtol, atol, t1, ts, seg_ends, use_fast, flat0, dom, tracker, trainable, model
    )
    tsj = jnp.asarray(ts, dtype)
    counter = _EvaluationCounter() if count_evaluations else None
    kw = dict(max_steps=max_steps, counter=counter, meter=_meter(progress))
    stats = dict(num_steps=0, num_accepted_steps=0, num_rejected_steps=0)
    records: dict[str, np.ndarray] = {}
    seg_done = 0
    t0_wall = time.perf_counter()
    if resume is None:
        dt0, sstate, cstate = _init(
            problem, params, solver_obj, controller, flat0, jnp.asarray(0.0, dtype),
            jnp.asarray(seg_ends[0], dtype), counter=counter,
        )  # fmt: skip
        # arrays throughout (no Python scalars): every segment runs one compiled solve
        state = jtu.tree_map(jnp.asarray, (flat0, sstate, cstate, False))
    else:
        like = _state_like(problem, params, solver_obj, controller, flat0, tsj, nrm0, tracker, kw)
        header, state, records = _restore(resume, like, settings, f"{where}: resume")
        seg_done = int(header["segments_done"])
        dt0 = jnp.asarray(header["dt0"], dtype)
        stats = {k: int(v) for k, v in header["stats"].items()}
    completed, stopped = True, None
    while seg_done < len(seg_ends) and completed:
        ta = 0.0 if seg_done == 0 else seg_ends[seg_done - 1]
        tb = seg_ends[seg_done]
        out = _solve(
            problem, params, tracker, solver_obj, controller, state[0],
            jnp.asarray(ta, dtype), jnp.asarray(tb, dtype), dt0,
            jnp.clip(tsj, ta, tb), flat0, nrm0, *state[1:], **kw,
        )  # fmt: skip
        for k, v in out["stats"].items():
            stats[k] = stats.get(k, 0) + int(v)
        t_end = float(out["t_end"])
        if not bool(out["ok"]):
            completed = False
            stopped = (
                f"the solver stopped at t = {t_end:.6g} before t = {tb:g} (max_steps="
                f"{max_steps} reached, or the step size underflowed / the vector field is "
                "not finite)"
            )
        sel = (ts >= ta if seg_done == 0 else ts > ta) & (ts <= (tb if completed else t_end))
        recs = {k: np.asarray(v)[sel] for k, v in out["records"].items()}
        records = (
            recs if not records else {k: np.concatenate([records[k], recs[k]]) for k in records}
        )
        state = (out["y"], out["solver_state"], out["controller_state"], out["made_jump"])
        seg_done += 1
        if completed:
            dt0 = jnp.asarray(_next_dt0(out["steps_t"], ta), dtype)
            if checkpoint is not None:
                _write_checkpoint(checkpoint, settings, seg_done, float(dt0), state, records, stats)
    elapsed = time.perf_counter() - t0_wall
    stats["segments"] = seg_done
    if counter is not None:
        jax.effects_barrier()  # every callback of this call has run
        stats["vector_field_evaluations"] = counter.n
    _, unravel = ravel_pytree(params)
    model_out = eqx.combine(unravel(jnp.asarray(state[0])), static)
    n_rec = len(records["loss"])
    me = records.get("mode_errors")
    meta = dict(
        solver=solver_name,
        rtol=rtol,
        atol=atol,
        t1=t1,
        fast1d=bool(use_fast),
        nodes=dom.size,
        n_params=int(flat0.size),
        trainable=str(trainable) if isinstance(trainable, str) else "filter",
        dtype=str(dtype),
        wall_s=elapsed,
        checkpoint_times=seg_ends[:-1],
    )
    return FlowTrajectory(
        times=ts[:n_rec],
        loss=records["loss"],
        param_norm=records["param_norm"],
        drift=records["drift"],
        drift_max=records["drift_max"],
        mode_errors=me,
        mode_labels=tracker.labels if tracker is not None else (),
        stats=stats,
        metadata=meta,
        completed=completed,
        stopped=stopped,
        model=model_out,
        first_increase=first_increase_at(ts[:n_rec], records["loss"]),
    )


def _state_like(problem, params, solver, controller, flat0, tsj, nrm0, tracker, kw):
    """The shapes of a segment's carried state (traced, nothing runs)."""
    dtype = flat0.dtype
    t0, t1 = jnp.asarray(0.0, dtype), jnp.asarray(1.0, dtype)
    _, sstate, cstate = jax.eval_shape(
        lambda: _init(problem, params, solver, controller, flat0, t0, t1, counter=kw["counter"])
    )
    as_struct = lambda x: x if isinstance(x, jax.ShapeDtypeStruct) else jnp.asarray(x)  # noqa: E731
    return jtu.tree_map(as_struct, (flat0, sstate, cstate, False))
