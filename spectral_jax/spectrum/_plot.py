"""Plots of spectra and eigenfunctions (matplotlib, imported lazily).

Each function draws into a new figure (or the given ``ax``); with a ``path`` it saves the
figure atomically (a temporary file beside it, then renamed: an interrupted run never
leaves a truncated file), in the format of the path's extension, and returns the path.
The library does not check whether ``path`` exists (the command line does, with
``--force``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._files import save_figure

__all__ = ["plot_spectrum", "plot_eigenfunctions"]

#: resolution of saved raster figures
DPI = 200


def _finish(fig, path, close: bool):
    """Save ``fig`` atomically to ``path`` (format from the extension, PNG without one)
    and return the path; without a path return the figure."""
    if path is None:
        return fig
    import matplotlib.pyplot as plt

    try:
        save_figure(fig, path, dpi=DPI)
    finally:
        if close:
            plt.close(fig)
    return path


def plot_spectrum(
    spectra,
    path=None,
    *,
    labels: Sequence[str] | None = None,
    fits=None,
    floor=None,
    title=None,
    ax=None,
):
    r"""Log-log plot of one or several spectra $\lambda_k$ against $k$, with the fitted
    $Ck^{-p}$ lines of ``fits`` (`DecayFit`s, dashed, over their ranges) and an optional
    horizontal precision ``floor``.

    **Arguments:** `spectra` (eigenvalue arrays or `Spectrum`s), `path` (save here: the
    extension picks the format, e.g. ``.png``, ``.pdf``, ``.svg``), `labels`, `fits`,
    `floor`, `title`, `ax` (draw into these axes instead of a new figure).

    **Returns:** ``path`` when given (the figure is saved atomically and closed), else the
    matplotlib figure.
    """
    import matplotlib.pyplot as plt

    if not isinstance(spectra, (list, tuple)):
        spectra = [spectra]
    fits = (
        [None] * len(spectra)
        if fits is None
        else (fits if isinstance(fits, (list, tuple)) else [fits])
    )
    own = ax is None
    fig, ax = plt.subplots(figsize=(5.5, 4)) if own else (ax.figure, ax)
    for i, lam in enumerate(spectra):
        lam = np.asarray(getattr(lam, "eigenvalues", lam), dtype=np.float64)
        k = np.arange(1, lam.size + 1)
        pos = lam > 0
        lab = labels[i] if labels else None
        (line,) = ax.loglog(k[pos], lam[pos], ".", ms=3, label=lab)
        f = fits[i] if i < len(fits) else None
        if f is not None:
            kk = np.arange(f.fit_range[0], f.fit_range[1] + 1)
            ax.loglog(
                kk,
                f.constant * kk ** (-f.rate),
                "--",
                color=line.get_color(),
                lw=1,
                label=f"fit $k^{{-{f.rate:.2f}}}$",
            )
    if floor is not None:
        ax.axhline(float(floor), color="gray", lw=0.8, ls=":", label=r"$n\varepsilon\lambda_1$")
    ax.set_xlabel("$k$")
    ax.set_ylabel(r"$\lambda_k$")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=7)
    if own:
        fig.tight_layout()
    return _finish(fig, path, close=own)


def plot_eigenfunctions(x, values, path=None, *, modes: Sequence[int] | None = None, title=None):
    r"""Plot eigenfunctions $\psi_k$ on points ``x``: curves in 1D (``x`` shape ``(m,)``
    or ``(m, 1)``), colour maps over the first two coordinates in 2D/3D. ``values`` has
    shape ``(m, k)``; ``modes`` are the 1-based labels.

    **Returns:** ``path`` when given (saved atomically, format from the extension), else
    the matplotlib figure."""
    import matplotlib.pyplot as plt

    x = np.asarray(x, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    k = v.shape[1]
    modes = list(range(1, k + 1)) if modes is None else list(modes)
    if x.shape[1] == 1:
        fig, ax = plt.subplots(figsize=(5.5, 3.5))
        for j in range(k):
            ax.plot(x[:, 0], v[:, j], lw=1, label=rf"$\psi_{{{modes[j]}}}$")
        ax.legend(fontsize=7)
        ax.set_xlabel("$x$")
    else:
        cols = min(4, k)
        rows = -(-k // cols)
        fig, axes = plt.subplots(rows, cols, figsize=(2.4 * cols, 2.3 * rows), squeeze=False)
        for j in range(rows * cols):
            ax = axes[j // cols][j % cols]
            ax.set_axis_off()
            if j < k:
                ax.tricontourf(x[:, 0], x[:, 1], v[:, j], levels=30, cmap="RdBu_r")
                ax.set_aspect("equal")
                ax.set_title(rf"$\psi_{{{modes[j]}}}$", fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _finish(fig, path, close=True)
