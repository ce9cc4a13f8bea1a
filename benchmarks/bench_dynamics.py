"""Training dynamics benchmarks: scan vs Python loop, fast 1D path vs generic, record
memory, and B networks trained by one vmapped scan (`train_many`) vs a loop over `train`.

Run: ``python3 benchmarks/bench_dynamics.py [--quick]``. Timings of ours and the reference
are interleaved (alternating rounds) so machine load hits both alike; the load average
is recorded in the JSON.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks._common import (  # noqa: E402
    block,
    enable_x64,
    markdown_table,
    measured_copy_gbs,
    peak_rss_mb,
    timeit_interleaved,
    write_results,
)

enable_x64()

import os  # noqa: E402
import time  # noqa: E402

import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from spectral_jax.domains import Interval  # noqa: E402
from spectral_jax.dynamics import Euler, loss_domain, train, train_many  # noqa: E402
from spectral_jax.dynamics._engine import TrainingProblem as Problem  # noqa: E402
from spectral_jax.networks import ShallowNetwork, alternating_network  # noqa: E402
from spectral_jax.quadrature import gauss_legendre  # noqa: E402
from spectral_jax.targets import get_target  # noqa: E402


def _net(n):
    return alternating_network(n, "relu")


def _dom(N):
    return loss_domain(get_target("sin4"), gauss_legendre(Interval(), 8, panels=N // 8))


def bench_scan_vs_loop(steps, rounds=5):
    net, dom = _net(100), _dom(200)
    params, static = eqx.partition(net, eqx.is_inexact_array)
    prob = Problem(static, dom, False)
    lr = 1e-3

    @eqx.filter_jit
    def one(p):
        g = prob.grad(p)
        return jax.tree_util.tree_map(lambda a, b: a - lr * b, p, g)

    block(one(params))

    def loop():
        p = params
        for _ in range(steps):
            p = one(p)
        return block(p)

    def run_scan():
        return train(
            net,
            dom,
            stepper=Euler(lr),
            steps=steps,
            record_every=steps // 10,
            fast1d=False,
            progress=False,
        ).loss

    t0 = time.perf_counter()
    run_scan()
    first = time.perf_counter() - t0
    # alternating rounds (scan, loop, scan, loop, ...): load hits both sides alike
    t = interleaved(run_scan, loop, rounds=rounds, inner=1)
    return dict(
        what="train (one jitted lax.scan) vs a Python loop of one jitted step, "
        f"alternating rounds ({rounds}); ratio = median over rounds of loop/scan",
        steps=steps,
        rounds=rounds,
        scan_median_s=t["a_median_s"],
        loop_median_s=t["b_median_s"],
        scan_min_s=t["a_min_s"],
        loop_min_s=t["b_min_s"],
        scan_compile_s=first - t["a_median_s"],
        ratio=t["b_over_a"],
        ratio_of_medians=t["b_median_s"] / t["a_median_s"],
        ratio_of_min=t["b_min_s"] / t["a_min_s"],
        load_avg=os.getloadavg(),
    )


def interleaved(fa, fb, *, rounds=15, inner=5):
    """Median seconds per call of `fa` and `fb`, timed in alternating rounds."""
    t = timeit_interleaved({"a": fa, "b": fb}, rounds=rounds, inner=inner)
    return dict(
        a_median_s=t["a"]["median_s"],
        b_median_s=t["b"]["median_s"],
        a_min_s=t["a"]["min_s"],
        b_min_s=t["b"]["min_s"],
        # median over rounds of the per-round ratio (odd rounds: 1/median(b/a) is it)
        b_over_a=float(np.median(np.asarray(t["b"]["per_round_s"]) / t["a"]["per_round_s"])),
        a_over_b=float(np.median(np.asarray(t["a"]["per_round_s"]) / t["b"]["per_round_s"])),
    )


def bench_fast1d(N, n):
    """Value + gradient of the loss, float64, as `train` evaluates it (`Problem`): N nodes,
    n neurons. The fast path's nodes are sorted once when the problem is built."""
    net, dom = _net(n), _dom(N)
    params, static = eqx.partition(net, eqx.is_inexact_array)
    t0 = time.perf_counter()
    pf = Problem(static, dom, True)  # sorts the nodes once
    setup_s = time.perf_counter() - t0
    pg = Problem(static, dom, False)
    vg = jax.jit(lambda pr, p: pr.loss_and_grad(p))

    def euler_scan(pr, p, k=100):  # k Euler steps inside one scan: no dispatch per step
        body = lambda c, _: (jax.tree_util.tree_map(lambda a, g: a - 1e-3 * g, c, pr.grad(c)), None)  # noqa: E731
        return jax.lax.scan(body, p, None, length=k)[0]

    sc = jax.jit(euler_scan)
    t0 = time.perf_counter()
    block(vg(pg, params))
    gen_compile = time.perf_counter() - t0
    t0 = time.perf_counter()
    a, b = block(vg(pf, params))
    fast_compile = time.perf_counter() - t0
    g = block(vg(pg, params))
    err = max(
        float(jnp.max(jnp.abs(x - y)) / jnp.max(jnp.abs(y)))
        for x, y in zip(jax.tree_util.tree_leaves(b), jax.tree_util.tree_leaves(g[1]), strict=True)
    )
    hlo = vg.lower(pf, params).compile().as_text()
    has_sort = " sort(" in hlo
    t = interleaved(lambda: vg(pg, params), lambda: vg(pf, params))
    ts = interleaved(lambda: sc(pg, params), lambda: sc(pf, params), rounds=7, inner=1)
    # bytes of the generic step: the N x n preactivation/feature arrays, read+written ~4 times
    nbytes = 4 * N * n * 8
    return dict(
        what="one jitted value_and_grad call per sample (dispatch included); scan100_*: "
        "100 Euler steps in one lax.scan (per-step cost without dispatch)",
        N_nodes=N,
        n_neurons=n,
        rounds="15 rounds of 5 calls each side, alternating; scan100: 7 rounds of 1",
        generic_median_s=t["a_median_s"],
        fast_median_s=t["b_median_s"],
        ratio=t["a_over_b"],
        ratio_of_medians=t["a_median_s"] / t["b_median_s"],
        ratio_of_min=t["a_min_s"] / t["b_min_s"],
        load_avg=os.getloadavg(),
        grad_rel_err=err,
        loss_rel_err=float(abs(a - g[0]) / abs(g[0])),
        fast_step_has_sort=has_sort,
        node_sort_once_s=setup_s,
        generic_compile_s=gen_compile,
        fast_compile_s=fast_compile,
        generic_bytes_per_s=nbytes / t["a_median_s"],
        scan100_generic_median_s=ts["a_median_s"],
        scan100_fast_median_s=ts["b_median_s"],
        scan_ratio=ts["a_over_b"],
        scan_ratio_of_medians=ts["a_median_s"] / ts["b_median_s"],
        scan_ratio_of_min=ts["a_min_s"] / ts["b_min_s"],
    )


def bench_many(B, steps, width=32, N=128):
    """B networks (different keys), Euler, outer+biases trained: `train_many` (one jitted
    scan over a vmapped step) vs a Python loop of `train` over the B networks."""
    import jax.random as jr

    dom = _dom(N)

    def make(k):
        k1, k2 = jr.split(k)
        net = alternating_network(
            width, "relu", biases=jr.uniform(k2, (width,), minval=-1.0, maxval=1.0)
        )
        outer = net.outer * (1 + 0.1 * jr.normal(k1, (width,)))
        return ShallowNetwork(outer, net.weights, net.biases, "relu")

    nets = [make(k) for k in jr.split(jr.key(0), B)]
    kw = dict(
        stepper=Euler(1e-2),
        steps=steps,
        record_every=steps // 10,
        trainable="outer,biases",
        progress=False,
    )
    t0 = time.perf_counter()
    tb = train_many(nets, dom, **kw)
    many_first = time.perf_counter() - t0
    t0 = time.perf_counter()
    train(nets[0], dom, **kw)
    loop_first = time.perf_counter() - t0
    err = max(
        float(np.max(np.abs(train(nets[i], dom, **kw).loss - tb.loss[i]) / tb.loss[i]))
        for i in (0, B - 1)
    )

    def loop():
        return [train(m, dom, **kw).loss for m in nets]

    t = interleaved(lambda: train_many(nets, dom, **kw).loss, loop, rounds=3, inner=1)
    return dict(
        B=B,
        steps=steps,
        width=width,
        N_nodes=N,
        fast1d=tb.metadata["fast1d"],
        many_median_s=t["a_median_s"],
        loop_median_s=t["b_median_s"],
        many_net_steps_per_s=B * steps / t["a_median_s"],
        loop_net_steps_per_s=B * steps / t["b_median_s"],
        ratio=t["b_over_a"],
        ratio_of_min=t["b_min_s"] / t["a_min_s"],
        many_first_call_s=many_first,
        loop_first_call_s=loop_first,
        max_loss_rel_err=err,
    )


def bench_long_run(steps):
    """Fast-path Euler steps recorded every 1000 (16 Fourier modes): wall time, record size."""
    from spectral_jax.dynamics import fourier_modes

    net, dom = _net(64), _dom(256)
    tr = fourier_modes(dom, 16)
    rss0 = peak_rss_mb()
    t0 = time.perf_counter()
    traj = train(
        net,
        dom,
        stepper=Euler(1e-3),
        steps=steps,
        record_every=1000,
        trainable="outer,biases",
        mode_tracker=tr,
        progress=False,
    )
    wall = time.perf_counter() - t0
    rec_bytes = sum(
        a.nbytes
        for a in (
            traj.steps,
            traj.loss,
            traj.param_norm,
            traj.drift,
            traj.drift_max,
            traj.mode_errors,
        )
    )
    return dict(
        steps=steps,
        wall_s_incl_compile=wall,
        steps_per_s=steps / wall,
        record_bytes=rec_bytes,
        peak_rss_growth_mb=peak_rss_mb() - rss0,
        fast1d=traj.metadata["fast1d"],
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller step counts")
    ap.add_argument("--out", default=None, help="results folder (default benchmarks/results)")
    args = ap.parse_args()
    steps = 2000 if args.quick else 10_000
    res = dict(load_avg_start=os.getloadavg())
    res["scan_vs_loop"] = bench_scan_vs_loop(steps, rounds=3 if args.quick else 5)
    res["fast1d"] = bench_fast1d(2000, 1000)
    res["fast1d_swapped"] = bench_fast1d(1000, 2000)
    res["many"] = bench_many(64, 500 if args.quick else 2000)
    res["long_run"] = bench_long_run(100_000 if args.quick else 1_000_000)
    res["copy_gbs"] = measured_copy_gbs()
    res["fast1d"]["generic_fraction_of_copy_bw"] = res["fast1d"]["generic_bytes_per_s"] / (
        res["copy_gbs"] * 1e9
    )
    res["load_avg_end"] = os.getloadavg()
    s, f, f2, mb = res["scan_vs_loop"], res["fast1d"], res["fast1d_swapped"], res["many"]
    print(
        markdown_table(
            ["case", "ours (s)", "reference (s)", "ratio (median of rounds)", "ratio of minima"],
            [
                [
                    f"scan vs loop, {s['steps']} steps, n=100, N=200",
                    s["scan_median_s"],
                    s["loop_median_s"],
                    s["ratio"],
                    s["ratio_of_min"],
                ],
                [
                    "fast 1D vs generic value+grad, N=2000 nodes, n=1000 neurons",
                    f["fast_median_s"],
                    f["generic_median_s"],
                    f["ratio"],
                    f["ratio_of_min"],
                ],
                [
                    "fast 1D vs generic value+grad, N=1000 nodes, n=2000 neurons",
                    f2["fast_median_s"],
                    f2["generic_median_s"],
                    f2["ratio"],
                    f2["ratio_of_min"],
                ],
                [
                    "  same, 100 Euler steps in one scan, N=2000 nodes, n=1000",
                    f["scan100_fast_median_s"],
                    f["scan100_generic_median_s"],
                    f["scan_ratio"],
                    f["scan_ratio_of_min"],
                ],
                [
                    f"train_many vs loop of train, B={mb['B']}, {mb['steps']} steps, "
                    f"width {mb['width']}, N={mb['N_nodes']}",
                    mb["many_median_s"],
                    mb["loop_median_s"],
                    mb["ratio"],
                    mb["ratio_of_min"],
                ],
            ],
        )
    )
    print(
        f"load average {res['load_avg_start']} -> {res['load_avg_end']}; fast step has a "
        f"sort: {f['fast_step_has_sort']}; train_many {mb['many_net_steps_per_s']:.3g} vs loop "
        f"{mb['loop_net_steps_per_s']:.3g} network-steps/s (loss rel err "
        f"{mb['max_loss_rel_err']:.1e})"
    )
    print(
        f"scan compile ~{s['scan_compile_s']:.2f} s; fast1d grad rel err {f['grad_rel_err']:.2e}; "
        f"generic achieved {f['generic_bytes_per_s'] / 1e9:.2f} GB/s "
        f"vs copy {res['copy_gbs']:.2f} GB/s"
    )
    lr_ = res["long_run"]
    print(
        f"{lr_['steps']} steps (fast path, n=64, N=256, 16 modes): "
        f"{lr_['wall_s_incl_compile']:.1f} s, "
        f"records {lr_['record_bytes'] / 1e3:.0f} kB, "
        f"peak RSS growth {lr_['peak_rss_growth_mb']:.0f} MB"
    )
    write_results("dynamics", res, Path(args.out) if args.out else None)


if __name__ == "__main__":
    main()
