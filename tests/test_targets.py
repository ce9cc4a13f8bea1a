import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import rel_err

import spectral_jax as sj

X1 = np.linspace(-1, 1, 11)[:, None]


def test_named_targets_match_numpy():
    assert rel_err(sj.get_target("arctan25")(jnp.asarray(X1)), np.arctan(25 * X1[:, 0])) < 1e-15
    assert rel_err(sj.get_target("sin3")(jnp.asarray(X1)), np.sin(3 * np.pi * X1[:, 0])) < 1e-14


def test_test2d_formula():
    x = np.array([[0.3, -0.4], [0.9, 0.2]])
    A = np.array([[1.0, 0.5], [0.7, 1.2]])
    B = np.array([2.0, 3.0])
    C = np.array([[0.0, 1.5], [2.0, 0.0]])
    D = np.array([[1.0, 0.8], [0.6, 1.4]])
    ref = sum(
        A[i, j]
        * np.sin(B[i] * x[:, i] + C[i, j] * x[:, i] * x[:, j])
        * np.cos(B[j] * x[:, j] + D[i, j] * x[:, i] ** 2)
        for i in range(2)
        for j in range(2)
    )
    assert rel_err(sj.get_target("test2d")(jnp.asarray(x)), ref) < 1e-14


def test_expressions_and_autodiff():
    t = sj.get_target("sin(pi*x) + x**2")
    assert rel_err(t(jnp.asarray(X1)), np.sin(np.pi * X1[:, 0]) + X1[:, 0] ** 2) < 1e-14
    d = jax.grad(t.scalar())(0.5)
    assert abs(float(d) - (np.pi * np.cos(np.pi * 0.5) + 1.0)) < 1e-13
    t2 = sj.get_target("exp(-x0**2 - 2*x1**2)", dim=2)
    x = jnp.array([[0.5, 0.5]])
    assert abs(float(t2(x)[0]) - np.exp(-0.75)) < 1e-15


@pytest.mark.parametrize(
    "expr,msg",
    [
        ("__import__('os')", "unknown function '__import__'"),
        ("().__class__.__bases__[0].__subclasses__()", "Attribute is not allowed"),
        ("sqrt(x)(1)", "is not a function"),
        ("x.real", "Attribute is not allowed"),
        ("sin(", "cannot parse"),
        ("y + 1", "unknown name 'y'"),
    ],
)
def test_unsafe_or_bad_expressions(expr, msg):
    with pytest.raises(ValueError, match=msg):
        sj.get_target(expr)


def test_shape_errors():
    with pytest.raises(ValueError, match=r"x must have shape \(m, 2\)"):
        sj.get_target("test2d")(jnp.ones((3, 1)))
    with pytest.raises(ValueError, match="is 2-D"):
        sj.get_target("test2d", dim=1)
    with pytest.raises(ValueError, match="pass dim="):
        sj.get_target(lambda x: x[:, 0])


def test_sin_target_in_d_dimensions():
    x = np.random.default_rng(0).uniform(-1, 1, (7, 3))
    t = sj.get_target("sin2", 3)
    assert t.dim == 3 and t.name == "sin2"
    assert rel_err(t(jnp.asarray(x)), np.sin(2 * np.pi * x[:, 0])) < 1e-14
    assert sj.get_target("sin2").dim == 1
    with pytest.raises(ValueError, match=r"get_target: dim must be a positive integer; got 0"):
        sj.get_target("sin2", 0)
