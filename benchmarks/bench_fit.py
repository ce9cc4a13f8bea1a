"""Fit solves: spectral_jax (jitted JAX) vs NumPy/SciPy doing the same solve, float64.

Workloads at n = 1000 and 2000 ReLU features (+ constant) on (-1, 1):
- cholesky: factor + solve the exact Gram system G a = F (SciPy cho_factor/cho_solve);
- cholesky+diag: what `fit_least_squares(..., solver="cholesky")` runs after it has G
  and F: factor, solve, the relative residual and the O(n^2 k) condition estimate (block
  power (2 steps) + block inverse iteration (3 steps, the first riding on the solve),
  k = 8, Rayleigh-Ritz); the reference does the same work with SciPy/NumPy (the same
  algorithm on the SciPy factor);
- eigh-truncated: eigendecomposition + truncation at eps*lambda_1 (NumPy eigh);
- lstsq: least squares on a 4n x n sampled feature matrix, JAX QR (Householder QR of
  the augmented [Phi | y], Q never formed) vs SciPy lstsq (gelsd), and the JAX R-SVD
  (that QR, then the SVD of the small R) vs SciPy lstsq (gelsd).
The two sides are timed interleaved (jax, ref, jax, ref, ...) so that load on a shared
machine hits both alike; the load average is recorded. Ratio = JAX median / reference
median (target <= 1.3). Compile time separately. Also: one full `fit_least_squares`
(Gram, load, solve, diagnostics, errors on 10001 points) and, for scale, the
eigendecomposition the condition number used to cost.

Usage: python benchmarks/bench_fit.py [--quick] [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import (
    block,
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

from spectral_jax.fit import NetworkBasis, fit_least_squares  # noqa: E402
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


def paired(jfn, rfn, repeats):
    """Interleaved timing of ``jfn`` and ``rfn``: two `timeit`-like dicts."""
    out = []
    for fn in (jfn, rfn):
        t0 = time.perf_counter()
        block(fn())
        out.append({"first_call_s": time.perf_counter() - t0})
    ts = ([], [])
    for _ in range(repeats):
        for i, fn in enumerate((jfn, rfn)):
            t0 = time.perf_counter()
            block(fn())
            ts[i].append(time.perf_counter() - t0)
    for d, t in zip(out, ts, strict=True):
        d.update(
            median_s=float(np.median(t)),
            min_s=float(np.min(t)),
            max_s=float(np.max(t)),
            repeats=len(t),
        )
    return out


def sp_cho_fit(gn, fn):
    """SciPy/NumPy doing what `_solvers.cholesky_fit` does: the solve with the first
    inverse iteration riding on it, the remaining inverse and power iterations, one
    final product for the residual and both Rayleigh-Ritz matrices."""
    c = scipy.linalg.cho_factor(gn, lower=True)  # checks finiteness once, like the kernel row
    x0 = np.random.default_rng(0).standard_normal((gn.shape[0], S.COND_BLOCK))
    sol = scipy.linalg.cho_solve(c, np.column_stack([fn, x0]), check_finite=False)
    coef, qmin = sol[:, 0], np.linalg.qr(sol[:, 1:])[0]
    for _ in range(S.COND_ITERS - 1):
        qmin = np.linalg.qr(scipy.linalg.cho_solve(c, qmin, check_finite=False))[0]
    qmax = np.linalg.qr(x0)[0]
    for _ in range(S.POWER_ITERS):
        qmax = np.linalg.qr(gn @ qmax)[0]
    k = x0.shape[1]
    prod = gn @ np.column_stack([coef, qmax, qmin])
    res = np.linalg.norm(prod[:, 0] - fn) / np.linalg.norm(fn)
    lmax = np.linalg.eigvalsh(qmax.T @ prod[:, 1 : 1 + k])[-1]
    lmin = np.linalg.eigvalsh(qmin.T @ prod[:, 1 + k :])[0]
    return coef, res, lmax, lmin


def sp_rsvd(phin, yn, rcond):
    """SciPy doing the same R-SVD as `_solvers.solve_svd`: QR of [Phi | y] (R only), then
    the SVD (gesdd) of the small R."""
    n = phin.shape[1]
    r = scipy.linalg.qr(np.column_stack([phin, yn]), mode="r")[0]
    u, s, vt = scipy.linalg.svd(r[:n, :n], full_matrices=False, lapack_driver="gesdd")
    keep = s > rcond * s[0]
    return vt.T @ np.where(keep, (u.T @ r[:n, n]) / np.where(keep, s, 1), 0)


def np_eigh_trunc(g, f, tau):
    lam, v = np.linalg.eigh(g)
    keep = lam > tau * lam[-1]
    return v @ np.where(keep, (v.T @ f) / np.where(keep, lam, 1), 0)


def _work(n, eps, g, f, phi, y, gn, fn, phin, yn):
    """The compared pairs (ours, reference, reference name) for one problem size."""
    return {
        "cholesky": (
            lambda: S.solve_cholesky(g, f),
            lambda: scipy.linalg.cho_solve(scipy.linalg.cho_factor(gn, lower=True), fn),
            "scipy cho_factor+cho_solve",
        ),
        "cholesky+diag": (
            lambda: S.cholesky_fit(g, f)[0],
            lambda: sp_cho_fit(gn, fn)[0],
            "scipy cho_factor+cho_solve+same estimate+residual",
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
        "lstsq-svd-same": (
            lambda: S.solve_svd(phi, y, jnp.asarray(eps * 4 * n))[0],
            lambda: sp_rsvd(phin, yn, eps * 4 * n),
            "scipy qr(mode=r) + svd(R) (the same R-SVD)",
        ),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="n = 500 only, 3 repeats")
    ap.add_argument("--out", default=None, help="results directory (default benchmarks/results)")
    ap.add_argument(
        "--repeats", type=int, default=None, help="timing repeats (default 9; 3 with --quick)"
    )
    a = ap.parse_args()
    sizes = (500,) if a.quick else (1000, 2000)
    reps = a.repeats or (3 if a.quick else 9)
    eps = float(np.finfo(np.float64).eps)
    rows, records, extra = [], [], []
    load_before = os.getloadavg()
    for n in sizes:
        g, f, phi, y = problem(n)
        gn, fn, phin, yn = (np.asarray(v) for v in (g, f, phi, y))
        work = _work(n, eps, g, f, phi, y, gn, fn, phin, yn)
        for name, (jfn, rfn, ref_name) in work.items():
            tj, tr = paired(jfn, rfn, reps)
            diff = float(np.linalg.norm(np.asarray(jfn()) - rfn()) / np.linalg.norm(rfn()))
            ratio = tj["median_s"] / tr["median_s"]
            ratio_min = tj["min_s"] / tr["min_s"]
            rows.append(
                [
                    name,
                    n,
                    tj["median_s"] * 1e3,
                    tr["median_s"] * 1e3,
                    ratio,
                    ratio_min,
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
                    ratio_of_minima=ratio_min,
                    rel_diff_solutions=diff,
                    loadavg=list(os.getloadavg()),
                )
            )
            print(
                f"{name:15s} n={n}: jax {tj['median_s'] * 1e3:8.2f} ms  "
                f"ref {tr['median_s'] * 1e3:8.2f} ms  ratio {ratio:5.2f} "
                f"(of minima {ratio_min:5.2f})  "
                f"(rel. diff. of solutions {diff:.1e})  load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
        # context: a whole fit, and the eigendecomposition the condition number used to cost
        basis = NetworkBasis("relu", jnp.ones((n, 1)), uniform_biases(n))
        t_fit = timeit(
            lambda basis=basis: fit_least_squares(basis, "arctan25").coefficients, repeats=3
        )
        t_eig = timeit(lambda g=g: S.gram_eigenvalues(g), repeats=3)
        lam = np.linalg.eigvalsh(gn)
        est = S.cholesky_fit(g, f)
        cond_ratio = float(est[2] / est[3]) / float(lam[-1] / lam[0])
        extra.append(
            dict(
                n=n,
                fit_least_squares_cholesky_s=t_fit["median_s"],
                eigvalsh_s=t_eig["median_s"],
                cond_estimate_over_exact=cond_ratio,
            )
        )
        print(
            f"n={n}: whole fit_least_squares(cholesky) {t_fit['median_s'] * 1e3:.1f} ms; "
            f"eigvalsh (the old condition number) {t_eig['median_s'] * 1e3:.1f} ms; "
            f"condition estimate / exact = {cond_ratio:.3f}",
            flush=True,
        )
    headers = [
        "workload",
        "n",
        "jax ms",
        "ref ms",
        "ratio",
        "ratio of minima",
        "compile ms",
        "rel diff",
        "reference",
    ]
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
            "context": extra,
            "loadavg_before": list(load_before),
            "loadavg_after": list(os.getloadavg()),
            "table": table,
            "jax_backend": jax.default_backend(),
        },
        a.out,
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
