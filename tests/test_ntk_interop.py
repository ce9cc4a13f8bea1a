"""neural-tangents stax MLP parameters <-> the project's MLP (spectral_jax.networks)."""

from pathlib import Path

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from spectral_jax.networks import MLP, from_stax_mlp, stax_ntk, to_stax_mlp
from spectral_jax.ntk import empirical_ntk

DATA = Path(__file__).resolve().parent / "data"


def _fixture_params():
    d = np.load(DATA / "nt_mlp_ntk.npz")
    params = []
    for i in range(3):
        if i:
            params.append(())
        params.append((d[f"W{i}"], d[f"b{i}"]))
    return d, params


def test_fixture_ntk_matches_neural_tangents():
    """The committed neural-tangents 0.6.5 NTK (stax, standard parameterisation, full
    output kernel) of the converted network, to 1e-10 in float64."""
    d, params = _fixture_params()
    mlp = from_stax_mlp(params, "relu")
    want = d["ntk"]
    for got in (empirical_ntk(mlp, d["x"], output="full"), stax_ntk(mlp, d["x"])):
        assert got.shape == want.shape
        assert np.max(np.abs(np.asarray(got) - want)) <= 1e-10 * np.max(np.abs(want))


@pytest.mark.parametrize("parameterization", ["standard", "ntk"])
def test_round_trip(parameterization):
    _, params = _fixture_params()
    kw = {"parameterization": parameterization, "W_std": 1.5, "b_std": 0.1}
    back = to_stax_mlp(from_stax_mlp(params, "relu", **kw), **kw)
    assert len(back) == len(params)
    for p, q in zip(params, back, strict=True):
        for a, b in zip(p, q, strict=True):
            np.testing.assert_allclose(b, a, rtol=1e-14, atol=1e-15)


def _stax_ntk_forward(params, x, w_std, b_std):
    """stax.serial(Dense(., W_std, b_std, parameterization='ntk'), Relu, ...) on a batch."""
    h = x
    dense = [p for p in params if p]
    for i, (w, b) in enumerate(dense):
        h = w_std / np.sqrt(w.shape[0]) * h @ w + b_std * b
        if i < len(dense) - 1:
            h = jax.nn.relu(h)
    return h


@pytest.mark.slow
def test_ntk_parameterisation_matches_jacrev_of_raw_parameters():
    _, params = _fixture_params()
    ws, bs = 1.7, 0.3
    x = jr.normal(jr.key(0), (6, 3), jnp.float64)
    mlp = from_stax_mlp(params, "relu", parameterization="ntk", W_std=ws, b_std=bs)
    raw = [tuple(jnp.asarray(a) for a in p) for p in params]
    out = _stax_ntk_forward(raw, x, ws, bs)
    np.testing.assert_allclose(jax.vmap(mlp)(x), out, rtol=1e-13)
    jac = jax.jacrev(lambda p: _stax_ntk_forward(p, x, ws, bs))(raw)  # (N, O, params...)
    flat = jnp.concatenate([a.reshape(6, 2, -1) for a in jax.tree_util.tree_leaves(jac)], axis=-1)
    want = np.asarray(jnp.einsum("iop,jqp->ijoq", flat, flat))
    got = np.asarray(stax_ntk(mlp, x, parameterization="ntk", W_std=ws, b_std=bs))
    assert np.max(np.abs(got - want)) <= 1e-12 * np.max(np.abs(want))


def test_bad_inputs():
    _, params = _fixture_params()
    with pytest.raises(ValueError, match="from_stax_mlp: parameterization must be one of"):
        from_stax_mlp(params, parameterization="mean_field")
    with pytest.raises(TypeError, match="from_stax_mlp: params must be the list"):
        from_stax_mlp({"W": 1})
    with pytest.raises(ValueError, match=r"params\[2\] must hold W of shape \(in, out\)"):
        from_stax_mlp([params[0], (), (np.ones(3), np.ones(2))])
    with pytest.raises(ValueError, match="W has 5 input rows"):
        from_stax_mlp([params[0], (), (np.ones((5, 2)), np.ones(2))])
    with pytest.raises(TypeError, match="to_stax_mlp: mlp must be"):
        to_stax_mlp(object())
    with pytest.raises(ValueError, match="W_std and b_std must be nonzero"):
        to_stax_mlp(MLP(2, (3,), key=jr.key(0)), parameterization="ntk", W_std=0.0)
