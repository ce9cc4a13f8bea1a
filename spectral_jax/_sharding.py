"""Run large workloads over all devices with `jax.sharding` (XLA's engine), on one
process or many (`jax.distributed`, JAX's multi-controller runtime).

Helpers build a 1-D mesh over ``jax.devices()`` and place a batch axis on it; the jitted
computation is then partitioned by XLA (GSPMD). With one device they are no-ops, so the
same code runs everywhere. Multi-process: call
`spectral_jax._distributed.distributed_initialize()`
(or ``jax.distributed.initialize()``) first, in every process; ``jax.devices()`` then
lists every process's devices, so the default mesh is global, and every process runs the
same program on the same inputs (SPMD). Arrays placed by `shard_leading` / `replicate`
are global `jax.Array`s of which each process holds only its own devices' shards;
`gather` brings a result to every process when a user needs it on the host.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

__all__ = [
    "device_mesh",
    "shard_leading",
    "replicate",
    "pad_to_multiple",
    "global_array",
    "gather",
    "is_multiprocess",
    "row_sharding",
]

AXIS = "batch"


def device_mesh(devices=None) -> Mesh:
    """A 1-D device mesh named ``"batch"``, the `mesh=` argument of the sharded workloads.

    Pass it to `gram_matrix`, `empirical_ntk`, `structured_ntk`, `rashomon_estimate` or
    `train_many`: each splits its batch axis (Gram node blocks, NTK rows, Monte Carlo
    batches, networks) over the mesh with `jax.sharding.NamedSharding`, so XLA runs the
    shards on every device. After `distributed_initialize()` (`spectral_jax._distributed`)
    the default mesh spans the devices of every process (ordered by process, then local
    device).

    **Arguments:**

    - `devices`: a sequence of `jax.Device` (default: `jax.devices()`, every device of
      every process).

    **Returns:** a `jax.sharding.Mesh` with the single axis ``"batch"``.
    """
    devs = np.asarray(jax.devices() if devices is None else devices)
    return Mesh(devs.reshape(-1), (AXIS,))


def is_multiprocess() -> bool:
    """Whether this program runs as several JAX processes (``jax.process_count() > 1``)."""
    return jax.process_count() > 1


def row_sharding(mesh: Mesh, ndim: int) -> NamedSharding:
    """The `NamedSharding` that splits the leading axis of an ``ndim``-D array over the
    mesh's ``"batch"`` axis (the other axes whole)."""
    return NamedSharding(mesh, PartitionSpec(AXIS, *([None] * (ndim - 1))))


def _addressable(x) -> bool | None:
    """``x.is_fully_addressable`` for a concrete `jax.Array`; ``None`` under a trace."""
    try:
        return bool(x.is_fully_addressable)
    except jax.errors.ConcretizationTypeError:
        return None


def shard_leading(x, mesh: Mesh | None = None):
    r"""Place ``x`` with its leading axis split over the mesh (the length must be a
    multiple of the device count).

    Every process passes the same full array (SPMD) and keeps on its devices only the
    rows those devices own (`jax.make_array_from_callback`); inside `jax.jit` this is a
    sharding constraint instead. With one process and one device it is a plain
    ``device_put``.
    """
    mesh = device_mesh() if mesh is None else mesh
    sharding = row_sharding(mesh, x.ndim)
    if isinstance(x, jax.Array):
        addressable = _addressable(x)
        if addressable is None:
            return jax.lax.with_sharding_constraint(x, sharding)
        if not addressable:
            return jax.device_put(x, sharding)
    if not is_multiprocess():
        return jax.device_put(x, sharding)
    host = np.asarray(x)
    return jax.make_array_from_callback(host.shape, sharding, lambda idx: host[idx])


def replicate(x, mesh: Mesh | None = None):
    """Place ``x`` (an array or a pytree) replicated on every device of the mesh; every
    process passes the same value."""
    mesh = device_mesh() if mesh is None else mesh
    return jax.device_put(x, NamedSharding(mesh, PartitionSpec()))


def global_array(local_rows, mesh: Mesh | None = None):
    r"""A global array whose leading axis is split over the mesh, built from the rows
    each process holds (`jax.make_array_from_process_local_data`).

    Process $p$ passes its own block of rows (all processes the same number, in process
    order); the global array is their concatenation, placed so each process's rows stay
    on its devices (nothing is sent over the network). With one process it is
    `shard_leading`.

    **Arguments:** `local_rows`: this process's rows, shape ``(n_local, ...)``, with
    ``n_local`` a multiple of the process's device count; `mesh` (default
    `device_mesh()`).

    **Returns:** a `jax.Array` of shape ``(process_count * n_local, ...)``.

    **Raises:** ``ValueError`` if the rows do not split evenly over the local devices.
    """
    mesh = device_mesh() if mesh is None else mesh
    local = np.asarray(local_rows)
    nloc = len([d for d in mesh.devices.flat if d.process_index == jax.process_index()])
    if local.ndim == 0 or nloc == 0 or local.shape[0] % nloc:
        raise ValueError(
            f"global_array: local_rows must have a leading axis that is a multiple of this "
            f"process's {nloc} mesh devices; got shape {local.shape}"
        )
    sharding = row_sharding(mesh, local.ndim)
    return jax.make_array_from_process_local_data(sharding, local)


def _gather_leaf(x):
    if not isinstance(x, jax.Array) or x.is_fully_addressable:
        return x
    if x.is_fully_replicated:
        return x.addressable_data(0)
    from jax.experimental import multihost_utils

    return jnp.asarray(multihost_utils.process_allgather(x, tiled=True))


def gather(tree: Any) -> Any:
    """Every array leaf of ``tree`` as a whole array on this process.

    A leaf that spans other processes' devices is gathered over the network (an
    all-gather: every process receives the full array, so call it only on results that
    fit one host); a replicated leaf is read from a local device; anything else is
    returned as is. With one process it returns ``tree`` unchanged. Every process must
    call it (it is a collective).

    **Returns:** the same pytree with process-local arrays (``np.asarray`` works).
    """
    return jtu.tree_map(_gather_leaf, tree)


def pad_to_multiple(n: int, m: int) -> int:
    """Smallest multiple of ``m`` that is >= ``n``."""
    return -(-n // m) * m
