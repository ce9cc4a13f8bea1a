"""The recorded trajectory of a training run and its file format.

**File format** (``Trajectory.save`` / `load_trajectory`): a NumPy ``.npz`` with the
named arrays ``steps`` (R,), ``loss`` (R,), ``param_norm`` (R,), ``drift`` (R,)
($\\|\\theta-\\theta_0\\|_2/\\max(\\|\\theta_0\\|_2,1)$), ``drift_max`` (R,), optionally
``mode_errors`` (R, M) and ``mode_labels`` (M,), and ``header``: a JSON string with
``format`` (``"spectral_jax.trajectory/1"``), ``failed_at`` (step or null) and the run's
``metadata`` (stepper, lr, fast1d, timings...). The final model is not stored (use the
checkpoint for that).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Trajectory", "load_trajectory"]

FORMAT = "spectral_jax.trajectory/1"


def from_records(cls, steps, records, mode_tracker, failed_at, metadata, model):
    """Build a `Trajectory` (or `TrajectoryBatch`) from a run's stacked ``records`` (the
    dict of recorded arrays) and the run's bookkeeping."""
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
    )


@dataclass
class Trajectory:
    """Thinned record of a run (NumPy arrays) plus the final `model`."""

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

    def save(self, path: str | os.PathLike) -> str:
        """Write the ``.npz`` (atomically: temp file + ``os.replace``); returns the path."""
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
        header = dict(format=FORMAT, failed_at=self.failed_at, metadata=self.metadata)
        tmp = path + ".tmp"
        with open(tmp, "wb") as fh:
            np.savez(fh, header=np.asarray(json.dumps(header, default=_json_default)), **arrays)
        os.replace(tmp, path)
        return path


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    return str(o)


def load_trajectory(path: str | os.PathLike) -> Trajectory:
    """Read a file written by `Trajectory.save`.

    **Raises:** ``ValueError`` if the file is not a spectral_jax trajectory."""
    with np.load(os.fspath(path), allow_pickle=False) as z:
        if "header" not in z.files:
            raise ValueError(
                f"load_trajectory: {os.fspath(path)!r} has no header; not a trajectory file"
            )
        header = json.loads(str(z["header"]))
        if header.get("format") != FORMAT:
            raise ValueError(
                f"load_trajectory: unknown format {header.get('format')!r}; expected {FORMAT!r}"
            )
        me = z["mode_errors"] if "mode_errors" in z.files else None
        labels = tuple(z["mode_labels"].tolist()) if "mode_labels" in z.files else ()
        return Trajectory(
            z["steps"],
            z["loss"],
            z["param_norm"],
            z["drift"],
            z["drift_max"],
            me,
            labels,
            header.get("failed_at"),
            header.get("metadata", {}),
        )
