"""Layered NTK of deep dense networks vs neural-tangents 0.6.5, side by side.

    python benchmarks/bench_ntk_layered.py [--quick] [--rounds 7]
        [--nt-python /work/nt-venv/bin/python] [--out DIR]

Workload: a 3-hidden-layer ReLU MLP ``d -> w -> w -> w -> 1`` (`spectral_jax.networks.MLP`),
N = 1000 points, every parameter trainable, $K(x, x)$ of the scalar output; cells: width
128 and 512, input dimension 1 and 8, float32 and float64 (target: ours >= 2x faster than
neural-tangents' fastest implementation in every cell).

neural-tangents runs in its own environment (``bash benchmarks/ntk_reference_env.sh``) as a
persistent worker (``benchmarks/_nt_layered_runner.py``) reading commands over a pipe: the
same network (our weights, converted to stax ``Dense(parameterization="standard")``), the
same points, the same precision. Both sides are compiled and warm before timing; then each
round times one call of ours, our Gram phase alone (the sum of Hadamard products on
precomputed features), one NumPy and one XLA GEMM of shape (N, w) x (w, N), one call of
neural-tangents' structured derivatives (3) and one of its Jacobian contraction (1),
alternating, so the machine load hits all alike. Reported per
cell: median and minimum seconds, the median of per-round ratios (NT / ours) and the ratio of
the minima, the agreement of the kernels, the load average, and the GEMM fraction: the flops
of our Gram products (as performed, i.e. counting the symmetric halving) per second of our
median, against the rate of a NumPy and an XLA GEMM of the same shape measured in the same
run (whole call, and the Gram phase alone against the faster of the two GEMMs).
(neural-tangents' NTK-vector products, implementation 2, is left out: on CPU it is the
slowest of the three for a scalar output.)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import enable_x64, markdown_table, write_results  # noqa: E402

enable_x64()

import equinox as eqx  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
import numpy as np  # noqa: E402

from spectral_jax.networks import MLP  # noqa: E402
from spectral_jax.ntk._layered import (  # noqa: E402
    _features,
    _layers,
    _sym_depth,
    _symmetric,
    layered_ntk,
)

HERE = Path(__file__).resolve().parent


class NTWorker:
    """The neural-tangents side: one warm process, one JSON command per line."""

    def __init__(self, py: str):
        self.proc = subprocess.Popen(
            [py, str(HERE / "_nt_layered_runner.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        )

    def ask(self, **cmd) -> dict:
        try:
            self.proc.stdin.write(json.dumps(cmd) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as err:
            raise RuntimeError(f"neural-tangents worker is gone: {err}") from err
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("neural-tangents worker exited")
            if line.startswith("RESULT "):
                return json.loads(line[7:])

    def close(self) -> None:
        try:
            self.ask(cmd="quit")
        except (RuntimeError, BrokenPipeError):
            pass
        self.proc.wait(timeout=30)


def gram_flops(n: int, d: int, widths: list[int]) -> float:
    """Flops of the Gram products of the layered NTK of an MLP d -> widths -> 1, as
    performed for K(x, x) (the symmetric halving multiplies a fraction of the blocks)."""
    full = 2 * n * n * (d + 2 * sum(widths))  # H_0..H_{L-1} and Delta_1..Delta_{L-1}
    depth = _sym_depth(n)
    return full * (0.5 + 2.0 ** (-depth - 1)) if depth else full


def gemm_calls(n: int, w: int, dtype: str) -> dict:
    """One (n, w) @ (w, n) product by NumPy and by XLA (jit), same dtype, as callables
    (timed in the cell's rounds, beside ours)."""
    a = np.random.default_rng(0).standard_normal((n, w)).astype(dtype)
    aj = jnp.asarray(a)
    bj = aj + 0
    f = jax.jit(lambda u, v: u @ v.T)
    jax.block_until_ready(f(aj, bj))
    return {"numpy_gemm": lambda: a @ a.T, "xla_gemm": lambda: f(aj, bj)}


def run_cell(
    nt: NTWorker | None,
    n: int,
    d: int,
    w: int,
    dtype: str,
    rounds: int,
    tmp: Path,
    jac_rounds: int,
):
    widths = [w, w, w]
    model = MLP(d, widths, activation="relu", key=jr.key(0), dtype=jnp.float64)
    x = jr.uniform(jr.key(1), (n, d), minval=-1.0, maxval=1.0, dtype=jnp.float64)
    arrays = {}
    for i, lay in enumerate(model.layers):
        arrays[f"W{i}"] = np.asarray(lay.weight)
        arrays[f"b{i}"] = np.asarray(lay.bias).reshape(1, -1)
    np.savez(tmp / "params.npz", **arrays)
    np.savez(tmp / "x.npz", x=np.asarray(x))
    m = jax.tree_util.tree_map(
        lambda a: a.astype(dtype) if isinstance(a, jax.Array) else a, model
    )  # the same weights (NT casts the float64 file the same way)
    xd = x.astype(dtype)

    def ours():
        return layered_ntk(m, xd, dtype=dtype)

    t0 = time.perf_counter()
    k_ours = np.asarray(jax.block_until_ready(ours()))
    first_ours = time.perf_counter() - t0
    cell = {
        "n": n,
        "d": d,
        "widths": widths,
        "dtype": dtype,
        "activation": "relu",
        "ours_first_call_s": first_ours,
        "load_average_before": list(os.getloadavg()),
    }
    # the Gram phase alone: the symmetric sum of Hadamard products on precomputed features
    flags = ((True, True),) * (len(widths) + 1)
    feats = eqx.filter_jit(lambda mm, xx: _features(_layers(mm), flags, xx))(m, xd)
    gram_only = eqx.filter_jit(lambda f: _symmetric(f, n, flags, "trace", _sym_depth(n)))
    jax.block_until_ready(gram_only(feats))
    extra = {"ours_gram_phase": lambda: gram_only(feats), **gemm_calls(n, w, dtype)}
    for f in extra.values():
        jax.block_until_ready(f())
    ts = {"ours": [], **{k: [] for k in extra}}
    if nt is not None:
        try:
            setup = nt.ask(
                cmd="setup",
                params=str(tmp / "params.npz"),
                x=str(tmp / "x.npz"),
                act="relu",
                dtype=dtype,
                impls=[1, 3] if jac_rounds else [3],
                save=str(tmp / "k_nt.npz"),
            )
        except RuntimeError as err:  # the environment is broken: ours only
            setup = {"error": str(err)}
        if "error" in setup:
            cell["neural_tangents_error"] = setup["error"]
            nt = None
        else:
            cell["neural_tangents_setup"] = setup
            knt = np.load(tmp / "k_nt.npz")
            scale = np.max(np.abs(k_ours))
            cell["agreement_rel"] = {
                k[1:]: float(np.max(np.abs(knt[k] - k_ours)) / scale) for k in knt.files
            }
            ts["nt_structured"] = []
            if jac_rounds:
                ts["nt_jacobian"] = []
            else:
                cell["nt_jacobian_skipped"] = "not timed in this cell (--skip-jacobian)"
    cell["jacobian_rounds"] = jac_rounds if nt is not None else 0
    for r in range(rounds):
        t0 = time.perf_counter()
        jax.block_until_ready(ours())
        ts["ours"].append(time.perf_counter() - t0)
        for k, f in extra.items():
            t0 = time.perf_counter()
            jax.block_until_ready(f())
            ts[k].append(time.perf_counter() - t0)
        if nt is not None:
            ts["nt_structured"].append(nt.ask(cmd="time", impl=3)["s"])
            if r < jac_rounds:
                ts["nt_jacobian"].append(nt.ask(cmd="time", impl=1)["s"])
    cell["load_average_after"] = list(os.getloadavg())
    for k, v in ts.items():
        cell[k] = {"median_s": float(np.median(v)), "min_s": float(np.min(v)), "times_s": v}
    if nt is not None:
        # the fastest neural-tangents implementation per round (rounds where the Jacobian
        # contraction was not timed use the structured one; valid when the Jacobian
        # contraction's fastest call is slower than the structured one's slowest, recorded)
        o = np.asarray(ts["ours"])
        st = np.asarray(ts["nt_structured"])
        jac = np.asarray(ts.get("nt_jacobian", []))
        fastest = st.copy()
        fastest[: len(jac)] = np.minimum(st[: len(jac)], jac)
        cell["jacobian_slower_than_structured_always"] = bool(len(jac) == 0 or jac.min() > st.max())
        cell["ratio_median_of_rounds"] = {
            "nt_structured": float(np.median(st / o)),
            "nt_fastest": float(np.median(fastest / o)),
        }
        cell["ratio_of_minima"] = {
            "nt_structured": float(st.min() / o.min()),
            "nt_fastest": float(fastest.min() / o.min()),
        }
        if len(jac):
            cell["ratio_median_of_rounds"]["nt_jacobian"] = float(np.median(jac / o[: len(jac)]))
            cell["ratio_of_minima"]["nt_jacobian"] = float(jac.min() / o.min())
    flops = gram_flops(n, d, widths)
    one = 2 * n * n * w
    rates = {
        "numpy_gflops": one / cell["numpy_gemm"]["median_s"] / 1e9,
        "xla_gflops": one / cell["xla_gemm"]["median_s"] / 1e9,
    }
    ours_rate = flops / cell["ours"]["median_s"] / 1e9
    gram_rate = flops / cell["ours_gram_phase"]["median_s"] / 1e9
    best = max(rates.values())
    cell["gemm"] = {
        "gram_flops_performed": flops,
        "ours_gflops_whole_call": ours_rate,
        "ours_gflops_gram_phase": gram_rate,
        **rates,
        "fraction_of_numpy": ours_rate / rates["numpy_gflops"],
        "fraction_of_xla": ours_rate / rates["xla_gflops"],
        "gram_phase_fraction_of_best_gemm": gram_rate / best,
    }
    return cell


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="N = 200, width 128 only (smoke run)")
    ap.add_argument("--rounds", type=int, default=7, help="alternating timing rounds per cell")
    ap.add_argument(
        "--nt-python",
        default=os.environ.get("NT_PYTHON", "/work/nt-venv/bin/python"),
        help="python of the neural-tangents environment",
    )
    ap.add_argument(
        "--jacobian-rounds",
        default="128:7,512:1",
        help="rounds timing NT's Jacobian contraction, per width (it is 10-1000x slower)",
    )
    ap.add_argument(
        "--skip-jacobian",
        default="512:1:float32,512:1:float64",
        help="cells where NT's Jacobian contraction is not run at all ('' for none)",
    )
    ap.add_argument("--cells", default=None, help="subset, e.g. '512:8:float64,128:1:float32'")
    ap.add_argument("--out", default=None, help="results directory")
    args = ap.parse_args()
    n = 200 if args.quick else 1000
    cells = [(w, d, dt) for w in (128, 512) for d in (1, 8) for dt in ("float32", "float64")]
    if args.quick:
        cells = [(128, 1, "float64"), (128, 8, "float32")]
    if args.cells:
        cells = [(int(a), int(b), c) for a, b, c in (s.split(":") for s in args.cells.split(","))]
    nt = NTWorker(args.nt_python) if Path(args.nt_python).exists() else None
    payload = {
        "n": n,
        "rounds": args.rounds,
        "neural_tangents": "skipped: no environment" if nt is None else args.nt_python,
        "cells": [],
    }
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for w, d, dt in cells:
                jr_ = dict(
                    (int(a), int(b))
                    for a, b in (t.split(":") for t in args.jacobian_rounds.split(","))
                ).get(w, args.rounds)
                if f"{w}:{d}:{dt}" in args.skip_jacobian.split(","):
                    jr_ = 0
                c = run_cell(nt, n, d, w, dt, args.rounds, Path(tmp), min(jr_, args.rounds))
                payload["cells"].append(c)
                r = c.get("ratio_median_of_rounds", {})
                rm = c.get("ratio_of_minima", {})
                rows.append(
                    [
                        w,
                        d,
                        dt,
                        1e3 * c["ours"]["median_s"],
                        1e3 * c.get("nt_structured", {}).get("median_s", float("nan")),
                        1e3 * c.get("nt_jacobian", {}).get("median_s", float("nan")),
                        r.get("nt_fastest", float("nan")),
                        rm.get("nt_fastest", float("nan")),
                        c["gemm"]["fraction_of_numpy"],
                        c["gemm"]["fraction_of_xla"],
                        c["gemm"]["gram_phase_fraction_of_best_gemm"],
                        f"{c['load_average_after'][0]:.1f}",
                    ]
                )
                print(markdown_table(HEAD, rows[-1:]).splitlines()[-1], flush=True)
    finally:
        if nt is not None:
            nt.close()
    payload["table"] = markdown_table(HEAD, rows)
    path = write_results("ntk_layered", payload, args.out)
    print(payload["table"])
    print(f"wrote {path}")


HEAD = [
    "width",
    "d",
    "dtype",
    "ours ms",
    "NT structured ms",
    "NT jacobian ms",
    "NT fastest / ours (median of rounds)",
    "ratio of minima",
    "GEMM frac (NumPy)",
    "GEMM frac (XLA)",
    "Gram phase / best GEMM",
    "load",
]

if __name__ == "__main__":
    main()
