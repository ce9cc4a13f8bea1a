"""Empirical NTK: spectral_jax vs neural-tangents 0.6.5, timed round by round.

    python benchmarks/bench_ntk.py [--quick] [--rounds 7]
        [--nt-python /work/nt-venv/bin/python] [--out DIR]

neural-tangents needs an older JAX, so it runs in its own environment
(``bash benchmarks/ntk_reference_env.sh``) as a persistent, warm worker
(``benchmarks/_nt_layered_runner.py``, the one ``bench_ntk_layered.py`` uses) given the SAME
network as ours: our weights and biases written to a file and loaded into a stax
``Dense(parameterization="standard")`` chain (biases included), the same points, float64.
Both sides are compiled and run once before timing; then every round times each of our
paths and each neural-tangents implementation once, in turn, so the machine load hits all
alike. Reported per workload and side: median and minimum seconds; per neural-tangents
implementation and each of our paths: the median of the per-round ratios (NT / ours) and the
ratio of the minima; the agreement of the kernels; the load average before and after.

Workloads (ReLU networks, all parameters trainable, K(x, x) of the scalar output):

1. one-hidden-layer network on [-1, 1] (`ShallowNetwork`), N = 1000, width 512 and
   N = 2000, width 4096: our 1D prefix-sum fast path (`structured_ntk`);
2. the same in d = 2, N = 1000, width 512: our closed form (two GEMMs, symmetric halving),
   with its GEMM fraction: the flops it performs per second against an XLA and a NumPy GEMM
   of the same shape, both timed in the same rounds;
3. `MLP` d = 1 -> 512 -> 1 (N = 1000) and d = 2 -> 128 -> 128 -> 128 -> 1 (N = 500): our
   ``method="auto"`` (the layered NTK) and the generic ``jacrev`` path.

PyTorch ``torch.func`` (optional: ``bash benchmarks/torch_reference_env.sh``, found with
``--torch-python``, ``$TORCH_PYTHON``, ``/work/torch-venv`` or ``/tmp/torchenv``; a CPU run)
is the third side, as a persistent worker (``benchmarks/_torch_layered_runner.py``, the one
``bench_ntk_layered.py`` uses) on the same network (every workload is a Linear-ReLU chain;
the shallow net is Linear(n), ReLU, Linear(1)), the same points, float64: PyTorch's two
documented recipes, Jacobian contraction (``vmap`` over ``jacrev``) and NTK-vector products
(``vjp`` + ``vmap`` over ``jvp``). Its calls take seconds, so it is timed in the first
``--torch-rounds`` rounds only (default 3), and the NTK-vector products are skipped where
they cost more than ``--torch-ntvp-max-gflop`` (default 100; $8N^2P$ flops, P the number of
parameters: the N = 2000, width 4096 workload). Without the environment its rows are
skipped with a note.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import enable_x64, markdown_table, peak_rss_mb, write_results  # noqa: E402

enable_x64()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
import numpy as np  # noqa: E402
from bench_ntk_layered import (  # noqa: E402
    TORCH_IMPLS,
    NTWorker,
    TorchWorker,
    add_peer_options,
    torch_setup,
)

from spectral_jax.networks import MLP, ShallowNetwork  # noqa: E402
from spectral_jax.ntk import empirical_ntk, structured_ntk  # noqa: E402
from spectral_jax.ntk._structured import _sym_depth  # noqa: E402

NAMES = {1: "nt_jacobian", 3: "nt_structured"}
PEERS = [*NAMES.values(), *TORCH_IMPLS.values()]


def n_params(model) -> int:
    return sum(a.size for a in stax_arrays(model).values())


def shallow(n: int, d: int, key) -> ShallowNetwork:
    k1, k2, k3 = jr.split(key, 3)
    return ShallowNetwork(
        jr.normal(k1, (n,)) / np.sqrt(n),
        jr.normal(k2, (n, d)),
        jr.uniform(k3, (n,), minval=-1, maxval=1),
        offset=0.1,
    )


def stax_arrays(model) -> dict:
    """Our network's parameters in the worker's file layout (W as (out, in), b as (1, out)):
    the shallow net is Dense(n) with W = w, b = -b, ReLU, Dense(1) with W = a, b = c."""
    if isinstance(model, ShallowNetwork):
        return {
            "W0": np.asarray(model.weights),
            "b0": -np.asarray(model.biases).reshape(1, -1),
            "W1": np.asarray(model.outer).reshape(1, -1),
            "b1": np.asarray(model.offset).reshape(1, 1),
        }
    out = {}
    for i, lay in enumerate(model.layers):
        out[f"W{i}"] = np.asarray(lay.weight)
        out[f"b{i}"] = np.asarray(lay.bias).reshape(1, -1)
    return out


def timed(f):
    def run():
        t0 = time.perf_counter()
        jax.block_until_ready(f())
        return time.perf_counter() - t0

    return run


def workload(
    name,
    model,
    x,
    ours: dict,
    nt,
    tmp: Path,
    rounds: int,
    extra: dict | None = None,
    tw=None,
    torch_rounds: int = 3,
    ntvp_max_gflop: float = 100.0,
):
    """Time ``ours`` (name -> callable), the NT implementations, the torch.func recipes
    (first ``torch_rounds`` rounds) and ``extra`` (name -> callable returning seconds) in
    alternating rounds; ratios peer / ours per round."""
    np.savez(tmp / "params.npz", **stax_arrays(model))
    np.savez(tmp / "x.npz", x=np.asarray(x))
    res = {"workload": name, "load_average_before": list(os.getloadavg())}
    first, kernels = {}, {}
    for k, f in ours.items():
        t0 = time.perf_counter()
        kernels[k] = np.asarray(jax.block_until_ready(f()))
        first[k] = time.perf_counter() - t0
    res["ours_first_call_s"] = first
    sides = {k: timed(f) for k, f in ours.items()}
    if nt is not None:
        setup = nt.ask(
            cmd="setup",
            params=str(tmp / "params.npz"),
            x=str(tmp / "x.npz"),
            act="relu",
            dtype="float64",
            impls=[1, 3],
            save=str(tmp / "k_nt.npz"),
        )
        if "error" in setup:
            res["neural_tangents_error"] = setup["error"]
        else:
            res["neural_tangents_setup"] = setup
            knt = np.load(tmp / "k_nt.npz")
            ref = next(iter(kernels.values()))
            scale = np.max(np.abs(ref))
            res["agreement_rel"] = {
                f"{o} vs {NAMES[int(k[1:])]}": float(np.max(np.abs(knt[k] - kernels[o])) / scale)
                for k in knt.files
                for o in kernels
            }
            for impl in (1, 3):
                sides[NAMES[impl]] = lambda i=impl: nt.ask(cmd="time", impl=i)["s"]
    torch_sides = {}
    if tw is not None:
        ref = next(iter(kernels.values()))
        impls = list(TORCH_IMPLS)
        gflop = 8 * x.shape[0] ** 2 * n_params(model) / 1e9
        if gflop > ntvp_max_gflop:
            impls = ["jacobian"]
            res["torch_ntvp_skipped"] = f"8 N^2 P = {gflop:.0f} GFLOP > --torch-ntvp-max-gflop"
        setup = torch_setup(tw, tmp, "float64", ref, impls)
        res["torch_func_setup"] = setup
        if "error" not in setup:
            res["torch_agreement_rel"] = setup["agreement_rel"]
            for i in setup["first_call_s"]:
                torch_sides[TORCH_IMPLS[i]] = lambda i=i: tw.ask(cmd="time", impl=i)["s"]
    sides.update(extra or {})
    for f in sides.values():  # one warm call each (first calls are recorded above)
        f()
    ts = {k: [] for k in [*sides, *torch_sides]}
    for r in range(rounds):
        for k, f in sides.items():
            ts[k].append(f())
        if r < torch_rounds:
            for k, f in torch_sides.items():
                ts[k].append(f())
    res["load_average_after"] = list(os.getloadavg())
    res["rounds"] = rounds
    res["torch_rounds"] = min(torch_rounds, rounds) if torch_sides else 0
    res["times"] = {
        k: {"median_s": float(np.median(v)), "min_s": float(np.min(v)), "per_round_s": v}
        for k, v in ts.items()
    }
    res["ratio_median_of_rounds"], res["ratio_of_minima"] = {}, {}
    for o in ours:
        for n in PEERS:
            if n in ts:
                a = np.asarray(ts[n])
                b = np.asarray(ts[o][: len(a)])
                res["ratio_median_of_rounds"][f"{n} / {o}"] = float(np.median(a / b))
                res["ratio_of_minima"][f"{n} / {o}"] = float(a.min() / np.min(ts[o]))
    return res


def gemm_sides(n: int, w: int) -> dict:
    """Seconds of one (n, w) @ (w, n) float64 product by XLA and by NumPy."""
    a = np.random.default_rng(0).standard_normal((n, w))
    aj = jnp.asarray(a)
    f = jax.jit(lambda u, v: u @ v.T)
    bj = aj + 0
    return {"xla_gemm": timed(lambda: f(aj, bj)), "numpy_gemm": timed(lambda: a @ a.T)}


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    ap.add_argument("--rounds", type=int, default=7, help="alternating timing rounds")
    add_peer_options(ap)
    ap.add_argument("--torch-rounds", type=int, default=3, help="rounds timing torch.func")
    ap.add_argument(
        "--torch-ntvp-max-gflop",
        type=float,
        default=100.0,
        help="skip torch.func's NTK-vector products above this many GFLOP (8 N^2 P)",
    )
    ap.add_argument("--out", default=None, help="results directory")
    args = ap.parse_args()
    q = args.quick
    key = jr.key(0)
    nt = NTWorker(args.nt_python) if args.nt_python and Path(args.nt_python).exists() else None
    have_torch = bool(args.torch_python) and Path(args.torch_python).exists()
    tw = TorchWorker(args.torch_python) if have_torch else None
    peer = {"tw": tw, "torch_rounds": args.torch_rounds}
    peer["ntvp_max_gflop"] = args.torch_ntvp_max_gflop
    payload = {
        "rounds": args.rounds,
        "neural_tangents": "skipped: no environment" if nt is None else args.nt_python,
        "torch_func": (
            {
                "python": args.torch_python,
                "rounds": min(args.torch_rounds, args.rounds),
                "note": "CPU run; threads = cores; 16 GB address-space cap",
            }
            if have_torch
            else "not run: no torch environment (bash benchmarks/torch_reference_env.sh)"
        ),
        "workloads": [],
    }
    rows = []

    def add_rows(w):
        for o in w["ours_first_call_s"]:
            t = w["times"][o]
            for n in PEERS:
                if n not in w["times"]:
                    continue
                rows.append(
                    [
                        w["workload"],
                        o,
                        1e3 * t["median_s"],
                        n,
                        1e3 * w["times"][n]["median_s"],
                        w["ratio_median_of_rounds"][f"{n} / {o}"],
                        w["ratio_of_minima"][f"{n} / {o}"],
                        f"{w['load_average_after'][0]:.1f}",
                    ]
                )
        print(markdown_table(HEAD, rows).splitlines()[-1], flush=True)

    try:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            # 1. 1D shallow: the prefix-sum fast path
            for n_pts, width in [(200, 128)] if q else [(1000, 512), (2000, 4096)]:
                net = shallow(width, 1, key)
                x = jr.uniform(jr.fold_in(key, 1), (n_pts, 1), minval=-1, maxval=1)
                w = workload(
                    f"1D ReLU shallow N={n_pts} width={width}",
                    net,
                    x,
                    {"ours_fast_path": lambda net=net, x=x: structured_ntk(net, x)},
                    nt,
                    tmp,
                    args.rounds,
                    **peer,
                )
                payload["workloads"].append(w)
                add_rows(w)
            # 2. d = 2 shallow: closed form, GEMM fraction on the flops performed
            n_pts, width = (300, 256) if q else (1000, 512)
            net = shallow(width, 2, key)
            x = jr.uniform(jr.fold_in(key, 2), (n_pts, 2), minval=-1, maxval=1)
            w = workload(
                f"2D ReLU shallow N={n_pts} width={width}",
                net,
                x,
                {"ours_closed_form": lambda: structured_ntk(net, x)},
                nt,
                tmp,
                args.rounds,
                extra=gemm_sides(n_pts, width),
                **peer,
            )
            depth = _sym_depth(n_pts)
            frac = 0.5 + 2.0 ** (-depth - 1) if depth else 1.0
            flops = 2 * (2 * n_pts * n_pts * width) * frac  # two N x n x N products, halved
            one = 2 * n_pts * n_pts * width
            rate = flops / w["times"]["ours_closed_form"]["median_s"] / 1e9
            xla = one / w["times"]["xla_gemm"]["median_s"] / 1e9
            npy = one / w["times"]["numpy_gemm"]["median_s"] / 1e9
            w["gemm"] = {
                "performed_flops": flops,
                "symmetric_depth": depth,
                "ours_gflops_performed": rate,
                "xla_gflops": xla,
                "numpy_gflops": npy,
                "fraction_of_xla": rate / xla,
                "fraction_of_numpy": rate / npy,
            }
            payload["workloads"].append(w)
            add_rows(w)
            # 3. MLPs: auto (layered) and the generic jacrev path
            for d, widths, n_pts in (
                [(1, [64], 100), (2, [32, 32, 32], 100)]
                if q
                else [(1, [512], 1000), (2, [128, 128, 128], 500)]
            ):
                mlp = MLP(d, tuple(widths), activation="relu", key=jr.fold_in(key, 3))
                x = jr.uniform(jr.fold_in(key, 4), (n_pts, d), minval=-1, maxval=1)
                w = workload(
                    f"MLP d={d} widths={widths} N={n_pts}",
                    mlp,
                    x,
                    {
                        "ours_auto_layered": lambda mlp=mlp, x=x: empirical_ntk(mlp, x),
                        "ours_jacrev": lambda mlp=mlp, x=x: empirical_ntk(mlp, x, method="jacrev"),
                    },
                    nt,
                    tmp,
                    args.rounds,
                    **peer,
                )
                payload["workloads"].append(w)
                add_rows(w)
    finally:
        for wk in (nt, tw):
            if wk is not None:
                wk.close()
    payload["peak_rss_mb"] = peak_rss_mb()
    payload["table"] = markdown_table(HEAD, rows)
    path = write_results("ntk" + ("-quick" if q else ""), payload, args.out)
    print(payload["table"])
    print(f"load average {os.getloadavg()}; written {path}")


HEAD = [
    "workload",
    "ours",
    "ours median ms",
    "peer (neural-tangents / torch.func)",
    "peer median ms",
    "peer / ours (median of rounds)",
    "ratio of minima",
    "load",
]

if __name__ == "__main__":
    main()
