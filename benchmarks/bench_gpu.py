"""The GPU suite, end to end: the sizes the seeds care about on one accelerator.

    python benchmarks/bench_gpu.py [--small] [--out benchmarks/results] [--force]

Stages (float64; each checked against an independent result, timed with its first call
(compilation included) and a second call, with the device's peak memory after it):

1. Gram matrix, n = 20 000 ReLU features, exact composite rule (4(n+1) nodes), against
   the closed form `relu_gram_1d`; its eigenvalues by `eigvalsh` and the top 20 by
   `top_eigenpairs` (randomized subspace iteration), which must agree.
2. NTK, N = 20 000 points: the 1D ReLU shallow fast path (width 4096) and a two-layer MLP
   by the layered closed form (widths 512, 512, row blocks); top 20 eigenvalues.
3. Training: 10^6 Euler steps of a 1D ReLU network (fast path, 16 Fourier modes
   recorded every 1000 steps), one jitted scan (run twice: compile, then the run).
4. Rashomon: 10^8 Monte Carlo samples, width 32, 256 nodes.

Sized to finish in about 10 minutes on one H100/H200 (the Gram eigvalsh is the longest
part); ``--small`` runs the same stages at CPU sizes (n = N = 1000, 10^4 steps, 10^5
samples, about a minute on 2 cores). Writes ``gpu-<device>.json`` (``gpu_small-<device>``
with ``--small``): device, versions, per stage seconds, peak device memory (or peak RSS
on CPU), checks, load average. A failed stage is recorded and the next one runs; an
existing result file is refused unless ``--force`` (checked before any work).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import RESULTS, device_info, device_tag, enable_x64, peak_rss_mb  # noqa: E402

enable_x64()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
import numpy as np  # noqa: E402

from spectral_jax._files import atomic_write, check_output_file  # noqa: E402
from spectral_jax._subspace import top_eigenpairs  # noqa: E402

FULL = dict(gram_n=20_000, ntk_N=20_000, ntk_width=4096, mlp_width=512, ntk_block=2000,
            steps=1_000_000, samples=100_000_000, eig_k=20)  # fmt: skip
SMALL = dict(gram_n=1000, ntk_N=1000, ntk_width=256, mlp_width=64, ntk_block=250,
             steps=10_000, samples=100_000, eig_k=10)  # fmt: skip


def memory() -> dict:
    """Peak device memory so far (bytes in use at the high-water mark), or peak RSS."""
    stats = jax.devices()[0].memory_stats()
    if stats and "peak_bytes_in_use" in stats:
        return {"device_peak_mb": stats["peak_bytes_in_use"] / 2**20}
    return {"peak_rss_mb": peak_rss_mb()}


def timed(fn):
    """(result, first call seconds incl. compilation, second call seconds)."""
    t0 = time.perf_counter()
    out = _ready(fn())
    first = time.perf_counter() - t0
    del out
    t0 = time.perf_counter()
    out = _ready(fn())
    return out, first, time.perf_counter() - t0


def _ready(x):
    """Block on the arrays of a result (a trajectory's records are NumPy already)."""
    return jax.block_until_ready(x) if isinstance(x, jax.Array) else x


def stage_gram(c: dict) -> dict:
    from spectral_jax.domains import Interval
    from spectral_jax.gram import gram_matrix, relu_gram_1d
    from spectral_jax.networks import uniform_biases

    n = c["gram_n"]
    b = uniform_biases(n)
    W = jnp.ones((n, 1))
    G, first, second = timed(lambda: gram_matrix("relu", W, b, Interval(), method="exact"))
    G0, cf_first, cf_second = timed(lambda: relu_gram_1d(b))
    err = float(jnp.max(jnp.abs(G - G0)) / jnp.max(jnp.abs(G0)))
    del G0
    out = dict(n=n, first_s=first, second_s=second, closed_form_first_s=cf_first,
               closed_form_second_s=cf_second, rel_err_vs_closed_form=err, **memory())  # fmt: skip
    t0 = time.perf_counter()
    ev = np.asarray(jax.block_until_ready(jnp.linalg.eigvalsh(G)))[::-1]
    out["eigvalsh_s_incl_compile"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    r = top_eigenpairs(G, c["eig_k"])
    out["top_eigenpairs_s_incl_compile"] = time.perf_counter() - t0
    out["top_eigenpairs_iterations"] = r.iterations
    out["top_eigenpairs_vs_eigvalsh"] = float(
        np.max(np.abs(r.eigenvalues - ev[: c["eig_k"]]) / ev[: c["eig_k"]])
    )
    out["lambda_1"], out["lambda_k"] = float(ev[0]), float(ev[c["eig_k"] - 1])
    out.update(memory())
    return out


def stage_ntk(c: dict) -> dict:
    from spectral_jax.networks import MLP, alternating_network
    from spectral_jax.ntk import empirical_ntk, structured_ntk

    N, w = c["ntk_N"], c["ntk_width"]
    # outer weights and directions both alternate: a_i = (-1)^(i-1)/sqrt(n), w_i = (-1)^(i-1)
    sign = jnp.where(jnp.arange(w) % 2 == 0, 1.0, -1.0)
    net = alternating_network(w, scale=1.0 / jnp.asarray(np.sqrt(w)), weights=sign[:, None])
    x = jnp.linspace(-1.0, 1.0, N)
    K, first, second = timed(lambda: structured_ntk(net, x))
    # a check on 200 rows against the matrix form (independent formula)
    Kr = structured_ntk(net, x[:: max(1, N // 200)], x, fast_path=False)
    err = float(jnp.max(jnp.abs(K[:: max(1, N // 200)] - Kr)) / jnp.max(jnp.abs(Kr)))
    out = dict(N=N, width=w, fast_first_s=first, fast_second_s=second,
               fast_rel_err_vs_matrix_form=err, **memory())  # fmt: skip
    t0 = time.perf_counter()
    r = top_eigenpairs(K, c["eig_k"])
    out["top_eigenpairs_s_incl_compile"] = time.perf_counter() - t0
    out["top_eigenvalues"] = r.eigenvalues.tolist()
    out["top_eigenpairs_converged"] = r.converged
    del K, Kr
    mlp = MLP(2, [c["mlp_width"], c["mlp_width"]], activation="tanh", key=jr.key(0))
    xm = jnp.stack([x, jnp.sin(3 * x)], axis=1)
    Km, mfirst, msecond = timed(lambda: empirical_ntk(mlp, xm, block_size=c["ntk_block"]))
    rows = slice(0, N, max(1, N // 100))
    Kj = empirical_ntk(mlp, xm[rows], method="jacrev")  # ~100 x 100 by the Jacobian
    Ks = Km[rows][:, rows]
    out.update(
        mlp_widths=[c["mlp_width"]] * 2,
        mlp_layered_first_s=mfirst,
        mlp_layered_second_s=msecond,
        mlp_rel_err_vs_jacrev=float(jnp.max(jnp.abs(Ks - Kj)) / jnp.max(jnp.abs(Kj))),
    )
    out.update(memory())
    return out


def stage_train(c: dict) -> dict:
    from spectral_jax.domains import Interval
    from spectral_jax.dynamics import Euler, fourier_modes, loss_domain, train
    from spectral_jax.networks import alternating_network
    from spectral_jax.quadrature import gauss_legendre
    from spectral_jax.targets import get_target

    n = 64
    net = alternating_network(n, "relu")
    dom = loss_domain(get_target("sin4"), gauss_legendre(Interval(), 8, panels=32))
    kw = dict(stepper=Euler(1e-3), record_every=1000, trainable="outer,biases",
              mode_tracker=fourier_modes(dom, 16), progress=False)  # fmt: skip
    # the scan's length is static: the first call compiles it, the second is the run
    traj, first, second = timed(lambda: train(net, dom, steps=c["steps"], **kw))
    return dict(
        steps=c["steps"], width=n, nodes=256, first_s=first, second_s=second,
        steps_per_s=c["steps"] / second, fast1d=traj.metadata["fast1d"],
        records=int(traj.loss.shape[0]),
        loss_first_last=[float(traj.loss[0]), float(traj.loss[-1])],
        loss_decreased=bool(traj.loss[-1] < traj.loss[0]),
        **memory(),
    )  # fmt: skip


def stage_rashomon(c: dict) -> dict:
    from spectral_jax.rashomon import rashomon_estimate

    kw = dict(n=32, epsilon=0.9, key=jr.key(0))
    t0 = time.perf_counter()
    rashomon_estimate("sin2", num_samples=10_000, **kw)
    warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    r = rashomon_estimate("sin2", num_samples=c["samples"], **kw)
    wall = time.perf_counter() - t0
    return dict(
        samples=c["samples"], width=32, wall_s=wall, samples_per_s=c["samples"] / wall,
        warmup_s=warm, probability=r.probability, ci=[r.ci_low, r.ci_high],
        hoeffding_probability=r.hoeffding_probability, **memory(),
    )  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--small", action="store_true", help="CPU sizes (about a minute)")
    ap.add_argument("--out", default=None, help="results folder (default benchmarks/results)")
    ap.add_argument("--force", action="store_true", help="replace an existing result file")
    ap.add_argument("--stages", default="gram,ntk,train,rashomon", help="comma list to run")
    args = ap.parse_args()
    name = "gpu_small" if args.small else "gpu"
    out_dir = Path(args.out) if args.out else RESULTS
    path = check_output_file(out_dir / f"{name}-{device_tag()}.json", arg="--out", force=args.force)
    cfg = SMALL if args.small else FULL
    stages = {"gram": stage_gram, "ntk": stage_ntk, "train": stage_train,
              "rashomon": stage_rashomon}  # fmt: skip
    res = dict(benchmark=name, device=device_info(), sizes=cfg, loadavg_start=os.getloadavg())
    res["stages"] = {}
    t_all = time.perf_counter()
    for s in args.stages.split(","):
        if s not in stages:
            ap.error(f"--stages: unknown stage {s!r}; choose from {', '.join(stages)}")
        t0 = time.perf_counter()
        try:
            res["stages"][s] = {"ok": True, **stages[s](cfg)}
        except Exception as err:  # record and go on to the next stage
            res["stages"][s] = {"ok": False, "error": f"{type(err).__name__}: {err}",
                                "traceback": traceback.format_exc()[-3000:]}  # fmt: skip
        res["stages"][s]["stage_s"] = time.perf_counter() - t0
        print(s, {k: v for k, v in res["stages"][s].items() if k != "traceback"}, flush=True)
    res["total_s"] = time.perf_counter() - t_all
    res["loadavg_end"] = os.getloadavg()
    res["timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    import json

    atomic_write(path, lambda fh: fh.write(json.dumps(res, indent=2, default=float)),
                 binary=False)  # fmt: skip
    print(f"wrote {path} in {res['total_s']:.0f} s")


if __name__ == "__main__":
    main()
