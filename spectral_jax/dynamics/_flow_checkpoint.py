"""Checkpoint files of `gradient_flow`: the state after each segment (the flattened
parameters, the solver state, the controller state), the records so far, the solver
statistics and the settings a resumed run must repeat, in one ``.npz`` with a JSON
``header`` (format ``"spectral_jax.flow_checkpoint/1"``), written atomically.
"""

from __future__ import annotations

import json
import os
import zipfile

import equinox as eqx
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np

from .._files import atomic_open
from ._checkpoint import digest

__all__ = ["FlowCheckpointError", "settings", "write_checkpoint", "read_checkpoint", "restore"]

CHECKPOINT_FORMAT = "spectral_jax.flow_checkpoint/1"


class FlowCheckpointError(ValueError):
    """A flow checkpoint that cannot be read or does not belong to this run."""


def settings(
    solver_name, rtol, atol, t1, ts, seg_ends, use_fast, flat0, dom, tracker, trainable, model
):
    return dict(
        solver=solver_name,
        rtol=rtol,
        atol=atol,
        t1=t1,
        saveat_times=digest(ts),
        checkpoint_times=[float(s) for s in seg_ends],
        fast1d=bool(use_fast),
        dtype=str(flat0.dtype),
        n_params=int(flat0.size),
        trainable=str(trainable) if isinstance(trainable, str) else "filter",
        loss_domain=digest(dom.nodes, dom.weights, dom.values),
        initial_model=digest(*jtu.tree_leaves(eqx.filter(model, eqx.is_array))),
        modes=None if tracker is None else digest(tracker.basis),
    )


def write_checkpoint(path, settings, seg_done, dt0, state, records, stats):
    leaves = jtu.tree_leaves(state)
    arrays = {f"state_{i}": np.asarray(x) for i, x in enumerate(leaves)}
    arrays.update({f"rec_{k}": np.asarray(v) for k, v in records.items()})
    header = dict(
        format=CHECKPOINT_FORMAT,
        settings=settings,
        segments_done=seg_done,
        dt0=dt0,
        n_state=len(leaves),
        record_keys=sorted(records),
        stats={k: int(v) for k, v in stats.items()},
    )
    with atomic_open(path, "wb") as fh:
        np.savez(fh, header=np.asarray(json.dumps(header)), **arrays)


def read_checkpoint(path, where):
    name = repr(os.fspath(path))
    bad = f"{where}: {name} is not a readable gradient-flow checkpoint"
    try:
        with np.load(os.fspath(path), allow_pickle=False) as z:
            files = set(z.files)
            if "header" not in files:
                raise FlowCheckpointError(f"{bad} (no header)")
            header = json.loads(str(z["header"]))
            if not isinstance(header, dict) or header.get("format") != CHECKPOINT_FORMAT:
                raise FlowCheckpointError(
                    f"{bad} (format {header.get('format') if isinstance(header, dict) else None!r}"
                    f", expected {CHECKPOINT_FORMAT!r})"
                )
            n = header["n_state"]
            state = [z[f"state_{i}"] for i in range(int(n))]
            records = {k: z[f"rec_{k}"] for k in header["record_keys"]}
            header["settings"], header["segments_done"], header["stats"]  # noqa: B018
    except FlowCheckpointError:
        raise
    except FileNotFoundError as err:
        raise FlowCheckpointError(f"{where}: {name} does not exist") from err
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as err:
        raise FlowCheckpointError(f"{bad} ({type(err).__name__})") from err
    return header, state, records


def restore(path, like, settings, where):
    header, leaves, records = read_checkpoint(path, where)
    name = repr(os.fspath(path))
    saved = header["settings"]
    diffs = [
        f"{k} {saved.get(k)!r} there, {v!r} here" for k, v in settings.items() if saved.get(k) != v
    ]
    if diffs:
        raise FlowCheckpointError(
            f"{where}: checkpoint {name} was written by a different run: " + "; ".join(diffs)
        )
    like_leaves = jtu.tree_leaves(like)
    ok = len(leaves) == len(like_leaves) and all(
        a.shape == tuple(b.shape) and a.dtype == np.dtype(b.dtype)
        for a, b in zip(leaves, like_leaves, strict=False)
    )
    if not ok:
        raise FlowCheckpointError(f"{where}: checkpoint {name} does not fit this model and solver")
    state = jtu.tree_unflatten(jtu.tree_structure(like), [jnp.asarray(x) for x in leaves])
    return header, state, records
