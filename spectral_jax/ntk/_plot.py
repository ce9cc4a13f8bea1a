"""Plot helpers for NTK spectra and limit convergence (matplotlib, imported lazily).

Each function draws on ``ax`` (a new figure when ``None``), returns the figure, and saves
it only when given a ``path`` (atomically; the format from the extension, PNG by default).
No pyplot state is used, so nothing needs closing. House style: `spectral_jax._style`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._style import (
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

__all__ = ["plot_ntk_spectra", "plot_limit_convergence"]


def plot_ntk_spectra(
    spectra: Mapping[str, Any],
    path: str | os.PathLike | None = None,
    *,
    title: str = "NTK operator eigenvalues",
    reference: Sequence[float] | None = None,
    ax: Any = None,
):
    r"""Log-log plot of eigenvalues $\mu_k$ against the index $k$ for several kernels
    (house style: series in the colour-blind-safe cycle, the closed form dashed in the fit
    colour).

    **Arguments:** `spectra` (label -> descending eigenvalues), `path` (save the figure
    there, atomically; the format from the extension: ``.png``, ``.pdf``, ``.svg``;
    ``None``: do not save), `title`, `reference` (optional closed-form eigenvalues,
    dashed), `ax` (a matplotlib ``Axes`` to draw on; ``None``: a new figure).

    **Returns:** the matplotlib ``Figure``."""
    with house_style():
        fig, ax = new_figure(ax, figsize=(5.6, 4.0))
        shown = []
        for label, ev in spectra.items():
            ev = np.asarray(ev, float)
            ev = ev[ev > 0]
            ax.loglog(np.arange(1, ev.size + 1), ev, ".-", ms=3, lw=1, label=label)
            shown.append(ev)
        if reference is not None:
            r = np.asarray(reference, float)
            ax.loglog(np.arange(1, r.size + 1), r, **FIT, label="closed form")
        if reference is not None:
            shown.append(r[r > 0])
        lim = log_range(np.concatenate(shown)) if shown else None
        if lim is not None:
            ax.set_ylim(*lim)
        ax.set_xlabel(LABELS["k"])
        ax.set_ylabel(LABELS["mu"])
        ax.set_title(title)
        tidy_ticks(ax)
        legend(ax)
    return finish(fig, path, where="plot_ntk_spectra")


def plot_limit_convergence(
    widths: Sequence[int],
    errors: Sequence[float],
    path: str | os.PathLike | None = None,
    *,
    rate: float | None = None,
    constant: float | None = None,
    ax: Any = None,
):
    """Log-log plot of the measured $\\|K_m - K_\\infty\\|$ against width $m$ (black), with
    the fitted rate and the predicted $\\sqrt{C/m}$ line (dashed) when `constant` is given.

    Saves to `path` when given (atomically, format from the extension); draws on `ax` when
    given. **Returns:** the matplotlib ``Figure``."""
    m = np.asarray(widths, float)
    e = np.asarray(errors, float)
    with house_style():
        fig, ax = new_figure(ax, figsize=(5.0, 3.8))
        label = f"measured (rate {rate:.3f})" if rate is not None else "measured"
        ax.loglog(m, e, "o", color=DATA["color"], ls=DATA["ls"], lw=1.2, label=label)
        shown = [e]
        if constant is not None:
            shown.append(np.sqrt(constant / m))
            ax.loglog(m, shown[-1], **FIT, label=r"$\sqrt{C/m}$ (LLN)")
        lim = log_range(np.concatenate(shown))
        if lim is not None:
            ax.set_ylim(*lim)
        ax.set_xlabel(LABELS["width"])
        ax.set_ylabel(r"$\|K_m - K_\infty\|_{L^2}$")
        tidy_ticks(ax)
        legend(ax)
    return finish(fig, path, where="plot_limit_convergence")
