"""Figure of the Rashomon estimate against the Hoeffding bound vs frequency."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ._sweep import FrequencySweep

__all__ = ["plot_frequency_sweep"]


def plot_frequency_sweep(
    sweep: FrequencySweep,
    path: str | os.PathLike | None = None,
    *,
    title: str | None = None,
    ax: Any = None,
):
    r"""Plot $\mathbb{P}(\mathcal{R}_\varepsilon)$ (MC, with the 95% upper end), the
    Hoeffding-event probability, the valid bound and the slides' bound against $\nu$
    (log scale).

    **Arguments:** `sweep` (a `FrequencySweep`), `path` (save the figure there, atomically;
    the format from the extension, ``.png``/``.pdf``/``.svg``; the folder must exist;
    ``None``: do not save), `title`, `ax` (a matplotlib ``Axes`` to draw on; ``None``: a
    new figure).

    **Returns:** the matplotlib ``Figure``."""
    if not isinstance(sweep, FrequencySweep):
        raise TypeError(
            f"plot_frequency_sweep: sweep must be a FrequencySweep; got {type(sweep).__name__}"
        )
    nu = sweep.frequencies
    tiny = 1.0 / (10 * sweep.num_samples)
    if ax is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(6.0, 4.0), dpi=100)
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    ax.semilogy(nu, np.maximum(sweep.estimate, tiny), "o-", label=r"MC $P(R_\varepsilon)$")
    ax.semilogy(nu, sweep.ci_high, "v:", color="C0", alpha=0.6, label="95% upper end")
    ax.semilogy(
        nu,
        np.maximum(sweep.hoeffding_probability, tiny),
        "s-",
        label=r"MC $P(\langle h,f\rangle\geq(1-\varepsilon)\|f\|^2)$",
    )
    ax.semilogy(nu, sweep.bound, "k-", lw=2, label=r"bound, $\kappa=\sup|\langle\sigma,f\rangle|$")
    ax.semilogy(
        nu,
        np.maximum(sweep.bound_poisson, 1e-300),
        "r--",
        label=r"slides' bound ($\Delta g=f$, $g|_{\partial D}=0$)",
    )
    ax.set_xlabel(r"frequency $\nu$")
    ax.set_ylabel("probability")
    ax.set_ylim(max(tiny / 10, 1e-12), 2.0)
    ax.set_title(
        title or f"Rashomon set, d={sweep.dim}, n={sweep.n}, eps={sweep.epsilon:g}, A={sweep.A:g}"
    )
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    if path is not None:
        from .._files import save_figure

        save_figure(fig, path)
    return fig
