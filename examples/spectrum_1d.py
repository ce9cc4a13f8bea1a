"""The slides' 1D spectrum figure (arXiv:2306.17301): eigenvalues of the ReLU Gram matrix
on (-1, 1) for evenly spaced and adaptive biases (f = arctan(25x)), n = 100 and 1000,
in float64, against the claimed decay lambda_k = O(k^-4).

Also checks the slides' scaling |lambda_k - (n/2) mu_k| <= C against the continuous
kernel's eigenvalues mu_k (Nyström).

Usage: python examples/spectrum_1d.py [--small] [--out DIR]
"""

import argparse
import json
import sys
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from spectral_jax.gram import gram_kernel_eigenvalues, relu_gram_1d  # noqa: E402
from spectral_jax.networks import shallow_parameters  # noqa: E402
from spectral_jax.spectrum import decay_rate, eigh_spectrum, plot_spectrum, resolvable_modes  # noqa: E402
from spectral_jax.targets import get_target  # noqa: E402

PAPER_RATE = 4.0
TOL = 0.15  # |fitted rate - 4| allowed for evenly spaced biases


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--small", action="store_true", help="tiny sizes (n = 100, 200)")
    ap.add_argument("--out", default="./out_examples", help="folder for the figure and JSON")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ns = (100, 200) if args.small else (100, 1000)
    f = get_target("arctan25")
    spectra, fits, labels, res = [], [], [], {}
    for rule in ("uniform", "adaptive"):
        for n in ns:
            target = f.scalar() if rule == "adaptive" else None
            _, b = shallow_parameters(n, bias_rule=rule, target=target)
            b = b[b < 1.0]  # relu(x - 1) vanishes on (-1, 1)
            lam = np.asarray(eigh_spectrum(relu_gram_1d(b)).eigenvalues)
            fit = decay_rate(lam)
            spectra.append(lam)
            fits.append(fit)
            labels.append(f"{rule}, n={n}")
            res[f"{rule}_{n}"] = dict(
                rate=fit.rate,
                fit_range=fit.fit_range,
                r2=fit.r_squared,
                cond=float(lam[0] / lam[-1]),
                resolvable_f32=resolvable_modes(lam, np.float32),
                resolvable_f64=resolvable_modes(lam, np.float64),
            )
            print(
                f"{rule:8s} n={n:5d}: rate {fit.rate:.3f} over k={fit.fit_range} (paper: 4), "
                f"cond {lam[0] / lam[-1]:.2e}, resolvable modes f32/f64 "
                f"{res[f'{rule}_{n}']['resolvable_f32']}/{res[f'{rule}_{n}']['resolvable_f64']}"
            )
    # (n/2) mu_k scaling
    n = ns[-1]
    mu = np.asarray(gram_kernel_eigenvalues("relu", nodes=800 if not args.small else 400, k=10))
    lam = spectra[1][:10]
    ratio = lam / (n * mu)
    res["lambda_over_n_mu"] = ratio.tolist()
    res["abs_diff_lambda_minus_half_n_mu"] = np.abs(lam - n / 2 * mu).tolist()
    print(f"lambda_k / (n mu_k), k=1..5, n={n}: {np.round(ratio[:5], 4)} (slides: 1/2)")
    print(f"|lambda_k - (n/2) mu_k|, k=1..5: {np.abs(lam - n / 2 * mu)[:5]} (slides: <= C = O(1))")
    plot_spectrum(
        spectra,
        out / "spectrum_1d.png",
        labels=labels,
        fits=fits,
        title="1D ReLU Gram spectrum (float64)",
    )
    (out / "spectrum_1d.json").write_text(json.dumps(res, indent=1))
    print("figure:", out / "spectrum_1d.png")
    bad = [k for k in (f"uniform_{m}" for m in ns) if abs(res[k]["rate"] - PAPER_RATE) > TOL]
    if bad or not np.all(np.abs(ratio[:5] - 0.5) < 0.02):
        sys.exit(f"check failed: rates {[(k, res[k]['rate']) for k in bad]} or ratios {ratio[:5]}")
    print(f"check passed: uniform-bias rates within {TOL} of k^-4; lambda_k ~ (n/2) mu_k")


if __name__ == "__main__":
    main()
