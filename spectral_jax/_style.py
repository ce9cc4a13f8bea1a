r"""The house style of every figure the library, the command line and the report draw.

One place for what a reader of a paper expects from a figure:

- **labels in mathtext**: `LABELS` (``$\lambda_k$``, ``$|\hat\varphi(k)|^2$``, ...);
- **fits visibly distinct from data**: data are solid black (`DATA`), fitted or predicted
  lines dashed in a contrasting colour (`FIT`); further series use a colour-blind-safe
  cycle (Okabe–Ito);
- **legends that do not cover curves**: `legend` picks ``loc="best"`` for a few entries
  and puts a crowded legend outside the axes, to the right;
- **readable ticks**: at most ~6 major ticks per axis (no overlapping labels) and, on a log
  axis, labels as powers of ten (never ``5.03e-1``);
- **sensible log ranges**: `log_range` widens a log axis to at least one decade (so a 1 %
  change does not fill the panel) with two labelled powers of ten;
- **every panel has a y label**.

Drawing functions follow one convention: ``plot_x(data, path=None, *, ..., ax=None)``
draws on ``ax`` (a new `matplotlib.figure.Figure`, no pyplot state, when ``None``),
saves only when given ``path`` (atomically, format from the extension, 200 dpi: see
`spectral_jax._files.save_figure`) and returns the figure. Use them like this::

    from spectral_jax._style import house_style, new_figure, legend, finish, LABELS

    with house_style():
        fig, ax = new_figure(ax)
        ax.plot(x, y, **DATA, label="target")
        ax.plot(x, h, **FIT, label="fit")
        ax.set_ylabel(LABELS["h"])
        legend(ax)
    return finish(fig, path)

matplotlib is imported lazily (importing the library never imports it).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

__all__ = [
    "COLORS",
    "DATA",
    "FIT",
    "REFERENCE",
    "LABELS",
    "RC",
    "house_style",
    "new_figure",
    "legend",
    "log_range",
    "tidy_ticks",
    "finish",
]

#: Okabe–Ito, colour-blind safe, for series; black is reserved for data and vermillion
#: for fitted curves (`DATA`, `FIT`), so a fit never shares a series' colour
COLORS = ("#0072B2", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#882255", "#F0E442")
#: data / the target: solid black
DATA: dict[str, Any] = {"color": "black", "ls": "-", "lw": 1.8}
#: a fitted or predicted curve: dashed vermillion, drawn over the data
FIT: dict[str, Any] = {"color": "#D55E00", "ls": "--", "lw": 1.6, "zorder": 3}
#: a closed form or bound: dotted grey
REFERENCE: dict[str, Any] = {"color": "0.35", "ls": ":", "lw": 1.4}

#: axis labels in mathtext
LABELS: dict[str, str] = {
    "x": r"$x$",
    "k": r"index $k$",
    "freq": r"frequency $k$",
    "nu": r"frequency $\nu$",
    "lambda": r"$\lambda_k$",
    "lambda_rel": r"$\lambda_k/\lambda_1$",
    "mu": r"$\mu_k$",
    "phi_hat": r"$|\hat\varphi(k)|^2$",
    "rho": r"$\rho(k)$",
    "phi": r"$\varphi(z)$",
    "z": r"$z$",
    "psi": r"$\psi_k(x)$",
    "h": r"$h(x)$, $f(x)$",
    "error": r"$|h(x) - f(x)|$",
    "coef": r"$|c_k|$",
    "step": r"step $t$",
    "loss": r"loss $E(t)$",
    "mode_error": r"mode error $e_m(t)$",
    "width": r"width $m$",
    "probability": "probability",
}

#: matplotlib settings of the house style (applied with `house_style`)
RC: dict[str, Any] = {
    "axes.prop_cycle": None,  # filled lazily (needs matplotlib's cycler)
    "axes.grid": True,
    "axes.grid.which": "major",
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "legend.fontsize": 8,
    "legend.framealpha": 0.85,
    "legend.edgecolor": "0.8",
    "lines.markersize": 4,
    "mathtext.fontset": "dejavusans",
    "axes.formatter.use_mathtext": True,
    "axes.formatter.limits": (-3, 4),
    "savefig.dpi": 200,
    "figure.dpi": 100,
}

#: a legend with more entries than this goes outside the axes
MAX_INSIDE = 5


@contextlib.contextmanager
def house_style() -> Iterator[None]:
    """Apply `RC` (matplotlib's ``rc_context``) while drawing."""
    import matplotlib as mpl
    from cycler import cycler

    rc = dict(RC, **{"axes.prop_cycle": cycler(color=list(COLORS))})
    with mpl.rc_context(rc):
        yield


def new_figure(
    ax: Any = None,
    *,
    nrows: int = 1,
    ncols: int = 1,
    figsize: tuple[float, float] | None = None,
):
    """``(figure, axes)``: ``ax``'s figure and ``ax`` when given (one panel only), else a
    new `Figure` (constrained layout, no pyplot state, nothing to close) with
    ``nrows x ncols`` axes (an array when more than one)."""
    if ax is not None:
        if nrows * ncols != 1:
            raise ValueError(
                f"new_figure: ax= draws one panel; this figure needs {nrows}x{ncols} panels "
                "(pass fig= or no axes)"
            )
        return ax.figure, ax
    from matplotlib.figure import Figure

    if figsize is None:
        # panels of a paper's figure: two side by side fit a two-column width (~7-8 in)
        figsize = (3.7 * ncols + 0.6, 3.2 * nrows + 0.3)
    fig = Figure(figsize=figsize, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=True)
    return fig, axes


def legend(ax: Any, *, max_inside: int = MAX_INSIDE, **kwargs):
    """A legend that does not cover the curves: ``loc="best"`` with at most `max_inside`
    entries, otherwise outside the axes on the right. Nothing when no artist is labelled.
    Returns the legend (or ``None``)."""
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return None
    if len(handles) > max_inside:
        kwargs.setdefault("loc", "upper left")
        kwargs.setdefault("bbox_to_anchor", (1.02, 1.0))
        kwargs.setdefault("borderaxespad", 0.0)
    else:
        kwargs.setdefault("loc", "best")
    return ax.legend(handles, labels, **kwargs)


def log_range(values: Sequence[float] | np.ndarray, *, min_decades: float = 1.0):
    """Limits ``(lo, hi)`` for a log axis showing the positive finite `values`: at least
    `min_decades` decades around their geometric middle (so a curve that changes by 1 %
    does not fill the panel), 5 % of the span as margin, and widened to whole decades when
    fewer than two powers of ten would be labelled. ``None`` when no value is positive and
    finite."""
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v) & (v > 0)]
    if v.size == 0:
        return None
    lo, hi = np.log10(v.min()), np.log10(v.max())
    if hi - lo < min_decades:
        mid = 0.5 * (lo + hi)
        lo, hi = mid - min_decades / 2, mid + min_decades / 2
    pad = 0.05 * (hi - lo)
    lo, hi = lo - pad, hi + pad
    if np.floor(hi) - np.ceil(lo) < 1:  # fewer than two labelled powers of ten
        lo, hi = np.floor(lo), np.ceil(hi)
    return float(10.0**lo), float(10.0**hi)


def tidy_ticks(ax: Any, *, nbins: int = 6) -> None:
    """At most ~`nbins` major ticks per axis (labels never overlap); log axes get powers of
    ten as labels (``$10^{-3}$``) and unlabelled minor ticks."""
    from matplotlib.ticker import LogFormatterSciNotation, LogLocator, MaxNLocator, NullFormatter

    for axis, scale in ((ax.xaxis, ax.get_xscale()), (ax.yaxis, ax.get_yscale())):
        if scale == "log":
            axis.set_major_locator(LogLocator(base=10.0, numticks=nbins))
            axis.set_major_formatter(LogFormatterSciNotation())
            axis.set_minor_locator(LogLocator(base=10.0, subs=np.arange(2, 10), numticks=12))
            axis.set_minor_formatter(NullFormatter())
        elif scale == "linear":
            axis.set_major_locator(MaxNLocator(nbins=nbins))


def finish(fig: Any, path: str | os.PathLike | None = None, *, where: str = "save_figure"):
    """Save `fig` when `path` is given (atomically, the format from the extension, raster
    at 200 dpi; an unknown format is a ``ValueError`` naming `where`) and return `fig`."""
    if path is not None:
        from ._files import save_figure

        save_figure(fig, path, where=where)
    return fig
