"""Welper's setting (seed 003) across widths: f = m^-1/2 sum a_r ReLU(x - theta_r), a_r = +-1
fixed, biases trained by gradient descent on the continuous L2 loss, with the step size
scaled with the width both ways the seed states it (h sqrt(m) and h / sqrt(m), from the
same step at the smallest width) and the reference eta = c / lambda_max(m).

Claims checked at the end: lambda_max is O(1) in m (the NTK scaling), so h/sqrt(m) is
stable at every width while h sqrt(m) crosses eta lambda_max = 2 and loses monotonicity;
the largest bias drift shrinks with m while the drift / bias spacing grows.

Usage: python examples/dynamics_welper.py [--small] [--out DIR]
"""

import argparse
import json
import os
import sys

import jax

jax.config.update("jax_enable_x64", True)

from spectral_jax.dynamics import plot_welper_sweep  # noqa: E402
from spectral_jax.dynamics._welper import welper_sweep  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--small", action="store_true", help="widths 16..256, 800 steps")
    ap.add_argument("--out", default="./out_examples")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if args.small:
        kw = dict(widths=(16, 32, 64, 128, 256), steps=800, record_every=50)
    else:
        kw = dict(widths=(32, 64, 128, 256, 512, 1024, 2048), steps=8000, record_every=100)
    w = welper_sweep(**kw)
    for r in w.runs:
        print(
            f"m={r.width:5d} {r.scaling:8s} eta={r.lr:.3g} eta*lambda_max={r.lr_lambda:.2f} "
            f"stable={r.stable!s:5s} error {r.initial_error:.3f} -> {r.final_error:.2e} "
            f"(least squares {r.ls_error:.1e}) drift {r.drift_max:.3f} = "
            f"{r.drift_over_spacing:.1f} spacings"
        )
    for name in ("error_fit", "ls_fit", "drift_fit"):
        f = getattr(w, name)
        print(f"{name}: m^{f.summary()}" if f else f"{name}: n/a")
    plot_welper_sweep(w, os.path.join(args.out, "dynamics_welper.png"))
    with open(os.path.join(args.out, "dynamics_welper.json"), "w") as fh:
        json.dump(
            [dict(width=r.width, scaling=r.scaling, lr=r.lr, stable=r.stable,
                  final_error=r.final_error, drift=r.drift_max) for r in w.runs],
            fh,
        )  # fmt: skip
    lam = w.select("lambda")
    ok_isq = all(r.stable for r in w.select("inv_sqrt"))
    ok_sq = any(not r.stable for r in w.select("sqrt") if r.lr_lambda > 2)
    ok_lam = max(r.lambda_max for r in lam) < 2 * min(r.lambda_max for r in lam)
    ok_drift = lam[-1].drift_max < lam[0].drift_max and (
        lam[-1].drift_over_spacing > lam[0].drift_over_spacing
    )
    if not (ok_isq and ok_sq and ok_lam and ok_drift):
        print(
            f"CHECK FAILED: h/sqrt(m) stable {ok_isq}, h sqrt(m) unstable past 2 {ok_sq}, "
            f"lambda_max O(1) {ok_lam}, drift down / drift per spacing up {ok_drift}"
        )
        sys.exit(1)
    print(
        "check passed: lambda_max is O(1) in m; h/sqrt(m) is stable at every width, h sqrt(m) "
        "is not once eta lambda_max > 2; the drift shrinks but grows relative to the spacing"
    )


if __name__ == "__main__":
    main()
