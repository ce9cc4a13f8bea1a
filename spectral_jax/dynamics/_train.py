r"""`train`: gradient flow / descent as ONE jitted nested `lax.scan`, thinned records.

The outer scan runs over records, the inner one over the `record_every` steps between
them, so memory is $O(\text{steps}/\text{record\_every})$. After the first non-finite
loss or parameter, or the first loss above ``divergence_factor`` times the initial loss,
the updates freeze (the carry holds `failed_at` and the reason), so the returned model
is the last good state.

With a checkpoint file the scan runs in chunks (of ``checkpoint_every`` steps, or about a
tenth of the run): after each chunk the state can be saved, and an interrupt (Ctrl-C,
or SIGTERM in the command line) saves the last completed chunk before it propagates.
Chunked and resumed runs equal an uninterrupted run bit for bit (on CPU).

**References:** seeds 000/001 (training dynamics), Welper 2023 (seed 003).
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
from jax.flatten_util import ravel_pytree

from .._checks import check_positive_int
from .._files import check_output_file
from .._memory import array_bytes, check_memory
from .._progress import Progress
from ._fast1d import fast1d_order, fast1d_outputs, fast1d_sorted_outputs
from ._modes import ModeTracker
from ._problem import LossDomain, fast1d_applies, model_outputs, select_trainable
from ._steppers import AbstractStepper
from ._trajectory import (
    STOP_REASONS,
    Checkpoint,
    CheckpointError,
    Trajectory,
    from_records,
    read_checkpoint,
    setting_differences,
    write_checkpoint,
)

__all__ = ["train", "Problem", "TrainingInterrupted"]

#: with a checkpoint but no ``checkpoint_every``, the run is split into about this many
#: chunks, so that an interrupt loses at most a tenth of it
_AUTO_CHUNKS = 10


class TrainingInterrupted(KeyboardInterrupt):
    """An interrupt (Ctrl-C / SIGTERM) during `train` after which the state of the last
    completed chunk was written to the checkpoint. Fields: `path`, `steps_done`."""

    def __init__(self, path: str, steps_done: int):
        super().__init__(f"checkpoint of step {steps_done} written to {path!r}")
        self.path = path
        self.steps_done = steps_done


_PROGRESS: dict[str, Any] = {"bar": None}


class Problem(eqx.Module):
    """Loss of the trainable part ``params`` (the static rest is held here).

    On the fast 1D path the nodes are sorted once here (`sorted_nodes`, with weights and
    target values in the same order), so a step runs no sort and the loss needs no
    permutation; `outputs`/`residual` are in the original node order."""

    static: Any
    dom: LossDomain
    fast1d: bool = eqx.field(static=True)
    order: Any = None
    sorted_nodes: Any = None
    sorted_weights: Any = None
    sorted_values: Any = None

    def __init__(self, static, dom, fast1d, order=None):
        self.static = static
        self.dom = dom
        self.fast1d = bool(fast1d)
        self.order = self.sorted_nodes = self.sorted_weights = self.sorted_values = None
        if self.fast1d:
            order = fast1d_order(dom.nodes[:, 0]) if order is None else order
            self.order = order
            self.sorted_nodes = dom.nodes[order, 0]
            self.sorted_weights = dom.weights[order]
            self.sorted_values = dom.values[order]

    @property
    def weights(self):
        return self.dom.weights

    def outputs(self, params):
        model = eqx.combine(params, self.static)
        if self.fast1d:
            return fast1d_outputs(model, self.dom.nodes[:, 0], order=self.order)
        return model_outputs(model, self.dom.nodes)

    def residual(self, params):
        return self.outputs(params) - self.dom.values

    def loss(self, params):
        if self.fast1d:  # the loss is permutation invariant: stay in sorted order
            model = eqx.combine(params, self.static)
            r = fast1d_sorted_outputs(model, self.sorted_nodes) - self.sorted_values
            return 0.5 * jnp.sum(self.sorted_weights * r * r)
        r = self.residual(params)
        return 0.5 * jnp.sum(self.dom.weights * r * r)

    def loss_and_grad(self, params):
        return jax.value_and_grad(self.loss)(params)

    def grad(self, params):
        return jax.grad(self.loss)(params)


def _finite_tree(t):
    leaves = jtu.tree_leaves(t)
    return jnp.all(jnp.asarray([jnp.all(jnp.isfinite(x)) for x in leaves]))


def _record(problem, stepper, tracker, params, state, flat0, nrm0):
    r = stepper.residual(problem, params, state)
    loss = 0.5 * jnp.sum(problem.weights * r * r)
    flat, _ = ravel_pytree(params)
    d = flat - flat0
    rec = dict(
        loss=loss,
        param_norm=jnp.linalg.norm(flat),
        drift=jnp.linalg.norm(d) / nrm0,
        drift_max=jnp.max(jnp.abs(d)),
    )
    if tracker is not None:
        rec["mode_errors"] = tracker.errors(r, problem.weights)
    return rec


def _progress_cb(done):
    bar = _PROGRESS["bar"]
    if bar is not None:
        bar.update(int(done))


def _one_step(problem, stepper, c, limit=None):
    """One guarded step on the carry ``(params, prev, state, step, failed[, why])``.

    A state is rejected when its loss is non-finite or (with `limit`, then the carry has
    the reason code `why`: 1 non-finite, 2 diverged) above `limit`, or when the update is
    non-finite; from then on the carry keeps the last good state."""
    params, prev, state, step, failed, *why = c
    new_p, new_s, loss = stepper.step(problem, params, state)
    finite = jnp.isfinite(loss)
    good = finite if limit is None else finite & (loss <= limit)  # params is a good state
    ok = (failed < 0) & good & _finite_tree(new_p)
    keep = lambda a, b: jnp.where(ok, a, b)  # noqa: E731
    # on failure keep the last good state: params if it is good (the update overflowed),
    # else prev (params itself was bad)
    last_good = jtu.tree_map(lambda a, b: jnp.where(good, a, b), params, prev)
    new_prev = jtu.tree_map(keep, params, prev)
    params = jtu.tree_map(
        lambda a, b: jnp.where(ok, a, b),
        new_p,
        jtu.tree_map(lambda a, b: jnp.where(failed < 0, a, b), last_good, params),
    )
    state = jtu.tree_map(keep, new_s, state)
    newly = (failed < 0) & ~ok
    failed = jnp.where(newly, jnp.where(good, step + 1, step), failed)
    out = (params, new_prev, state, step + 1, failed)
    if why:
        code = jnp.where(finite & ~good, 2, 1).astype(why[0].dtype)
        out += (jnp.where(newly, code, why[0]),)
    return out


def _steps(problem, stepper, c, n, limit=None):
    """`n` guarded steps as one `lax.scan`."""
    c, _ = jax.lax.scan(
        lambda cc, _: (_one_step(problem, stepper, cc, limit), None), c, None, length=n
    )
    return c


def _checked_record(problem, stepper, tracker, c, flat0, nrm0, limit):
    """The record of the carry `c` (6-tuple), after rejecting its state if the recorded
    loss is non-finite or above `limit`: a bad state is otherwise only seen by the next
    step, and the record would show it once before the run falls back to the last good
    state. The check reuses the record's loss; the fallback runs only when needed."""
    rec = _record(problem, stepper, tracker, c[0], c[2], flat0, nrm0)
    params, prev, state, step, failed, why = c
    loss = rec["loss"]
    bad = (failed < 0) & ~(jnp.isfinite(loss) & (loss <= limit))

    def reject(_):
        code = jnp.where(jnp.isfinite(loss), 2, 1).astype(why.dtype)
        back = (prev, prev, state, step, step, code)
        return back, _record(problem, stepper, tracker, prev, state, flat0, nrm0)

    return jax.lax.cond(bad, reject, lambda _: (c, rec), None)


@eqx.filter_jit
def _run(problem, stepper, tracker, carry, flat0, nrm0, limit, n_records, record_every, progress):
    def chunk(c, _):
        c = _steps(problem, stepper, c, record_every, limit)
        if progress:
            jax.debug.callback(_progress_cb, c[3], ordered=False)
        return _checked_record(problem, stepper, tracker, c, flat0, nrm0, limit)

    return jax.lax.scan(chunk, carry, None, length=n_records)


def _digest(*arrays) -> str:
    """SHA-256 of the arrays' shapes, dtypes and bytes (to recognise the same inputs)."""
    h = hashlib.sha256()
    for x in arrays:
        a = np.ascontiguousarray(np.asarray(x))
        h.update(f"{a.shape}{a.dtype}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _run_settings(model, stepper, record_every, dom, trainable, use_fast, flat0, tracker, factor):
    """What a resumed run must repeat for its trajectory to continue the checkpoint's.

    (The hyperparameters inside an ``optax`` optimizer cannot be read back: pass them in
    ``checkpoint_info`` to have them checked.)"""
    return dict(
        stepper=stepper.name,
        stepper_type=type(stepper).__name__,
        lr=float(stepper.lr) if hasattr(stepper, "lr") else None,
        record_every=record_every,
        trainable=str(trainable) if isinstance(trainable, str) else "filter",
        fast1d=bool(use_fast),
        dtype=str(flat0.dtype),
        n_params=int(flat0.size),
        nodes=[int(s) for s in dom.nodes.shape],
        loss_domain=_digest(dom.nodes, dom.weights, dom.values),
        initial_model=_digest(*jtu.tree_leaves(eqx.filter(model, eqx.is_array))),
        modes=None if tracker is None else [_json_label(m) for m in tracker.labels],
        mode_basis=None if tracker is None else _digest(tracker.basis),
        divergence_factor=factor,
    )


def _json_label(m):
    return m.item() if isinstance(m, np.generic) else m


def _restore(ck: Checkpoint, carry_like, records_like, settings, info, where):
    """The carry, records and step count of `ck`, after checking that it fits this run."""
    name = repr(ck.path)
    diffs = setting_differences(ck.info, info) if info and ck.info else []
    diffs = diffs or setting_differences(ck.settings, settings)
    if diffs:
        raise CheckpointError(
            f"{where}: checkpoint {name} was written by a different run: " + "; ".join(diffs)
        )
    like = jtu.tree_leaves(carry_like)
    n_params = len(jtu.tree_leaves(carry_like[0]))
    if len(like) != len(ck.leaves) or ck.header["n_param_leaves"] != n_params:
        raise CheckpointError(
            f"{where}: checkpoint {name} holds {len(ck.leaves)} state arrays; this model and "
            f"stepper have {len(like)}"
        )
    for i, (a, b) in enumerate(zip(ck.leaves, like, strict=True)):
        if a.shape != tuple(b.shape) or a.dtype != b.dtype:
            raise CheckpointError(
                f"{where}: checkpoint {name} does not fit this model/stepper: state array {i} "
                f"has shape {a.shape} ({a.dtype}) there, {tuple(b.shape)} ({b.dtype}) here"
            )
    for k, v in records_like.items():
        r = ck.records.get(k)
        if r is None or r.shape[1:] != v.shape[1:] or r.dtype != v.dtype:
            raise CheckpointError(
                f"{where}: checkpoint {name} does not record {k!r} as this run does"
            )
    carry = jtu.tree_unflatten(jtu.tree_structure(carry_like), [jnp.asarray(x) for x in ck.leaves])
    records = {k: ck.records[k] for k in records_like}
    return carry, records, ck.steps_done


def _check_divergence_factor(factor, where):
    if isinstance(factor, bool) or not isinstance(factor, (int, float, np.integer, np.floating)):
        raise TypeError(
            f"{where}: divergence_factor must be a real number > 1 (inf: never stop); got "
            f"{factor!r}"
        )
    factor = float(factor)
    if not factor > 1:  # also NaN
        raise ValueError(
            f"{where}: divergence_factor must be a real number > 1 (inf: never stop); got {factor}"
        )
    return factor


def records_bytes(n_records: int, n_modes: int, dtype) -> int:
    """Peak bytes of ``n_records`` records of ``4 + n_modes`` values (device output, host
    copy, concatenation)."""
    return 3 * array_bytes(n_records + 1, 4 + n_modes, dtype=dtype)


def _check_run_args(steps, record_every, dom, stepper, mode_tracker, where):
    """The argument checks shared by `train` and `train_many`; returns the ints."""
    steps = check_positive_int(steps, "steps", where)
    record_every = check_positive_int(record_every, "record_every", where)
    if record_every > steps:
        raise ValueError(
            f"{where}: record_every must be <= steps; got record_every={record_every}, "
            f"steps={steps}"
        )
    if steps % record_every:
        raise ValueError(
            f"{where}: steps must be a multiple of record_every; got steps={steps}, "
            f"record_every={record_every}"
        )
    if not isinstance(dom, LossDomain):
        raise TypeError(
            f"{where}: dom must be a LossDomain (see loss_domain); got {type(dom).__name__}"
        )
    if not isinstance(stepper, AbstractStepper):
        raise TypeError(
            f"{where}: stepper must be an AbstractStepper (Euler, RK4, ...); got "
            f"{type(stepper).__name__}"
        )
    if mode_tracker is not None and (
        not isinstance(mode_tracker, ModeTracker) or mode_tracker.basis.shape[1] != dom.size
    ):
        raise ValueError(
            f"{where}: mode_tracker must be a ModeTracker built on the same loss nodes "
            f"({dom.size}); got {type(mode_tracker).__name__}"
            + (
                f" with {mode_tracker.basis.shape[1]} nodes"
                if isinstance(mode_tracker, ModeTracker)
                else ""
            )
        )
    return steps, record_every


def _run_metadata(stepper, steps, record_every, use_fast, dom, flat0, trainable, elapsed, **extra):
    """The metadata both `train` and `train_many` record (``flat0``: one network's
    flattened trainable parameters), plus ``extra``."""
    return dict(
        stepper=stepper.name,
        lr=float(stepper.lr) if hasattr(stepper, "lr") else None,
        steps=steps,
        record_every=record_every,
        fast1d=use_fast,
        nodes=dom.size,
        n_params=int(flat0.size),
        trainable=str(trainable) if isinstance(trainable, str) else "filter",
        wall_s=elapsed,
        dtype=str(flat0.dtype),
        **extra,
    )


def _setup(model, dom, trainable, fast1d, where):
    """Shared by `train` and `train_many`: the trainable spec, whether the fast 1D path
    applies, the `Problem`, and the (params, static) split of `model`, after checking
    that the model gives one scalar per loss node."""
    spec = select_trainable(model, trainable, where)
    params, static = eqx.partition(model, spec)
    use_fast = fast1d_applies(model, dom) if fast1d == "auto" else bool(fast1d)
    if use_fast and not fast1d_applies(model, dom):
        raise ValueError(
            f"{where}: fast1d=True needs a 1-D ShallowNetwork with a ReLU^p activation"
        )
    problem = Problem(static, dom, use_fast)
    try:
        h0 = problem.outputs(params)
    except (ValueError, TypeError) as err:
        raise ValueError(
            f"{where}: the model cannot be evaluated on the loss nodes of shape "
            f"{tuple(dom.nodes.shape)}: {err}"
        ) from err
    if h0.shape != (dom.size,):
        raise ValueError(
            f"{where}: the model must give one scalar per node; got outputs of shape {h0.shape}"
        )
    return spec, use_fast, problem, params, static


def train(
    model: Any,
    dom: LossDomain,
    *,
    stepper: AbstractStepper,
    steps: int,
    record_every: int = 1,
    trainable: Any = "all",
    mode_tracker: ModeTracker | None = None,
    fast1d: bool | str = "auto",
    progress: bool = True,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int | None = None,
    resume: str | os.PathLike | None = None,
    divergence_factor: float = 1e6,
    checkpoint_info: dict | None = None,
) -> Trajectory:
    r"""Train `model` on $E=\tfrac12\sum_l q_l(h(x_l)-f_l)^2$ with `stepper` for `steps` steps.

    **Arguments:**

    - `model`: an Equinox module (`ShallowNetwork`, `MLP`, ...).
    - `dom`: a `LossDomain` (from `loss_domain`).
    - `stepper`: `Euler`, `RK4`, `OptaxStepper`, `LinearisedFlow` or `ExpEuler`.
    - `steps`: total number of steps (a multiple of `record_every`; when resuming, the
      total including the checkpoint's steps).
    - `record_every`: record loss, parameter statistics and mode errors every so many steps.
    - `trainable`: see `select_trainable`.
    - `mode_tracker`: a `ModeTracker` (e.g. `fourier_modes(dom, 16)`), or ``None``.
    - `fast1d`: ``"auto"`` uses the $O((N+n)\log)$ path for 1D ReLU$^p$ shallow nets.
    - `progress`: progress on stderr (a host callback once per record).
    - `checkpoint`: file to save the training state to, atomically: every
      `checkpoint_every` steps (a multiple of `record_every`) if given, at the end, and
      on an interrupt (the last completed chunk; then `TrainingInterrupted` is raised).
      An existing file is replaced.
    - `resume`: a checkpoint to continue from. The run must repeat the checkpoint's
      settings (model and initial parameters, loss nodes and target, stepper and step
      size, `record_every`, trainable selection, modes, dtype, `divergence_factor`);
      the result equals an uninterrupted run bit for bit (on CPU).
    - `divergence_factor`: stop (keeping the last good state) once the loss exceeds this
      multiple of its initial value, as for a non-finite loss; ``inf`` never stops.
      The trajectory's `stopped` says ``"diverged"``.
    - `checkpoint_info`: extra JSON-able settings (e.g. a command line's options, keyed by
      option name) saved in the checkpoint and required to match on resume; the
      hyperparameters inside an optax optimizer cannot be read back, so pass them here.

    **Returns:** a `Trajectory` (records at steps ``0, r, 2r, ...``; the final `model`;
    `failed_at` = first rejected step, `stopped` = ``"nonfinite"``/``"diverged"``, both
    ``None`` if the run finished normally).

    **Raises:** ``ValueError`` for ``record_every > steps``, `steps` not a multiple of
    `record_every`, an empty selection, a node set that does not fit the model, a bad
    `checkpoint` path or `checkpoint_every`, records that cannot fit in memory;
    `CheckpointError` (a ``ValueError``) for a missing, damaged or foreign `resume` file,
    one written by a different run, or one with more steps than `steps`.
    `TrainingInterrupted` (a ``KeyboardInterrupt``) after an interrupt that was saved.
    """
    where = "train"
    steps, record_every = _check_run_args(steps, record_every, dom, stepper, mode_tracker, where)
    factor = _check_divergence_factor(divergence_factor, where)
    if checkpoint_every is not None:
        if checkpoint is None:
            raise ValueError(f"{where}: checkpoint_every needs checkpoint= (the file to write)")
        checkpoint_every = check_positive_int(checkpoint_every, "checkpoint_every", where)
        if checkpoint_every % record_every:
            raise ValueError(
                f"{where}: checkpoint_every must be a multiple of record_every; got "
                f"checkpoint_every={checkpoint_every}, record_every={record_every}"
            )
    if checkpoint is not None:
        check_output_file(checkpoint, arg=f"{where}: checkpoint", force=True)
        checkpoint = os.fspath(checkpoint)
    if checkpoint_info is not None and not isinstance(checkpoint_info, dict):
        raise TypeError(
            f"{where}: checkpoint_info must be a dict; got {type(checkpoint_info).__name__}"
        )
    ck = None
    if resume is not None:
        ck = read_checkpoint(resume, f"{where}: resume")
        if ck.steps_done > steps:
            raise CheckpointError(
                f"{where}: steps={steps} is fewer than the {ck.steps_done} steps already done "
                f"in checkpoint {ck.path!r}"
            )
    n_total = steps // record_every
    n_modes = 0 if mode_tracker is None else mode_tracker.n_modes
    check_memory(
        records_bytes(n_total, n_modes, dom.values.dtype),
        what=f"{where}: {n_total + 1} records (steps/record_every) of {4 + n_modes} values",
        hint="record less often (a larger record_every) or track fewer modes",
    )
    spec, use_fast, problem, params, static = _setup(model, dom, trainable, fast1d, where)
    flat0, _ = ravel_pytree(params)
    nrm0 = jnp.maximum(jnp.linalg.norm(flat0), 1.0)
    state = stepper.init(problem, params)
    i32 = lambda v: jnp.asarray(v, jnp.int32)  # noqa: E731
    carry = (params, params, state, i32(0), i32(-1), i32(0))
    settings = _run_settings(
        model, stepper, record_every, dom, trainable, use_fast, flat0, mode_tracker, factor
    )
    info = dict(checkpoint_info or {})
    rec0 = jax.tree_util.tree_map(
        np.asarray, _record(problem, stepper, mode_tracker, params, state, flat0, nrm0)
    )
    records = {k: v[None] for k, v in rec0.items()}
    done = 0
    if ck is not None:
        carry, records, done = _restore(ck, carry, records, settings, info, f"{where}: resume")
    loss0 = float(records["loss"][0])
    limit = factor * loss0 if math.isfinite(factor * loss0) and loss0 > 0 else math.inf
    limit = jnp.asarray(limit, dom.values.dtype)
    if checkpoint is None:
        seg = n_total
    elif checkpoint_every is not None:
        seg = checkpoint_every // record_every
    else:
        seg = max(1, -(-n_total // _AUTO_CHUNKS))
    n_param_leaves = len(jtu.tree_leaves(params))

    def save(c, recs, d):
        write_checkpoint(
            checkpoint,
            leaves=jtu.tree_leaves(c),
            n_param_leaves=n_param_leaves,
            records=recs,
            steps_done=d,
            record_every=record_every,
            settings=settings,
            info=info,
        )

    bar = Progress(steps, "train", enabled=progress)
    _PROGRESS["bar"] = bar
    t0 = time.perf_counter()
    done_start, saved = done, None
    # (carry, records, steps done) of the last completed chunk, replaced in ONE assignment
    # so that an interrupt between two statements never sees half of a chunk
    cur = (carry, records, done)
    try:
        while cur[2] < steps:
            n = min(seg, (steps - cur[2]) // record_every)
            c, recs = _run(
                problem,
                stepper,
                mode_tracker,
                cur[0],
                flat0,
                nrm0,
                limit,
                n,
                record_every,
                progress,
            )
            recs = jax.tree_util.tree_map(np.asarray, recs)
            cur = (
                c,
                {k: np.concatenate([cur[1][k], recs[k]]) for k in cur[1]},
                cur[2] + n * record_every,
            )
            if checkpoint is not None and (checkpoint_every is not None or cur[2] == steps):
                save(*cur)
                saved = cur[2]
        if checkpoint is not None and saved is None:  # nothing left to run (resumed at the end)
            save(*cur)
    except KeyboardInterrupt:
        if checkpoint is None or cur[2] == done_start:
            raise
        if saved != cur[2]:
            save(*cur)
        raise TrainingInterrupted(checkpoint, cur[2]) from None
    finally:
        _PROGRESS["bar"] = None
        bar.close()
    carry, records, done = cur
    elapsed = time.perf_counter() - t0
    failed = int(carry[4])
    model_out = eqx.combine(carry[0], static)
    meta = _run_metadata(
        stepper,
        steps,
        record_every,
        use_fast,
        dom,
        flat0,
        trainable,
        elapsed,
        steps_per_s=(steps - done_start) / max(elapsed, 1e-12),
        divergence_factor=factor,
        resumed_from=None if ck is None else ck.steps_done,
    )
    return from_records(
        Trajectory,
        np.arange(n_total + 1) * record_every,
        records,
        mode_tracker,
        None if failed < 0 else failed,
        meta,
        model_out,
        stopped=STOP_REASONS.get(int(carry[5])) if failed >= 0 else None,
    )
