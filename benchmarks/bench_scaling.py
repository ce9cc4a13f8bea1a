"""How cost grows with the width n, the node count m, the point count N and the dimension d,
measured on the device at hand, with fitted exponents and projections to large sizes.

    python benchmarks/bench_scaling.py [--quick] [--out benchmarks/results]

Curves (float64, medians, compile time excluded and reported separately):

- Gram assembly vs n (fixed m nodes), vs m (fixed n), and vs d = 1, 2, 3 (box and ball):
  the nodes the refined rule needs for a stated accuracy, and the time at a fixed node
  count; NumPy doing the same product is timed interleaved (ratio).
- ``eigh_spectrum`` vs n, interleaved with ``scipy.linalg.eigh`` (ratio).
- NTK vs N: the 1D ReLU fast path, the structured (matrix) form and the generic Jacobian
  path (``method="jacrev"``); and vs d at fixed N.
- Rashomon Monte Carlo samples/s vs the width n.

Each curve's exponent is a least-squares fit of log(time) against log(size) over the upper
half of the sizes. The script then *projects* (does not measure) the time and memory of
the issue's large sizes -- Gram spectra of n = 20000 features and NTKs of N = 20000 points
in float64 -- on this device (from the measured rates) and on an H100-class GPU from
stated FLOP and bandwidth figures. Memory is the model of what is held (arrays of the
result plus one block), beside the process peak RSS (CPU) or the device's
``peak_bytes_in_use`` (GPU).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import (  # noqa: E402
    RESULTS,
    device_tag,
    enable_x64,
    markdown_table,
    measured_copy_gbs,
    measured_gemm_gflops,
    peak_rss_mb,
    timeit,
    write_results,
)

enable_x64()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
import numpy as np  # noqa: E402
import scipy.linalg  # noqa: E402

import spectral_jax as sj  # noqa: E402
from spectral_jax._style import (  # noqa: E402
    COLORS,
    finish,
    house_style,
    legend,
    log_range,
    new_figure,
    tidy_ticks,
)
from spectral_jax.domains import Ball, Box, Interval  # noqa: E402
from spectral_jax.gram import gram_matrix, gram_matrix_with_error  # noqa: E402
from spectral_jax.networks import ShallowNetwork, iid_biases, random_directions  # noqa: E402
from spectral_jax.ntk import empirical_ntk, structured_ntk  # noqa: E402
from spectral_jax.quadrature import gauss_legendre  # noqa: E402
from spectral_jax.spectrum import eigh_spectrum  # noqa: E402

# Assumed accelerator figures for the projections (H100 SXM, public spec sheet):
# FP64 tensor-core peak 67 TFLOP/s, of which a large DGEMM sustains about 50;
# HBM3 3.35 TB/s, of which a stream sustains about 3; a dense symmetric eigensolver
# (cuSOLVER syevd: tridiagonal reduction is bandwidth-bound) sustains far less, assumed 5.
GPU = {
    "name": "H100-class GPU (assumed figures, not measured)",
    "fp64_gemm_tflops": 50.0,
    "fp64_eigh_tflops": 5.0,
    "bandwidth_tbs": 3.0,
    "memory_gb": 80.0,
}
BIG_N = 20000  # Gram spectra of n = 20000 features (float64)
BIG_NTK = 20000  # NTK of N = 20000 points (float64)


def fit_exponent(sizes, times) -> float:
    """Least-squares slope of log(time) vs log(size) over the upper half of the sizes."""
    s, t = np.log(np.asarray(sizes, float)), np.log(np.asarray(times, float))
    k = len(s) // 2 if len(s) >= 4 else max(0, len(s) - 2)
    return float(np.polyfit(s[k:], t[k:], 1)[0])


def exponents(res: dict, stat: str) -> dict:
    """Fitted exponent of every curve from the ``stat`` ("median_s" or "min_s") times."""

    def t(rows, key="jax"):
        return [r[key][stat] for r in rows]

    ex = {
        "gram_vs_n": fit_exponent([r["n"] for r in res["gram_vs_n"]], t(res["gram_vs_n"])),
        "gram_vs_m": fit_exponent([r["nodes"] for r in res["gram_vs_m"]], t(res["gram_vs_m"])),
        "eigh_vs_n": fit_exponent([r["n"] for r in res["eigh_vs_n"]], t(res["eigh_vs_n"])),
        "scipy_eigh_vs_n": fit_exponent(
            [r["n"] for r in res["eigh_vs_n"]], t(res["eigh_vs_n"], "scipy")
        ),
    }
    for k in ("fast_1d", "structured", "generic_jacrev"):
        rows = res["ntk_vs_N"][k]
        ex[f"ntk_{k}_vs_N"] = fit_exponent([r["N"] for r in rows], t(rows))
    rows = res["rashomon_vs_width"]
    ex["rashomon_time_per_sample_vs_n"] = fit_exponent(
        [r["n"] for r in rows], [r["jax"][stat] / r["num_samples"] for r in rows]
    )
    return ex


def gpu_peak_bytes():
    try:
        st = jax.devices()[0].memory_stats()
        return None if st is None else int(st.get("peak_bytes_in_use", 0))
    except Exception:  # pragma: no cover - backends without memory stats
        return None


def reps_for(seconds_hint: float, quick: bool) -> int:
    return 2 if quick or seconds_hint > 2.0 else 3


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def rel(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


# --- (a) Gram assembly ---------------------------------------------------------------------


def features_1d(n):
    return jnp.ones((n, 1)), iid_biases(n, key=jr.key(1))


def gram_vs_n(ns, m, quick):
    rule = gauss_legendre(Interval(), 4, panels=m // 4)
    x, qw = np.asarray(rule.nodes), np.asarray(rule.weights)
    out = []
    for n in ns:
        W, b = features_1d(n)
        Wn, bn = np.asarray(W), np.asarray(b)

        def np_gram(Wn=Wn, bn=bn):
            S = np.maximum(x @ Wn.T - bn[None, :], 0.0) * np.sqrt(qw)[:, None]
            return S.T @ S

        t = timeit(lambda W=W, b=b: gram_matrix("relu", W, b, rule), repeats=2 if quick else 3)
        tn = timeit(np_gram, repeats=2 if quick else 3, warmup=0)
        err = rel(gram_matrix("relu", W, b, rule), np_gram())
        block = max(1, (32 << 20) // (8 * n))  # gram_matrix's default block (~32 MiB)
        out.append(
            dict(
                n=n,
                nodes=rule.size,
                jax=t,
                numpy=tn,
                ratio_jax_over_numpy=t["median_s"] / tn["median_s"],
                gflops=2.0 * rule.size * n * n / t["median_s"] / 1e9,
                held_mb_model=8 * (n * n + min(block, rule.size) * n) / 2**20,
                peak_rss_mb=peak_rss_mb(),
                gpu_peak_bytes=gpu_peak_bytes(),
                rel_diff_vs_numpy=err,
            )
        )
        log(f"gram n={n}: {t['median_s']:.3g} s (numpy {tn['median_s']:.3g} s)")
    return out


def gram_vs_m(n, ms, quick):
    W, b = features_1d(n)
    out = []
    for m in ms:
        rule = gauss_legendre(Interval(), 4, panels=m // 4)
        t = timeit(lambda rule=rule: gram_matrix("relu", W, b, rule), repeats=2 if quick else 3)
        out.append(dict(n=n, nodes=m, jax=t, gflops=2.0 * m * n * n / t["median_s"] / 1e9))
        log(f"gram m={m}: {t['median_s']:.3g} s")
    return out


def gram_vs_d(n, tol, fixed_m, quick):
    """Per d: nodes the refined Gauss rule needs for ``tol`` (box and ball) and its time,
    then the time at a fixed node count (the cost per node does not depend on d)."""
    out = []
    for d in (1, 2, 3):
        W = jnp.ones((n, 1)) if d == 1 else random_directions(n, d, key=jr.key(0))
        b = iid_biases(n, key=jr.key(1))
        row = dict(d=d, n=n, tol=tol)
        doms = {"box": Interval() if d == 1 else Box.cube(d)}
        if d > 1:
            doms["ball"] = Ball(d)
        for name, dom in doms.items():
            kw = dict(method="gauss", tol=tol, max_nodes=1 << 20)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", RuntimeWarning)
                t0 = time.perf_counter()
                r = gram_matrix_with_error("relu", W, b, dom, **kw)
                jax.block_until_ready(r.matrix)
                t_first = time.perf_counter() - t0
            rule = r.rule
            t = timeit(
                lambda rule=rule, W=W, b=b: gram_matrix("relu", W, b, rule),
                repeats=2 if quick else 3,
            )
            row[name] = dict(
                nodes_for_tol=rule.size,
                error_estimate=float(r.error_estimate),
                met_tol=not caught,
                refine_total_s=t_first,
                assembly_at_final_rule=t,
            )
        # fixed node count ~fixed_m: (4 p)^d nodes
        p = max(1, round(fixed_m ** (1.0 / d) / 4))
        rule = gauss_legendre(Interval() if d == 1 else Box.cube(d), 4, panels=p)
        t = timeit(
            lambda rule=rule, W=W, b=b: gram_matrix("relu", W, b, rule), repeats=2 if quick else 3
        )
        row["fixed_nodes"] = dict(
            nodes=rule.size, jax=t, ns_per_node=t["median_s"] / rule.size * 1e9
        )
        out.append(row)
        log(f"gram d={d}: box needs {row['box']['nodes_for_tol']} nodes")
    return out


# --- (b) eigh -----------------------------------------------------------------------------


def eigh_vs_n(ns, quick):
    out = []
    rng = np.random.default_rng(0)
    for n in ns:
        A = rng.standard_normal((n, n))
        A = A @ A.T / n + np.eye(n)
        Aj = jnp.asarray(A)
        r = 1 if n >= 1400 else (2 if quick else 3)
        t = timeit(lambda Aj=Aj: eigh_spectrum(Aj).eigenvalues, repeats=r)
        ts = timeit(lambda A=A: scipy.linalg.eigh(A), repeats=r, warmup=0)
        ev = np.sort(np.asarray(eigh_spectrum(Aj).eigenvalues))
        err = rel(ev, np.sort(scipy.linalg.eigh(A, eigvals_only=True)))
        out.append(
            dict(
                n=n,
                jax=t,
                scipy=ts,
                ratio_jax_over_scipy=t["median_s"] / ts["median_s"],
                held_mb_model=3 * 8 * n * n / 2**20,
                rel_diff_eigenvalues=err,
            )
        )
        log(f"eigh n={n}: {t['median_s']:.3g} s (scipy {ts['median_s']:.3g} s)")
    return out


# --- (c) NTK ------------------------------------------------------------------------------


def shallow(width, d, key):
    k1, k2, k3 = jr.split(key, 3)
    W = jnp.ones((width, 1)) if d == 1 else random_directions(width, d, key=k1)
    return ShallowNetwork(
        jr.normal(k2, (width,)) / np.sqrt(width), W, jr.uniform(k3, (width,), minval=-1, maxval=1)
    )


def ntk_vs_N(width, Ns_fast, Ns_struct, Ns_generic, quick):
    net = shallow(width, 1, jr.key(2))
    P = 3 * width + 1
    res = {"width": width, "params": P, "fast_1d": [], "structured": [], "generic_jacrev": []}
    for name, Ns, fn in (
        ("fast_1d", Ns_fast, lambda x: structured_ntk(net, x, fast_path=True)),
        ("structured", Ns_struct, lambda x: structured_ntk(net, x, fast_path=False)),
        ("generic_jacrev", Ns_generic, lambda x: empirical_ntk(net, x, method="jacrev")),
    ):
        for N in Ns:
            x = jnp.linspace(-1, 1, N)[:, None]
            t = timeit(lambda x=x, fn=fn: fn(x), repeats=2 if quick else 3)
            res[name].append(
                dict(N=N, jax=t, held_mb_model=8 * N * N / 2**20, peak_rss_mb=peak_rss_mb())
            )
            log(f"ntk {name} N={N}: {t['median_s']:.3g} s")
    # agreement of the three paths at the smallest common N
    x = jnp.linspace(-1, 1, Ns_generic[0])[:, None]
    K0 = empirical_ntk(net, x, method="jacrev")
    res["rel_diff_fast_vs_generic"] = rel(structured_ntk(net, x, fast_path=True), K0)
    res["rel_diff_structured_vs_generic"] = rel(structured_ntk(net, x, fast_path=False), K0)
    return res


def ntk_vs_d(width, N, quick):
    out = []
    for d in (1, 2, 3, 8):
        net = shallow(width, d, jr.key(3))
        x = jr.uniform(jr.key(4), (N, d), minval=-1, maxval=1)
        ts = timeit(
            lambda net=net, x=x: structured_ntk(net, x, fast_path=False), repeats=2 if quick else 3
        )
        tg = timeit(
            lambda net=net, x=x: empirical_ntk(net, x, method="jacrev"), repeats=2 if quick else 3
        )
        out.append(
            dict(
                d=d,
                N=N,
                width=width,
                structured=ts,
                generic_jacrev=tg,
                ratio_generic_over_structured=tg["median_s"] / ts["median_s"],
            )
        )
        log(f"ntk d={d}: structured {ts['median_s']:.3g} s, generic {tg['median_s']:.3g} s")
    return out


# --- (d) Rashomon -------------------------------------------------------------------------


def rashomon_vs_width(widths, seconds, quick):
    out = []
    for n in widths:

        def run(N, n=n):
            return sj.rashomon_estimate("sin2", n, 0.9, A=8.0, num_samples=N, key=jr.key(0))

        N0 = max(2000, 400_000 // n)
        run(N0)  # compile (one compilation serves every N)
        t0 = time.perf_counter()
        run(N0)
        dt = max(time.perf_counter() - t0, 1e-3)
        N = int(min(5e7, max(N0, N0 * seconds / dt)))
        t = timeit(lambda N=N: run(N).hits, repeats=2 if quick else 3, warmup=1)
        r = run(1)
        out.append(
            dict(
                n=n,
                num_samples=N,
                batch_size=r.batch_size,
                nodes=r.num_nodes,
                jax=t,
                samples_per_s=N / t["median_s"],
                batch_mb=8 * r.batch_size * n * r.num_nodes / 2**20,
            )
        )
        log(f"rashomon n={n}: {N / t['median_s']:.3g} samples/s")
    return out


# --- projections --------------------------------------------------------------------------


def projections(res, cpu_gemm_gflops, cpu_copy_gbs):
    """Time/memory of the issue's large sizes, from the measured rates (this device) and the
    assumed GPU figures. Projections, not measurements."""
    n, N = BIG_N, BIG_NTK
    out = {
        "assumed_gpu": GPU,
        "this_device": {"gemm_gflops": cpu_gemm_gflops, "copy_gbs": cpu_copy_gbs},
    }
    g = res["gram_vs_n"][-1]
    m = 4 * (n + 1)  # nodes of the exact composite rule: a 4-point panel between kinks
    flops = 2.0 * m * n * n
    out["gram_assembly_n20000"] = dict(
        nodes=m,
        flops=flops,
        this_device_s=flops / (g["gflops"] * 1e9),
        gpu_s=flops / (GPU["fp64_gemm_tflops"] * 1e12),
        memory_gb=8 * (n * n + (32 << 20) // 8) / 1e9,
        basis=f"measured {g['gflops']:.3g} GFLOP/s at n={g['n']}, m={g['nodes']}",
    )
    e = res["eigh_vs_n"]
    p = res["exponents"]["eigh_vs_n"]
    t_fit = e[-1]["jax"]["median_s"] * (n / e[-1]["n"]) ** 3
    out["eigh_n20000"] = dict(
        flops_model=9.0 * n**3,
        this_device_s_n3=t_fit,
        this_device_s_fitted_exponent=e[-1]["jax"]["median_s"] * (n / e[-1]["n"]) ** p,
        gpu_s=9.0 * n**3 / (GPU["fp64_eigh_tflops"] * 1e12),
        memory_gb=3 * 8 * n * n / 1e9,
        basis=f"measured {e[-1]['jax']['median_s']:.3g} s at n={e[-1]['n']}, scaled by n^3 "
        f"(and by the fitted n^{p:.2f})",
    )
    fast = res["ntk_vs_N"]["fast_1d"][-1]
    pf = res["exponents"]["ntk_fast_1d_vs_N"]
    out["ntk_fast_1d_N20000"] = dict(
        this_device_s=fast["jax"]["median_s"] * (N / fast["N"]) ** 2,
        this_device_s_fitted_exponent=fast["jax"]["median_s"] * (N / fast["N"]) ** pf,
        gpu_s=3 * 8 * N * N / (GPU["bandwidth_tbs"] * 1e12),
        memory_gb=8 * N * N / 1e9,
        basis=f"measured at N={fast['N']}, scaled by N^2 (memory-bound: ~3 passes over the "
        "N x N output on the GPU)",
    )
    gen = res["ntk_vs_N"]["generic_jacrev"][-1]
    P = res["ntk_vs_N"]["params"]
    flops_g = 2.0 * N * N * P
    rate_g = 2.0 * gen["N"] ** 2 * P / gen["jax"]["median_s"]
    out["ntk_generic_N20000"] = dict(
        params=P,
        flops=flops_g,
        this_device_s=flops_g / rate_g,
        gpu_s=flops_g / (GPU["fp64_gemm_tflops"] * 1e12),
        memory_gb=(8 * N * N + 8 * N * P) / 1e9,
        basis=f"J J^T GEMM at the measured {rate_g / 1e9:.3g} GFLOP/s (N={gen['N']}, P={P})",
    )
    rs = res["rashomon_vs_width"][-1]
    flops_s = 4.0 * rs["n"] * rs["nodes"]  # two GEMMs of n x m per sample
    out["rashomon_1e9_samples_width_" + str(rs["n"])] = dict(
        this_device_s=1e9 / rs["samples_per_s"],
        gpu_s=1e9 * flops_s / (GPU["fp64_gemm_tflops"] * 1e12 * 0.3),
        memory_gb=rs["batch_mb"] / 1e3 * 3,
        basis="measured samples/s; GPU at 30% of DGEMM (batched small GEMMs + RNG)",
    )
    return out


def _device_name(res: dict) -> str:
    """The device tag of the run that wrote ``res`` (not of the machine that redraws it)."""
    dev = res.get("device", {})
    if dev.get("platform") == "cpu":
        return f"cpu{dev.get('cpu_count', '')}"
    return str(dev.get("device_kind", device_tag())).replace(" ", "_").lower()


def _loglog(ax, xs, ys, label, **style) -> list:
    ax.loglog(xs, ys, label=label, **style)
    return list(ys)


def _finish_panel(ax, ys, *, xlabel: str, ylabel: str, title: str, ncol: int = 2) -> None:
    """House-style axes: mathtext labels, powers of ten, at least one labelled decade, and
    the legend below the panel (off the data)."""
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    xs = np.concatenate([np.asarray(line.get_xdata(), float) for line in ax.get_lines()])
    for values, set_lim in ((xs, ax.set_xlim), (ys, ax.set_ylim)):
        lim = log_range(values)
        if lim is not None:
            set_lim(*lim)
    tidy_ticks(ax)
    legend(
        ax,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.2),
        ncol=ncol,
        borderaxespad=0.0,
    )


def plot(res: dict, path) -> None:
    """Four log-log panels: Gram and eigh vs n, NTK vs N, Gram vs m and d, Rashomon vs n;
    the exponents in the legends are least-squares slopes over the upper half of the sizes.
    Drawn in the library's house style and saved at 200 dpi (format from the extension)."""
    ex = exponents(res, "median_s")
    mark = dict(marker="o", ms=4, lw=1.6)
    ref = dict(ls="--", lw=1.4, ms=5)
    seconds = "time per call (s, median)"
    with house_style():
        fig, axs = new_figure(nrows=2, ncols=2, figsize=(9.2, 8.4))
        (a, b), (c, d) = axs

        g, e = res["gram_vs_n"], res["eigh_vs_n"]
        gn, en = [r["n"] for r in g], [r["n"] for r in e]
        ys = _loglog(
            a,
            gn,
            [r["jax"]["median_s"] for r in g],
            rf"Gram ($m={g[0]['nodes']}$): $n^{{{ex['gram_vs_n']:.2f}}}$",
            color=COLORS[0],
            **mark,
        )
        ys += _loglog(
            a,
            gn,
            [r["numpy"]["median_s"] for r in g],
            r"NumPy $S^\top S$",
            color=COLORS[0],
            marker="x",
            **ref,
        )
        ys += _loglog(
            a,
            en,
            [r["jax"]["median_s"] for r in e],
            rf"eigh_spectrum: $n^{{{ex['eigh_vs_n']:.2f}}}$",
            color=COLORS[1],
            **mark,
        )
        ys += _loglog(
            a,
            en,
            [r["scipy"]["median_s"] for r in e],
            rf"scipy eigh: $n^{{{ex['scipy_eigh_vs_n']:.2f}}}$",
            color=COLORS[1],
            marker="+",
            **ref,
        )
        _finish_panel(
            a, ys, xlabel=r"features $n$", ylabel=seconds, title=r"(a) Gram and eigh vs $n$"
        )

        nt = res["ntk_vs_N"]
        ys = []
        for i, (key, label) in enumerate(
            (
                ("fast_1d", "1D fast path"),
                ("structured", "structured"),
                ("generic_jacrev", "jacrev"),
            )
        ):
            rows = nt[key]
            ys += _loglog(
                b,
                [r["N"] for r in rows],
                [r["jax"]["median_s"] for r in rows],
                rf"{label}: $N^{{{ex['ntk_' + key + '_vs_N']:.2f}}}$",
                color=COLORS[i],
                **mark,
            )
        _finish_panel(
            b,
            ys,
            xlabel=r"points $N$",
            ylabel=seconds,
            title=rf"(b) NTK vs $N$ (width ${nt['width']}$)",
        )

        rows = res["gram_vs_m"]
        ys = _loglog(
            c,
            [r["nodes"] for r in rows],
            [r["jax"]["median_s"] for r in rows],
            rf"Gram ($n={rows[0]['n']}$) vs $m$: $m^{{{ex['gram_vs_m']:.2f}}}$",
            color=COLORS[0],
            **mark,
        )
        tol = res["gram_vs_d"][0]["tol"]
        for i, (key, marker) in enumerate((("box", "s"), ("ball", "^"))):
            pts = [
                (r[key]["nodes_for_tol"], r[key]["assembly_at_final_rule"]["median_s"], r["d"])
                for r in res["gram_vs_d"]
                if key in r
            ]
            dims = ", ".join(str(p[2]) for p in pts)
            ys += _loglog(
                c,
                [p[0] for p in pts],
                [p[1] for p in pts],
                rf"{key}, $d = {dims}$: nodes for tol $10^{{{np.log10(tol):.0f}}}$",
                color=COLORS[1 + i],
                marker=marker,
                ls=":",
                lw=1.4,
                ms=5,
            )
            for x, y, dd in pts:
                c.annotate(
                    rf"$d={dd}$",
                    (x, y),
                    textcoords="offset points",
                    xytext=(7, -4) if key == "box" else (-26, 5),
                    fontsize=7.5,
                    color=COLORS[1 + i],
                )
        _finish_panel(
            c,
            ys,
            xlabel=r"quadrature nodes $m$",
            ylabel=seconds,
            title=r"(c) Gram vs nodes $m$ (and dimension $d$)",
            ncol=1,
        )

        rows = res["rashomon_vs_width"]
        ys = _loglog(
            d,
            [r["n"] for r in rows],
            [1e6 / r["samples_per_s"] for r in rows],
            rf"time per sample: $n^{{{ex['rashomon_time_per_sample_vs_n']:.2f}}}$",
            color=COLORS[0],
            **mark,
        )
        _finish_panel(
            d,
            ys,
            xlabel=r"width $n$",
            ylabel=r"s per $10^6$ samples",
            title=r"(d) Rashomon Monte Carlo vs width $n$",
            ncol=1,
        )
        fig.suptitle(
            f"spectral_jax scaling on {_device_name(res)} (float64, medians; exponents fitted "
            "over the upper half of the sizes)",
            fontsize=10,
        )
    finish(fig, path, where="bench_scaling --plot")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke test, ~1 min)")
    ap.add_argument("--out", default=None, help="results folder (default benchmarks/results)")
    ap.add_argument(
        "--replot",
        default=None,
        metavar="JSON",
        help="only redraw the figure from this saved result (no timing; the JSON is not changed)",
    )
    ap.add_argument(
        "--plot",
        default=None,
        metavar="FILE",
        help="where the figure goes (.png/.pdf/.svg; default scaling-DEVICE.png beside the JSON)",
    )
    ap.add_argument("--force", action="store_true", help="replace an existing --plot file")
    args = ap.parse_args()
    from spectral_jax._files import check_output_file

    figure_suffixes = (".png", ".pdf", ".svg")
    if args.replot:  # redraw from the saved measurements; the exponents are recomputed
        src = Path(args.replot)
        try:
            res = json.loads(src.read_text())
        except (OSError, ValueError) as err:
            ap.error(f"--replot: cannot read {str(src)!r} ({err})")
        png = args.plot or src.with_suffix(".png")
        try:
            check_output_file(png, arg="--plot", force=args.force, suffixes=figure_suffixes)
        except ValueError as err:
            ap.error(str(err))
        plot(res, png)
        print(json.dumps({"figure": str(png), "exponents": exponents(res, "median_s")}, indent=1))
        return
    if args.plot:
        try:
            check_output_file(args.plot, arg="--plot", force=args.force, suffixes=figure_suffixes)
        except ValueError as err:
            ap.error(str(err))
    q = args.quick
    t_start = time.perf_counter()
    res: dict = {"quick": q, "dtype": "float64", "load_average_start": list(os.getloadavg())}
    gemm = measured_gemm_gflops(1000 if q else 2000)
    copy = measured_copy_gbs(1 << 26 if q else 1 << 28)
    res["numpy_gemm_gflops"], res["numpy_copy_gbs"] = gemm, copy
    log(f"machine: GEMM {gemm:.3g} GFLOP/s, copy {copy:.3g} GB/s")

    res["gram_vs_n"] = gram_vs_n(
        [250, 500, 1000] if q else [250, 500, 1000, 2000, 4000], 1024 if q else 2048, q
    )
    res["gram_vs_m"] = gram_vs_m(
        500, [512, 1024, 2048] if q else [1024, 2048, 4096, 8192, 16384], q
    )
    res["gram_vs_d"] = gram_vs_d(100 if q else 200, 1e-3 if q else 1e-4, 1024 if q else 4096, q)
    res["eigh_vs_n"] = eigh_vs_n([250, 500, 1000] if q else [250, 500, 1000, 1400, 2000], q)
    res["ntk_vs_N"] = ntk_vs_N(
        128 if q else 256,
        [500, 1000, 2000] if q else [1000, 2000, 4000, 5600, 8000],
        [250, 500, 1000] if q else [500, 1000, 2000, 2800, 4000],
        [125, 250, 500] if q else [250, 500, 1000, 1400, 2000],
        q,
    )
    res["ntk_vs_d"] = ntk_vs_d(128 if q else 256, 500 if q else 1500, q)
    res["rashomon_vs_width"] = rashomon_vs_width(
        [4, 16, 64] if q else [4, 16, 64, 128, 256], 0.5 if q else 2.0, q
    )

    res["exponents"] = exponents(res, "median_s")
    res["exponents_from_min"] = exponents(res, "min_s")  # less sensitive to a loaded machine
    res["projections"] = projections(res, gemm, copy)
    res["total_s"] = time.perf_counter() - t_start
    res["load_average_end"] = list(os.getloadavg())

    out = Path(args.out) if args.out else RESULTS
    path = write_results("scaling", res, out)
    png = args.plot or out / f"scaling-{device_tag()}.png"
    plot(res, png)

    # --- markdown summary ---
    rows = [
        [
            f"Gram n={r['n']}, m={r['nodes']}",
            r["jax"]["median_s"],
            r["numpy"]["median_s"],
            r["ratio_jax_over_numpy"],
            f"{r['gflops']:.3g} GFLOP/s, {r['held_mb_model']:.3g} MB held",
        ]
        for r in res["gram_vs_n"]
    ]
    rows += [
        [
            f"Gram n=500, m={r['nodes']}",
            r["jax"]["median_s"],
            "-",
            "-",
            f"{r['gflops']:.3g} GFLOP/s",
        ]
        for r in res["gram_vs_m"]
    ]
    for r in res["gram_vs_d"]:
        extra = f"box {r['box']['nodes_for_tol']} nodes"
        if "ball" in r:
            extra += f", ball {r['ball']['nodes_for_tol']} nodes"
        rows.append(
            [
                f"Gram d={r['d']} n={r['n']} tol={r['tol']:g} ({extra})",
                r["box"]["assembly_at_final_rule"]["median_s"],
                "-",
                "-",
                f"{r['fixed_nodes']['ns_per_node']:.3g} ns/node at "
                f"{r['fixed_nodes']['nodes']} nodes",
            ]
        )
    rows += [
        [
            f"eigh n={r['n']}",
            r["jax"]["median_s"],
            r["scipy"]["median_s"],
            r["ratio_jax_over_scipy"],
            "vs scipy.linalg.eigh",
        ]
        for r in res["eigh_vs_n"]
    ]
    for k in ("fast_1d", "structured", "generic_jacrev"):
        rows += [
            [
                f"NTK {k} N={r['N']}",
                r["jax"]["median_s"],
                "-",
                "-",
                f"width {res['ntk_vs_N']['width']}",
            ]
            for r in res["ntk_vs_N"][k]
        ]
    rows += [
        [
            f"NTK d={r['d']} N={r['N']}",
            r["structured"]["median_s"],
            r["generic_jacrev"]["median_s"],
            r["ratio_generic_over_structured"],
            "structured vs generic jacrev",
        ]
        for r in res["ntk_vs_d"]
    ]
    rows += [
        [
            f"Rashomon n={r['n']}",
            r["jax"]["median_s"],
            "-",
            "-",
            f"{r['samples_per_s']:.3g} samples/s",
        ]
        for r in res["rashomon_vs_width"]
    ]
    print(
        markdown_table(["workload", "ours median s", "reference median s", "ratio", "note"], rows)
    )
    print()
    print(
        markdown_table(
            ["curve", "fitted exponent (medians)", "fitted exponent (minima)"],
            [[k, v, res["exponents_from_min"][k]] for k, v in res["exponents"].items()],
        )
    )
    print()
    pr = res["projections"]
    prow = []
    for k, v in pr.items():
        if isinstance(v, dict) and "gpu_s" in v:
            here = v.get("this_device_s", v.get("this_device_s_n3"))
            prow.append([k, here, v["gpu_s"], v["memory_gb"], v["basis"]])
    print("Projections (NOT measurements):")
    print(
        markdown_table(["workload", "this device s", "assumed GPU s", "memory GB", "basis"], prow)
    )
    print(
        f"\nwrote {path} and {png} in {res['total_s']:.0f} s; load average (1, 5, 15 min) "
        f"{res['load_average_start']} at the start, {res['load_average_end']} at the end"
    )


if __name__ == "__main__":
    main()
