"""Plots of a `Trajectory`: loss and per-mode errors against the step (house style, see
`spectral_jax._style`)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .._files import figure_format
from .._style import DATA, LABELS, finish, house_style, legend, log_range, new_figure, tidy_ticks

__all__ = ["plot_trajectory"]


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
