"""The slides' 2D test example (arXiv:2306.17301 talk):
f(x) = sum_ij a_ij sin(b_i x_i + c_ij x_i x_j) cos(b_j x_j + d_ij x_i^2) on [-1, 1]^2,
fitted by least squares with n ReLU neurons, random directions w on S^1 and biases
b ~ U[-1, 1): the error vs the width n (QR on a tensor Gauss rule, weighted).

Usage: python examples/fit_2d.py [--small] [--out DIR]
"""

import argparse
import json
import os
import sys
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import jax.random as jr  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from spectral_jax._style import (  # noqa: E402
    COLORS,
    DATA,
    finish,
    house_style,
    legend,
    log_range,
    new_figure,
    tidy_ticks,
)
from spectral_jax.domains import Box  # noqa: E402
from spectral_jax.fit import NetworkBasis, fit_least_squares, plot_fit  # noqa: E402
from spectral_jax.networks import iid_biases, random_directions  # noqa: E402
from spectral_jax.targets import get_target  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--small", action="store_true", help="widths up to 100")
    ap.add_argument("--out", default="./out_examples")
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    widths = (25, 50, 100) if a.small else (25, 50, 100, 200, 400, 800)
    f = get_target("test2d")
    dom = Box.cube(2)
    rows, last = [], None
    for n in widths:
        kw, kb = jr.split(jr.fold_in(jr.key(2), n))
        basis = NetworkBasis(
            "relu",
            random_directions(n, 2, key=kw),
            iid_biases(n, key=kb),
            dom,
            quad_order=4,
            quad_panels=48 if not a.small else 24,
        )
        r = fit_least_squares(basis, f, solver="qr", eval_points=101)
        rows.append(
            dict(n=n, max=r.max_error, mse=r.mse, rel_l2=r.rel_l2_error, cond=r.condition_number)
        )
        print(
            f"n={n:4d}: MAX {r.max_error:.3e}  MSE {r.mse:.3e}  rel L2 {r.rel_l2_error:.3e}  "
            f"cond(sqrt(W) Phi) {r.condition_number:.3g}",
            flush=True,
        )
        last = r
    slope = float(
        np.polyfit(np.log([r["n"] for r in rows]), np.log([r["rel_l2"] for r in rows]), 1)[0]
    )
    print(f"fitted rate: rel L2 error ~ n^{slope:.2f}")

    with house_style():
        fig, ax = new_figure(figsize=(5.0, 3.6))
        n_ = np.array([r["n"] for r in rows], np.float64)
        rel = np.array([r["rel_l2"] for r in rows])
        mx = np.array([r["max"] for r in rows])
        ax.loglog(n_, rel, "o-", **DATA, label=rf"relative $L^2$ error (slope ${slope:.2f}$)")
        ax.loglog(n_, mx, "s-", color=COLORS[0], lw=1.4, label="MAX error")
        ax.set_ylim(*log_range(np.concatenate([rel, mx])))
        ax.set_xlabel(r"width $n$")
        ax.set_ylabel("error")
        ax.set_title(r"2D test function: ReLU, random $w$ and $b$")
        tidy_ticks(ax)
        ax.set_xticks(n_, [f"{v:.0f}" for v in n_])  # the widths, no overlapping minor labels
        ax.minorticks_off()
        legend(ax)
    finish(fig, out / "approximation_2d_width.png")
    plot_fit(last, f, out / "approximation_2d_fit.png", title=f"test2d, n = {widths[-1]}")
    (out / "fit_2d.json").write_text(json.dumps({"rows": rows, "slope": slope}))
    print(f"figures: {out / 'approximation_2d_width.png'}, {out / 'approximation_2d_fit.png'}")
    if not (slope < -0.3 and rows[-1]["rel_l2"] < 0.5 * rows[0]["rel_l2"]):
        print(f"CLAIM FAILED: the error does not decrease with the width (slope {slope:.2f})")
        sys.exit(1)
    print("claim checked: the 2D error decreases with the width.")


if __name__ == "__main__":
    os.environ.setdefault("MPLBACKEND", "Agg")
    main()
