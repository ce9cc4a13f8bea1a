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


# --- figures of the dynamics studies, the report's low-pass figure, Rashomon no-hit marks,
# the fit's error range, the local exponents; the regressions the visual review found ---


def _mode_study(label, unit, rate):
    t = np.concatenate([[0.0], np.geomspace(1e-2, 1e4, 40)])
    modes = list(range(1, 7))
    errs = np.exp(-np.outer(t, 1.0 / np.arange(1, 7) ** rate))
    fit = SimpleNamespace(exponent=rate, stderr=0.1, prefactor=1.0, x_range=(2.0, 6.0))
    return SimpleNamespace(
        label=label,
        time_unit=unit,
        record_times=t,
        mode_errors=errs,
        modes=modes,
        has_content=[True] * 6,
        times=[float(m**rate) for m in modes],
        fit=fit,
        loss=0.5 * errs.sum(axis=1),
    )


def _welper():
    runs = {}
    for s in ("sqrt", "inv_sqrt", "lambda"):
        runs[s] = [
            SimpleNamespace(
                width=m,
                record_steps=np.arange(0, 2001, 100),
                lr=0.5,
                errors=0.1 * np.exp(-np.arange(21) / 5) + 1e-3 / m,
                ls_error=1e-3 / m,
                final_error=2e-3 / m,
                stable=not (s == "sqrt" and m == 256),
                drift_over_spacing=0.1 * m,
                drift_max=0.2,
            )
            for m in (32, 64, 128, 256)
        ]
    return SimpleNamespace(
        scalings=tuple(runs),
        select=lambda s: runs.get(s, []),
        error_fit=SimpleNamespace(exponent=-1.0, stderr=0.05),
    )


def _study_figures():
    from spectral_jax.dynamics._plot import (
        plot_flow_vs_descent,
        plot_mode_studies,
        plot_welper_sweep,
    )

    t = np.geomspace(1e-3, 1e3, 60)
    curves = {
        "exact gradient flow": (t, 4 * np.exp(-t / 100)),
        "descent, eta = 0.5/lambda_max": (t, 4 * np.exp(-t / 100) * 1.01),
        "descent, eta = 2.1/lambda_max": (t[:20], 4 * np.exp(t[:20])),
    }
    studies = [_mode_study("ReLU, fixed", "flow time", 4.0), _mode_study("ReLU^2", "steps", 6.0)]
    return {
        "modes": (plot_mode_studies(studies), 4),  # 2 studies + halving times + loss
        "welper": (plot_welper_sweep(_welper()), 3),
        "flow": (plot_flow_vs_descent(curves, title="loss against flow time t = eta k"), 1),
    }


def test_study_figures_label_every_panel_and_keep_legends_off_curves(tmp_path):
    from helpers import legend_covered_points, overlapping_tick_labels

    figures = _study_figures()
    for name, (fig, panels) in figures.items():
        axes = [a for a in fig.axes if a.get_visible()]
        assert len(axes) == panels, name
        assert all(a.get_ylabel() for a in axes), f"{name}: every panel has a y label"
        assert not overlapping_tick_labels(fig), name
        assert not legend_covered_points(fig), name
        texts = [a.get_title() for a in axes] + [
            t.get_text() for a in axes if a.get_legend() for t in a.get_legend().get_texts()
        ]
        assert not any("eta" in t.replace(r"\eta", "") or "^2" in t for t in texts), texts
    flow = figures["flow"][0].axes[0]
    assert mcolors.to_hex(flow.lines[0].get_color()) == mcolors.to_hex(DATA["color"])
    assert len({mcolors.to_hex(line.get_color()) for line in flow.lines}) == len(flow.lines)


def test_mode_study_fits_are_dashed_over_their_points():
    fig, _ = _study_figures()["modes"]
    half = next(a for a in fig.axes if "halving" in a.get_title())
    points = [ln for ln in half.lines if ln.get_linestyle() == "None"]
    fits = [ln for ln in half.lines if ln.get_linestyle() == "--"]
    assert len(points) == len(fits) == 2
    assert {mcolors.to_hex(p.get_color()) for p in points} == {
        mcolors.to_hex(f.get_color()) for f in fits
    }


def test_lowpass_report_figure(tmp_path):
    from helpers import legend_covered_points

    from spectral_jax.fit._plot import plot_fittable_frequency
    from spectral_jax.report._approximation import _plot_lowpass

    ks = np.arange(1, 41)
    e64 = 1e-4 * ks**2.2
    meas = {
        ("float32", "eigh"): {"rel_l2_errors": np.minimum(1.0, 5e-3 * ks**1.5)},
        ("float32", "qr"): {"rel_l2_errors": e64 * 1.001},
        ("float64", "qr"): {"rel_l2_errors": e64},
    }
    path = tmp_path / "lowpass.png"
    _plot_lowpass(ks, meas, 120, path)  # the report's figure
    assert path.read_bytes().startswith(b"\x89PNG")
    kept = [plot_fittable_frequency(ks, meas)]
    ax = kept[0].axes[0]
    assert "$" in ax.get_ylabel() and "$" in ax.get_xlabel()
    styles = {(mcolors.to_hex(ln.get_color()), str(ln.get_linestyle())) for ln in ax.lines}
    assert len(styles) == len(ax.lines)  # float32 QR is not hidden under float64
    lo, hi = ax.get_ylim()
    assert lo <= 1e-4 and hi >= 1.0
    assert not legend_covered_points(kept[0])


def test_rashomon_no_hit_is_a_mark_not_a_value():
    import dataclasses

    s = _sweep()
    est = np.where(np.arange(6) > 2, 0.0, s.estimate)
    fig = plot_frequency_sweep(dataclasses.replace(s, estimate=est))
    ax = fig.axes[0]
    mc = next(ln for ln in ax.lines if ln.get_label().startswith("MC $P(R"))
    assert np.all(np.isnan(mc.get_ydata()[3:])) and np.all(np.isfinite(mc.get_ydata()[:3]))
    hollow = [ln for ln in ax.lines if ln.get_label().startswith("no hit")]
    assert len(hollow) == 1 and len(hollow[0].get_xdata()) == 3
    assert all(float(t) == int(t) for t in ax.get_xticks() if 1 <= t <= 6)  # integer ticks


def test_fit_error_axis_ignores_interpolation_dips(fit_and_projection):
    fig = plot_fit(fit_and_projection[0], "arctan25", points=201)
    err = fig.axes[1].lines[0].get_ydata()
    lo, hi = fig.axes[1].get_ylim()
    assert hi >= err.max() and lo >= 0.5 * np.percentile(err[err > 0], 1) / 10
    assert np.log10(hi / lo) < 16


def test_local_exponents_reference_differs_from_data():
    from spectral_jax.spectrum._plot import plot_local_exponents

    rows = {2: [(5, 20, 3.3, 1.4), (20, 80, 2.7, 0.1)], 3: [(8, 32, 4.3, 3.0), (32, 128, 2.4, 0.1)]}
    fig = plot_local_exponents(rows)
    _check_figure(fig, panels=1)
    ax = fig.axes[0]
    data = [ln for ln in ax.lines if ln.get_linestyle() == "-"]
    refs = [ln for ln in ax.lines if ln.get_linestyle() == ":"]
    assert len(refs) == 2 and data
    assert not {mcolors.to_hex(r.get_color()) for r in refs} & {
        mcolors.to_hex(d.get_color()) for d in data
    }
