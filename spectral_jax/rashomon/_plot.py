"""Figure of the Rashomon estimate against the Hoeffding bound vs frequency."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._sweep import FrequencySweep

__all__ = ["plot_frequency_sweep"]


def plot_frequency_sweep(
    sweep: FrequencySweep, path: str | Path, *, title: str | None = None
) -> Path:
    r"""Plot $\mathbb{P}(\mathcal{R}_\varepsilon)$ (MC, with the 95% upper end), the
    Hoeffding-event probability, the valid bound and the slides' bound against $\nu$
    (log scale) and save it as ``path`` (PNG). Returns the path."""
    import matplotlib.pyplot as plt

    nu = sweep.frequencies
    tiny = 1.0 / (10 * sweep.num_samples)
    fig, ax = plt.subplots(figsize=(6.0, 4.0), dpi=100)
    ax.semilogy(nu, np.maximum(sweep.estimate, tiny), "o-", label=r"MC $P(R_\varepsilon)$")
    ax.semilogy(nu, sweep.ci_high, "v:", color="C0", alpha=0.6, label="95% upper end")
    ax.semilogy(
        nu,
        np.maximum(sweep.hoeffding_probability, tiny),
        "s-",
        label=r"MC $P(\langle h,f\rangle\geq(1-\varepsilon)\|f\|^2)$",
    )
    ax.semilogy(nu, sweep.bound, "k-", lw=2, label=r"bound, $\kappa=\sup|\langle\sigma,f\rangle|$")
    ax.semilogy(
        nu,
        np.maximum(sweep.bound_poisson, 1e-300),
        "r--",
        label=r"slides' bound ($\Delta g=f$, $g|_{\partial D}=0$)",
    )
    ax.set_xlabel(r"frequency $\nu$")
    ax.set_ylabel("probability")
    ax.set_ylim(max(tiny / 10, 1e-12), 2.0)
    ax.set_title(
        title or f"Rashomon set, d={sweep.dim}, n={sweep.n}, eps={sweep.epsilon:g}, A={sweep.A:g}"
    )
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
