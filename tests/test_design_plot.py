"""Figures of activation design: `plot_design` and `plot_penalties` (house style, saving
only when given a path, drawing into a given figure or axes)."""

import jax.numpy as jnp
import numpy as np
import pytest
from helpers import MAGIC, overlapping_tick_labels
from matplotlib.figure import Figure

from spectral_jax._style import DATA, FIT, LABELS
from spectral_jax.design import design_activation, plot_design, plot_penalties, spectral_penalty


@pytest.fixture(scope="module")
def designed():
    """A small design checked on its band, and the same design without the check."""
    kw = dict(band=(0.5, 4.0), accuracy=1e-3, band_points=12)
    return (
        design_activation("exp(2*abs(k))", **kw),
        design_activation("exp(2*abs(k))", diagnostics=False, **kw),
    )


def test_overlap_check_detects_matplotlib_default_log_labels():
    """The check fails on the unstyled figure the command line drew before (a log axis
    over 0.5..8 labels its minor ticks, which collide)."""
    fig = Figure(figsize=(5, 4))
    ax = fig.subplots()
    k = np.geomspace(0.5, 8.0, 6)
    ax.loglog(k, k**4)
    assert overlapping_tick_labels(fig)


def test_plot_design_draws_target_and_achieved(designed, tmp_path, monkeypatch):
    r, _ = designed
    monkeypatch.chdir(tmp_path)
    fig = plot_design(r, title="t")
    assert isinstance(fig, Figure) and not list(tmp_path.iterdir())  # nothing saved
    a0, a1, a2 = fig.axes
    assert [a.get_ylabel() for a in fig.axes] == [LABELS["phi"], LABELS["phi_hat"], LABELS["rho"]]
    assert all(a.get_xlabel() for a in fig.axes)
    z, phi = a0.lines[0].get_data()
    np.testing.assert_allclose(phi, np.asarray(r.activation(jnp.asarray(z))), rtol=1e-12)
    k = np.asarray(r.k)
    for ax, target, achieved in (
        (a1, 1 / np.asarray(r.rho_target), 1 / np.asarray(r.rho_achieved)),  # D = 1
        (a2, np.asarray(r.rho_target), np.asarray(r.rho_achieved)),
    ):
        want, got = ax.lines
        np.testing.assert_allclose(want.get_xdata(), k, rtol=1e-15)
        np.testing.assert_allclose(want.get_ydata(), target, rtol=1e-12)
        np.testing.assert_allclose(got.get_ydata(), achieved, rtol=1e-12)
        # the achieved curve is visibly distinct from the target
        assert (want.get_color(), want.get_linestyle()) == (DATA["color"], DATA["ls"])
        assert (got.get_color(), got.get_linestyle()) == (FIT["color"], FIT["ls"])
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["target", "achieved"]
    assert a2.get_title() == f"max rel. error {r.max_rel_error:.1e}"
    assert fig._suptitle.get_text() == "t"
    assert not overlapping_tick_labels(fig)


def test_plot_design_without_check_draws_the_target_only(designed):
    _, r = designed
    fig = plot_design(r)
    assert [len(a.lines) for a in fig.axes] == [1, 1, 1]
    assert fig.axes[2].get_title() == "achieved: not checked"


@pytest.mark.parametrize("ext", [".png", ".pdf", ".svg"])
def test_plot_design_saves_by_extension(designed, tmp_path, ext):
    path = tmp_path / f"d{ext}"
    fig = Figure(figsize=(6, 2))  # small: quick to render
    assert plot_design(designed[0], path, fig=fig) is fig
    assert path.read_bytes().startswith(MAGIC[ext])
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


def test_plot_design_into_a_given_figure(designed, tmp_path):
    fig = Figure()
    assert plot_design(designed[0], fig=fig) is fig and len(fig.axes) == 3
    outer = Figure()
    left, right = outer.subfigures(1, 2)
    path = tmp_path / "sub.png"
    assert plot_design(designed[0], path, fig=right) is right
    assert len(right.axes) == 3 and not left.axes
    assert path.read_bytes().startswith(MAGIC[".png"])  # the whole figure


def test_plot_design_errors(designed, tmp_path):
    r = designed[0]
    with pytest.raises(TypeError, match="plot_design: result must be a DesignResult"):
        plot_design(r.activation)
    with pytest.raises(TypeError, match="plot_design: fig must be a matplotlib Figure"):
        plot_design(r, fig="figure")
    with pytest.raises(ValueError, match="plot_design: zlim must satisfy"):
        plot_design(r, zlim=(1.0, -1.0))
    with pytest.raises(ValueError, match="plot_design"):
        plot_design(r, tmp_path / "d.jpeg2000")
    assert not list(tmp_path.iterdir())


def test_plot_penalties(tmp_path):
    k = np.geomspace(0.5, 8.0, 6)
    rho = {"relu": np.asarray(spectral_penalty("relu", jnp.asarray(k), 1)), "$k^6$": k**6}
    rho["bad"] = np.array([1.0, -1.0, np.inf, np.nan, 0.0, 2.0])
    fig = plot_penalties(k, rho, dim=1)
    (ax,) = fig.axes
    assert ax.get_ylabel() == LABELS["rho"] and ax.get_xlabel() == LABELS["freq"]
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert ax.get_title().endswith("$D = 1$")
    for line, name in zip(ax.lines, rho, strict=True):
        assert line.get_label() == name
        np.testing.assert_allclose(line.get_xdata(), k, rtol=1e-15)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), k**4, rtol=1e-12)  # ReLU: k^4
    # non-positive and non-finite values are not drawn
    np.testing.assert_array_equal(np.isnan(ax.lines[2].get_ydata()), [0, 1, 1, 1, 1, 0])
    assert len({line.get_color() for line in ax.lines}) == 3
    # past the colour cycle, series still differ (marker and line style)
    many = plot_penalties(k, {f"$k^{i}$": k**i for i in range(1, 10)}).axes[0].lines
    styles = {(ln.get_color(), ln.get_linestyle(), ln.get_marker()) for ln in many}
    assert len(styles) == 9
    assert not overlapping_tick_labels(fig)
    assert not list(tmp_path.iterdir())
    # on given axes (the figure is returned), saved when given a path
    outer = Figure(figsize=(5, 2))
    axes = outer.subplots(1, 2)
    path = tmp_path / "p.pdf"
    assert plot_penalties(k, rho, path, ax=axes[1], title="mine") is outer
    assert axes[1].lines and not axes[0].lines and axes[1].get_title() == "mine"
    assert path.read_bytes().startswith(MAGIC[".pdf"])


def test_plot_penalties_errors():
    k = np.geomspace(0.5, 8.0, 4)
    with pytest.raises(ValueError, match=r"plot_penalties: penalties\['a'\] must have the shape"):
        plot_penalties(k, {"a": np.ones(3)})
    with pytest.raises(TypeError, match="plot_penalties: penalties must be a non-empty"):
        plot_penalties(k, {})
    with pytest.raises(ValueError, match="plot_penalties: k must be a 1-D array"):
        plot_penalties(-k, {"a": np.ones(4)})
