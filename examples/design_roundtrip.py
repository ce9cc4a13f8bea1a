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
from spectral_jax._style import (  # noqa: E402
    COLORS,
    DATA,
    LABELS,
    REFERENCE,
    finish,
    house_style,
    legend,
    log_range,
    new_figure,
    tidy_ticks,
)
from spectral_jax.design import design_activation, roundtrip_training  # noqa: E402

TOL = 1e-3
#: (rho, frequencies trained, the label of rho in the figure)
TARGETS = [
    ("exp(2*abs(k))", (1, 2, 3, 4), r"$\rho = e^{2|k|}$"),
    ("exp((abs(k)-3)**2)", (1, 2, 3, 4, 5), r"$\rho = e^{(|k|-3)^2}$"),
]
PREDICTED = r"predicted $n/(2\pi\rho(k))$"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--small", action="store_true", help="tiny sizes")
    ap.add_argument("--out", default="./out_examples", help="output directory")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    width = 32 if args.small else 128
    accuracy = 1e-4 if args.small else 1e-6
    from matplotlib.ticker import MaxNLocator

    with house_style():
        fig, (ax_rate, ax_err) = new_figure(ncols=2)
        rows, ok, rates, errors = [], True, [], []
        for i, (rho, freqs, name) in enumerate(TARGETS):
            color = COLORS[i]
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
            kk = np.asarray(r.frequencies, np.float64)
            predicted = np.asarray(r.predicted_rate, np.float64)
            measured = np.asarray(r.measured_rate, np.float64)
            ax_rate.semilogy(kk, measured, "o", ms=5, color=color, label=f"measured, {name}")
            ax_rate.semilogy(
                kk,
                predicted,
                "o",
                ms=10,
                mfc="none",
                color=DATA["color"],
                label=PREDICTED if i == len(TARGETS) - 1 else None,
            )
            rates += [measured, predicted]
            t = np.asarray(r.times, np.float64)
            for j in range(len(r.frequencies)):
                e = np.asarray(r.mode_errors[:, j], np.float64)
                x = t * predicted[j]
                keep = x <= 25
                ax_err.semilogy(
                    x[keep],
                    e[keep] / e[0],
                    color=color,
                    lw=4,
                    alpha=0.5,
                    label=name if j == 0 else None,
                )
                errors.append(e[keep] / e[0])
        ax_rate.set_ylim(*log_range(np.concatenate(rates)))
        ax_rate.set(xlabel=LABELS["freq"], ylabel=r"rate $\lambda_k$ of frequency $k$")
        ax_rate.set_title("measured (filled) against predicted (open)")
        tidy_ticks(ax_rate)
        ax_rate.xaxis.set_major_locator(MaxNLocator(integer=True))
        legend(ax_rate)
        xs = np.linspace(0, 25, 101)
        ax_err.semilogy(
            xs, np.exp(-xs), **dict(REFERENCE, color="black", lw=1.6), zorder=3, label="$e^{-x}$"
        )
        ax_err.set_ylim(*log_range(np.concatenate(errors)))
        ax_err.set(xlabel=r"$x = t\,n/(2\pi\rho(k))$", ylabel=r"$e_k(t)/e_k(0)$")
        ax_err.set_title("error of each frequency: all on $e^{-x}$")
        tidy_ticks(ax_err)
        legend(ax_err)
    finish(fig, out / "design_roundtrip.png", where="design_roundtrip")
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
