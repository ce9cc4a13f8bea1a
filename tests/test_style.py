"""The house style of figures (spectral_jax._style) and the plot functions that use it:
each draws on given axes or a new figure, saves only when given a path, returns the
figure, labels every panel, keeps fits distinct from data, keeps tick labels apart and
log ranges sensible."""

import itertools
from types import SimpleNamespace

import jax.numpy as jnp
import matplotlib.colors as mcolors
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import spectral_jax as sj
from spectral_jax._style import DATA, FIT, legend, log_range, new_figure, tidy_ticks
from spectral_jax.dynamics import plot_trajectory
from spectral_jax.fit import (
    NetworkBasis,
    eigenmode_projection,
    fit_least_squares,
    plot_fit,
    plot_projection,
)
from spectral_jax.ntk import plot_limit_convergence, plot_ntk_spectra
from spectral_jax.rashomon import plot_frequency_sweep
from spectral_jax.rashomon._sweep import FrequencySweep


def test_log_range_spans_a_decade_and_two_labels():
    assert log_range([0.503, 0.507]) == pytest.approx((0.1, 10.0))  # 1 % does not fill it
    for vals in ([3e-5, 2e-2], [1e-3, 1.0], [0.09, 0.4], [7.0, 7.0]):
        lo, hi = log_range(vals)
        assert lo < min(vals) and hi > max(vals)
        assert np.log10(hi / lo) >= 1.0
        assert np.floor(np.log10(hi)) - np.ceil(np.log10(lo)) >= 1  # two powers of ten
    lo, hi = log_range([3e-5, 2e-2])
    assert np.log10(hi / lo) < 1.2 * np.log10(2e-2 / 3e-5)  # margins, no empty decade
    assert log_range([0.0, -1.0, np.nan]) is None


def test_legend_inside_when_few_outside_when_crowded():
    fig, ax = new_figure()
    for i in range(3):
        ax.plot([0, 1], [i, i], label=str(i))
    assert legend(ax)._loc == 0  # "best"
    for i in range(3, 8):
        ax.plot([0, 1], [i, i], label=str(i))
    leg = legend(ax)
    assert leg.get_bbox_to_anchor().x0 > ax.get_window_extent().x1  # right of the axes
    fig2, ax2 = new_figure()
    assert legend(ax2) is None


def _labels_overlap(fig) -> list[str]:
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    r = canvas.get_renderer()
    bad = []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            boxes = [
                t.get_window_extent(r)
                for t in axis.get_ticklabels()
                if t.get_visible() and t.get_text()
            ]
            for a, b in itertools.combinations(boxes, 2):
                if a.overlaps(b):
                    bad.append(f"{ax.get_title()!r} {axis.axis_name}")
    return bad


def _check_figure(fig, *, panels):
    assert isinstance(fig, Figure)
    axes = [a for a in fig.axes if a.get_label() != "<colorbar>"]
    assert len(axes) == panels
    assert all(a.get_ylabel() for a in axes), "every panel has a y label"
    assert not _labels_overlap(fig)
    for a in axes:
        if a.get_yscale() == "log":
            lo, hi = a.get_ylim()
            assert np.log10(hi / lo) >= 1 - 1e-9
            texts = [t.get_text() for t in a.get_yticklabels() if t.get_text()]
            assert all("10^" in t or t in ("$\\mathdefault{1}$",) for t in texts), texts


@pytest.fixture(scope="module")
def fit_and_projection():
    b = sj.uniform_biases(20)
    basis = NetworkBasis("relu", jnp.ones((20, 1)), b)
    return fit_least_squares(basis, "arctan25", solver="qr", eval_points=201), {
        "float64": eigenmode_projection(basis, "arctan25")
    }


def _sweep():
    nu = np.arange(1.0, 7.0)
    z = np.zeros_like(nu)
    return FrequencySweep(
        frequencies=nu,
        estimate=0.3 * np.exp(-nu),
        ci_high=0.35 * np.exp(-nu),
        hoeffding_probability=0.5 * np.exp(-nu / 2),
        hoeffding_ci_low=z,
        hoeffding_ci_high=z,
        kappa=nu,
        kappa_poisson=nu,
        bound=np.exp(-nu / 5),
        bound_poisson=np.exp(-nu / 8),
        f_norm_sq=nu,
        n=4,
        epsilon=0.9,
        A=8.0,
        dim=1,
        num_samples=10**5,
    )


def _trajectory(loss_range=0.01):
    steps = np.arange(0, 5001, 50)
    loss = 0.503 * (1 + loss_range * np.exp(-steps / 2000))
    errs = 0.1 * np.exp(-np.outer(steps, 1 / np.arange(1, 5) ** 2) / 300)
    return SimpleNamespace(
        steps=steps, loss=loss, mode_errors=errs, mode_labels=[1, 2, 3, 4], failed_at=None
    )


def _drawers(fit_and_projection):
    r, proj = fit_and_projection
    k = np.arange(1, 40.0)
    m = np.array([64.0, 128, 256, 512])
    return {
        "fit": (lambda path=None: plot_fit(r, "arctan25", path, points=201), 2),
        "projection": (lambda path=None, ax=None: plot_projection(proj, path, ax=ax), 1),
        "trajectory": (lambda path=None: plot_trajectory(_trajectory(), path), 2),
        "ntk_spectra": (
            lambda path=None, ax=None: plot_ntk_spectra({"m=64": k**-2.0}, path, ax=ax),
            1,
        ),
        "limit": (
            lambda path=None, ax=None: plot_limit_convergence(
                m, np.sqrt(0.7 / m), path, rate=-0.5, constant=2 / 3, ax=ax
            ),
            1,
        ),
        "rashomon": (lambda path=None, ax=None: plot_frequency_sweep(_sweep(), path, ax=ax), 1),
    }


@pytest.mark.parametrize(
    "name", ["fit", "projection", "trajectory", "ntk_spectra", "limit", "rashomon"]
)
def test_plot_returns_figure_saves_only_with_path(name, fit_and_projection, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    draw, panels = _drawers(fit_and_projection)[name]
    fig = draw()
    _check_figure(fig, panels=panels)
    assert list(tmp_path.iterdir()) == []  # nothing saved without a path
    ext = "svg" if name == "limit" else "png"  # the format follows the extension
    out = tmp_path / f"f.{ext}"
    assert isinstance(draw(out), Figure) and out.stat().st_size > 1000
    assert out.read_bytes().startswith(b"<?xml" if ext == "svg" else b"\x89PNG")
    if panels == 1:  # draws on the given axes
        fig2, ax = new_figure()
        assert draw(ax=ax) is fig2 and ax.lines


def test_fits_are_dashed_in_another_colour(fit_and_projection):
    fig = plot_fit(fit_and_projection[0], "arctan25", points=201)
    target, fitted = fig.axes[0].lines[:2]
    assert mcolors.to_hex(target.get_color()) != mcolors.to_hex(fitted.get_color())
    assert target.get_linestyle() == "-" and fitted.get_linestyle() == "--"
    assert DATA["color"] != FIT["color"]


def test_trajectory_loss_axis_is_readable():
    """The loss that moves by 1 % spans decades with power-of-ten labels (not 5.03e-1)."""
    fig = plot_trajectory(_trajectory(0.01))
    ax = fig.axes[0]
    lo, hi = ax.get_ylim()
    assert lo <= 0.1 and hi >= 1.0
    FigureCanvasAgg(fig).draw()
    assert all("e-" not in t.get_text() for t in ax.get_yticklabels())


def test_tidy_ticks_caps_linear_ticks():
    fig, ax = new_figure()
    ax.plot(np.linspace(0, 1e6, 5), np.linspace(0, 1, 5))
    tidy_ticks(ax, nbins=4)
    assert len(ax.get_xticks()) <= 6
    assert not _labels_overlap(fig)


def test_new_figure_refuses_ax_for_several_panels():
    _, ax = new_figure()
    with pytest.raises(ValueError, match="new_figure: ax= draws one panel"):
        new_figure(ax, ncols=2)
