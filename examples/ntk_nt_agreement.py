"""Our NTK of a neural-tangents stax MLP against neural-tangents' own (committed fixture).

The fixture ``tests/data/nt_mlp_ntk.npz`` was computed once with neural-tangents 0.6.5 in its
own environment (``benchmarks/_nt_layered_runner.py``, command "fixture"): a stax MLP
3 -> 7 -> 6 -> 2 (ReLU, standard parameterisation), its parameters and its empirical NTK on
12 points with ``trace_axes=()`` (shape (12, 12, 2, 2)). Here the parameters are converted
by ``from_stax_mlp``; our layered NTK of the converted MLP is compared entry by entry and the
agreement figure is written (``docs/figures/ntk_nt_agreement.png`` in the docs).

Usage: python examples/ntk_nt_agreement.py [--small] [--out DIR]
"""

import argparse
import sys
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import matplotlib as mpl  # noqa: E402

mpl.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from spectral_jax._files import save_figure  # noqa: E402
from spectral_jax.networks import from_stax_mlp  # noqa: E402
from spectral_jax.ntk import empirical_ntk  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--small", action="store_true", help="accepted for the smoke test (the run is small)"
    )
    ap.add_argument("--out", default="./out_examples")
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    d = np.load(ROOT / "tests" / "data" / "nt_mlp_ntk.npz")
    params = []
    for i in range(3):
        params += [()] if i else []
        params.append((d[f"W{i}"], d[f"b{i}"]))
    mlp = from_stax_mlp(params, "relu")
    ours = np.asarray(empirical_ntk(mlp, d["x"], output="full"))  # auto: the layered path
    ref = d["ntk"]
    err = np.abs(ours - ref)
    rel = err.max() / np.abs(ref).max()
    print(f"max |ours - neural-tangents| = {err.max():.3e} (relative {rel:.3e}) over {ref.size}")

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.8))
    ax1.plot(ref.ravel(), ours.ravel(), "o", ms=3, alpha=0.6, label="kernel entries")
    lim = [ref.min(), ref.max()]
    ax1.plot(lim, lim, "-", color="C3", lw=1, label="$y = x$")
    ax1.set_xlabel(r"neural-tangents $K_{oo'}(x_i, x_j)$")
    ax1.set_ylabel(r"spectral_jax $K_{oo'}(x_i, x_j)$")
    ax1.set_title("stax MLP 3-7-6-2, full output kernel")
    ax1.legend(loc="upper left")
    pos = err.ravel()[err.ravel() > 0]
    ax2.hist(np.log10(pos), bins=30, color="C0")
    ax2.set_xlabel(r"$\log_{10} |K_{\mathrm{ours}} - K_{\mathrm{nt}}|$")
    ax2.set_ylabel("entries")
    ax2.set_title(f"max relative error {rel:.1e} ({ref.size - pos.size} entries equal)")
    fig.tight_layout()
    path = save_figure(fig, out / "ntk_nt_agreement.png")
    print(f"wrote {path}")
    assert rel < 1e-10, rel


if __name__ == "__main__":
    main()
