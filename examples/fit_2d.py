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

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.6))
    ax.loglog(
        [r["n"] for r in rows],
        [r["rel_l2"] for r in rows],
        "o-",
        label=f"rel. L2 (slope {slope:.2f})",
    )
    ax.loglog([r["n"] for r in rows], [r["max"] for r in rows], "s--", label="MAX")
    ax.set_xlabel("width n")
    ax.set_title("2D test function, ReLU, random w and b")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "approximation_2d_width.png", dpi=80)
    plt.close(fig)
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
