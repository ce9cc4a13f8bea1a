"""Plot helpers for NTK spectra, limit convergence and coercivity (matplotlib, lazily)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["plot_ntk_spectra", "plot_limit_convergence"]


def plot_ntk_spectra(
    spectra: Mapping[str, Any],
    path: str | Path,
    *,
    title: str = "NTK operator eigenvalues",
    reference: Sequence[float] | None = None,
) -> Path:
    """Log-log plot of eigenvalues against index for several kernels; saves a PNG.

    **Arguments:** `spectra` (label -> descending eigenvalues), `path`, `title`,
    `reference` (optional closed-form eigenvalues, dashed)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4))
    for label, ev in spectra.items():
        ev = np.asarray(ev, float)
        ev = ev[ev > 0]
        ax.loglog(np.arange(1, ev.size + 1), ev, ".-", ms=3, lw=1, label=label)
    if reference is not None:
        r = np.asarray(reference, float)
        ax.loglog(np.arange(1, r.size + 1), r, "k--", lw=1, label="closed form")
    ax.set_xlabel("index k")
    ax.set_ylabel("eigenvalue")
    ax.set_title(title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_limit_convergence(
    widths: Sequence[int],
    errors: Sequence[float],
    path: str | Path,
    *,
    rate: float | None = None,
    constant: float | None = None,
) -> Path:
    """Log-log plot of $\\|K_m - K_\\infty\\|$ against width $m$, with the fitted rate and
    the predicted $\\sqrt{C/m}$ line when `constant` is given; saves a PNG."""
    import matplotlib.pyplot as plt

    m = np.asarray(widths, float)
    e = np.asarray(errors, float)
    fig, ax = plt.subplots(figsize=(5, 3.8))
    ax.loglog(m, e, "o-", label=f"measured (rate {rate:.3f})" if rate is not None else "measured")
    if constant is not None:
        ax.loglog(m, np.sqrt(constant / m), "k--", label=r"$\sqrt{C/m}$ (LLN)")
    ax.set_xlabel("width m")
    ax.set_ylabel(r"$\|K_m - K_\infty\|_{L^2}$")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
