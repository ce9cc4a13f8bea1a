"""train_many: B networks in one jitted scan equal B separate `train` runs; sharded over
4 simulated devices equals one device; bad input."""

import json

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
import pytest
from helpers import RTOL, rel_err
from multidevice import run_with_devices

from spectral_jax._sharding import device_mesh
from spectral_jax.domains import Interval
from spectral_jax.dynamics import (
    Euler,
    OptaxStepper,
    TrajectoryBatch,
    fourier_modes,
    loss_domain,
    stack_models,
    train,
    train_many,
)
from spectral_jax.networks import ShallowNetwork
from spectral_jax.quadrature import gauss_legendre
from spectral_jax.targets import get_target

TOL = 10 * RTOL["float64"]


def _net(key, n=12, act="relu"):
    k1, k2, k3 = jr.split(key, 3)
    return ShallowNetwork(
        jr.normal(k1, (n,)) / n,
        jr.normal(k2, (n,)),
        jr.uniform(k3, (n,), minval=-1.0, maxval=1.0),
        act,
    )


@pytest.fixture(scope="module")
def dom():
    return loss_domain(get_target("sin2"), gauss_legendre(Interval(), 4, panels=12))


def _compare(tb, runs):
    assert isinstance(tb, TrajectoryBatch) and len(tb) == len(runs)
    for i, t in enumerate(runs):
        ti = tb[i]
        np.testing.assert_array_equal(ti.steps, t.steps)
        for name in ("loss", "param_norm", "drift", "drift_max"):
            assert rel_err(getattr(ti, name), getattr(t, name)) < TOL, (i, name)
        if t.mode_errors is not None:
            assert rel_err(ti.mode_errors, t.mode_errors) < TOL
        for name in ("outer", "weights", "biases"):
            assert rel_err(getattr(ti.model, name), getattr(t.model, name)) < TOL, (i, name)
        assert ti.failed_at == t.failed_at
        assert ti.first_increase == t.first_increase and ti.stopped == t.stopped


@pytest.mark.parametrize("fast1d", [True, pytest.param(False, marks=pytest.mark.slow)])
def test_batched_equals_separate_runs(dom, fast1d):
    nets = [_net(jr.key(i)) for i in range(3)]
    kw = dict(
        stepper=Euler(0.2),
        steps=30,
        record_every=10,
        trainable="outer,biases",
        mode_tracker=fourier_modes(dom, 3),
        fast1d=fast1d,
        progress=False,
    )
    tb = train_many(nets, dom, **kw)
    _compare(tb, [train(n, dom, **kw) for n in nets])
    assert tb.metadata["networks"] == 3 and tb.metadata["fast1d"] == fast1d
    # the loss decreased for every network (the runs did something)
    assert np.all(tb.loss[:, -1] < tb.loss[:, 0])
    assert tb.loss.shape == (3, 4) and tb[-1].metadata["network"] == 2
    with pytest.raises(IndexError):
        tb[3]


@pytest.mark.slow
def test_batched_targets_and_optax_state(dom):
    """Different targets per network (a list of domains) and a stateful stepper (Adam)."""
    rule = gauss_legendre(Interval(), 4, panels=12)
    doms = [loss_domain(get_target(t), rule) for t in ("sin2", "sin4")]
    models = eqx.filter_vmap(lambda k: _net(k, act="tanh"))(jr.split(jr.key(7), 2))
    kw = dict(
        stepper=OptaxStepper(optax.adam(1e-2), "adam"),
        steps=20,
        record_every=5,
        progress=False,
    )
    tb = train_many(models, doms, **kw)
    runs = [
        train(jax.tree_util.tree_map(lambda x, i=i: x[i], models), doms[i], **kw) for i in range(2)
    ]
    _compare(tb, runs)
    assert abs(tb.loss[0, 0] - tb.loss[1, 0]) > 1e-3  # the targets really differ


@pytest.mark.slow
def test_failure_is_per_network(dom):
    """A network whose step overflows freezes at its last good state; the other goes on."""
    good = _net(jr.key(1))
    bad = eqx.tree_at(lambda m: m.outer, good, good.outer * 1e150)
    kw = dict(stepper=Euler(1.0), steps=20, record_every=5, progress=False, trainable="outer")
    tb = train_many([good, bad], dom, **kw)
    # train_many stops on a non-finite loss only: compare with train without its
    # divergence stop (which would end the overflowing run earlier, at step 9)
    ref = [train(m, dom, **kw, divergence_factor=float("inf")) for m in (good, bad)]
    assert tb.failed_at[0] is None and tb.failed_at[1] == ref[1].failed_at is not None
    assert rel_err(tb[1].model.outer, ref[1].model.outer) < TOL
    assert rel_err(tb[0].loss, ref[0].loss) < TOL


@pytest.mark.slow
def test_stacked_input_equals_list_input(dom):
    nets = [_net(jr.key(i)) for i in range(2)]
    s = stack_models(nets)
    assert s.outer.shape == (2, 12)
    kw = dict(stepper=Euler(0.1), steps=4, record_every=2, progress=False)
    a, b = train_many(s, dom, **kw), train_many(nets, dom, **kw)
    np.testing.assert_array_equal(a.loss, b.loss)


def test_bad_input(dom):
    nets = [_net(jr.key(0)), _net(jr.key(1))]
    kw = dict(stepper=Euler(0.1), steps=4, record_every=2, progress=False)
    with pytest.raises(ValueError, match="stack_models: models must be a non-empty sequence"):
        train_many([], dom, **kw)
    with pytest.raises(ValueError, match="stack_models: all models must have the same structure"):
        stack_models([_net(jr.key(0), n=4), _net(jr.key(0), n=5)])
    mixed = eqx.tree_at(lambda m: m.outer, stack_models(nets), jnp.ones((3, 12)))
    with pytest.raises(ValueError, match="train_many: every array leaf .* same leading"):
        train_many(mixed, dom, **kw)
    with pytest.raises(ValueError, match="train_many: got 3 loss domains for B=2 networks"):
        train_many(nets, [dom, dom, dom], **kw)
    other = loss_domain(get_target("sin2"), gauss_legendre(Interval(), 4, panels=13))
    with pytest.raises(ValueError, match=r"train_many: all loss domains must share the nodes"):
        train_many(nets, [dom, other], **kw)
    bad_mesh = jax.sharding.Mesh(np.asarray(jax.devices()), ("x",))
    with pytest.raises(ValueError, match="train_many: mesh must be a jax.sharding.Mesh"):
        train_many(nets, dom, mesh=bad_mesh, **kw)
    with pytest.raises(ValueError, match="train_many: record_every must be <= steps"):
        train_many(nets, dom, stepper=Euler(0.1), steps=2, record_every=4, progress=False)
    with pytest.raises(ValueError, match="train_many: the model cannot be evaluated"):
        train_many(nets, loss_domain(lambda x: x[:, 0], samples=jnp.ones((5, 2))), **kw)


@pytest.mark.slow
def test_one_device_mesh_is_a_noop(dom):
    nets = [_net(jr.key(i)) for i in range(3)]
    kw = dict(stepper=Euler(0.2), steps=6, record_every=3, progress=False)
    a = train_many(nets, dom, **kw)
    b = train_many(nets, dom, mesh=device_mesh(jax.devices()[:1]), **kw)
    assert rel_err(b.loss, a.loss) < TOL and b.metadata["devices"] == 1


def test_sharded_equals_single_device():
    """B = 6 networks on 4 simulated devices (padded to 8) equal the one-device run."""
    out = run_with_devices(
        """
        import json, jax, jax.numpy as jnp, jax.random as jr, numpy as np
        from spectral_jax._sharding import device_mesh
        from spectral_jax.domains import Interval
        from spectral_jax.dynamics import Euler, loss_domain, train_many, fourier_modes
        from spectral_jax.networks import ShallowNetwork
        from spectral_jax.quadrature import gauss_legendre
        from spectral_jax.targets import get_target
        assert len(jax.devices()) == 4
        def net(k, n=12):
            k1, k2, k3 = jr.split(k, 3)
            return ShallowNetwork(jr.normal(k1, (n,)) / n, jr.normal(k2, (n,)),
                                  jr.uniform(k3, (n,), minval=-1.0, maxval=1.0), "relu")
        dom = loss_domain(get_target("sin2"), gauss_legendre(Interval(), 4, panels=12))
        nets = [net(jr.key(i)) for i in range(6)]
        out = []
        for fast in (True,):
            kw = dict(stepper=Euler(0.2), steps=20, record_every=5, trainable="outer,biases",
                      mode_tracker=fourier_modes(dom, 3), fast1d=fast, progress=False)
            a = train_many(nets, dom, **kw)
            b = train_many(nets, dom, mesh=device_mesh(), **kw)
            err = max(float(np.max(np.abs(b.loss - a.loss) / np.abs(a.loss))),
                      float(np.max(np.abs(b.model.biases - a.model.biases))),
                      float(np.max(np.abs(b.mode_errors - a.mode_errors))))
            out.append([err, b.metadata["devices"], b.metadata["padded_to"], len(b),
                        float(a.loss[0, -1] / a.loss[0, 0])])
        print(json.dumps(out))
        """
    )
    for err, ndev, padded, B, drop in json.loads(out.strip().splitlines()[-1]):
        assert ndev == 4 and padded == 8 and B == 6
        assert err < TOL and drop < 1.0


def test_checkpoint_resume_bit_for_bit(dom, tmp_path):
    """train_many saved after 10 steps and resumed to 20 equals the uninterrupted run bit
    for bit; a checkpoint of another batch size, or train's, is refused by name."""
    from spectral_jax.dynamics import CheckpointError

    nets = [_net(jr.key(i)) for i in range(2)]
    kw = dict(stepper=Euler(0.2), record_every=5, trainable="outer,biases")
    kw["mode_tracker"] = fourier_modes(dom, 2)
    # with a checkpoint every run is chunked one record at a time: one compiled scan
    full = train_many(nets, dom, steps=20, checkpoint=tmp_path / "full.npz", **kw)
    ck = tmp_path / "ck.npz"
    part = train_many(nets, dom, steps=10, checkpoint=ck, **kw)
    assert part.steps[-1] == 10
    res = train_many(nets, dom, steps=20, resume=ck, checkpoint=ck, **kw)
    assert res.metadata["resumed_from"] == 10
    for k in ("steps", "loss", "param_norm", "drift", "drift_max", "mode_errors"):
        np.testing.assert_array_equal(getattr(res, k), getattr(full, k))
    for a, b in zip(jax.tree_util.tree_leaves(res.model), jax.tree_util.tree_leaves(full.model),
                    strict=True):  # fmt: skip
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert res.first_increase == full.first_increase and res.failed_at == full.failed_at
    with pytest.raises(CheckpointError, match="holds 2 networks; this run trains 3"):
        train_many([*nets, _net(jr.key(5))], dom, steps=20, resume=ck, **kw)
    with pytest.raises(CheckpointError, match="train: resume: .* is a train_many checkpoint"):
        train(nets[0], dom, steps=20, resume=ck, **kw)
    with pytest.raises(CheckpointError, match="train_many: checkpoint .* already exists"):
        train_many(nets, dom, steps=20, checkpoint=ck, **kw)


@pytest.mark.slow
def test_auto_lr_is_stable_for_every_network(dom):
    """lr='auto' for a batch: c / max_b lambda_max,b, each lambda from the network's own
    Hessian (top_hessian_eigenvalue)."""
    from spectral_jax.dynamics import top_hessian_eigenvalue

    nets = [_net(jr.key(i), n=6) for i in range(2)]
    tb = train_many(nets, dom, stepper=Euler("auto"), steps=4, record_every=2, trainable="outer")
    lams = [top_hessian_eigenvalue(n, dom, trainable="outer").lambda_max for n in nets]
    assert tb.metadata["lr_auto"]["lambda_max_each"] == pytest.approx(lams, rel=1e-12)
    assert tb.metadata["lr"] == pytest.approx(1.0 / max(lams), rel=1e-12)
    assert all(tb.monotone)
