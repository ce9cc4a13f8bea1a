"""Every NTK entry point on ordinary Equinox models, against J J^T from jax.jacrev.

Models: eqx.nn.MLP (tanh with a vector output, relu, a lambda activation), a hand-built
model of eqx.nn.Linear layers (residual branch, static field, integer buffer, vector
output), an eqx.nn.Conv1d net on 1-D signals; a stateful model is refused in one line.
Entry points: empirical_ntk (each method; outputs trace / full / diagonal),
ntk_vector_product (each output), ntk_eigenvalues (dense and Lanczos), trainable subsets
(eqx.is_inexact_array, a where-function, a pytree of bools). Float64, 1e-12 relative.
"""

from __future__ import annotations

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import jax.tree_util as jtu
import numpy as np
import pytest

from spectral_jax.ntk import empirical_ntk, ntk_eigenvalues, ntk_vector_product
from spectral_jax.ntk._taps import covered_linears

TOL = 1e-12
F64 = jnp.float64


class Residual(eqx.Module):
    """Dense layers with a residual branch, a static field and an integer buffer."""

    a: eqx.nn.Linear
    b: eqx.nn.Linear
    c: eqx.nn.Linear
    perm: jax.Array  # integer buffer (not trainable)
    scale: float = eqx.field(static=True)

    def __init__(self, key):
        k = jr.split(key, 3)
        self.a = eqx.nn.Linear(3, 6, key=k[0], dtype=F64)
        self.b = eqx.nn.Linear(6, 6, key=k[1], dtype=F64)
        self.c = eqx.nn.Linear(6, 2, key=k[2], dtype=F64)
        self.perm = jnp.array([2, 0, 1])
        self.scale = 0.5

    def __call__(self, x):
        h = jnp.tanh(self.a(x[self.perm]))
        h = h + self.scale * jax.nn.relu(self.b(h))
        return self.c(h)


def _conv(key):
    k = jr.split(key, 3)
    return eqx.nn.Sequential(
        [
            eqx.nn.Conv1d(1, 3, 3, key=k[0], dtype=F64),
            eqx.nn.Lambda(jnp.tanh),
            eqx.nn.Conv1d(3, 2, 3, key=k[1], dtype=F64),
            eqx.nn.Lambda(jnp.ravel),
            eqx.nn.Linear(2 * 4, "scalar", key=k[2], dtype=F64),
        ]
    )


def _swish(z):
    return z * jax.nn.sigmoid(z)


MODELS = {
    "mlp_tanh_vec": lambda k: eqx.nn.MLP(2, 3, 5, 2, activation=jnp.tanh, key=k, dtype=F64),
    "mlp_relu": lambda k: eqx.nn.MLP(2, "scalar", 5, 2, activation=jax.nn.relu, key=k, dtype=F64),
    "mlp_lambda": lambda k: eqx.nn.MLP(
        2, 1, 4, 2, activation=lambda z: _swish(z) + 0.1 * z, key=k, dtype=F64
    ),
    "residual_vec": Residual,
    "conv1d": _conv,
}
INPUTS = {"conv1d": (1, 8), "residual_vec": (3,)}


@functools.cache
def _setup(name):
    model = MODELS[name](jr.key(3))
    x = jr.normal(jr.key(4), (5, *INPUTS.get(name, (2,))), F64)
    return model, x


def _reference(model, x, spec=None):
    """The full kernel (N, N, O, O) from per-input jax.jacrev Jacobians."""
    spec = jtu.tree_map(eqx.is_inexact_array, model) if spec is None else spec
    params, static = eqx.partition(model, spec)
    f = lambda p, xi: jnp.reshape(eqx.combine(p, static)(xi), (-1,))  # noqa: E731
    jac = jax.vmap(jax.jacrev(f), in_axes=(None, 0))(params, x)
    j = jnp.concatenate([a.reshape(*a.shape[:2], -1) for a in jtu.tree_leaves(jac)], axis=-1)
    return np.asarray(jnp.einsum("iop,jqp->ijoq", j, j))


def _reduce(full, output):
    if output == "full":
        return full
    if output == "trace":
        return np.einsum("ijoo->ij", full)
    return np.einsum("ijoo->ijo", full)


def _close(got, want):
    got = np.asarray(got)
    assert got.shape == want.shape
    assert np.max(np.abs(got - want)) <= TOL * np.max(np.abs(want))


METHODS = ("jacfwd", "jacrev", "ntvp", "layered", "auto")
OUTPUTS = ("trace", "full", "diagonal")
# default (fast): every model by the layered path on its main output, the other outputs and
# methods once each; the whole product is slow-marked
DEFAULT = {(m, "layered", "full" if m.endswith("vec") else "trace") for m in MODELS}
DEFAULT |= {("mlp_tanh_vec", "jacrev", "diagonal"), ("conv1d", "auto", "trace")}
CASES = [
    pytest.param(*c, marks=() if c in DEFAULT else pytest.mark.slow)
    for c in [(m, meth, o) for m in MODELS for meth in METHODS for o in OUTPUTS]
]


@pytest.mark.parametrize("name, method, output", CASES)
def test_empirical_ntk_matches_jacrev(name, method, output):
    model, x = _setup(name)
    want = _reduce(_reference(model, x), output)
    _close(empirical_ntk(model, x, method=method, output=output), want)


def test_blocked_and_two_batches():
    model, x = _setup("residual_vec")
    want = _reference(model, x)
    got = empirical_ntk(model, x, x[:3], method="layered", output="full", block_size=2)
    _close(got, want[:, :3])


def test_coverage_of_linear_leaves():
    model, x = _setup("residual_vec")
    assert covered_linears(model, x[0]) == (True, True, True)
    model, x = _setup("conv1d")
    assert covered_linears(model, x[0]) == (True,)

    class Shared(eqx.Module):  # one layer applied twice, one under vmap: not covered
        a: eqx.nn.Linear
        b: eqx.nn.Linear

        def __call__(self, x):
            h = jnp.tanh(self.a(jnp.tanh(self.a(x))))
            return jax.vmap(self.b)(h[:, None]).sum()

    k = jr.split(jr.key(0))
    shared = Shared(
        eqx.nn.Linear(2, 2, key=k[0], dtype=F64), eqx.nn.Linear(1, "scalar", key=k[1], dtype=F64)
    )
    x = jr.normal(jr.key(1), (4, 2), F64)
    assert covered_linears(shared, x[0]) == (False, False)
    _close(empirical_ntk(shared, x, method="layered"), _reduce(_reference(shared, x), "trace"))


@pytest.mark.parametrize("output", OUTPUTS)
def test_ntk_vector_product(output):
    model, x = _setup("mlp_tanh_vec")
    full = _reference(model, x)
    n, o = full.shape[0], full.shape[2]
    v = np.asarray(jr.normal(jr.key(7), (n, o), F64))
    if output == "full":
        want = np.einsum("ijoq,jq->io", full, v)
    elif output == "trace":
        v = v[:, 0]
        want = _reduce(full, "trace") @ v
    else:
        want = np.einsum("ijo,jo->io", _reduce(full, "diagonal"), v)
    _close(ntk_vector_product(model, x, v, output=output), want)


_TOPK_DEFAULT = {("mlp_tanh_vec", "diagonal")}


@pytest.mark.parametrize(
    "name, output",
    [
        pytest.param(n, o, marks=() if (n, o) in _TOPK_DEFAULT else pytest.mark.slow)
        for n in ("mlp_tanh_vec", "conv1d")
        for o in OUTPUTS
    ],
)
def test_top_k_spectrum(name, output):
    model, x = _setup(name)
    full = _reference(model, x)
    n, o = full.shape[0], full.shape[2]
    if output == "full":
        want = np.linalg.eigvalsh(full.transpose(0, 2, 1, 3).reshape(n * o, n * o))[::-1][None]
    elif output == "trace":
        want = np.linalg.eigvalsh(_reduce(full, "trace"))[::-1][None]
    else:
        want = np.stack([np.linalg.eigvalsh(full[:, :, j, j])[::-1] for j in range(o)])
    k = 3
    dense = np.atleast_2d(ntk_eigenvalues(model, x, k=k, output=output))
    _close(dense, want[:, :k])
    lanczos = np.atleast_2d(ntk_eigenvalues(model, x, k=k, output=output, lanczos=True))
    assert np.max(np.abs(lanczos - want[:, :k])) <= 1e-10 * np.max(want)


def _subsets(model):
    """(name, trainable, spec) for the three kinds of filter."""
    where = lambda m: (m.layers[0].weight, m.layers[-1])  # noqa: E731
    false = jtu.tree_map(lambda _: False, model)
    spec_where = eqx.tree_at(
        where, false, replace_fn=lambda node: jtu.tree_map(lambda _: True, node)
    )
    bools = jtu.tree_map(lambda _: False, model)
    bools = eqx.tree_at(lambda m: m.layers[1].bias, bools, True)
    return [
        ("is_inexact_array", eqx.is_inexact_array, jtu.tree_map(eqx.is_inexact_array, model)),
        ("where", where, spec_where),
        ("bools", bools, bools),
    ]


@pytest.mark.parametrize("method", ["layered", pytest.param("jacrev", marks=pytest.mark.slow)])
def test_trainable_subsets(method):
    model, x = _setup("mlp_tanh_vec")
    for _, trainable, spec in _subsets(model):
        want = _reduce(_reference(model, x, spec), "trace")
        _close(empirical_ntk(model, x, trainable=trainable, method=method), want)


def test_trainable_where_on_hand_built_model():
    model, x = _setup("residual_vec")
    where = lambda m: (m.a.weight, m.c.bias)  # noqa: E731
    spec = eqx.tree_at(where, jtu.tree_map(lambda _: False, model), replace_fn=lambda n: True)
    want = _reduce(_reference(model, x, spec), "full")
    _close(empirical_ntk(model, x, trainable=where, output="full"), want)


def test_stateful_model_is_refused_in_one_line():
    model, state = eqx.nn.make_with_state(eqx.nn.BatchNorm)(3, axis_name="batch", mode="batch")
    with pytest.raises(ValueError, match="stateful models .* are unsupported") as err:
        empirical_ntk(model, jnp.ones((4, 3)))
    assert "\n" not in str(err.value)


def test_method_modules_hold_their_knobs():
    from spectral_jax.ntk import Jacrev, Layered, Structured

    model, x = _setup("mlp_relu")
    want = _reduce(_reference(model, x), "trace")
    _close(empirical_ntk(model, x, method=Layered(block_size=2)), want)
    _close(empirical_ntk(model, x, method=Jacrev()), want)
    with pytest.raises(ValueError, match="block_size is given twice"):
        empirical_ntk(model, x, method=Layered(block_size=2), block_size=3)
    with pytest.raises(TypeError, match="fast_path"):
        Layered(fast_path=True)
    with pytest.raises(ValueError, match="Jacrev: block_size must be a positive integer"):
        Jacrev(block_size=0)
    with pytest.raises(ValueError, match="Structured: fast_path must be"):
        Structured(fast_path="yes")
    with pytest.raises(TypeError, match="method must be a name"):
        empirical_ntk(model, x, method=3)
