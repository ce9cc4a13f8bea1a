"""Run large workloads over all visible devices with `jax.sharding` (XLA's engine).

Helpers build a 1-D mesh over ``jax.devices()`` and place a batch axis on it; the jitted
computation is then partitioned by XLA (GSPMD). With one device they are no-ops, so the
same code runs everywhere. Multi-host: call ``jax.distributed.initialize()`` first; the
mesh then spans every process's devices.
"""

from __future__ import annotations

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

__all__ = ["device_mesh", "shard_leading", "replicate", "pad_to_multiple"]

AXIS = "batch"


def device_mesh(devices=None) -> Mesh:
    """A 1-D device mesh named ``"batch"``, the `mesh=` argument of the sharded workloads.

    Pass it to `gram_matrix`, `empirical_ntk`, `structured_ntk`, `rashomon_estimate` or
    `train_many`: each splits its batch axis (Gram row blocks, NTK rows, Monte Carlo
    batches, networks) over the mesh with `jax.sharding.NamedSharding`, so XLA runs the
    shards on every device. Under `jax.distributed.initialize()` the default mesh spans
    the devices of every process.

    **Arguments:**

    - `devices`: a sequence of `jax.Device` (default: `jax.devices()`, every visible
      device).

    **Returns:** a `jax.sharding.Mesh` with the single axis ``"batch"``.
    """
    devs = np.asarray(jax.devices() if devices is None else devices)
    return Mesh(devs.reshape(-1), (AXIS,))


def shard_leading(x, mesh: Mesh | None = None):
    """Place ``x`` with its leading axis split over the mesh (must divide evenly)."""
    mesh = device_mesh() if mesh is None else mesh
    spec = PartitionSpec(AXIS, *([None] * (x.ndim - 1)))
    return jax.device_put(x, NamedSharding(mesh, spec))


def replicate(x, mesh: Mesh | None = None):
    """Place ``x`` replicated on every device of the mesh."""
    mesh = device_mesh() if mesh is None else mesh
    return jax.device_put(x, NamedSharding(mesh, PartitionSpec()))


def pad_to_multiple(n: int, m: int) -> int:
    """Smallest multiple of ``m`` that is >= ``n``."""
    return -(-n // m) * m
