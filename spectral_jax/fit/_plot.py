"""Figures for fits: the fit and its pointwise error; the projection spectrum.

matplotlib is imported lazily inside each function. With a ``path`` a figure is saved
atomically (format from the extension, 200 dpi) and the path returned; without one the
figure is returned."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..spectrum._plot import _finish
from ._fit import FitResult, as_target
from ._projection import ModeProjection

__all__ = ["plot_fit", "plot_projection"]


def plot_fit(
    result: FitResult,
    target,
    path: str | Path | None = None,
    *,
    points: int = 2001,
    title: str | None = None,
):
    """A two-panel figure: target and fit (left), pointwise error (right, log scale) in
    1D; in 2D the fit and the log error as images.

    **Returns:** the path when ``path`` is given (saved atomically, format from the
    extension: ``.png``, ``.pdf``, ``.svg``), else the matplotlib figure.
    """
    import matplotlib.pyplot as plt

    dom = result.basis.domain
    t = as_target(target, dom, "plot_fit")
    x = dom.grid(points if dom.dim == 1 else 101, dtype=result.coefficients.dtype)
    h = np.asarray(result(x), np.float64)
    f = np.asarray(t(x), np.float64)
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.6))
    if dom.dim == 1:
        xs = np.asarray(x[:, 0])
        ax[0].plot(xs, f, "k-", lw=2, label="target")
        ax[0].plot(xs, h, "r--", lw=1.2, label=f"fit ({result.solver}, {result.dtype})")
        ax[0].legend()
        ax[1].semilogy(xs, np.abs(h - f) + 1e-300)
        ax[1].set_xlabel("x")
    else:
        n = int(round(np.sqrt(x.shape[0])))
        ax[0].imshow(h.reshape(n, n).T, origin="lower", extent=(-1, 1, -1, 1))
        im = ax[1].imshow(
            np.log10(np.abs(h - f) + 1e-300).reshape(n, n).T, origin="lower", extent=(-1, 1, -1, 1)
        )
        fig.colorbar(im, ax=ax[1], label="log10 |error|")
    ax[0].set_title(title or "fit")
    ax[1].set_title(f"|error|: MAX {result.max_error:.2e}, MSE {result.mse:.2e}")
    fig.tight_layout()
    return _finish(fig, None if path is None else Path(path), close=True)


def plot_projection(
    projections: dict[str, ModeProjection], path: str | Path | None = None, *, title: str = ""
):
    r"""Save a PNG of $|c_k|$ and $\lambda_k/\lambda_1$ against the mode index for each
    labelled projection, with the precision floors $\epsilon$ of float32/float64.
    Coefficients of modes with $\lambda_k \le \epsilon\lambda_1$ (rounding noise in that
    precision) are not drawn.

    **Returns:** the path when ``path`` is given (saved atomically), else the figure."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    for label, p in projections.items():
        lam = np.asarray(p.eigenvalues, np.float64)
        k = np.arange(1, lam.size + 1)
        # coefficients of modes below the precision floor are rounding noise: not shown
        usable = lam > np.finfo(np.dtype(p.dtype)).eps * lam[0]
        c = np.where(usable, np.abs(np.asarray(p.coefficients, np.float64)), np.nan)
        ax.loglog(
            k,
            c + 1e-300,
            ".",
            ms=3,
            label=f"|c_k| {label}",
        )
        ax.loglog(k, np.abs(lam) / lam[0] + 1e-300, "-", lw=1, label=f"λ_k/λ_1 {label}")
    for eps, name in ((2.0**-23, "float32 ε"), (2.0**-52, "float64 ε")):
        ax.axhline(eps, ls=":", c="gray")
        ax.text(1, eps * 2, name, fontsize=8)
    ax.set_xlabel("mode k")
    ax.set_title(title or "projection of f on the Gram eigenmodes")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return _finish(fig, None if path is None else Path(path), close=True)
