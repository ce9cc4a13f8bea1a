"""Welper's shallow 1D setting (arXiv 2405.11696): f(x) = m^{-1/2} sum_r a_r ReLU(x - b_r),
a_r = +-1 fixed, w_r = 1, b_r ~ U[-1, 1], biases trained. The finite-width NTK converges to
K_inf(x, x') = (1 + min(x, x'))/2 at the Monte Carlo rate m^{-1/2}, and K_inf has the
eigenvalues 2/((k - 1/2)^2 pi^2) (decay k^-2, coercivity in H^-1).

Usage: python examples/ntk_limit_convergence.py [--small] [--out DIR]
"""

import argparse
import json
import sys
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import jax.random as jr  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from spectral_jax.ntk import limit_convergence_study, limit_mc_constant, plot_limit_convergence  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--small", action="store_true", help="widths up to 4096, fewer seeds")
    ap.add_argument("--out", default="./out_examples")
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    widths = [64, 256, 1024, 4096] if a.small else [64, 256, 1024, 4096, 16384, 65536]
    res = limit_convergence_study(
        widths, seeds=4 if a.small else 16, panels=16 if a.small else 64, key=jr.key(5)
    )
    for m, e, p in zip(res["widths"], res["l2_errors"], res["lln_prediction"], strict=True):
        print(f"m = {m:6d}   ||K_m - K_inf||_L2 = {e:.4e}   sqrt((2/3)/m) = {p:.4e}")
    print(f"fitted rate {res['rate']:.3f}  (expected -0.5, Monte Carlo)")
    print("limit eigenvalues, Nystrom vs closed form 2/((k-1/2)^2 pi^2):")
    for k, (n, c) in enumerate(
        zip(res["limit_eigs_nystrom"], res["limit_eigs_closed_form"], strict=True), 1
    ):
        print(f"  k={k}: {n:.8f}  {c:.8f}")
    plot_limit_convergence(
        res["widths"],
        res["l2_errors"],
        out / "ntk_limit_convergence.png",
        rate=res["rate"],
        constant=limit_mc_constant(),
    )
    (out / "ntk_limit_convergence.json").write_text(json.dumps(res, indent=1))
    if not -0.65 < res["rate"] < -0.35:
        sys.exit(f"FAILED: rate {res['rate']:.3f} is not close to -1/2")
    if res["nystrom_rel_err"] > 1e-3:
        sys.exit(
            f"FAILED: limit eigenvalues off by (relative to mu_1) {res['nystrom_rel_err']:.2e}"
        )
    print("OK: finite-width NTKs converge to the closed-form limit at rate ~ m^-1/2")


if __name__ == "__main__":
    main()
