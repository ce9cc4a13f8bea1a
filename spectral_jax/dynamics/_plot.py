"""Plots of training dynamics in the house style (`spectral_jax._style`): a `Trajectory`'s
loss and per-mode errors (`plot_trajectory`), and the figures of the dynamics studies:
per-mode errors and halving times with fitted exponents (`plot_mode_studies`), Welper's
width sweep (`plot_welper_sweep`) and gradient flow against descent
(`plot_flow_vs_descent`)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._files import figure_format
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

__all__ = ["plot_trajectory", "plot_mode_studies", "plot_welper_sweep", "plot_flow_vs_descent"]

#: plain-text spellings in study labels and their mathtext (whole words only)
_TEX = (
    (r"\blambda_max\b", r"$\\lambda_{\\max}$"),
    (r"\bt = eta k\b", r"$t = \\eta k$"),
    (r"(?<!\\)\beta\b", r"$\\eta$"),  # not the \eta written above
    (r"\bReLU\^(\d)", r"ReLU$^{\1}$"),
)


def _tex(label: str) -> str:
    """A plain-text label in mathtext: ``eta`` -> $\\eta$, ``lambda_max`` ->
    $\\lambda_{\\max}$, ``ReLU^2`` -> ReLU$^2$ (labels with ``$`` are left as they are)."""
    if "$" in label:
        return label
    for pattern, repl in _TEX:
        label = re.sub(pattern, repl, label)
    return label


def plot_trajectory(
    traj,
    path: str | os.PathLike | None = None,
    *,
    title: str | None = None,
    fig: Any = None,
):
    r"""The loss $E(t)$ against the step, or the flow time for a `FlowTrajectory`
    (log-log), and, when mode errors were recorded, the error $e_m(t)$ of each mode $m$
    in a second panel (a colour map over $m$).

    Log axes span whole decades and at least one, so a loss that barely moves shows as
    the near-flat line it is.

    **Arguments:** `traj` (a `Trajectory`), `path` (save there, atomically; the format
    from the extension: ``.png``, ``.pdf``, ``.svg``; ``None``: do not save), `title`,
    `fig` (a matplotlib ``Figure`` to draw into, empty; ``None``: a new figure).

    **Returns:** the matplotlib ``Figure``."""
    if path is not None:
        figure_format(path, "plot_trajectory")  # refuse an unknown format before drawing
    n = 2 if traj.mode_errors is not None else 1
    with house_style():
        if fig is None:
            fig, axes = new_figure(ncols=n)
        else:
            axes = fig.subplots(1, n, squeeze=True)
        axes = np.atleast_1d(axes)
        flow = hasattr(traj, "times")  # a FlowTrajectory: float flow times
        if flow:
            s = np.asarray(traj.times, np.float64)
            keep = s > 0  # t = 0 has no place on a log axis
        else:
            s = np.maximum(np.asarray(traj.steps), 1)
            keep = np.ones(s.shape, bool)
        s = s[keep]
        xlabel = "flow time $t$" if flow else LABELS["step"]
        loss = np.asarray(traj.loss, np.float64)[keep]
        ax = axes[0]
        ax.loglog(s, loss, **DATA, label="loss")
        lim = log_range(loss)
        if lim is not None:
            ax.set_ylim(*lim)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(LABELS["loss"])
        if getattr(traj, "failed_at", None) is not None:
            why = "diverged" if getattr(traj, "stopped", None) == "diverged" else "NaN"
            ax.axvline(
                max(traj.failed_at, 1), color="#D55E00", ls="--", label=f"{why} at {traj.failed_at}"
            )
            legend(ax)
        tidy_ticks(ax)
        if n == 2:
            import matplotlib as mpl

            ax = axes[1]
            errs = np.asarray(traj.mode_errors, np.float64)[keep]
            M = errs.shape[1]
            cmap = mpl.colormaps["viridis"]
            for j, lab in enumerate(traj.mode_labels):
                ax.loglog(s, errs[:, j], color=cmap(j / max(M - 1, 1)), lw=1.2, label=f"$m={lab}$")
            lim = log_range(errs)
            if lim is not None:
                ax.set_ylim(*lim)
            ax.set_xlabel(xlabel)
            ax.set_ylabel(LABELS["mode_error"])
            tidy_ticks(ax)
            if M <= 10:
                legend(ax)
            else:
                norm = mpl.colors.Normalize(1, M)
                fig.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, label="mode $m$")
        if title:
            fig.suptitle(title)
    return finish(fig, path, where="plot_trajectory")


def _viridis(i: int, n: int):
    import matplotlib as mpl

    return mpl.colormaps["viridis"](0.9 * i / max(n - 1, 1))  # 0.9: no pale yellow end


def _log_limits(ax: Any, values, *, axis: str = "y") -> None:
    lim = log_range(np.concatenate([np.ravel(np.asarray(v, np.float64)) for v in values]))
    if lim is not None:
        (ax.set_ylim if axis == "y" else ax.set_xlim)(*lim)


def plot_mode_studies(
    studies: Sequence[Any], path: str | os.PathLike | None = None, *, fig: Any = None
):
    r"""The figure of several `ModeStudy` runs: top row, one panel per study, the relative
    error $e_m(t)/e_m(0)$ of each Fourier mode $m$ against time (log-log, a colour map over
    $m$, the halving level $1/2$ dotted); bottom row, the time to halve against $m$ with
    each study's fitted power law $m^p$ (dashed; the exponent $\pm$ its standard error in
    the legend), and the loss $E(t)/E(0)$ of every study in the same colours.

    **Arguments:** `studies` (`ModeStudy` results, from `mode_study`), `path` (save there,
    atomically; the format from the extension; ``None``: do not save), `fig` (a
    matplotlib ``Figure`` or ``SubFigure`` to draw into, empty; ``None``: a new figure).

    **Returns:** the matplotlib ``Figure``."""
    where = "plot_mode_studies"
    studies = list(studies)
    if not studies:
        raise ValueError(f"{where}: studies must hold at least one ModeStudy")
    if path is not None:
        figure_format(path, where)  # refuse an unknown format before drawing
    k = len(studies)
    with house_style():
        if fig is None:
            from matplotlib.figure import Figure

            fig = Figure(figsize=(max(2.6 * k + 1.2, 8.0), 6.0), layout="constrained")
        top, bottom = fig.subfigures(2, 1)
        axes = np.atleast_1d(top.subplots(1, k))
        for j, s in enumerate(studies):
            ax = axes[j]
            t = np.asarray(s.record_times, np.float64)
            e = np.asarray(s.mode_errors, np.float64)
            ok = t > 0
            shown = []
            M = e.shape[1]
            for i, m in enumerate(s.modes):
                if not s.has_content[i]:
                    continue
                rel = e[ok, i] / e[0, i]
                ax.loglog(t[ok], rel, color=_viridis(i, M), lw=1.1, label=f"$m = {m}$")
                shown.append(rel)
            ax.axhline(0.5, **REFERENCE)
            if shown:
                v = np.concatenate(shown)
                lo = max(np.nanmin(v[v > 0]), 1e-6)
                ax.set_ylim(*log_range([lo, max(2.0, np.nanmax(v))]))
            ax.set_title(_tex(s.label))
            ax.set_xlabel("flow time $t$" if s.time_unit == "flow time" else LABELS["step"])
            ax.set_ylabel(r"$e_m(t)/e_m(0)$")
            tidy_ticks(ax, nbins=4)
        handles, labels = axes[0].get_legend_handles_labels()
        if handles:  # the colour map over m: its ends, once, right of the last panel
            keep = [0, len(handles) - 1] if len(handles) > 2 else list(range(len(handles)))
            axes[-1].legend(
                [handles[i] for i in keep],
                [labels[i] for i in keep],
                loc="upper left",
                bbox_to_anchor=(1.02, 1.0),
                borderaxespad=0.0,
            )
        ax_half, ax_loss = bottom.subplots(1, 2)
        for i, s in enumerate(studies):
            c = COLORS[i % len(COLORS)]
            m = np.asarray(s.modes, np.float64)
            tt = np.asarray([np.nan if v is None else v for v in s.times], np.float64)
            lab = _tex(s.label)
            if s.fit is not None:
                lab += rf": $m^{{{s.fit.exponent:.2f}\pm{s.fit.stderr:.2f}}}$"
            ax_half.loglog(m, tt, "o", color=c, ms=4, label=lab)
            if s.fit is not None:
                mm = np.geomspace(s.fit.x_range[0], s.fit.x_range[1], 20)
                ax_half.loglog(mm, s.fit.prefactor * mm**s.fit.exponent, **dict(FIT, color=c))
        modes = [int(v) for v in studies[0].modes]
        ax_half.set_xticks(modes, [str(v) if len(modes) <= 8 or v in (1, 2, 4, 8, 16, 32) else ""
                                   for v in modes])  # fmt: skip
        ax_half.minorticks_off()
        ax_half.set_xlabel("Fourier mode $m$")
        ax_half.set_ylabel("time to halve $e_m$")
        ax_half.set_title("halving time (dashed: fitted $m^p$)")
        shown = []
        for i, s in enumerate(studies):
            t = np.asarray(s.record_times, np.float64)
            loss = np.asarray(s.loss, np.float64)
            ok = t > 0
            ax_loss.loglog(t[ok], loss[ok] / loss[0], color=COLORS[i % len(COLORS)], lw=1.4)
            shown.append(loss[ok] / loss[0])
        _log_limits(ax_loss, shown)
        ax_loss.set_xlabel("flow time $t$ or step")
        ax_loss.set_ylabel(r"loss $E(t)/E(0)$")
        ax_loss.set_title("loss")
        tidy_ticks(ax_loss, nbins=4)
        ax_loss.legend(  # one legend for both panels, right of them
            *ax_half.get_legend_handles_labels(),
            loc="upper left",
            bbox_to_anchor=(1.04, 1.0),
            borderaxespad=0.0,
        )
    if path is not None:  # a SubFigure is saved with the figure holding it
        finish(fig.figure, path, where=where)
    return fig


def plot_welper_sweep(sweep: Any, path: str | os.PathLike | None = None, *, fig: Any = None):
    r"""The figure of Welper's width sweep (`welper_sweep`): left, the $L^2$ error
    $\|f_\theta - f\|$ against the flow time $t = \eta k$ for each width $m$ (the
    reference schedule $\eta = c/\lambda_{\max}$; each width's least-squares level
    dotted in its colour); middle, the final error against $m$ for each step-size schedule
    with the least-squares level (dotted black) and unstable runs marked $\times$; right,
    the largest bias drift, absolute and in units of the bias spacing $2/m$.

    **Arguments:** `sweep` (a `WelperSweep`), `path` (save there, atomically; the format
    from the extension; ``None``: do not save), `fig` (a ``Figure`` or ``SubFigure`` to
    draw into, empty; ``None``: a new figure).

    **Returns:** the matplotlib ``Figure``."""
    where = "plot_welper_sweep"
    if path is not None:
        figure_format(path, where)
    names = {
        "sqrt": r"$\eta_m \propto \sqrt{m}$",
        "inv_sqrt": r"$\eta_m \propto 1/\sqrt{m}$",
        "lambda": r"$\eta_m = c/\lambda_{\max}(m)$",
    }
    ref = sweep.select("lambda") or sweep.select(sweep.scalings[0])
    with house_style():
        if fig is None:
            fig, axes = new_figure(ncols=3, figsize=(11.0, 3.6))
        else:
            axes = fig.subplots(1, 3)
        ax = axes[0]
        shown = []
        for i, r in enumerate(ref):
            col = _viridis(i, len(ref))
            t = np.asarray(r.record_steps, np.float64) * r.lr
            ok = t > 0
            err = np.asarray(r.errors, np.float64)[ok]
            ax.loglog(t[ok], err, color=col, lw=1.3, label=f"$m = {r.width}$")
            ax.axhline(r.ls_error, color=col, ls=":", lw=1.0)
            shown += [err, [r.ls_error]]
        _log_limits(ax, shown)
        ax.set_xlabel(r"flow time $t = \eta k$")
        ax.set_ylabel(r"$\|f_\theta - f\|_{L^2}$")
        ax.set_title(r"error (dotted: least squares)")
        legend(ax, max_inside=3)
        ax = axes[1]
        shown = []
        bad_w, bad_e = [], []
        for i, s in enumerate(sweep.scalings):
            rs = sweep.select(s)
            w = np.asarray([r.width for r in rs], np.float64)
            fe = np.asarray([r.final_error if r.stable else np.nan for r in rs], np.float64)
            ax.loglog(w, fe, "osd"[i % 3] + "-", color=COLORS[i % len(COLORS)], ms=4, lw=1.3,
                      label=names.get(s, s))  # fmt: skip
            shown.append(fe[np.isfinite(fe)])
            bad_w += [r.width for r in rs if not r.stable]
        w = np.asarray([r.width for r in ref], np.float64)
        ls = np.asarray([r.ls_error for r in ref], np.float64)
        ax.loglog(w, ls, **dict(REFERENCE, color="black"), label="least squares")
        shown.append(ls)
        _log_limits(ax, shown)
        if bad_w:
            top = ax.get_ylim()[1]
            bad_e = [top / 1.5] * len(bad_w)
            ax.plot(bad_w, bad_e, "x", color=FIT["color"], ms=7, mew=1.5, ls="none",
                    label="unstable (diverged)")  # fmt: skip
        title = "final error"
        f = getattr(sweep, "error_fit", None)
        if f is not None:
            title += rf" $\sim m^{{{f.exponent:.2f} \pm {f.stderr:.2f}}}$"
        ax.set_title(title)
        ax.set_xlabel(LABELS["width"])
        ax.set_ylabel(r"final $\|f_\theta - f\|_{L^2}$")
        legend(ax)
        ax = axes[2]
        d_rel = np.asarray([r.drift_over_spacing for r in ref], np.float64)
        d_abs = np.asarray([r.drift_max for r in ref], np.float64)
        ax.loglog(w, d_rel, "o-", color=COLORS[0], lw=1.3, label=r"max drift / $(2/m)$")
        ax.loglog(w, d_abs, "s-", color=COLORS[1], lw=1.3, label="max drift")
        _log_limits(ax, [d_rel, d_abs])
        ax.set_xlabel(LABELS["width"])
        ax.set_ylabel(r"bias drift $\max_i |b_i(t) - b_i(0)|$")
        ax.set_title("bias drift")
        legend(ax)
        for a in axes:
            tidy_ticks(a)
    if path is not None:
        finish(fig.figure, path, where=where)
    return fig


def plot_flow_vs_descent(
    curves: Mapping[str, tuple[Any, Any]],
    path: str | os.PathLike | None = None,
    *,
    title: str | None = None,
    ax: Any = None,
):
    r"""The loss $E$ against the flow time $t$ (descent with step $\eta$ at step $k$:
    $t = \eta k$) for several runs, log-log: the first curve solid black (the reference,
    e.g. the exact gradient flow), the others in the colour cycle with their own line
    styles. A diverging run is drawn up to where it leaves $10^6\times$ its smallest loss.
    The legend sits below the axes, so it covers no curve.

    **Arguments:** `curves` (label -> ``(t, loss)``; plain-text ``eta``, ``lambda_max``
    and ``ReLU^2`` in labels are set in mathtext), `path` (save there, atomically; the
    format from the extension; ``None``: do not save), `title`, `ax` (a matplotlib
    ``Axes`` to draw on; ``None``: a new figure).

    **Returns:** the matplotlib ``Figure``."""
    where = "plot_flow_vs_descent"
    if not isinstance(curves, Mapping) or not curves:
        raise TypeError(f"{where}: curves must be a non-empty mapping label -> (t, loss)")
    if path is not None:
        figure_format(path, where)
    with house_style():
        fig, ax = new_figure(ax, figsize=(5.4, 4.6))
        shown = []
        for i, (lab, (t, loss)) in enumerate(curves.items()):
            t, loss = np.asarray(t, np.float64), np.asarray(loss, np.float64)
            with np.errstate(invalid="ignore"):  # a diverging run: draw its finite part
                ok = (t > 0) & np.isfinite(loss) & (loss > 0) & (loss < 1e6 * np.nanmin(loss))
            if i == 0:
                style = dict(DATA)
            else:
                style = {
                    "color": COLORS[(i - 1) % len(COLORS)],
                    "ls": ("--", "-.", ":", (0, (5, 1, 1, 1)))[(i - 1) % 4],
                    "lw": 1.6,
                }
            ax.loglog(t[ok], loss[ok], **style, label=_tex(lab))
            shown.append(loss[ok])
        _log_limits(ax, shown)
        ax.set_xlabel(r"flow time $t$ (descent: $t = \eta k$)")
        ax.set_ylabel(r"loss $E$")
        if title:
            ax.set_title(_tex(title))
        tidy_ticks(ax)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=1)
    if path is not None:
        finish(fig.figure, path, where=where)
    return fig
