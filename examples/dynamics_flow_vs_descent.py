"""Gradient flow against gradient descent on the seeds' fixed-bias ReLU network (a linear,
stiff flow), in flow time t = eta k.

The exact flow (`outer_flow`: one eigendecomposition) is the reference; the implicit
Kvaerno5 solver of `gradient_flow` (Tsit5 in the --small smoke run) follows it within its
tolerance; gradient descent at
eta = c / lambda_max follows it in flow time for c < 2 (monotone loss) and oscillates and
grows for c > 2 — the instability that a step size fixed from a stale lambda_max produces.

Usage: python examples/dynamics_flow_vs_descent.py [--small] [--out DIR]
"""

import argparse
import json
import os
import sys

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402

from spectral_jax.dynamics import gradient_flow, outer_flow, plot_flow_vs_descent  # noqa: E402
from spectral_jax.dynamics._mode_study import sum_of_modes_problem  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--small", action="store_true", help="width 16, 128 nodes, Tsit5")
    ap.add_argument("--out", default="./out_examples")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    width, M = (16, 4) if args.small else (64, 8)
    net, dom, tracker = sum_of_modes_problem(width, M, "relu", panels=16)
    exact = outer_flow(net, dom, tracker)
    lam = exact.lambda_max
    t1 = 2000.0 / lam * (10 if not args.small else 1)
    ts = np.concatenate([[0.0], np.geomspace(0.01 / lam, t1, 60)])
    rtol, atol = 1e-7, 1e-10
    solver = "tsit5" if args.small else "kvaerno5"  # the implicit solver compiles slowly
    flow = gradient_flow(net, dom, t1, solver=solver, rtol=rtol, atol=atol,
                         trainable="outer", saveat_times=ts)  # fmt: skip
    ref = exact.loss(ts)
    err_flow = float(np.max(np.abs(flow.loss - ref)) / ref[0])
    curves = {"exact flow": (ts, ref), f"{solver} (rtol 1e-7)": (flow.times, flow.loss)}
    out = dict(lambda_max=lam, kvaerno5_rel_error=err_flow, descent={})
    monotone = {}
    for c in (0.5, 1.9, 2.1):
        lr = c / lam
        k = np.unique(np.round(ts / lr)).astype(int)
        with np.errstate(over="ignore", invalid="ignore"):  # c = 2.1 grows without bound
            R = exact.descent_residuals(k, lr)
            loss = 0.5 * np.sum(np.asarray(dom.weights)[None, :] * R * R, axis=1)
            monotone[c] = bool(np.all(np.diff(loss) <= 1e-15 * loss[0]))
        curves[f"descent, eta = {c:g}/lambda_max"] = (k * lr, loss)
        with np.errstate(invalid="ignore"):
            gap = float(np.max(np.abs(loss - exact.loss(k * lr))) / ref[0])
        out["descent"][str(c)] = dict(monotone=monotone[c], max_gap_vs_flow=gap)
        print(f"descent c = {c}: monotone {monotone[c]}, max |E_k - E(t = eta k)| / E0 {gap:.2e}")
    print(f"{solver} vs exact flow: max |E - E_exact| / E0 = {err_flow:.2e} ({flow.stats})")
    plot_flow_vs_descent(curves, os.path.join(args.out, "dynamics_flow_vs_descent.png"),
                         title=f"fixed biases, width {width}: flow vs descent")  # fmt: skip
    with open(os.path.join(args.out, "dynamics_flow_vs_descent.json"), "w") as fh:
        json.dump(out, fh)
    ok = err_flow < 1e-5 and monotone[0.5] and monotone[1.9] and not monotone[2.1]
    if not ok:
        print(f"CHECK FAILED: flow error {err_flow:.1e}, monotone {monotone}")
        sys.exit(1)
    print(f"check passed: {solver} follows the exact flow; descent is monotone below c = 2 only")


if __name__ == "__main__":
    main()
