"""Smoke-run every example at small sizes: each ends by checking its own claim and
exits non-zero when the claim fails."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
#: examples whose claims the default suite already checks through the library's own tests;
#: they run under ``-m slow`` (the default suite still imports each of them, below):
#: dynamics_linearised, dynamics_flow_vs_descent, dynamics_flow -> tests/test_flow.py
#: (Tsit5 within tolerance, Kvaerno5 at condition 1e12, the seed loss monotone),
#: tests/test_dynamics.py (linearised flow, exact steppers on the quadratic);
#: design_roundtrip -> tests/test_design.py::test_roundtrip_training_rates_follow_rho;
#: fit_2d -> tests/test_fit.py; table1_arctan ->
#: tests/test_report_claims.py::test_table1_setup_reproduces_the_slides_fem_rows and
#: tests/test_fit.py::test_float32_normal_equations_low_pass_vs_stable_qr; low_pass_filter
#: -> tests/test_fit.py::test_max_fittable_frequency_float32_below_float64,
#: test_predicted_frequency_table; radon_regimes ->
#: tests/test_radon.py::test_kernel_gd_limit_is_min_norm,
#: test_adaptive_training_and_clustering; ntk_limit_convergence ->
#: tests/test_ntk.py::test_finite_width_converges_to_limit; rashomon ->
#: tests/test_rashomon.py::test_slides_constant_is_violated_in_1d,
#: test_hoeffding_event_never_exceeds_valid_bound, test_kappa_sine_closed_forms;
#: ntk_spectrum -> tests/test_ntk.py::test_coercivity_limit_kernel_is_h_minus_one,
#: test_coercivity_smooth_activation_has_no_finite_s; spectrum_1d ->
#: tests/test_spectrum.py::test_relu_rates_1d,
#: tests/test_report_claims.py::test_nystrom_eigenpairs_match_the_closed_forms;
#: penalty_table -> tests/test_spectra_fft.py::test_fft_matches_closed_form;
#: dynamics_welper -> tests/test_welper.py::test_sweep_matches_numpy_reference,
#: test_schedules_and_fits (h sqrt(m) unstable, h / sqrt(m) stable).
#: One example per area still runs by default (stability, design_activation,
#: spectrum_2d_eigenfunctions, dynamics_modes, ntk_nt_agreement).
SLOW = {
    "dynamics_linearised",
    "dynamics_flow_vs_descent",
    "dynamics_flow",
    "design_roundtrip",
    "fit_2d",
    "table1_arctan",
    "low_pass_filter",
    "radon_regimes",
    "ntk_limit_convergence",
    "rashomon",
    "ntk_spectrum",
    "spectrum_1d",
    "penalty_table",
    "dynamics_welper",
}
PARAMS = [
    pytest.param(p, id=p.stem, marks=[pytest.mark.slow] if p.stem in SLOW else []) for p in EXAMPLES
]


def _env() -> dict:
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")  # source tree too
    return env


@pytest.mark.parametrize("path", PARAMS)
def test_example_runs_small(path, tmp_path):
    out = subprocess.run(
        [sys.executable, str(path), "--small", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        env=_env(),
    )
    assert out.returncode == 0, f"{path.name} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"


def test_slow_examples_import():
    """The examples that run only under ``-m slow`` still import in the default suite (one
    interpreter): a renamed or removed library name they use fails here."""
    paths = [str(p) for p in EXAMPLES if p.stem in SLOW]
    assert len(paths) == len(SLOW), sorted(SLOW - {p.stem for p in EXAMPLES})
    code = (
        "import importlib.util, sys\n"
        "for i, p in enumerate(sys.argv[1:]):\n"
        "    spec = importlib.util.spec_from_file_location(f'example_{i}', p)\n"
        "    spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "    print('imported', p)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *paths],
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(),
        cwd=ROOT,
    )
    assert out.returncode == 0, f"{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    assert out.stdout.count("imported") == len(paths)
