"""Fit solves: spectral_jax (jitted JAX) vs NumPy/SciPy doing the same solve, float64.

Workloads at n = 1000 and 2000 ReLU features (+ constant) on (-1, 1):
- cholesky: factor + solve the exact Gram system G a = F (SciPy cho_factor/cho_solve);
- eigh-truncated: eigendecomposition + truncation at eps*lambda_1 (NumPy eigh);
- lstsq: least squares on a 4n x n sampled feature matrix, JAX QR (Householder QR of
  the augmented [Phi | y], Q never formed) vs SciPy lstsq (gelsd), and JAX SVD vs SciPy
  lstsq (gelsd).
Ratio = JAX median / reference median (target <= 1.3). Compile time separately.

Usage: python benchmarks/bench_fit.py [--quick] [--out DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import (
    enable_x64,
    markdown_table,
    measured_gemm_gflops,
    peak_rss_mb,
    timeit,
    write_results,
)  # noqa: E402

enable_x64()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import scipy.linalg  # noqa: E402

from spectral_jax.fit import NetworkBasis  # noqa: E402
from spectral_jax.fit import _solvers as S  # noqa: E402
from spectral_jax.networks import uniform_biases  # noqa: E402


def problem(n):
    basis = NetworkBasis("relu", jnp.ones((n, 1)), uniform_biases(n))
    g = basis.gram()
    rule = basis.rule(order=4)
    f = basis.load(jnp.arctan(25 * rule.nodes[:, 0]), rule)
    x = jnp.linspace(-1, 1, 4 * n)
    phi = basis.evaluate(x)
    return g, f, phi, jnp.arctan(25 * x)


def np_eigh_trunc(g, f, tau):
    lam, v = np.linalg.eigh(g)
    keep = lam > tau * lam[-1]
    return v @ np.where(keep, (v.T @ f) / np.where(keep, lam, 1), 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="n = 500 only, 3 repeats")
    ap.add_argument("--out", default=None, help="results directory (default benchmarks/results)")
    ap.add_argument(
        "--repeats", type=int, default=None, help="timing repeats (default 7; 3 with --quick)"
    )
    a = ap.parse_args()
    sizes = (500,) if a.quick else (1000, 2000)
    reps = a.repeats or (3 if a.quick else 7)
    eps = float(np.finfo(np.float64).eps)
    rows, records = [], []
    for n in sizes:
        g, f, phi, y = problem(n)
        gn, fn, phin, yn = (np.asarray(v) for v in (g, f, phi, y))
        work = {
            "cholesky": (
                lambda: S.solve_cholesky(g, f),
                lambda: scipy.linalg.cho_solve(scipy.linalg.cho_factor(gn, lower=True), fn),
                "scipy cho_factor+cho_solve",
            ),
            "eigh-truncated": (
                lambda: S.solve_eigh(g, f, jnp.asarray(eps))[0],
                lambda: np_eigh_trunc(gn, fn, eps),
                "numpy eigh + truncation",
            ),
            "lstsq-qr": (
                lambda: S.solve_qr(phi, y)[0],
                lambda: scipy.linalg.lstsq(phin, yn)[0],
                "scipy lstsq (gelsd)",
            ),
            "lstsq-svd": (
                lambda: S.solve_svd(phi, y, jnp.asarray(eps * 4 * n))[0],
                lambda: scipy.linalg.lstsq(phin, yn, lapack_driver="gelsd")[0],
                "scipy lstsq (gelsd)",
            ),
        }
        for name, (jfn, rfn, ref_name) in work.items():
            tj = timeit(jfn, repeats=reps)
            tr = timeit(rfn, repeats=reps)
            diff = float(np.linalg.norm(np.asarray(jfn()) - rfn()) / np.linalg.norm(rfn()))
            ratio = tj["median_s"] / tr["median_s"]
            rows.append(
                [
                    name,
                    n,
                    tj["median_s"] * 1e3,
                    tr["median_s"] * 1e3,
                    ratio,
                    (tj["first_call_s"] - tj["median_s"]) * 1e3,
                    diff,
                    ref_name,
                ]
            )
            records.append(
                dict(
                    workload=name,
                    n=n,
                    jax=tj,
                    reference=tr,
                    reference_name=ref_name,
                    ratio=ratio,
                    rel_diff_solutions=diff,
                )
            )
            print(
                f"{name:15s} n={n}: jax {tj['median_s'] * 1e3:8.2f} ms  ref {tr['median_s'] * 1e3:8.2f} ms  "
                f"ratio {ratio:5.2f}  (rel. diff. of solutions {diff:.1e})",
                flush=True,
            )
    headers = ["workload", "n", "jax ms", "ref ms", "ratio", "compile ms", "rel diff", "reference"]
    table = markdown_table(headers, rows)
    print(table)
    path = write_results(
        "fit",
        {
            "sizes": list(sizes),
            "quick": a.quick,
            "gemm_gflops": measured_gemm_gflops(1000),
            "peak_rss_mb": peak_rss_mb(),
            "results": records,
            "table": table,
            "jax_backend": jax.default_backend(),
        },
        a.out,
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
