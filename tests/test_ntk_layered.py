"""`layered_ntk` (deep dense networks, sum over layers of Hadamard products of Grams)
against J J^T formed directly with `jax.jacrev`, and against neural-tangents' empirical NTK
of a stax MLP (fixture computed once in neural-tangents' own environment)."""

from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import jax.tree_util as jtu
import numpy as np
import pytest
from helpers import RTOL, rel_err
from jax.flatten_util import ravel_pytree

from spectral_jax.networks import MLP, ShallowNetwork, trainable_spec
from spectral_jax.ntk._layered import layered_applies, layered_ntk
from spectral_jax.ntk._taps import is_linear

DATA = Path(__file__).resolve().parent / "data"


def full_jacobian(model, x):
    """Per-input Jacobian of every floating parameter, flattened: (N, O, P) (jax.jacrev)."""
    params, static = eqx.partition(model, eqx.is_inexact_array)
    flat, unravel = ravel_pytree(params)

    def f(p, xi):
        return jnp.reshape(eqx.combine(unravel(p), static)(xi), (-1,))

    return np.asarray(jax.jit(jax.vmap(jax.jacrev(f), (None, 0)))(flat, jnp.asarray(x)))


def column_mask(model, trainable):
    """The trainable selection as a mask over the flattened parameters."""
    spec = trainable_spec(model, trainable)
    masks = jtu.tree_map(
        lambda leaf, s: np.full(np.shape(leaf), bool(s)) if eqx.is_inexact_array(leaf) else None,
        model,
        spec,
    )
    return np.concatenate([np.ravel(m) for m in jtu.tree_leaves(masks)])


def contract(j1, j2, mask=None, output="trace"):
    if mask is not None:
        j1, j2 = j1[..., mask], j2[..., mask]
    full = np.einsum("iop,jqp->ijoq", j1, j2)
    if output == "full":
        return full
    if output == "diagonal":
        return np.diagonal(full, axis1=2, axis2=3)
    return np.trace(full, axis1=2, axis2=3)


def reference(model, x1, x2=None, trainable="all", output="trace"):
    """J1 J2^T with J the Jacobian of the flattened trainable parameters (jax.jacrev)."""
    x2 = x1 if x2 is None else x2
    j = full_jacobian(model, jnp.concatenate([jnp.asarray(x1), jnp.asarray(x2)]))
    return contract(j[: len(x1)], j[len(x1) :], column_mask(model, trainable), output)


@pytest.fixture(scope="module")
def xs():
    return jr.normal(jr.key(1), (23, 3)), jr.normal(jr.key(2), (9, 3))


@pytest.mark.parametrize(
    "widths, act",
    [
        ((6,), "relu"),
        pytest.param((5, 7), "tanh", marks=pytest.mark.slow),  # depths 1 and 3 cover it
        ((4, 6, 5), "gelu"),
    ],
)
def test_project_mlp(widths, act, xs):
    x, x2 = xs
    m = MLP(3, widths, activation=act, key=jr.key(0))
    ref = reference(m, jnp.concatenate([x, x2]))
    assert rel_err(layered_ntk(m, x), ref[:23, :23]) < RTOL["float64"]
    assert rel_err(layered_ntk(m, x, x2), ref[:23, 23:]) < RTOL["float64"]


@pytest.mark.parametrize(
    "act", [jnp.tanh, jax.nn.relu, lambda z: jnp.sin(z) + 0.5 * z], ids=["tanh", "relu", "lambda"]
)
def test_eqx_mlp(act, xs):
    x, x2 = xs
    m = eqx.nn.MLP(3, 2, 6, 3, activation=act, key=jr.key(3))
    ref = reference(m, x, x2, output="full")
    assert rel_err(layered_ntk(m, x, x2, output="full"), ref) < RTOL["float64"]
    if act is jnp.tanh:  # the output modes: full, trace over outputs, diagonal
        tr, dg = np.trace(ref, axis1=2, axis2=3), np.diagonal(ref, axis1=2, axis2=3)
        assert rel_err(layered_ntk(m, x, x2, output="trace"), tr) < RTOL["float64"]
        assert rel_err(layered_ntk(m, x, x2, output="diagonal"), dg) < RTOL["float64"]


@pytest.mark.parametrize(
    "kw",
    [
        dict(scan=True, use_bias=False),  # scanned hidden layers, no biases
        dict(use_final_bias=False, final_activation=jnp.tanh),
        dict(activation=eqx.nn.PReLU()),  # learnt activation: generic path for its leaves
    ],
    ids=["scan-nobias", "final-activation", "prelu"],
)
def test_eqx_mlp_variants(kw, xs):
    x, _ = xs
    m = eqx.nn.MLP(3, 2, 5, 2, key=jr.key(4), **kw)
    k = layered_ntk(m, x, output="full")
    assert rel_err(k, reference(m, x, output="full")) < RTOL["float64"]


def test_eqx_mlp_scalar_io(xs):
    x = xs[0][:, 0]
    m = eqx.nn.MLP("scalar", "scalar", 6, 2, activation=jnp.tanh, key=jr.key(5))
    assert rel_err(layered_ntk(m, x), reference(m, x)) < RTOL["float64"]
    m0 = eqx.nn.MLP("scalar", 3, 6, 0, key=jr.key(5))  # depth 0: one Linear layer
    assert rel_err(layered_ntk(m0, x, output="full"), reference(m0, x, output="full")) < 1e-12


def _only_first_weight(m):
    spec = jtu.tree_map(lambda _: False, m)
    return eqx.tree_at(lambda s: s.layers[0].weight, spec, replace=True)


def test_trainable_subsets(xs):
    x, x2 = xs
    m = MLP(3, (5, 6, 4), activation="tanh", out_size=2, key=jr.key(6))
    j = full_jacobian(m, jnp.concatenate([x, x2]))
    j1, j2 = j[:23], j[23:]
    sels = ["second_to_last", "biases", "outer", "weights", ("outer", "biases")]
    sels += [_only_first_weight(m), lambda leaf: leaf.ndim == 1]  # filter pytree, predicate
    for i, sel in enumerate(sels):
        out = ("full", "trace")[i % 2]
        k = layered_ntk(m, x, x2, trainable=sel, output=out)
        ref = contract(j1, j2, column_mask(m, sel), out)
        assert rel_err(k, ref) < RTOL["float64"], sel


def test_blocked_symmetric_and_sharding_free_paths_agree():
    # N = 500 triggers the upper-block-triangle recursion; blocks of 64 do not divide N
    x = jr.uniform(jr.key(7), (500, 2), minval=-1, maxval=1)
    m = MLP(2, (5, 4), activation="tanh", out_size=2, key=jr.key(8))
    ref = reference(m, x, output="full")
    k_sym = layered_ntk(m, x, output="full")
    assert rel_err(k_sym, ref) < RTOL["float64"]
    np.testing.assert_array_equal(np.asarray(k_sym), np.transpose(np.asarray(k_sym), (1, 0, 3, 2)))
    k_blk = layered_ntk(m, x, x, output="full", block_size=64)
    assert rel_err(k_blk, ref) < RTOL["float64"]
    np.testing.assert_allclose(
        layered_ntk(m, x, output="diagonal", block_size=7),
        np.diagonal(ref, axis1=2, axis2=3),
        rtol=1e-11,
        atol=1e-13,
    )


def test_float32(xs):
    x, x2 = xs
    m = MLP(3, (16, 16), activation="tanh", key=jr.key(9))
    k = layered_ntk(m, x, x2, dtype="float32")
    assert k.dtype == jnp.float32
    assert rel_err(k, reference(m, x, x2)) < 20 * RTOL["float32"]


def test_matches_neural_tangents_fixture():
    """neural-tangents 0.6.5 (stax, standard parameterisation, y = x W + b with W of shape
    (in, out)): made by ``benchmarks/_nt_layered_runner.py`` (command "fixture")."""
    d = np.load(DATA / "nt_mlp_ntk.npz")
    dims = [d["W0"].shape[0], d["W0"].shape[1], d["W1"].shape[1]]
    m = MLP(dims[0], dims[1:], out_size=d["W2"].shape[1], activation="relu", key=jr.key(0))
    ws = tuple(jnp.asarray(d[f"W{i}"].T) for i in range(3))
    bs = tuple(jnp.asarray(d[f"b{i}"].reshape(-1)) for i in range(3))
    m = eqx.tree_at(lambda n: tuple(lay.weight for lay in n.layers), m, ws)
    m = eqx.tree_at(lambda n: tuple(lay.bias for lay in n.layers), m, bs)
    k = layered_ntk(m, d["x"], output="full")
    assert k.shape == d["ntk"].shape
    assert rel_err(k, d["ntk"]) < 1e-10


def test_one_input_mlp_takes_1d_points():
    m = MLP(1, (5, 4), activation="tanh", key=jr.key(2))
    t = jnp.linspace(-1, 1, 7)
    np.testing.assert_array_equal(
        np.asarray(layered_ntk(m, t)), np.asarray(layered_ntk(m, t[:, None]))
    )


def test_applies():
    m = MLP(2, (4,), key=jr.key(0))
    assert layered_applies(m) and layered_applies(eqx.nn.MLP(2, 1, 4, 2, key=jr.key(0)))
    assert not layered_applies(ShallowNetwork(jnp.ones(3), jnp.ones((3, 1)), jnp.zeros(3)))


def test_bad_inputs(xs):
    x, _ = xs
    m = MLP(3, (4,), key=jr.key(0))
    conv = eqx.nn.Conv1d(1, 1, 3, key=jr.key(0))
    with pytest.raises(
        ValueError,
        match="layered_ntk: got a Conv1d without eqx.nn.Linear layers; layered_ntk covers",
    ):
        layered_ntk(conv, x)
    shallow = ShallowNetwork(jnp.ones(3), jnp.ones((3, 1)), jnp.zeros(3))
    with pytest.raises(ValueError, match="got a ShallowNetwork"):
        layered_ntk(shallow, x[:, :1])
    with pytest.raises(ValueError, match=r"x1 must have shape \(N, 3\).*got \(23, 2\)"):
        layered_ntk(m, x[:, :2])
    with pytest.raises(ValueError, match=r"x2 must have shape \(N, 3\).*got \(3,\)"):
        layered_ntk(m, x, x[0])
    with pytest.raises(ValueError, match=r"x1 must have shape \(N,\)"):
        layered_ntk(eqx.nn.MLP("scalar", 1, 3, 1, key=jr.key(0)), x)
    with pytest.raises(ValueError, match="x1 must contain only finite values"):
        layered_ntk(m, x.at[0, 0].set(jnp.nan))
    with pytest.raises(ValueError, match="output must be one of"):
        layered_ntk(m, x, output="trace_axes")
    with pytest.raises(ValueError, match="block_size must be a positive integer"):
        layered_ntk(m, x, block_size=0)
    with pytest.raises(ValueError, match="selects no parameters"):
        layered_ntk(m, x, trainable=lambda leaf: False)
    with pytest.raises(TypeError, match="x1 must be an array"):
        layered_ntk(m, object())
    with pytest.raises(ValueError, match="x1 must be a non-empty batch"):
        layered_ntk(m, jnp.zeros((0, 3)))
    with pytest.raises(ValueError, match="^empirical_ntk: x1 must have shape"):
        layered_ntk(m, x[:, :2], where="empirical_ntk")


@pytest.mark.slow  # sharding is covered by the structured NTK and multi-process smoke tests
def test_sharded_rows_match_single_device():
    from multidevice import run_with_devices

    out = run_with_devices(
        """
        import jax.random as jr, numpy as np
        from spectral_jax._sharding import device_mesh
        from spectral_jax.networks import MLP
        from spectral_jax.ntk._layered import layered_ntk
        m = MLP(2, (6, 5), activation="tanh", out_size=2, key=jr.key(0))
        x = jr.normal(jr.key(1), (10, 2)); y = jr.normal(jr.key(2), (7, 2))
        mesh = device_mesh()
        kw = dict(block_size=3, trainable="second_to_last,outer", output="full")
        a = layered_ntk(m, x, y, mesh=mesh, **kw)
        b = layered_ntk(m, x, y, **kw)
        print(float(np.max(np.abs(np.asarray(a) - np.asarray(b))) / np.max(np.abs(b))))
        import equinox as eqx, jax
        k = jr.split(jr.key(3), 3)  # a non-chain model: the tapped route and a conv leaf
        net = eqx.nn.Sequential([eqx.nn.Conv1d(1, 2, 3, key=k[0]), eqx.nn.Lambda(jax.numpy.ravel),
                                 eqx.nn.Linear(8, 4, key=k[1]), eqx.nn.Lambda(jax.numpy.tanh),
                                 eqx.nn.Linear(4, 2, key=k[2])])
        s = jr.normal(jr.key(4), (9, 1, 6))
        a = layered_ntk(net, s, mesh=mesh, output="diagonal")
        b = layered_ntk(net, s, output="diagonal")
        print(float(np.max(np.abs(np.asarray(a) - np.asarray(b))) / np.max(np.abs(b))))
        """
    )
    errs = [float(v) for v in out.split()]
    assert len(errs) == 2 and max(errs) < 1e-12


def _linears(m):
    return [leaf for leaf in jtu.tree_leaves(m, is_leaf=is_linear) if is_linear(leaf)]


class _Reparam(eqx.Module):
    """The same function in the parameters V = W / sqrt(a), u = b / sqrt(c) of each
    eqx.nn.Linear leaf (the "ntk" parameterisation the scales stand for)."""

    inner: eqx.Module
    roots: tuple = eqx.field(static=True)

    def __call__(self, x):
        def get(m):
            return [t for lin in _linears(m) for t in (lin.weight, lin.bias)]

        vals = [r * t for (ra, rc), lin in zip(self.roots, _linears(self.inner), strict=True)
                for r, t in ((ra, lin.weight), (rc, lin.bias))]  # fmt: skip
        return eqx.tree_at(get, self.inner, vals)(x)


def test_layer_scales_on_any_model_match_jacrev_of_the_reparameterised_model(xs):
    """layer_scales on the tapped route (a hand-built model: Linear leaves in a Sequential
    with a residual-free tanh chain and a scalar head): against J J^T by jax.jacrev of the
    model written in the rescaled parameters."""
    x, x2 = xs
    k = jr.split(jr.key(11), 3)
    model = eqx.nn.Sequential(
        [
            eqx.nn.Linear(3, 5, key=k[0]),
            eqx.nn.Lambda(jnp.tanh),
            eqx.nn.Linear(5, 4, key=k[1]),
            eqx.nn.Lambda(jax.nn.gelu),
            eqx.nn.Linear(4, 2, key=k[2]),
        ]
    )
    scales = [(2.0, 0.5), (0.25, 3.0), (1.5, 0.1)]
    roots = tuple((float(np.sqrt(a)), float(np.sqrt(c))) for a, c in scales)
    inner = eqx.tree_at(
        lambda m: [t for lin in _linears(m) for t in (lin.weight, lin.bias)],
        model,
        [
            t / r
            for (ra, rc), lin in zip(roots, _linears(model), strict=True)
            for r, t in ((ra, lin.weight), (rc, lin.bias))
        ],
    )
    rep = _Reparam(inner, roots)
    got = layered_ntk(model, x, x2, output="full", layer_scales=scales)
    assert rel_err(got, reference(rep, x, x2, output="full")) < RTOL["float64"]


class _Shared(eqx.Module):
    a: eqx.nn.Linear
    b: eqx.nn.Linear

    def __call__(self, x):
        return self.b(jnp.tanh(self.a(jnp.tanh(self.a(x)))))


def _shared():
    k = jr.split(jr.key(0))
    m = _Shared(eqx.nn.Linear(3, 3, key=k[0]), eqx.nn.Linear(3, "scalar", key=k[1]))
    return m, jr.normal(jr.key(2), (4, 3))


@pytest.mark.slow
def test_layer_scales_zero_and_symmetric():
    """(a, c) = (2, 0) on the covered head of a model whose other layer is applied twice:
    K + K_[b.weight] - K_[b.bias] (a zero scale drops the term, as a frozen parameter does);
    K(x, x) by the symmetric route."""
    m, x = _shared()
    k_bw = layered_ntk(m, x, trainable=lambda mm: mm.b.weight)
    k_bb = layered_ntk(m, x, trainable=lambda mm: mm.b.bias)
    want = layered_ntk(m, x) + k_bw - k_bb
    assert rel_err(layered_ntk(m, x, layer_scales=[(1, 1), (2.0, 0.0)]), want) < RTOL["float64"]


def test_layer_scales_refused_where_unsound():
    """A Linear leaf applied twice is left to the generic path: only (1, 1) is accepted
    for it, in one line naming the leaf; bad values are refused."""
    m, x = _shared()
    with pytest.raises(ValueError, match=r"layer_scales\[0\] must be \(1, 1\)") as err:
        layered_ntk(m, x, layer_scales=[(2.0, 1.0), (1.0, 1.0)])
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="one \\(a, c\\) pair per eqx.nn.Linear leaf"):
        layered_ntk(m, x, layer_scales=[(1.0, 1.0)])
    with pytest.raises(ValueError, match="finite non-negative"):
        layered_ntk(m, x, layer_scales=[(1.0, 1.0), (-1.0, 1.0)])
