"""Figure of the Rashomon estimate against the Hoeffding bound vs frequency (house style,
see `spectral_jax._style`)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .._style import COLORS, DATA, FIT, LABELS, finish, house_style, legend, new_figure, tidy_ticks
from ._sweep import FrequencySweep

__all__ = ["plot_frequency_sweep"]


def _tex_count(n: int) -> str:
    """``n`` in mathtext: ``10^{5}`` for a power of ten, else with thin-space groups."""
    e = int(round(np.log10(n))) if n > 0 else 0
    return f"10^{{{e}}}" if 10**e == n else f"{n:,}".replace(",", r"\,")


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
    nu = np.asarray(sweep.frequencies, np.float64)
    tiny = 1.0 / (10 * sweep.num_samples)
    est = np.asarray(sweep.estimate, np.float64)
    hoeff = np.asarray(sweep.hoeffding_probability, np.float64)
    with house_style():
        fig, ax = new_figure(ax, figsize=(6.4, 4.0))
        # a Monte Carlo probability with no hit is not a value: its line stops, and an open
        # marker on the floor 1/(10N) says "no hit" (the 95% upper end bounds it)
        ax.semilogy(nu, np.where(est > 0, est, np.nan), "o", **DATA, label=r"MC $P(R_\varepsilon)$")
        ax.semilogy(nu, sweep.ci_high, "v:", color="0.4", lw=1, label="95% upper end")
        ax.semilogy(
            nu,
            np.where(hoeff > 0, hoeff, np.nan),
            "s-",
            color=COLORS[0],
            lw=1.2,
            label=r"MC $P(\langle h,f\rangle\geq(1-\varepsilon)\|f\|^2)$",
        )
        no_hit = f"no hit in $N = {_tex_count(sweep.num_samples)}$ samples"
        labelled = "est" if (est <= 0).any() else "hoeff"
        for name, values, marker, color, size in (
            ("hoeff", hoeff, "s", COLORS[0], 7),  # under the (smaller) circles
            ("est", est, "o", "black", 4),
        ):
            none = values <= 0
            if none.any():
                ax.semilogy(
                    nu[none],
                    np.full(int(none.sum()), tiny),
                    marker,
                    ls="none",
                    ms=size,
                    mfc="white",
                    mec=color,
                    mew=1.2,
                    label=no_hit if name == labelled else None,
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
        if np.all(nu == np.round(nu)):  # integer frequencies: integer ticks
            from matplotlib.ticker import MaxNLocator

            ax.xaxis.set_major_locator(MaxNLocator(nbins=8, integer=True))
        legend(ax, max_inside=3)
    return finish(fig, path, where="plot_frequency_sweep")
