"""Gradient flow by adaptive diffrax solvers (`gradient_flow`) vs Euler (`train`) at the
same accuracy, on the seeds' shallow ReLU network fitting sin(4 pi x).

Accuracy is the error of the final parameters against a tight-tolerance reference
(Dopri8, rtol 1e-12): ``max|theta - theta_ref| / max|theta_ref|``. Euler's error is first
order in the step, so from its measured errors at three step sizes we fit
``err = C lr^p`` and read off the step (hence the number of steps and, at the measured
time per step, the cost) Euler needs for each adaptive run's accuracy. Cost is reported
per unit of flow time (seconds, gradient evaluations). Two cases:

- ``trained biases`` (outer weights + biases, the seeds' setting): the discrete loss's
  gradient jumps where a breakpoint b_i/w_i crosses a quadrature node, so error control
  spends steps at every crossing;
- ``fixed biases`` (outer weights only): a linear flow, smooth but stiff (the Gram
  matrix's condition number is huge), where the implicit Kvaerno5 is meant to shine.

Gradient evaluations are counted by a host callback; an implicit solver's Jacobian (one
batched forward-mode call of P directions) counts as one, so Kvaerno5's counts understate
its work — compare its times.

Besides the extrapolation, each adaptive run whose accuracy Euler reaches in at most
200,000 steps is **measured** against Euler at that step (its actual error recorded):
both timed in alternating rounds, ratio of medians and ratio of minima (``direct``).

Run: ``python3 benchmarks/bench_flow.py [--quick] [--out DIR]``. Timings of the runs of
one case are interleaved (alternating rounds); the load average is recorded.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import (  # noqa: E402
    enable_x64,
    markdown_table,
    timeit_interleaved,
    write_results,
)

enable_x64()

import diffrax  # noqa: E402
import jax  # noqa: E402
import numpy as np  # noqa: E402

from spectral_jax.domains import Interval  # noqa: E402
from spectral_jax.dynamics import (  # noqa: E402
    Euler,
    gauss_newton_lmax,
    gradient_flow,  # noqa: E402
    loss_domain,
    train,
)
from spectral_jax.networks import alternating_network  # noqa: E402
from spectral_jax.quadrature import gauss_legendre  # noqa: E402
from spectral_jax.targets import get_target  # noqa: E402


def _setting(n, panels):
    net = alternating_network(n, "relu")
    dom = loss_domain(get_target("sin4"), gauss_legendre(Interval(), 8, panels=panels))
    return net, dom


def _theta(model, trainable):
    parts = {"outer": model.outer, "biases": model.biases}
    return np.concatenate([np.ravel(np.asarray(parts[k])) for k in trainable.split(",")])


def run_case(name, trainable, t1, n, panels, flows, euler_divs, rounds, max_direct_steps=200_000):
    net, dom = _setting(n, panels)
    lmax = float(gauss_newton_lmax(net, dom, trainable))
    ref = gradient_flow(
        net, dom, t1, solver="dopri8", rtol=1e-12, atol=1e-14, trainable=trainable,
        max_steps=400_000,
    )  # fmt: skip
    assert ref.completed, ref.stopped
    th_ref = _theta(ref.model, trainable)
    scale = np.max(np.abs(th_ref))

    def err(model):
        return float(np.max(np.abs(_theta(model, trainable) - th_ref)) / scale)

    fns, rows = {}, {}
    for solver, rtol in flows:
        kw = dict(solver=solver, rtol=rtol, atol=rtol * 1e-3, trainable=trainable)
        tr = gradient_flow(net, dom, t1, count_evaluations=True, max_steps=200_000, **kw)
        key = f"{solver} rtol={rtol:g}"
        rows[key] = dict(
            kind="adaptive",
            solver=solver,
            rtol=rtol,
            completed=tr.completed,
            error=err(tr.model),
            loss_monotone=bool(np.all(np.diff(tr.loss) <= 0)),
            **tr.stats,
        )
        fns[key] = lambda kw=kw: gradient_flow(net, dom, t1, max_steps=200_000, **kw).loss
    for div in euler_divs:
        lr = 1.0 / (lmax * div)
        steps = int(np.ceil(t1 / lr))
        lr = t1 / steps  # land on t1 exactly
        kw = dict(stepper=Euler(lr), steps=steps, record_every=steps, trainable=trainable)
        tr = train(net, dom, progress=False, **kw)
        key = f"euler lr={lr:.3g}"
        rows[key] = dict(kind="euler", lr=lr, steps=steps, error=err(tr.model))
        fns[key] = lambda kw=kw: train(net, dom, progress=False, **kw).loss
    times = timeit_interleaved(fns, rounds=rounds, warmup=1)
    for k, r in rows.items():
        r["median_s"] = times[k]["median_s"]
        r["min_s"] = times[k]["min_s"]
        r["first_call_s"] = times[k]["first_call_s"]
        r["s_per_unit_time"] = r["median_s"] / t1
        evals = r.get("vector_field_evaluations", r.get("steps"))
        r["grad_evals_per_unit_time"] = evals / t1
    # Euler's error model err = C lr^p, fitted on the measured points
    eu = [r for r in rows.values() if r["kind"] == "euler" and r["error"] > 0]
    p, logc = np.polyfit(np.log([r["lr"] for r in eu]), np.log([r["error"] for r in eu]), 1)
    # Euler's time per call = overhead + steps * time per step (fitted on the three runs)
    s_per_step, overhead = np.polyfit([r["steps"] for r in eu], [r["median_s"] for r in eu], 1)
    s_per_step, overhead = float(s_per_step), max(float(overhead), 0.0)
    for r in rows.values():
        if r["kind"] != "adaptive":
            continue
        lr_need = float(np.exp((np.log(r["error"]) - logc) / p))
        steps_need = t1 / lr_need
        r["euler_steps_same_accuracy"] = steps_need
        r["euler_s_same_accuracy"] = overhead + steps_need * s_per_step
        r["speedup_vs_euler"] = r["euler_s_same_accuracy"] / r["median_s"]
        r["grad_eval_ratio_vs_euler"] = steps_need / r["vector_field_evaluations"]
    # measured, not extrapolated: Euler at the step its error model gives for each adaptive
    # run's accuracy, timed against that run in alternating rounds (where it is affordable)
    for key, r in list(rows.items()):
        if r["kind"] != "adaptive" or r["euler_steps_same_accuracy"] > max_direct_steps:
            continue
        steps = int(np.ceil(r["euler_steps_same_accuracy"]))
        lr = t1 / steps
        ekw = dict(stepper=Euler(lr), steps=steps, record_every=steps, trainable=trainable)
        eu = train(net, dom, progress=False, **ekw)
        pair = {key: fns[key], "euler": lambda ekw=ekw: train(net, dom, progress=False, **ekw).loss}
        tt = timeit_interleaved(pair, rounds=rounds, warmup=1)
        r["direct"] = dict(
            euler_steps=steps,
            euler_error=err(eu.model),
            adaptive_median_s=tt[key]["median_s"],
            euler_median_s=tt["euler"]["median_s"],
            ratio_of_medians=tt["euler"]["median_s"] / tt[key]["median_s"],
            ratio_of_minima=tt["euler"]["min_s"] / tt[key]["min_s"],
            loadavg=list(os.getloadavg()),
        )
    return dict(
        case=name,
        trainable=trainable,
        t1=t1,
        width=n,
        nodes=8 * panels,
        lambda_max=lmax,
        reference=dict(solver="dopri8", rtol=1e-12, **ref.stats),
        euler_order_fit=float(p),
        euler_s_per_step=s_per_step,
        euler_s_overhead=overhead,
        runs=rows,
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small sizes")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    n, panels, rounds = (24, 12, 3) if args.quick else (64, 64, 5)
    load0 = os.getloadavg()
    flows = [("tsit5", 1e-4), ("tsit5", 1e-6), ("tsit5", 1e-8), ("kvaerno5", 1e-6)]
    cases = [
        run_case("trained biases", "outer,biases", 10.0, n, panels, flows, (1, 4, 16), rounds),
        run_case("fixed biases", "outer", 100.0, n, panels, flows, (1, 4, 16), rounds),
    ]
    load1 = os.getloadavg()
    payload = dict(
        quick=args.quick,
        load_avg_start=load0,
        load_avg_end=load1,
        diffrax=diffrax.__version__,
        jax_x64=bool(jax.config.jax_enable_x64),
        cases=cases,
    )
    path = write_results("flow", payload, args.out)
    for c in cases:
        print(
            f"\n### {c['case']} (width {c['width']}, {c['nodes']} nodes, t1 = {c['t1']:g}, "
            f"lambda_max = {c['lambda_max']:.3g}; Euler order fit {c['euler_order_fit']:.2f}, "
            f"{c['euler_s_per_step'] * 1e6:.1f} us/step + {c['euler_s_overhead'] * 1e3:.1f} ms)"
        )
        hdr = ["run", "error", "steps (rej.)", "grad evals / t", "Euler grad evals / t",
               "s / t", "Euler s / t", "speedup"]  # fmt: skip
        rows = []
        for k, r in c["runs"].items():
            if r["kind"] == "adaptive":
                rows.append([
                    k, r["error"], f"{r['num_steps']} ({r['num_rejected_steps']})",
                    r["grad_evals_per_unit_time"], r["euler_steps_same_accuracy"] / c["t1"],
                    r["s_per_unit_time"], r["euler_s_same_accuracy"] / c["t1"],
                    r["speedup_vs_euler"],
                ])  # fmt: skip
            else:
                rows.append([k, r["error"], r["steps"], r["grad_evals_per_unit_time"], "-",
                             r["s_per_unit_time"], "-", "-"])  # fmt: skip
        print(markdown_table(hdr, rows))
        for k, r in c["runs"].items():
            d = r.get("direct")
            if d:
                print(
                    f"  measured at equal accuracy, {k}: Euler {d['euler_steps']} steps (error "
                    f"{d['euler_error']:.2e} vs {r['error']:.2e}): ratio of medians "
                    f"{d['ratio_of_medians']:.2f}, of minima {d['ratio_of_minima']:.2f}"
                )
    print(f"\nload average start {load0}, end {load1}; wrote {path}")


if __name__ == "__main__":
    main()
