r"""`train_many`: $B$ independent networks trained as ONE jitted scan over a vmapped step.

The networks share the architecture, the trainable selection, the stepper and the loss
nodes; they differ in their parameters (e.g. initialisation keys) and optionally in
their targets. Their array leaves are stacked along a leading *network axis*; the outer
`lax.scan` runs over records and, inside it, ``eqx.filter_vmap`` maps the inner scan of
`record_every` guarded steps over the networks. With ``mesh=`` the network axis is
placed on the devices with `jax.sharding.NamedSharding` and XLA partitions the jitted
computation (GSPMD): every device trains its own slice of networks.

**References:** issue 7 ("Scale beyond one device"); seeds 000/001 (training dynamics).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
import optax
from jax.flatten_util import ravel_pytree
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from .._memory import check_memory
from .._progress import Progress
from .._sharding import AXIS, gather, pad_to_multiple
from ._checkpoint import (
    CheckpointError,
    check_checkpoint_path,
    digest,
    read_checkpoint,
    restore,
    run_settings,
    write_checkpoint,
)
from ._curvature import resolve_lr
from ._engine import (
    TrainingProblem,
    check_run_args,
    guarded_steps,
    initial_carry,
    record,
    records_bytes,
    run_metadata,
    setup,
)
from ._fast1d import fast1d_order
from ._modes import ModeTracker
from ._problem import LossDomain
from ._steppers import AbstractStepper
from ._train import as_stepper, check_chunking, records_per_chunk, run_chunked
from ._trajectory import STOP_REASONS, Trajectory, from_records, save_records

__all__ = ["train_many", "TrajectoryBatch", "stack_models"]

_A0 = eqx.if_array(0)
BATCH_FORMAT = "spectral_jax.trajectory_batch/1"


@dataclass
class TrajectoryBatch:
    """Thinned records of $B$ networks trained together (NumPy arrays, network axis first).

    **Fields:** `steps` ``(R,)``; `loss`, `param_norm`, `drift`, `drift_max` ``(B, R)``;
    `mode_errors` ``(B, R, M)`` or ``None``; `mode_labels`; `failed_at` (a list of $B$
    steps or ``None``); `stopped` (a list of $B$ reasons or ``None``);
    `first_increase` (a list of $B$ first steps whose loss exceeded the previous step's,
    or ``None``); `metadata`; `model` (the final models, stacked).
    ``batch[i]`` is network $i$'s `Trajectory`; ``len(batch)`` is $B$.
    """

    steps: np.ndarray
    loss: np.ndarray
    param_norm: np.ndarray
    drift: np.ndarray
    drift_max: np.ndarray
    mode_errors: np.ndarray | None = None
    mode_labels: tuple = ()
    failed_at: list = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    model: Any = None
    stopped: list = field(default_factory=list)
    first_increase: list = field(default_factory=list)

    @property
    def monotone(self) -> list[bool]:
        """Per network: whether its loss never increased from one step to the next."""
        return [k is None for k in self.first_increase]

    def save(self, path: str | os.PathLike) -> str:
        """Write the records (network axis first) and a JSON header (format
        ``"spectral_jax.trajectory_batch/1"``, `failed_at`, `stopped`, `first_increase`,
        `metadata`) as one ``.npz``, atomically; returns the path."""
        header = dict(
            format=BATCH_FORMAT,
            failed_at=self.failed_at,
            stopped=self.stopped,
            first_increase=self.first_increase,
            metadata=self.metadata,
        )
        return save_records(path, self, "steps", header)

    def __len__(self) -> int:
        return int(self.loss.shape[0])

    def __getitem__(self, i: int) -> Trajectory:
        i = range(len(self))[i]
        return Trajectory(
            steps=self.steps,
            loss=self.loss[i],
            param_norm=self.param_norm[i],
            drift=self.drift[i],
            drift_max=self.drift_max[i],
            mode_errors=None if self.mode_errors is None else self.mode_errors[i],
            mode_labels=self.mode_labels,
            failed_at=self.failed_at[i],
            metadata=dict(self.metadata, network=i),
            model=_index(self.model, i),
            stopped=self.stopped[i] if self.stopped else None,
            first_increase=self.first_increase[i] if self.first_increase else None,
        )


def _index(tree, i):
    return jtu.tree_map(lambda x: x[i] if eqx.is_array(x) else x, tree)


def stack_models(models: Sequence[Any]) -> Any:
    r"""Stack models of one architecture along a new leading network axis.

    **Arguments:** `models`: a non-empty sequence of Equinox modules with the same
    structure and array shapes (e.g. the same constructor with different keys).

    **Returns:** one module whose array leaves have shape ``(B, ...)``.

    **Raises:** ``ValueError`` for an empty sequence or models whose structures or
    shapes differ.
    """
    where = "stack_models"
    models = list(models)
    if not models:
        raise ValueError(f"{where}: models must be a non-empty sequence; got 0 models")
    arrs0, static0 = eqx.partition(models[0], eqx.is_array)
    shapes0 = [x.shape for x in jtu.tree_leaves(arrs0)]
    parts = []
    for i, m in enumerate(models):
        arrs, static = eqx.partition(m, eqx.is_array)
        shapes = [x.shape for x in jtu.tree_leaves(arrs)]
        if jtu.tree_structure(arrs) != jtu.tree_structure(arrs0) or shapes != shapes0:
            raise ValueError(
                f"{where}: all models must have the same structure and array shapes; "
                f"model {i} has shapes {shapes}, model 0 has {shapes0}"
            )
        parts.append(arrs)
    stacked = jtu.tree_map(lambda *xs: jnp.stack(xs), *parts)
    return eqx.combine(stacked, static0)


def _batch_size(models, where) -> int:
    leaves = jtu.tree_leaves(eqx.filter(models, eqx.is_array))
    if not leaves:
        raise ValueError(f"{where}: models has no array leaves to train")
    sizes = {(x.shape[0] if x.ndim else None) for x in leaves}
    if len(sizes) != 1 or None in sizes:
        raise ValueError(
            f"{where}: every array leaf of the stacked models must have the same leading "
            f"(network) axis; got leading sizes "
            f"{sorted(str(x.shape[0]) if x.ndim else 'scalar' for x in leaves)} "
            "(use stack_models to stack a list of models)"
        )
    return int(sizes.pop())


def _stack_domains(doms, B, where):
    """A list of B domains with the same nodes/weights -> one domain with values (B, N)."""
    doms = list(doms)
    if len(doms) != B:
        raise ValueError(
            f"{where}: got {len(doms)} loss domains for B={B} networks; pass one shared "
            "LossDomain or exactly one per network"
        )
    d0 = doms[0]
    for i, d in enumerate(doms):
        if not isinstance(d, LossDomain):
            raise TypeError(f"{where}: dom[{i}] must be a LossDomain; got {type(d).__name__}")
        if d.nodes.shape != d0.nodes.shape or not (
            bool(jnp.all(d.nodes == d0.nodes)) and bool(jnp.all(d.weights == d0.weights))
        ):
            raise ValueError(
                f"{where}: all loss domains must share the nodes and weights (only the "
                f"target values may differ); dom[{i}] differs from dom[0]"
            )
    return d0, jnp.stack([d.values for d in doms])


def _pad(tree, B, Bp):
    """Pad the network axis from B to Bp with copies of network 0."""
    if Bp == B:
        return tree
    return jtu.tree_map(
        lambda x: jnp.concatenate([x, jnp.repeat(x[:1], Bp - B, axis=0)]) if eqx.is_array(x) else x,
        tree,
    )


def _place(tree, mesh, batched: bool):
    if mesh is None:
        return tree

    def put(x):
        if not eqx.is_array(x):
            return x
        spec = PartitionSpec(AXIS, *([None] * (x.ndim - 1))) if batched else PartitionSpec()
        return jax.device_put(x, NamedSharding(mesh, spec))

    return jtu.tree_map(put, tree)


def _make_problem(static, dom, values, order, fast1d):
    if values is not None:
        dom = LossDomain(dom.nodes, dom.weights, values, dom.lo, dom.hi)
    return TrainingProblem(static, dom, fast1d, order)


@eqx.filter_jit
def _run_many(
    statics, dom, values, order, stepper, tracker, carry, flat0, nrm0, loss0, n_records, every,
    fast1d,
):  # fmt: skip
    """`n_records` records of every network, `every` guarded steps apart (vmapped), as ONE
    jitted `lax.scan`."""
    vaxis = None if values is None else 0

    def inner(static, vals, c, l0):
        pr = _make_problem(static, dom, vals, order, fast1d)
        return guarded_steps(pr, stepper, c, every, None, l0)

    def rec(static, vals, c, f0, n0):
        pr = _make_problem(static, dom, vals, order, fast1d)
        return record(pr, stepper, tracker, c[0], c[2], f0, n0)

    def chunk(c, _):
        c = eqx.filter_vmap(inner, in_axes=(_A0, vaxis, _A0, _A0))(statics, values, c, loss0)
        vrec = eqx.filter_vmap(rec, in_axes=(_A0, vaxis, _A0, _A0, _A0))
        return c, vrec(statics, values, c, flat0, nrm0)

    return jax.lax.scan(chunk, carry, None, length=n_records)


@eqx.filter_jit
def _init_many(statics, params, dom, values, order, stepper, tracker, fast1d):
    vaxis = None if values is None else 0

    def one(static, vals, p):
        pr = _make_problem(static, dom, vals, order, fast1d)
        flat0, _ = ravel_pytree(p)
        nrm0 = jnp.maximum(jnp.linalg.norm(flat0), 1.0)
        state = stepper.init(pr, p)
        rec0 = record(pr, stepper, tracker, p, state, flat0, nrm0)
        return initial_carry(p, state, rec0["loss"]), flat0, nrm0, rec0

    return eqx.filter_vmap(one, in_axes=(_A0, vaxis, _A0))(statics, values, params)


def train_many(
    models: Any,
    dom: LossDomain | Sequence[LossDomain],
    *,
    stepper: AbstractStepper | optax.GradientTransformation,
    steps: int,
    record_every: int = 1,
    trainable: Any = "all",
    mode_tracker: ModeTracker | None = None,
    fast1d: bool | str = "auto",
    mesh: Mesh | None = None,
    progress: bool = False,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int | None = None,
    resume: str | os.PathLike | None = None,
    overwrite: bool = False,
    checkpoint_info: dict | None = None,
) -> TrajectoryBatch:
    r"""Train $B$ networks of one architecture together, each exactly as `train` would.

    One jitted `lax.scan` over records; inside, the `record_every` guarded steps are a
    scan vmapped over the network axis (``eqx.filter_vmap``). Each network has its own
    loss $E_b=\tfrac12\sum_l q_l(h_b(x_l)-f_b(x_l))^2$, its own stepper state, its
    own failure flag (a network whose loss turns NaN freezes at its last good state; the
    others go on) and its own monotonicity record.

    **Arguments:**

    - `models`: the networks stacked along a leading axis (every array leaf
      ``(B, ...)``, e.g. ``eqx.filter_vmap(make)(keys)``), or a list of models
      (stacked with `stack_models`).
    - `dom`: one shared `LossDomain`, or a list of $B$ domains with the same nodes and
      weights (different targets).
    - `stepper`, `steps`, `record_every`, `trainable`, `mode_tracker`, `fast1d`,
      `progress`: as in `train` (shared by all networks). With ``lr="auto"`` the step
      size is $c/\max_b\lambda_{\max,b}$ (one Lanczos run per network), stable for all.
    - `mesh`: a `jax.sharding.Mesh` with one axis named ``"batch"`` (e.g.
      ``spectral_jax._sharding.device_mesh()``): the network axis is sharded over its
      devices. If $B$ is not a multiple of the number of devices, the batch is
      **padded** with copies of network 0, which are dropped from the result
      (``metadata["padded_to"]``).
    - `checkpoint`, `checkpoint_every`, `resume`, `overwrite`, `checkpoint_info`: as in
      `train`; the file holds the $B$ networks' state (not the padding), so a run can be
      resumed on another number of devices. The result equals an uninterrupted run bit
      for bit (on CPU).

    **Returns:** a `TrajectoryBatch` (records ``(B, R)``; ``batch[i]`` is network $i$'s
    `Trajectory`).

    **Raises:** ``ValueError`` for leaves with different leading sizes, a list of
    domains whose length is not $B$ or whose nodes differ, a mesh without a ``"batch"``
    axis, and every error of `train` (bad `steps`/`record_every`, empty selection,
    a model that cannot be evaluated on the nodes, a bad or existing `checkpoint`, a
    `resume` file of another run).
    """
    where = "train_many"
    stepper = as_stepper(stepper, where)
    if isinstance(models, (list, tuple)):
        models = stack_models(models)
    B = _batch_size(models, where)
    if isinstance(dom, (list, tuple)):
        dom, values = _stack_domains(dom, B, where)
    else:
        values = None
    steps, record_every = check_run_args(steps, record_every, dom, stepper, mode_tracker, where)
    if mesh is not None and (not isinstance(mesh, Mesh) or AXIS not in mesh.axis_names):
        raise ValueError(
            f"{where}: mesh must be a jax.sharding.Mesh with an axis named {AXIS!r} (see "
            f"spectral_jax._sharding.device_mesh); got {mesh!r}"
        )
    checkpoint_every = check_chunking(checkpoint, checkpoint_every, record_every, where)
    if checkpoint_info is not None and not isinstance(checkpoint_info, dict):
        raise TypeError(
            f"{where}: checkpoint_info must be a dict; got {type(checkpoint_info).__name__}"
        )
    ck = None
    if resume is not None:
        ck = read_checkpoint(resume, f"{where}: resume")
        if ck.networks != B:
            raise CheckpointError(
                f"{where}: resume: {ck.path!r} holds "
                + ("a train run" if ck.networks is None else f"{ck.networks} networks")
                + f"; this run trains {B}"
            )
        if ck.steps_done > steps:
            raise CheckpointError(
                f"{where}: steps={steps} is fewer than the {ck.steps_done} steps already done "
                f"in checkpoint {ck.path!r}"
            )
    checkpoint = check_checkpoint_path(checkpoint, resume, force=overwrite, where=where)
    n_records = steps // record_every
    n_modes = 0 if mode_tracker is None else mode_tracker.n_modes
    check_memory(
        B * records_bytes(n_records, n_modes, dom.values.dtype),
        what=f"{where}: {B} x {n_records + 1} records (steps/record_every) of {4 + n_modes} values",
        hint="record less often (a larger record_every), track fewer modes or train fewer "
        "networks at once",
    )
    first = _index(models, 0)
    spec, use_fast, _, p0, _ = setup(first, dom, trainable, fast1d, where)
    # the same selection for every network: broadcast the per-network spec over the axis
    params, statics = eqx.partition(models, spec)
    stepper, lr_auto = _resolve_lr_many(stepper, params, statics, dom, values, use_fast, B, where)
    flat_one = ravel_pytree(p0)[0]
    settings = run_settings(
        models, stepper, record_every, dom, trainable, use_fast, flat_one, mode_tracker, None
    )
    settings.update(networks=B, targets=None if values is None else digest(values))
    info = dict(checkpoint_info or {})
    ndev = 1 if mesh is None else int(mesh.shape[AXIS])
    Bp = pad_to_multiple(B, ndev)
    params, statics = _pad(params, B, Bp), _pad(statics, B, Bp)
    if values is not None:
        values = _pad(values, B, Bp)
    order = fast1d_order(dom.nodes[:, 0]) if use_fast else None
    params, statics, values = (_place(t, mesh, True) for t in (params, statics, values))
    dom, order, stepper, mode_tracker = (
        _place(t, mesh, False) for t in (dom, order, stepper, mode_tracker)
    )
    carry, flat0, nrm0, rec0 = _init_many(
        statics, params, dom, values, order, stepper, mode_tracker, use_fast
    )
    records = {k: np.asarray(v)[None, :B] for k, v in gather(rec0).items()}
    loss0 = rec0["loss"]
    done = 0
    if ck is not None:
        like = jtu.tree_map(lambda x: x[:B], carry)
        saved, records, done = restore(ck, like, records, settings, info, f"{where}: resume")
        carry = _place(_pad(saved, B, Bp), mesh, True)
    n_param_leaves = len(jtu.tree_leaves(params))

    def save(c, recs, d):
        write_checkpoint(
            checkpoint,
            leaves=[np.asarray(x)[:B] for x in jtu.tree_leaves(gather(c))],
            n_param_leaves=n_param_leaves,
            records=recs,
            steps_done=d,
            record_every=record_every,
            settings=settings,
            info=info,
            networks=B,
        )

    def advance(c, n):
        c, recs = _run_many(
            statics, dom, values, order, stepper, mode_tracker, c, flat0, nrm0, loss0, n,
            record_every, use_fast,
        )  # fmt: skip
        return c, jtu.tree_map(lambda x: np.asarray(x)[:, :B], gather(recs))

    seg = records_per_chunk(n_records, record_every, checkpoint, checkpoint_every, progress)
    bar = Progress(steps, where, enabled=progress)
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
    records = {k: np.swapaxes(v, 0, 1) for k, v in records.items()}
    carry = gather(carry)
    failed = np.asarray(carry[6])[:B]
    why = np.asarray(carry[7])[:B]
    ups = np.asarray(carry[4])[:B]
    final = eqx.combine(
        jtu.tree_map(lambda x: x[:B], carry[0]),
        jtu.tree_map(lambda x: x[:B] if eqx.is_array(x) else x, statics),
    )
    extra = {} if lr_auto is None else {"lr_auto": lr_auto}
    meta = run_metadata(
        stepper,
        steps,
        record_every,
        use_fast,
        dom,
        flat_one,
        trainable,
        elapsed,
        networks=B,
        padded_to=Bp,
        devices=ndev,
        network_steps_per_s=B * (steps - done) / max(elapsed, 1e-12),
        resumed_from=None if ck is None else ck.steps_done,
        **extra,
    )
    return from_records(
        TrajectoryBatch,
        np.arange(n_records + 1) * record_every,
        records,
        mode_tracker,
        [None if f < 0 else int(f) for f in failed],
        meta,
        final,
        stopped=[
            STOP_REASONS.get(int(w)) if f >= 0 else None for f, w in zip(failed, why, strict=True)
        ],
        first_increase=[None if u < 0 else int(u) for u in ups],
    )


def _resolve_lr_many(stepper, params, statics, dom, values, use_fast, B, where):
    """``lr="auto"`` for a batch: $c/\\max_b\\lambda_{\\max,b}$ (the stepper unchanged
    otherwise)."""
    if getattr(stepper, "auto_factor", None) is None:
        return stepper, None
    order = fast1d_order(dom.nodes[:, 0]) if use_fast else None
    lams, wall = [], 0.0
    for b in range(B):
        vals = None if values is None else values[b]
        pr = _make_problem(_index(statics, b), dom, vals, order, use_fast)
        one, est = resolve_lr(stepper, pr, _index(params, b), where)
        lams.append(est.lambda_max)
        wall += est.wall_s
    lam = max(lams)
    info = dict(lambda_max=lam, lambda_max_each=lams, factor=stepper.auto_factor, wall_s=wall)
    return type(stepper)(stepper.auto_factor / lam), info
