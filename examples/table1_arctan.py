"""Reproduce the slides' Table 1 (arXiv:2306.17301 talk): f = arctan(25x) on (-1, 1),
NN (ReLU features + constant) vs P1 FEM on the same nodes, uniform and adaptive biases,
float32 and float64, MAX and MSE.

The setup that reproduces the slides' float64 rows (see the approximation guide): uniform
biases linspace(-1, 1, n) (``kind="endpoints"``), adaptive F(b_i) = (i-1)/(n-1), the exact
L2 projection, MAX/MSE on linspace(-1, 1, 10000).

Solvers: FEM -> Cholesky on the exact tridiagonal mass matrix; NN -> the normal equations
with the exact Gram ("lu", "cholesky": run at any condition number, with an
IllConditionedWarning; "eigh": truncated at tau = eps) and "qr" (backward-stable least
squares on the quadrature nodes weighted by sqrt(q): the same L2 problem without
squaring the condition number).

Usage: python examples/table1_arctan.py [--small] [--out DIR]
"""

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from spectral_jax._style import (  # noqa: E402
    COLORS,
    DATA,
    FIT,
    LABELS,
    finish,
    house_style,
    log_range,
    new_figure,
    tidy_ticks,
)
from spectral_jax.fit import SLIDES_TABLE1 as SLIDES  # noqa: E402  (the slides' Table 1)
from spectral_jax.fit import (  # noqa: E402
    FEMBasis,
    IllConditionedWarning,
    NetworkBasis,
    fit_least_squares,
)
from spectral_jax.networks import adaptive_biases, uniform_biases  # noqa: E402
from spectral_jax.targets import get_target  # noqa: E402


def run_table(ns, eval_points=10000, small=False):
    f = get_target("arctan25")
    rows, kept = [], {}
    for rule in ("uniform", "adaptive"):
        for n in ns:
            for dt in ("float32", "float64"):
                b = (
                    uniform_biases(n, kind="endpoints", dtype=dt)
                    if rule == "uniform"
                    else adaptive_biases(f.scalar(), n, dtype=dt)
                )
                # adaptive biases end at b_n = 1, where ReLU(x - 1) vanishes on (-1, 1): drop it, so
                # NN (n - 1 ReLUs + 1) and FEM (nodes b_1..b_n) both have n degrees of freedom.
                bn = b[b < 1.0]
                nn = NetworkBasis("relu", jnp.ones((bn.shape[0], 1), dt), bn)
                cases = [("FEM", "cholesky", FEMBasis.from_biases(b))]
                cases += [("NN", s, nn) for s in ("qr", "lu", "cholesky", "eigh")]
                for method, solver, basis in cases:
                    try:
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore", IllConditionedWarning)
                            r = fit_least_squares(
                                basis, f, solver=solver, dtype=dt, eval_points=eval_points
                            )
                        mx, mse, rank, note = r.max_error, r.mse, r.rank, ""
                        if rule == "uniform" and n == ns[-1]:
                            kept[(method, solver, dt)] = r
                    except ValueError as err:  # reported, never a silent NaN
                        mx, mse, rank, note = (
                            float("nan"),
                            float("nan"),
                            0,
                            str(err).split(":")[1][:60].strip(),
                        )
                    paper = SLIDES.get((method, rule, dt, n), (None, None))
                    rows.append(
                        dict(
                            method=method,
                            solver=solver,
                            rule=rule,
                            dtype=dt,
                            n=n,
                            max=mx,
                            mse=mse,
                            rank=rank,
                            paper_max=paper[0],
                            paper_mse=paper[1],
                            note=note,
                        )
                    )
                    print(
                        f"{method:3s} {solver:8s} {rule:8s} {dt} n={n:5d}  MAX {mx:9.3e} "
                        f"(slides {paper[0] or float('nan'):9.2e})  MSE {mse:9.3e} "
                        f"(slides {paper[1] or float('nan'):9.2e})  modes/rank {rank} {note}",
                        flush=True,
                    )
    return rows, kept


def figure(out: Path, n: int, kept: dict, *, windows: int = 200):
    """The pointwise error of the kept fits in the house style: the local maximum of
    |h - f| over `windows` equal windows of [-1, 1] (the oscillation between breakpoints
    would fill the panel), float64 QR solid black, float32 QR dashed over it, the float32
    Gram route and FEM in other colours; legend below the axes."""
    f = get_target("arctan25")
    x = jnp.linspace(-1, 1, 40 * windows)
    centres = np.asarray(x).reshape(windows, -1).mean(axis=1)
    styles = {
        ("NN", "qr", "float64"): dict(DATA),
        ("NN", "qr", "float32"): dict(FIT),
    }
    others = iter([dict(color=c, lw=1.4, ls="-.") for c in COLORS])
    shown = []
    with house_style():
        fig, ax = new_figure(figsize=(6.0, 4.4))
        for (method, solver, dt), r in kept.items():
            if (method, dt) == ("FEM", "float64") or (dt == "float64" and solver != "qr"):
                continue
            e = np.abs(np.asarray(r(x.astype(dt)), np.float64) - np.asarray(f(x[:, None])))
            e = e.reshape(windows, -1).max(axis=1)
            style = styles.get((method, solver, dt)) or next(others)
            label = f"{method}, {solver}, {dt}: MAX {r.max_error:.1e}"
            ax.semilogy(centres, e, **style, label=label)
            shown.append(e)
        lim = log_range(np.concatenate(shown))
        if lim is not None:
            ax.set_ylim(*lim)
        ax.set_xlabel(LABELS["x"])
        ax.set_ylabel(r"local max of $|h(x) - f(x)|$")
        ax.set_title(rf"$f(x) = \arctan(25x)$, uniform biases, $n = {n}$")
        tidy_ticks(ax)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18))  # below: off the curves
    p = out / "approximation_table1_errors.png"
    finish(fig, p)
    return p


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--small", action="store_true", help="n = 100 only")
    ap.add_argument("--out", default="./out_examples")
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    ns = (100,) if a.small else (100, 1000)
    eval_points = 10000  # the grid that reproduces the slides (10001 does not at n = 1000)
    print(
        "solvers: FEM -> Cholesky on the exact mass matrix; NN -> lu, cholesky, eigh (the "
        "normal equations; eigh truncated at tau = machine eps) and qr (Householder QR on the "
        f"weighted quadrature nodes); biases linspace(-1, 1, n) or adaptive; evaluation grid: "
        f"{eval_points} evenly spaced points on [-1, 1], MAX = max |f - h|, MSE = mean (f - h)^2"
    )
    rows, kept = run_table(ns, eval_points=eval_points, small=a.small)
    fig = figure(out, ns[-1], kept)
    (out / "table1_arctan.json").write_text(json.dumps(rows, indent=1, default=float))
    print(f"figure: {fig}")

    def get(method, solver, rule, dt, n):
        return next(
            r
            for r in rows
            if (r["method"], r["solver"], r["rule"], r["dtype"], r["n"])
            == (method, solver, rule, dt, n)
        )

    failures = []
    for n in ns:
        for rule in ("uniform", "adaptive"):
            fem32, fem64 = (
                get("FEM", "cholesky", rule, "float32", n),
                get("FEM", "cholesky", rule, "float64", n),
            )
            qr64, lu32 = get("NN", "qr", rule, "float64", n), get("NN", "lu", rule, "float32", n)
            if not abs(qr64["max"] / fem64["max"] - 1) < 0.05:
                failures.append(f"NN float64 != FEM ({rule}, n={n})")
            if not abs(fem32["max"] / fem64["max"] - 1) < 0.1:
                failures.append(f"FEM depends on precision ({rule}, n={n})")
            for key in ("max", "mse"):
                if not abs(fem64[key] / fem64[f"paper_{key}"] - 1) < 0.02:
                    failures.append(f"FEM float64 {key} differs from the slides ({rule}, n={n})")
            if not (lu32["max"] > 1e-2 and lu32["max"] > 5 * fem32["max"]):
                failures.append(f"float32 NN (normal equations, LU) does not stall ({rule}, n={n})")
        q32 = get("NN", "qr", "uniform", "float32", n)
        if not q32["max"] < 1.1 * get("FEM", "cholesky", "uniform", "float64", n)["max"]:
            failures.append(f"float32 NN with QR is not at float64 accuracy (uniform, n={n})")
    if failures:
        print("CLAIM FAILED: " + "; ".join(failures))
        sys.exit(1)
    print(
        "claim checked: FEM float64 = the slides to 2%; NN = FEM in float64; FEM unaffected by "
        "precision; float32 NN on the normal equations (LU) stalls at MAX >= 1e-2 (the slides' "
        "pattern), while QR on the same L2 problem does not."
    )


if __name__ == "__main__":
    os.environ.setdefault("MPLBACKEND", "Agg")
    main()
