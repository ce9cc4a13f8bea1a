"""Rashomon Monte Carlo throughput: spectral_jax (jitted lax.scan, GEMM-shaped batches)
against a NumPy implementation of the same estimator (same quadrature, same batches).

    python benchmarks/bench_rashomon.py [--quick] [--out benchmarks/results]

For n = 10 and 100 (1D, f = sin(2 pi x), 256 Gauss nodes, eps = 0.9, A = 8) the sample
count is calibrated so one timed run takes about --seconds (default 5 s) on the device at
hand; reported: samples/s (median of repeats), compile time, the feature tensor held per
batch (bytes) and the process peak RSS, and the ratio jax/numpy in samples/s.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import enable_x64, markdown_table, peak_rss_mb, timeit, write_results  # noqa: E402

enable_x64()

import jax.random as jr  # noqa: E402
import numpy as np  # noqa: E402

import spectral_jax as sj  # noqa: E402
from spectral_jax.rashomon._setup import default_rule  # noqa: E402


def numpy_estimate(n, eps, A, N, batch, x, q, f, seed=0):
    rng = np.random.default_rng(seed)
    fn2 = float(q @ (f * f))
    qf = q * f
    hits = hh = 0
    done = 0
    while done < N:
        B = min(batch, N - done)
        a = rng.uniform(-A, A, (B, n))
        b = rng.uniform(-1, 1, (B, n))
        w = np.where(rng.random((B, n)) < 0.5, 1.0, -1.0)
        phi = np.maximum(w[..., None] * x[None, None, :] - b[..., None], 0.0)  # (B, n, m)
        h = np.matmul(a[:, None, :], phi)[:, 0, :] / n
        hf = h @ qf
        err2 = (h * h) @ q - 2 * hf + fn2
        hits += int(np.sum(err2 <= eps * eps * fn2))
        hh += int(np.sum(hf >= (1 - eps) * fn2))
        done += B
    return hits, hh


def calibrate(run, n0, seconds, cap):
    run(n0)  # compile for this size first
    t0 = time.perf_counter()
    run(n0)
    dt = max(time.perf_counter() - t0, 1e-3)
    return int(min(cap, max(n0, n0 * seconds / dt)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="about 1 s per run, 2 repeats")
    ap.add_argument("--seconds", type=float, default=5.0, help="target seconds per timed run")
    ap.add_argument("--out", default=None, help="results folder (default benchmarks/results)")
    args = ap.parse_args()
    secs = 1.0 if args.quick else args.seconds
    reps = 2 if args.quick else 3
    eps, A = 0.9, 8.0
    rule = default_rule(sj.Interval(), None)
    x = np.asarray(rule.nodes)[:, 0]
    q = np.asarray(rule.weights)
    f = np.sin(2 * np.pi * x)
    m = x.size
    rows, results = [], []
    for n in (10, 100):
        batch = max(1, (1 << 22) // (n * m))

        def jrun(N, n=n, batch=batch):
            return sj.rashomon_estimate(
                "sin2", n, eps, A=A, num_samples=N, batch_size=batch, key=jr.key(0)
            )

        def nrun(N, n=n, batch=batch):
            return numpy_estimate(n, eps, A, N, batch, x, q, f)

        t0 = time.perf_counter()
        jrun(batch)
        compile_s = time.perf_counter() - t0
        Nj = calibrate(jrun, 4 * batch, secs, 10**9)
        Nn = calibrate(nrun, batch, secs, 10**9)
        tj = timeit(lambda Nj=Nj, jrun=jrun: jrun(Nj).hits, repeats=reps, warmup=1)
        tn = timeit(lambda Nn=Nn, nrun=nrun: nrun(Nn)[0], repeats=reps, warmup=0)
        r = jrun(Nj)
        sj_rate = Nj / tj["median_s"]
        np_rate = Nn / tn["median_s"]
        feat_bytes = batch * n * m * 8
        res = {
            "n": n,
            "m": m,
            "batch": batch,
            "jax_samples": Nj,
            "numpy_samples": Nn,
            "jax": tj,
            "numpy": tn,
            "jax_samples_per_s": sj_rate,
            "numpy_samples_per_s": np_rate,
            "ratio_jax_over_numpy": sj_rate / np_rate,
            "compile_s": compile_s,
            "feature_tensor_bytes": feat_bytes,
            "peak_rss_mb": peak_rss_mb(),
            "estimate": r.probability,
            "hoeffding_probability": r.hoeffding_probability,
        }
        results.append(res)
        rows.append(
            [
                n,
                m,
                batch,
                Nj,
                f"{sj_rate:.3g}",
                f"{np_rate:.3g}",
                f"{sj_rate / np_rate:.2f}",
                f"{compile_s:.2f}",
                f"{feat_bytes / 2**20:.0f}",
                f"{peak_rss_mb():.0f}",
            ]
        )
        print(
            f"n={n}: jax {sj_rate:.3g}/s ({Nj} samples), numpy {np_rate:.3g}/s, "
            f"ratio {sj_rate / np_rate:.2f}",
            flush=True,
        )
    table = markdown_table(
        [
            "n",
            "nodes m",
            "batch",
            "samples (jax)",
            "jax samples/s",
            "numpy samples/s",
            "jax/numpy",
            "compile s",
            "feature tensor MiB",
            "peak RSS MiB",
        ],
        rows,
    )
    print(table)
    path = write_results(
        "rashomon",
        {
            "quick": args.quick,
            "epsilon": eps,
            "A": A,
            "target": "sin(2 pi x)",
            "results": results,
            "table": table,
        },
        Path(args.out) if args.out else None,
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
