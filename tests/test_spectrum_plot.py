"""Figures of spectra: `plot_spectrum` and `plot_eigenfunctions` (house style, saving only
when given a path, drawing into given axes or a given figure)."""

import numpy as np
import pytest
from helpers import MAGIC, overlapping_tick_labels
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from spectral_jax._style import DATA, FIT, LABELS, REFERENCE, log_range
from spectral_jax.spectrum import decay_rate, plot_eigenfunctions, plot_spectrum


def _same_color(a, b) -> bool:
    return np.allclose(to_rgba(a), to_rgba(b))


@pytest.fixture(scope="module")
def spectra():
    """Two algebraic spectra k^-4 and 3 k^-2 (the second with a zero and a negative
    eigenvalue, which a log axis cannot show) and their fits."""
    k = np.arange(1, 41, dtype=np.float64)
    a, b = k**-4.0, 3.0 * k**-2.0
    b[-2:] = [0.0, -1e-3]
    return (a, b), (decay_rate(a, fit_range=(2, 30)), decay_rate(b, fit_range=(3, 20)))


def test_one_spectrum_black_points_and_a_distinct_fit(spectra, tmp_path, monkeypatch):
    (lam, _), (fit, _) = spectra
    monkeypatch.chdir(tmp_path)
    fig = plot_spectrum(lam, labels=["ReLU"], fits=fit, floor=1e-9, title="t")
    assert isinstance(fig, Figure) and not list(tmp_path.iterdir())  # nothing saved
    (ax,) = fig.axes
    points, line, floor = ax.lines
    k = np.arange(1, lam.size + 1)
    np.testing.assert_array_equal(points.get_xdata(), k)
    np.testing.assert_allclose(points.get_ydata(), lam, rtol=0)
    assert points.get_linestyle() == "None" and _same_color(points.get_color(), DATA["color"])
    kk = np.arange(2, 31)
    np.testing.assert_array_equal(line.get_xdata(), kk)
    np.testing.assert_allclose(line.get_ydata(), fit.constant * kk**-fit.rate, rtol=1e-12)
    assert abs(fit.rate - 4.0) < 1e-9  # the fitted line is k^-4 itself
    # the fit is visibly distinct from the data: another colour, dashed, drawn on top
    assert _same_color(line.get_color(), FIT["color"]) and line.get_linestyle() == "--"
    assert line.get_zorder() > points.get_zorder()
    np.testing.assert_allclose(floor.get_ydata(), [1e-9, 1e-9], rtol=0)
    assert _same_color(floor.get_color(), REFERENCE["color"]) and floor.get_linestyle() == ":"
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert ax.get_xlabel() == LABELS["k"] and ax.get_ylabel() == LABELS["lambda"]
    assert ax.get_title() == "t"
    # the eigenvalue axis spans the points and the floor
    np.testing.assert_allclose(ax.get_ylim(), log_range(np.r_[lam, 1e-9]), rtol=1e-12)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "ReLU",
        "fit $k^{-4.00}$",
        r"$n\varepsilon\lambda_1$",
    ]
    assert not overlapping_tick_labels(fig)


def test_several_spectra_each_fit_darker_than_its_points(spectra):
    lams, fits = spectra
    fig = plot_spectrum(list(lams), labels=["a", "b"], fits=list(fits))
    (ax,) = fig.axes
    pa, fa, pb, fb = ax.lines
    # drawn data are the positive inputs
    np.testing.assert_allclose(pa.get_ydata(), lams[0], rtol=0)
    np.testing.assert_array_equal(pb.get_xdata(), np.arange(1, 39))
    np.testing.assert_allclose(pb.get_ydata(), lams[1][:38], rtol=0)
    assert not _same_color(pa.get_color(), pb.get_color())
    for p, f in ((pa, fa), (pb, fb)):
        assert f.get_linestyle() == "--" and f.get_linewidth() == pytest.approx(1.6)
        rgb_p, rgb_f = np.array(to_rgba(p.get_color())[:3]), np.array(to_rgba(f.get_color())[:3])
        # the same hue, darker: each channel scaled by the same factor < 1
        assert not _same_color(p.get_color(), f.get_color())
        np.testing.assert_allclose(rgb_f, rgb_f.max() / rgb_p.max() * rgb_p, atol=1e-12)
        assert rgb_f.sum() < 0.7 * rgb_p.sum()
    np.testing.assert_allclose(ax.get_ylim(), log_range(np.r_[lams[0], lams[1][:38]]), rtol=1e-12)
    assert not overlapping_tick_labels(fig)


def test_plot_spectrum_accepts_a_spectrum_object():
    from spectral_jax.spectrum import eigh_spectrum

    a = np.diag([4.0, 2.0, 1.0, 0.5])
    (points,) = plot_spectrum(eigh_spectrum(a)).axes[0].lines
    np.testing.assert_allclose(points.get_ydata(), [4.0, 2.0, 1.0, 0.5], rtol=1e-12)


@pytest.mark.parametrize("ext", [".png", ".pdf", ".svg"])
def test_plot_spectrum_saves_by_extension_into_given_axes(spectra, tmp_path, ext):
    path = tmp_path / f"s{ext}"
    outer = Figure(figsize=(5, 2))
    axes = outer.subplots(1, 2)
    assert plot_spectrum(spectra[0][0], path, ax=axes[1]) is outer
    assert axes[1].lines and not axes[0].lines
    assert path.read_bytes().startswith(MAGIC[ext])
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


def test_plot_spectrum_errors(spectra, tmp_path):
    lams, fits = spectra
    with pytest.raises(ValueError, match=r"plot_spectrum: labels must have one entry per spectrum"):
        plot_spectrum(list(lams), labels=["a"])
    with pytest.raises(ValueError, match=r"plot_spectrum: fits must have one entry per spectrum"):
        plot_spectrum(lams[0], fits=list(fits))
    with pytest.raises(ValueError, match="plot_spectrum: floor must be a positive"):
        plot_spectrum(lams[0], floor=0.0)
    with pytest.raises(ValueError, match=r"plot_spectrum: spectra\[0\] must be 1-D"):
        plot_spectrum([np.eye(2)])
    with pytest.raises(TypeError, match="plot_spectrum: ax must be a matplotlib Axes"):
        plot_spectrum(lams[0], ax=Figure())
    with pytest.raises(ValueError, match="plot_spectrum: cannot write"):
        plot_spectrum(lams[0], tmp_path / "s.jpeg2000")
    assert not list(tmp_path.iterdir())


def test_eigenfunctions_1d(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    x = np.linspace(-1.0, 1.0, 41)
    v = np.stack([np.cos(np.pi * x / 2), np.sin(np.pi * x)], axis=1)
    fig = plot_eigenfunctions(x[:, None], v, modes=[3, 7], title="t")
    assert isinstance(fig, Figure) and not list(tmp_path.iterdir())
    (ax,) = fig.axes
    for line, col in zip(ax.lines, v.T, strict=True):
        np.testing.assert_array_equal(line.get_xdata(), x)
        np.testing.assert_allclose(line.get_ydata(), col, rtol=0)
    assert not _same_color(ax.lines[0].get_color(), ax.lines[1].get_color())
    assert ax.get_xlabel() == LABELS["x"] and ax.get_ylabel() == LABELS["psi"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [r"$\psi_{3}$", r"$\psi_{7}$"]
    assert fig._suptitle.get_text() == "t"
    assert not overlapping_tick_labels(fig)


def _disk(n: int = 15) -> np.ndarray:
    g = np.linspace(-1.0, 1.0, n)
    x = np.stack(np.meshgrid(g, g), axis=-1).reshape(-1, 2)
    return x[np.sum(x**2, axis=1) <= 1.0]


def test_eigenfunctions_2d_panels_labels_and_saving(tmp_path):
    x = _disk()
    v = np.stack([x[:, 0], x[:, 1], x[:, 0] * x[:, 1], x[:, 0] ** 2 - 0.3, x[:, 1] ** 3], 1)
    path = tmp_path / "e.png"
    fig = Figure(figsize=(8, 4))
    assert plot_eigenfunctions(x, v, path, modes=[1, 2, 3, 4, 50], fig=fig) is fig
    assert path.read_bytes().startswith(MAGIC[".png"])
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    axes = fig.axes
    assert len(axes) == 5  # 2 rows of 4, the 3 unused panels removed
    assert [a.get_title() for a in axes] == [rf"$\psi_{{{m}}}$" for m in (1, 2, 3, 4, 50)]
    # a y label on the first panel of each row; the others share its limits
    assert [a.get_ylabel() for a in axes] == ["$x_2$", "", "", "", "$x_2$"]
    # an x label on the lowest panel of each column
    assert [a.get_xlabel() for a in axes] == ["", "$x_1$", "$x_1$", "$x_1$", "$x_1$"]
    for a in axes:
        assert a.get_xlim() == axes[0].get_xlim() and a.get_ylim() == axes[0].get_ylim()
        # the colour scale is symmetric about 0 (white is a nodal line)
        (cs,) = a.collections
        lev = np.asarray(cs.levels)
        np.testing.assert_allclose(lev[0], -lev[-1], rtol=1e-12)
    lev = np.asarray(axes[4].collections[0].levels)
    assert lev[-1] == pytest.approx(np.max(np.abs(x[:, 1] ** 3)))
    assert not overlapping_tick_labels(fig)


def test_eigenfunctions_in_a_subfigure_and_errors(tmp_path):
    x = _disk(9)
    outer = Figure()
    left, right = outer.subfigures(1, 2)
    path = tmp_path / "sub.png"
    assert plot_eigenfunctions(x, x, path, fig=right) is right
    assert len(right.axes) == 2 and not left.axes
    assert path.read_bytes().startswith(MAGIC[".png"])  # the whole figure
    with pytest.raises(ValueError, match=r"plot_eigenfunctions: values must have shape \(m, K\)"):
        plot_eigenfunctions(x, x[:-1])
    with pytest.raises(ValueError, match="plot_eigenfunctions: modes must have one entry"):
        plot_eigenfunctions(x, x, modes=[1])
    with pytest.raises(TypeError, match="plot_eigenfunctions: fig must be a matplotlib Figure"):
        plot_eigenfunctions(x, x, fig="figure")
    with pytest.raises(ValueError, match="plot_eigenfunctions: cannot write"):
        plot_eigenfunctions(x, x, tmp_path / "e.jpeg2000")
    assert [p.name for p in tmp_path.iterdir()] == ["sub.png"]
