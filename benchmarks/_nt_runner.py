"""Time neural-tangents' ``empirical_ntk_fn`` (its three implementations) on one workload.

Run with the separate environment made by ``benchmarks/ntk_reference_env.sh`` (it needs an
older JAX than the library):

    /work/nt-venv/bin/python benchmarks/_nt_runner.py \
        '{"kind": "mlp", "d": 1, "widths": [512], "n": 1000}'

Prints one JSON line: versions, and per implementation the median time, the first call
(compile + run), or the error it raised (e.g. out of memory).
"""

import json
import resource
import sys
import time

cfg = json.loads(sys.argv[1])
limit_gb = cfg.get("mem_limit_gb", 16)
resource.setrlimit(resource.RLIMIT_AS, (int(limit_gb * 2**30), int(limit_gb * 2**30)))

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
import neural_tangents as nt  # noqa: E402
from neural_tangents import stax  # noqa: E402

d, widths, n = cfg["d"], cfg["widths"], cfg["n"]
layers = []
for w in widths:
    layers += [stax.Dense(w), stax.Relu() if cfg.get("act", "relu") == "relu" else stax.Erf()]
layers.append(stax.Dense(1))
init_fn, apply_fn, _ = stax.serial(*layers)
_, params = init_fn(jax.random.PRNGKey(0), (-1, d))
x = jax.random.uniform(jax.random.PRNGKey(1), (n, d), minval=-1.0, maxval=1.0)
repeats = cfg.get("repeats", 5)
res = {"jax": jax.__version__, "neural_tangents": nt.__version__, "cfg": cfg, "impl": {}}
for impl in cfg.get("impls", [1, 2, 3]):
    name = nt.NtkImplementation(impl).name
    try:
        fn = jax.jit(nt.empirical_ntk_fn(apply_fn, trace_axes=(), vmap_axes=0, implementation=impl))
        t0 = time.perf_counter()
        jax.block_until_ready(fn(x, None, params))
        first = time.perf_counter() - t0
        ts = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            jax.block_until_ready(fn(x, None, params))
            ts.append(time.perf_counter() - t0)
        ts.sort()
        res["impl"][name] = {"median_s": ts[len(ts) // 2], "min_s": ts[0], "first_call_s": first}
    except Exception as err:  # noqa: BLE001 - record the failure (e.g. OOM) and go on
        res["impl"][name] = {"error": f"{type(err).__name__}: {str(err)[:300]}"}
res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print("RESULT " + json.dumps(res))
