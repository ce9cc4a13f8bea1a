"""Stability of shallow-network least squares w.r.t. noise and over-parametrisation
(arXiv:2306.17301 talk: "stable w.r.t. noise and over-parametrization").

(a) Noisy samples y = arctan(25x) + sigma*N(0,1) on m evenly spaced points, n ReLU
features, SVD least squares: the error against the clean f must stay at the level the
classical estimate E|noise part|^2 ~ sigma^2 n/m predicts (no amplification).
(b) Over-parametrisation: m = 1000 samples, 1500 biases (m < n features): the
minimum-norm truncated SVD solution (flagged rank_deficient) stays bounded between the
samples, close to the n = 1000 fit.

Usage: python examples/stability.py [--small] [--out DIR]
"""

import argparse
import json
import os
import sys
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from spectral_jax._style import (  # noqa: E402
    COLORS,
    DATA,
    FIT,
    LABELS,
    finish,
    house_style,
    legend,
    log_range,
    new_figure,
    tidy_ticks,
)
from spectral_jax.fit import NetworkBasis, fit_samples  # noqa: E402
from spectral_jax.networks import uniform_biases  # noqa: E402
from spectral_jax.targets import get_target  # noqa: E402


def relu(n):
    return NetworkBasis("relu", jnp.ones((n, 1)), uniform_biases(n))


def plot_errors(curves, f, m, n_noise, n_over, path, *, windows=100):
    r"""Two panels in the house style: the local maximum of the pointwise error $|h - f|$
    (over `windows` equal windows of $[-1, 1]$, so that the oscillation between the
    breakpoints does not fill the panel) of the noisy fits (left) and of the
    over-parametrised fits (right), each labelled with its MAX."""
    xs = jnp.linspace(-1, 1, 40 * windows)
    fx = np.asarray(f(xs[:, None]))
    centres = np.asarray(xs).reshape(windows, -1).mean(axis=1)
    with house_style():
        fig, ax = new_figure(ncols=2, figsize=(8.4, 4.0))
        shown = ([], [])
        styles = [dict(color=c, lw=1.4) for c in COLORS]
        over_styles = [dict(DATA, lw=1.4), dict(color=FIT["color"], lw=1.4)]
        for name, r in curves.items():
            e = np.abs(np.asarray(r(xs)) - fx).reshape(windows, -1).max(axis=1)
            side = 0 if "noise σ" in name else 1
            style = (styles if side == 0 else over_styles)[len(shown[side])]
            label = name.replace("σ", r"$\sigma$") + f": MAX {r.max_error:.1e}"
            ax[side].semilogy(centres, e, **style, label=label)
            shown[side].append(e)
        for side, a in enumerate(ax):
            lim = log_range(np.concatenate(shown[side]))
            if lim is not None:
                a.set_ylim(*lim)
            a.set_xlabel(LABELS["x"])
            a.set_ylabel(r"local max of $|h(x) - f(x)|$")
            tidy_ticks(a)
            legend(a, loc="upper center", bbox_to_anchor=(0.5, -0.2))  # below: off the curves
        ax[0].set_title(f"noisy samples: $m = {m}$, $n = {n_noise}$")
        ax[1].set_title(f"over-parametrised: $m = {m}$ samples, $n = {n_over}$")
    finish(fig, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--small", action="store_true", help="m = 300 samples, 450 biases")
    ap.add_argument("--out", default="./out_examples")
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    m, n_noise, n_over = (300, 60, 450) if a.small else (1000, 100, 1500)
    f = get_target("arctan25")
    x = jnp.linspace(-1, 1, m)
    y = f(x[:, None])
    key = jr.key(0)
    failures, res = [], {"noise": [], "over": []}

    # (a) noise
    basis = relu(n_noise)
    clean = fit_samples(basis, x, y, solver="svd", target=f)
    curves = {}
    for sigma in (1e-3, 1e-2, 1e-1):
        noisy = y + sigma * jr.normal(jr.fold_in(key, int(sigma * 1e4)), y.shape)
        r = fit_samples(basis, x, noisy, solver="svd", target=f)
        predicted = clean.mse + sigma**2 * basis.size / m
        res["noise"].append(
            dict(
                sigma=sigma,
                mse=r.mse,
                max=r.max_error,
                predicted_mse=predicted,
                coef_norm=float(jnp.linalg.norm(r.coefficients)),
            )
        )
        print(
            f"noise sigma={sigma:g}: MSE vs clean f {r.mse:.3e} (clean fit {clean.mse:.3e} + "
            "sigma^2 n/m = "
            f"{predicted:.3e}), MAX {r.max_error:.3e}, |coef| "
            f"{float(jnp.linalg.norm(r.coefficients)):.3g}"
        )
        if not r.mse < 3 * predicted:
            failures.append(f"noise sigma={sigma} amplified: MSE {r.mse:.3e} > 3 x {predicted:.3e}")
        curves[f"noise σ={sigma:g}"] = r

    # (b) over-parametrisation
    ref = fit_samples(relu(m), x, y, solver="svd", target=f, allow_rank_deficient=True)
    over = fit_samples(relu(n_over), x, y, solver="svd", target=f, allow_rank_deficient=True)
    noisy = y + 1e-2 * jr.normal(jr.fold_in(key, 7), y.shape)
    over_noisy = fit_samples(
        relu(n_over), x, noisy, solver="svd", target=f, allow_rank_deficient=True
    )
    for name, r in (("n = m", ref), ("over", over), ("over + noise 1e-2", over_noisy)):
        res["over"].append(
            dict(
                case=name,
                n=r.n_features,
                rank=r.rank,
                rank_deficient=r.rank_deficient,
                max=r.max_error,
                mse=r.mse,
            )
        )
        print(
            f"{name:18s}: m={m} samples, {r.n_features} features, rank {r.rank} (rank_deficient="
            f"{r.rank_deficient}), MAX on a 10001-point grid {r.max_error:.3e}, MSE {r.mse:.3e}"
        )
    if not over.rank_deficient:
        failures.append("over-parametrised fit not flagged rank deficient")
    if not over.max_error < 5 * ref.max_error:
        failures.append(
            f"over-parametrised fit not bounded: MAX {over.max_error:.3e} vs {ref.max_error:.3e}"
        )
    if not over_noisy.max_error < 0.2:
        failures.append(f"over-parametrised noisy fit blew up: MAX {over_noisy.max_error:.3e}")
    curves["over-param."] = over
    curves["over-param. + noise"] = over_noisy

    plot_errors(curves, f, m, n_noise, n_over, out / "approximation_stability.png")
    (out / "stability.json").write_text(json.dumps(res, default=float))
    print(f"figure: {out / 'approximation_stability.png'}")
    if failures:
        print("CLAIM FAILED: " + "; ".join(failures))
        sys.exit(1)
    print(
        "claim checked: noise is not amplified beyond sigma^2 n/m, and the over-parametrised fit "
        "stays bounded."
    )


if __name__ == "__main__":
    os.environ.setdefault("MPLBACKEND", "Agg")
    main()
