"""Figures of the dynamics studies: per-mode errors and halving times with the fitted
exponents (`plot_mode_studies`), Welper's width sweep (`plot_welper_sweep`) and gradient
flow against gradient descent (`plot_flow_vs_descent`). Written by
`spectral_jax._files.save_figure` (format from the extension, atomic)."""

from __future__ import annotations

import contextlib
import functools
import os

import numpy as np

from .._files import figure_format, save_figure

__all__ = ["plot_mode_studies", "plot_welper_sweep", "plot_flow_vs_descent"]


def _styled(fn):
    """Draw `fn`'s figure under the house style (`spectral_jax._style`) when present."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            from .._style import house_style

            ctx = house_style()
        except ImportError:
            ctx = contextlib.nullcontext()
        with ctx:
            return fn(*args, **kwargs)

    return wrapper


def _save(fig, path, where):
    import matplotlib.pyplot as plt

    try:
        fig.tight_layout()
        save_figure(fig, path, where=where)
    finally:
        plt.close(fig)
    return os.fspath(path)


@_styled
def plot_mode_studies(studies, path) -> str:
    r"""Top row: per-mode error $e_m(t)/e_m(0)$ against time (log axes) for each
    `ModeStudy`, the halving level dashed; bottom left: time to halve against $m$ with the
    fitted exponents (and their standard errors) of every study; bottom: the loss curves."""
    import matplotlib.pyplot as plt

    figure_format(path, "plot_mode_studies")
    k = len(studies)
    fig, axes = plt.subplots(2, k, figsize=(3.2 * k, 6.0), squeeze=False)
    cmap = plt.get_cmap("viridis")
    for j, s in enumerate(studies):
        ax = axes[0, j]
        t = np.maximum(np.asarray(s.record_times, float), 1e-300)
        e = np.asarray(s.mode_errors, float)
        M = e.shape[1]
        for i, m in enumerate(s.modes):
            if not s.has_content[i]:
                continue
            ax.loglog(t[1:], e[1:, i] / e[0, i], color=cmap(i / max(M - 1, 1)), lw=1,
                      label=f"m={m}" if i in (0, M - 1) else None)  # fmt: skip
        ax.axhline(0.5, color="k", ls="--", lw=0.7)
        ax.set_title(s.label, fontsize=8)
        ax.set_xlabel(s.time_unit)
        if j == 0:
            ax.set_ylabel("$e_m(t)/e_m(0)$")
        ax.legend(fontsize=6)
        ax.set_ylim(1e-3, 2)
    ax = axes[1, 0]
    for s in studies:
        m = np.asarray(s.modes, float)
        tt = np.asarray([np.nan if v is None else v for v in s.times], float)
        lab = s.label + (f": $m^{{{s.fit.exponent:.2f}\\pm{s.fit.stderr:.2f}}}$" if s.fit else "")
        (ln,) = ax.loglog(m, tt, "o", ms=3, label=lab)
        if s.fit is not None:
            mm = np.linspace(s.fit.x_range[0], s.fit.x_range[1], 20)
            ax.loglog(mm, s.fit.prefactor * mm**s.fit.exponent, "-", color=ln.get_color(), lw=0.8)
    ax.set_xticks(studies[0].modes)
    ax.set_xticklabels([str(m) for m in studies[0].modes])
    ax.minorticks_off()
    ax.set_xlabel("Fourier mode m")
    ax.set_ylabel("time to halve")
    ax.legend(fontsize=6)
    if k > 1:
        ax = axes[1, 1]
        for s in studies:
            t = np.asarray(s.record_times, float)
            loss = np.asarray(s.loss, float)
            ax.loglog(t[1:], loss[1:] / loss[0], lw=1, label=f"{s.label} ({s.time_unit})")
        ax.set_xlabel("flow time or steps")
        ax.set_ylabel("loss $E/E_0$")
        ax.legend(fontsize=6)
    for ax in axes[1, 2:]:
        ax.set_visible(False)
    return _save(fig, path, "plot_mode_studies")


@_styled
def plot_welper_sweep(sweep, path) -> str:
    r"""Left: $L^2$ error against flow time for each width (``"lambda"`` schedule; the
    least-squares level dotted). Middle: final error and least-squares level against $m$
    per schedule, with the fitted rate. Right: max bias drift / bias spacing against
    $m$."""
    import matplotlib.pyplot as plt

    figure_format(path, "plot_welper_sweep")
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    cmap = plt.get_cmap("viridis")
    ref = sweep.select("lambda") or sweep.select(sweep.scalings[0])
    for i, r in enumerate(ref):
        col = cmap(i / max(len(ref) - 1, 1))
        t = r.record_steps * r.lr
        axes[0].semilogy(t, r.errors, color=col, lw=1, label=f"m={r.width}")
        axes[0].axhline(r.ls_error, color=col, ls=":", lw=0.7)
    axes[0].set_xlabel("flow time $t=\\eta k$")
    axes[0].set_ylabel("$\\|f_\\theta-f\\|_{L^2}$")
    axes[0].legend(fontsize=6)
    for s, mk in zip(sweep.scalings, "osd", strict=False):
        rs = sweep.select(s)
        w = np.asarray([r.width for r in rs], float)
        fe = np.asarray([r.final_error if r.stable else np.nan for r in rs])
        axes[1].loglog(w, fe, mk + "-", ms=4, label=f"final error, eta {s}")
        bad = [r.width for r in rs if not r.stable]
        if bad:
            axes[1].plot(bad, [np.nanmax(fe) if np.isfinite(fe).any() else 1] * len(bad), "rx")
    w = np.asarray([r.width for r in ref], float)
    axes[1].loglog(w, [r.ls_error for r in ref], "k:", label="least squares (initial knots)")
    if sweep.error_fit is not None:
        f = sweep.error_fit
        axes[1].set_title(f"final error ~ m^{f.exponent:.2f}±{f.stderr:.2f}", fontsize=8)
    axes[1].set_xlabel("width m")
    axes[1].legend(fontsize=6)
    axes[2].loglog(w, [r.drift_over_spacing for r in ref], "o-", label="max drift / (2/m)")
    axes[2].loglog(w, [r.drift_max for r in ref], "s-", label="max drift")
    axes[2].set_xlabel("width m")
    axes[2].legend(fontsize=6)
    return _save(fig, path, "plot_welper_sweep")


@_styled
def plot_flow_vs_descent(curves, path, *, title=None) -> str:
    """Loss against flow time for several runs: `curves` maps a label to ``(t, loss)``."""
    import matplotlib.pyplot as plt

    figure_format(path, "plot_flow_vs_descent")
    fig, ax = plt.subplots(figsize=(5, 3.6))
    for (lab, (t, loss)), ls in zip(curves.items(), ["-", "--", ":", "-."] * 4, strict=False):
        t, loss = np.asarray(t, float), np.asarray(loss, float)
        with np.errstate(invalid="ignore"):  # a diverging run: draw its finite part
            ok = (t > 0) & np.isfinite(loss) & (loss > 0) & (loss < 1e6 * np.nanmin(loss))
        ax.loglog(t[ok], loss[ok], ls, label=lab)
    ax.set_xlabel("flow time t (descent: t = eta k)")
    ax.set_ylabel("loss E")
    if title:
        ax.set_title(title, fontsize=8)
    ax.legend(fontsize=6)
    return _save(fig, path, "plot_flow_vs_descent")
