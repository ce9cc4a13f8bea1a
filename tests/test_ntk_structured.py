"""Structured (closed-form) shallow NTK and the scalar-input ReLU fast path against the
generic Jacobian path, for every combination of trainable a, w, b; sharding."""

import itertools

import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from helpers import rel_err
from multidevice import run_with_devices

from spectral_jax.networks import MLP, ShallowNetwork
from spectral_jax.ntk import empirical_ntk, shallow_relu_1d_ntk, structured_ntk

COMBOS = [c for r in (1, 2, 3) for c in itertools.combinations(("outer", "weights", "biases"), r)]


def _net(key, n, d, act, dtype=jnp.float64):
    k1, k2, k3 = jr.split(key, 3)
    w = jr.normal(k1, (n, d), dtype)
    w = w.at[0].set(0.0)  # a constant neuron (w = 0) must be handled too
    b = jr.uniform(k2, (n,), dtype, -1.0, 1.0).at[0].set(-0.3)
    return ShallowNetwork(jr.normal(k3, (n,), dtype), w, b, act, offset=0.2)


def test_fast_path_every_combination(key):
    """The NTK is additive over parameter groups: the per-group kernels (a, w, b), written
    out in NumPy float64 from the gradients of a relu(w x - b), are summed for
    each of the 7 combinations (the generic Jacobian path against the same groups: the
    float32 test below and tests/test_ntk.py)."""
    net = _net(key, 40, 1, "relu")
    x1 = jr.uniform(jr.fold_in(key, 1), (23,), minval=-1.2, maxval=1.2)
    x2 = jr.uniform(jr.fold_in(key, 2), (17,), minval=-1.2, maxval=1.2)
    w, b, a = (np.asarray(v) for v in (net.weights[:, 0], net.biases, net.outer))
    z1, z2 = np.asarray(x1)[:, None] * w - b, np.asarray(x2)[:, None] * w - b
    d1, d2 = (z1 > 0) * a, (z2 > 0) * a  # d/db = -a relu'(z), d/dw = x a relu'(z)
    part = {
        "outer": np.maximum(z1, 0) @ np.maximum(z2, 0).T,
        "weights": np.outer(x1, x2) * (d1 @ d2.T),
        "biases": d1 @ d2.T,
    }
    for combo in COMBOS:
        ref = sum(part[g] for g in combo)
        fast = structured_ntk(net, x1, x2, trainable=combo, fast_path=True)
        assert rel_err(fast, ref) < 1e-12, combo
    full = structured_ntk(net, x1, x2, trainable="all", fast_path=False, block_size=5)
    assert rel_err(full, sum(part.values()) + 1.0) < 1e-12  # + 1 from the trainable offset


@pytest.mark.slow
def test_fast_path_offset_and_all(key):
    net = _net(key, 30, 1, "relu")
    x = jr.uniform(key, (19,), minval=-1, maxval=1)
    for tr in ("all", "offset", ("biases", "offset")):
        assert (
            rel_err(shallow_relu_1d_ntk(net, x, trainable=tr), empirical_ntk(net, x, trainable=tr))
            < 1e-12
        )


def test_fast_path_float32(key):
    net = _net(key, 64, 1, "relu", jnp.float32)
    x = jr.uniform(key, (50,), jnp.float32, -1, 1)
    ref = empirical_ntk(net, x, method="jacrev", dtype="float64")
    got = structured_ntk(net, x, dtype="float32")
    assert got.dtype == jnp.float32
    assert rel_err(got, ref) < 1e-5


@pytest.mark.parametrize(
    "act,combo",
    [
        ("tanh", ("outer", "weights", "biases")),
        pytest.param("relu", ("weights", "biases"), marks=pytest.mark.slow),
        pytest.param("relu2", ("outer",), marks=pytest.mark.slow),
    ],
)
def test_matrix_form_2d(key, act, combo):
    net = _net(key, 24, 2, act)
    x = jr.normal(jr.fold_in(key, 3), (13, 2))
    ref = empirical_ntk(net, x, trainable=combo, method="jacfwd")
    assert rel_err(structured_ntk(net, x, trainable=combo), ref) < 1e-12
    assert rel_err(empirical_ntk(net, x, trainable=combo, method="structured"), ref) < 1e-12


@pytest.mark.parametrize(
    "combo",
    [
        ("outer", "weights", "biases"),
        pytest.param(("weights",), marks=pytest.mark.slow),
        pytest.param(("outer",), marks=pytest.mark.slow),
    ],
)
def test_symmetric_matrix_form_against_numpy(key, combo):
    """x2=None uses the upper-block-triangle recursion (N = 250: one level); reference:
    the features and products written out in NumPy float64."""
    net = _net(key, 32, 2, "tanh")
    x = np.asarray(jr.normal(jr.fold_in(key, 5), (250, 2)))
    w, b, a = (np.asarray(v) for v in (net.weights, net.biases, net.outer))
    z = x @ w.T - b
    phi, d = np.tanh(z), (1 - np.tanh(z) ** 2) * a
    ref = (
        ("outer" in combo) * (phi @ phi.T)
        + ("weights" in combo) * (x @ x.T) * (d @ d.T)
        + ("biases" in combo) * (d @ d.T)
    )
    got = structured_ntk(net, x, trainable=combo)
    assert rel_err(got, ref) < 1e-12
    assert rel_err(structured_ntk(net, x, x + 0.0, trainable=combo), ref) < 1e-12


def test_structured_bad_input(key):
    mlp = MLP(1, (4,), key=key)
    with pytest.raises(
        ValueError, match="structured_ntk: got a MLP; structured_ntk covers ShallowNetwork"
    ):
        structured_ntk(mlp, jnp.ones((3, 1)))
    net = _net(key, 8, 2, "tanh")
    with pytest.raises(ValueError, match="fast_path=True needs a 1D ShallowNetwork with ReLU"):
        structured_ntk(net, jnp.ones((3, 2)), fast_path=True)
    with pytest.raises(ValueError, match=r"x1 must have shape \(N, 2\)"):
        structured_ntk(net, jnp.ones((3, 1)))
    with pytest.raises(ValueError, match="block_size must be a positive integer"):
        structured_ntk(net, jnp.ones((3, 2)), block_size=-1)
    with pytest.raises(ValueError, match="selects no floating-point array"):
        structured_ntk(net, jnp.ones((3, 2)), trainable=lambda leaf: False)


def test_sharded_equals_single_device():
    out = run_with_devices(
        """
        import jax.numpy as jnp, jax.random as jr, numpy as np
        from spectral_jax._sharding import device_mesh
        from spectral_jax.networks import MLP
        from spectral_jax.ntk import empirical_ntk
        assert len(jax.devices()) == 4
        err = lambda a, b: float(np.max(np.abs(np.asarray(a) - np.asarray(b))) / np.max(np.abs(b)))
        m = MLP(2, (8, 8), activation="tanh", key=jr.key(0))
        x = jr.normal(jr.key(1), (10, 2))
        for method, bs in (("jacrev", 4), ("ntvp", None)):
            a = empirical_ntk(m, x, method=method, block_size=bs, mesh=device_mesh())
            b = empirical_ntk(m, x, method=method)
            print(a.shape, err(a, b))
        from spectral_jax.networks import ShallowNetwork
        from spectral_jax.ntk import structured_ntk
        for d, act in ((2, "tanh"), (1, "relu")):
            k1, k2, k3 = jr.split(jr.key(d), 3)
            net = ShallowNetwork(jr.normal(k1, (16,)), jr.normal(k2, (16, d)),
                                 jr.uniform(k3, (16,), minval=-1, maxval=1), act)
            xs = jr.normal(jr.key(5), (10, d))
            a = structured_ntk(net, xs, mesh=device_mesh())
            assert len(a.sharding.device_set) == 4, a.sharding
            b = structured_ntk(net, xs)
            print(a.shape, err(a, b))
        a = empirical_ntk(net, xs, method="structured", mesh=device_mesh())
        print(a.shape, err(a, b))
        """,
        timeout=120,
    )
    lines = out.strip().splitlines()
    assert len(lines) == 5
    for line in lines:
        assert line.startswith("(10, 10)")
        assert float(line.split()[-1]) < 1e-13
