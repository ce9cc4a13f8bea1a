"""Fast 1D path vs the generic O(N n) evaluation (values and loss gradients, 1e-10)."""

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from helpers import rel_err

from spectral_jax.domains import Interval
from spectral_jax.dynamics import Euler, fast1d_outputs, loss_domain, train
from spectral_jax.networks import ShallowNetwork
from spectral_jax.quadrature import gauss_legendre
from spectral_jax.targets import get_target


@pytest.mark.parametrize("act", ["relu", pytest.param("relu2", marks=pytest.mark.slow), "relu3"])
def test_fast1d_matches_generic(act, key):
    n, N = 300, 500
    k1, k2, k3 = jr.split(key, 3)
    w = jr.normal(k1, (n,)).at[:3].set(0.0)  # include w = 0 neurons
    net = ShallowNetwork(
        jr.normal(k2, (n,)) / n, w, jr.uniform(k3, (n,), minval=-1.0, maxval=1.0), act
    )
    x = jnp.linspace(-1.0, 1.0, N)
    ref = np.asarray(net.features(x[:, None]), np.float64) @ np.asarray(net.outer)
    assert rel_err(eqx.filter_jit(fast1d_outputs)(net, x), ref) < 1e-10
    f = jnp.sin(3 * x)
    fast = eqx.filter_jit(
        eqx.filter_grad(lambda m: 0.5 * jnp.sum((fast1d_outputs(m, x) - f) ** 2))
    )(net)
    gen = eqx.filter_jit(eqx.filter_grad(lambda m: 0.5 * jnp.sum((m.batch(x[:, None]) - f) ** 2)))(
        net
    )
    for name in ("outer", "weights", "biases", "offset"):
        assert rel_err(getattr(fast, name), getattr(gen, name)) < 1e-10, name


def test_train_uses_fast_path_and_agrees():
    n = 32
    net = ShallowNetwork(
        jnp.where(jnp.arange(n) % 2 == 0, 1.0, -1.0) / n,
        jnp.ones(n),
        jnp.linspace(-1.0, 1.0, n, endpoint=False),
        "relu",
    )
    dom = loss_domain(get_target("sin2"), gauss_legendre(Interval(), 4, panels=16))
    a = train(
        net, dom, stepper=Euler(0.5), steps=20, record_every=10, trainable="biases", progress=False
    )
    b = train(
        net,
        dom,
        stepper=Euler(0.5),
        steps=20,
        record_every=10,
        trainable="biases",
        progress=False,
        fast1d=False,
    )
    assert a.metadata["fast1d"] and not b.metadata["fast1d"]
    assert rel_err(a.model.biases, b.model.biases) < 1e-10
    assert rel_err(a.loss, b.loss) < 1e-10


def test_fast1d_bad_model():
    net = ShallowNetwork(jnp.ones(2), jnp.ones((2, 1)), jnp.zeros(2), "tanh")
    with pytest.raises(ValueError, match="fast1d_outputs: needs a 1-D ShallowNetwork"):
        fast1d_outputs(net, jnp.zeros(3))
