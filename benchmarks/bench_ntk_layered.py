"""Layered NTK of deep dense networks vs neural-tangents 0.6.5 and torch.func, side by side.

    python benchmarks/bench_ntk_layered.py [--quick] [--rounds 7] [--cells 512:8:float64,...]
        [--nt-python /work/nt-venv/bin/python] [--torch-python /work/torch-venv/bin/python]
        [--out DIR]

Workload: a 3-hidden-layer ReLU MLP ``d -> w -> w -> w -> 1`` (`spectral_jax.networks.MLP`),
N = 1000 points, every parameter trainable, $K(x, x)$ of the scalar output; cells: width
128 and 512, input dimension 1 and 8, float32 and float64 (target: ours >= 2x faster than
neural-tangents' fastest implementation in every cell).

The peers run in their own environments, each as a persistent worker reading JSON commands
over a pipe, on the same network (our weights and biases written to an .npz), the same
points and the same precision:

- neural-tangents (``bash benchmarks/ntk_reference_env.sh``; ``_nt_layered_runner.py``): the
  weights converted to stax ``Dense(parameterization="standard")``; its structured
  derivatives (implementation 3) and its Jacobian contraction (1). (Its NTK-vector products,
  implementation 2, is left out: on CPU it is the slowest of the three for a scalar output.)
- PyTorch ``torch.func`` (``bash benchmarks/torch_reference_env.sh``;
  ``_torch_layered_runner.py``; a CPU run, ``torch.set_num_threads`` = the cores, a 16 GB
  address-space cap): the weights loaded into ``torch.nn.Sequential(Linear, ReLU, ...)``;
  PyTorch's two documented empirical-NTK recipes: Jacobian contraction (``vmap`` over
  ``jacrev`` per sample, one Jacobian per parameter leaf, contracted leaf by leaf) and
  NTK-vector products (``vjp`` on the batch, ``vmap`` over the basis cotangents of
  ``jvp``, chunked) — see the worker's docstring.

Both our side and neural-tangents are compiled and warm before timing (torch.func runs
eagerly; its first call is recorded too); then each round times one call of ours, our Gram
phase alone (the sum of Hadamard products on precomputed features), one NumPy and one XLA
GEMM of shape (N, w) x (w, N), neural-tangents' structured derivatives, its Jacobian
contraction, torch.func's Jacobian contraction and its NTK-vector products, in turn, so the
machine load hits all alike.

Fewer rounds for the slow peers. The Jacobian-based calls take seconds to a minute each at
N = 1000 (a 1000 x 530k Jacobian at width 512), so they are timed only in the first rounds
of a cell: neural-tangents' Jacobian contraction ``--jacobian-rounds 128:7,512:1`` (and not
at all at width 512, d = 1: ``--skip-jacobian``), torch.func's Jacobian contraction
``--torch-rounds 128:2,512:1``, and its NTK-vector products only at width 128, in the first
round (``--torch-ntvp-widths 128 --torch-ntvp-rounds 1``: it costs $8N^2P$ flops against the
Jacobian contraction's $\approx 2N^2P$, P the number of parameters; measured 4x slower at
width 512, N = 250 and ~10x slower at width 128, N = 1000, 28-46 s a call under load; a
call at width 512, N = 1000 would take minutes). Each torch.func recipe's first call (no
compilation: it runs eagerly) is recorded as well. This keeps the full 8-cell run to about
15 minutes on a quiet 2-core machine. Every cell's JSON records the rounds each side was
timed in (``jacobian_rounds``, ``torch_rounds``, ``torch_ntvp_rounds``) and what was
skipped.

Reported per cell: median and minimum seconds of every side; the median of per-round ratios
(peer / ours, over the rounds the peer was timed in) and the ratio of the minima, for
neural-tangents' fastest implementation and torch.func's fastest recipe (per round, the
faster of the recipes timed); the agreement of every peer kernel with ours
(max |K_peer - K_ours| / max |K_ours|); the load average; and the GEMM fraction: the flops
of our Gram products (as performed, i.e. counting the symmetric halving) per second of our
median, against the rate of a NumPy and an XLA GEMM of the same shape measured in the same
run (whole call, and the Gram phase alone against the faster of the two GEMMs).
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


def default_python(env: str, *paths: str) -> str:
    """The python of a reference environment: ``$env`` if set, else the first of ``paths``
    that exists (else the first, reported as missing)."""
    if os.environ.get(env):
        return os.environ[env]
    return next((p for p in paths if Path(p).exists()), paths[0])


def add_peer_options(ap) -> None:
    """``--nt-python`` and ``--torch-python``: the reference environments' interpreters."""
    ap.add_argument(
        "--nt-python",
        default=default_python("NT_PYTHON", "/work/nt-venv/bin/python", "/tmp/ntenv/bin/python"),
        help="python of the neural-tangents environment ('' to skip)",
    )
    ap.add_argument(
        "--torch-python",
        default=default_python(
            "TORCH_PYTHON", "/work/torch-venv/bin/python", "/tmp/torchenv/bin/python"
        ),
        help="python of the torch environment ('' to skip)",
    )


class Worker:
    """A reference side: one warm process in its own environment, one JSON command per
    line on its stdin, one ``RESULT {json}`` line back per command."""

    def __init__(self, py: str, script: str, name: str, args: tuple[str, ...] = ()):
        self.name = name
        self.proc = subprocess.Popen(
            [py, str(HERE / script), *args],
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
            raise RuntimeError(f"{self.name} worker is gone: {err}") from err
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"{self.name} worker exited")
            if line.startswith("RESULT "):
                return json.loads(line[7:])

    def close(self) -> None:
        try:
            self.ask(cmd="quit")
        except (RuntimeError, BrokenPipeError):
            pass
        self.proc.wait(timeout=30)


def NTWorker(py: str) -> Worker:  # noqa: N802 - a constructor
    """The neural-tangents side (``_nt_layered_runner.py``)."""
    return Worker(py, "_nt_layered_runner.py", "neural-tangents")


def TorchWorker(py: str, mem_limit_gb: float = 16.0) -> Worker:  # noqa: N802 - a constructor
    """The torch.func side (``_torch_layered_runner.py``), capped at ``mem_limit_gb`` of
    address space, threads = the cores this process may use."""
    return Worker(
        py, "_torch_layered_runner.py", "torch.func", ("--mem-limit-gb", str(mem_limit_gb))
    )


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


TORCH_IMPLS = {"jacobian": "torch_jacobian", "ntvp": "torch_ntvp"}


def torch_setup(
    tw: Worker, tmp: Path, dtype: str, k_ours: np.ndarray, impls: list[str] | None = None
) -> dict:
    """Load the network written to ``tmp`` (params.npz, x.npz) into the torch.func worker,
    run each recipe once; the setup record with the agreement of each kernel with ours
    (max |K_torch - K_ours| / max |K_ours|) under ``agreement_rel``."""
    try:
        setup = tw.ask(
            cmd="setup",
            params=str(tmp / "params.npz"),
            x=str(tmp / "x.npz"),
            act="relu",
            dtype=dtype,
            impls=impls or list(TORCH_IMPLS),
            save=str(tmp / "k_torch.npz"),
        )
    except RuntimeError as err:
        return {"error": str(err)}
    if "error" in setup:
        return setup
    kt = np.load(tmp / "k_torch.npz")
    scale = np.max(np.abs(k_ours))
    setup["agreement_rel"] = {
        k[1:]: float(np.max(np.abs(kt[k] - k_ours)) / scale) for k in kt.files
    }
    return setup


def run_cell(
    nt: Worker | None,
    tw: Worker | None,
    n: int,
    d: int,
    w: int,
    dtype: str,
    rounds: int,
    tmp: Path,
    jac_rounds: int,
    torch_rounds: int,
    torch_ntvp: int = 1,
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
    torch_timed = []
    if tw is not None and torch_rounds:
        impls = list(TORCH_IMPLS) if torch_ntvp > 0 else ["jacobian"]
        if not torch_ntvp:
            cell["torch_ntvp_skipped"] = (
                "not run at this width (--torch-ntvp-widths): 8 N^2 P flops, 4x the "
                "Jacobian contraction's 2 N^2 P and measured ~10x slower at width 128; "
                "one call would take minutes"
            )
        setup = torch_setup(tw, tmp, dtype, k_ours, impls)
        cell["torch_func_setup"] = setup
        if "error" not in setup:
            cell["torch_agreement_rel"] = setup["agreement_rel"]
            torch_timed = [i for i in TORCH_IMPLS if i in setup["first_call_s"]]
            for i in torch_timed:
                ts[TORCH_IMPLS[i]] = []
    cell["torch_rounds"] = torch_rounds if torch_timed else 0
    if "ntvp" in torch_timed:
        cell["torch_ntvp_rounds"] = min(torch_ntvp, torch_rounds)
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
        if r < torch_rounds:
            for i in torch_timed:
                if i != "ntvp" or r < torch_ntvp:
                    ts[TORCH_IMPLS[i]].append(tw.ask(cmd="time", impl=i)["s"])
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
    if torch_timed:
        # the faster torch.func recipe per round (the NTK-vector products only in its first
        # rounds; the Jacobian contraction was faster in every cell measured)
        o = np.asarray(ts["ours"][: cell["torch_rounds"]])
        fastest = np.asarray(ts[TORCH_IMPLS[torch_timed[0]]], dtype=float)
        for i in torch_timed[1:]:
            t = np.asarray(ts[TORCH_IMPLS[i]])
            fastest[: len(t)] = np.minimum(fastest[: len(t)], t)
        cell["torch_fastest_per_round_s"] = fastest.tolist()
        rm = cell.setdefault("ratio_median_of_rounds", {})
        rmin = cell.setdefault("ratio_of_minima", {})
        rm["torch_fastest"] = float(np.median(fastest / o))
        rmin["torch_fastest"] = float(fastest.min() / np.min(ts["ours"]))
        for i in torch_timed:
            t = np.asarray(ts[TORCH_IMPLS[i]])
            rm[TORCH_IMPLS[i]] = float(np.median(t / o[: len(t)]))
            rmin[TORCH_IMPLS[i]] = float(t.min() / np.min(ts["ours"]))
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


def per_width(spec: str, w: int, default: int) -> int:
    """``"128:7,512:1"`` -> the count for width ``w`` (``default`` when not listed)."""
    return dict((int(a), int(b)) for a, b in (t.split(":") for t in spec.split(",") if t)).get(
        w, default
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="N = 200, width 128 only (smoke run)")
    ap.add_argument("--n", type=int, default=None, help="number of points (default 1000)")
    ap.add_argument("--rounds", type=int, default=7, help="alternating timing rounds per cell")
    add_peer_options(ap)
    ap.add_argument(
        "--torch-mem-gb", type=float, default=16.0, help="address-space cap of the torch worker"
    )
    ap.add_argument(
        "--jacobian-rounds",
        default="128:7,512:1",
        help="rounds timing NT's Jacobian contraction, per width (it is 10-1000x slower)",
    )
    ap.add_argument(
        "--torch-rounds",
        default="128:2,512:1",
        help="rounds timing the torch.func recipes, per width ('512:0' skips them there)",
    )
    ap.add_argument(
        "--torch-ntvp-widths",
        default="128",
        help="widths where torch.func's NTK-vector products run ('' for none)",
    )
    ap.add_argument(
        "--torch-ntvp-rounds",
        type=int,
        default=1,
        help="rounds (of --torch-rounds) timing torch.func's NTK-vector products",
    )
    ap.add_argument(
        "--skip-jacobian",
        default="512:1:float32,512:1:float64",
        help="cells where NT's Jacobian contraction is not run at all ('' for none)",
    )
    ap.add_argument("--cells", default=None, help="subset, e.g. '512:8:float64,128:1:float32'")
    ap.add_argument("--out", default=None, help="results directory")
    args = ap.parse_args()
    n = args.n or (200 if args.quick else 1000)
    cells = [(w, d, dt) for w in (128, 512) for d in (1, 8) for dt in ("float32", "float64")]
    if args.quick:
        cells = [(128, 1, "float64"), (128, 8, "float32")]
    if args.cells:
        cells = [(int(a), int(b), c) for a, b, c in (s.split(":") for s in args.cells.split(","))]
    have_nt = bool(args.nt_python) and Path(args.nt_python).exists()
    have_torch = bool(args.torch_python) and Path(args.torch_python).exists()
    nt = NTWorker(args.nt_python) if have_nt else None
    tw = TorchWorker(args.torch_python, args.torch_mem_gb) if have_torch else None
    payload = {
        "n": n,
        "rounds": args.rounds,
        "neural_tangents": args.nt_python if have_nt else "skipped: no environment",
        "torch_func": (
            {
                "python": args.torch_python,
                "rounds_per_width": args.torch_rounds,
                "ntvp_widths": args.torch_ntvp_widths,
                "ntvp_rounds": args.torch_ntvp_rounds,
                "mem_limit_gb": args.torch_mem_gb,
                "note": "CPU run (the torch wheel's CUDA is not used); threads = cores",
            }
            if have_torch
            else "skipped: no environment"
        ),
        "jacobian_rounds_per_width": args.jacobian_rounds,
        "cells": [],
    }
    rows = []
    nan = float("nan")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for w, d, dt in cells:
                jr_ = per_width(args.jacobian_rounds, w, args.rounds)
                if f"{w}:{d}:{dt}" in args.skip_jacobian.split(","):
                    jr_ = 0
                tr_ = min(per_width(args.torch_rounds, w, args.rounds), args.rounds)
                c = run_cell(
                    nt,
                    tw,
                    n,
                    d,
                    w,
                    dt,
                    args.rounds,
                    Path(tmp),
                    min(jr_, args.rounds),
                    tr_,
                    args.torch_ntvp_rounds if str(w) in args.torch_ntvp_widths.split(",") else 0,
                )
                payload["cells"].append(c)
                r = c.get("ratio_median_of_rounds", {})
                rm = c.get("ratio_of_minima", {})

                def ms(key, c=c):
                    return 1e3 * c.get(key, {}).get("median_s", nan)

                rows.append(
                    [
                        w,
                        d,
                        dt,
                        1e3 * c["ours"]["median_s"],
                        ms("nt_structured"),
                        ms("nt_jacobian"),
                        ms("torch_jacobian"),
                        ms("torch_ntvp"),
                        r.get("nt_fastest", nan),
                        rm.get("nt_fastest", nan),
                        r.get("torch_fastest", nan),
                        c["torch_rounds"],
                        c["gemm"]["fraction_of_numpy"],
                        c["gemm"]["fraction_of_xla"],
                        c["gemm"]["gram_phase_fraction_of_best_gemm"],
                        f"{c['load_average_after'][0]:.1f}",
                    ]
                )
                print(markdown_table(HEAD, rows[-1:]).splitlines()[-1], flush=True)
    finally:
        for wk in (nt, tw):
            if wk is not None:
                wk.close()
    payload["table"] = markdown_table(HEAD, rows)
    path = write_results("ntk_layered" + ("-quick" if args.quick else ""), payload, args.out)
    print(payload["table"])
    print(f"wrote {path}")


HEAD = [
    "width",
    "d",
    "dtype",
    "ours ms",
    "NT structured ms",
    "NT jacobian ms",
    "torch.func jacobian ms",
    "torch.func NTK-vp ms",
    "NT fastest / ours (median of rounds)",
    "NT ratio of minima",
    "torch fastest / ours (median of rounds)",
    "torch rounds",
    "GEMM frac (NumPy)",
    "GEMM frac (XLA)",
    "Gram phase / best GEMM",
    "load",
]

if __name__ == "__main__":
    main()
