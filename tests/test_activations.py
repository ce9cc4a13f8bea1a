import math

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special as sps
from helpers import rel_err

import spectral_jax as sj

Z = np.linspace(-3.0, 3.0, 41)

REFERENCE = {
    "relu": lambda z: np.maximum(z, 0),
    "relu3": lambda z: np.maximum(z, 0) ** 3,
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "tanh": np.tanh,
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "softplus": lambda z: np.log1p(np.exp(z)),
    "gelu": lambda z: z * 0.5 * (1 + sps.erf(z / np.sqrt(2))),
    "sine": np.sin,
    "gaussian": lambda z: np.exp(-(z**2) / 2),
    "cauchy": lambda z: 1 / (1 + z**2),
}

FIRST_DERIV = {
    "relu": lambda z: (z > 0).astype(float),
    "relu3": lambda z: 3 * np.maximum(z, 0) ** 2,
    "tanh": lambda z: 1 / np.cosh(z) ** 2,
    "sigmoid": lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2,
    "softplus": lambda z: 1 / (1 + np.exp(-z)),
    "gelu": lambda z: (
        0.5 * (1 + sps.erf(z / np.sqrt(2))) + z * np.exp(-(z**2) / 2) / np.sqrt(2 * np.pi)
    ),
    "sine": np.cos,
    "gaussian": lambda z: -z * np.exp(-(z**2) / 2),
    "cauchy": lambda z: -2 * z / (1 + z**2) ** 2,
}


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_values_match_numpy(name):
    act = sj.get_activation(name)
    assert rel_err(act(jnp.asarray(Z)), REFERENCE[name](Z)) < 1e-13


@pytest.mark.parametrize("name", sorted(FIRST_DERIV))
def test_first_derivative_matches_closed_form(name):
    act = sj.get_activation(name)
    z = Z[np.abs(Z) > 1e-9]  # avoid the kink of ReLU-type activations
    assert rel_err(act.derivative(jnp.asarray(z)), FIRST_DERIV[name](z)) < 1e-12


def test_relu_power_higher_derivatives():
    act = sj.ReLUPower(4)
    z = np.array([-1.0, 0.5, 2.0])
    assert rel_err(act.derivative(jnp.asarray(z), 2), 12 * np.maximum(z, 0) ** 2) < 1e-13
    assert rel_err(act.derivative(jnp.asarray(z), 4), 24.0 * (z > 0)) < 1e-13


def test_registry_names_and_powers():
    assert isinstance(sj.get_activation("relu"), sj.ReLU)
    assert sj.get_activation("relu^5").p == 5
    assert sj.get_activation("RELU2").p == 2
    assert sj.get_activation("leaky_relu:0.2").slope == pytest.approx(0.2)
    assert sj.get_activation("logistic").name == "sigmoid"


def test_unknown_activation_lists_known_ones():
    with pytest.raises(ValueError, match="unknown activation 'swishy'.*relu.*tanh"):
        sj.get_activation("swishy")


def test_bad_parameters():
    with pytest.raises(ValueError, match="p must be an integer >= 1"):
        sj.ReLUPower(0)
    with pytest.raises(ValueError, match="slope must lie in"):
        sj.LeakyReLU(1.5)
    with pytest.raises(ValueError, match="order must be an integer"):
        sj.ReLU().derivative(jnp.ones(2), -1)


@pytest.mark.parametrize(
    "name,ref",
    [
        ("relu", lambda k: k**-4.0),
        ("relu3", lambda k: 36.0 * k**-8.0),
        ("gaussian", lambda k: 2 * np.pi * np.exp(-(k**2))),
        ("cauchy", lambda k: np.pi**2 * np.exp(-2 * np.abs(k))),
    ],
)
def test_fourier_closed_forms_simple(name, ref):
    k = np.array([0.3, 1.0, 2.5])
    assert rel_err(sj.get_activation(name).fourier_sq(jnp.asarray(k)), ref(k)) < 1e-13


def test_fourier_sq_by_direct_integration_of_a_decaying_derivative():
    # |F[sigma]|^2 = |F[sigma'']|^2 / k^4; compute F[sigma''] by dense quadrature.
    z = np.linspace(-60, 60, 400001)
    dz = z[1] - z[0]
    for name in ("tanh", "sigmoid", "softplus", "gelu"):
        act = sj.get_activation(name)
        d2 = np.asarray(act.derivative(jnp.asarray(z), 2))
        for k in (0.5, 1.3, 2.0):
            F = np.sum(d2 * np.exp(-1j * k * z)) * dz
            ref = abs(F) ** 2 / k**4
            got = float(act.fourier_sq(jnp.asarray(k)))
            assert abs(got - ref) / ref < 1e-7, (name, k, got, ref)


def test_sine_has_no_function_valued_transform():
    with pytest.raises(NotImplementedError, match="Dirac"):
        sj.Sine().fourier_sq(jnp.ones(1))


def test_homogeneity_and_piecewise_degree():
    assert sj.ReLUPower(3).homogeneity == 3 and sj.ReLUPower(3).piecewise_degree == 3
    assert sj.Tanh().homogeneity is None and sj.Tanh().piecewise_degree is None
    c, z = 2.5, jnp.linspace(-2, 2, 9)
    assert rel_err(sj.ReLUPower(3)(c * z), c**3 * sj.ReLUPower(3)(z)) < 1e-14
    assert math.isclose(float(sj.Gaussian()(jnp.asarray(0.0))), 1.0)
