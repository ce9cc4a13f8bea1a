"""Shared benchmark utilities: timing medians, machine facts, JSON output.

Every script: ``python benchmarks/bench_X.py [--quick] [--out benchmarks/results]``
writes ``results/<name>-<device>.json`` with device, versions, sizes, medians, min/max,
ratios, and prints a markdown table. Timings exclude compilation (reported separately).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def enable_x64() -> None:
    import jax

    jax.config.update("jax_enable_x64", True)


def block(x: Any) -> Any:
    import jax

    return jax.block_until_ready(x)


def timeit(
    fn: Callable[[], Any], *, repeats: int = 7, warmup: int = 1, min_time: float = 0.0
) -> dict:
    """Median/min/max wall time of ``fn()`` (results blocked until ready) in seconds."""
    compile_s = None
    for i in range(warmup):
        t0 = time.perf_counter()
        block(fn())
        if i == 0:
            compile_s = time.perf_counter() - t0
    ts = []
    t_start = time.perf_counter()
    while len(ts) < repeats or (time.perf_counter() - t_start) < min_time:
        t0 = time.perf_counter()
        block(fn())
        ts.append(time.perf_counter() - t0)
        if len(ts) >= 200:
            break
    return {
        "median_s": float(np.median(ts)),
        "min_s": float(np.min(ts)),
        "max_s": float(np.max(ts)),
        "repeats": len(ts),
        "first_call_s": compile_s,
    }


def timeit_interleaved(
    fns: dict[str, Callable[[], Any]], *, rounds: int = 9, inner: int = 1, warmup: int = 1
) -> dict[str, dict]:
    """`timeit` for several callables timed in alternating rounds (a, b, a, b, ...), so
    that machine load hits every side alike. Per callable: median/min/max seconds per call
    over the rounds (and every round's time, ``per_round_s``), and the first call (compile)
    separately; plus ``"ratios"``: the median over rounds of each callable's time divided
    by the first callable's in the same round, ``"ratios_of_min"``: the ratio of the
    minima, and ``"loadavg"`` (1, 5, 15 min) at the end."""
    first = {}
    for k, f in fns.items():
        for i in range(warmup):
            t0 = time.perf_counter()
            block(f())
            if i == 0:
                first[k] = time.perf_counter() - t0
    ts = {k: [] for k in fns}
    for _ in range(rounds):
        for k, f in fns.items():
            t0 = time.perf_counter()
            for _ in range(inner):
                out = f()
            block(out)
            ts[k].append((time.perf_counter() - t0) / inner)
    out = {
        k: {
            "median_s": float(np.median(v)),
            "min_s": float(np.min(v)),
            "max_s": float(np.max(v)),
            "repeats": len(v),
            "first_call_s": first.get(k),
            "per_round_s": [float(t) for t in v],
        }
        for k, v in ts.items()
    }
    base = np.asarray(ts[next(iter(fns))])
    out["ratios"] = {k: float(np.median(np.asarray(v) / base)) for k, v in ts.items()}
    out["ratios_of_min"] = {k: float(np.min(v) / np.min(base)) for k, v in ts.items()}
    out["loadavg"] = list(os.getloadavg())
    return out


def device_info() -> dict:
    import jax

    devs = jax.devices()
    d = devs[0]
    info = {
        "platform": d.platform,
        "device_kind": getattr(d, "device_kind", str(d)),
        "device_count": len(devs),
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
    }
    try:
        import jaxlib

        info["jax"] = jax.__version__
        info["jaxlib"] = jaxlib.__version__
    except Exception:  # pragma: no cover
        pass
    for mod in ("numpy", "scipy", "equinox", "optax"):
        try:
            info[mod] = __import__(mod).__version__
        except Exception:
            pass
    if d.platform == "gpu":
        try:
            out = subprocess.run(
                [
                    "nvidia-smi",
                    "--query-gpu=name,memory.total,driver_version",
                    "--format=csv,noheader",
                ],
                capture_output=True,
                text=True,
                timeout=10,
            )
            info["gpu"] = out.stdout.strip()
        except Exception:
            pass
    return info


def device_tag() -> str:
    import jax

    d = jax.devices()[0]
    if d.platform == "cpu":
        return f"cpu{os.cpu_count()}"
    return d.device_kind.replace(" ", "_").lower()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measured_gemm_gflops(n: int = 2000, dtype: str = "float64") -> float:
    """The machine's NumPy GEMM rate (GFLOP/s) at size n (2 n^3 flops)."""
    a = np.random.default_rng(0).standard_normal((n, n)).astype(dtype)
    b = np.random.default_rng(1).standard_normal((n, n)).astype(dtype)
    t = timeit(lambda: a @ b, repeats=5)
    return 2 * n**3 / t["median_s"] / 1e9


def measured_copy_gbs(nbytes: int = 1 << 28) -> float:
    """The machine's NumPy memory copy bandwidth (GB/s, read + write counted)."""
    a = np.ones(nbytes // 8)
    b = np.empty_like(a)
    t = timeit(lambda: np.copyto(b, a), repeats=5)
    return 2 * nbytes / t["median_s"] / 1e9


def write_results(name: str, payload: dict, out: Path | None = None) -> Path:
    """Write ``payload`` plus device/version info as JSON; returns the path."""
    out = Path(out) if out else RESULTS
    out.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": name,
        "device": device_info(),
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **payload,
    }
    path = out / f"{name}-{device_tag()}.json"
    path.write_text(json.dumps(payload, indent=2, default=float))
    return path


def markdown_table(headers: list[str], rows: list[list[Any]]) -> str:
    def f(v):
        if isinstance(v, float):
            return f"{v:.3g}"
        return str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(f(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)
