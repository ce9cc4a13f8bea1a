"""Run every benchmark script side by side and summarise.

``python benchmarks/run_all.py [--quick] [--only gram ntk ...]`` runs each
``bench_*.py`` in a subprocess (so one failing workload does not stop the others), then
writes ``results/SUMMARY-<device>.md`` (each script's markdown table) and
``results/ratios-<device>.png`` (every reported ratio/speed-up on one chart).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import RESULTS, device_info, device_tag, enable_x64  # noqa: E402


def _ratios(obj, prefix=""):
    """Every numeric field whose key mentions ratio/speedup, flattened."""
    out = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            key = f"{prefix}.{k}" if prefix else str(k)
            if isinstance(v, (int, float)) and any(s in str(k).lower() for s in ("ratio", "speedup")):
                out[key] = float(v)
            elif isinstance(v, (dict, list)):
                out.update(_ratios(v, key))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out.update(_ratios(v, f"{prefix}[{i}]"))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes")
    ap.add_argument("--only", nargs="*", help="benchmark names (e.g. gram ntk)")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per script")
    args = ap.parse_args(argv)
    enable_x64()
    scripts = sorted(HERE.glob("bench_*.py"))
    if args.only:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in args.only]
    tag = device_tag()
    t_start = time.time()
    sections, status = [], {}
    for s in scripts:
        print(f"== {s.name}", file=sys.stderr, flush=True)
        cmd = [sys.executable, str(s)] + (["--quick"] if args.quick else [])
        t0 = time.perf_counter()
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
            ok, text = out.returncode == 0, out.stdout + ("\n" + out.stderr[-2000:] if out.returncode else "")
        except subprocess.TimeoutExpired:
            ok, text = False, f"timed out after {args.timeout} s"
        status[s.stem] = {"ok": ok, "seconds": time.perf_counter() - t0}
        sections.append(f"## {s.stem} ({'ok' if ok else 'FAILED'}, {status[s.stem]['seconds']:.0f} s)\n\n{text.strip()}\n")
        print(f"   {'ok' if ok else 'FAILED'} in {status[s.stem]['seconds']:.0f} s", file=sys.stderr, flush=True)
    info = device_info()
    header = f"# Benchmark summary — {info.get('device_kind')} ({tag})\n\n```\n{json.dumps(info, indent=1)}\n```\n"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"SUMMARY-{tag}.md").write_text(header + "\n".join(sections))
    ratios = {}
    for p in sorted(RESULTS.glob(f"*-{tag}.json")):
        try:
            data = json.loads(p.read_text())
        except json.JSONDecodeError:
            continue
        for k, v in _ratios(data).items():
            ratios[f"{p.stem.removesuffix('-' + tag)}:{k}"] = v
    if ratios:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        names = list(ratios)[:60]
        fig, ax = plt.subplots(figsize=(9, 0.25 * len(names) + 1.5))
        ax.barh(range(len(names)), [ratios[n] for n in names])
        ax.set_yticks(range(len(names)), [n[:70] for n in names], fontsize=6)
        ax.set_xscale("log")
        ax.axvline(1.0, color="k", lw=0.8)
        ax.set_xlabel("ratio / speed-up (as reported by each script)")
        ax.set_title(f"spectral_jax benchmarks on {tag}")
        fig.tight_layout()
        fig.savefig(RESULTS / f"ratios-{tag}.png", dpi=110)
        plt.close(fig)
    (RESULTS / f"run_all-{tag}.json").write_text(json.dumps({"device": info, "status": status, "ratios": ratios, "seconds": time.time() - t_start}, indent=1))
    print((RESULTS / f"SUMMARY-{tag}.md").read_text())
    return 0 if all(v["ok"] for v in status.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
