"""The design loop: a designed (tabulated) activation goes back into every engine.

`design_activation` returns a `TabulatedActivation` (a module holding arrays); the Gram
assembly, the empirical NTK, training and least squares take it like a built-in
activation. Each result is compared with an independent NumPy float64 computation from
the activation's values and derivative at the points used.
"""

import jax.numpy as jnp
import numpy as np
import pytest

from spectral_jax.design import design_activation
from spectral_jax.domains import Interval
from spectral_jax.gram import gram_matrix, gram_matrix_with_error
from spectral_jax.networks import ShallowNetwork, shallow_parameters


@pytest.fixture(scope="module")
def designed():
    # rho = e^{2|k|}: phi = Cauchy-like, a smooth, decaying, non-polynomial activation
    return design_activation("exp(2*abs(k))", band=(0.2, 6.0), accuracy=1e-4).activation


def _phi(act, z):
    return np.asarray(act(jnp.asarray(z)), np.float64)


def test_gram_matrix_of_a_designed_activation(designed):
    w, b = shallow_parameters(24, bias_range=(-2.0, 2.0))
    res = gram_matrix_with_error(designed, w, b, Interval(), method="gauss", level=32)
    assert res.method == "gauss"
    # brute force: 2000-point Gauss-Legendre in NumPy on the activation's values
    t, q = np.polynomial.legendre.leggauss(2000)
    Phi = _phi(designed, t[:, None] - np.asarray(b)[None, :])
    ref = Phi.T @ (q[:, None] * Phi)
    np.testing.assert_allclose(np.asarray(res.matrix), ref, rtol=1e-10, atol=1e-13)
    G = gram_matrix(designed, w, b, Interval(), method="gauss", level=32)
    np.testing.assert_array_equal(np.asarray(G), np.asarray(res.matrix))


def test_empirical_ntk_of_a_designed_activation(designed):
    from spectral_jax.ntk import empirical_ntk

    n = 12
    w, b = shallow_parameters(n, directions="alternating", bias_rule="endpoints")
    a = np.linspace(-1.0, 1.0, n)
    net = ShallowNetwork(jnp.asarray(a), w, b, designed)
    x = np.linspace(-1, 1, 7)
    K = np.asarray(empirical_ntk(net, jnp.asarray(x)[:, None]))
    # closed form for h(x) = sum_i a_i phi(w_i x - b_i) + c, all leaves trained:
    # K = sum_i phi_i phi_i' + a_i^2 phi'_i phi'_i' (x x' + 1) + 1
    z = np.asarray(w)[:, 0][None, :] * x[:, None] - np.asarray(b)[None, :]
    s = _phi(designed, z)
    ds = np.asarray(designed.derivative(jnp.asarray(z)), np.float64)
    ref = s @ s.T + (ds * a**2) @ ds.T * (np.outer(x, x) + 1) + 1
    np.testing.assert_allclose(K, ref, rtol=1e-12, atol=1e-12)


def test_train_with_a_designed_activation(designed):
    from spectral_jax.dynamics import Euler, loss_domain, train
    from spectral_jax.quadrature import gauss_legendre
    from spectral_jax.targets import get_target

    n, lr, steps = 16, 0.05, 20
    w, b = shallow_parameters(n, bias_range=(-2.0, 2.0))
    net = ShallowNetwork(jnp.zeros(n), w, b, designed)
    rule = gauss_legendre(Interval(), 8, panels=8)
    dom = loss_domain(get_target("sin(pi*x)"), rule)
    traj = train(net, dom, stepper=Euler(lr), steps=steps, trainable="outer")
    # outer-only gradient descent is linear: a <- a - lr (G a - F), G and F in NumPy
    x, q = np.asarray(rule.nodes)[:, 0], np.asarray(rule.weights)
    Phi = _phi(designed, x[:, None] - np.asarray(b)[None, :])
    f = np.asarray(dom.values, np.float64)
    G, F = Phi.T @ (q[:, None] * Phi), Phi.T @ (q * f)
    a, loss = np.zeros(n), []
    for _ in range(steps + 1):
        r = Phi @ a - f
        loss.append(0.5 * np.sum(q * r * r))
        a = a - lr * (G @ a - F)
    np.testing.assert_allclose(np.asarray(traj.loss), np.asarray(loss)[traj.steps], rtol=1e-12)


def test_fit_with_a_designed_activation(designed):
    from spectral_jax.fit import NetworkBasis, fit_least_squares

    n = 6
    w, b = shallow_parameters(n, bias_range=(-2.0, 2.0))
    basis = NetworkBasis(designed, w, b, Interval())
    r = fit_least_squares(basis, "sin(pi*x)", solver="qr")
    # NumPy: the weighted least-squares problem on 400 Gauss points, features 1, phi(x - b_i)
    t, q = np.polynomial.legendre.leggauss(400)
    Phi = _phi(designed, t[:, None] - np.asarray(b)[None, :])
    Phi = np.concatenate([np.ones((t.size, 1)), Phi], 1)
    f = np.sin(np.pi * t)
    coef = np.linalg.lstsq(np.sqrt(q)[:, None] * Phi, np.sqrt(q) * f, rcond=None)[0]
    got = np.asarray(basis.evaluate(jnp.asarray(t)[:, None])) @ np.asarray(r.coefficients)
    # kappa(Phi) ~ 2e3: the two best approximations agree to ~1e-8 (rel. L2 error 1.5e-2)
    assert np.max(np.abs(got - Phi @ coef)) < 1e-7


def test_a_new_table_of_the_same_size_reuses_the_compiled_assembly(designed):
    import equinox as eqx

    from spectral_jax.gram import _assembly

    w, b = shallow_parameters(8, bias_range=(-2.0, 2.0))
    G1 = gram_matrix(designed, w, b, Interval(), method="gauss", level=4)
    size = _assembly._assemble_local._cache_size()
    twice = eqx.tree_at(
        lambda a: (a.values, a.slopes, a.left, a.right),
        designed,
        (2 * designed.values, 2 * designed.slopes, 2 * designed.left, 2 * designed.right),
    )
    G2 = gram_matrix(twice, w, b, Interval(), method="gauss", level=4)
    assert _assembly._assemble_local._cache_size() == size  # traced arrays, not a new key
    np.testing.assert_allclose(np.asarray(G2), 4 * np.asarray(G1), rtol=1e-13)
