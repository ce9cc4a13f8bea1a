"""Gram assembly, closed forms, exact rules, eigh and peak memory (issue 2, Performance).

    python benchmarks/bench_gram.py [--quick] [--out benchmarks/results]

Side by side in one run: the chunked quadrature Gram vs the same product in NumPy
(features then ``S.T @ S``, which NumPy sends to SYRK), its GFLOP/s against the
machine's GEMM rate; the exact composite rule vs the closed form at n = 4000; the
closed form vs the quadrature GEMM at n = 2000; ``eigh_spectrum`` vs
``scipy.linalg.eigh``; the peak memory of a chunked n = 20000 float64 Gram (in a
fresh subprocess per size: the high-water mark above the post-import baseline, on
the first call (with XLA's compilation) and on a second call after resetting it).
Compile time is reported separately; the two sides of the assembly and eigh comparisons
are timed in alternating rounds (`timeit_interleaved`) so that load hits both alike.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import (  # noqa: E402
    enable_x64,
    markdown_table,
    measured_gemm_gflops,
    timeit,
    timeit_interleaved,
    write_results,
)

enable_x64()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import scipy.linalg  # noqa: E402

from spectral_jax.domains import Interval  # noqa: E402
from spectral_jax.gram import gram_matrix, gram_matrix_with_error, relu_gram_1d  # noqa: E402
from spectral_jax.gram._assembly import _tile_width, _tiles, default_block_size  # noqa: E402
from spectral_jax.networks import uniform_biases  # noqa: E402
from spectral_jax.quadrature import gauss_legendre  # noqa: E402
from spectral_jax.spectrum import eigh_spectrum  # noqa: E402

MEM_SNIPPET = """
import gc, json, resource, sys
import jax
jax.config.update('jax_enable_x64', True)
import jax.numpy as jnp
from spectral_jax.gram import gram_matrix
from spectral_jax.quadrature import gauss_legendre
from spectral_jax.domains import Interval
def status(key):  # /proc/self/status, in MiB
    for line in open('/proc/self/status'):
        if line.startswith(key):
            return int(line.split()[1]) / 1024
n, panels, block = {n}, {panels}, {block}
rule = gauss_legendre(Interval(), 4, panels=panels)
W = jnp.ones((n, 1)); b = jnp.linspace(-1, 1, n)
jax.block_until_ready((rule.nodes, W, b))
base = status('VmHWM')
G = jax.block_until_ready(gram_matrix('relu', W, b, rule, block_size=block))
cold = status('VmHWM') - base  # includes XLA's compilation
del G; gc.collect()
try:  # reset the high-water mark (Linux >= 4.0), then a second, compiled call
    open('/proc/self/clear_refs', 'w').write('5')
    base2 = status('VmRSS')
    G = jax.block_until_ready(gram_matrix('relu', W, b, rule, block_size=block))
    warm = status('VmHWM') - base2
except OSError:
    warm = float('nan')
print(json.dumps(dict(n=n, nodes=rule.size, block=block, cold_peak_over_base_mb=cold,
      warm_peak_over_base_mb=warm, gram_mb=n * n * 8 / 2**20, block_mb=block * n * 8 / 2**20,
      phi_mb=rule.size * n * 8 / 2**20)))
"""


def performed_flops(n: int, m: int) -> tuple[float, int, int]:
    """Multiply-add flops the tiled assembly really performs for an ``n x n`` Gram on
    ``m`` nodes: every upper tile pair is a full ``t x t`` product over each block of nodes
    (the last tile is read at a clamped start, so it is full size too), i.e.
    ``2 * m_padded * t^2 * T(T+1)/2`` with ``T`` tiles of width ``t``; the block count is
    padded as `assemble_gram` pads it. Returns (flops, t, T)."""
    block = default_block_size(m, n, 8)
    nb = -(-m // block)
    block = -(-m // nb)
    t, T = _tile_width(n), len(_tiles(n))
    return 2.0 * nb * block * t * t * T * (T + 1) / 2, t, T


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    ap.add_argument("--out", default=None, help="results folder (default benchmarks/results)")
    args = ap.parse_args()
    q = args.quick
    res: dict = {"quick": q, "loadavg_before": list(os.getloadavg())}
    rows = []
    gemm = measured_gemm_gflops(1000 if q else 2000)
    res["numpy_gemm_gflops_at_start"] = gemm

    # 1. assembly vs NumPy on the same rule and features
    n, m = (500, 2000) if q else (2000, 8000)
    rule = gauss_legendre(Interval(), 8, panels=m // 8)
    b = uniform_biases(n)
    W = jnp.ones((n, 1))
    x, qw = np.asarray(rule.nodes), np.asarray(rule.weights)
    bn, Wn = np.asarray(b), np.asarray(W)

    def np_gram():
        S = np.maximum(x @ Wn.T - bn[None, :], 0.0) * np.sqrt(qw)[:, None]
        return S.T @ S

    S = np.maximum(x @ Wn.T - bn[None, :], 0.0) * np.sqrt(qw)[:, None]
    # the GEMM rates of the same moment: square n x n x n products in NumPy and in XLA
    # (jitted dot, HIGHEST precision), timed in the same alternating rounds as the Gram
    ng = 1000 if q else 2000
    A = np.random.default_rng(0).standard_normal((ng, ng))
    B = np.random.default_rng(1).standard_normal((ng, ng))
    Aj, Bj = jnp.asarray(A), jnp.asarray(B)
    xla_dot = jax.jit(lambda a, c: jnp.dot(a, c, precision=jax.lax.Precision.HIGHEST))
    tt = timeit_interleaved(
        {
            "jax": lambda: gram_matrix("relu", W, b, rule),
            "numpy": np_gram,
            "numpy_gemm_only": lambda: S.T @ S,
            "numpy_gemm_square": lambda: A @ B,
            "xla_gemm_square": lambda: xla_dot(Aj, Bj),
        },
        rounds=3 if q else 11,
    )
    t_jax, t_np, t_np_gemm = tt["jax"], tt["numpy"], tt["numpy_gemm_only"]
    sq = 2.0 * ng**3
    rate_np = {k: sq / tt["numpy_gemm_square"][k] / 1e9 for k in ("median_s", "min_s")}
    rate_xla = {k: sq / tt["xla_gemm_square"][k] / 1e9 for k in ("median_s", "min_s")}
    done, tile, ntiles = performed_flops(n, m)
    # per-round fractions: the Gram's rate on the flops it performs over each GEMM's rate
    # measured in the same round; the median over rounds, and the ratio of minima
    per = {
        g: np.asarray(tt[g]["per_round_s"]) / sq / (np.asarray(t_jax["per_round_s"]) / done)
        for g in ("numpy_gemm_square", "xla_gemm_square")
    }
    frac = {g: float(np.median(v)) for g, v in per.items()}
    frac_min = {
        g: (done / t_jax["min_s"]) / (sq / tt[g]["min_s"])
        for g in ("numpy_gemm_square", "xla_gemm_square")
    }
    agree = float(
        np.max(np.abs(np.asarray(gram_matrix("relu", W, b, rule)) - np_gram()))
        / np.max(np.abs(np_gram()))
    )
    flops = 2.0 * m * n * n
    res["assembly"] = dict(
        n=n,
        nodes=m,
        jax=t_jax,
        numpy=t_np,
        numpy_gemm_only=t_np_gemm,
        ratio_jax_over_numpy=t_jax["median_s"] / t_np["median_s"],
        ratio_median_of_rounds=1.0 / tt["ratios"]["numpy"],
        ratio_of_min=t_jax["min_s"] / t_np["min_s"],
        flops_full=flops,
        flops_performed=done,
        performed_over_full=done / flops,
        tile=tile,
        tiles=ntiles,
        jax_gflops_performed=done / t_jax["median_s"] / 1e9,
        jax_gflops_effective_full_count=flops / t_jax["median_s"] / 1e9,
        numpy_gemm_gflops_same_run=rate_np,
        xla_gemm_gflops_same_run=rate_xla,
        fraction_of_numpy_gemm=frac["numpy_gemm_square"],
        fraction_of_xla_gemm=frac["xla_gemm_square"],
        fraction_of_numpy_gemm_of_min=frac_min["numpy_gemm_square"],
        fraction_of_xla_gemm_of_min=frac_min["xla_gemm_square"],
        how="fractions: the Gram's GFLOP/s on the flops the tiled code performs "
        "(flops_performed) over the NumPy / XLA square-GEMM rate measured in the same "
        "alternating rounds; median over rounds of the per-round fraction, and from minima",
        loadavg=tt["loadavg"],
        rel_diff=agree,
    )
    rows.append(
        [
            f"Gram assembly n={n}, m={m}",
            t_jax["median_s"],
            t_np["median_s"],
            t_jax["median_s"] / t_np["median_s"],
            f"{frac['numpy_gemm_square']:.0%} of NumPy GEMM, "
            f"{frac['xla_gemm_square']:.0%} of XLA GEMM on the {done / flops:.0%} of 2mn^2 "
            f"performed (GEMM {rate_np['median_s']:.0f} / {rate_xla['median_s']:.0f} GFLOP/s "
            f"this run; minima: {frac_min['numpy_gemm_square']:.0%} / "
            f"{frac_min['xla_gemm_square']:.0%})",
        ]
    )

    # 2. exact composite rule vs closed form
    n2 = 1000 if q else 4000
    b2 = uniform_biases(n2)
    G0 = np.asarray(relu_gram_1d(b2))
    r = gram_matrix_with_error("relu", jnp.ones((n2, 1)), b2, Interval(), method="exact")
    err = float(np.max(np.abs(np.asarray(r.matrix) - G0)) / np.max(np.abs(G0)))
    res["exact_rule"] = dict(n=n2, nodes=r.rule.size, max_rel_err=err)
    rows.append(
        [f"exact composite rule n={n2} ({r.rule.size} nodes)", "-", "-", "-", f"rel err {err:.1e}"]
    )

    # 3. closed form vs quadrature GEMM
    n3 = 500 if q else 2000
    b3 = uniform_biases(n3)
    W3 = jnp.ones((n3, 1))
    # each on its own (steady state: the 32 MB output reuses the freed buffer); alternated
    # with the 0.3 s quadrature call, every closed-form call instead page-faults a fresh
    # output (reported too, as the cold figure)
    t_cf = timeit(lambda: relu_gram_1d(b3), repeats=5 if q else 15)
    t_qd = timeit(lambda: gram_matrix("relu", W3, b3, Interval(), method="exact"), repeats=3)
    tt3 = timeit_interleaved(
        {
            "closed_form": lambda: relu_gram_1d(b3),
            "quadrature": lambda: gram_matrix("relu", W3, b3, Interval(), method="exact"),
        },
        rounds=3 if q else 5,
    )
    e3 = float(
        np.max(
            np.abs(
                np.asarray(relu_gram_1d(b3))
                - np.asarray(gram_matrix("relu", W3, b3, Interval(), method="exact"))
            )
        )
        / np.max(np.abs(np.asarray(relu_gram_1d(b3))))
    )
    res["closed_form"] = dict(
        n=n3,
        how="steady state: each side timed on its own (repeated calls reuse the freed "
        "output buffer); alternated: the two in alternating rounds (every closed-form "
        "call page-faults a fresh output; relu_gram_1d has no output/donation argument)",
        closed_form=t_cf,
        quadrature=t_qd,
        speedup=t_qd["median_s"] / t_cf["median_s"],
        speedup_of_min=t_qd["min_s"] / t_cf["min_s"],
        closed_form_cold=tt3["closed_form"],
        quadrature_alternated=tt3["quadrature"],
        speedup_alternated=float(
            np.median(
                np.asarray(tt3["quadrature"]["per_round_s"]) / tt3["closed_form"]["per_round_s"]
            )
        ),
        speedup_alternated_of_min=tt3["quadrature"]["min_s"] / tt3["closed_form"]["min_s"],
        loadavg=tt3["loadavg"],
        rel_diff=e3,
    )
    rows.append(
        [
            f"closed form vs exact quadrature n={n3}",
            t_cf["median_s"],
            t_qd["median_s"],
            t_qd["median_s"] / t_cf["median_s"],
            f"speed-up steady state (minima {res['closed_form']['speedup_of_min']:.0f}x); "
            f"alternated calls (cold output) {res['closed_form']['speedup_alternated']:.0f}x "
            f"(minima {res['closed_form']['speedup_alternated_of_min']:.0f}x); "
            f"rel diff {e3:.1e}",
        ]
    )

    # 4. eigh vs scipy
    n4 = 500 if q else 2000
    G4 = np.asarray(relu_gram_1d(uniform_biases(n4)))
    tt4 = timeit_interleaved(
        {"jax": lambda: eigh_spectrum(G4).eigenvalues, "scipy": lambda: scipy.linalg.eigh(G4)},
        rounds=3 if q else 5,
    )
    t_e, t_s = tt4["jax"], tt4["scipy"]
    res["eigh"] = dict(
        n=n4,
        jax=t_e,
        scipy=t_s,
        ratio=t_e["median_s"] / t_s["median_s"],
        ratio_median_of_rounds=tt4["ratios"]["scipy"] ** -1,
        ratio_of_min=t_e["min_s"] / t_s["min_s"],
        loadavg=tt4["loadavg"],
    )
    rows.append(
        [
            f"eigh_spectrum vs scipy.linalg.eigh n={n4}",
            t_e["median_s"],
            t_s["median_s"],
            t_e["median_s"] / t_s["median_s"],
            "ratio",
        ]
    )

    # 5. peak memory of a chunked Gram, each size in a fresh subprocess
    sizes5, panels, blk = ((2000, 4000), 64, 64) if q else ((5000, 10000, 20000), 128, 128)
    root = Path(__file__).resolve().parent.parent
    res["memory"] = []
    for n5 in sizes5:
        code = textwrap.dedent(MEM_SNIPPET.format(n=n5, panels=panels, block=blk))
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root)
        if out.returncode != 0:
            res["memory"].append({"n": n5, "error": out.stderr[-2000:]})
            continue
        mem = json.loads(out.stdout.strip().splitlines()[-1])
        for k in ("cold", "warm"):
            mem[f"{k}_extra_over_gram_mb"] = mem[f"{k}_peak_over_base_mb"] - mem["gram_mb"]
        res["memory"].append(mem)
        rows.append(
            [
                f"peak memory n={n5} float64 ({mem['nodes']} nodes, block {blk})",
                "-",
                "-",
                "-",
                f"Gram {mem['gram_mb']:.0f} MB + {mem['warm_extra_over_gram_mb']:.0f} MB "
                f"(first call, with compilation: + {mem['cold_extra_over_gram_mb']:.0f} MB); "
                f"block {mem['block_mb']:.0f} MB",
            ]
        )
        print(rows[-1][0], rows[-1][-1], flush=True)
    table = markdown_table(["case", "spectral_jax (s)", "reference (s)", "ratio", "note"], rows)
    print(
        f"NumPy GEMM rate at the start: {gemm:.1f} GFLOP/s; in the Gram rounds: NumPy "
        f"{rate_np['median_s']:.1f}, XLA {rate_xla['median_s']:.1f} GFLOP/s; load "
        f"{res['loadavg_before']} -> {list(os.getloadavg())}"
    )
    print(table)
    res["table"] = table
    res["loadavg_after"] = list(os.getloadavg())
    path = write_results("gram", res, Path(args.out) if args.out else None)
    print("wrote", path)


if __name__ == "__main__":
    main()
