"""Figure of the Rashomon estimate against the Hoeffding bound vs frequency (house style,
see `spectral_jax._style`)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .._style import COLORS, DATA, FIT, LABELS, finish, house_style, legend, new_figure, tidy_ticks
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
    with house_style():
        fig, ax = new_figure(ax, figsize=(6.4, 4.0))
        ax.semilogy(
            nu, np.maximum(sweep.estimate, tiny), "o", **DATA, label=r"MC $P(R_\varepsilon)$"
        )
        ax.semilogy(nu, sweep.ci_high, "v:", color="0.4", lw=1, label="95% upper end")
        ax.semilogy(
            nu,
            np.maximum(sweep.hoeffding_probability, tiny),
            "s-",
            color=COLORS[0],
            lw=1.2,
            label=r"MC $P(\langle h,f\rangle\geq(1-\varepsilon)\|f\|^2)$",
        )
        ax.semilogy(nu, sweep.bound, **FIT, label=r"bound, $\kappa=\sup|\langle\sigma,f\rangle|$")
        ax.semilogy(
            nu,
            np.maximum(sweep.bound_poisson, 1e-300),
            "-.",
            color=COLORS[2],
            lw=1.4,
            label=r"slides' bound ($\Delta g=f$, $g|_{\partial D}=0$)",
        )
        ax.set_xlabel(LABELS["nu"])
        ax.set_ylabel(LABELS["probability"])
        ax.set_ylim(max(tiny / 10, 1e-12), 2.0)
        ax.set_title(
            title
            or rf"Rashomon set, $d={sweep.dim}$, $n={sweep.n}$, $\varepsilon={sweep.epsilon:g}$, "
            rf"$A={sweep.A:g}$"
        )
        tidy_ticks(ax)
        legend(ax, max_inside=3)
    return finish(fig, path, where="plot_frequency_sweep")
