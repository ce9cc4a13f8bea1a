"""The spectral penalties rho(k) = k^(D-1)/|F[phi](k)|^2 of the built-in activations
(arXiv 2503.10587, Table I), D = 1, 2, 3: computed by FFT (activation_spectrum) and
checked against the closed forms of Table I; a log-log figure.

Usage: python examples/penalty_table.py [--small] [--out DIR]
"""

import argparse
import json
import sys
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from spectral_jax.design import activation_spectrum, spectral_penalty  # noqa: E402

#: Table I of the seed, in the library's convention F[phi](k) = int phi e^{-ikz} dz (D = 1)
TABLE_I = {
    "relu": "k^4",
    "relu2": "k^6/4",
    "relu3": "k^8/36",
    "leaky_relu": "k^4/(1-a)^2",
    "tanh": "sinh^2(pi k/2)/pi^2",
    "sigmoid": "sinh^2(pi k)/pi^2",
    "softplus": "k^2 sinh^2(pi k)/pi^2",
    "gelu": "k^4 e^{k^2}/(1+k^2)^2",
    "gaussian": "e^{k^2}/(2 pi)",
    "cauchy": "e^{2|k|}/pi^2",
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--small", action="store_true", help="fewer frequencies")
    ap.add_argument("--out", default="./out_examples", help="output directory")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    k = jnp.asarray(np.geomspace(0.3, 6.0, 8 if args.small else 24))
    worst, rows = 0.0, {}
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), sharey=True)
    for name, formula in TABLE_I.items():
        r = activation_spectrum(name, k, accuracy=1e-7, full_output=True)
        res = np.asarray(r.resolved)
        for D, ax in zip((1, 2, 3), axes, strict=True):
            fft = np.asarray(k) ** (D - 1) / np.asarray(r.values)
            closed = np.asarray(spectral_penalty(name, k, D, method="closed"))
            err = float(np.max(np.abs(fft[res] / closed[res] - 1)))
            worst = max(worst, err)
            rows[f"{name}/D={D}"] = {
                "formula_D1": formula,
                "max_rel_err_fft_vs_closed": err,
                "rho_at_k": dict(
                    zip(np.round(np.asarray(k), 4).tolist(), closed.tolist(), strict=True)
                ),
            }
            ax.loglog(np.asarray(k), closed, label=name)
            ax.set(title=f"D = {D}", xlabel="k")
        print(
            f"{name:10s} rho(k) = k^(D-1) * {formula:24s} FFT vs Table I: max rel err "
            f"{max(rows[f'{name}/D={D}']['max_rel_err_fft_vs_closed'] for D in (1, 2, 3)):.1e} "
            f"({res.sum()}/{res.size} k resolved, m = {r.derivative_order})"
        )
    axes[0].set_ylabel("rho(k)")
    axes[0].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(out / "penalty_table.png", dpi=80)
    plt.close(fig)
    (out / "penalty_table.json").write_text(json.dumps(rows, indent=1))
    if worst > 1e-5:
        print(f"CHECK FAILED: FFT penalties differ from Table I by {worst:.1e}", file=sys.stderr)
        return 1
    print(f"check passed: FFT penalties agree with Table I to {worst:.1e} on the resolved band")
    return 0


if __name__ == "__main__":
    sys.exit(main())
