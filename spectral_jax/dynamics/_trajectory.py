"""The recorded trajectory of a training run, and the two file formats of `train`.

**Trajectory file** (``Trajectory.save`` / `load_trajectory`): a NumPy ``.npz`` with the
named arrays ``steps`` (R,), ``loss`` (R,), ``param_norm`` (R,), ``drift`` (R,)
($\\|\\theta-\\theta_0\\|_2/\\max(\\|\\theta_0\\|_2,1)$), ``drift_max`` (R,), optionally
``mode_errors`` (R, M) and ``mode_labels`` (M,), and ``header``: a JSON string with
``format`` (``"spectral_jax.trajectory/1"``), ``failed_at`` (step or null), ``stopped``
(``"nonfinite"``, ``"diverged"`` or null) and the run's ``metadata`` (stepper, lr,
fast1d, timings...). The final model is not stored (use the checkpoint for that).

**Checkpoint file** (``train(checkpoint=...)``, ``resume=...``): a ``.npz`` with the
arrays ``carry_000``, ``carry_001``, ... (the leaves of the training state: trainable
parameters, the previous good parameters, the stepper state, the step counter, the
failure step and reason, in `jax.tree_util.tree_leaves` order), ``rec_<name>`` (the
records so far) and ``header``: a JSON string with ``format``
(``"spectral_jax.checkpoint/2"``), ``steps_done``, ``record_every``, the ``leaves``'
shapes and dtypes, the ``records``' trailing shapes and dtypes, the run ``settings``
that a resumed run must repeat (stepper, step size, loss nodes, initial model, ...) and
``info`` (caller-supplied settings, e.g. the command line's options). A resume matches
leaf shapes and dtypes and these settings, never the text of a PyTreeDef (which changes
between JAX versions).

Both readers check the file before using it: a missing, empty, truncated, damaged
(CRC), foreign or mismatched file is a `TrajectoryFileError` / `CheckpointError` (both
``ValueError``) naming the file and what is wrong. Both writers are atomic
(`spectral_jax._files.atomic_open`): a failed write leaves the old file and no litter.
"""

from __future__ import annotations

import json
import math
import os
import zipfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._files import atomic_open

__all__ = [
    "Trajectory",
    "load_trajectory",
    "TrajectoryFileError",
    "CheckpointError",
]

FORMAT = "spectral_jax.trajectory/1"
CHECKPOINT_FORMAT = "spectral_jax.checkpoint/2"
_RECORD_NAMES = ("loss", "param_norm", "drift", "drift_max")
#: why a run stopped early, by the code the training carry holds
STOP_REASONS = {1: "nonfinite", 2: "diverged"}


class TrajectoryFileError(ValueError):
    """A trajectory file that cannot be read (missing, damaged, another kind of file)."""


class CheckpointError(ValueError):
    """A checkpoint that cannot be read or does not fit the run resumed from it."""


def from_records(cls, steps, records, mode_tracker, failed_at, metadata, model, stopped=None):
    """Build a `Trajectory` (or `TrajectoryBatch`) from a run's stacked ``records`` (the
    dict of recorded arrays) and the run's bookkeeping."""
    extra = {} if stopped is None else {"stopped": stopped}
    return cls(
        steps=steps,
        loss=records["loss"],
        param_norm=records["param_norm"],
        drift=records["drift"],
        drift_max=records["drift_max"],
        mode_errors=records.get("mode_errors"),
        mode_labels=mode_tracker.labels if mode_tracker is not None else (),
        failed_at=failed_at,
        metadata=metadata,
        model=model,
        **extra,
    )


@dataclass
class Trajectory:
    """Thinned record of a run (NumPy arrays) plus the final `model`.

    `failed_at` is the first step whose state was rejected (non-finite, or with
    ``divergence_factor`` a loss that grew past that multiple of the initial loss) and
    `stopped` says which (``"nonfinite"`` or ``"diverged"``); both are ``None`` for a run
    that finished normally. After `failed_at` the parameters stay at the last good state."""

    steps: np.ndarray
    loss: np.ndarray
    param_norm: np.ndarray
    drift: np.ndarray
    drift_max: np.ndarray
    mode_errors: np.ndarray | None = None
    mode_labels: tuple = ()
    failed_at: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    model: Any = None
    stopped: str | None = None

    def save(self, path: str | os.PathLike) -> str:
        """Write the ``.npz`` atomically (a failed write leaves any old file as it was);
        returns the path."""
        path = os.fspath(path)
        arrays = dict(
            steps=self.steps,
            loss=self.loss,
            param_norm=self.param_norm,
            drift=self.drift,
            drift_max=self.drift_max,
        )
        if self.mode_errors is not None:
            arrays["mode_errors"] = self.mode_errors
            arrays["mode_labels"] = np.asarray(self.mode_labels)
        header = dict(
            format=FORMAT, failed_at=self.failed_at, stopped=self.stopped, metadata=self.metadata
        )
        write_npz(path, header, {k: np.asarray(v) for k, v in arrays.items()})
        return path


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    return str(o)


def write_npz(path, header: dict, arrays: dict) -> None:
    """Write ``arrays`` and a JSON ``header`` as one ``.npz``, atomically."""
    text = json.dumps(header, default=_json_default)
    with atomic_open(path, "wb") as fh:
        np.savez(fh, header=np.asarray(text), **arrays)


# -- reading ----------------------------------------------------------------------------


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    """One ``.npy`` member, its header checked against the member's size before any data
    is read (a damaged shape cannot make us allocate what the file does not hold)."""
    fmt = np.lib.format
    with zf.open(info) as fh:
        version = fmt.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(fh)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = fmt.read_array_header_2_0(fh)
        else:  # pragma: no cover - numpy's read_magic only returns these
            raise ValueError(f"unknown .npy version {version}")
        if dtype.hasobject:
            raise ValueError("holds Python objects (pickled data), which are never loaded")
        nbytes = math.prod(shape) * dtype.itemsize
        if info.file_size - fh.tell() != nbytes:
            raise ValueError(f"its size does not match its shape {shape}")
        data = fh.read(nbytes)
        fh.read()  # reach the end: zipfile checks the CRC there
    arr = np.frombuffer(data, dtype=dtype)
    return arr.reshape(shape, order="F" if fortran else "C").copy()


def read_npz(path, where: str, kind: str) -> tuple[dict, dict[str, np.ndarray]]:
    """``(header, arrays)`` of a spectral_jax ``.npz``; every failure is one
    `CheckpointError`/`TrajectoryFileError` (by `kind`) naming the file.

    `kind` is ``"checkpoint"`` or ``"trajectory"``; `where` prefixes the message."""
    err = CheckpointError if kind == "checkpoint" else TrajectoryFileError
    text = os.fspath(path)
    name = repr(text)
    not_ours = f"is not a spectral_jax {kind}"
    if not os.path.exists(text):
        raise err(f"{where}: {name} does not exist")
    if os.path.isdir(text):
        raise err(f"{where}: {name} is a folder; expected a {kind} file (.npz)")
    try:
        with open(text, "rb") as fh:
            magic = fh.read(4)
    except OSError as e:
        raise err(f"{where}: cannot read {name}: {e.strerror or e}") from e
    if not magic:
        raise err(f"{where}: {name} is empty ({not_ours})")
    if magic != b"PK\x03\x04":
        raise err(f"{where}: {name} {not_ours} (not a .npz archive)")
    try:
        zf = zipfile.ZipFile(text)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise err(
            f"{where}: {name} is truncated or damaged (not a readable .npz archive: {e})"
        ) from e
    arrays = {}
    with zf:
        for info in zf.infolist():
            member = info.filename
            if not member.endswith(".npy"):
                raise err(f"{where}: {name} {not_ours} (unexpected member {member!r})")
            try:
                arrays[member[:-4]] = _read_member(zf, info)
            except zipfile.BadZipFile as e:
                raise err(f"{where}: {name} is damaged: {member!r} fails its check ({e})") from e
            except (ValueError, EOFError, OSError, OverflowError, MemoryError) as e:
                raise err(f"{where}: {name} is damaged: cannot read {member!r}: {e}") from e
    if "header" not in arrays:
        raise err(f"{where}: {name} {not_ours} (it has no header)")
    h = arrays.pop("header")
    try:
        if h.shape != () or h.dtype.kind != "U":
            raise ValueError("not a text")
        header = json.loads(str(h))
        if not isinstance(header, dict):
            raise ValueError("not a JSON object")
    except ValueError as e:
        raise err(f"{where}: {name} is damaged: its header is not a JSON object ({e})") from e
    return header, arrays


def _float_array(arrays, k, where, name, err, ndim, length=None):
    a = arrays.get(k)
    if a is None:
        raise err(f"{where}: {name} is damaged: the array {k!r} is missing")
    if a.ndim != ndim or a.dtype.kind != "f" or (length is not None and a.shape[0] != length):
        raise err(
            f"{where}: {name} is damaged: {k!r} has shape {a.shape} and dtype {a.dtype}; "
            f"expected a {ndim}-D floating array" + ("" if length is None else f" of {length} rows")
        )
    return a


def load_trajectory(path: str | os.PathLike) -> Trajectory:
    """Read a file written by `Trajectory.save` (e.g. ``spectral-jax train --out``).

    **Raises:** `TrajectoryFileError` (a ``ValueError``) naming the file if it is missing,
    empty, truncated, damaged, or not a spectral_jax trajectory."""
    where = "load_trajectory"
    name = repr(os.fspath(path))
    err = TrajectoryFileError
    header, z = read_npz(path, where, "trajectory")
    fmt = header.get("format")
    if fmt == CHECKPOINT_FORMAT:
        raise err(f"{where}: {name} is a checkpoint (for resume=), not a trajectory file")
    if fmt != FORMAT:
        raise err(f"{where}: {name} has unknown format {fmt!r}; expected {FORMAT!r}")
    steps = z.get("steps")
    if steps is None or steps.ndim != 1 or steps.dtype.kind not in "iu":
        raise err(f"{where}: {name} is damaged: 'steps' is missing or not a 1-D integer array")
    R = steps.shape[0]
    cols = [_float_array(z, k, where, name, err, 1, R) for k in _RECORD_NAMES]
    me = None
    labels: tuple = ()
    if "mode_errors" in z:
        me = _float_array(z, "mode_errors", where, name, err, 2, R)
        lab = z.get("mode_labels")
        if lab is None or lab.shape != (me.shape[1],):
            raise err(f"{where}: {name} is damaged: 'mode_labels' does not fit 'mode_errors'")
        labels = tuple(lab.tolist())
    failed = header.get("failed_at")
    stopped = header.get("stopped")
    if failed is None and stopped is None:
        pass
    elif not isinstance(failed, int) or stopped not in (*STOP_REASONS.values(), None):
        raise err(f"{where}: {name} is damaged: bad 'failed_at'/'stopped' in its header")
    elif stopped is None:  # written before `stopped` existed: a failure was non-finite
        stopped = "nonfinite"
    meta = header.get("metadata", {})
    return Trajectory(
        steps,
        *cols,
        me,
        labels,
        failed,
        meta if isinstance(meta, dict) else {},
        None,
        stopped,
    )


# -- checkpoints ------------------------------------------------------------------------


@dataclass
class Checkpoint:
    """A checkpoint read and checked for integrity by `read_checkpoint` (not yet matched
    against a run: see ``train``)."""

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


def write_checkpoint(
    path, *, leaves, n_param_leaves, records, steps_done, record_every, settings, info
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
    arrays = {f"carry_{i:03d}": x for i, x in enumerate(leaves)}
    arrays.update({f"rec_{k}": v for k, v in records.items()})
    write_npz(path, header, arrays)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def read_checkpoint(path, where: str = "train: resume") -> Checkpoint:
    """Read `path` and check that it is a whole, consistent spectral_jax checkpoint.

    **Raises:** `CheckpointError` naming the file and what is wrong: missing, empty,
    truncated, damaged (CRC, sizes), a trajectory or other file, an older format,
    arrays whose shapes/dtypes differ from the header, non-finite parameters, records
    that do not fit the step count."""
    text = os.fspath(path)
    name = repr(text)
    err = CheckpointError
    header, z = read_npz(text, where, "checkpoint")
    fmt = header.get("format")
    if fmt == FORMAT:
        raise err(
            f"{where}: {name} is a trajectory file (written by --out / Trajectory.save), "
            "not a checkpoint"
        )
    if fmt is None and "signature" in header:
        raise err(
            f"{where}: {name} was written by an older spectral_jax (checkpoint format 1), "
            "which cannot be resumed; start a new run"
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
    if len(specs) < 3 or not 0 < 2 * npl <= len(specs) - 3:
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
    step, failed, why = (int(x) if x.shape == () else None for x in leaves[-3:])
    if (
        step != done
        or failed is None
        or why not in (0, *STOP_REASONS)
        or not -1 <= failed <= done
        or (failed < 0) != (why == 0)
    ):
        raise err(
            f"{where}: {name} is damaged: its step counter ({step}) or failure record "
            f"({failed}, {why}) does not fit steps_done={done}"
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
    if failed < 0 and not all(np.all(np.isfinite(records[k])) for k in _RECORD_NAMES):
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
