"""Runtime shape checks on the public API: the jaxtyping annotations are the truth.

Every public function whose signature carries jaxtyping shapes is called once on valid
inputs through ``jaxtyping.jaxtyped(typechecker=beartype.beartype)``: a call whose
arguments or result disagree with the annotated dtypes and shapes (axis names bound
consistently across arguments) fails. A second test keeps the table complete: a new
public function with shape annotations must get a call here.

The checks are applied per call rather than by an import hook over the whole session
because the bad-input tests elsewhere must see the library's own one-line errors, which
a session-wide hook would pre-empt with its own.
"""

from __future__ import annotations

import inspect

import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import spectral_jax as sj

beartype = pytest.importorskip("beartype")
jaxtyping = pytest.importorskip("jaxtyping")

_MARKERS = ("Float[", "Int[", "Shaped[", "Bool[")


def _shape_annotated() -> list[str]:
    names = []
    for name in sj.__all__:
        obj = getattr(sj, name)
        if not inspect.isfunction(obj):
            continue
        sig = inspect.signature(obj)
        text = " ".join(str(p.annotation) for p in sig.parameters.values())
        text += str(sig.return_annotation)
        if any(m in text for m in _MARKERS):
            names.append(name)
    return names


def _net(n=6, d=1, activation="relu"):
    w = jnp.ones((n, d)) / jnp.sqrt(d)
    b = jnp.linspace(-0.9, 0.9, n)
    return sj.ShallowNetwork(jnp.linspace(-1.0, 1.0, n), w, b, activation)


def _x(m=7, d=1):
    return jnp.linspace(-0.95, 0.95, m * d).reshape(m, d)


def _features():
    return sj.feature_matrix("relu", jnp.ones((5, 1)), jnp.linspace(-0.8, 0.8, 5), _x(9))


def _y(m=9):
    return jnp.sin(jnp.linspace(-1.0, 1.0, m))


def _gauss_kernel(x1, x2):
    return jnp.exp(-((x1 - x2.T) ** 2))


KEY = jr.PRNGKey(0)
DOM = sj.Interval()

# name -> (args, kwargs) built lazily (the library is imported once, x64 is on).
CALLS = {
    "composite_gauss": lambda: ((DOM, jnp.linspace(-1.0, 1.0, 5), 3), {}),
    "estimate_error": lambda: (
        (lambda x: jnp.cos(x[:, 0]), lambda lvl: sj.gauss_legendre(DOM, 4, panels=lvl), 2),
        {},
    ),
    "feature_matrix": lambda: (("relu", jnp.ones((4, 2)), jnp.zeros(4), _x(5, 2)), {}),
    "preactivations": lambda: ((_x(5, 2), jnp.ones((4, 2)), jnp.zeros(4)), {}),
    "uniform_biases": lambda: ((8,), {}),
    "iid_biases": lambda: ((8,), {"key": KEY}),
    "random_directions": lambda: ((8, 3), {"key": KEY}),
    "quasi_uniform_directions": lambda: ((8, 3), {}),
    "quasi_uniform_parameters": lambda: ((8, 2), {}),
    "adaptive_biases": lambda: ((lambda x: jnp.arctan(5 * x), 8), {"grid": 201}),
    "shallow_parameters": lambda: ((8, 2), {"bias_rule": "uniform", "directions": "quasi"}),
    "golden_directions": lambda: ((8, 2), {}),
    "alternating_network": lambda: ((6,), {}),
    "gram_matrix": lambda: (("relu", jnp.ones((5, 1)), jnp.linspace(-0.8, 0.8, 5), DOM), {}),
    "gram_matrix_with_error": lambda: (
        ("tanh", jnp.ones((5, 1)), jnp.linspace(-0.8, 0.8, 5), DOM),
        {"method": "gauss", "order": 4},
    ),
    "relu_gram_1d": lambda: ((jnp.linspace(-0.8, 0.8, 5),), {}),
    "relu_power_gram_1d": lambda: ((2, jnp.linspace(-0.8, 0.8, 5)), {}),
    "gram_kernel_eigenvalues": lambda: (("relu",), {"nodes": 40, "order": 4, "k": 5}),
    "eigh_spectrum": lambda: ((np.eye(4) + 0.1,), {}),
    "eigenfunctions": lambda: (
        (
            sj.eigh_spectrum(sj.relu_gram_1d(jnp.linspace(-0.8, 0.8, 5))),
            "relu",
            jnp.ones((5, 1)),
            jnp.linspace(-0.8, 0.8, 5),
            _x(6),
        ),
        {},
    ),
    "decay_rate": lambda: ((1.0 / jnp.arange(1.0, 30.0) ** 2,), {}),
    "condition_number": lambda: ((jnp.array([3.0, 2.0, 1.0]),), {}),
    "resolvable_modes": lambda: ((1.0 / jnp.arange(1.0, 30.0) ** 4, jnp.float32), {}),
    "local_decay_exponents": lambda: ((1.0 / jnp.arange(1.0, 200.0) ** 2,), {"windows": 3}),
    "fit_least_squares": lambda: (
        (sj.NetworkBasis("relu", jnp.ones((6, 1)), jnp.linspace(-1.0, 0.8, 6)), "sin1"),
        {},
    ),
    "fit_samples": lambda: (
        (sj.NetworkBasis("relu", jnp.ones((4, 1)), jnp.linspace(-1.0, 0.5, 4)), _x(9), _y()),
        {},
    ),
    "sample_parameters": lambda: ((KEY, 3, 4, 2, 1.0, jnp.float64), {}),
    "network_inner_products": lambda: (
        (
            sj.get_activation("relu"),
            jnp.ones((3, 4)),
            jnp.zeros((3, 4)),
            jnp.ones((3, 4, 1)),
            _x(5),
            jnp.full(5, 0.4),
            jnp.ones(5),
        ),
        {},
    ),
    "empirical_ntk": lambda: ((_net(), _x()), {}),
    "structured_ntk": lambda: ((_net(), _x()), {}),
    "layered_ntk": lambda: ((sj.MLP(1, [5, 5], activation="tanh", key=KEY), _x()), {}),
    "ntk_eigenvalues": lambda: ((_net(), _x()), {"k": 3}),
    "stax_ntk": lambda: ((sj.MLP(1, [5, 5], activation="relu", key=KEY), _x()), {}),
    "plot_penalties": lambda: (
        (np.geomspace(0.5, 4.0, 6), {"relu": np.geomspace(0.5, 4.0, 6) ** 4}),
        {"dim": 1},
    ),
    "ntk_vector_product": lambda: ((_net(), _x(), jnp.ones(7)), {}),
    "lanczos_eigvalsh": lambda: ((lambda v: jnp.arange(1.0, 9.0) * v, 8, 3), {"key": KEY}),
    "nystrom_eigenvalues": lambda: ((jnp.eye(4) + 0.1, jnp.full(4, 0.5)), {}),
    "ntk_operator_eigenvalues": lambda: ((_net(),), {"n_points": 16, "k": 4}),
    "limit_ntk": lambda: ((jnp.linspace(-1.0, 1.0, 5),), {}),
    "limit_ntk_eigenvalues": lambda: ((4,), {}),
    "fourier_galerkin": lambda: (
        (_gauss_kernel, 4),
        {"n_points": 32},
    ),
    "ntk_coercivity": lambda: ((_gauss_kernel, 8), {"n_points": 32}),
    "loss_domain": lambda: ((lambda x: jnp.sin(x[:, 0]),), {"samples": _x()}),
    "fast1d_outputs": lambda: ((_net(), jnp.linspace(-1.0, 1.0, 7)), {}),
    "fast1d_order": lambda: ((jnp.linspace(1.0, -1.0, 7),), {}),
    "activation_spectrum": lambda: (("gaussian", jnp.linspace(1.0, 4.0, 4)), {}),
    "gram_eigenvalues": lambda: (("relu",), {"width": 20, "panels": 8}),
    "breakplanes": lambda: ((_net(d=2),), {}),
    "kernel_min_norm_fit": lambda: ((_features(), _y()), {}),
    "kernel_gradient_descent": lambda: ((_features(), _y()), {"steps": 5}),
    "train_adaptive": lambda: ((_net(), _x(9), _y()), {"steps": 4, "record_every": 2}),
    "breakplane_distances": lambda: ((jnp.eye(3), jnp.zeros(3)), {}),
    "zero_plane_similarity": lambda: ((jnp.eye(3), jnp.zeros(3)), {}),
    "cluster_count": lambda: ((jnp.eye(3), jnp.zeros(3)), {}),
    "load_dataset": lambda: (("bumps",), {"n": 8}),
}


def test_every_shape_annotated_public_function_is_checked():
    missing = sorted(set(_shape_annotated()) - set(CALLS))
    assert not missing, f"add a valid call to CALLS for: {missing}"


@pytest.mark.parametrize("name", sorted(CALLS))
def test_annotations_hold_at_runtime(name):
    if name not in sj.__all__:
        pytest.skip(f"{name} is no longer public")
    fn = getattr(sj, name)
    checked = jaxtyping.jaxtyped(typechecker=beartype.beartype)(fn)
    args, kwargs = CALLS[name]()
    checked(*args, **kwargs)


def test_runtime_check_catches_a_wrong_shape():
    """The mechanism itself: a (n, n) annotation rejects a (2, 3) matrix."""
    checked = jaxtyping.jaxtyped(typechecker=beartype.beartype)(sj.eigh_spectrum)
    with pytest.raises(jaxtyping.TypeCheckError):
        checked(np.ones((2, 3)))
