"""The design round trip's third leg: design phi for a target penalty rho, train a wide
network with it in the kernel regime on a sum of sines, and check that frequency k is
learned at the rate n / (2 pi rho(k)) (arXiv 2503.10587, Sec. III: the spectral bias of the
kernel regime is 1/rho).

Targets: rho = e^{2|k|} (monotone: high frequencies learned exponentially slower) and the
band-pass rho = e^{(|k|-3)^2} (frequency 3 learned first). Set-up: periodic inputs on
[0, 2 pi), n evenly spaced biases, outer weights trained by the exact gradient flow
(LinearisedFlow) of the continuous L2 loss; see `roundtrip_training`. The paper gives the
proportionality (rate ~ 1/rho), no numbers: we check measured vs predicted to 1e-3.

Usage: python examples/design_roundtrip.py [--small] [--out DIR]
"""

import argparse
import json
import sys
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from spectral_jax.design import design_activation, roundtrip_training  # noqa: E402

TOL = 1e-3
TARGETS = [("exp(2*abs(k))", (1, 2, 3, 4)), ("exp((abs(k)-3)**2)", (1, 2, 3, 4, 5))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--small", action="store_true", help="tiny sizes")
    ap.add_argument("--out", default="./out_examples", help="output directory")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    width = 32 if args.small else 128
    accuracy = 1e-4 if args.small else 1e-6
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 2, figsize=(10, 3.8))
    rows, ok = [], True
    for (rho, freqs), marker in zip(TARGETS, ("o", "s"), strict=True):
        freqs = freqs[:3] if args.small else freqs
        d = design_activation(rho, band=(0.5, 6.0), accuracy=accuracy)
        r = roundtrip_training(d.activation, rho, frequencies=freqs, width=width)
        rows.append({"rho": rho, "design": d.summary(), "training": r.summary()})
        ok &= r.max_rel_error < TOL
        print(f"rho = {rho}  (n = {width}, design error {d.max_rel_error:.1e})")
        print("   k   predicted n/(2 pi rho)   measured rate   rel. error")
        for k, p, m, e in zip(
            r.frequencies, r.predicted_rate, r.measured_rate, r.rel_error, strict=True
        ):
            print(f"  {int(k):2d}   {float(p):20.6e}   {float(m):13.6e}   {float(e):9.1e}")
        ax[0].semilogy(r.frequencies, r.predicted_rate, "k" + marker, mfc="none", ms=9)
        ax[0].semilogy(r.frequencies, r.measured_rate, marker, label=f"measured, rho={rho}")
        t = np.asarray(r.times)
        for j, k in enumerate(r.frequencies):
            e = np.asarray(r.mode_errors[:, j])
            x = t * float(r.predicted_rate[j])
            keep = x <= 25
            ax[1].semilogy(x[keep], e[keep] / e[0], label=f"{rho}: k={int(k)}", lw=1)
    ax[0].set(
        xlabel="frequency k",
        ylabel="learning rate",
        title="measured (filled) vs n/(2 pi rho(k)) (open)",
    )
    ax[0].legend(fontsize=7)
    xs = np.linspace(0, 25, 50)
    ax[1].semilogy(xs, np.exp(-xs), "k:", lw=2, label="exp(-x)")
    ax[1].set(
        xlabel="x = t n / (2 pi rho(k))",
        ylabel="e_k(t) / e_k(0)",
        ylim=(1e-10, 2),
        title="errors vs predicted time: all on exp(-x)",
    )
    ax[1].legend(fontsize=5, ncol=2)
    fig.tight_layout()
    fig.savefig(out / "design_roundtrip.png", dpi=80)
    plt.close(fig)
    (out / "design_roundtrip.json").write_text(json.dumps(rows, indent=1))
    worst = max(row["training"]["max_rel_error"] for row in rows)
    print(f"paper: rate of frequency k proportional to 1/rho(k); ours: max rel. error {worst:.1e}")
    if not ok:
        print(f"FAILED: measured rates differ from n/(2 pi rho(k)) by more than {TOL:g}")
        return 1
    print(f"OK: every frequency learned at n/(2 pi rho(k)) within {TOL:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
