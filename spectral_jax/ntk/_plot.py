"""Plot helpers for NTK spectra and limit convergence (matplotlib, imported lazily).

Each function draws on ``ax`` (a new figure when ``None``), returns the figure, and saves
it only when given a ``path`` (atomically; the format from the extension, PNG by default).
No pyplot state is used, so nothing needs closing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._files import save_figure

__all__ = ["plot_ntk_spectra", "plot_limit_convergence"]


def _axes(ax: Any, figsize: tuple[float, float]):
    if ax is not None:
        return ax.figure, ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.add_subplot()


def _save(fig: Any, path: str | os.PathLike | None) -> None:
    """Save atomically (`save_figure`) when a path is given."""
    if path is not None:
        save_figure(fig, path)


def plot_ntk_spectra(
    spectra: Mapping[str, Any],
    path: str | os.PathLike | None = None,
    *,
    title: str = "NTK operator eigenvalues",
    reference: Sequence[float] | None = None,
    ax: Any = None,
):
    """Log-log plot of eigenvalues against index for several kernels.

    **Arguments:** `spectra` (label -> descending eigenvalues), `path` (save the figure
    there, atomically; the format from the extension: ``.png``, ``.pdf``, ``.svg``;
    ``None``: do not save), `title`, `reference` (optional closed-form eigenvalues,
    dashed), `ax` (a matplotlib ``Axes`` to draw on; ``None``: a new figure).

    **Returns:** the matplotlib ``Figure``."""
    fig, ax = _axes(ax, (5.5, 4))
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
    _save(fig, path)
    return fig


def plot_limit_convergence(
    widths: Sequence[int],
    errors: Sequence[float],
    path: str | os.PathLike | None = None,
    *,
    rate: float | None = None,
    constant: float | None = None,
    ax: Any = None,
):
    """Log-log plot of $\\|K_m - K_\\infty\\|$ against width $m$, with the fitted rate and
    the predicted $\\sqrt{C/m}$ line when `constant` is given.

    Saves to `path` when given (atomically, format from the extension); draws on `ax` when
    given. **Returns:** the matplotlib ``Figure``."""
    m = np.asarray(widths, float)
    e = np.asarray(errors, float)
    fig, ax = _axes(ax, (5, 3.8))
    ax.loglog(m, e, "o-", label=f"measured (rate {rate:.3f})" if rate is not None else "measured")
    if constant is not None:
        ax.loglog(m, np.sqrt(constant / m), "k--", label=r"$\sqrt{C/m}$ (LLN)")
    ax.set_xlabel("width m")
    ax.set_ylabel(r"$\|K_m - K_\infty\|_{L^2}$")
    ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, path)
    return fig
