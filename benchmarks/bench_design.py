"""Benchmark: inverse design time vs FFT grid size (fitted exponent; O(N log N) expected),
the cost of a designed (tabulated) activation inside a network vs the built-in one, and
`activation_spectrum` on a uniform band by its FFT route vs the direct sum.

Usage: python benchmarks/bench_design.py [--quick] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import enable_x64, markdown_table, timeit, write_results  # noqa: E402

enable_x64()

import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from spectral_jax.activations import Cauchy  # noqa: E402
from spectral_jax.design import activation_spectrum, design_activation  # noqa: E402
from spectral_jax.networks import ShallowNetwork  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="fewer sizes and repeats")
    ap.add_argument("--out", default=None, help="results directory")
    args = ap.parse_args()
    reps = 3 if args.quick else 7
    # 1) design time vs grid size: same target, wider z-window -> N grows ~ linearly
    widths = [64.0, 256.0, 1024.0] if args.quick else [64.0, 256.0, 1024.0, 4096.0, 16384.0]
    design_rows = []
    for Z in widths:

        def f(Z=Z):
            return design_activation(
                "exp(2*abs(k))", band=(0.2, 6.0), accuracy=1e-4, half_width=Z, diagnostics=False
            ).activation.values

        t = timeit(f, repeats=reps)
        n = design_activation(
            "exp(2*abs(k))", band=(0.2, 6.0), accuracy=1e-4, half_width=Z, diagnostics=False
        ).points
        design_rows.append({"points": n, **t})
        print(f"design N={n:8d}: median {t['median_s'] * 1e3:8.2f} ms", flush=True)
    ns = np.array([r["points"] for r in design_rows], float)
    ts = np.array([r["median_s"] for r in design_rows])
    big = ns >= 1 << 14
    exponent = float(
        np.polyfit(
            np.log(ns[big] if big.sum() >= 2 else ns), np.log(ts[big] if big.sum() >= 2 else ts), 1
        )[0]
    )
    # 2) evaluation cost inside a network: designed Cauchy/pi vs built-in Cauchy
    r = design_activation("exp(2*abs(k))", band=(0.2, 6.0), accuracy=1e-4)
    m, n, d = (2048, 512, 2) if args.quick else (8192, 2048, 2)
    key = jax.random.key(0)
    k1, k2, k3 = jax.random.split(key, 3)
    x = jax.random.normal(k1, (m, d))
    w = jax.random.normal(k2, (n, d))
    b = jax.random.normal(k3, (n,))
    eval_rows = []
    runs = {}
    for label, act in (("built-in cauchy", Cauchy()), ("designed (tabulated)", r.activation)):
        net = ShallowNetwork(jnp.ones(n) / n, w, b, act)
        fwd = eqx.filter_jit(lambda net, x: net.batch(x))
        grad = eqx.filter_jit(jax.grad(lambda net, x: jnp.sum(net.batch(x) ** 2)))
        runs[label] = (
            lambda net=net, fwd=fwd: fwd(net, x),
            lambda net=net, grad=grad: grad(net, x).biases,
        )
    # interleaved rounds (built-in, designed, built-in, ...) so that both see the same load;
    # the first call (compile) is reported separately
    rounds = 2 if args.quick else 4
    samples = {lab: {"forward": [], "grad": [], "first": {}} for lab in runs}
    for rnd in range(rounds):
        for lab, (f_fwd, f_grad) in runs.items():
            for kind, f in (("forward", f_fwd), ("grad", f_grad)):
                t = timeit(f, repeats=max(2, reps // 2), warmup=1 if rnd == 0 else 0)
                samples[lab][kind].append(t["median_s"])
                if rnd == 0:
                    samples[lab]["first"][kind] = t["first_call_s"]
    for lab, smp in samples.items():
        row = {"activation": lab}
        for kind in ("forward", "grad"):
            v = np.array(smp[kind])
            row[kind] = {
                "median_s": float(np.median(v)),
                "min_s": float(v.min()),
                "max_s": float(v.max()),
                "rounds": rounds,
                "first_call_s": smp["first"][kind],
            }
        eval_rows.append(row)
        print(
            f"{lab:22s} forward {row['forward']['median_s'] * 1e3:8.3f} ms  "
            f"grad {row['grad']['median_s'] * 1e3:8.3f} ms  (load {os.getloadavg()[0]:.1f})",
            flush=True,
        )
    ratio_f = eval_rows[1]["forward"]["median_s"] / eval_rows[0]["forward"]["median_s"]
    ratio_g = eval_rows[1]["grad"]["median_s"] / eval_rows[0]["grad"]["median_s"]
    print(
        markdown_table(
            ["N", "design median (ms)", "compile/first (ms)"],
            [
                [r_["points"], r_["median_s"] * 1e3, (r_["first_call_s"] or 0) * 1e3]
                for r_ in design_rows
            ],
        )
    )
    print(
        f"fitted exponent of design time vs N (N >= 2^14): {exponent:.2f} (FFT-bound: ~1 up to log)"
    )
    print(f"load average (1, 5, 15 min): {os.getloadavg()}")
    print(
        f"designed / built-in: forward {ratio_f:.2f}x, grad {ratio_g:.2f}x  "
        f"(network {m} x {n}, d = {d})"
    )
    # 3) |F[phi]|^2 on a uniform band: FFT bins vs the direct sum (same grids, same values)
    spec_rows = []
    kband = jnp.linspace(0.0, 8.0, 129 if args.quick else 513)
    for name in ("relu", "gelu", "softplus"):
        out = {}
        for meth in ("fft", "direct"):
            if args.quick and name == "softplus" and meth == "direct":
                continue  # ~15 s: only in the full run
            t = timeit(
                lambda meth=meth, name=name: activation_spectrum(
                    name, kband, accuracy=1e-8, method=meth
                ),
                repeats=1 if name == "softplus" else 3,
            )
            r = activation_spectrum(name, kband, accuracy=1e-8, method=meth, full_output=True)
            out[meth] = dict(
                t, points=r.points, values=np.asarray(r.values), resolved=np.asarray(r.resolved)
            )
        row = {"activation": name, "k": [0.0, 8.0, int(kband.size)], "accuracy": 1e-8}
        for meth, o in out.items():
            row[meth] = {k_: v for k_, v in o.items() if k_ not in ("values", "resolved")}
        if len(out) == 2:  # compared where both resolve the value (above the rounding floor)
            a, b_ = out["fft"]["values"], out["direct"]["values"]
            ok = out["fft"]["resolved"] & out["direct"]["resolved"] & np.isfinite(a)
            row["max_rel_diff"] = float(np.max(np.abs(a[ok] / b_[ok] - 1)))
            row["speedup"] = out["direct"]["median_s"] / out["fft"]["median_s"]
        spec_rows.append(row)
        print(
            f"activation_spectrum {name:9s} K={kband.size}: fft {out['fft']['median_s']:.3f} s"
            + (
                f", direct {out['direct']['median_s']:.3f} s, speed-up {row['speedup']:.1f}x, "
                f"max rel diff {row['max_rel_diff']:.1e} (grid {out['fft']['points']})"
                if "speedup" in row
                else ""
            ),
            flush=True,
        )
    write_results(
        "design",
        {
            "spectrum_fft_vs_direct": spec_rows,
            "design": design_rows,
            "design_exponent": exponent,
            "eval": eval_rows,
            "ratio_forward": ratio_f,
            "ratio_grad": ratio_g,
            "eval_sizes": {"m": m, "n": n, "d": d},
            "load_average": os.getloadavg(),
        },
        Path(args.out) if args.out else None,
    )


if __name__ == "__main__":
    main()
