"""One JAX process of a multi-process test run (started by tests/test_distributed.py).

Usage: python _distributed_worker.py --distributed [--coordinator HOST:PORT
--num-processes N --process-id I] OUTDIR CASES (the settings the options leave out come
from SPECTRAL_JAX_COORDINATOR, SPECTRAL_JAX_NUM_PROCESSES, SPECTRAL_JAX_PROCESS_ID).
Joins the run through the launcher's `initialize_from_args` (gloo CPU collectives), runs every case
of `_distributed_cases` with a global mesh, gathers each result and has process 0 write
it once (``OUTDIR/CASE.npz``); every process writes ``OUTDIR/meta-ID.json`` (timings,
devices, the rows of each result this process's devices hold)."""

from __future__ import annotations

import json
import os
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)


def _shard_rows(x):
    """Largest number of leading-axis rows any one local device holds."""
    if not isinstance(x, jax.Array) or x.ndim == 0:
        return None
    return max(int(s.data.shape[0]) for s in x.addressable_shards)


def main() -> None:
    import argparse

    from spectral_jax._distributed import (
        add_distributed_arguments,
        gather,
        initialize_from_args,
        write_once,
    )

    ap = argparse.ArgumentParser()
    add_distributed_arguments(ap)
    ap.add_argument("outdir")
    ap.add_argument("cases")
    args = ap.parse_args()  # the launcher's options, or SPECTRAL_JAX_* variables
    outdir, cases = args.outdir, args.cases
    t0 = time.perf_counter()
    layout = initialize_from_args(args)
    pid = layout["process_index"]
    import numpy as np

    from spectral_jax._files import atomic_open
    from spectral_jax._sharding import device_mesh

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _distributed_cases import CASES

    mesh = device_mesh()
    meta = {"layout": layout, "init_s": time.perf_counter() - t0, "cases": {}}
    for name in cases.split(","):
        t = time.perf_counter()
        res = CASES[name](mesh)
        rows = {k: _shard_rows(v) for k, v in res.items()}
        full = {k: isinstance(v, jax.Array) and v.is_fully_addressable for k, v in res.items()}
        res = {k: np.asarray(v) for k, v in gather(res).items()}

        def write(res=res, name=name):
            with atomic_open(os.path.join(outdir, f"{name}.npz")) as fh:
                np.savez(fh, **res)

        write_once(write, name=name)
        meta["cases"][name] = {
            "seconds": time.perf_counter() - t,
            "max_rows_per_device": rows,
            "fully_addressable": full,
        }
    with open(os.path.join(outdir, f"meta-{pid}.json"), "w") as fh:
        json.dump(meta, fh)


if __name__ == "__main__":
    main()
