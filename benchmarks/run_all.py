"""Run every benchmark script side by side and summarise.

``python benchmarks/run_all.py [--quick] [--only gram ntk ...] [--out DIR]`` runs each
``bench_*.py`` in a subprocess (so one failing or missing-comparator workload does not stop
the others), then writes ``<out>/SUMMARY-<device>.md`` (each script's markdown table and
status) and ``<out>/ratios-<device>.png`` (every ratio/speed-up reported in this run on
one chart), plus ``<out>/run_all-<device>.json`` (status and seconds per script).

The optional comparators are found by the scripts themselves: neural-tangents in the venv
named by ``NT_PYTHON`` (default ``/work/nt-venv/bin/python``, made by
``ntk_reference_env.sh``), torch.func in the venv named by ``TORCH_PYTHON`` (default
``/work/torch-venv/bin/python``, made by ``torch_reference_env.sh``; both fall back to
``/tmp/ntenv`` and ``/tmp/torchenv``); a missing one is
recorded as skipped, never a failure.
``--quick`` defaults ``--out`` to ``results/quick`` so a smoke run never overwrites the
full results. Scripts: gram, eigh, fit, ntk, dynamics, rashomon, design, and scaling
(how cost grows with n, N, d, with projections).
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
            if isinstance(v, (int, float)) and any(
                s in str(k).lower() for s in ("ratio", "speedup")
            ):
                out[key] = float(v)
            elif isinstance(v, (dict, list)):
                out.update(_ratios(v, key))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out.update(_ratios(v, f"{prefix}[{i}]"))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="small sizes")
    ap.add_argument("--only", nargs="*", help="benchmark names (e.g. gram ntk)")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per script")
    ap.add_argument(
        "--out",
        default=None,
        help="results folder (default results/, or results/quick with --quick)",
    )
    args = ap.parse_args(argv)
    enable_x64()
    scripts = sorted(HERE.glob("bench_*.py"))
    if args.only:
        known = {s.stem.removeprefix("bench_") for s in scripts}
        unknown = sorted(set(args.only) - known)
        if unknown:
            ap.error(f"--only: unknown benchmark(s) {unknown}; known: {sorted(known)}")
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in args.only]
    out_dir = Path(args.out) if args.out else (RESULTS / "quick" if args.quick else RESULTS)
    out_dir.mkdir(parents=True, exist_ok=True)
    if args.quick and not args.out:  # smoke results are not meant to be committed
        (out_dir / ".gitignore").write_text("*\n")
    tag = device_tag()
    t_start = time.time()
    sections, status = [], {}
    for s in scripts:
        print(f"== {s.name}", file=sys.stderr, flush=True)
        cmd = [sys.executable, str(s)] + (["--quick"] if args.quick else [])
        if '"--out"' in s.read_text():  # scripts without --out write to results/
            cmd += ["--out", str(out_dir)]
        t0 = time.perf_counter()
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
            ok, text = (
                out.returncode == 0,
                out.stdout + ("\n" + out.stderr[-2000:] if out.returncode else ""),
            )
        except subprocess.TimeoutExpired:
            ok, text = False, f"timed out after {args.timeout} s"
        except OSError as e:  # pragma: no cover - interpreter vanished
            ok, text = False, f"could not start: {e}"
        status[s.stem] = {"ok": ok, "seconds": time.perf_counter() - t0}
        sections.append(
            f"## {s.stem} ({'ok' if ok else 'FAILED'}, {status[s.stem]['seconds']:.0f} s)\n\n"
            f"{text.strip()}\n"
        )
        print(
            f"   {'ok' if ok else 'FAILED'} in {status[s.stem]['seconds']:.0f} s",
            file=sys.stderr,
            flush=True,
        )
    info = device_info()
    total = time.time() - t_start
    table = "| script | status | seconds |\n|---|---|---|\n" + "".join(
        f"| {k} | {'ok' if v['ok'] else 'FAILED'} | {v['seconds']:.0f} |\n"
        for k, v in status.items()
    )
    header = (
        f"# Benchmark summary — {info.get('device_kind')} ({tag})\n\n"
        f"Mode: {'--quick' if args.quick else 'full'}; total {total:.0f} s.\n\n{table}\n"
        f"```\n{json.dumps(info, indent=1)}\n```\n"
    )
    summary = out_dir / f"SUMMARY-{tag}.md"
    summary.write_text(header + "\n".join(sections))
    ratios = {}
    for p in sorted(out_dir.glob(f"*-{tag}.json")):
        if p.stem.startswith("run_all") or p.stat().st_mtime < t_start:
            continue  # only what this run wrote
        try:
            data = json.loads(p.read_text())
        except json.JSONDecodeError:
            continue
        for k, v in _ratios(data).items():
            ratios[f"{p.stem.removesuffix('-' + tag)}:{k}"] = v
    if ratios:
        try:
            _plot_ratios(ratios, out_dir / f"ratios-{tag}.png", tag)
        except Exception as e:  # a plotting problem must not lose the summary
            print(f"ratio chart not written: {e}", file=sys.stderr)
    (out_dir / f"run_all-{tag}.json").write_text(
        json.dumps(
            {
                "device": info,
                "quick": args.quick,
                "status": status,
                "ratios": ratios,
                "seconds": total,
            },
            indent=1,
        )
    )
    print(summary.read_text())
    return 0 if all(v["ok"] for v in status.values()) else 1


def _plot_ratios(ratios: dict, path: Path, tag: str) -> None:
    import matplotlib as mpl

    mpl.use("Agg")
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
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
