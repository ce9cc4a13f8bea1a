"""A persistent neural-tangents worker for ``bench_ntk_layered.py`` (and the test fixture).

Runs in the separate environment made by ``benchmarks/ntk_reference_env.sh`` (neural-tangents
0.6.5 needs JAX 0.4.23). Reads one JSON command per line on stdin, answers one JSON line
(prefixed ``RESULT ``) on stdout:

- ``{"cmd": "setup", "params": "p.npz", "x": "x.npz", "act": "relu", "dtype": "float64",
  "impls": [1, 3]}``: build a stax MLP (``Dense(parameterization="standard")``, W of shape
  (in, out), so ``y = x W + b`` as ``eqx.nn.Linear`` with W transposed) from the weights
  ``W0, b0, W1, b1, ...`` of the npz (eqx layout (out, in)), load the inputs ``x``, jit
  ``empirical_ntk_fn`` for each implementation (trace over the scalar output) and run each
  once (compile + run: ``first_call_s``); ``"save": "k.npz"`` also writes the kernels.
- ``{"cmd": "time", "impl": 3}``: one timed call, ``{"s": seconds}``.
- ``{"cmd": "fixture", "out": "tests/data/nt_mlp_ntk.npz"}``: the test fixture: a stax MLP
  3 -> 7 -> 6 -> 2 (ReLU, standard parameterisation, neural-tangents' own initialisation,
  key 0), its parameters (stax layout, W of shape (in, out)), 12 fixed inputs and its
  empirical NTK with ``trace_axes=()`` (shape (12, 12, 2, 2)), float64.
- ``{"cmd": "quit"}``.

    echo '{"cmd": "fixture", "out": "tests/data/nt_mlp_ntk.npz"}' |
        /work/nt-venv/bin/python benchmarks/_nt_layered_runner.py
"""

import json
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import neural_tangents as nt  # noqa: E402
import numpy as np  # noqa: E402
from neural_tangents import stax  # noqa: E402

ACTS = {"relu": stax.Relu, "erf": stax.Erf, "gelu": stax.Gelu}


def build(cfg):
    dt = jnp.float64 if cfg.get("dtype", "float64") == "float64" else jnp.float32
    p = np.load(cfg["params"])
    n_layers = sum(1 for k in p.files if k.startswith("W"))
    layers, params = [], []
    for i in range(n_layers):
        w = p[f"W{i}"]
        layers.append(stax.Dense(w.shape[0], b_std=1.0, parameterization="standard"))
        params.append((jnp.asarray(w.T, dt), jnp.asarray(p[f"b{i}"], dt)))
        if i < n_layers - 1:
            layers.append(ACTS[cfg.get("act", "relu")]())
            params.append(())
    _, apply_fn, _ = stax.serial(*layers)
    x = jnp.asarray(np.load(cfg["x"])["x"], dt)
    return apply_fn, params, x


def fixture(path):
    init_fn, apply_fn, _ = stax.serial(
        stax.Dense(7, W_std=1.5, b_std=0.5, parameterization="standard"),
        stax.Relu(),
        stax.Dense(6, W_std=1.5, b_std=0.5, parameterization="standard"),
        stax.Relu(),
        stax.Dense(2, W_std=1.5, b_std=0.5, parameterization="standard"),
    )
    _, params = init_fn(jax.random.PRNGKey(0), (-1, 3))
    x = jax.random.uniform(jax.random.PRNGKey(1), (12, 3), minval=-1.0, maxval=1.0)
    k = nt.empirical_ntk_fn(apply_fn, trace_axes=(), vmap_axes=0, implementation=1)(x, None, params)
    k3 = nt.empirical_ntk_fn(apply_fn, trace_axes=(), vmap_axes=0, implementation=3)(
        x, None, params
    )
    dense = [p for p in params if p]
    arrays = {"x": np.asarray(x), "ntk": np.asarray(k)}
    for i, (w, b) in enumerate(dense):
        arrays[f"W{i}"], arrays[f"b{i}"] = np.asarray(w), np.asarray(b)
    np.savez_compressed(path, **arrays)
    return {
        "path": path,
        "shape": list(k.shape),
        "impl1_vs_impl3": float(jnp.max(jnp.abs(k - k3)) / jnp.max(jnp.abs(k))),
        "jax": jax.__version__,
        "neural_tangents": nt.__version__,
        "shapes": {n: list(a.shape) for n, a in arrays.items()},
    }


def main():
    state = {}
    for line in sys.stdin:
        cmd = json.loads(line)
        out = {}
        try:
            if cmd["cmd"] == "quit":
                break
            if cmd["cmd"] == "fixture":
                out = fixture(cmd["out"])
            elif cmd["cmd"] == "setup":
                apply_fn, params, x = build(cmd)
                fns, first, kernels = {}, {}, {}
                for impl in cmd.get("impls", [1, 3]):
                    fn = jax.jit(
                        nt.empirical_ntk_fn(
                            apply_fn, trace_axes=(-1,), vmap_axes=0, implementation=impl
                        )
                    )
                    t0 = time.perf_counter()
                    k = jax.block_until_ready(fn(x, None, params))
                    first[str(impl)] = time.perf_counter() - t0
                    fns[impl] = fn
                    kernels[f"k{impl}"] = np.asarray(k)
                if cmd.get("save"):
                    np.savez(cmd["save"], **kernels)
                state = {"fns": fns, "params": params, "x": x}
                out = {
                    "jax": jax.__version__,
                    "jaxlib": __import__("jaxlib").__version__,
                    "neural_tangents": nt.__version__,
                    "first_call_s": first,
                    "names": {str(i): nt.NtkImplementation(i).name for i in fns},
                }
            elif cmd["cmd"] == "time":
                fn = state["fns"][cmd["impl"]]
                t0 = time.perf_counter()
                jax.block_until_ready(fn(state["x"], None, state["params"]))
                out = {"s": time.perf_counter() - t0}
        except Exception as err:  # noqa: BLE001 - report and go on
            out = {"error": f"{type(err).__name__}: {str(err)[:300]}"}
        print("RESULT " + json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
