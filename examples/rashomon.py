"""Rashomon set of a shallow ReLU network (arXiv 2306.17301, slides "Rashomon set").

Measures P(||h - f|| <= eps ||f||) by Monte Carlo for f = sin(nu pi x) as nu grows, the
probability of the Hoeffding event <h, f> >= (1 - eps)||f||^2, and the bound
exp(-n (1-eps)^2 ||f||^4 / (2 A^2 kappa^2)) with (a) the slides' kappa (Delta g = f,
g(+-1) = 0, kappa = sup|g|) and (b) the valid kappa = sup_{w,b} |<relu(w x - b), f>|.

Claim checked: the bound with the valid kappa holds for every nu, while the slides'
constant is violated (its bound falls below the measured probability of the event it
bounds); kappa = 2/(nu pi) exactly, so the valid exponent grows like nu^2.

    python examples/rashomon.py [--small] [--out DIR]
"""

import argparse
import json
import math
import sys
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a source tree

import jax.random as jr  # noqa: E402
import numpy as np  # noqa: E402

import spectral_jax as sj  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true", help="tiny sizes (< 20 s)")
    ap.add_argument("--out", default="./out_examples", help="output folder")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    n, eps, A = 4, 0.9, 8.0
    freqs = [1, 2, 4, 8] if args.small else [1, 2, 3, 4, 6, 8, 12, 16]
    N = 20_000 if args.small else 1_000_000
    s = sj.rashomon_frequency_sweep(
        freqs, n, eps, A=A, num_samples=N, key=jr.key(0), progress=not args.small
    )

    print(f"f = sin(nu pi x) on (-1, 1), n = {n}, eps = {eps}, A = {A}, {N} samples per nu")
    print(
        f"{'nu':>4} {'P(R_eps)':>10} {'P(Hoeff. event)':>16} {'kappa':>9} {'2/(nu pi)':>9} "
        f"{'bound':>9} {'kappa_slides':>12} {'bound_slides':>12}"
    )
    for i, nu in enumerate(s.frequencies):
        print(
            f"{nu:4g} {s.estimate[i]:10.3e} {s.hoeffding_probability[i]:16.4f} {s.kappa[i]:9.4f} "
            f"{2 / (nu * math.pi):9.4f} {s.bound[i]:9.4f} {s.kappa_poisson[i]:12.3e} "
            f"{s.bound_poisson[i]:12.3e}"
        )
    sj.plot_frequency_sweep(s, out / "rashomon_sweep.png")
    (out / "rashomon_sweep.json").write_text(
        json.dumps(
            s.as_dict(),
            indent=1,
        )
    )
    print(f"figure: {out / 'rashomon_sweep.png'}")

    ok_valid = bool(np.all(s.hoeffding_probability <= s.bound))
    violated = s.hoeffding_probability > s.bound_poisson
    ok_kappa = bool(np.allclose(s.kappa, 2 / (np.pi * s.frequencies), rtol=1e-8))
    print(f"valid bound holds for every nu: {ok_valid}")
    print(f"slides' bound violated at nu = {s.frequencies[violated].tolist()}")
    print(f"kappa = 2/(nu pi) to 1e-8: {ok_kappa}")
    if not (ok_valid and ok_kappa and violated.any()):
        print(
            "CLAIM FAILED: expected the valid bound to hold, kappa = 2/(nu pi), and the slides' "
            "bound to fail"
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
