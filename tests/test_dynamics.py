"""Training dynamics: steppers vs matrix exponentials, optax vs hand loops, modes vs NumPy,
checkpoint/resume, NaN handling, bad input, no recompiles."""

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
import jax.tree_util as jtu
import numpy as np
import optax
import pytest
import scipy.linalg
from helpers import fitted_order, rel_err

from spectral_jax.domains import Interval
from spectral_jax.dynamics import (
    RK4,
    Euler,
    ExpEuler,
    LinearisedFlow,
    OptaxStepper,
    fit_exponent,
    fourier_modes,
    load_trajectory,
    loss_domain,
    select_trainable,
    steps_to_halve,
    train,
)
from spectral_jax.dynamics._steppers import AbstractStepper
from spectral_jax.networks import MLP, ShallowNetwork, uniform_biases
from spectral_jax.quadrature import gauss_legendre
from spectral_jax.targets import get_target


def _setup(n=8, act="tanh"):
    net = ShallowNetwork(jnp.zeros(n), jnp.ones(n), uniform_biases(n), act)
    dom = loss_domain(get_target("sin2"), gauss_legendre(Interval(), 6, panels=4))
    return net, dom


def _quadratic_reference(net, dom, T):
    """Outer-weights flow a' = -G a + b solved by the augmented matrix exponential."""
    phi = np.asarray(net.features(dom.nodes))
    q = np.asarray(dom.weights)
    f = np.asarray(dom.values) - float(net.offset)
    G = phi.T @ (q[:, None] * phi)
    b = phi.T @ (q * f)
    n = G.shape[0]
    A = np.zeros((n + 1, n + 1))
    A[:n, :n] = -G
    A[:n, n] = b
    y0 = np.concatenate([np.asarray(net.outer), [1.0]])
    return (scipy.linalg.expm(T * A) @ y0)[:n], G


@pytest.mark.parametrize("cls, order", [(Euler, 1), (RK4, 4)])
def test_quadratic_flow_order(cls, order):
    net, dom = _setup()
    T = 2.0
    ref, _ = _quadratic_reference(net, dom, T)
    ks = [8, 16, 32]
    errs = []
    for k in ks:
        tr = train(
            net, dom, stepper=cls(T / k), steps=k, record_every=k, trainable="outer", progress=False
        )
        errs.append(rel_err(tr.model.outer, ref))
    p = fitted_order([T / k for k in ks], errs)
    assert abs(p - order) < 0.3, (p, errs)
    assert errs[-1] < (0.1 if order == 1 else 1e-6)


def test_linearised_and_expeuler_exact_on_quadratic():
    net, dom = _setup()
    T = 3.0
    ref, G = _quadratic_reference(net, dom, T)
    lmax = np.linalg.eigvalsh(G).max()
    big = 3.0 / lmax * 10  # far beyond Euler's 2/lambda_max limit
    k = max(1, int(round(T / big)))
    for st in (LinearisedFlow(T / k), ExpEuler(T / k)):
        tr = train(net, dom, stepper=st, steps=k, record_every=k, trainable="outer", progress=False)
        assert rel_err(tr.model.outer, ref) < 1e-9, st.name
    # explicit Euler at that step size diverges (reported, not a crash)
    tr = train(
        net,
        dom,
        stepper=Euler(T / k),
        steps=200,
        record_every=10,
        trainable="outer",
        progress=False,
    )
    assert tr.loss[-1] > 1e3 * tr.loss[0] or tr.failed_at is not None


@pytest.mark.slow
def test_linearised_matches_real_flow_for_small_time():
    net, dom = _setup(n=6)
    net = eqx.tree_at(lambda m: m.outer, net, jnp.linspace(-0.5, 0.5, 6))
    a = train(net, dom, stepper=LinearisedFlow(1e-3), steps=20, record_every=10, progress=False)
    b = train(net, dom, stepper=RK4(1e-3), steps=20, record_every=10, progress=False)
    # linearisation error is second order in the parameter change
    assert abs(a.loss[-1] - b.loss[-1]) < 0.02 * (b.loss[0] - b.loss[-1])
    assert a.loss[-1] < a.loss[0]


@pytest.mark.parametrize(
    "opt",
    [
        "sgd",
        pytest.param("momentum", marks=pytest.mark.slow),
        pytest.param("adam", marks=pytest.mark.slow),
    ],
)
def test_optax_matches_hand_loop(opt, key):
    model = MLP(1, (5,), activation="tanh", key=key)
    dom = loss_domain(get_target("sin1"), gauss_legendre(Interval(), 5, panels=3))
    make = dict(
        sgd=lambda: optax.sgd(0.05),
        momentum=lambda: optax.sgd(0.05, momentum=0.9),
        adam=lambda: optax.adam(0.01),
    )[opt]
    tr = train(
        model, dom, stepper=OptaxStepper(make(), opt), steps=12, record_every=4, progress=False
    )
    # hand-written loop
    x = np.asarray(dom.nodes)
    q, f = dom.weights, dom.values
    params, static = eqx.partition(model, eqx.is_inexact_array)
    o = make()
    st = o.init(params)

    def loss(p):
        m = eqx.combine(p, static)
        r = jnp.stack([m(xi) for xi in x]) - f
        return 0.5 * jnp.sum(q * r * r)

    losses = []
    vg = eqx.filter_jit(eqx.filter_value_and_grad(loss))
    for _ in range(12):
        val, g = vg(params)
        losses.append(float(val))
        u, st = o.update(g, st, params)
        params = optax.apply_updates(params, u)
    ref = eqx.combine(params, static)
    assert rel_err(tr.model.layers[0].weight, ref.layers[0].weight) < 1e-12
    assert rel_err(tr.model.layers[1].bias, ref.layers[1].bias) < 1e-12
    assert rel_err(tr.loss[:3], np.asarray(losses)[[0, 4, 8]]) < 1e-12


def test_fourier_projection_vs_numpy():
    dom = loss_domain(
        get_target("sin1"), gauss_legendre(Interval(-2.0, 1.0), 8, panels=8), bounds=(-2.0, 1.0)
    )
    tr = fourier_modes(dom, 5)
    x = np.asarray(dom.nodes)[:, 0]
    q = np.asarray(dom.weights)
    t = (2 * x + 1) / 3
    r = np.exp(x) * np.cos(3 * x)
    got = np.asarray(tr.errors(jnp.asarray(r), dom.weights))
    want = []
    for m in range(1, 6):
        e = 0.0
        for v in (np.cos(m * np.pi * t), np.sin(m * np.pi * t)):
            e += (q @ (r * v)) ** 2 / (q @ (v * v))
        want.append(np.sqrt(e))
    assert rel_err(got, want) < 1e-12
    # a pure mode-3 residual is seen only at m = 3 (Gauss rule is exact for these products)
    got3 = np.asarray(tr.errors(jnp.asarray(2.0 * np.sin(3 * np.pi * t)), dom.weights))
    assert abs(got3[2] - 2.0 * np.sqrt(1.5)) < 1e-12 and np.max(np.delete(got3, 2)) < 1e-8


@pytest.mark.slow
def test_steps_to_halve_and_exponent():
    net, dom = _setup(n=16, act="relu")
    tr = train(
        net,
        dom,
        stepper=Euler(0.02),
        steps=400,
        record_every=5,
        trainable="outer",
        mode_tracker=fourier_modes(dom, 3),
        progress=False,
    )
    s = steps_to_halve(tr)
    e = tr.mode_errors
    for j in range(3):
        if np.isfinite(s[j]):
            i = int(s[j]) // 5
            assert e[i, j] <= 0.5 * e[0, j] and (i == 0 or e[i - 1, j] > 0.5 * e[0, j])
    assert fit_exponent([1, 2, 4, 8], [3, 12, 48, 192]) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="was not tracked"):
        steps_to_halve(tr, [7])


def test_resume_bit_for_bit(tmp_path, key):
    model = MLP(1, (6,), activation="tanh", key=key)
    dom = loss_domain(get_target("sin2"), gauss_legendre(Interval(), 4, panels=4))
    st = OptaxStepper(optax.adam(0.01), "adam")
    full = train(model, dom, stepper=st, steps=40, record_every=5, progress=False)
    ck = tmp_path / "ck.npz"
    part = train(model, dom, stepper=st, steps=20, record_every=5, progress=False, checkpoint=ck)
    assert part.steps[-1] == 20
    res = train(model, dom, stepper=st, steps=40, record_every=5, progress=False, resume=ck)
    for a, b in zip(
        eqx.filter(full.model, eqx.is_inexact_array).layers,
        eqx.filter(res.model, eqx.is_inexact_array).layers,
        strict=True,
    ):
        assert np.array_equal(np.asarray(a.weight), np.asarray(b.weight))
    assert np.array_equal(full.loss, res.loss)
    # a checkpoint of another model is a clear error
    other = MLP(1, (7,), activation="tanh", key=key)
    with pytest.raises(ValueError, match="different run"):
        train(other, dom, stepper=st, steps=40, record_every=5, progress=False, resume=ck)


def test_nan_stops_and_keeps_last_good_state():
    net, dom = _setup(n=8, act="relu")
    tr = train(
        net,
        dom,
        stepper=Euler(50.0),
        steps=2000,
        record_every=100,
        trainable="outer",
        progress=False,
    )
    assert tr.failed_at is not None and 0 < tr.failed_at < 2000
    out = np.asarray(tr.model.outer)
    assert np.all(np.isfinite(out))
    assert np.isfinite(
        0.5
        * np.sum(
            np.asarray(dom.weights)
            * (np.asarray(tr.model.batch(dom.nodes)) - np.asarray(dom.values)) ** 2
        )
    )


def test_trajectory_roundtrip(tmp_path):
    net, dom = _setup()
    tr = train(
        net,
        dom,
        stepper=Euler(0.1),
        steps=10,
        record_every=5,
        trainable="outer",
        mode_tracker=fourier_modes(dom, 2),
        progress=False,
    )
    p = tr.save(tmp_path / "t.npz")
    back = load_trajectory(p)
    assert np.array_equal(back.loss, tr.loss) and np.array_equal(back.mode_errors, tr.mode_errors)
    assert back.metadata["stepper"] == "euler" and back.mode_labels == (1, 2)


def test_no_recompile_across_step_sizes():
    traces = []

    class Counting(AbstractStepper):
        lr: jnp.ndarray

        @property
        def name(self):
            return "counting"

        def init(self, problem, params):
            return None

        def residual(self, problem, params, state):
            return problem.residual(params)

        def step(self, problem, params, state):
            traces.append(1)
            loss, g = problem.loss_and_grad(params)
            return jax_tree_axpy(-self.lr, g, params), state, loss

    net, dom = _setup()
    for lr in (0.01, 0.02, 0.03):
        train(
            net,
            dom,
            stepper=Counting(jnp.asarray(lr)),
            steps=10,
            record_every=5,
            trainable="outer",
            progress=False,
        )
    assert len(traces) == 1


def jax_tree_axpy(a, x, y):
    import jax

    return jax.tree_util.tree_map(lambda u, v: v + a * u, x, y)


def test_bad_input():
    net, dom = _setup()
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match=r"Euler: lr \(step size\) must be"):
            Euler(bad)
    with pytest.raises(ValueError, match="record_every must be <= steps"):
        train(net, dom, stepper=Euler(0.1), steps=5, record_every=10, progress=False)
    with pytest.raises(ValueError, match="multiple of record_every"):
        train(net, dom, stepper=Euler(0.1), steps=10, record_every=3, progress=False)
    with pytest.raises(ValueError, match="selects no parameters"):
        select_trainable(net, lambda x: False)
    with pytest.raises(ValueError, match="trainable must be one of"):
        select_trainable(net, "hidden")
    with pytest.raises(ValueError, match="needs a ShallowNetwork or MLP"):
        select_trainable(eqx.nn.Linear(1, 1, key=jr.key(0)), "outer")
    other = loss_domain(get_target("sin1"), gauss_legendre(Interval(), 3, panels=2))
    with pytest.raises(ValueError, match="mode_tracker must be a ModeTracker built on the same"):
        train(
            net,
            dom,
            stepper=Euler(0.1),
            steps=5,
            record_every=5,
            progress=False,
            mode_tracker=fourier_modes(other, 2),
        )
    with pytest.raises(ValueError, match="exactly one of rule"):
        loss_domain(get_target("sin1"))


def test_ntk_modes_vs_numpy():
    from spectral_jax.dynamics import ntk_modes

    net, dom = _setup(n=5)
    net = eqx.tree_at(lambda m: m.outer, net, jnp.linspace(-1.0, 1.0, 5))
    tr = ntk_modes(net, dom, 3, trainable="outer")
    # outer-only Jacobian = feature matrix; top eigvecs of Q^1/2 Phi Phi^T Q^1/2
    phi = np.asarray(net.features(dom.nodes))
    sq = np.sqrt(np.asarray(dom.weights))
    lam, V = np.linalg.eigh((sq[:, None] * phi) @ (sq[:, None] * phi).T)
    V = V[:, ::-1][:, :3] / sq[:, None]
    B = np.asarray(tr.basis).T
    for j in range(3):  # equal up to sign
        s = np.sign(B[:, j] @ (np.asarray(dom.weights) * V[:, j]))
        assert rel_err(s * B[:, j], V[:, j]) < 1e-8
    # eigenvalues = the top eigenvalues of the Gram matrix Phi^T Q Phi (NumPy)
    G = phi.T @ (np.asarray(dom.weights)[:, None] * phi)
    assert rel_err(tr.eigenvalues, np.linalg.eigvalsh(G)[::-1][:3]) < 1e-10
    # a residual along eigenmode 2 is seen only by mode 2, with its L2_q norm
    e = np.asarray(tr.errors(jnp.asarray(3.0 * V[:, 1]), dom.weights))
    assert abs(e[1] - 3.0) < 1e-10 and max(e[0], e[2]) < 1e-10


def test_gram_mode_study_matches_linear_flow():
    """Fixed biases, outer weights by Euler: mode m halves after exactly
    ceil(ln(1/2)/ln(1 - eta lambda_m)) steps, with lambda_m from NumPy's eigvalsh of the
    Gram matrix; the steps' exponent equals the eigenvalues' decay exponent."""
    from spectral_jax.dynamics import gram_mode_study

    r = gram_mode_study(width=16, max_mode=4, panels=8)
    # independent eigenvalues: features of the same net at the same nodes, NumPy float64
    n = 16
    net = ShallowNetwork(
        np.where(np.arange(n) % 2 == 0, 1.0, -1.0) / n,
        np.ones(n),
        np.asarray(r["trajectory"].model.biases),
        "relu",
    )
    rule = gauss_legendre(Interval(), 8, panels=8)
    phi = np.asarray(net.features(rule.nodes))
    G = phi.T @ (np.asarray(rule.weights)[:, None] * phi)
    lam = np.linalg.eigvalsh(G)[::-1][:4]
    assert rel_err(r["eigenvalues"], lam) < 1e-10
    eta = 0.45 / lam[0]
    expect = np.ceil(np.log(0.5) / np.log1p(-eta * lam))
    np.testing.assert_array_equal(r["steps_to_halve"], expect)
    slope = np.polyfit(np.log([2, 3, 4]), np.log(expect[1:]), 1)[0]
    assert abs(r["exponent"] - slope) < 1e-12
    assert abs(r["exponent"] - r["eigen_exponent"]) < 0.3
    with pytest.raises(ValueError, match="gram_mode_study: mode 4 would need .* max_steps=10"):
        gram_mode_study(width=16, max_mode=4, panels=8, max_steps=10)
    with pytest.raises(ValueError, match="gram_mode_study: fit_from must be an int in 1"):
        gram_mode_study(width=16, max_mode=4, panels=8, fit_from=4)


def _adam_run(**kw):
    model = MLP(1, (5,), activation="tanh", key=jr.key(3))
    dom = loss_domain(get_target("sin2"), gauss_legendre(Interval(), 4, panels=2))
    st = OptaxStepper(optax.adam(0.01), "adam")
    return train(model, dom, stepper=st, steps=24, record_every=2, progress=False, **kw)


def _same_run(a, b):
    la = [np.asarray(x) for x in jtu.tree_leaves(eqx.filter(a.model, eqx.is_inexact_array))]
    lb = [np.asarray(x) for x in jtu.tree_leaves(eqx.filter(b.model, eqx.is_inexact_array))]
    assert all(np.array_equal(x, y) for x, y in zip(la, lb, strict=True))
    for k in ("steps", "loss", "param_norm", "drift", "drift_max"):
        assert np.array_equal(getattr(a, k), getattr(b, k)), k


def test_chunked_runs_equal_one_scan(tmp_path):
    """Checkpointing splits the scan into chunks (every 6 steps; or about a tenth of the
    run): the result is the one-scan result bit for bit, and the file holds the end."""
    from spectral_jax.dynamics._checkpoint import read_checkpoint

    full = _adam_run()
    for every in (6, None):
        ck = tmp_path / f"ck{every}.npz"
        _same_run(full, _adam_run(checkpoint=ck, checkpoint_every=every))
        assert read_checkpoint(ck).steps_done == 24


def test_interrupt_saves_last_chunk_and_resumes_bit_for_bit(tmp_path, monkeypatch):
    """A KeyboardInterrupt (Ctrl-C, or SIGTERM in the CLI) during the third chunk writes
    the state after the second chunk and raises TrainingInterrupted; resuming from it
    gives the uninterrupted run."""
    from spectral_jax.dynamics import _train as tr
    from spectral_jax.dynamics._checkpoint import read_checkpoint

    full = _adam_run()
    real, calls = tr._run, []

    def interrupted(*args):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args)

    ck = tmp_path / "ck.npz"
    monkeypatch.setattr(tr, "_run", interrupted)
    with pytest.raises(tr.TrainingInterrupted, match=r"checkpoint of step 8 written to") as info:
        _adam_run(checkpoint=ck, checkpoint_every=4)
    assert isinstance(info.value, KeyboardInterrupt) and info.value.steps_done == 8
    assert read_checkpoint(ck).steps_done == 8
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.npz"]
    monkeypatch.setattr(tr, "_run", real)
    res = _adam_run(resume=ck, checkpoint=ck)
    _same_run(full, res)
    assert res.metadata["resumed_from"] == 8 and read_checkpoint(ck).steps_done == 24
    # an interrupt before any chunk finished leaves no file and is a plain KeyboardInterrupt
    monkeypatch.setattr(tr, "_run", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt) as info:
        _adam_run(checkpoint=tmp_path / "new.npz")
    assert not isinstance(info.value, tr.TrainingInterrupted)
    assert not (tmp_path / "new.npz").exists()


def test_divergence_stops_at_last_good_state(tmp_path):
    """Adam with a huge step grows the loss without a NaN: the run stops once the loss
    passes divergence_factor x its initial value and keeps the last state below it."""
    net = ShallowNetwork(jnp.ones(4) / 4, jnp.ones(4), uniform_biases(4), "relu")
    dom = loss_domain(get_target("sin2"), gauss_legendre(Interval(), 4, panels=2))
    st = OptaxStepper(optax.adam(1e3), "adam")
    kw = dict(stepper=st, steps=20, record_every=1, progress=False)
    tr = train(net, dom, divergence_factor=1e4, **kw)
    assert tr.stopped == "diverged" and tr.failed_at is not None and tr.failed_at >= 1
    assert np.all(tr.loss <= 1e4 * tr.loss[0])
    assert np.all(tr.loss[tr.failed_at :] == tr.loss[tr.failed_at - 1])
    free = train(net, dom, divergence_factor=float("inf"), **kw)
    assert free.stopped is None or free.stopped == "nonfinite"
    assert np.max(free.loss) > 1e4 * free.loss[0]
    # the stop is recorded in the trajectory file
    back = load_trajectory(tr.save(tmp_path / "t.npz"))
    assert back.stopped == "diverged" and back.failed_at == tr.failed_at
    assert back.metadata["divergence_factor"] == 1e4


# -- lr="auto", monotonicity, get_stepper, plain optax, checkpoint refusal, quiet default ----


def test_auto_lr_is_one_over_numpy_lmax_and_monotone():
    """Outer weights only: the loss is quadratic with Hessian G = Phi^T Q Phi, so the
    Lanczos estimate equals NumPy's top eigenvalue of G and lr='auto' = c / lambda_max;
    gradient descent there is monotone, and at 2.2 / lambda_max it is not, from the first
    step a NumPy loop shows an increase."""
    from spectral_jax.dynamics import top_hessian_eigenvalue

    net, dom = _setup()
    phi = np.asarray(net.features(dom.nodes))
    q, f = np.asarray(dom.weights), np.asarray(dom.values) - float(net.offset)
    G = phi.T @ (q[:, None] * phi)
    lmax = np.linalg.eigvalsh(G).max()
    est = top_hessian_eigenvalue(net, dom, trainable="outer")
    assert abs(est.lambda_max - lmax) < 1e-10 * lmax and est.iterations == 8
    kw = dict(steps=40, record_every=20, trainable="outer")
    tr = train(net, dom, stepper=Euler("auto", auto_factor=1.5), **kw)
    assert abs(tr.metadata["lr"] - 1.5 / lmax) < 1e-10 / lmax
    assert tr.metadata["lr_auto"]["lambda_max"] == est.lambda_max
    assert tr.monotone and tr.first_increase is None
    # beyond the stability limit: the first increase is the one of the NumPy loop
    eta = 2.2 / lmax
    a = np.asarray(net.outer, dtype=float)
    losses = []
    for _ in range(40):
        r = phi @ a - f
        losses.append(0.5 * q @ (r * r))
        a = a - eta * (phi.T @ (q * r))
    first = next(k for k in range(1, 40) if losses[k] > losses[k - 1])
    bad = train(net, dom, stepper=Euler(eta), **kw)
    assert not bad.monotone and bad.first_increase == first


@pytest.mark.slow
def test_lanczos_matches_numpy_hessian_nonconvex():
    """Trained biases and tanh: the Hessian is indefinite; with as many Lanczos steps as
    parameters the top Ritz value is NumPy's top eigenvalue of jax.hessian."""
    import jax
    from jax.flatten_util import ravel_pytree

    from spectral_jax.dynamics import top_hessian_eigenvalue

    net, dom = _setup(n=5)
    net = eqx.tree_at(lambda m: m.outer, net, jnp.linspace(-1.0, 1.0, 5))
    params, static = eqx.partition(net, select_trainable(net, "outer,biases"))
    flat, unravel = ravel_pytree(params)

    def loss(v):
        m = eqx.combine(unravel(v), static)
        r = m.batch(dom.nodes) - dom.values
        return 0.5 * jnp.sum(dom.weights * r * r)

    H = np.asarray(jax.hessian(loss)(flat))
    lam = np.linalg.eigvalsh(H)
    assert lam.min() < 0 < lam.max()
    est = top_hessian_eigenvalue(net, dom, trainable="outer,biases", iters=50)
    assert est.iterations == 10 and abs(est.lambda_max - lam.max()) < 1e-9 * lam.max()


def test_get_stepper_and_plain_optax(capsys):
    from spectral_jax.dynamics import get_stepper

    assert isinstance(get_stepper("Euler", 0.1), Euler)
    assert get_stepper("rk4", "auto").auto_factor == 1.0
    st = get_stepper("momentum", 0.05, momentum=0.5)
    assert isinstance(st, OptaxStepper) and st.name == "momentum"
    for args, kw, err, match in [
        (("newton", 0.1), {}, ValueError, "get_stepper: name must be one of"),
        (("adam", 0.1), {"momentum": 0.9}, TypeError, "adam stepper takes no knob 'momentum'"),
        (("adam", "auto"), {}, ValueError, "lr='auto' applies to euler"),
        (("euler", "fast"), {}, ValueError, r"Euler: lr \(step size\) must be .* or 'auto'"),
        (("euler", "auto"), {"auto_factor": 2.5}, ValueError, r"auto_factor must be in \(0, 2\)"),
        (("euler", 0.1), {"auto_factor": 1.0}, ValueError, "auto_factor applies only"),
        (("momentum", 0.1), {"momentum": 1.5}, ValueError, r"momentum must be in \(0, 1\)"),
    ]:
        with pytest.raises(err, match=match):
            get_stepper(*args, **kw)
    # a plain optax transformation = the same optimizer wrapped; quiet by default
    net, dom = _setup()
    kw = dict(steps=6, record_every=3, trainable="outer")
    a = train(net, dom, stepper=optax.sgd(0.05), **kw)
    b = train(net, dom, stepper=OptaxStepper(optax.sgd(0.05)), **kw)
    assert np.array_equal(a.loss, b.loss) and a.metadata["stepper"] == "optax"
    assert capsys.readouterr().err == ""
    with pytest.raises(TypeError, match="stepper must be an AbstractStepper .* or an optax"):
        train(net, dom, stepper="sgd", **kw)


def test_checkpoint_refuses_a_file_it_did_not_write(tmp_path):
    """An existing checkpoint path is refused (unchanged) unless it is the resume file or
    overwrite=True; progress=True draws on stderr and changes no number."""
    from spectral_jax.dynamics import CheckpointError

    net, dom = _setup()
    kw = dict(stepper=Euler(0.1), steps=6, record_every=3, trainable="outer")
    ck = tmp_path / "ck.npz"
    ck.write_bytes(b"precious")
    with pytest.raises(CheckpointError, match="train: checkpoint .* already exists"):
        train(net, dom, checkpoint=ck, **kw)
    assert ck.read_bytes() == b"precious"
    a = train(net, dom, checkpoint=ck, overwrite=True, progress=True, **kw)
    b = train(net, dom, **kw)
    assert np.array_equal(a.loss, b.loss) and ck.read_bytes() != b"precious"
