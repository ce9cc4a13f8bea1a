"""Inverse design rho -> phi, the tabulated activation, save/load, and the round trip."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spectral_jax.activations import (
    Cauchy,
    Gaussian,
    TabulatedActivation,
    load_activation,
    save_activation,
)
from spectral_jax.design import activation_spectrum, design_activation, spectral_penalty
from spectral_jax.networks import ShallowNetwork, feature_matrix


@pytest.fixture(scope="module")
def cauchy_design():
    return design_activation("exp(2*abs(k))", band=(0.2, 6.0), accuracy=1e-5)


def test_design_cauchy_shape(cauchy_design):
    # F^{-1}[e^{-|k|}] = (1/pi) / (1 + z^2): the Cauchy activation up to the constant 1/pi
    r = cauchy_design
    z = jnp.linspace(-6, 6, 241)
    np.testing.assert_allclose(r.activation(z), Cauchy()(z) / np.pi, atol=2e-5)
    assert r.derivative_order == 0 and r.regularization == "none"
    assert r.max_rel_error < 1e-4


def test_design_gaussian_shape():
    r = design_activation(lambda k: np.exp(k**2), band=(0.2, 3.0), accuracy=1e-5)
    z = jnp.linspace(-5, 5, 201)
    np.testing.assert_allclose(r.activation(z), Gaussian()(z) / np.sqrt(2 * np.pi), atol=1e-6)
    # the achieved penalty, recomputed independently from the closed form of the Gaussian
    k = jnp.array([0.5, 1.5, 2.5])
    ref = spectral_penalty(Gaussian(), k) * (2 * np.pi)  # |F[g/sqrt(2pi)]|^2 = e^{-k^2}
    np.testing.assert_allclose(
        1 / activation_spectrum(r.activation, k, accuracy=1e-7), ref, rtol=1e-4
    )


def test_design_polynomial_penalty_integrates():
    # rho = k^6: |F[phi]|^2 = k^-6, phi = z_+^2 / 2 (up to the taper): designed by phi'''
    r = design_activation("k**6", band=(0.5, 5.0), accuracy=1e-4)
    assert r.derivative_order == 3 and r.regularization == "gaussian taper"
    z = jnp.array([-2.0, -0.5, 0.5, 1.0, 3.0, 50.0])  # 50 is beyond the table: Taylor tail
    np.testing.assert_allclose(r.activation(z), np.maximum(z, 0) ** 2 / 2, atol=1e-3, rtol=1e-5)
    assert r.max_rel_error <= 1e-4 and r.accuracy_met


@pytest.mark.slow
def test_tabulated_table_round_trip_and_band_pass():
    rho = lambda k: np.exp((k - 3) ** 2) * (1 + 1 / k**2)  # noqa: E731 - a band-pass amplitude
    r = design_activation(rho, band=(0.5, 6.0), accuracy=1e-4, band_points=16)
    assert r.max_rel_error < 1e-3
    kt = np.geomspace(0.05, 25, 4000)
    r2 = design_activation(
        np.stack([kt, rho(kt)], 1), band=(0.5, 6.0), accuracy=1e-4, band_points=16
    )
    z = jnp.linspace(-4, 4, 81)
    np.testing.assert_allclose(r2.activation(z), r.activation(z), atol=1e-3)


def test_tabulated_rho_interpolation():
    from spectral_jax.design import as_rho

    kt = np.geomspace(0.1, 10, 7)
    rho = as_rho(np.stack([kt, 3 * kt**4], 1))  # log-log linear: exact on a power law
    k = np.array([0.01, 0.37, 2.2, 40.0])  # inside and beyond the table (power-law tails)
    np.testing.assert_allclose(rho(k), 3 * k**4, rtol=1e-12)
    with pytest.raises(ValueError, match="must be finite and positive"):
        as_rho(np.stack([kt, -kt], 1))
    with pytest.raises(ValueError, match="shape \\(n, 2\\)"):
        as_rho(np.ones((3, 3)))


def test_tabulated_is_a_real_module(cauchy_design, key):
    act = cauchy_design.activation
    # derivative matches the analytic derivative of the shape
    z = jnp.linspace(-3, 3, 31)
    d = eqx.filter_jit(lambda a, x: a.derivative(x, 1))(act, z)
    np.testing.assert_allclose(d, -2 * z / (1 + z**2) ** 2 / np.pi, atol=1e-4)
    # jittable without retracing, usable in a network, gradients finite
    f = eqx.filter_jit(eqx.debug.assert_max_traces(lambda a, x: a(x), max_traces=1))
    f(act, z)
    f(act, z + 1.0)
    net = ShallowNetwork(jnp.ones(5), jnp.ones((5, 1)), jnp.linspace(-1, 1, 5), act)
    g = eqx.filter_jit(jax.grad(lambda n: jnp.sum(n.batch(z[:, None]) ** 2)))(net)
    assert np.all(np.isfinite(g.biases))
    assert feature_matrix(act, jnp.ones((3, 1)), jnp.zeros(3), z[:, None]).shape == (31, 3)


def test_save_load_round_trip(cauchy_design, tmp_path):
    p = tmp_path / "act.npz"
    save_activation(p, cauchy_design.activation, info=cauchy_design.summary())
    back = load_activation(p)
    z = jnp.linspace(-300, 300, 1001)
    np.testing.assert_array_equal(back(z), cauchy_design.activation(z))
    assert back.name == "designed"


def test_corrupt_and_incompatible_files(cauchy_design, tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file at all")
    with pytest.raises(ValueError, match="cannot read it as an .npz"):
        load_activation(bad)
    with pytest.raises(ValueError, match="no such file"):
        load_activation(tmp_path / "missing.npz")
    p = tmp_path / "act.npz"
    save_activation(p, cauchy_design.activation)
    data = dict(np.load(p))
    import json

    hdr = json.loads(data["header"].tobytes().decode())
    hdr["version"] = 99
    data["header"] = np.frombuffer(json.dumps(hdr).encode(), np.uint8)
    np.savez(tmp_path / "v99.npz", **data)
    with pytest.raises(ValueError, match="incompatible format version 99"):
        load_activation(tmp_path / "v99.npz")
    data2 = dict(np.load(p))
    data2["values"] = data2["values"][:-1]
    np.savez(tmp_path / "short.npz", **data2)
    with pytest.raises(ValueError, match="same length"):
        load_activation(tmp_path / "short.npz")
    with pytest.raises(TypeError, match="must be a TabulatedActivation"):
        save_activation(p, Cauchy())
    with pytest.raises(ValueError, match="values must be a 1-D array"):
        TabulatedActivation(jnp.ones(1), jnp.ones(1), jnp.ones(1), jnp.ones(1), 0.0, 1.0)


@pytest.mark.parametrize(
    "rho,match",
    [
        ("-exp(k)", "must be positive on the band"),
        (lambda k: np.where(k > 1, np.nan, 1.0 + k), "NaN on the band"),
        ("0*k", "must be positive on the band"),
        ("exp(-1/k**2) + 0*k", "ill-posed design"),
        ("exp(-k)", "ill-posed design"),
        ("foo(k)", "unknown function 'foo'"),
        ("1/(1+k**2)", r"rho\(k\)/k\^\(D-1\) must grow at large k"),
        (lambda k: 1 / 0, "not defined on the design grid"),
    ],
)
def test_bad_targets(rho, match):
    with pytest.raises(ValueError, match=match):
        design_activation(rho, band=(0.5, 2.0))


def test_grid_too_coarse_and_bad_args():
    with pytest.raises(ValueError, match="grid too coarse"):
        design_activation("k**6", band=(0.5, 5.0), accuracy=1e-8, max_points=4096)
    with pytest.raises(ValueError, match="band must satisfy"):
        design_activation("k**2", band=(2.0, 1.0))
    with pytest.raises(ValueError, match="dim must be an integer"):
        design_activation("k**2", dim=0)


@pytest.mark.parametrize("target", ["exp(2*abs(k))", "k**6"])
def test_tabulated_evaluation_matches_scipy_hermite(target):
    # the packed one-gather evaluation vs an independent reference: SciPy's cubic Hermite
    # spline on the same table inside, the Taylor polynomials of left/right outside
    from scipy.interpolate import CubicHermiteSpline

    act = design_activation(target, band=(0.5, 5.0), accuracy=1e-4).activation
    zs = np.asarray(act.start + act.step * np.arange(act.values.shape[0]))
    spl = CubicHermiteSpline(zs, np.asarray(act.values), np.asarray(act.slopes))

    def taylor(c, dz, deriv):
        c = np.asarray(c)[deriv:]
        return sum(c[r] * dz**r / math.factorial(r) for r in range(c.size))

    rng = np.random.default_rng(0)
    z = np.concatenate(
        [rng.uniform(act.start - 40, act.end + 40, 4000), zs[:50], [act.start, act.end]]
    )
    for deriv in (0, 1):
        ref = np.where(
            z < act.start,
            taylor(act.left, z - act.start, deriv),
            np.where(z > act.end, taylor(act.right, z - act.end, deriv), spl(z, deriv)),
        )
        got = np.asarray(act(jnp.asarray(z)) if deriv == 0 else act.derivative(jnp.asarray(z)))
        scale = np.max(np.abs(ref))
        assert np.max(np.abs(got - ref)) <= 1e-11 * scale, (deriv, np.max(np.abs(got - ref)))
    assert np.isnan(act(jnp.nan))


def test_roundtrip_training_rates_follow_rho(cauchy_design):
    # mode k of a sum of sines learns at rate n/(2 pi rho(k)) (rho = e^{2k}: rates spread by
    # e^{2} per frequency); measured from training to 1e-3 (the design accuracy is 1e-5)
    from spectral_jax.design import roundtrip_training

    res = roundtrip_training(
        cauchy_design.activation, "exp(2*abs(k))", frequencies=(1, 2, 3), width=32
    )
    np.testing.assert_allclose(
        res.predicted_rate, 32 / (2 * np.pi * np.exp(2.0 * np.array([1, 2, 3]))), rtol=1e-12
    )
    assert res.max_rel_error < 1e-3, res.summary()
    assert np.all(np.diff(np.asarray(res.measured_rate)) < 0)
    # a wrong prediction (rate ~ 1/sqrt(rho)) is off by a wide margin
    wrong = 32 / (2 * np.pi * np.exp(np.array([1.0, 2.0, 3.0])))
    assert np.max(np.abs(np.asarray(res.measured_rate) / wrong - 1)) > 0.5


def test_roundtrip_training_bad_input(cauchy_design):
    from spectral_jax.design import roundtrip_training

    with pytest.raises(ValueError, match="must decay"):
        roundtrip_training("relu", "k**4")
    k6 = design_activation("k**6", band=(0.5, 5.0), accuracy=1e-4).activation
    with pytest.raises(ValueError, match="polynomial tails of degree 2"):
        roundtrip_training(k6, "k**6")
    with pytest.raises(ValueError, match="frequencies must be integers"):
        roundtrip_training(cauchy_design.activation, "exp(2*abs(k))", frequencies=(1, 40))
    with pytest.raises(ValueError, match="positive and finite at the frequencies"):
        roundtrip_training(cauchy_design.activation, "-exp(k)", frequencies=(1, 2))
    with pytest.raises(ValueError, match="max_steps"):
        roundtrip_training(cauchy_design.activation, "exp(2*abs(k))", frequencies=(1, 9))


# D = 3 (default) runs the same dim > 1 convention; D = 2 adds a second closed form: slow
@pytest.mark.parametrize("D", [pytest.param(2, marks=pytest.mark.slow), 3])
def test_design_convention_in_higher_dimensions(D):
    """rho = k^(D-1)/|F[phi]|^2, so phi_rho = F^-1[(k^(D-1)/rho)^(1/2)]: in every D the penalty
    k^(D-1) e^(2|k|) gives the Cauchy-type 1/(pi (1 + x^2)) (F^-1[e^-|k|]), and in D = 2 the
    penalty e^(2|k|) gives F^-1[|k|^(1/2) e^-|k|] = Gamma(3/2)/pi Re (1 - ix)^(-3/2)."""
    x = np.linspace(-3.0, 3.0, 13)
    r = design_activation(f"abs(k)**{D - 1}*exp(2*abs(k))", dim=D)
    phi = np.asarray(r.activation(jnp.asarray(x)))
    np.testing.assert_allclose(phi, 1 / (np.pi * (1 + x**2)), rtol=5e-4)
    if D == 2:
        r2 = design_activation("exp(2*abs(k))", dim=2)
        ref = math.gamma(1.5) / np.pi * np.real((1 - 1j * x) ** -1.5)
        np.testing.assert_allclose(np.asarray(r2.activation(jnp.asarray(x))), ref, rtol=1e-3)
        # the same rho in D = 1 is a different activation: D enters through k^(D-1)
        r1 = design_activation("exp(2*abs(k))", dim=1)
        assert np.max(np.abs(np.asarray(r1.activation(jnp.asarray(x))) - ref)) > 1e-2


def test_design_meets_its_accuracy_with_a_taper():
    # rho = k^4 on [0.1, 10]: the taper used to spend the whole accuracy at kmax
    # (e^{acc} - 1 > acc) and the grid added ~15 % on top (max_rel_error 1.13e-3 > 1e-3)
    r = design_activation("k**4", band=(0.1, 10.0), accuracy=1e-3, band_points=8)
    assert r.regularization == "gaussian taper" and r.derivative_order == 2
    assert r.max_rel_error <= 1e-3 and r.accuracy_met
    assert r.summary()["accuracy_met"] is True
    # independent check at kmax: |F[phi]|^2 recomputed to 1e-6 against 1/k^4
    fsq = float(activation_spectrum(r.activation, np.array([10.0]), accuracy=1e-6)[0])
    assert abs(1.0 / (fsq * 10.0**4) - 1.0) <= 1e-3


def test_design_warns_when_accuracy_not_met():
    # a z-grid truncated at |z| <= 2 cuts the Cauchy tails: the achieved penalty is off
    with pytest.warns(RuntimeWarning, match="accuracy not met.*--accuracy / --max-points"):
        r = design_activation(
            "exp(2*abs(k))", band=(0.2, 4.0), accuracy=1e-3, half_width=2.0, band_points=8
        )
    assert r.max_rel_error > 1e-3 and r.accuracy_met is False
    assert r.summary()["accuracy_met"] is False
