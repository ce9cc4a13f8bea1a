r"""The training engine shared by `train` and `train_many`: the problem, one guarded step,
a record, and the jitted nested `lax.scan`.

**The carry** of a run is the tuple ``(params, prev, state, last_loss, first_increase,
step, failed, why)``: the trainable parameters, the last good parameters, the stepper
state, the loss at the previous step, the first step at which the loss increased (or
$-1$), the step counter, the first rejected step (or $-1$) and why it was rejected
(0 none, 1 non-finite, 2 diverged). Its leaves, in this order, are what a checkpoint
stores.

**Monotonicity.** Each step computes $E_k=E(\theta_k)$ for its update anyway; the carry
keeps the first $k$ with $E_k>E_{k-1}+64\,\varepsilon\,(E_0+E_{k-1})$ ($\varepsilon$ the
dtype's machine epsilon: rounding of the residual alone stays below it). Gradient descent
at a step size $\eta<2/\lambda_{\max}(\nabla^2E)$ on a quadratic loss never triggers it.

**References:** seeds 000/001 (training dynamics), Welper 2023 (seed 003).
"""

from __future__ import annotations

import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
from jax.flatten_util import ravel_pytree

from .._checks import check_positive_int
from .._memory import array_bytes
from ._fast1d import fast1d_order, fast1d_outputs, fast1d_sorted_outputs
from ._modes import ModeTracker
from ._problem import LossDomain, fast1d_applies, model_outputs, select_trainable
from ._steppers import AbstractStepper

__all__ = [
    "TrainingProblem",
    "record",
    "guarded_step",
    "guarded_steps",
    "checked_record",
    "run_records",
    "initial_carry",
    "setup",
    "check_run_args",
    "check_divergence_factor",
    "run_metadata",
    "records_bytes",
    "chunk_records",
    "first_increase",
]

#: the tolerance factor of the monotonicity check, in units of eps * (E_0 + E_{k-1})
MONOTONE_TOL = 64.0


class TrainingProblem(eqx.Module):
    r"""The loss $E(\theta)=\tfrac12\sum_l q_l(h_\theta(x_l)-f_l)^2$ of the trainable part
    ``params`` of a model (the static rest is held here), as every stepper sees it.

    On the fast 1D path the nodes are sorted once here (`sorted_nodes`, with weights and
    target values in the same order), so a step runs no sort and the loss needs no
    permutation; `outputs`/`residual` are in the original node order.

    **Methods:** `outputs(params)` $=h(x_l)$, `residual(params)` $=h-f$, `loss(params)`,
    `grad(params)`, `loss_and_grad(params)`; `weights` $=q$.
    """

    static: Any
    dom: LossDomain
    fast1d: bool = eqx.field(static=True)
    order: Any
    sorted_nodes: Any
    sorted_weights: Any
    sorted_values: Any

    def __init__(self, static, dom, fast1d, order=None):
        self.static = static
        self.dom = dom
        self.fast1d = bool(fast1d)
        if self.fast1d:
            order = fast1d_order(dom.nodes[:, 0]) if order is None else order
            self.order = order
            self.sorted_nodes = dom.nodes[order, 0]
            self.sorted_weights = dom.weights[order]
            self.sorted_values = dom.values[order]
        else:
            self.order = self.sorted_nodes = self.sorted_weights = self.sorted_values = None

    @property
    def weights(self):
        return self.dom.weights

    def outputs(self, params):
        model = eqx.combine(params, self.static)
        if self.fast1d:
            return fast1d_outputs(model, self.dom.nodes[:, 0], order=self.order)
        return model_outputs(model, self.dom.nodes)

    def residual(self, params):
        return self.outputs(params) - self.dom.values

    def loss(self, params):
        if self.fast1d:  # the loss is permutation invariant: stay in sorted order
            model = eqx.combine(params, self.static)
            r = fast1d_sorted_outputs(model, self.sorted_nodes) - self.sorted_values
            return 0.5 * jnp.sum(self.sorted_weights * r * r)
        r = self.residual(params)
        return 0.5 * jnp.sum(self.dom.weights * r * r)

    def loss_and_grad(self, params):
        return jax.value_and_grad(self.loss)(params)

    def grad(self, params):
        return jax.grad(self.loss)(params)


def _finite_tree(t):
    leaves = jtu.tree_leaves(t)
    return jnp.all(jnp.asarray([jnp.all(jnp.isfinite(x)) for x in leaves]))


def record(problem, stepper, tracker, params, state, flat0, nrm0):
    """One record: loss, parameter norm, relative and max drift, and mode errors."""
    r = stepper.residual(problem, params, state)
    loss = 0.5 * jnp.sum(problem.weights * r * r)
    flat, _ = ravel_pytree(params)
    d = flat - flat0
    rec = dict(
        loss=loss,
        param_norm=jnp.linalg.norm(flat),
        drift=jnp.linalg.norm(d) / nrm0,
        drift_max=jnp.max(jnp.abs(d)),
    )
    if tracker is not None:
        rec["mode_errors"] = tracker.errors(r, problem.weights)
    return rec


def initial_carry(params, state, loss0):
    """The carry at step 0 (see the module docstring)."""
    i32 = lambda v: jnp.asarray(v, jnp.int32)  # noqa: E731
    loss0 = jnp.asarray(loss0)
    return (params, params, state, loss0, i32(-1), i32(0), i32(-1), i32(0))


def guarded_step(problem, stepper, c, limit=None, loss0=None):
    """One guarded step on the carry (see the module docstring).

    A state is rejected when its loss is non-finite or (with `limit`: reason code 2
    "diverged") above `limit`, or when the update is non-finite; from then on the carry
    keeps the last good state. With `loss0` (the initial loss) the first step whose loss
    exceeds the previous one is kept in the carry."""
    params, prev, state, last, first_up, step, failed, why = c
    new_p, new_s, loss = stepper.step(problem, params, state)
    finite = jnp.isfinite(loss)
    good = finite if limit is None else finite & (loss <= limit)  # params is a good state
    ok = (failed < 0) & good & _finite_tree(new_p)
    keep = lambda a, b: jnp.where(ok, a, b)  # noqa: E731
    # on failure keep the last good state: params if it is good (the update overflowed),
    # else prev (params itself was bad)
    last_good = jtu.tree_map(lambda a, b: jnp.where(good, a, b), params, prev)
    new_prev = jtu.tree_map(keep, params, prev)
    params = jtu.tree_map(
        lambda a, b: jnp.where(ok, a, b),
        new_p,
        jtu.tree_map(lambda a, b: jnp.where(failed < 0, a, b), last_good, params),
    )
    state = jtu.tree_map(keep, new_s, state)
    newly = (failed < 0) & ~ok
    # monotonicity: the loss at step `step` against the one at step - 1
    loss = loss.astype(last.dtype)
    if loss0 is not None:
        eps = jnp.finfo(last.dtype).eps
        up = (step > 0) & good & (failed < 0) & (loss > last + MONOTONE_TOL * eps * (loss0 + last))
        first_up = jnp.where((first_up < 0) & up, step, first_up)
    last = jnp.where((failed < 0) & good, loss, last)
    failed = jnp.where(newly, jnp.where(good, step + 1, step), failed)
    code = jnp.where(finite & ~good, 2, 1).astype(why.dtype)
    why = jnp.where(newly, code, why)
    return (params, new_prev, state, last, first_up, step + 1, failed, why)


def guarded_steps(problem, stepper, c, n, limit=None, loss0=None):
    """`n` guarded steps as one `lax.scan`."""
    c, _ = jax.lax.scan(
        lambda cc, _: (guarded_step(problem, stepper, cc, limit, loss0), None), c, None, length=n
    )
    return c


def checked_record(problem, stepper, tracker, c, flat0, nrm0, limit):
    """The record of the carry `c`, after rejecting its state if the recorded loss is
    non-finite or above `limit`: a bad state is otherwise only seen by the next step, and
    the record would show it once before the run falls back to the last good state. The
    check reuses the record's loss; the fallback runs only when needed."""
    rec = record(problem, stepper, tracker, c[0], c[2], flat0, nrm0)
    params, prev, state, last, first_up, step, failed, why = c
    loss = rec["loss"]
    bad = (failed < 0) & ~(jnp.isfinite(loss) & (loss <= limit))

    def reject(_):
        code = jnp.where(jnp.isfinite(loss), 2, 1).astype(why.dtype)
        back = (prev, prev, state, last, first_up, step, step, code)
        return back, record(problem, stepper, tracker, prev, state, flat0, nrm0)

    return jax.lax.cond(bad, reject, lambda _: (c, rec), None)


@eqx.filter_jit
def run_records(problem, stepper, tracker, carry, flat0, nrm0, limit, loss0, n_records, every):
    """`n_records` records, `every` guarded steps apart: ONE jitted nested `lax.scan`."""

    def chunk(c, _):
        c = guarded_steps(problem, stepper, c, every, limit, loss0)
        return checked_record(problem, stepper, tracker, c, flat0, nrm0, limit)

    return jax.lax.scan(chunk, carry, None, length=n_records)


def first_increase(carry) -> int | None:
    """The first step whose loss exceeded the previous step's, from a (final) carry."""
    k = int(np.asarray(carry[4]))
    return None if k < 0 else k


def chunk_records(n_records: int, parts: int) -> int:
    """Records per chunk to split `n_records` into about `parts` chunks; a divisor of
    `n_records` near ``n_records / parts`` when there is one, so that all chunks have
    one length and the scan compiles once."""
    base = max(1, -(-n_records // parts))
    for d in range(base, min(n_records, 2 * base) + 1):
        if n_records % d == 0:
            return d
    return base


def check_divergence_factor(factor, where):
    if isinstance(factor, bool) or not isinstance(factor, (int, float, np.integer, np.floating)):
        raise TypeError(
            f"{where}: divergence_factor must be a real number > 1 (inf: never stop); got "
            f"{factor!r}"
        )
    factor = float(factor)
    if not factor > 1:  # also NaN
        raise ValueError(
            f"{where}: divergence_factor must be a real number > 1 (inf: never stop); got {factor}"
        )
    return factor


def divergence_limit(factor: float, loss0: float, dtype):
    """The loss above which a state is rejected as diverged (``inf``: never)."""
    limit = factor * loss0 if math.isfinite(factor * loss0) and loss0 > 0 else math.inf
    return jnp.asarray(limit, dtype)


def records_bytes(n_records: int, n_modes: int, dtype) -> int:
    """Peak bytes of the records a run keeps: ``n_records + 1`` rows (the initial state and
    one per record) of ``4 + n_modes`` values (loss, parameter norm, drift, largest drift
    and the `n_modes` mode errors) in `dtype`, counted three times (the device output, its
    host copy and their concatenation). `train` checks it before running (`train_many`:
    times the number of networks); use it to size ``steps // record_every`` or
    ``saveat_times``.

    **Returns:** an ``int`` number of bytes."""
    return 3 * array_bytes(n_records + 1, 4 + n_modes, dtype=dtype)


def check_run_args(steps, record_every, dom, stepper, mode_tracker, where):
    """The argument checks shared by `train` and `train_many`; returns the ints."""
    steps = check_positive_int(steps, "steps", where)
    record_every = check_positive_int(record_every, "record_every", where)
    if record_every > steps:
        raise ValueError(
            f"{where}: record_every must be <= steps; got record_every={record_every}, "
            f"steps={steps}"
        )
    if steps % record_every:
        raise ValueError(
            f"{where}: steps must be a multiple of record_every; got steps={steps}, "
            f"record_every={record_every}"
        )
    if not isinstance(dom, LossDomain):
        raise TypeError(
            f"{where}: dom must be a LossDomain (see loss_domain); got {type(dom).__name__}"
        )
    if not isinstance(stepper, AbstractStepper):
        raise TypeError(
            f"{where}: stepper must be an AbstractStepper (Euler, RK4, ...) or an optax "
            f"GradientTransformation; got {type(stepper).__name__}"
        )
    if mode_tracker is not None and (
        not isinstance(mode_tracker, ModeTracker) or mode_tracker.basis.shape[1] != dom.size
    ):
        raise ValueError(
            f"{where}: mode_tracker must be a ModeTracker built on the same loss nodes "
            f"({dom.size}); got {type(mode_tracker).__name__}"
            + (
                f" with {mode_tracker.basis.shape[1]} nodes"
                if isinstance(mode_tracker, ModeTracker)
                else ""
            )
        )
    return steps, record_every


def stepper_lr(stepper) -> float | None:
    lr = getattr(stepper, "lr", None)
    return None if lr is None else float(lr)


def run_metadata(stepper, steps, record_every, use_fast, dom, flat0, trainable, elapsed, **extra):
    """The metadata both `train` and `train_many` record (``flat0``: one network's
    flattened trainable parameters), plus ``extra``."""
    return dict(
        stepper=stepper.name,
        lr=stepper_lr(stepper),
        steps=steps,
        record_every=record_every,
        fast1d=use_fast,
        nodes=dom.size,
        n_params=int(flat0.size),
        trainable=str(trainable) if isinstance(trainable, str) else "filter",
        wall_s=elapsed,
        dtype=str(flat0.dtype),
        **extra,
    )


def setup(model, dom, trainable, fast1d, where):
    """Shared by `train`, `train_many` and `gradient_flow`: the trainable spec, whether
    the fast 1D path applies, the `TrainingProblem`, and the (params, static) split of
    `model`, after checking that the model gives one scalar per loss node."""
    spec = select_trainable(model, trainable, where)
    params, static = eqx.partition(model, spec)
    use_fast = fast1d_applies(model, dom) if fast1d == "auto" else bool(fast1d)
    if use_fast and not fast1d_applies(model, dom):
        raise ValueError(
            f"{where}: fast1d=True needs a 1-D ShallowNetwork with a ReLU^p activation"
        )
    problem = TrainingProblem(static, dom, use_fast)
    try:
        h0 = problem.outputs(params)
    except (ValueError, TypeError) as err:
        raise ValueError(
            f"{where}: the model cannot be evaluated on the loss nodes of shape "
            f"{tuple(dom.nodes.shape)}: {err}"
        ) from err
    if h0.shape != (dom.size,):
        raise ValueError(
            f"{where}: the model must give one scalar per node; got outputs of shape {h0.shape}"
        )
    return spec, use_fast, problem, params, static
