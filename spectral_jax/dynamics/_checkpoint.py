r"""Checkpoint files of `train` and `train_many`: writing, reading with integrity checks,
and matching a checkpoint against the run that resumes it.

**Checkpoint file** (``train(checkpoint=...)``, ``resume=...``): a ``.npz`` with the
arrays ``carry_000``, ``carry_001``, ... (the leaves of the training carry: trainable
parameters, the previous good parameters, the stepper state, the last loss, the first
step whose loss increased, the step counter, the failure step and reason, in
`jax.tree_util.tree_leaves` order; for `train_many` every leaf has the network axis
first), ``rec_<name>`` (the records so far, time first) and ``header``: a JSON string
with ``format`` (``"spectral_jax.checkpoint/3"``), ``steps_done``, ``record_every``,
``networks`` (`train_many` only), the ``leaves``' shapes and dtypes, the ``records``'
trailing shapes and dtypes, the run ``settings`` that a resumed run must repeat
(stepper, step size, loss nodes, initial model, ...) and ``info`` (caller-supplied
settings, e.g. the command line's options). A resume matches leaf shapes and dtypes and
these settings, never the text of a PyTreeDef (which changes between JAX versions).

The reader checks the file before using it: a missing, empty, truncated, damaged (CRC),
foreign or mismatched file is a `CheckpointError` (a ``ValueError``) naming the file and
what is wrong. The writer is atomic (`spectral_jax._files.atomic_open`).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import equinox as eqx
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np

from .._files import check_output_file
from ._engine import stepper_lr
from ._trajectory import (
    _RECORD_NAMES,
    CHECKPOINT_FORMAT,
    FORMAT,
    OLD_CHECKPOINT_FORMATS,
    STOP_REASONS,
    read_npz,
    write_npz,
)

__all__ = [
    "CheckpointError",
    "TrainingInterrupted",
    "Checkpoint",
    "read_checkpoint",
    "write_checkpoint",
    "setting_differences",
    "digest",
    "run_settings",
    "restore",
    "check_checkpoint_path",
]


class CheckpointError(ValueError):
    """A checkpoint that cannot be read or does not fit the run resumed from it."""


class TrainingInterrupted(KeyboardInterrupt):
    """An interrupt (Ctrl-C / SIGTERM) during `train` after which the state of the last
    completed chunk was written to the checkpoint. Fields: `path`, `steps_done`."""

    def __init__(self, path: str, steps_done: int):
        super().__init__(f"checkpoint of step {steps_done} written to {path!r}")
        self.path = path
        self.steps_done = steps_done


@dataclass
class Checkpoint:
    """A checkpoint of `train` or `train_many`, read and checked for integrity by
    `read_checkpoint` (not yet matched against a run: ``train(resume=...)`` does that).

    **Fields:** `path`; `header` (the JSON header: format, step count, record interval,
    array shapes and dtypes, `settings`, `info`); `leaves` (the training carry's arrays,
    in `jax.tree_util.tree_leaves` order); `records` (name -> records so far, time
    first). **Properties:** `steps_done`, `record_every`, `settings` (what a resumed run
    must repeat: stepper, step size, loss nodes, digests of the initial model and loss
    domain, ...), `info` (the caller's ``checkpoint_info``), `networks` (`train_many`).
    """

    path: str
    header: dict
    leaves: list[np.ndarray]
    records: dict[str, np.ndarray]

    @property
    def steps_done(self) -> int:
        return int(self.header["steps_done"])

    @property
    def record_every(self) -> int:
        return int(self.header["record_every"])

    @property
    def info(self) -> dict:
        return self.header.get("info") or {}

    @property
    def settings(self) -> dict:
        return self.header.get("settings") or {}

    @property
    def networks(self) -> int | None:
        """The number of networks of a `train_many` checkpoint (``None`` for `train`)."""
        return self.header.get("networks")

    def differences(self, info: dict) -> list[str]:
        """``["NAME: checkpoint has A, this run B", ...]``: every entry of `info` (the
        ``checkpoint_info`` a resumed run would pass) that differs from the checkpoint's;
        empty when they agree. `train` refuses a resume with such differences."""
        return setting_differences(self.info, info)


def write_checkpoint(
    path,
    *,
    leaves,
    n_param_leaves,
    records,
    steps_done,
    record_every,
    settings,
    info,
    networks=None,
) -> None:
    """Write a checkpoint atomically (see the module docstring for the format)."""
    leaves = [np.asarray(x) for x in leaves]
    records = {k: np.asarray(v) for k, v in records.items()}
    header = dict(
        format=CHECKPOINT_FORMAT,
        steps_done=int(steps_done),
        record_every=int(record_every),
        n_param_leaves=int(n_param_leaves),
        leaves=[[list(x.shape), str(x.dtype)] for x in leaves],
        records={k: [list(v.shape[1:]), str(v.dtype)] for k, v in records.items()},
        settings=settings,
        info=info or {},
    )
    if networks is not None:
        header["networks"] = int(networks)
    arrays = {f"carry_{i:03d}": x for i, x in enumerate(leaves)}
    arrays.update({f"rec_{k}": v for k, v in records.items()})
    write_npz(path, header, arrays)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def read_checkpoint(path, where: str = "train: resume") -> Checkpoint:
    """Read `path` and check that it is a whole, consistent spectral_jax checkpoint
    (written by ``train(checkpoint=...)`` or `train_many`), e.g. to see how many steps it
    holds and with which settings before resuming from it.

    **Arguments:** `path` (a ``.npz`` file); `where` (how messages name the caller).

    **Returns:** a `Checkpoint`.

    **Raises:** `CheckpointError` naming the file and what is wrong: missing, empty,
    truncated, damaged (CRC, sizes), a trajectory or other file, an older format,
    arrays whose shapes/dtypes differ from the header, non-finite parameters, records
    that do not fit the step count."""
    text = os.fspath(path)
    name = repr(text)
    err = CheckpointError
    header, z = read_npz(text, where, "checkpoint", CheckpointError)
    fmt = header.get("format")
    if fmt == FORMAT:
        raise err(
            f"{where}: {name} is a trajectory file (written by --out / Trajectory.save), "
            "not a checkpoint"
        )
    if (fmt is None and "signature" in header) or fmt in OLD_CHECKPOINT_FORMATS:
        raise err(
            f"{where}: {name} was written by an older spectral_jax (checkpoint format "
            f"{fmt or 1!r}), which cannot be resumed; start a new run"
        )
    if fmt != CHECKPOINT_FORMAT:
        raise err(f"{where}: {name} has unknown format {fmt!r}; expected {CHECKPOINT_FORMAT!r}")
    done, every, npl = (header.get(k) for k in ("steps_done", "record_every", "n_param_leaves"))
    if (
        not (_is_int(done) and _is_int(every) and _is_int(npl))
        or done < 0
        or every < 1
        or (done % every)
    ):
        raise err(
            f"{where}: {name} is damaged: bad step counts in its header (steps_done={done!r}, "
            f"record_every={every!r})"
        )
    specs, rspecs = header.get("leaves"), header.get("records")
    try:
        specs = [(tuple(int(s) for s in shp), np.dtype(dt)) for shp, dt in specs]
        rspecs = {
            str(k): (tuple(int(s) for s in shp), np.dtype(dt)) for k, (shp, dt) in rspecs.items()
        }
    except (TypeError, ValueError, AttributeError) as e:
        raise err(f"{where}: {name} is damaged: bad array list in its header ({e})") from e
    nets = header.get("networks")
    if nets is not None and not (_is_int(nets) and nets >= 1):
        raise err(f"{where}: {name} is damaged: bad 'networks' in its header ({nets!r})")
    if len(specs) < 5 or not 0 < 2 * npl <= len(specs) - 5:
        raise err(f"{where}: {name} is damaged: its header lists {len(specs)} arrays")
    leaves = []
    for i, (shp, dt) in enumerate(specs):
        k = f"carry_{i:03d}"
        a = z.get(k)
        if a is None:
            raise err(f"{where}: {name} is damaged: the array {k!r} is missing")
        if a.shape != shp or a.dtype != dt:
            raise err(
                f"{where}: {name} is damaged: {k!r} has shape {a.shape} and dtype {a.dtype}; "
                f"its header says {shp} and {dt}"
            )
        if i < 2 * npl and a.dtype.kind in "fc" and not np.all(np.isfinite(a)):
            raise err(
                f"{where}: {name} is damaged: the parameters {k!r} hold non-finite values (NaN/inf)"
            )
        leaves.append(a)
    counters = leaves[-3:]
    shape = () if nets is None else (nets,)
    fits = all(x.shape == shape and x.dtype.kind in "iu" for x in counters)
    step, failed, why = (np.asarray(x, dtype=np.int64) for x in counters)
    if not (
        fits
        and np.all(step == done)
        and np.all(np.isin(why, (0, *STOP_REASONS)))
        and np.all((-1 <= failed) & (failed <= done))
        and np.all((failed < 0) == (why == 0))
    ):
        raise err(
            f"{where}: {name} is damaged: its step counter ({step.tolist()}) or failure "
            f"record ({failed.tolist()}, {why.tolist()}) does not fit steps_done={done}"
        )
    rows = done // every + 1
    records = {}
    for k, (tail, dt) in rspecs.items():
        a = z.get(f"rec_{k}")
        if a is None:
            raise err(f"{where}: {name} is damaged: the records {k!r} are missing")
        if a.shape != (rows, *tail) or a.dtype != dt:
            raise err(
                f"{where}: {name} is damaged: the records {k!r} have shape {a.shape}; "
                f"expected {(rows, *tail)} for {done} steps recorded every {every}"
            )
        records[k] = a
    missing = [k for k in _RECORD_NAMES if k not in records]
    if missing:
        raise err(f"{where}: {name} is damaged: the records {missing} are missing")
    good = failed < 0  # the records of a network that never failed are finite
    for k in _RECORD_NAMES:
        r = records[k] if nets is None else records[k][:, good]
        if np.any(good) and not np.all(np.isfinite(r)):
            raise err(f"{where}: {name} is damaged: its loss records hold non-finite values")
    return Checkpoint(text, header, leaves, records)


def _fmt_setting(v) -> str:
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, (list, tuple)) and len(v) > 6:
        return f"[{', '.join(map(str, v[:3]))}, ..., {v[-1]}] ({len(v)} values)"
    if isinstance(v, str) and len(v) > 24 and all(c in "0123456789abcdef" for c in v):
        return f"{v[:10]}..."  # a digest
    return str(v)


def setting_differences(saved: dict, current: dict, labels: dict | None = None) -> list[str]:
    """``["NAME: checkpoint has A, this run B", ...]`` for every setting that differs."""
    labels = labels or {}
    out = []
    for k in list(dict.fromkeys([*saved, *current])):
        a, b = saved.get(k), current.get(k)
        if a != b:
            out.append(
                f"{labels.get(k, k)}: checkpoint has "
                f"{'(not recorded)' if k not in saved else _fmt_setting(a)}, this run "
                f"{'(not set)' if k not in current else _fmt_setting(b)}"
            )
    return out


def digest(*arrays) -> str:
    """SHA-256 of the arrays' shapes, dtypes and bytes (to recognise the same inputs)."""
    h = hashlib.sha256()
    for x in arrays:
        a = np.ascontiguousarray(np.asarray(x))
        h.update(f"{a.shape}{a.dtype}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def run_settings(model, stepper, record_every, dom, trainable, use_fast, flat0, tracker, factor):
    """What a resumed run must repeat for its trajectory to continue the checkpoint's.

    (The hyperparameters inside an ``optax`` optimizer cannot be read back: pass them in
    ``checkpoint_info`` to have them checked.)"""
    return dict(
        stepper=stepper.name,
        stepper_type=type(stepper).__name__,
        lr=stepper_lr(stepper),
        record_every=record_every,
        trainable=str(trainable) if isinstance(trainable, str) else "filter",
        fast1d=bool(use_fast),
        dtype=str(flat0.dtype),
        n_params=int(flat0.size),
        nodes=[int(s) for s in dom.nodes.shape],
        loss_domain=digest(dom.nodes, dom.weights, dom.values),
        initial_model=digest(*jtu.tree_leaves(eqx.filter(model, eqx.is_array))),
        modes=None if tracker is None else [_json_label(m) for m in tracker.labels],
        mode_basis=None if tracker is None else digest(tracker.basis),
        divergence_factor=factor,
    )


def _json_label(m):
    return m.item() if isinstance(m, np.generic) else m


def restore(ck: Checkpoint, carry_like, records_like, settings, info, where):
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


def check_checkpoint_path(checkpoint, resume, *, force: bool, where: str) -> str | None:
    """`checkpoint` as a string after checking it can be written; an existing file is
    refused unless it is the `resume` file (then it is updated) or `force` is given
    (consistent with `check_output_file`)."""
    if checkpoint is None:
        return None
    same = (
        resume is not None
        and os.path.exists(checkpoint)
        and os.path.exists(resume)
        and os.path.samefile(checkpoint, resume)
    )
    if not (force or same) and os.path.lexists(checkpoint) and not os.path.isdir(checkpoint):
        raise CheckpointError(
            f"{where}: checkpoint {os.fspath(checkpoint)!r} already exists; pass it as "
            "resume= as well to continue that run, or overwrite=True to replace it"
        )
    check_output_file(checkpoint, arg=f"{where}: checkpoint", force=True)
    return os.fspath(checkpoint)
