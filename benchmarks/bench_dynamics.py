"""Training dynamics benchmarks: scan vs Python loop, fast 1D path vs generic, record memory.

Run: ``python3 benchmarks/bench_dynamics.py [--quick]``.
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
    timeit,
    write_results,
)

enable_x64()

import time  # noqa: E402

import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

from spectral_jax.domains import Interval  # noqa: E402
from spectral_jax.dynamics import Euler, fast1d_outputs, loss_domain, train  # noqa: E402
from spectral_jax.dynamics._train import Problem  # noqa: E402
from spectral_jax.networks import ShallowNetwork, uniform_biases  # noqa: E402
from spectral_jax.quadrature import gauss_legendre  # noqa: E402
from spectral_jax.targets import get_target  # noqa: E402


def _net(n):
    sign = jnp.where(jnp.arange(n) % 2 == 0, 1.0, -1.0)
    return ShallowNetwork(sign / n, jnp.ones(n), uniform_biases(n), "relu")


def _dom(N):
    return loss_domain(get_target("sin4"), gauss_legendre(Interval(), 8, panels=N // 8))


def bench_scan_vs_loop(steps):
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

    t0 = time.perf_counter()
    train(
        net,
        dom,
        stepper=Euler(lr),
        steps=steps,
        record_every=steps // 10,
        fast1d=False,
        progress=False,
    )
    first = time.perf_counter() - t0
    scan = timeit(
        lambda: (
            train(
                net,
                dom,
                stepper=Euler(lr),
                steps=steps,
                record_every=steps // 10,
                fast1d=False,
                progress=False,
            ).loss
        ),
        repeats=3,
    )
    lp = timeit(loop, repeats=3)
    return dict(
        steps=steps,
        scan_median_s=scan["median_s"],
        loop_median_s=lp["median_s"],
        scan_compile_s=first - scan["median_s"],
        ratio=lp["median_s"] / scan["median_s"],
    )


def bench_fast1d(N, n):
    net, dom = _net(n), _dom(N)
    x, f, q = dom.nodes[:, 0], dom.values, dom.weights
    gen = eqx.filter_jit(
        eqx.filter_value_and_grad(lambda m: 0.5 * jnp.sum(q * (m.batch(dom.nodes) - f) ** 2))
    )
    fast = eqx.filter_jit(
        eqx.filter_value_and_grad(lambda m: 0.5 * jnp.sum(q * (fast1d_outputs(m, x) - f) ** 2))
    )
    a, b = gen(net), fast(net)
    err = float(jnp.max(jnp.abs(a[1].biases - b[1].biases)) / jnp.max(jnp.abs(a[1].biases)))
    tg = timeit(lambda: block(gen(net)), repeats=21, min_time=1.0)
    tf = timeit(lambda: block(fast(net)), repeats=21, min_time=1.0)
    # bytes of the generic step: the N x n preactivation/feature arrays, read+written ~4 times
    nbytes = 4 * N * n * 8
    return dict(
        N=N,
        n=n,
        generic_median_s=tg["median_s"],
        fast_median_s=tf["median_s"],
        ratio=tg["median_s"] / tf["median_s"],
        ratio_of_min=tg["min_s"] / tf["min_s"],
        grad_rel_err=err,
        generic_bytes_per_s=nbytes / tg["median_s"],
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
    args = ap.parse_args()
    steps = 2000 if args.quick else 10_000
    res = dict(scan_vs_loop=bench_scan_vs_loop(steps), fast1d=bench_fast1d(2000, 1000))
    res["long_run"] = bench_long_run(100_000 if args.quick else 1_000_000)
    res["copy_gbs"] = measured_copy_gbs()
    res["fast1d"]["generic_fraction_of_copy_bw"] = res["fast1d"]["generic_bytes_per_s"] / (
        res["copy_gbs"] * 1e9
    )
    s, f = res["scan_vs_loop"], res["fast1d"]
    print(
        markdown_table(
            ["case", "ours (s)", "reference (s)", "ratio"],
            [
                [
                    f"scan vs loop, {s['steps']} steps, n=100, N=200",
                    s["scan_median_s"],
                    s["loop_median_s"],
                    s["ratio"],
                ],
                [
                    "fast 1D vs generic value+grad, N=2000, n=1000",
                    f["fast_median_s"],
                    f["generic_median_s"],
                    f["ratio"],
                ],
            ],
        )
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
    write_results("dynamics", res)


if __name__ == "__main__":
    main()
