"""Plots of a `Trajectory`: loss and per-mode errors against the step."""

from __future__ import annotations

import os

import numpy as np

from .._files import figure_format, save_figure

__all__ = ["plot_trajectory"]


def plot_trajectory(traj, path: str | os.PathLike, *, title: str | None = None) -> str:
    """Save a figure (loss vs step; per-mode errors vs step if recorded) to `path`.

    The format follows the extension (``.png``, ``.pdf``, ``.svg``, ...); the file is
    written atomically (a failed write leaves any old file as it was).

    **Returns:** the path written."""
    import matplotlib.pyplot as plt

    figure_format(path, "plot_trajectory")  # refuse an unknown format before drawing
    n = 2 if traj.mode_errors is not None else 1
    fig, axes = plt.subplots(1, n, figsize=(5 * n, 3.6), squeeze=False)
    s = np.maximum(traj.steps, 1)
    ax = axes[0, 0]
    ax.loglog(s, traj.loss, "k-")
    ax.set_xlabel("step")
    ax.set_ylabel("loss E")
    ax.grid(True, which="both", alpha=0.3)
    if traj.failed_at is not None:
        why = "diverged" if getattr(traj, "stopped", None) == "diverged" else "NaN"
        ax.axvline(max(traj.failed_at, 1), color="r", ls="--", label=f"{why} at {traj.failed_at}")
        ax.legend()
    if n == 2:
        ax = axes[0, 1]
        M = traj.mode_errors.shape[1]
        cmap = plt.get_cmap("viridis")
        for j, lab in enumerate(traj.mode_labels):
            ax.loglog(s, traj.mode_errors[:, j], color=cmap(j / max(M - 1, 1)), label=f"m={lab}")
        ax.set_xlabel("step")
        ax.set_ylabel("mode error $e_m$")
        ax.grid(True, which="both", alpha=0.3)
        if M <= 10:
            ax.legend(fontsize=7)
    try:
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        save_figure(fig, path, where="plot_trajectory")
    finally:
        plt.close(fig)
    return os.fspath(path)
