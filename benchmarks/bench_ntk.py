"""Empirical NTK: spectral_jax vs neural-tangents (its three implementations), one run.

    python benchmarks/bench_ntk.py [--quick] [--nt-python /work/nt-venv/bin/python]
        [--torch-python /work/torch-venv/bin/python] [--out DIR]

neural-tangents needs an older JAX, so it runs in its own environment
(``bash benchmarks/ntk_reference_env.sh``) through ``benchmarks/_nt_runner.py`` in a
subprocess (address space capped at 16 GB so an attempted huge allocation fails cleanly);
its versions are recorded. PyTorch's ``torch.func`` recipe (vmap over jacrev, float64) runs
the same way in its own environment (``bash benchmarks/torch_reference_env.sh``) through
``benchmarks/_torch_runner.py``; it is skipped with a note when that environment is missing.
Workloads (one-hidden-layer ReLU MLP unless stated):

1. scalar input, N = 1000, width 512 and N = 2000, width 4096: our 1D prefix-sum fast path
   (target >= 50x neural-tangents' fastest at the large size);
2. d = 2, N = 1000, width 512: our closed form (two GEMMs) vs the machine's GEMM rate
   (target >= 60%) and neural-tangents (target >= 1.5x);
3. the generic jacfwd/jacrev path (auto choice) vs neural-tangents' Jacobian contraction
   on the one-hidden-layer MLP (d = 1, N = 1000, width 512) and a 3-layer MLP
   (d = 2, N = 500, widths 128-128-128): target ratio <= 1.0.

Medians exclude compilation (the first call is reported separately); agreement of the
fast path with the generic path is measured on the first workload. The machine is shared, so
each workload records the load average, and ours is timed before and after the reference
(the better of the two medians is compared; both are in the JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import (  # noqa: E402
    enable_x64,
    markdown_table,
    measured_gemm_gflops,
    peak_rss_mb,
    timeit,
    write_results,
)

enable_x64()

import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
import numpy as np  # noqa: E402

from spectral_jax.networks import MLP, ShallowNetwork  # noqa: E402
from spectral_jax.ntk import choose_method, empirical_ntk, structured_ntk  # noqa: E402
from spectral_jax.ntk._structured import _sym_depth  # noqa: E402

HERE = Path(__file__).resolve().parent


def run_nt(py: str | None, cfg: dict, script: str = "_nt_runner.py") -> dict:
    env_script = "ntk_reference_env.sh" if script == "_nt_runner.py" else "torch_reference_env.sh"
    if not py or not Path(py).exists():
        return {"skipped": f"reference environment not found at {py!r} (run {env_script})"}
    try:
        out = subprocess.run(
            [py, str(HERE / script), json.dumps(cfg)],
            capture_output=True,
            text=True,
            timeout=900,
            env={**os.environ, "JAX_PLATFORMS": os.environ.get("JAX_PLATFORMS", "")},
        )
    except subprocess.TimeoutExpired:
        return {"error": "timed out after 900 s"}
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return {"error": f"exit {out.returncode}: {out.stderr[-500:]}"}


def nt_fastest(res: dict) -> tuple[str | None, float | None]:
    best = None
    for name, r in res.get("impl", {}).items():
        if "median_s" in r and (best is None or r["median_s"] < best[1]):
            best = (name, r["median_s"])
    return best if best else (None, None)


def shallow(n: int, d: int, key) -> ShallowNetwork:
    k1, k2, k3 = jr.split(key, 3)
    return ShallowNetwork(
        jr.normal(k1, (n,)) / np.sqrt(n),
        jr.normal(k2, (n, d)),
        jr.uniform(k3, (n,), minval=-1, maxval=1),
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    ap.add_argument(
        "--nt-python",
        default=os.environ.get("NT_PYTHON", "/work/nt-venv/bin/python"),
        help="python of the neural-tangents environment",
    )
    ap.add_argument("--out", default=None, help="results directory")
    ap.add_argument(
        "--torch-python",
        default=os.environ.get("TORCH_PYTHON", "/work/torch-venv/bin/python"),
        help="python of the torch environment (torch.func reference)",
    )
    args = ap.parse_args()
    q = args.quick
    key = jr.key(0)
    rows, payload = [], {"workloads": []}
    payload["torch"] = (
        f"torch.func via {args.torch_python}"
        if Path(args.torch_python).exists()
        else f"skipped: no torch environment at {args.torch_python} (torch_reference_env.sh)"
    )
    gemm = measured_gemm_gflops(1000 if q else 2000)
    payload["gemm_gflops"] = gemm

    # 1. scalar-input fast path
    for n_pts, width in [(200, 128), (400, 512)] if q else [(1000, 512), (2000, 4096)]:
        net = shallow(width, 1, key)
        x = jr.uniform(jr.fold_in(key, 1), (n_pts, 1), minval=-1, maxval=1)
        load = os.getloadavg()
        before = timeit(lambda: structured_ntk(net, x, fast_path=True), repeats=11)
        mat = timeit(lambda: structured_ntk(net, x, fast_path=False), repeats=3)
        agree = None
        if width <= 512:
            gen = empirical_ntk(net, x, method="jacrev")
            fast = structured_ntk(net, x, fast_path=True)
            agree = float(jnp.max(jnp.abs(fast - gen)) / jnp.max(jnp.abs(gen)))
        nt = run_nt(args.nt_python, {"d": 1, "widths": [width], "n": n_pts, "repeats": 3})
        after = timeit(lambda: structured_ntk(net, x, fast_path=True), repeats=11)
        ours = {
            **min(before, after, key=lambda r: r["median_s"]),
            "first_call_s": before["first_call_s"],
        }
        nt_name, nt_t = nt_fastest(nt)
        w = {
            "workload": f"1D ReLU shallow N={n_pts} width={width}",
            "load_average": load,
            "ours_fast_path": ours,
            "ours_fast_path_before_reference": before,
            "ours_fast_path_after_reference": after,
            "ours_matrix_form": mat,
            "rel_err_vs_generic": agree,
            "neural_tangents": nt,
            "speedup_vs_nt_fastest": (nt_t / ours["median_s"]) if nt_t else None,
            "fast_path_memory_mb": (n_pts**2 * 4 + 12 * width + 8 * n_pts) * 8 / 2**20,
        }
        payload["workloads"].append(w)
        rows.append(
            [
                w["workload"],
                "fast path",
                ours["median_s"] * 1e3,
                ours["first_call_s"],
                nt_name or "-",
                (nt_t or float("nan")) * 1e3,
                w["speedup_vs_nt_fastest"] or float("nan"),
            ]
        )
        rows.append(
            [
                w["workload"],
                "matrix form",
                mat["median_s"] * 1e3,
                mat["first_call_s"],
                nt_name or "-",
                (nt_t or float("nan")) * 1e3,
                (nt_t / mat["median_s"]) if nt_t else float("nan"),
            ]
        )

    # 2. d = 2 closed form vs GEMM rate (x2=None: the upper-block-triangle recursion)
    n_pts, width = (300, 256) if q else (1000, 512)
    net = shallow(width, 2, key)
    x = jr.uniform(jr.fold_in(key, 2), (n_pts, 2), minval=-1, maxval=1)
    load = os.getloadavg()
    before = timeit(lambda: structured_ntk(net, x), repeats=11)
    xc = x + 0.0  # a distinct array: the full (non-symmetric) product
    full_prod = timeit(lambda: structured_ntk(net, x, xc), repeats=7)
    nt = run_nt(args.nt_python, {"d": 2, "widths": [width], "n": n_pts, "repeats": 7})
    after = timeit(lambda: structured_ntk(net, x), repeats=11)
    ours = {
        **min(before, after, key=lambda r: r["median_s"]),
        "first_call_s": before["first_call_s"],
    }
    nt_name, nt_t = nt_fastest(nt)
    flops = 4 * n_pts**2 * width  # two N x n x N products
    depth = _sym_depth(n_pts)
    frac = 0.5 + 2.0 ** (-depth - 1) if depth else 1.0
    w = {
        "workload": f"2D ReLU shallow N={n_pts} width={width}",
        "load_average": load,
        "ours_closed_form": ours,
        "ours_before_reference": before,
        "ours_after_reference": after,
        "ours_full_product_x2_given": full_prod,
        "nominal_flops": flops,
        "performed_flops": flops * frac,
        "symmetric_depth": depth,
        "effective_gflops": flops / ours["median_s"] / 1e9,
        "performed_gflops": flops * frac / ours["median_s"] / 1e9,
        "fraction_of_gemm_effective": flops / ours["median_s"] / 1e9 / gemm,
        "fraction_of_gemm_performed": flops * frac / ours["median_s"] / 1e9 / gemm,
        "fraction_of_gemm_full_product": flops / full_prod["median_s"] / 1e9 / gemm,
        "neural_tangents": nt,
        "speedup_vs_nt_fastest": (nt_t / ours["median_s"]) if nt_t else None,
    }
    payload["workloads"].append(w)
    rows.append(
        [
            w["workload"],
            f"closed form, symmetric ({w['fraction_of_gemm_performed']:.0%} of GEMM on the "
            f"flops done, {w['fraction_of_gemm_effective']:.0%} effective)",
            ours["median_s"] * 1e3,
            ours["first_call_s"],
            nt_name or "-",
            (nt_t or float("nan")) * 1e3,
            w["speedup_vs_nt_fastest"] or float("nan"),
        ]
    )
    rows.append(
        [
            w["workload"],
            f"closed form, x2 given ({w['fraction_of_gemm_full_product']:.0%} of GEMM)",
            full_prod["median_s"] * 1e3,
            full_prod["first_call_s"],
            nt_name or "-",
            (nt_t or float("nan")) * 1e3,
            (nt_t / full_prod["median_s"]) if nt_t else float("nan"),
        ]
    )

    # 3. generic path vs NT Jacobian contraction
    for d, widths, n_pts in (
        [(1, [128], 200), (2, [32, 32, 32], 100)]
        if q
        else [(1, [512], 1000), (2, [128, 128, 128], 500)]
    ):
        mlp = MLP(d, tuple(widths), activation="relu", key=jr.fold_in(key, 3))
        x = jr.uniform(jr.fold_in(key, 4), (n_pts, d), minval=-1, maxval=1)
        n_params = sum(
            int(l.size)
            for l in __import__("jax").tree_util.tree_leaves(
                __import__("equinox").filter(mlp, __import__("equinox").is_inexact_array)
            )
        )
        load = os.getloadavg()
        before = timeit(lambda: empirical_ntk(mlp, x, method="jacrev"), repeats=5)
        res = {"jacrev": before}
        # jacfwd costs ~P forward passes per input: time it on a subset of the inputs when
        # P * N is large and scale linearly in N (the Jacobian dominates; noted in the JSON).
        # Forward mode carries P tangents through every layer (memory ~ n_sub * P * width *
        # 8 bytes per layer), so n_sub * P is capped at 2e5 (~0.2 GB per layer at width 128)
        n_sub = min(n_pts, max(4, int(2e5 // n_params)))
        xs = x[:n_sub]
        tf = timeit(lambda: empirical_ntk(mlp, xs, method="jacfwd"), repeats=1)
        scale = n_pts / n_sub
        res["jacfwd"] = {
            **tf,
            "median_s": tf["median_s"] * scale,
            "measured_on_n": n_sub,
            "scaled_linearly_by": scale,
        }
        auto = choose_method(n_params, 1)
        cfg = {"d": d, "widths": widths, "n": n_pts, "repeats": 5}
        nt = run_nt(args.nt_python, {**cfg, "impls": [1, 3]})
        th = run_nt(args.torch_python, cfg, "_torch_runner.py")
        after = timeit(lambda: empirical_ntk(mlp, x, method="jacrev"), repeats=5)
        res["jacrev"] = {
            **min(before, after, key=lambda r: r["median_s"]),
            "first_call_s": before["first_call_s"],
        }
        res["jacrev_before_reference"], res["jacrev_after_reference"] = before, after
        jc = nt.get("impl", {}).get("JACOBIAN_CONTRACTION", {}).get("median_s")
        sd = nt.get("impl", {}).get("STRUCTURED_DERIVATIVES", {}).get("median_s")
        tt = th.get("median_s")
        w = {
            "workload": f"MLP d={d} widths={widths} N={n_pts}",
            "load_average": load,
            "params": n_params,
            "auto_choice": auto,
            "ours": res,
            "neural_tangents": nt,
            "torch_func": th,
            "ratio_auto_over_nt_jc": (res[auto]["median_s"] / jc) if jc else None,
            "ratio_auto_over_nt_structured": (res[auto]["median_s"] / sd) if sd else None,
            "ratio_auto_over_torch_func": (res[auto]["median_s"] / tt) if tt else None,
            "jacfwd_over_jacrev": res["jacfwd"]["median_s"] / res["jacrev"]["median_s"],
        }
        payload["workloads"].append(w)
        for m in ("jacrev", "jacfwd"):
            rows.append(
                [
                    w["workload"],
                    m + (" (auto)" if m == auto else ""),
                    res[m]["median_s"] * 1e3,
                    res[m]["first_call_s"],
                    "JACOBIAN_CONTRACTION",
                    (jc or float("nan")) * 1e3,
                    (jc / res[m]["median_s"]) if jc else float("nan"),
                ]
            )
        rows.append(
            [
                w["workload"],
                "jacrev" + (" (auto)" if auto == "jacrev" else ""),
                res["jacrev"]["median_s"] * 1e3,
                res["jacrev"]["first_call_s"],
                "torch.func vmap(jacrev)"
                if tt
                else f"torch.func: {th.get('skipped', th.get('error'))}",
                (tt or float("nan")) * 1e3,
                (tt / res["jacrev"]["median_s"]) if tt else float("nan"),
            ]
        )
        rows.append(
            [
                w["workload"],
                "jacrev" + (" (auto)" if auto == "jacrev" else ""),
                res["jacrev"]["median_s"] * 1e3,
                res["jacrev"]["first_call_s"],
                "STRUCTURED_DERIVATIVES (not a generic path)",
                (sd or float("nan")) * 1e3,
                (sd / res["jacrev"]["median_s"]) if sd else float("nan"),
            ]
        )
    payload["peak_rss_mb"] = peak_rss_mb()
    payload["load_average_end"] = os.getloadavg()
    table = markdown_table(
        [
            "workload",
            "ours",
            "median ms",
            "first call s",
            "reference (neural-tangents' fastest unless named)",
            "reference median ms",
            "speedup (reference / ours)",
        ],
        rows,
    )
    payload["table"] = table
    path = write_results("ntk" + ("-quick" if q else ""), payload, args.out)
    print(table)
    print(
        f"\nGEMM rate {gemm:.1f} GFLOP/s; load average {os.getloadavg()}; "
        f"torch: {payload['torch']}; written {path}"
    )


if __name__ == "__main__":
    main()
