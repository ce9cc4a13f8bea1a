"""A persistent PyTorch ``torch.func`` worker for ``bench_ntk_layered.py`` and ``bench_ntk.py``.

Runs in the separate environment made by ``benchmarks/torch_reference_env.sh`` (torch is an
optional benchmark extra, never imported by the library). Reads one JSON command per line on
stdin, answers one JSON line (prefixed ``RESULT ``) on stdout:

- ``{"cmd": "setup", "params": "p.npz", "x": "x.npz", "act": "relu", "dtype": "float64",
  "impls": ["jacobian", "ntvp"], "save": "k.npz"}``: build the network
  ``torch.nn.Sequential(Linear, act, Linear, act, ..., Linear)`` from the weights
  ``W0, b0, W1, b1, ...`` of the npz (Equinox layout: W of shape (out, in), as
  ``torch.nn.Linear``; b of shape (1, out) or (out,)), cast to ``dtype``, load the inputs
  ``x`` and run each implementation once (its first call: ``first_call_s``); ``save`` also
  writes the kernels ``kjacobian``, ``kntvp`` (each ``(N, N)``, the trace over the outputs).
  An implementation whose working set would not fit the address-space cap is skipped with
  ``{"skipped": {impl: reason}}`` instead of being tried.
- ``{"cmd": "time", "impl": "jacobian"}``: one timed call, ``{"s": seconds}``.
- ``{"cmd": "quit"}``.

The two implementations are PyTorch's documented empirical-NTK recipes (the torch.func
"Neural Tangent Kernels" tutorial), with ``torch.no_grad`` around the call:

- ``jacobian`` (Jacobian contraction): ``vmap(jacrev(f_single), (None, 0))(params, x)``
  gives one Jacobian per parameter leaf, shape (N, O, *leaf); the kernel is the sum over
  leaves of ``einsum("Naf,Maf->NM")`` of the flattened Jacobians. For $K(x, x)$ the
  Jacobian is formed once and contracted with itself (the tutorial forms it for $x_1$ and
  $x_2$; neural-tangents does the same reuse when ``x2`` is None).
- ``ntvp`` (NTK-vector products): the tutorial's ``get_ntk``: ``vjp`` of the network on the
  batch, then ``vmap`` over the basis cotangents of its (N·O) outputs of
  ``jvp(f, (params,), vjp_fn(e))`` — column by column of $J J^\\top$, no Jacobian stored.
  The tutorial applies it under a double ``vmap`` over input pairs, which at N = 1000 holds
  $N^2$ parameter-sized cotangents at once; here ``get_ntk`` is applied to the whole batch
  (the same products, N·O columns), with ``vmap(..., chunk_size=c)``, c chosen to keep the
  batched tangents under ``chunk_gb`` (default 1 GB).

Threads: ``torch.set_num_threads`` to the cores this process may run on (or ``--threads``).
Memory: ``resource.RLIMIT_AS`` caps the process at ``--mem-limit-gb`` (default 16).

    echo '{"cmd": "quit"}' | /tmp/torchenv/bin/python benchmarks/_torch_layered_runner.py
"""

import argparse
import json
import os
import resource
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("--mem-limit-gb", type=float, default=16.0)
ap.add_argument("--threads", type=int, default=0)
ap.add_argument("--chunk-gb", type=float, default=1.0)
ARGS = ap.parse_args()
CAP = int(ARGS.mem_limit_gb * 2**30)
resource.setrlimit(resource.RLIMIT_AS, (CAP, CAP))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch.func import functional_call, jacrev, jvp, vjp, vmap  # noqa: E402

THREADS = ARGS.threads or len(os.sched_getaffinity(0))
torch.set_num_threads(THREADS)
ACTS = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "gelu": torch.nn.GELU}
DTYPES = {"float32": torch.float32, "float64": torch.float64}


def build(cfg):
    dt = DTYPES[cfg.get("dtype", "float64")]
    p = np.load(cfg["params"])
    n_layers = sum(1 for k in p.files if k.startswith("W"))
    mods = []
    for i in range(n_layers):
        w = p[f"W{i}"]
        lin = torch.nn.Linear(w.shape[1], w.shape[0], dtype=dt)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.asarray(w, dtype=np.float64)).to(dt))
            lin.bias.copy_(torch.from_numpy(np.asarray(p[f"b{i}"]).reshape(-1)).to(dt))
        mods.append(lin)
        if i < n_layers - 1:
            mods.append(ACTS[cfg.get("act", "relu")]())
    net = torch.nn.Sequential(*mods)
    params = {k: v.detach() for k, v in net.named_parameters()}
    x = torch.from_numpy(np.load(cfg["x"])["x"]).to(dt)
    return net, params, x


def recipes(net, params, x, chunk_gb):
    """The two torch.func recipes as zero-argument callables returning (N, N)."""

    def f_single(p, xi):  # one input (d,) -> outputs (O,)
        return functional_call(net, p, (xi[None],))[0]

    def f_batch(p):  # the batch (N, d) -> outputs (N * O,)
        return functional_call(net, p, (x,)).reshape(-1)

    def jacobian():
        jac = vmap(jacrev(f_single), (None, 0))(params, x)
        k = None
        for j in jac.values():
            j = j.flatten(2)  # (N, O, p)
            t = torch.einsum("Naf,Maf->NM", j, j)
            k = t if k is None else k + t
        return k

    n = x.shape[0]
    out_dim = f_single(params, x[0]).numel()
    widths = [m.out_features for m in net if isinstance(m, torch.nn.Linear)]
    n_params = sum(v.numel() for v in params.values())
    per_col = x.element_size() * (n_params + 3 * n * sum(widths))  # tangents of one column
    chunk = int(max(1, min(n * out_dim, chunk_gb * 2**30 // per_col)))

    def ntvp():
        out, vjp_fn = vjp(f_batch, params)

        def column(vec):
            (cot,) = vjp_fn(vec)
            return jvp(f_batch, (params,), (cot,))[1]

        basis = torch.eye(out.numel(), dtype=out.dtype)
        k = vmap(column, chunk_size=chunk)(basis)  # (N O, N O)
        return k.reshape(n, out_dim, n, out_dim).diagonal(dim1=1, dim2=3).sum(-1)

    need = {
        # the per-leaf Jacobians and the backward pass's batched workspace
        "jacobian": 2 * n * out_dim * n_params * x.element_size(),
        "ntvp": 2 * chunk * per_col + 3 * (n * out_dim) ** 2 * x.element_size(),
    }
    return {"jacobian": jacobian, "ntvp": ntvp}, need, chunk


def main():
    state = {}
    for line in sys.stdin:
        cmd = json.loads(line)
        out = {}
        try:
            if cmd["cmd"] == "quit":
                break
            if cmd["cmd"] == "setup":
                net, params, x = build(cmd)
                fns, need, chunk = recipes(net, params, x, ARGS.chunk_gb)
                first, kernels, skipped = {}, {}, {}
                for impl in cmd.get("impls", ["jacobian", "ntvp"]):
                    if need[impl] > 0.8 * CAP:
                        skipped[impl] = (
                            f"needs ~{need[impl] / 2**30:.1f} GB, over 80% of the "
                            f"{CAP / 2**30:.0f} GB address-space cap"
                        )
                        continue
                    with torch.no_grad():
                        t0 = time.perf_counter()
                        k = fns[impl]()
                        first[impl] = time.perf_counter() - t0
                    kernels[f"k{impl}"] = k.numpy()
                if cmd.get("save"):
                    np.savez(cmd["save"], **kernels)
                state = {"fns": {k: fns[k] for k in first}}
                out = {
                    "torch": torch.__version__,
                    "numpy": np.__version__,
                    "threads": torch.get_num_threads(),
                    "mem_limit_gb": ARGS.mem_limit_gb,
                    "ntvp_chunk_size": chunk,
                    "working_set_estimate_gb": {k: v / 2**30 for k, v in need.items()},
                    "first_call_s": first,
                    "skipped": skipped,
                    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                }
            elif cmd["cmd"] == "time":
                fn = state["fns"][cmd["impl"]]
                with torch.no_grad():
                    t0 = time.perf_counter()
                    fn()
                    out = {"s": time.perf_counter() - t0}
        except Exception as err:  # noqa: BLE001 - report (e.g. out of memory) and go on
            out = {"error": f"{type(err).__name__}: {str(err)[:300]}"}
        print("RESULT " + json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
