r"""Figures for activation design: a designed activation with its diagnostics, and the
spectral penalties $\rho(k) = k^{D-1}/|\hat\varphi(k)|^2$ of activations.

Both follow the house style (`spectral_jax._style`): they draw into the given figure or
axes (a new figure otherwise), save only when given a ``path`` (atomically, the format
from the extension, 200 dpi) and return the figure."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from .._files import figure_format
from .._style import (
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
from .._types import ArrayLike, Float
from ._design import DesignResult

__all__ = ["plot_design", "plot_penalties"]

#: series with at most this many points are drawn with markers (the values are samples)
_MARKERS_UP_TO = 30


def _set_log_limits(ax: Any, x: np.ndarray, y: np.ndarray) -> None:
    """Log-log limits spanning at least a decade with two labelled powers of ten."""
    for values, setter in ((x, ax.set_xlim), (y, ax.set_ylim)):
        lim = log_range(values)
        if lim is not None:
            setter(*lim)


def _check_fig(fig: Any, where: str) -> None:
    from matplotlib.figure import FigureBase

    if not isinstance(fig, FigureBase):
        raise TypeError(
            f"{where}: fig must be a matplotlib Figure (or SubFigure); got {type(fig).__name__}"
        )


def plot_design(
    result: DesignResult,
    path: str | os.PathLike | None = None,
    *,
    title: str = "",
    zlim: tuple[float, float] = (-8.0, 8.0),
    fig: Any = None,
):
    r"""Three panels of a designed activation: $\varphi(z)$ on `zlim`; its power spectrum
    $|\hat\varphi(k)|^2 = k^{D-1}/\rho(k)$ on the band; and the penalty $\rho(k)$ on the
    band. The target (solid black) and the achieved values recomputed from the tabulated
    activation (dashed vermillion) are drawn in the last two panels; the title of the last
    one is the largest relative error $\max_k |\rho_{\rm achieved}(k)/\rho(k) - 1|$
    (``not checked`` for a design made with ``diagnostics=False``, which has no achieved
    values).

    **Arguments:** `result` (a `DesignResult` from `design_activation`), `path` (save
    there, atomically; the format from the extension: ``.png``, ``.pdf``, ``.svg``;
    ``None``: do not save), `title` (the figure's title), `zlim` (the range of $z$ in the
    first panel), `fig` (a matplotlib ``Figure`` or ``SubFigure`` to draw into, empty;
    ``None``: a new figure; a ``SubFigure`` is saved with the whole figure holding it).

    **Returns:** the matplotlib ``Figure`` (`fig` when given)."""
    where = "plot_design"
    if not isinstance(result, DesignResult):
        raise TypeError(
            f"{where}: result must be a DesignResult (from design_activation); got "
            f"{type(result).__name__}"
        )
    try:
        z0, z1 = (float(v) for v in zlim)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: zlim must be two numbers (zmin, zmax); got {zlim!r}") from None
    if not (np.isfinite(z0) and np.isfinite(z1) and z0 < z1):
        raise ValueError(f"{where}: zlim must satisfy zmin < zmax (finite); got {zlim!r}")
    if fig is not None:
        _check_fig(fig, where)
    if path is not None:
        figure_format(path, where)  # refuse an unknown format before drawing
    z = np.linspace(z0, z1, 801)
    phi = np.asarray(result.activation(z), np.float64)
    k = np.asarray(result.k, np.float64)
    kd = k ** (result.dim - 1)
    target = np.asarray(result.rho_target, np.float64)
    checked = result.max_rel_error is not None
    achieved = np.asarray(result.rho_achieved, np.float64) if checked else None
    with house_style():
        if fig is None:
            fig, axes = new_figure(ncols=3, figsize=(10.4, 3.4))
        else:
            axes = fig.subplots(1, 3, squeeze=True)
        ax = axes[0]
        ax.plot(z, phi, **DATA)
        ax.set_xlabel(LABELS["z"])
        ax.set_ylabel(LABELS["phi"])
        ax.set_title("designed activation")
        tidy_ticks(ax)
        panels = (
            (axes[1], kd / target, None if achieved is None else kd / achieved, "phi_hat"),
            (axes[2], target, achieved, "rho"),
        )
        for ax, want, got, label in panels:
            ax.loglog(k, want, **DATA, label="target")
            shown = [want]
            if got is not None:
                ax.loglog(k, got, **FIT, label="achieved")
                shown.append(got)
            _set_log_limits(ax, k, np.concatenate(shown))
            ax.set_xlabel(LABELS["freq"])
            ax.set_ylabel(LABELS[label])
            tidy_ticks(ax)
            legend(ax)
        axes[1].set_title(r"power spectrum $k^{D-1}/\rho(k)$")
        axes[2].set_title(
            f"max rel. error {result.max_rel_error:.1e}" if checked else "achieved: not checked"
        )
        if title:
            fig.suptitle(title)
    if path is not None:  # a SubFigure is saved with the figure holding it
        finish(fig.figure, path, where=where)
    return fig


def plot_penalties(
    k: Float[ArrayLike, " K"],
    penalties: Mapping[str, Float[ArrayLike, " K"]],
    path: str | os.PathLike | None = None,
    *,
    dim: int | None = None,
    title: str | None = None,
    ax: Any = None,
):
    r"""The spectral penalties $\rho(k) = k^{D-1}/|\hat\varphi(k)|^2$ of activations against
    the frequency, log-log, one colour per activation (past seven, the marker and line
    style change too; markers on the sampled values when there are few). Non-positive or
    non-finite values are left out of the drawing.

    **Arguments:** `k` (the positive frequencies, shape ``(K,)``), `penalties` (label ->
    $\rho$ at `k`, e.g. from `spectral_penalty`), `path` (save there, atomically; the format
    from the extension: ``.png``, ``.pdf``, ``.svg``; ``None``: do not save), `dim` (the
    input dimension $D$, shown in the default title), `title` (replaces the default),
    `ax` (a matplotlib ``Axes`` to draw on; ``None``: a new figure).

    **Returns:** the matplotlib ``Figure`` holding the axes (`ax`'s figure when given)."""
    where = "plot_penalties"
    kk = np.asarray(k, np.float64)
    if kk.ndim != 1 or kk.size < 2 or not np.all(np.isfinite(kk) & (kk > 0)):
        raise ValueError(
            f"{where}: k must be a 1-D array of at least 2 positive finite frequencies; got "
            f"shape {kk.shape}"
        )
    if not isinstance(penalties, Mapping) or not penalties:
        raise TypeError(
            f"{where}: penalties must be a non-empty mapping label -> rho values; got "
            f"{type(penalties).__name__}"
        )
    series = {}
    for name, values in penalties.items():
        try:
            v = np.asarray(values, np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{where}: penalties[{name!r}] must be numbers") from None
        if v.shape != kk.shape:
            raise ValueError(
                f"{where}: penalties[{name!r}] must have the shape of k {kk.shape}; got {v.shape}"
            )
        series[str(name)] = np.where(np.isfinite(v) & (v > 0), v, np.nan)
    if path is not None:
        figure_format(path, where)  # refuse an unknown format before drawing
    few = kk.size <= _MARKERS_UP_TO
    with house_style():
        fig, ax = new_figure(ax, figsize=(5.4, 4.0))
        for i, (name, v) in enumerate(series.items()):
            # past the colour cycle, the marker and the line style tell the series apart
            turn = i // len(COLORS) % 4
            ax.loglog(
                kk,
                v,
                marker=("o", "s", "^", "D")[turn] if few else None,
                ls=("-", "--", "-.", ":")[turn],
                color=COLORS[i % len(COLORS)],
                lw=1.5,
                label=name,
            )
        _set_log_limits(ax, kk, np.concatenate(list(series.values())))
        ax.set_xlabel(LABELS["freq"])
        ax.set_ylabel(LABELS["rho"])
        if title is None:
            title = r"spectral penalty $\rho(k) = k^{D-1}/|\hat\varphi(k)|^2$"
            if dim is not None:
                title += f", $D = {int(dim)}$"
        ax.set_title(title)
        tidy_ticks(ax)
        legend(ax)
    if path is not None:  # axes of a SubFigure are saved with the figure holding them
        finish(fig.figure, path, where=where)
    return fig
