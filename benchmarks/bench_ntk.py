"""Empirical NTK: spectral_jax vs neural-tangents (its three implementations), one run.

    python benchmarks/bench_ntk.py [--quick] [--nt-python /work/nt-venv/bin/python] [--out DIR]

neural-tangents needs an older JAX, so it runs in its own environment
(``bash benchmarks/ntk_reference_env.sh``) through ``benchmarks/_nt_runner.py`` in a
subprocess (address space capped at 16 GB so an attempted huge allocation fails cleanly);
its versions are recorded. PyTorch's ``torch.func`` recipe is skipped when torch is not
installed (noted in the JSON). Workloads (one-hidden-layer ReLU MLP unless stated):

1. scalar input, N = 1000, width 512 and N = 2000, width 4096: our 1D prefix-sum fast path
   (target >= 50x neural-tangents' fastest at the large size);
2. d = 2, N = 1000, width 512: our closed form (two GEMMs) vs the machine's GEMM rate
   (target >= 60%) and neural-tangents (target >= 1.5x);
3. the generic jacfwd/jacrev path (auto choice) vs neural-tangents' Jacobian contraction
   on the one-hidden-layer MLP (d = 1, N = 1000, width 512) and a 3-layer MLP
   (d = 2, N = 500, widths 128-128-128): target ratio <= 1.0.

Medians exclude compilation (the first call is reported separately); agreement of the
fast path with the generic path is measured on the first workload.
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

HERE = Path(__file__).resolve().parent


def run_nt(py: str | None, cfg: dict) -> dict:
    if not py or not Path(py).exists():
        return {
            "skipped": f"neural-tangents environment not found at {py!r} (run ntk_reference_env.sh)"
        }
    try:
        out = subprocess.run(
            [py, str(HERE / "_nt_runner.py"), json.dumps(cfg)],
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
    args = ap.parse_args()
    q = args.quick
    key = jr.key(0)
    rows, payload = [], {"workloads": []}
    try:
        import torch  # noqa: F401

        payload["torch"] = "installed but the torch.func recipe is not implemented in this script"
    except ImportError:
        payload["torch"] = "skipped: torch is not installed in this environment"
    gemm = measured_gemm_gflops(1000 if q else 2000)
    payload["gemm_gflops"] = gemm

    # 1. scalar-input fast path
    for n_pts, width in [(200, 128), (400, 512)] if q else [(1000, 512), (2000, 4096)]:
        net = shallow(width, 1, key)
        x = jr.uniform(jr.fold_in(key, 1), (n_pts, 1), minval=-1, maxval=1)
        ours = timeit(lambda: structured_ntk(net, x, fast_path=True), repeats=7)
        mat = timeit(lambda: structured_ntk(net, x, fast_path=False), repeats=3)
        agree = None
        if width <= 512:
            gen = empirical_ntk(net, x, method="jacrev")
            fast = structured_ntk(net, x, fast_path=True)
            agree = float(jnp.max(jnp.abs(fast - gen)) / jnp.max(jnp.abs(gen)))
        nt = run_nt(args.nt_python, {"d": 1, "widths": [width], "n": n_pts, "repeats": 3})
        nt_name, nt_t = nt_fastest(nt)
        w = {
            "workload": f"1D ReLU shallow N={n_pts} width={width}",
            "ours_fast_path": ours,
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

    # 2. d = 2 closed form vs GEMM rate
    n_pts, width = (300, 256) if q else (1000, 512)
    net = shallow(width, 2, key)
    x = jr.uniform(jr.fold_in(key, 2), (n_pts, 2), minval=-1, maxval=1)
    ours = timeit(lambda: structured_ntk(net, x), repeats=7)
    flops = 4 * n_pts**2 * width
    nt = run_nt(args.nt_python, {"d": 2, "widths": [width], "n": n_pts, "repeats": 3})
    nt_name, nt_t = nt_fastest(nt)
    w = {
        "workload": f"2D ReLU shallow N={n_pts} width={width}",
        "ours_closed_form": ours,
        "gflops": flops / ours["median_s"] / 1e9,
        "fraction_of_gemm": flops / ours["median_s"] / 1e9 / gemm,
        "neural_tangents": nt,
        "speedup_vs_nt_fastest": (nt_t / ours["median_s"]) if nt_t else None,
    }
    payload["workloads"].append(w)
    rows.append(
        [
            w["workload"],
            f"closed form ({w['fraction_of_gemm']:.0%} of GEMM)",
            ours["median_s"] * 1e3,
            ours["first_call_s"],
            nt_name or "-",
            (nt_t or float("nan")) * 1e3,
            w["speedup_vs_nt_fastest"] or float("nan"),
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
        res = {"jacrev": timeit(lambda: empirical_ntk(mlp, x, method="jacrev"), repeats=3)}
        # jacfwd costs ~P forward passes per input: time it on a subset of the inputs when
        # P * N is large and scale linearly in N (the Jacobian dominates; noted in the JSON)
        n_sub = min(n_pts, max(10, int(2e6 // n_params)))
        xs = x[:n_sub]
        tf = timeit(lambda: empirical_ntk(mlp, xs, method="jacfwd"), repeats=1)
        scale = n_pts / n_sub
        res["jacfwd"] = {**tf, "median_s": tf["median_s"] * scale, "measured_on_n": n_sub,
                         "scaled_linearly_by": scale}
        auto = choose_method(n_params, 1)
        nt = run_nt(
            args.nt_python, {"d": d, "widths": widths, "n": n_pts, "repeats": 3, "impls": [1]}
        )
        jc = nt.get("impl", {}).get("JACOBIAN_CONTRACTION", {}).get("median_s")
        w = {
            "workload": f"MLP d={d} widths={widths} N={n_pts}",
            "params": n_params,
            "auto_choice": auto,
            "ours": res,
            "neural_tangents": nt,
            "ratio_auto_over_nt_jc": (res[auto]["median_s"] / jc) if jc else None,
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
    payload["peak_rss_mb"] = peak_rss_mb()
    table = markdown_table(
        [
            "workload",
            "ours",
            "median ms",
            "first call s",
            "neural-tangents (fastest)",
            "NT median ms",
            "speedup (NT / ours)",
        ],
        rows,
    )
    payload["table"] = table
    path = write_results("ntk" + ("-quick" if q else ""), payload, args.out)
    print(table)
    print(f"\nGEMM rate {gemm:.1f} GFLOP/s; torch: {payload['torch']}; written {path}")


if __name__ == "__main__":
    main()
