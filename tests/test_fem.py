"""P1 finite elements: mass matrix closed form, evaluation, convergence order 2 in L2."""

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.integrate

from spectral_jax.domains import Interval
from spectral_jax.fit import FEMBasis, fit_least_squares
from tests.helpers import RTOL, fitted_order, rel_err


def test_mass_matrix_closed_form_and_quadrature():
    nodes = np.array([-1.0, -0.7, -0.1, 0.2, 0.9, 1.0])
    fem = FEMBasis(jnp.asarray(nodes))
    m = np.asarray(fem.mass_matrix())
    h = np.diff(nodes)
    ref = np.zeros((6, 6))
    for e, he in enumerate(h):  # element mass matrices he/6 [[2,1],[1,2]]
        ref[e : e + 2, e : e + 2] += he / 6 * np.array([[2.0, 1.0], [1.0, 2.0]])
    assert rel_err(m, ref) < RTOL["float64"]
    # the same matrix by SciPy quadrature of the evaluated hats
    phi = lambda x, i: float(fem.evaluate(jnp.array([x]))[0, i])  # noqa: E731
    q = scipy.integrate.quad(lambda x: phi(x, 2) * phi(x, 3), -1, 1, points=nodes[1:-1])[0]
    assert abs(q - ref[2, 3]) < 1e-10


def test_hats_partition_of_unity_and_interpolation():
    nodes = jnp.linspace(-1, 1, 7)
    fem = FEMBasis(nodes)
    x = jnp.linspace(-1, 1, 101)
    phi = np.asarray(fem.evaluate(x))
    assert np.allclose(phi.sum(1), 1.0, atol=1e-14)
    assert np.allclose(np.asarray(fem.evaluate(nodes)), np.eye(7), atol=1e-14)


def test_fem_l2_convergence_order_two():
    hs, errs = [], []
    for n in (16, 32, 64):
        fem = FEMBasis(jnp.linspace(-1, 1, n + 1))
        r = fit_least_squares(fem, "sin(pi*x)", solver="lu", eval_points=2001)
        hs.append(2 / n)
        errs.append(np.sqrt(r.mse))
    order = fitted_order(hs, errs)
    assert 1.9 < order < 2.1, order


def test_fem_bad_nodes():
    with pytest.raises(ValueError, match="FEMBasis: nodes must be >= 2 strictly increasing"):
        FEMBasis(jnp.array([-1.0, 0.5, 0.2, 1.0]))
    with pytest.raises(ValueError, match="first and last nodes must be the domain ends"):
        FEMBasis(jnp.array([-0.5, 0.0, 1.0]), Interval())
    with pytest.raises(ValueError, match="nodes must contain only finite values"):
        FEMBasis(jnp.array([-1.0, jnp.nan, 1.0]))
