"""The recorded trajectory of a training run, and the two file formats of `train`.

**Trajectory file** (``Trajectory.save`` / `load_trajectory`): a NumPy ``.npz`` with the
named arrays ``steps`` (R,), ``loss`` (R,), ``param_norm`` (R,), ``drift`` (R,)
($\\|\\theta-\\theta_0\\|_2/\\max(\\|\\theta_0\\|_2,1)$), ``drift_max`` (R,), optionally
``mode_errors`` (R, M) and ``mode_labels`` (M,), and ``header``: a JSON string with
``format`` (``"spectral_jax.trajectory/1"``), ``failed_at`` (step or null), ``stopped``
(``"nonfinite"``, ``"diverged"`` or null), ``first_increase`` (the first step whose loss
exceeded the previous one, or null) and the run's ``metadata`` (stepper, lr,
fast1d, timings...). The final model is not stored (use the checkpoint for that).

**Checkpoint file** (``train(checkpoint=...)``): see `spectral_jax.dynamics._checkpoint`.

The reader checks the file before using it: a missing, empty, truncated, damaged
(CRC) or foreign file is a `TrajectoryFileError` (a ``ValueError``) naming the file and
what is wrong. The writer is atomic
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

__all__ = ["Trajectory", "load_trajectory", "TrajectoryFileError"]

FORMAT = "spectral_jax.trajectory/1"
FLOW_FORMAT = "spectral_jax.flow_trajectory/1"
CHECKPOINT_FORMAT = "spectral_jax.checkpoint/3"
#: checkpoint formats of earlier versions (refused with a clear message)
OLD_CHECKPOINT_FORMATS = ("spectral_jax.checkpoint/2",)
_RECORD_NAMES = ("loss", "param_norm", "drift", "drift_max")
#: why a run stopped early, by the code the training carry holds
STOP_REASONS = {1: "nonfinite", 2: "diverged"}


class TrajectoryFileError(ValueError):
    """A trajectory file that cannot be read (missing, damaged, another kind of file)."""


def from_records(
    cls, steps, records, mode_tracker, failed_at, metadata, model, stopped=None, **extra
):
    """Build a `Trajectory` (or `TrajectoryBatch`) from a run's stacked ``records`` (the
    dict of recorded arrays) and the run's bookkeeping."""
    if stopped is not None:
        extra["stopped"] = stopped
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
    that finished normally. After `failed_at` the parameters stay at the last good state.

    `first_increase` is the first step $k$ whose loss exceeded the previous step's,
    $E_k>E_{k-1}+64\varepsilon(E_0+E_{k-1})$ (checked at every step, not only at the
    records), or ``None``; `monotone` is ``first_increase is None``."""

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
    first_increase: int | None = None

    @property
    def monotone(self) -> bool:
        """Whether the loss never increased from one step to the next."""
        return self.first_increase is None

    def save(self, path: str | os.PathLike) -> str:
        """Write the ``.npz`` atomically (a failed write leaves any old file as it was);
        returns the path."""
        header = dict(
            format=FORMAT,
            failed_at=self.failed_at,
            stopped=self.stopped,
            first_increase=self.first_increase,
            metadata=self.metadata,
        )
        return save_records(path, self, "steps", header)


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    return str(o)


def save_records(path, traj, time_key: str, header: dict) -> str:
    """Write a trajectory's records (``time_key``: ``steps`` or ``times``; loss, parameter
    norm, drift, per-mode errors when recorded) and its JSON ``header`` as one ``.npz``,
    atomically (see `write_npz`); returns the path."""
    path = os.fspath(path)
    arrays = {time_key: getattr(traj, time_key)}
    for name in ("loss", "param_norm", "drift", "drift_max"):
        arrays[name] = getattr(traj, name)
    if traj.mode_errors is not None:
        arrays["mode_errors"] = traj.mode_errors
        arrays["mode_labels"] = np.asarray(traj.mode_labels)
    write_npz(path, header, {k: np.asarray(v) for k, v in arrays.items()})
    return path


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


def read_npz(path, where: str, kind: str, err=TrajectoryFileError) -> tuple[dict, dict]:
    """``(header, arrays)`` of a spectral_jax ``.npz``; every failure is one `err` (a
    ``ValueError`` class) naming the file.

    `kind` (``"checkpoint"`` or ``"trajectory"``) names the expected file in messages;
    `where` prefixes them."""
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


def _columns(z, where, name, R):
    err = TrajectoryFileError
    cols = [_float_array(z, k, where, name, err, 1, R) for k in _RECORD_NAMES]
    me = None
    labels: tuple = ()
    if "mode_errors" in z:
        me = _float_array(z, "mode_errors", where, name, err, 2, R)
        lab = z.get("mode_labels")
        if lab is None or lab.shape != (me.shape[1],):
            raise err(f"{where}: {name} is damaged: 'mode_labels' does not fit 'mode_errors'")
        labels = tuple(lab.tolist())
    return cols, me, labels


def _load_flow(header, z, where, name):
    from ._flow import FlowTrajectory

    times = _float_array(z, "times", where, name, TrajectoryFileError, 1)
    cols, me, labels = _columns(z, where, name, times.shape[0])
    meta, stats = header.get("metadata"), header.get("stats")
    up = header.get("first_increase")
    return FlowTrajectory(
        times,
        *cols,
        me,
        labels,
        stats if isinstance(stats, dict) else {},
        meta if isinstance(meta, dict) else {},
        bool(header.get("completed", True)),
        header.get("stopped"),
        None,
        None if up is None else float(up),
    )


def load_trajectory(path: str | os.PathLike) -> Trajectory:
    """Read a file written by `Trajectory.save` (e.g. ``spectral-jax train --out``), or
    by `FlowTrajectory.save` (then a `FlowTrajectory` is returned).

    **Raises:** `TrajectoryFileError` (a ``ValueError``) naming the file if it is missing,
    empty, truncated, damaged, or not a spectral_jax trajectory."""
    where = "load_trajectory"
    name = repr(os.fspath(path))
    err = TrajectoryFileError
    header, z = read_npz(path, where, "trajectory")
    fmt = header.get("format")
    if fmt == CHECKPOINT_FORMAT or fmt in OLD_CHECKPOINT_FORMATS:
        raise err(f"{where}: {name} is a checkpoint (for resume=), not a trajectory file")
    if fmt == FLOW_FORMAT:
        return _load_flow(header, z, where, name)
    if fmt != FORMAT:
        raise err(f"{where}: {name} has unknown format {fmt!r}; expected {FORMAT!r}")
    steps = z.get("steps")
    if steps is None or steps.ndim != 1 or steps.dtype.kind not in "iu":
        raise err(f"{where}: {name} is damaged: 'steps' is missing or not a 1-D integer array")
    cols, me, labels = _columns(z, where, name, steps.shape[0])
    failed = header.get("failed_at")
    stopped = header.get("stopped")
    if failed is None and stopped is None:
        pass
    elif not isinstance(failed, int) or stopped not in (*STOP_REASONS.values(), None):
        raise err(f"{where}: {name} is damaged: bad 'failed_at'/'stopped' in its header")
    elif stopped is None:  # written before `stopped` existed: a failure was non-finite
        stopped = "nonfinite"
    up = header.get("first_increase")
    if up is not None and not isinstance(up, int):
        raise err(f"{where}: {name} is damaged: bad 'first_increase' in its header")
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
        up,
    )
