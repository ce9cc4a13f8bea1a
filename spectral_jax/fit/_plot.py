"""Figures for fits: the fit and its pointwise error; the projection spectrum.

Both follow the house style (`spectral_jax._style`): they draw on the given axes or
figure (a new figure otherwise), save only when given a ``path`` (atomically, the format
from the extension, 200 dpi) and return the figure."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._style import (
    COLORS,
    DATA,
    FIT,
    LABELS,
    REFERENCE,
    finish,
    house_style,
    legend,
    log_range,
    new_figure,
    tidy_ticks,
)
from ._fit import FitResult, as_target
from ._projection import ModeProjection

__all__ = ["plot_fit", "plot_projection"]


def _two_axes(axes: Sequence[Any] | None):
    if axes is None:
        return new_figure(ncols=2)
    if len(axes) != 2:
        raise ValueError(f"plot_fit: axes must be two matplotlib Axes; got {len(axes)}")
    return axes[0].figure, list(axes)


def plot_fit(
    result: FitResult,
    target,
    path: str | os.PathLike | None = None,
    *,
    points: int = 2001,
    title: str | None = None,
    axes: Sequence[Any] | None = None,
):
    r"""Two panels: the target $f$ (solid black) and the fit $h$ (dashed vermillion) on the
    left, the pointwise error $|h-f|$ on a log axis on the right (1D); in 2D the fit and
    $\log_{10}|h-f|$ as images.

    **Arguments:** `result` (a `FitResult`), `target` (what was fitted: a name, expression,
    `Target` or callable), `path` (save there; ``None``: do not save), `points` (1D plot
    resolution), `title`, `axes` (two matplotlib ``Axes`` to draw on; ``None``: a new
    figure).

    **Returns:** the matplotlib ``Figure``."""
    dom = result.basis.domain
    t = as_target(target, dom, "plot_fit")
    x = dom.grid(points if dom.dim == 1 else 101, dtype=result.coefficients.dtype)
    h = np.asarray(result(x), np.float64)
    f = np.asarray(t(x), np.float64)
    err = np.abs(h - f)
    with house_style():
        fig, ax = _two_axes(axes)
        if dom.dim == 1:
            xs = np.asarray(x[:, 0])
            ax[0].plot(xs, f, **DATA, label="target $f$")
            ax[0].plot(xs, h, **FIT, label=f"fit $h$ ({result.solver}, {result.dtype})")
            ax[0].set_xlabel(LABELS["x"])
            ax[0].set_ylabel(LABELS["h"])
            legend(ax[0])
            ax[1].semilogy(xs, np.maximum(err, 1e-300), color=COLORS[0], lw=0.7)
            # the error vanishes (to rounding) where the fit interpolates: those isolated
            # dips would stretch the axis over ~15 decades, so the range runs from the 1st
            # percentile of the error to its maximum
            pos = err[err > 0]
            lim = log_range([np.percentile(pos, 1), pos.max()] if pos.size else pos, min_decades=2)
            if lim is not None:
                ax[1].set_ylim(*lim)
            ax[1].set_xlabel(LABELS["x"])
            ax[1].set_ylabel(LABELS["error"])
        else:
            n = int(round(np.sqrt(x.shape[0])))
            ext = (-1, 1, -1, 1)
            im0 = ax[0].imshow(h.reshape(n, n).T, origin="lower", extent=ext)
            fig.colorbar(im0, ax=ax[0], label=r"$h(x)$")
            im1 = ax[1].imshow(
                np.log10(err + 1e-300).reshape(n, n).T, origin="lower", extent=ext, cmap="magma"
            )
            fig.colorbar(im1, ax=ax[1], label=r"$\log_{10}|h(x)-f(x)|$")
            for a in ax:
                a.set_xlabel(r"$x_1$")
                a.set_ylabel(r"$x_2$")
                a.grid(False)
        for a in ax:
            tidy_ticks(a)
        ax[0].set_title(title or "fit")
        ax[1].set_title(f"max error {result.max_error:.2e}, MSE {result.mse:.2e}")
    return finish(fig, path, where="plot_fit")


def plot_projection(
    projections: dict[str, ModeProjection],
    path: str | os.PathLike | None = None,
    *,
    title: str = "",
    ax: Any = None,
):
    r"""The coefficients $|c_k|$ of $f$ on the Gram eigenmodes (dots) and the eigenvalues
    $\lambda_k/\lambda_1$ (lines, same colour) against the mode index, for each labelled
    projection, with the precision floors $\epsilon$ of float32/float64 (dotted).
    Coefficients of modes with $\lambda_k \le \epsilon\lambda_1$ (rounding noise in that
    precision) are not drawn.

    **Arguments:** `projections` (label -> `ModeProjection`), `path` (save there; ``None``:
    do not save), `title`, `ax` (a matplotlib ``Axes``; ``None``: a new figure).

    **Returns:** the matplotlib ``Figure``."""
    with house_style():
        fig, ax = new_figure(ax, figsize=(6.8, 4.2))
        shown = []
        for i, (label, p) in enumerate(projections.items()):
            color = COLORS[i % len(COLORS)]
            lam = np.asarray(p.eigenvalues, np.float64)
            k = np.arange(1, lam.size + 1)
            # coefficients of modes below the precision floor are rounding noise: not shown
            usable = lam > np.finfo(np.dtype(p.dtype)).eps * lam[0]
            c = np.where(usable, np.abs(np.asarray(p.coefficients, np.float64)), np.nan)
            marker = ("o", "x", "+", "^")[i % 4]  # overlapping dots stay distinguishable
            ax.loglog(
                k, c, marker, ms=3, mfc="none", mew=0.8, color=color, label=rf"$|c_k|$ {label}"
            )
            rel = np.abs(lam) / lam[0]
            ax.loglog(k, rel, "-", lw=1.2, color=color, label=rf"$\lambda_k/\lambda_1$ {label}")
            shown += [c[np.isfinite(c)], rel]
        for eps, name in ((2.0**-23, "float32"), (2.0**-52, "float64")):
            ax.axhline(eps, **REFERENCE)
            ax.annotate(
                rf"{name} $\epsilon$",
                (0.99, eps),
                xycoords=("axes fraction", "data"),
                ha="right",
                va="bottom",
                fontsize=7.5,
                color="0.3",
            )
        lim = log_range(np.concatenate([*shown, [2.0**-52]]) if shown else [2.0**-52, 1.0])
        ax.set_ylim(lim[0], lim[1])
        ax.set_xlabel(LABELS["k"])
        ax.set_ylabel(r"$|c_k|$, $\lambda_k/\lambda_1$")
        ax.set_title(title or "projection of $f$ on the Gram eigenmodes")
        tidy_ticks(ax)
        legend(ax, max_inside=4)
    return finish(fig, path, where="plot_projection")
