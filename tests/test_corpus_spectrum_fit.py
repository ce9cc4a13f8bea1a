"""Bad-input corpus of ``spectrum`` and ``fit`` (and their library entry points): sizes that
cannot fit are refused up front with the memory they need, options that do not apply are
refused, plot paths are checked before the work, bad numbers are one-line errors.

Every error case refuses before any heavy work; the 'ok' cases use tiny widths."""

import numpy as np
import pytest
from corpus import CliCase, check_cli_case, corpus_fixture

_S = ["spectrum", "--quiet"]
_F = ["fit", "--quiet"]
_SMALL_S = [*_S, "--width", "16"]
_SMALL_F = [*_F, "--width", "12", "--eval-points", "101"]
_GIB = r"needs about [\d.]+ [GTP]iB"

CASES = [
    # --- spectrum: sizes -------------------------------------------------------------
    CliCase("sp-width-60000", [*_S, "--width", "60000"], match=rf"--width 60000.*{_GIB}.*--width"),
    CliCase(
        "sp-width-60000-f32",
        [*_S, "--width", "60000", "--dtype", "float32"],
        match=rf"--width 60000.*{_GIB}",
    ),
    CliCase("sp-width-1e9", [*_S, "--width", str(10**9)], match=r"--width 1000000000"),
    CliCase(
        "sp-width-2d-30000",
        [*_S, "--dim", "2", "--width", "30000"],
        match=rf"--width 30000.*{_GIB}",
    ),
    CliCase("sp-width-negative-large", [*_S, "--width", "-60000"], match=r"--width"),
    CliCase(
        "sp-eigenfunctions-3d-memory",
        [*_S, "--dim", "3", "--width", "3000", "--plot", "s.png", "--eigenfunctions", "2"],
        match=rf"--eigenfunctions with --width 3000.*{_GIB}",
        absent=["s*.png"],
    ),
    CliCase(
        "sp-level-huge",
        [*_S, "--activation", "tanh", "--quadrature", "qmc", "--level", str(10**12)],
        match=r"--level",
    ),
    CliCase(
        "sp-level-gauss-2d-huge",
        [
            *_SMALL_S,
            "--dim",
            "2",
            "--activation",
            "tanh",
            "--quadrature",
            "gauss",
            "--level",
            str(10**6),
        ],
        match=r"--level",
    ),
    CliCase(
        "sp-order-huge",
        [*_SMALL_S, "--activation", "tanh", "--quadrature", "gauss", "--order", str(10**7)],
        match=r"--order",
    ),
    CliCase(
        "sp-level-zero",
        [*_SMALL_S, "--activation", "tanh", "--quadrature", "qmc", "--level", "0"],
        match=r"--level",
    ),
    CliCase(
        "sp-order-negative",
        [*_SMALL_S, "--activation", "tanh", "--quadrature", "gauss", "--order", "-2"],
        match=r"--order",
    ),
    # --- spectrum: options that do not apply -----------------------------------------
    CliCase(
        "sp-eigenfunctions-no-plot",
        [*_SMALL_S, "--eigenfunctions", "3"],
        match=r"--eigenfunctions.*--plot",
    ),
    CliCase(
        "sp-eigenfunctions-negative",
        [*_SMALL_S, "--eigenfunctions", "-1", "--plot", "s.png"],
        match=r"--eigenfunctions",
        absent=["s*.png"],
    ),
    CliCase("sp-show-negative", [*_SMALL_S, "--show", "-1"], match=r"--show"),
    CliCase(
        "sp-level-closed-form",
        [*_SMALL_S, "--level", "8"],
        match=r"^spectral-jax spectrum: error: spectrum: --level .*closed form.*--quadrature gauss",
    ),
    CliCase(
        "sp-level-exact",
        [*_SMALL_S, "--activation", "relu2", "--quadrature", "exact", "--level", "4"],
        match=r"--level.*exact",
    ),
    CliCase("sp-order-closed-form", [*_SMALL_S, "--order", "4"], match=r"--order.*closed"),
    CliCase(
        "sp-order-qmc",
        [*_SMALL_S, "--activation", "tanh", "--quadrature", "qmc", "--order", "4"],
        match=r"--order.*qmc",
    ),
    CliCase(
        "sp-target-not-adaptive",
        [*_SMALL_S, "--target", "sin8"],
        match=r"--target.*--bias-rule adaptive",
    ),
    CliCase("sp-directions-1d", [*_SMALL_S, "--directions", "quasi"], match=r"--directions.*--dim"),
    # --- spectrum: plot paths (checked before the work) --------------------------------
    CliCase(
        "sp-plot-folder", [*_SMALL_S, "--plot", "out"], files={"out": None}, match=r"--plot.*folder"
    ),
    CliCase(
        "sp-plot-missing-parent",
        [*_SMALL_S, "--plot", "nodir/s.png"],
        match=r"--plot.*does not exist",
    ),
    CliCase(
        "sp-plot-exists",
        [*_SMALL_S, "--plot", "s.png"],
        files={"s.png": "old"},
        keep=["s.png"],
        match=r"--plot.*already exists.*--force",
    ),
    CliCase(
        "sp-plot-extension",
        [*_SMALL_S, "--plot", "s.txt"],
        match=r"--plot.*extension",
        absent=["s.txt"],
    ),
    CliCase(
        "sp-eigenfunctions-file-exists",
        [*_SMALL_S, "--plot", "s.png", "--eigenfunctions", "2"],
        files={"s_eigenfunctions.png": "old"},
        keep=["s_eigenfunctions.png"],
        absent=["s.png", ".s*"],
        match=r"s_eigenfunctions\.png.*already exists",
    ),
    CliCase(
        "sp-plot-force-ok",
        [*_SMALL_S, "--plot", "s.pdf", "--eigenfunctions", "2", "--force"],
        expect="ok",
        files={"s.pdf": "old"},
        exists=["s.pdf", "s_eigenfunctions.pdf"],
        absent=[".s*"],
    ),
    # --- spectrum: numbers ----------------------------------------------------------
    CliCase("sp-seed-negative", [*_SMALL_S, "--seed", "-3"], match=r"--seed"),
    CliCase("sp-seed-2-64", [*_SMALL_S, "--seed", str(2**64)], match=r"--seed"),
    CliCase("sp-dim-4", [*_SMALL_S, "--dim", "4"], match=r"--dim"),
    CliCase("sp-dtype-int", [*_SMALL_S, "--dtype", "int32"], match=r"--dtype"),
    CliCase(
        "sp-fit-range-reversed", [*_S, "--width", "40", "--fit-range", "30:5"], match=r"fit.range"
    ),
    # --- spectrum: --out, --save-gram, an ignored --seed ------------------------------
    CliCase("sp-out-suffix", [*_SMALL_S, "--out", "s.txt"], match=r"--out", absent=["s.txt"]),
    CliCase(
        "sp-out-exists",
        [*_SMALL_S, "--out", "s.npz"],
        files={"s.npz": b"mine"},
        match=r"--out.*--force",
        keep=["s.npz"],
    ),
    CliCase("sp-out-missing-folder", [*_SMALL_S, "--out", "nope/s.npz"], match=r"--out"),
    CliCase("sp-out-folder", [*_SMALL_S, "--out", "d.npz"], files={"d.npz": None}, match=r"--out"),
    CliCase(
        "sp-out-checked-first",  # the bad path is refused before a width that is too large
        [*_S, "--width", "60000", "--out", "s.txt"],
        match=r"--out",
    ),
    CliCase("sp-save-gram-without-out", [*_SMALL_S, "--save-gram"], match=r"--save-gram.*--out"),
    CliCase(
        "sp-out-gram",
        [*_SMALL_S, "--out", "s.npz", "--save-gram"],
        expect="ok",
        exists=["s.npz"],
        absent=[".s.npz*"],
    ),
    CliCase(
        "sp-out-force",
        [*_SMALL_S, "--out", "s.npz", "--force"],
        files={"s.npz": b"old"},
        expect="ok",
        exists=["s.npz"],
        absent=[".s.npz*"],
    ),
    CliCase("sp-seed-ignored-1d", [*_SMALL_S, "--seed", "3"], expect="warn", match=r"--seed"),
    CliCase(
        "sp-seed-ignored-adaptive",
        [*_SMALL_S, "--bias-rule", "adaptive", "--seed", "3"],
        expect="warn",
        match=r"--seed is ignored.*adaptive",
    ),
    CliCase(
        "sp-seed-ignored-quasi-2d",
        [*_SMALL_S, "--dim", "2", "--directions", "quasi", "--seed", "1"],
        expect="warn",
        match=r"--seed is ignored.*quasi",
    ),
    CliCase(
        "sp-adaptive-2d", [*_SMALL_S, "--dim", "2", "--bias-rule", "adaptive"], match=r"--bias-rule"
    ),
    CliCase(
        "sp-adaptive-target-2d",
        [*_SMALL_S, "--bias-rule", "adaptive", "--target", "test2d"],
        match=r"--target",
    ),
    CliCase("sp-no-compile-cache", [*_SMALL_S, "--no-compile-cache"], expect="ok"),
    # --- fit: sizes -------------------------------------------------------------------
    CliCase("fit-width-60000", [*_F, "--width", "60000"], match=rf"--width 60000.*{_GIB}.*--width"),
    CliCase(
        "fit-width-60000-fem-cholesky",
        [*_F, "--width", "60000", "--basis", "fem", "--solver", "cholesky"],
        match=rf"--width 60000.*{_GIB}",
    ),
    CliCase("fit-width-1e9", [*_F, "--width", str(10**9)], match=r"--width 1000000000"),
    CliCase(
        "fit-eval-points-3e9",
        [*_F, "--width", "12", "--eval-points", str(3 * 10**9)],
        match=r"--eval-points 3000000000",
    ),
    CliCase(
        "fit-eval-points-1e9",
        [*_F, "--width", "12", "--eval-points", str(10**9)],
        match=rf"--eval-points 1000000000.*{_GIB}",
    ),
    CliCase(
        "fit-eval-points-2d-per-axis",
        [*_F, "test2d", "--width", "12", "--eval-points", "100000"],
        match=r"--eval-points 100000",
    ),
    CliCase(
        "fit-width-8000-feature-matrix",
        [*_F, "--width", "8000"],
        match=rf"fit: 8001 features \(a \d+ x 8001 float64 feature matrix.*{_GIB}.*--samples",
    ),
    CliCase(
        "fit-samples-huge",
        [*_SMALL_F, "--solver", "svd", "--samples", str(10**10)],
        match=r"--samples",
    ),
    CliCase(
        "fit-eval-points-zero", [*_F, "--width", "12", "--eval-points", "0"], match=r"--eval-points"
    ),
    CliCase(
        "fit-samples-zero", [*_SMALL_F, "--solver", "svd", "--samples", "0"], match=r"--samples"
    ),
    CliCase("fit-width-negative", [*_F, "--width", "-1"], match=r"--width"),
    CliCase("fit-dim-zero", [*_F, "sin(x0)", "--dim", "0"], match=r"--dim"),
    CliCase(
        "fit-dim-huge-from-target", [*_F, "x99999999"], match=r"uses x99999999.*d <= 32", timeout=30
    ),
    CliCase(
        "fit-dim-huge", [*_F, "sin(x0)", "--dim", "1000"], match=r"--dim asks for dimension 1000"
    ),
    # --- fit: options that do not apply -----------------------------------------------
    CliCase("fit-tau-with-qr", [*_SMALL_F, "--tau", "1e-8"], match=r"--tau.*--solver eigh.*qr"),
    CliCase(
        "fit-tau-with-cholesky",
        [*_SMALL_F, "--solver", "cholesky", "--tau", "1e-8"],
        match=r"--tau.*cholesky",
    ),
    CliCase(
        "fit-rcond-with-cholesky",
        [*_SMALL_F, "--solver", "cholesky", "--rcond", "1e-3"],
        match=r"--rcond.*--solver svd.*cholesky",
    ),
    CliCase("fit-rcond-with-qr", [*_SMALL_F, "--rcond", "1e-3"], match=r"--rcond.*qr"),
    CliCase(
        "fit-rcond-with-eigh",
        [*_SMALL_F, "--solver", "eigh", "--rcond", "1e-3"],
        match=r"--rcond.*eigh",
    ),
    CliCase(
        "fit-samples-with-lu",  # the normal equations of the sampled problem
        [*_SMALL_F, "--solver", "lu", "--samples", "200"],
        expect="ok",
    ),
    CliCase(
        "fit-samples-with-fem-eigh",
        [*_SMALL_F, "--basis", "fem", "--solver", "eigh", "--samples", "50"],
        expect="ok",
    ),
    CliCase("fit-dim-with-name", [*_SMALL_F, "arctan25", "--dim", "2"], match=r"--dim"),
    # --- fit: numbers -----------------------------------------------------------------
    CliCase("fit-tau-nan", [*_SMALL_F, "--solver", "eigh", "--tau", "nan"], match=r"--tau"),
    CliCase("fit-rcond-inf", [*_SMALL_F, "--solver", "svd", "--rcond", "inf"], match=r"--rcond"),
    CliCase(
        "fit-tau-negative", [*_SMALL_F, "--solver", "eigh", "--tau=-1e-3"], match=r"--tau.*\[0, 1\)"
    ),
    CliCase("fit-seed-negative", [*_SMALL_F, "--seed", "-1"], match=r"--seed"),
    CliCase("fit-seed-huge", [*_SMALL_F, "--seed", str(2**70)], match=r"--seed"),
    CliCase("fit-dtype-bad", [*_SMALL_F, "--dtype", "float128"], match=r"--dtype"),
    CliCase("fit-target-nan", [*_SMALL_F, "log(x)"], match=r"NaN"),
    # --- fit: plot paths --------------------------------------------------------------
    CliCase(
        "fit-plot-folder",
        [*_SMALL_F, "--plot", "figs"],
        files={"figs": None},
        match=r"--plot.*folder",
    ),
    CliCase(
        "fit-plot-missing-parent",
        [*_SMALL_F, "--plot", "no/such/f.png"],
        match=r"--plot.*does not exist",
    ),
    CliCase(
        "fit-plot-exists",
        [*_SMALL_F, "--plot", "f.png"],
        files={"f.png": b"\x89PNG old"},
        keep=["f.png"],
        match=r"--plot.*already exists",
    ),
    CliCase("fit-plot-extension", [*_SMALL_F, "--plot", "f.jpeg"], match=r"--plot.*extension"),
    CliCase(
        "fit-plot-svg-ok",
        [*_SMALL_F, "--plot", "f.svg"],
        expect="ok",
        exists=["f.svg"],
        absent=[".f*"],
    ),
    CliCase(
        "fit-plot-force-ok",
        [*_SMALL_F, "--plot", "f.png", "--force"],
        files={"f.png": "old"},
        expect="ok",
        exists=["f.png"],
    ),
]

results = corpus_fixture(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_cli_case(case, results):
    check_cli_case(case, results[case.id])


# --- the library entry points refuse sizes that cannot fit, before allocating --------


@pytest.fixture
def one_gib(monkeypatch):
    monkeypatch.setenv("SPECTRAL_JAX_MEMORY_LIMIT", "1G")


def test_gram_matrix_refuses_a_width_that_cannot_fit(one_gib):
    from spectral_jax._memory import MemoryBudgetError
    from spectral_jax.domains import Interval
    from spectral_jax.gram import gram_matrix

    n = 60000
    w, b = np.ones((n, 1)), np.linspace(-1, 1, n, endpoint=False)
    with pytest.raises(
        MemoryBudgetError, match=r"gram_matrix: width 60000.*needs about .*GiB.*float32"
    ):
        gram_matrix("relu", w, b, Interval())
    with pytest.raises(
        MemoryBudgetError, match=r"gram_matrix: a quadrature rule of 100000000000 nodes.*level"
    ):
        gram_matrix("tanh", w[:8], b[:8], Interval(), method="qmc", level=10**11)


def test_eigh_spectrum_refuses_a_matrix_it_cannot_decompose(one_gib):
    from spectral_jax._memory import MemoryBudgetError
    from spectral_jax.spectrum import eigh_spectrum

    a = np.zeros((6000, 6000))  # 275 MiB; the decomposition needs several copies
    with pytest.raises(MemoryBudgetError, match=r"eigh_spectrum: a 6000 x 6000 .*needs about"):
        eigh_spectrum(a)


def test_fit_refuses_sizes_that_cannot_fit(one_gib):
    from spectral_jax._memory import MemoryBudgetError
    from spectral_jax.fit import FEMBasis, NetworkBasis, fit_least_squares, fit_samples

    n = 60000
    basis = NetworkBasis("relu", np.ones((n, 1)), np.linspace(-1, 1, n, endpoint=False))
    with pytest.raises(MemoryBudgetError, match=r"fit_least_squares: 60001 features.*needs about"):
        fit_least_squares(basis, "arctan25", solver="cholesky")
    small = FEMBasis(np.linspace(-1, 1, 9))
    with pytest.raises(MemoryBudgetError, match=r"eval_points"):
        fit_least_squares(small, "arctan25", eval_points=10**9)
    with pytest.raises(ValueError, match=r"eval_points.*2\*\*31"):
        fit_least_squares(small, "arctan25", eval_points=3 * 10**9)
    x = np.linspace(-1, 1, 50)
    with pytest.raises(MemoryBudgetError, match=r"fit_samples: .*eval_points"):
        fit_samples(small, x, np.sin(x), target="sin8", eval_points=10**9)


def test_chunked_error_measurement_matches_one_pass(monkeypatch):
    """Large evaluation grids are measured in chunks; the errors are those of one pass."""
    from spectral_jax.fit import FEMBasis, _fit, fit_least_squares

    basis = FEMBasis(np.linspace(-1, 1, 13))
    one = fit_least_squares(basis, "arctan25", solver="cholesky", eval_points=3001)
    monkeypatch.setattr(_fit, "_CHUNK_BYTES", 1)  # chunks of 1024 points: three
    chunked = fit_least_squares(basis, "arctan25", solver="cholesky", eval_points=3001)
    assert chunked.max_error == one.max_error
    np.testing.assert_allclose(chunked.mse, one.mse, rtol=1e-12)
    np.testing.assert_allclose(chunked.rel_l2_error, one.rel_l2_error, rtol=1e-12)
