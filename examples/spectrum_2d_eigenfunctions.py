"""The slides' 2D eigenfunctions (arXiv:2306.17301): the ReLU Gram matrix on the unit disk
with random directions w_i on S^1 and i.i.d. biases b_i in [-1, 1]; eigenfunctions
psi_1..4, psi_50, 100, 200, 250, and the decay rate against the claimed k^-(d+3)/d = k^-5/2.

Usage: python examples/spectrum_2d_eigenfunctions.py [--small] [--out DIR]
"""

import argparse
import json
import sys
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import jax.random as jr  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from spectral_jax.domains import Ball  # noqa: E402
from spectral_jax.gram import gram_matrix_with_error  # noqa: E402
from spectral_jax.networks import iid_biases, random_directions  # noqa: E402
from spectral_jax.spectrum import (  # noqa: E402
    decay_rate,
    eigenfunctions,
    eigh_spectrum,
    plot_eigenfunctions,
    plot_spectrum,
)

PAPER_RATE = 2.5  # (d + 3) / d with d = 2
#: stated tolerance: at the widths a CPU affords (n <= 400) we measure 2.85-3.0 (see
#: docs/guide/spectra.md), so the check is that the rate lies in [2.2, 3.2]: far below the
#: 1D value 4 and within 0.7 of the asymptotic 5/2.
LO, HI = 2.2, 3.2


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--small", action="store_true", help="tiny sizes (n = 200)")
    ap.add_argument("--out", default="./out_examples", help="folder for the figures and JSON")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    n = 200 if args.small else 400
    modes = [1, 2, 3, 4, 50, 100] if args.small else [1, 2, 3, 4, 50, 100, 200, 250]
    disk = Ball(2)
    W = random_directions(n, 2, key=jr.key(0))
    b = iid_biases(n, key=jr.key(1))
    r = gram_matrix_with_error("relu", W, b, disk, tol=1e-4 if args.small else 1e-5)
    spec = eigh_spectrum(r.matrix)
    lam = np.asarray(spec.eigenvalues)
    fit = decay_rate(lam)
    print(
        f"2D ReLU on the disk, n={n}: quadrature {r.method} with {r.rule.size} nodes, "
        f"estimated relative error {r.error_estimate:.1e}"
    )
    print(
        f"fitted rate {fit.rate:.3f} over k={fit.fit_range} (R^2 {fit.r_squared:.4f}); paper "
        f"(d+3)/d = {PAPER_RATE}"
    )
    x = disk.grid(50 if args.small else 90)
    psi = eigenfunctions(spec, "relu", W, b, x, modes=[m - 1 for m in modes])
    plot_eigenfunctions(x, psi, out / "spectrum_2d_eigenfunctions.png", modes=modes)
    plot_spectrum(
        [lam],
        out / "spectrum_2d.png",
        labels=[f"disk, n={n}"],
        fits=[fit],
        floor=n * np.finfo(float).eps * lam[0],
    )
    (out / "spectrum_2d.json").write_text(
        json.dumps(
            dict(
                n=n,
                rate=fit.rate,
                fit_range=fit.fit_range,
                r2=fit.r_squared,
                paper=PAPER_RATE,
                quadrature_nodes=r.rule.size,
                quadrature_error=r.error_estimate,
            ),
            indent=1,
        )
    )
    print("figures:", out / "spectrum_2d_eigenfunctions.png", out / "spectrum_2d.png")
    if not (LO <= fit.rate <= HI):
        sys.exit(f"check failed: 2D rate {fit.rate:.3f} outside [{LO}, {HI}]")
    print(f"check passed: 2D rate {fit.rate:.3f} in [{LO}, {HI}] (paper {PAPER_RATE})")


if __name__ == "__main__":
    main()
