"""Multi-process runs with JAX's multi-controller runtime (`jax.distributed`).

One process per host (or per GPU), all running the same program on the same inputs:
`distributed_initialize` connects them (explicit coordinator, process count and id, from
arguments or the environment, or `jax.distributed.initialize`'s own cluster detection:
SLURM, Open MPI, Kubernetes, Cloud TPU); `spectral_jax._sharding.device_mesh()` then
spans every process's devices and the sharded workloads (`mesh=`) run over all of them.
`gather` brings a sharded result to every process; `write_once` writes a file from
process 0 only, after which every process continues.

Environment variables (used when the matching argument is ``None``):
``SPECTRAL_JAX_COORDINATOR`` (``HOST:PORT`` of process 0), ``SPECTRAL_JAX_NUM_PROCESSES``,
``SPECTRAL_JAX_PROCESS_ID``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any

__all__ = [
    "DistributedError",
    "distributed_initialize",
    "is_main_process",
    "write_once",
    "barrier",
    "add_distributed_arguments",
    "initialize_from_args",
    "gather",
    "ENV_COORDINATOR",
    "ENV_NUM_PROCESSES",
    "ENV_PROCESS_ID",
    "VALUE_OPTIONS",
    "is_secondary_process",
]

# the launcher's options that take a value (the CLI skips their values when it looks for
# the command name); this module imports JAX only when a function needs it, so parsing
# and --help stay free of it
VALUE_OPTIONS = ("--coordinator", "--num-processes", "--process-id")

ENV_COORDINATOR = "SPECTRAL_JAX_COORDINATOR"
ENV_NUM_PROCESSES = "SPECTRAL_JAX_NUM_PROCESSES"
ENV_PROCESS_ID = "SPECTRAL_JAX_PROCESS_ID"

_STATE: dict[str, Any] = {"initialized": False}


class DistributedError(ValueError):
    """A multi-process setting that cannot work (bad address, count or id, or no cluster
    found to detect). A ``ValueError`` subclass, so the CLI prints it on one line."""


def _check_coordinator(value: str, name: str) -> str:
    host, sep, port = str(value).rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise DistributedError(f"{name} must be HOST:PORT with a port in 1..65535; got {value!r}")
    return str(value)


def _check_int(value: Any, name: str, lo: int) -> int:
    if isinstance(value, bool):
        raise DistributedError(f"{name} must be an integer >= {lo}; got {value!r}")
    try:
        out = int(str(value).strip()) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise DistributedError(f"{name} must be an integer >= {lo}; got {value!r}") from None
    if out != value and not isinstance(value, str) or out < lo:
        raise DistributedError(f"{name} must be an integer >= {lo}; got {value!r}")
    return out


def _resolve(coordinator, num_processes, process_id, names):
    """Arguments, else environment variables; all three or none."""
    env = os.environ
    vals = {
        "coordinator": coordinator if coordinator is not None else env.get(ENV_COORDINATOR),
        "num_processes": num_processes if num_processes is not None else env.get(ENV_NUM_PROCESSES),
        "process_id": process_id if process_id is not None else env.get(ENV_PROCESS_ID),
    }
    given = [k for k, v in vals.items() if v not in (None, "")]
    if not given:
        return None
    if len(given) != 3:
        missing = ", ".join(names[k] for k in vals if k not in given)
        raise DistributedError(
            f"{missing} must be given too: an explicit launch needs the coordinator address, "
            "the process count and this process's id (or none of them, for cluster "
            "auto-detection)"
        )
    addr = _check_coordinator(vals["coordinator"], names["coordinator"])
    n = _check_int(vals["num_processes"], names["num_processes"], 1)
    i = _check_int(vals["process_id"], names["process_id"], 0)
    if i >= n:
        raise DistributedError(
            f"{names['process_id']} must be in 0..{n - 1} ({names['num_processes']} is {n}); "
            f"got {i}"
        )
    return addr, n, i


def distributed_initialize(
    coordinator: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    *,
    local_device_ids: Any = None,
    timeout: int = 300,
) -> dict[str, int]:
    r"""Join this process to a multi-process JAX run (call it first, in every process).

    With ``coordinator``, ``num_processes`` and ``process_id`` (or the environment
    variables ``SPECTRAL_JAX_COORDINATOR``, ``SPECTRAL_JAX_NUM_PROCESSES``,
    ``SPECTRAL_JAX_PROCESS_ID``) the processes connect to process 0's coordinator at
    ``HOST:PORT``. With none of them, `jax.distributed.initialize()` detects the cluster
    itself (SLURM, Open MPI, Kubernetes, Cloud TPU). CPU processes talk through gloo
    collectives (``jax_cpu_collectives_implementation="gloo"``, set here unless another
    implementation was chosen). A second call is a no-op.

    Then ``jax.devices()`` lists the devices of all $P$ processes, `device_mesh()` spans
    them, and a workload given ``mesh=device_mesh()`` runs its shards on all of them.

    **Arguments:**

    - `coordinator`: ``"HOST:PORT"`` where process 0 listens (every process passes the
      same address).
    - `num_processes`: $P\ge1$. `process_id`: this process, $0\le i<P$.
    - `local_device_ids`: the local devices this process uses (e.g. one GPU per process).
    - `timeout`: seconds to wait for all processes to connect.

    **Returns:** ``{"process_index": i, "process_count": P, "local_devices": ...,
    "devices": ...}``.

    **Raises:** `DistributedError` (a ``ValueError``) for a malformed address, a count or
    id out of range, only some of the three settings, or no cluster to detect.
    """
    names = {
        "coordinator": "coordinator",
        "num_processes": "num_processes",
        "process_id": "process_id",
    }
    return _initialize(coordinator, num_processes, process_id, names, local_device_ids, timeout)


def _initialize(coordinator, num_processes, process_id, names, local_device_ids, timeout):
    import jax

    explicit = _resolve(coordinator, num_processes, process_id, names)
    if not _STATE["initialized"]:
        current = getattr(jax.config, "jax_cpu_collectives_implementation", None)
        if current in (None, "", "none"):
            jax.config.update("jax_cpu_collectives_implementation", "gloo")
        try:
            if explicit is None:
                jax.distributed.initialize(
                    local_device_ids=local_device_ids, initialization_timeout=timeout
                )
            else:
                addr, n, i = explicit
                jax.distributed.initialize(
                    coordinator_address=addr,
                    num_processes=n,
                    process_id=i,
                    local_device_ids=local_device_ids,
                    initialization_timeout=timeout,
                )
        except ValueError as err:
            if explicit is not None:
                raise DistributedError(f"jax.distributed.initialize: {err}") from err
            raise DistributedError(
                "no cluster detected (SLURM, Open MPI, Kubernetes, Cloud TPU): give the "
                f"coordinator HOST:PORT, the process count and the process id ({err})"
            ) from err
        except RuntimeError as err:
            msg = str(err).splitlines()[0] if str(err) else type(err).__name__
            if "already initialized" not in msg and "should only be called once" not in msg:
                raise DistributedError(f"jax.distributed.initialize failed: {msg}") from err
        _STATE["initialized"] = True
    return {
        "process_index": jax.process_index(),
        "process_count": jax.process_count(),
        "local_devices": len(jax.local_devices()),
        "devices": len(jax.devices()),
    }


def is_main_process() -> bool:
    """Whether this is process 0 (the one that writes files and prints)."""
    import jax

    return jax.process_index() == 0


def is_secondary_process() -> bool:
    """Whether this process is part of a multi-process run (joined here, by the CLI's
    ``--distributed`` or by ``jax.distributed.initialize`` directly) and is not process 0:
    it computes its shards but neither writes files nor prints results. Never imports JAX
    itself (without JAX loaded no run can have been joined)."""
    if not _STATE["initialized"]:
        jax = sys.modules.get("jax")
        if jax is None or not jax.distributed.is_initialized():
            return False
    return not is_main_process()


def gather(tree: Any) -> Any:
    """See `spectral_jax._sharding.gather` (every array leaf whole on this process)."""
    from ._sharding import gather as _gather

    return _gather(tree)


def barrier(name: str = "spectral_jax") -> None:
    """Wait until every process reaches this point (no-op with one process)."""
    from ._sharding import is_multiprocess

    if is_multiprocess():
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(name)


def write_once(write: Callable[[], Any], *, name: str = "write_once") -> Any:
    """Run ``write`` (e.g. a function saving a result file) on process 0 only, then wait
    until it is done on every process; returns its value on process 0, ``None`` elsewhere.

    Gather the data first (`gather`, a collective every process must call), then write
    it once: ``write_once(lambda: np.save(path, np.asarray(gather(K))))`` gathers on every
    process; prefer ``K = gather(K)`` before, outside the callback.
    """
    out = write() if is_main_process() else None
    barrier(name)
    return out


def _arg_type(name: str, lo: int):
    """An argparse type: an integer >= lo, else argparse's one-line error naming it."""

    def parse(text: str) -> int:
        try:
            return _check_int(text, name, lo)
        except DistributedError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    parse.__name__ = name
    return parse


def add_distributed_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--distributed``, ``--coordinator``, ``--num-processes`` and
    ``--process-id`` to a command-line parser (the global options of `spectral-jax`)."""
    g = parser.add_argument_group("multi-process runs (jax.distributed)")
    g.add_argument(
        "--distributed",
        action="store_true",
        help="join a multi-process run before the command (one process per host or GPU; "
        "without the three options below the cluster is detected: SLURM, Open MPI, "
        "Kubernetes, Cloud TPU)",
    )
    g.add_argument(
        "--coordinator",
        metavar="HOST:PORT",
        default=None,
        help=f"address of process 0 (or ${ENV_COORDINATOR})",
    )
    g.add_argument(
        "--num-processes",
        metavar="N",
        default=None,
        type=_arg_type("--num-processes", 1),
        help=f"number of processes (or ${ENV_NUM_PROCESSES})",
    )
    g.add_argument(
        "--process-id",
        metavar="I",
        default=None,
        type=_arg_type("--process-id", 0),
        help=f"this process, 0..N-1 (or ${ENV_PROCESS_ID})",
    )


def initialize_from_args(args: argparse.Namespace) -> dict[str, int] | None:
    """Join the run if ``args.distributed`` (see `add_distributed_arguments`); the three
    explicit options without ``--distributed`` are an error. Returns the process layout
    or ``None`` when not distributed.

    **Raises:** `DistributedError` naming the option (``--coordinator`` ...).
    """
    opts = tuple(getattr(args, k, None) for k in ("coordinator", "num_processes", "process_id"))
    if not getattr(args, "distributed", False):
        if any(v is not None for v in opts):
            raise DistributedError(
                "--coordinator, --num-processes and --process-id need --distributed"
            )
        return None
    names = {
        "coordinator": "--coordinator",
        "num_processes": "--num-processes",
        "process_id": "--process-id",
    }
    return _initialize(*opts, names, None, 300)
