r"""Figures of spectra and eigenfunctions: `plot_spectrum` (eigenvalues $\lambda_k$ against
$k$, log-log, with fitted $Ck^{-p}$ lines) and `plot_eigenfunctions` ($\psi_k$ as curves in
1D, colour maps in 2D/3D).

Both follow the house style (`spectral_jax._style`): they draw into the given axes or
figure (a new figure otherwise), save only when given a ``path`` (atomically, the format
from the extension, 200 dpi) and return the figure. The library does not check whether
``path`` exists (the command line does, with ``--force``)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._files import figure_format
from .._style import (
    COLORS,
    DATA,
    FIT,
    LABELS,
    MAX_INSIDE,
    REFERENCE,
    finish,
    house_style,
    legend,
    log_range,
    new_figure,
    tidy_ticks,
)

__all__ = ["plot_spectrum", "plot_eigenfunctions", "plot_local_exponents"]

#: a fitted line of one of several series: the series' colour darkened by this factor
_FIT_SHADE = 0.55


def _darker(color: str, factor: float = _FIT_SHADE) -> tuple[float, float, float]:
    """``color`` with each RGB channel scaled by ``factor`` (a darker shade)."""
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(color)
    return (r * factor, g * factor, b * factor)


def _as_list(value: Any, n: int, name: str, where: str) -> list:
    """``value`` as a list of ``n`` entries (``None``: ``n`` times ``None``; a single
    non-sequence item when ``n == 1``)."""
    if value is None:
        return [None] * n
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        value = [value]
    if len(value) != n:
        raise ValueError(
            f"{where}: {name} must have one entry per spectrum ({n}); got {len(value)}"
        )
    return list(value)


def _check_ax(ax: Any, where: str) -> None:
    from matplotlib.axes import Axes

    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(f"{where}: ax must be a matplotlib Axes; got {type(ax).__name__}")


def _check_fig(fig: Any, where: str) -> None:
    from matplotlib.figure import FigureBase

    if fig is not None and not isinstance(fig, FigureBase):
        raise TypeError(
            f"{where}: fig must be a matplotlib Figure (or SubFigure); got {type(fig).__name__}"
        )


def plot_spectrum(
    spectra,
    path: str | os.PathLike | None = None,
    *,
    labels: Sequence[str] | None = None,
    fits=None,
    floor: float | None = None,
    title: str | None = None,
    ax: Any = None,
):
    r"""Log-log plot of one or several spectra $\lambda_k$ against $k$ (positive eigenvalues
    as points), with the fitted lines $Ck^{-p}$ of ``fits`` (`DecayFit`s, dashed, over
    their ranges $k_1 \le k \le k_2$) and an optional horizontal precision ``floor``
    (dotted grey, e.g. $n\varepsilon\lambda_1$).

    One spectrum is drawn in black with its fit in dashed vermillion; several spectra take
    one colour each, each fit a dashed darker shade of its spectrum's colour, so a fit is
    never confused with the points it fits. The eigenvalue axis spans the points and the
    floor (`spectral_jax._style.log_range`).

    **Arguments:** `spectra` (an eigenvalue array or `Spectrum`, or a list of them), `path`
    (save there, atomically; the format from the extension: ``.png``, ``.pdf``, ``.svg``;
    ``None``: do not save), `labels` (one legend entry per spectrum), `fits` (one
    `DecayFit` or ``None`` per spectrum), `floor`, `title`, `ax` (a matplotlib ``Axes`` to
    draw on; ``None``: a new figure).

    **Returns:** the matplotlib ``Figure`` holding the axes (`ax`'s figure when given)."""
    where = "plot_spectrum"
    if not isinstance(spectra, (list, tuple)):
        spectra = [spectra]
    if not spectra:
        raise ValueError(f"{where}: spectra must hold at least one spectrum")
    series = []
    for i, lam in enumerate(spectra):
        try:
            v = np.asarray(getattr(lam, "eigenvalues", lam), dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{where}: spectra[{i}] must be an array of eigenvalues") from None
        if v.ndim != 1:
            raise ValueError(f"{where}: spectra[{i}] must be 1-D; got shape {v.shape}")
        series.append(v)
    n = len(series)
    labels = _as_list(labels, n, "labels", where)
    fits = _as_list(fits, n, "fits", where)
    if floor is not None:
        floor = float(floor)
        if not (np.isfinite(floor) and floor > 0):
            raise ValueError(f"{where}: floor must be a positive finite number; got {floor}")
    _check_ax(ax, where)
    if path is not None:
        figure_format(path, where)  # refuse an unknown format before drawing
    entries = sum(lab is not None for lab in labels)
    entries += sum(f is not None for f in fits) + (floor is not None)
    width = 7.4 if entries > MAX_INSIDE else 5.4  # room for a legend outside the axes
    with house_style():
        fig, ax = new_figure(ax, figsize=(width, 4.0))
        shown = []
        for i, (lam, lab, f) in enumerate(zip(series, labels, fits, strict=True)):
            k = np.arange(1, lam.size + 1)
            pos = np.isfinite(lam) & (lam > 0)
            color = DATA["color"] if n == 1 else COLORS[i % len(COLORS)]
            ax.loglog(k[pos], lam[pos], ls="none", marker=".", ms=3, color=color, label=lab)
            shown.append(lam[pos])
            if f is not None:
                kk = np.arange(f.fit_range[0], f.fit_range[1] + 1, dtype=np.float64)
                style = FIT if n == 1 else dict(FIT, color=_darker(color))
                ax.loglog(
                    kk, f.constant * kk ** (-f.rate), **style, label=f"fit $k^{{-{f.rate:.2f}}}$"
                )
        if floor is not None:
            ax.axhline(floor, **REFERENCE, label=r"$n\varepsilon\lambda_1$")
            shown.append(np.array([floor]))
        for values, setter in (
            (np.arange(1, max(v.size for v in series) + 1), ax.set_xlim),
            (np.concatenate(shown), ax.set_ylim),
        ):
            lim = log_range(values)
            if lim is not None:
                setter(*lim)
        ax.set_xlabel(LABELS["k"])
        ax.set_ylabel(LABELS["lambda"])
        if title:
            ax.set_title(title)
        tidy_ticks(ax)
        legend(ax)
    if path is not None:  # axes of a SubFigure are saved with the figure holding them
        finish(fig.figure, path, where=where)
    return fig


def plot_eigenfunctions(
    x,
    values,
    path: str | os.PathLike | None = None,
    *,
    modes: Sequence[int] | None = None,
    title: str | None = None,
    fig: Any = None,
):
    r"""Eigenfunctions $\psi_k$ sampled on points ``x``: curves against $x$ in 1D (``x`` of
    shape ``(m,)`` or ``(m, 1)``), colour maps over the first two coordinates in 2D/3D
    (one panel per mode, four per row, a diverging colour scale symmetric about 0 in each
    panel so the nodal lines $\psi_k = 0$ are white).

    **Arguments:** `x` (the points, shape ``(m,)`` or ``(m, d)``), `values` (shape
    ``(m, K)``: column $j$ is $\psi$ of mode ``modes[j]`` at the points), `path` (save
    there, atomically; the format from the extension; ``None``: do not save), `modes` (the
    1-based mode numbers, for the labels; default $1..K$), `title`, `fig` (a matplotlib
    ``Figure`` or ``SubFigure`` to draw into, empty; ``None``: a new figure).

    **Returns:** the matplotlib ``Figure`` (`fig` when given)."""
    where = "plot_eigenfunctions"
    x = np.asarray(x, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if v.ndim == 1:
        v = v[:, None]
    if x.ndim != 2 or v.ndim != 2 or v.shape[0] != x.shape[0] or v.shape[1] == 0:
        raise ValueError(
            f"{where}: values must have shape (m, K) for x of shape (m,) or (m, d); got x "
            f"{x.shape}, values {v.shape}"
        )
    k = v.shape[1]
    modes = list(range(1, k + 1)) if modes is None else [int(m) for m in modes]
    if len(modes) != k:
        raise ValueError(
            f"{where}: modes must have one entry per column of values ({k}); got {len(modes)}"
        )
    _check_fig(fig, where)
    if path is not None:
        figure_format(path, where)  # refuse an unknown format before drawing
    with house_style():
        if x.shape[1] == 1:
            if fig is None:
                fig, ax = new_figure(figsize=(6.6 if k > MAX_INSIDE else 5.4, 3.6))
            else:
                ax = fig.subplots()
            for j in range(k):
                ax.plot(x[:, 0], v[:, j], lw=1.4, label=rf"$\psi_{{{modes[j]}}}$")
            ax.set_xlabel(LABELS["x"])
            ax.set_ylabel(LABELS["psi"])
            tidy_ticks(ax)
            legend(ax)
        else:
            cols = min(4, k)
            rows = -(-k // cols)
            size = (2.5 * cols + 0.4, 2.45 * rows + 0.3)
            if fig is None:
                fig, axes = new_figure(nrows=rows, ncols=cols, figsize=size)
            else:
                axes = fig.subplots(rows, cols)
            axes = np.asarray(axes).reshape(rows, cols)
            _draw_maps(axes, x, v, modes)
        if title:
            fig.suptitle(title)
    if path is not None:  # a SubFigure is saved with the figure holding it
        finish(fig.figure, path, where=where)
    return fig


def _draw_maps(axes: np.ndarray, x: np.ndarray, v: np.ndarray, modes: list[int]) -> None:
    """One colour map per mode on the ``(rows, cols)`` grid ``axes``, row by row; unused
    panels are removed. ``$x_2$`` labels the first column, ``$x_1$`` the lowest panel of
    each column; every panel shows the same region."""
    rows, cols = axes.shape
    k = v.shape[1]
    lo, hi = x[:, :2].min(axis=0), x[:, :2].max(axis=0)
    for j in range(rows * cols):
        r, c = divmod(j, cols)
        ax = axes[r, c]
        if j >= k:
            ax.remove()
            continue
        amp = float(np.max(np.abs(v[:, j]))) or 1.0
        levels = np.linspace(-amp, amp, 31)
        ax.tricontourf(x[:, 0], x[:, 1], v[:, j], levels=levels, cmap="RdBu_r")
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ax.set_aspect("equal")
        ax.grid(False)
        ax.set_title(rf"$\psi_{{{modes[j]}}}$")
        tidy_ticks(ax, nbins=4)
        if c == 0:
            ax.set_ylabel("$x_2$")
        else:
            ax.tick_params(labelleft=False)
        if j + cols >= k:  # no panel below
            ax.set_xlabel("$x_1$")
        else:
            ax.tick_params(labelbottom=False)


def plot_local_exponents(
    local,
    path: str | os.PathLike | None = None,
    *,
    title: str | None = None,
    ax: Any = None,
):
    r"""Local decay exponents $p(k) = -\,d\log\lambda_k/d\log k$ of ReLU Gram spectra on
    the unit ball against the window centre $\sqrt{k_1k_2}$ (log axis), with their spread
    as error bars and, for each dimension $d$, the predicted limit $(d+3)/d$ (dotted, a
    darker shade of the series' colour).

    **Arguments:** `local` (mapping $d$ -> rows ``(k_from, k_to, exponent, spread)``, one
    per window), `path` (save there, atomically; the format from the extension; ``None``:
    do not save), `title`, `ax` (a matplotlib ``Axes`` to draw on; ``None``: a new
    figure).

    **Returns:** the matplotlib ``Figure`` holding the axes."""
    where = "plot_local_exponents"
    _check_ax(ax, where)
    if not local:
        raise ValueError(f"{where}: local must map at least one dimension d to its windows")
    if path is not None:
        figure_format(path, where)
    with house_style():
        fig, ax = new_figure(ax, figsize=(5.4, 3.8))
        for i, (d, rows) in enumerate(local.items()):
            rows = np.asarray(rows, np.float64).reshape(-1, 4)
            color = COLORS[i % len(COLORS)]
            k = np.sqrt(rows[:, 0] * rows[:, 1])
            ax.errorbar(k, rows[:, 2], yerr=rows[:, 3], fmt="o-", color=color, ms=4, lw=1.4,
                        capsize=2, label=f"$d = {d}$")  # fmt: skip
            ax.axhline((d + 3) / d, **dict(REFERENCE, color=_darker(color)),
                       label=f"$(d+3)/d = {(d + 3) / d:g}$")  # fmt: skip
        ax.set_xscale("log")
        ax.set_xlabel(r"mode index $k$ (window centre)")
        ax.set_ylabel(r"local exponent $-\,d\log\lambda_k/d\log k$")
        ax.set_title(title or "ReLU Gram operator on the unit ball")
        tidy_ticks(ax)
        legend(ax, ncols=2)
    if path is not None:
        finish(fig.figure, path, where=where)
    return fig
