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

torch.func is not part of this run (no torch environment here); ``_torch_runner.py`` and
``torch_reference_env.sh`` remain for machines that have one.
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
from bench_ntk_layered import NTWorker  # noqa: E402

from spectral_jax.networks import MLP, ShallowNetwork  # noqa: E402
from spectral_jax.ntk import empirical_ntk, structured_ntk  # noqa: E402
from spectral_jax.ntk._structured import _sym_depth  # noqa: E402

NAMES = {1: "nt_jacobian", 3: "nt_structured"}


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


def workload(name, model, x, ours: dict, nt, tmp: Path, rounds: int, extra: dict | None = None):
    """Time ``ours`` (name -> callable), the NT implementations and ``extra`` (name ->
    callable returning seconds) in alternating rounds; ratios NT / ours per round."""
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
    sides.update(extra or {})
    for f in sides.values():  # one warm call each (first calls are recorded above)
        f()
    ts = {k: [] for k in sides}
    for _ in range(rounds):
        for k, f in sides.items():
            ts[k].append(f())
    res["load_average_after"] = list(os.getloadavg())
    res["rounds"] = rounds
    res["times"] = {
        k: {"median_s": float(np.median(v)), "min_s": float(np.min(v)), "per_round_s": v}
        for k, v in ts.items()
    }
    res["ratio_median_of_rounds"], res["ratio_of_minima"] = {}, {}
    for o in ours:
        for n in NAMES.values():
            if n in ts:
                a, b = np.asarray(ts[n]), np.asarray(ts[o])
                res["ratio_median_of_rounds"][f"{n} / {o}"] = float(np.median(a / b))
                res["ratio_of_minima"][f"{n} / {o}"] = float(a.min() / b.min())
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
    ap.add_argument(
        "--nt-python",
        default=os.environ.get("NT_PYTHON", "/work/nt-venv/bin/python"),
        help="python of the neural-tangents environment",
    )
    ap.add_argument("--out", default=None, help="results directory")
    args = ap.parse_args()
    q = args.quick
    key = jr.key(0)
    nt = NTWorker(args.nt_python) if Path(args.nt_python).exists() else None
    payload = {
        "rounds": args.rounds,
        "neural_tangents": "skipped: no environment" if nt is None else args.nt_python,
        "torch_func": "not run: no torch environment on this machine",
        "workloads": [],
    }
    rows = []

    def add_rows(w):
        for o in w["ours_first_call_s"]:
            t = w["times"][o]
            for n in NAMES.values():
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
                )
                payload["workloads"].append(w)
                add_rows(w)
    finally:
        if nt is not None:
            nt.close()
    payload["peak_rss_mb"] = peak_rss_mb()
    payload["table"] = markdown_table(HEAD, rows)
    path = write_results("ntk" + ("-quick" if q else ""), payload, args.out)
    print(payload["table"])
    print(f"load average {os.getloadavg()}; written {path}")


HEAD = [
    "workload",
    "ours",
    "ours median ms",
    "neural-tangents",
    "NT median ms",
    "NT / ours (median of rounds)",
    "ratio of minima",
    "load",
]

if __name__ == "__main__":
    main()
