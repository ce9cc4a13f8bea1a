r"""`train`: gradient flow / descent as ONE jitted nested `lax.scan`, thinned records.

The outer scan runs over records, the inner one over the `record_every` steps between
them, so memory is $O(\text{steps}/\text{record\_every})$ (the engine,
`spectral_jax.dynamics._engine`). After the first non-finite loss or parameter, or the
first loss above ``divergence_factor`` times the initial loss, the updates freeze (the
carry holds `failed_at` and the reason), so the returned model is the last good state.

With a checkpoint file (or progress output) the scan runs in chunks (of
``checkpoint_every`` steps, or about a tenth of the run): after each chunk the state can
be saved (`spectral_jax.dynamics._checkpoint`), and an interrupt (Ctrl-C, or SIGTERM in
the command line) saves the last completed chunk before it propagates. Chunked and
resumed runs equal an uninterrupted run bit for bit (on CPU).

**References:** seeds 000/001 (training dynamics), Welper 2023 (seed 003).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.tree_util as jtu
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

from .._checks import check_positive_int
from .._memory import check_memory
from .._progress import Progress
from ._checkpoint import (
    CheckpointError,
    TrainingInterrupted,
    check_checkpoint_path,
    read_checkpoint,
    restore,
    run_settings,
    write_checkpoint,
)
from ._curvature import resolve_lr
from ._engine import (
    check_divergence_factor,
    check_run_args,
    chunk_records,
    divergence_limit,
    first_increase,
    initial_carry,
    record,
    records_bytes,
    run_metadata,
    setup,
)
from ._engine import run_records as _run
from ._modes import ModeTracker
from ._problem import LossDomain
from ._steppers import AbstractStepper, OptaxStepper
from ._trajectory import STOP_REASONS, Trajectory, from_records

__all__ = ["train", "TrainingInterrupted"]

#: with a checkpoint but no ``checkpoint_every``, the run is split into about this many
#: chunks, so that an interrupt loses at most a tenth of it
_AUTO_CHUNKS = 10
#: with progress output and no checkpoint, the run is split into about this many chunks
_PROGRESS_CHUNKS = 20


def as_stepper(stepper, where: str) -> AbstractStepper:
    """`stepper`, or a plain ``optax.GradientTransformation`` wrapped in `OptaxStepper`."""
    if isinstance(stepper, optax.GradientTransformation):
        return OptaxStepper(stepper)
    return stepper


def check_chunking(checkpoint, checkpoint_every, record_every, where) -> int | None:
    if checkpoint_every is None:
        return None
    if checkpoint is None:
        raise ValueError(f"{where}: checkpoint_every needs checkpoint= (the file to write)")
    checkpoint_every = check_positive_int(checkpoint_every, "checkpoint_every", where)
    if checkpoint_every % record_every:
        raise ValueError(
            f"{where}: checkpoint_every must be a multiple of record_every; got "
            f"checkpoint_every={checkpoint_every}, record_every={record_every}"
        )
    return checkpoint_every


def records_per_chunk(n_total, record_every, checkpoint, checkpoint_every, progress) -> int:
    """How many records one compiled call makes (the whole run unless it is chunked)."""
    if checkpoint_every is not None:
        return checkpoint_every // record_every
    if checkpoint is not None:
        return chunk_records(n_total, _AUTO_CHUNKS)
    if progress:
        return chunk_records(n_total, _PROGRESS_CHUNKS)
    return n_total


def run_chunked(
    advance: Callable,
    cur: tuple,
    *,
    steps: int,
    record_every: int,
    seg: int,
    save: Callable | None,
    save_each: bool,
    path: str | None,
    bar: Progress,
):
    """The host loop over chunks: ``advance(carry, n_records) -> (carry, records)``;
    `cur` = ``(carry, records, steps_done)`` is replaced in ONE assignment per chunk, so
    that an interrupt never sees half of a chunk. With `save` (a checkpoint), the state
    is saved after each chunk (`save_each`) or at the end, and on an interrupt after at
    least one chunk (then `TrainingInterrupted` is raised)."""
    done_start, saved = cur[2], None
    try:
        while cur[2] < steps:
            n = min(seg, (steps - cur[2]) // record_every)
            c, recs = advance(cur[0], n)
            recs = jtu.tree_map(np.asarray, recs)
            cur = (
                c,
                {k: np.concatenate([cur[1][k], recs[k]]) for k in cur[1]},
                cur[2] + n * record_every,
            )
            bar.update(cur[2])
            if save is not None and (save_each or cur[2] == steps):
                save(*cur)
                saved = cur[2]
        if save is not None and saved is None:  # nothing left to run (resumed at the end)
            save(*cur)
            saved = cur[2]
    except KeyboardInterrupt:
        if save is None or cur[2] == done_start:
            raise
        if saved != cur[2]:
            save(*cur)
        raise TrainingInterrupted(path, cur[2]) from None
    finally:
        bar.close()
    return cur


def train(
    model: Any,
    dom: LossDomain,
    *,
    stepper: AbstractStepper | optax.GradientTransformation,
    steps: int,
    record_every: int = 1,
    trainable: Any = "all",
    mode_tracker: ModeTracker | None = None,
    fast1d: bool | str = "auto",
    progress: bool = False,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int | None = None,
    resume: str | os.PathLike | None = None,
    overwrite: bool = False,
    divergence_factor: float = 1e6,
    checkpoint_info: dict | None = None,
) -> Trajectory:
    r"""Train `model` on $E=\tfrac12\sum_l q_l(h(x_l)-f_l)^2$ with `stepper` for `steps` steps.

    **Arguments:**

    - `model`: an Equinox module (`ShallowNetwork`, `MLP`, ...).
    - `dom`: a `LossDomain` (from `loss_domain`).
    - `stepper`: `Euler`, `RK4`, `OptaxStepper`, `LinearisedFlow` or `ExpEuler` (see
      `get_stepper`), or a plain ``optax.GradientTransformation`` (e.g.
      ``optax.adam(1e-2)``, wrapped in `OptaxStepper`). A stepper made with
      ``lr="auto"`` gets $\eta=c/\lambda_{\max}$ from the top Hessian eigenvalue at the
      initial point (Lanczos on Hessian-vector products; `top_hessian_eigenvalue`);
      the estimate is in ``metadata["lr_auto"]``.
    - `steps`: total number of steps (a multiple of `record_every`; when resuming, the
      total including the checkpoint's steps).
    - `record_every`: record loss, parameter statistics and mode errors every so many steps.
    - `trainable`: see `select_trainable`.
    - `mode_tracker`: a `ModeTracker` (e.g. `fourier_modes(dom, 16)`), or ``None``.
    - `fast1d`: ``"auto"`` uses the $O((N+n)\log)$ path for 1D ReLU$^p$ shallow nets.
    - `progress`: a progress line on stderr, updated between chunks of the run; quiet by
      default.
    - `checkpoint`: file to save the training state to, atomically: every
      `checkpoint_every` steps (a multiple of `record_every`) if given, at the end, and
      on an interrupt (the last completed chunk; then `TrainingInterrupted` is raised).
      An existing file is refused unless it is the `resume` file (then it is updated)
      or `overwrite` is ``True``.
    - `resume`: a checkpoint to continue from. The run must repeat the checkpoint's
      settings (model and initial parameters, loss nodes and target, stepper and step
      size, `record_every`, trainable selection, modes, dtype, `divergence_factor`);
      the result equals an uninterrupted run bit for bit (on CPU).
    - `overwrite`: allow `checkpoint` to replace an existing file.
    - `divergence_factor`: stop (keeping the last good state) once the loss exceeds this
      multiple of its initial value, as for a non-finite loss; ``inf`` never stops.
      The trajectory's `stopped` says ``"diverged"``.
    - `checkpoint_info`: extra JSON-able settings (e.g. a command line's options, keyed by
      option name) saved in the checkpoint and required to match on resume; the
      hyperparameters inside an optax optimizer cannot be read back, so pass them here.

    **Returns:** a `Trajectory` (records at steps ``0, r, 2r, ...``; the final `model`;
    `failed_at` = first rejected step, `stopped` = ``"nonfinite"``/``"diverged"``, both
    ``None`` if the run finished normally; `first_increase` = the first step whose loss
    exceeded the previous step's, `monotone` = no such step).

    **Raises:** ``ValueError`` for ``record_every > steps``, `steps` not a multiple of
    `record_every`, an empty selection, a node set that does not fit the model, a bad or
    existing `checkpoint` path or `checkpoint_every`, records that cannot fit in memory,
    ``lr="auto"`` at a point without positive curvature;
    `CheckpointError` (a ``ValueError``) for a missing, damaged or foreign `resume` file,
    one written by a different run, or one with more steps than `steps`.
    `TrainingInterrupted` (a ``KeyboardInterrupt``) after an interrupt that was saved.

    !!! Example
        ```python
        traj = train(net, dom, stepper=Euler("auto"), steps=1000, record_every=10,
                     trainable="outer", mode_tracker=fourier_modes(dom, 8))
        traj.metadata["lr"], traj.monotone
        ```
    """
    where = "train"
    stepper = as_stepper(stepper, where)
    steps, record_every = check_run_args(steps, record_every, dom, stepper, mode_tracker, where)
    factor = check_divergence_factor(divergence_factor, where)
    checkpoint_every = check_chunking(checkpoint, checkpoint_every, record_every, where)
    if checkpoint_info is not None and not isinstance(checkpoint_info, dict):
        raise TypeError(
            f"{where}: checkpoint_info must be a dict; got {type(checkpoint_info).__name__}"
        )
    ck = None
    if resume is not None:
        ck = read_checkpoint(resume, f"{where}: resume")
        if ck.networks is not None:
            raise CheckpointError(
                f"{where}: resume: {ck.path!r} is a train_many checkpoint ({ck.networks} "
                "networks); resume it with train_many"
            )
        if ck.steps_done > steps:
            raise CheckpointError(
                f"{where}: steps={steps} is fewer than the {ck.steps_done} steps already done "
                f"in checkpoint {ck.path!r}"
            )
    checkpoint = check_checkpoint_path(checkpoint, resume, force=overwrite, where=where)
    n_total = steps // record_every
    n_modes = 0 if mode_tracker is None else mode_tracker.n_modes
    check_memory(
        records_bytes(n_total, n_modes, dom.values.dtype),
        what=f"{where}: {n_total + 1} records (steps/record_every) of {4 + n_modes} values",
        hint="record less often (a larger record_every) or track fewer modes",
    )
    spec, use_fast, problem, params, static = setup(model, dom, trainable, fast1d, where)
    stepper, lr_auto = resolve_lr(stepper, problem, params, where)
    flat0, _ = ravel_pytree(params)
    nrm0 = jax.numpy.maximum(jax.numpy.linalg.norm(flat0), 1.0)
    state = stepper.init(problem, params)
    settings = run_settings(
        model, stepper, record_every, dom, trainable, use_fast, flat0, mode_tracker, factor
    )
    info = dict(checkpoint_info or {})
    rec0 = jtu.tree_map(
        np.asarray, record(problem, stepper, mode_tracker, params, state, flat0, nrm0)
    )
    records = {k: v[None] for k, v in rec0.items()}
    loss0 = rec0["loss"]
    carry = initial_carry(params, state, loss0)
    done = 0
    if ck is not None:
        carry, records, done = restore(ck, carry, records, settings, info, f"{where}: resume")
    limit = divergence_limit(factor, float(records["loss"][0]), dom.values.dtype)
    loss0 = jax.numpy.asarray(records["loss"][0])
    seg = records_per_chunk(n_total, record_every, checkpoint, checkpoint_every, progress)
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

    def advance(c, n):
        return _run(problem, stepper, mode_tracker, c, flat0, nrm0, limit, loss0, n, record_every)

    bar = Progress(steps, "train", enabled=progress)
    t0 = time.perf_counter()
    carry, records, _ = run_chunked(
        advance,
        (carry, records, done),
        steps=steps,
        record_every=record_every,
        seg=seg,
        save=None if checkpoint is None else save,
        save_each=checkpoint_every is not None,
        path=checkpoint,
        bar=bar,
    )
    elapsed = time.perf_counter() - t0
    failed = int(carry[6])
    extra = {} if lr_auto is None else {"lr_auto": lr_auto._asdict()}
    meta = run_metadata(
        stepper,
        steps,
        record_every,
        use_fast,
        dom,
        flat0,
        trainable,
        elapsed,
        steps_per_s=(steps - done) / max(elapsed, 1e-12),
        divergence_factor=factor,
        resumed_from=None if ck is None else ck.steps_done,
        **extra,
    )
    return from_records(
        Trajectory,
        np.arange(n_total + 1) * record_every,
        records,
        mode_tracker,
        None if failed < 0 else failed,
        meta,
        eqx.combine(carry[0], static),
        stopped=STOP_REASONS.get(int(carry[7])) if failed >= 0 else None,
        first_increase=first_increase(carry),
    )
