"""`gradient_flow`: error control against the exact flow of a quadratic loss (explicit
Tsit5; implicit Kvaerno5 at condition number 1e12), monotone loss on a seed problem,
fast 1D vector field = generic, segment/resume bit for bit, bad inputs.

Compilation dominates the run time, so the file uses three compiled solves: Tsit5 and
Kvaerno5 on a small linear model (generic path), and Tsit5 on the seed network (fast path)
shared by the monotone, statistics and resume tests."""

import concurrent.futures
import json

import equinox as eqx
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
import pytest
import scipy.linalg

from spectral_jax.domains import Interval
from spectral_jax.dynamics import _flow, fourier_modes, loss_domain, select_trainable
from spectral_jax.dynamics._engine import TrainingProblem
from spectral_jax.dynamics._flow import FlowCheckpointError, gradient_flow
from spectral_jax.networks import ShallowNetwork, uniform_biases
from spectral_jax.quadrature import gauss_legendre
from spectral_jax.targets import get_target


class Linear(eqx.Module):
    """h(e_l) = (B theta)_l on the unit vectors e_l: E = 1/2 theta^T A theta - b^T theta + c
    with A = B^T Q B, b = B^T Q f."""

    theta: jnp.ndarray
    B: jnp.ndarray

    def __call__(self, x):
        return jnp.dot(x, self.B @ self.theta)


def _quadratic(eigs, seed=0):
    rng = np.random.default_rng(seed)
    P = len(eigs)
    U, _ = np.linalg.qr(rng.standard_normal((P, P)))
    V, _ = np.linalg.qr(rng.standard_normal((P, P)))
    B = U @ np.diag(np.sqrt(np.asarray(eigs) * P)) @ V.T  # Q = I/P: A = B^T B / P
    fvec = rng.standard_normal(P)
    model = Linear(jnp.asarray(rng.standard_normal(P)), jnp.asarray(B))
    dom = loss_domain(lambda x: x @ jnp.asarray(fvec), samples=jnp.eye(P))
    spec = eqx.tree_at(lambda m: m.theta, jtu.tree_map(lambda _: False, model), True)
    A = B.T @ B / P
    b = B.T @ fvec / P
    return model, dom, spec, A, b


def _exact(A, b, theta0, t):
    """theta(t) of theta' = b - A theta: exp of the augmented matrix [[-A, b], [0, 0]]."""
    P = len(b)
    M = np.zeros((P + 1, P + 1))
    M[:P, :P] = -A
    M[:P, P] = b
    return (scipy.linalg.expm(M * t) @ np.append(theta0, 1.0))[:P]


def _check_error(traj, model, A, b, t1, rtol, atol, factor):
    exact = _exact(A, b, np.asarray(model.theta), t1)
    got = np.asarray(traj.model.theta)
    err = np.max(np.abs(got - exact)) / (atol + rtol * np.max(np.abs(exact)))
    assert err < factor, err
    return err


def test_tsit5_error_under_tolerance():
    model, dom, spec, A, b = _quadratic(np.geomspace(0.1, 10.0, 6))
    t1 = 3.0

    def flow(rtol):
        return gradient_flow(
            model, dom, t1, solver="tsit5", rtol=rtol, atol=rtol * 1e-2, trainable=spec,
            count_evaluations=True,
        )  # fmt: skip

    # the two tolerances run at once, in threads: each call counts its own evaluations
    # (a counter shared between calls would mix them)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        trajs = dict(zip((1e-5, 1e-8), pool.map(flow, (1e-5, 1e-8)), strict=True))
    assert trajs[1e-8].stats["num_steps"] > trajs[1e-5].stats["num_steps"]
    for rtol, traj in trajs.items():
        assert traj.completed and traj.times[-1] == t1 and traj.times[0] == 0
        _check_error(traj, model, A, b, t1, rtol, rtol * 1e-2, 1.0)
        s = traj.stats
        assert s["num_steps"] == s["num_accepted_steps"] + s["num_rejected_steps"] > 0
        # Tsit5 (FSAL): 6 evaluations a step, + 1 FSAL start + 2 for the first step size
        assert s["vector_field_evaluations"] == 6 * s["num_steps"] + 3
    # the recorded loss decrease is the exact one: E(0) - E(t1) from the closed form
    th0 = np.asarray(model.theta)
    th1 = _exact(A, b, th0, t1)
    drop = (0.5 * th0 @ A @ th0 - b @ th0) - (0.5 * th1 @ A @ th1 - b @ th1)
    assert np.isclose(traj.loss[0] - traj.loss[-1], drop, rtol=1e-7)


def test_kvaerno5_stiff_condition_1e12():
    """Eigenvalues 1e-6 .. 1e6: Tsit5 would need ~t1 * 1e6 / 3 steps; Kvaerno5 is
    L-stable and takes a few dozen."""
    model, dom, spec, A, b = _quadratic(np.geomspace(1e-6, 1e6, 8), seed=1)
    assert np.linalg.cond(A) > 1e11
    t1, rtol, atol = 50.0, 1e-6, 1e-9
    traj = gradient_flow(model, dom, t1, solver="kvaerno5", rtol=rtol, atol=atol, trainable=spec)
    assert traj.completed
    _check_error(traj, model, A, b, t1, rtol, atol, 1.0)
    assert traj.stats["num_steps"] < 500
    assert np.all(np.diff(traj.loss) <= 0) and traj.monotone


@pytest.fixture(scope="module")
def seed():
    """The seeds' setting: ReLU shallow net, alternating outer signs, evenly spaced biases,
    outer weights and biases trained on sin(4 pi x) (continuous L2 loss)."""
    n = 24
    net = ShallowNetwork(
        jnp.where(jnp.arange(n) % 2 == 0, 1.0, -1.0) / n, jnp.ones(n), uniform_biases(n), "relu"
    )
    dom = loss_domain(get_target("sin4"), gauss_legendre(Interval(), 8, panels=12), bounds=(-1, 1))
    kw = dict(
        solver="tsit5",
        rtol=1e-6,
        atol=1e-9,
        trainable="outer,biases",
        tracker=fourier_modes(dom, 3),
        saveat_times=np.concatenate([[0], np.geomspace(0.1, 40, 16)]),
    )
    return net, dom, kw


@pytest.fixture(scope="module")
def seed_run(seed):
    net, dom, kw = seed
    return gradient_flow(net, dom, 40.0, **kw)


def test_seed_loss_monotone_and_records(seed, seed_run):
    net, dom, kw = seed
    traj = seed_run
    assert traj.metadata["fast1d"] and traj.completed
    assert np.all(np.diff(traj.loss) <= 0) and traj.monotone and traj.first_increase is None
    assert traj.loss[-1] < 0.95 * traj.loss[0]
    assert traj.mode_errors.shape == (17, 3) and traj.mode_labels == (1, 2, 3)
    assert traj.drift[0] == 0 and np.all(traj.drift[1:] > 0)
    # recorded loss = the loss `train` minimises, at the final model
    spec = select_trainable(traj.model, "outer,biases")
    p, s = eqx.partition(traj.model, spec)
    assert np.isclose(traj.loss[-1], float(TrainingProblem(s, dom, True).loss(p)), rtol=1e-12)


def test_fast_vector_field_equals_generic(seed):
    net, dom, _ = seed
    spec = select_trainable(net, "outer,biases")
    params, static = eqx.partition(net, spec)
    flat = jnp.concatenate([jnp.ravel(x) for x in jtu.tree_leaves(params)])
    vf = eqx.filter_jit(_flow._vector_field)
    fast = vf(0.0, flat, (TrainingProblem(static, dom, True), params, None))
    gen = vf(0.0, flat, (TrainingProblem(static, dom, False), params, None))
    assert np.max(np.abs(fast - gen)) <= 1e-10 * np.max(np.abs(gen))


def test_segments_and_resume_bit_for_bit(seed, seed_run, tmp_path, monkeypatch):
    net, dom, kw = seed
    ck = tmp_path / "flow.npz"
    full = gradient_flow(net, dom, 40.0, checkpoint=ck, checkpoint_times=[1.0, 8.0], **kw)
    assert full.stats["segments"] == 3 and ck.exists()
    # segmented = one solve to the tolerance (not bit for bit: a segment end clips a step)
    for k in ("loss", "drift"):
        np.testing.assert_allclose(full.__dict__[k], seed_run.__dict__[k], rtol=1e-4, atol=1e-9)
    # interrupted after the first segment, then resumed: bit for bit
    ck2 = tmp_path / "flow2.npz"
    write = _flow._write_checkpoint

    def write_then_stop(*a, **k):
        write(*a, **k)
        raise KeyboardInterrupt

    monkeypatch.setattr(_flow, "_write_checkpoint", write_then_stop)
    with pytest.raises(KeyboardInterrupt):
        gradient_flow(net, dom, 40.0, checkpoint=ck2, checkpoint_times=[1.0, 8.0], **kw)
    monkeypatch.setattr(_flow, "_write_checkpoint", write)
    res = gradient_flow(
        net, dom, 40.0, checkpoint=ck2, resume=ck2, checkpoint_times=[1.0, 8.0], **kw
    )
    for k in ("times", "loss", "param_norm", "drift", "drift_max", "mode_errors"):
        np.testing.assert_array_equal(res.__dict__[k], full.__dict__[k])
    for a, b in zip(jtu.tree_leaves(res.model), jtu.tree_leaves(full.model), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert res.stats == full.stats
    # another run's checkpoint: named setting; a corrupt file: one line
    with pytest.raises(FlowCheckpointError, match="different run: rtol"):
        gradient_flow(
            net, dom, 40.0, resume=ck, checkpoint_times=[1.0, 8.0], **{**kw, "rtol": 1e-5}
        )
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(FlowCheckpointError, match="not a readable gradient-flow checkpoint"):
        gradient_flow(net, dom, 40.0, resume=bad, **kw)
    with pytest.raises(FlowCheckpointError, match="already exists .not replaced."):
        gradient_flow(net, dom, 40.0, checkpoint=bad, **kw)
    assert bad.read_bytes() == b"not a zip file"
    hdr = tmp_path / "hdr.npz"
    np.savez(hdr, header=np.asarray(json.dumps({"format": "other"})))
    with pytest.raises(FlowCheckpointError, match="format 'other'"):
        gradient_flow(net, dom, 40.0, resume=hdr, **kw)


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        (dict(t1=0.0), ValueError, "t1 must be a positive"),
        (dict(t1=-1.0), ValueError, "t1 must be a positive"),
        (dict(t1=float("nan")), ValueError, "t1 must be finite"),
        (dict(rtol=0.0), ValueError, "rtol must be positive"),
        (dict(rtol=-1e-3), ValueError, "rtol must be positive"),
        (dict(atol=-1.0), ValueError, "atol must be >= 0"),
        (dict(solver="rk45"), ValueError, "solver must be one of"),
        (dict(solver=3), TypeError, "solver must be a name"),
        (dict(max_steps=0), ValueError, "max_steps"),
        (dict(trainable=lambda leaf: False), ValueError, "trainable selection .* selects no"),
        (dict(saveat_times=[0.0, 2.0]), ValueError, r"saveat_times must lie in \[0, t1\]"),
        (dict(saveat_times=[0.5, 0.2]), ValueError, "saveat_times must be strictly increasing"),
        (dict(checkpoint_times=[1.0]), ValueError, "checkpoint_times must lie"),
        (dict(dom="x"), TypeError, "dom must be a LossDomain"),
        (dict(nan=True), ValueError, "initial model are not finite"),
    ],
)
def test_bad_inputs(seed, kwargs, err, match):
    net, dom, _ = seed
    if kwargs.pop("nan", False):
        net = eqx.tree_at(lambda m: m.outer, net, net.outer.at[0].set(jnp.nan))
    args = dict(model=net, dom=dom, t1=1.0) | kwargs
    with pytest.raises(err, match=match):
        gradient_flow(args.pop("model"), args.pop("dom"), args.pop("t1"), **args)


def test_save_load_and_monotone_flag(seed_run, tmp_path):
    """A flow trajectory round-trips through load_trajectory; the monotonicity check flags
    the first saved time whose loss rose beyond rounding, not rounding itself."""
    from spectral_jax.dynamics import FlowTrajectory, load_trajectory

    back = load_trajectory(seed_run.save(tmp_path / "f.npz"))
    assert isinstance(back, FlowTrajectory) and back.completed and back.monotone
    for k in ("times", "loss", "drift", "mode_errors"):
        np.testing.assert_array_equal(getattr(back, k), getattr(seed_run, k))
    assert back.stats == seed_run.stats and back.mode_labels == seed_run.mode_labels
    t = np.array([0.0, 1.0, 2.0, 3.0])
    assert _flow.first_increase_at(t, np.array([1.0, 0.5, 0.5 * (1 + 1e-15), 0.2])) is None
    assert _flow.first_increase_at(t, np.array([1.0, 0.5, 0.6, 0.2])) == 2.0


def test_plot_flow_trajectory_on_flow_time(seed_run):
    """A FlowTrajectory is drawn against its flow times (t = 0 dropped on the log axis),
    not against steps clipped at 1."""
    import matplotlib.pyplot as plt

    from spectral_jax.dynamics import plot_trajectory

    fig = plot_trajectory(seed_run)
    loss_ax, mode_ax = fig.axes[:2]
    x = np.asarray(loss_ax.lines[0].get_xdata())
    np.testing.assert_array_equal(x, seed_run.times[seed_run.times > 0])
    np.testing.assert_array_equal(loss_ax.lines[0].get_ydata(), seed_run.loss[1:])
    assert "flow time" in loss_ax.get_xlabel() and "flow time" in mode_ax.get_xlabel()
    plt.close(fig)


def test_flow_save_times_closed_form():
    from spectral_jax.dynamics import flow_save_times

    ts = flow_save_times(2.0, 5, 2)
    assert np.array_equal(ts[:1], [0.0]) and ts[-1] == 2.0
    np.testing.assert_allclose(ts[1:], 2.0 * 10.0 ** (-2.0 * (5 - np.arange(1, 6)) / 4), rtol=1e-15)
    assert np.array_equal(flow_save_times(3.0, 1), [0.0, 3.0])  # ends at t1 for n = 1 too
    assert len(flow_save_times(1.0)) == 49 and np.all(np.diff(flow_save_times(1.0)) > 0)
    for kwargs, err, match in [
        (dict(t1=0.0), ValueError, "flow_save_times: t1 must be positive"),
        (dict(t1=float("nan")), ValueError, "flow_save_times: t1"),
        (dict(t1=1.0, n=0), ValueError, "flow_save_times: n must be"),
        (dict(t1=1.0, decades=1.5), TypeError, "flow_save_times: decades"),
    ]:
        with pytest.raises(err, match=match):
            flow_save_times(**kwargs)


def test_memory_estimates_closed_form():
    """The public estimates are the byte counts their docstrings state."""
    from spectral_jax.dynamics import fourier_modes_bytes, records_bytes

    # K = (2M+1)^d - 1 basis functions over N nodes: 2 K N (8 + itemsize) bytes
    assert fourier_modes_bytes(3, 10, 1, dtype="float32") == 2 * 6 * 10 * (8 + 4)
    assert fourier_modes_bytes(2, 7, 2, include_constant=True) == 2 * 25 * 7 * 16
    # (n + 1) rows of 4 + M values, three copies
    assert records_bytes(9, 5, "float64") == 3 * 10 * 9 * 8
    assert records_bytes(9, 5, "float32") == 3 * 10 * 9 * 4
