r"""`train`: gradient flow / descent as ONE jitted nested `lax.scan`, thinned records.

The outer scan runs over records, the inner one over the `record_every` steps between
them, so memory is $O(\text{steps}/\text{record\_every})$. After the first non-finite
loss or parameter the updates freeze (the carry holds `failed_at`), so the returned
model is the last good state.

**References:** seeds 000/001 (training dynamics), Welper 2023 (seed 003).
"""

from __future__ import annotations

import io
import json
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
from .._progress import Progress
from ._fast1d import fast1d_order, fast1d_outputs, fast1d_sorted_outputs
from ._modes import ModeTracker
from ._problem import LossDomain, fast1d_applies, model_outputs, select_trainable
from ._steppers import AbstractStepper
from ._trajectory import Trajectory, from_records

__all__ = ["train", "Problem"]

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


def _one_step(problem, stepper, c):
    """One guarded step on the carry ``(params, prev, state, step, failed)``."""
    params, prev, state, step, failed = c
    new_p, new_s, loss = stepper.step(problem, params, state)
    good = jnp.isfinite(loss)  # E(params) finite: params is a good state
    ok = (failed < 0) & good & _finite_tree(new_p)
    keep = lambda a, b: jnp.where(ok, a, b)  # noqa: E731
    # on failure keep the last state with a finite loss: params if E(params) is
    # finite (the update overflowed), else prev (params itself was bad)
    last_good = jtu.tree_map(lambda a, b: jnp.where(good, a, b), params, prev)
    new_prev = jtu.tree_map(keep, params, prev)
    params = jtu.tree_map(
        lambda a, b: jnp.where(ok, a, b),
        new_p,
        jtu.tree_map(lambda a, b: jnp.where(failed < 0, a, b), last_good, params),
    )
    state = jtu.tree_map(keep, new_s, state)
    failed = jnp.where((failed < 0) & ~ok, jnp.where(good, step + 1, step), failed)
    return (params, new_prev, state, step + 1, failed)


def _steps(problem, stepper, c, n):
    """`n` guarded steps as one `lax.scan`."""
    c, _ = jax.lax.scan(lambda cc, _: (_one_step(problem, stepper, cc), None), c, None, length=n)
    return c


@eqx.filter_jit
def _run(problem, stepper, tracker, carry, flat0, nrm0, n_records, record_every, progress):
    def chunk(c, _):
        c = _steps(problem, stepper, c, record_every)
        if progress:
            jax.debug.callback(_progress_cb, c[3], ordered=False)
        return c, _record(problem, stepper, tracker, c[0], c[2], flat0, nrm0)

    return jax.lax.scan(chunk, carry, None, length=n_records)


def _signature(params, stepper, dom) -> str:
    leaves = [(tuple(x.shape), str(x.dtype)) for x in jtu.tree_leaves(params)]
    return json.dumps(
        dict(
            leaves=leaves,
            treedef=str(jtu.tree_structure(params)),
            stepper=type(stepper).__name__,
            nodes=list(dom.nodes.shape),
        )
    )


def _save_checkpoint(path, carry, records, signature, steps_done):
    buf = io.BytesIO()
    eqx.tree_serialise_leaves(buf, carry)
    arrays = {f"rec_{k}": v for k, v in records.items()}
    tmp = os.fspath(path) + ".tmp"
    with open(tmp, "wb") as fh:
        np.savez(
            fh,
            state=np.frombuffer(buf.getvalue(), np.uint8),
            header=np.asarray(json.dumps(dict(signature=signature, steps_done=steps_done))),
            **arrays,
        )
    os.replace(tmp, os.fspath(path))


def _load_checkpoint(path, carry_like, signature):
    where = "train"
    try:
        z = np.load(os.fspath(path), allow_pickle=False)
    except (OSError, ValueError) as err:
        raise ValueError(f"{where}: cannot read checkpoint {os.fspath(path)!r}: {err}") from err
    with z:
        if "header" not in z.files or "state" not in z.files:
            raise ValueError(f"{where}: {os.fspath(path)!r} is not a spectral_jax checkpoint")
        header = json.loads(str(z["header"]))
        if header["signature"] != signature:
            raise ValueError(
                f"{where}: checkpoint {os.fspath(path)!r} does not match this model/"
                "stepper/loss (different parameter shapes, trainable selection, "
                "stepper or nodes); got "
                f"{header['signature'][:200]}..., expected {signature[:200]}..."
            )
        carry = eqx.tree_deserialise_leaves(io.BytesIO(z["state"].tobytes()), carry_like)
        records = {k[4:]: np.asarray(z[k]) for k in z.files if k.startswith("rec_")}
        return carry, records, int(header["steps_done"])


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
) -> Trajectory:
    r"""Train `model` on $E=\tfrac12\sum_l q_l(h(x_l)-f_l)^2$ with `stepper` for `steps` steps.

    **Arguments:**
    - `model`: an Equinox module (`ShallowNetwork`, `MLP`, ...).
    - `dom`: a `LossDomain` (from `loss_domain`).
    - `stepper`: `Euler`, `RK4`, `OptaxStepper`, `LinearisedFlow` or `ExpEuler`.
    - `steps`: number of steps (a multiple of `record_every`).
    - `record_every`: record loss, parameter statistics and mode errors every so many steps.
    - `trainable`: see `select_trainable`.
    - `mode_tracker`: a `ModeTracker` (e.g. `fourier_modes(dom, 16)`), or ``None``.
    - `fast1d`: ``"auto"`` uses the $O((N+n)\log)$ path for 1D ReLU$^p$ shallow nets.
    - `progress`: progress on stderr (a host callback once per record).
    - `checkpoint`: file to save the state to (atomically) every `checkpoint_every`
      records (default: at the end); `resume`: a checkpoint to continue from (the
      result equals an uninterrupted run bit for bit).

    **Returns:** a `Trajectory` (records at steps ``0, r, 2r, ...``; the final `model`;
    `failed_at` = first step whose update was non-finite, else ``None``).

    **Raises:** ``ValueError`` for ``record_every > steps``, `steps` not a multiple of
    `record_every`, an empty selection, a mismatched checkpoint, or a node set that does
    not fit the model.
    """
    where = "train"
    steps, record_every = _check_run_args(steps, record_every, dom, stepper, mode_tracker, where)
    spec, use_fast, problem, params, static = _setup(model, dom, trainable, fast1d, where)
    flat0, _ = ravel_pytree(params)
    nrm0 = jnp.maximum(jnp.linalg.norm(flat0), 1.0)
    state = stepper.init(problem, params)
    carry = (params, params, state, jnp.asarray(0, jnp.int32), jnp.asarray(-1, jnp.int32))
    signature = _signature(params, stepper, dom)
    rec0 = jax.tree_util.tree_map(
        np.asarray, _record(problem, stepper, mode_tracker, params, state, flat0, nrm0)
    )
    records = {k: v[None] for k, v in rec0.items()}
    done = 0
    if resume is not None:
        carry, records, done = _load_checkpoint(resume, carry, signature)
    n_total = steps // record_every
    n_left = n_total - done // record_every
    seg = (
        n_left
        if checkpoint_every is None or checkpoint is None
        else check_positive_int(checkpoint_every, "checkpoint_every", where)
    )
    bar = Progress(steps, "train", enabled=progress)
    _PROGRESS["bar"] = bar
    t0 = time.perf_counter()
    try:
        while n_left > 0:
            n = min(seg, n_left)
            carry, recs = _run(
                problem, stepper, mode_tracker, carry, flat0, nrm0, n, record_every, progress
            )
            recs = jax.tree_util.tree_map(np.asarray, recs)
            records = {k: np.concatenate([records[k], recs[k]]) for k in records}
            n_left -= n
            done += n * record_every
            if checkpoint is not None:
                _save_checkpoint(checkpoint, carry, records, signature, done)
    finally:
        _PROGRESS["bar"] = None
        bar.close()
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
        steps_per_s=steps / max(elapsed, 1e-12),
    )
    return from_records(
        Trajectory,
        np.arange(n_total + 1) * record_every,
        records,
        mode_tracker,
        None if failed < 0 else failed,
        meta,
        model_out,
    )
