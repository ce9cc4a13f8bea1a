"""Figures for fits: the fit and its pointwise error; the projection spectrum.

Both follow the house style (`spectral_jax._style`): they draw on the given axes or
figure (a new figure otherwise), save only when given a ``path`` (atomically, the format
from the extension, 200 dpi) and return the figure."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
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

__all__ = ["plot_fit", "plot_projection", "plot_fittable_frequency"]


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


#: how a solver is named in the legend of `plot_fittable_frequency`
_SOLVER_NAMES = {"qr": "QR", "eigh": "Gram + eigh", "svd": "SVD", "lu": "Gram + LU"}


def plot_fittable_frequency(
    ks,
    results: Mapping[tuple[str, str], Any],
    path: str | os.PathLike | None = None,
    *,
    threshold: float = 1e-2,
    title: str | None = None,
    ax: Any = None,
):
    r"""The relative $L^2$ error of the least-squares fit of $\sin(k\pi x)$ against $k$,
    one curve per (dtype, solver), with the `threshold` that defines the highest fittable
    frequency $k_{\max}$ (dotted). float64 QR is the reference (solid black); float32 QR
    is dashed vermillion (drawn over it: the two often coincide); other routes take the
    colour cycle with markers; the legend gives each $k_{\max}$ when known.

    **Arguments:** `ks` (the frequencies, shape ``(K,)``), `results` (``(dtype, solver)``
    -> a `max_fittable_frequency` result, i.e. a mapping with ``"rel_l2_errors"`` and
    optionally ``"k_max"``, or the error array itself), `path` (save there, atomically;
    the format from the extension; ``None``: do not save), `threshold`, `title`, `ax` (a
    matplotlib ``Axes`` to draw on; ``None``: a new figure).

    **Returns:** the matplotlib ``Figure`` holding the axes."""
    where = "plot_fittable_frequency"
    k = np.asarray(ks, np.float64)
    if k.ndim != 1 or k.size == 0:
        raise ValueError(f"{where}: ks must be a non-empty 1-D array; got shape {k.shape}")
    if not isinstance(results, Mapping) or not results:
        raise TypeError(f"{where}: results must be a non-empty mapping (dtype, solver) -> result")
    series = []
    for key, r in results.items():
        err = np.asarray(r["rel_l2_errors"] if isinstance(r, Mapping) else r, np.float64)
        if err.shape != k.shape:
            raise ValueError(
                f"{where}: results[{key!r}] must have one error per k ({k.size}); got {err.shape}"
            )
        k_max = r.get("k_max") if isinstance(r, Mapping) else None
        series.append((tuple(key), err, k_max))
    # the reference first, float32 QR over it, the rest after
    rank = {("float64", "qr"): 0, ("float32", "qr"): 1}
    series.sort(key=lambda item: rank.get(item[0], 2))
    # other routes: dash-dotted (a curve that coincides with the reference stays visible),
    # with markers when the frequencies are few enough to tell apart
    few = k.size <= 40
    others = iter(
        [dict(color=c, lw=1.3, ls="-.", marker="o" if few else None, ms=3) for c in COLORS]
    )
    with house_style():
        fig, ax = new_figure(ax, figsize=(5.4, 3.6))
        shown = [np.array([threshold])]
        for (dtype, solver), err, k_max in series:
            if (dtype, solver) == ("float64", "qr"):
                style = dict(DATA)
            elif (dtype, solver) == ("float32", "qr"):
                style = dict(FIT)
            else:
                style = next(others, dict(color="0.5", lw=1.0))
            label = f"{dtype}, {_SOLVER_NAMES.get(solver, solver)}"
            if k_max is not None:
                label += rf" ($k_{{\max}} = {float(k_max):.0f}$)"
            ax.semilogy(k, err, **style, label=label)
            shown.append(err)
        ax.axhline(threshold, **REFERENCE, label=f"threshold {threshold:g}")
        lim = log_range(np.concatenate(shown))
        if lim is not None:
            ax.set_ylim(*lim)
        ax.set_xlabel(r"frequency $k$ of $f(x) = \sin(k\pi x)$")
        ax.set_ylabel(r"relative $L^2$ error")
        if title:
            ax.set_title(title)
        tidy_ticks(ax)
        legend(ax)
    return finish(fig.figure, path, where=where)
