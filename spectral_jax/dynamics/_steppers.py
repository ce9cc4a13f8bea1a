r"""Steppers for the gradient flow $\dot\theta=-\nabla E(\theta)$ (Diffrax-like shape).

Each stepper has ``init(problem, params) -> state`` and
``step(problem, params, state) -> (params, state, loss)`` where `loss` is $E$ at the
incoming parameters. `params` is the trainable part of the model (``eqx.partition``).

| stepper | scheme | local error |
|---|---|---|
| `Euler(lr)` | $\theta_{k+1}=\theta_k-\eta\nabla E$ (gradient descent) | $O(\eta^2)$ |
| `RK4(lr)` | classical Runge–Kutta on the flow | $O(\eta^5)$ |
| `OptaxStepper(opt)` | any optax optimizer (SGD, momentum, Adam) | — |
| `LinearisedFlow(lr)` | exact flow of the NTK-linearised model at $\theta_0$ | exact in time |
| `ExpEuler(lr)` | exponential Euler, Gauss–Newton $G=J^TQJ$ | exact for quadratic $E$ |

**References:** seeds 000/001 (training dynamics), Welper 2023 (seed 003).
"""

from __future__ import annotations

import abc
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

from .._checks import check_positive
from .._types import Array

__all__ = [
    "AbstractStepper",
    "Euler",
    "RK4",
    "OptaxStepper",
    "LinearisedFlow",
    "ExpEuler",
    "get_stepper",
    "STEPPER_NAMES",
]


def _axpy(alpha, x, y):
    return jtu.tree_map(lambda a, b: b + alpha * a, x, y)


def _check_lr(lr, where):
    try:
        return check_positive(lr, "lr (step size)", where)
    except TypeError as err:
        raise TypeError(
            f"{where}: lr (step size) must be a positive real number; got {lr!r}"
        ) from err


#: ``lr="auto"``: the default factor c of the step size c / lambda_max
AUTO_FACTOR = 1.0


def _lr_or_auto(lr, auto_factor, where):
    r"""``(lr array, None)`` for a number; ``(None, c)`` for ``"auto"`` (resolved by `train`
    from the top Hessian eigenvalue: $\eta=c/\lambda_{\max}$)."""
    if isinstance(lr, str):
        if lr.strip().lower() != "auto":
            raise ValueError(
                f"{where}: lr (step size) must be a positive real number or 'auto'; got {lr!r}"
            )
        c = AUTO_FACTOR if auto_factor is None else auto_factor
        if isinstance(c, bool) or not isinstance(c, (int, float, np.integer, np.floating)):
            raise TypeError(f"{where}: auto_factor must be a real number in (0, 2); got {c!r}")
        c = float(c)
        if not 0 < c < 2:
            raise ValueError(
                f"{where}: auto_factor must be in (0, 2) (gradient descent is stable for "
                f"lr < 2 / lambda_max); got {c}"
            )
        return None, c
    if auto_factor is not None:
        raise ValueError(f"{where}: auto_factor applies only with lr='auto'; got lr={lr!r}")
    return jnp.asarray(_check_lr(lr, where)), None


def _phi1(z):
    """$(1-e^{-z})/z$ with the limit 1 at $z=0$."""
    small = jnp.abs(z) < 1e-8
    zs = jnp.where(small, 1.0, z)
    return jnp.where(small, 1.0 - z / 2, -jnp.expm1(-zs) / zs)


class AbstractStepper(eqx.Module):
    r"""Base class of the steppers (Equinox's abstract/final rule: every stepper is a final
    class that defines all of these).

    - `name`: a short name (a property).
    - ``init(problem, params) -> state``: the stepper's state (``None`` if it has none).
    - ``step(problem, params, state) -> (params, state, loss)``, `loss` being $E$ at the
      incoming `params`.
    - ``residual(problem, params, state)``: the residual $h-f$ at the nodes that this
      stepper's dynamics see (``problem.residual(params)`` except for linearised models).

    `problem` is the engine's `TrainingProblem` (``loss``, ``grad``, ``loss_and_grad``,
    ``outputs``, ``residual``, ``weights``)."""

    @property
    @abc.abstractmethod
    def name(self) -> str: ...

    @abc.abstractmethod
    def init(self, problem, params) -> Any: ...

    @abc.abstractmethod
    def step(self, problem, params, state): ...

    @abc.abstractmethod
    def residual(self, problem, params, state): ...


class Euler(AbstractStepper):
    r"""Explicit Euler $\theta_{k+1}=\theta_k-\eta\nabla E(\theta_k)$ = gradient descent.

    Stable on a quadratic $E$ iff $\eta<2/\lambda_{\max}(\nabla^2E)$."""

    lr: Array | None
    auto_factor: float | None = eqx.field(static=True)

    def __init__(self, lr: float | str, *, auto_factor: float | None = None):
        self.lr, self.auto_factor = _lr_or_auto(lr, auto_factor, "Euler")

    @property
    def name(self) -> str:
        return "euler"

    def init(self, problem, params):
        return None

    def residual(self, problem, params, state):
        return problem.residual(params)

    def step(self, problem, params, state):
        loss, g = problem.loss_and_grad(params)
        return _axpy(-self.lr, g, params), state, loss


class RK4(AbstractStepper):
    r"""Classical 4th-order Runge–Kutta on $\dot\theta=-\nabla E(\theta)$ with step $\eta$."""

    lr: Array | None
    auto_factor: float | None = eqx.field(static=True)

    def __init__(self, lr: float | str, *, auto_factor: float | None = None):
        self.lr, self.auto_factor = _lr_or_auto(lr, auto_factor, "RK4")

    @property
    def name(self) -> str:
        return "rk4"

    def init(self, problem, params):
        return None

    def residual(self, problem, params, state):
        return problem.residual(params)

    def step(self, problem, params, state):
        h = self.lr
        loss, k1 = problem.loss_and_grad(params)
        k2 = problem.grad(_axpy(-h / 2, k1, params))
        k3 = problem.grad(_axpy(-h / 2, k2, params))
        k4 = problem.grad(_axpy(-h, k3, params))
        inc = jtu.tree_map(lambda a, b, c, d: (a + 2 * b + 2 * c + d) / 6, k1, k2, k3, k4)
        return _axpy(-h, inc, params), state, loss


class OptaxStepper(AbstractStepper):
    """Any ``optax.GradientTransformation`` (``optax.sgd``, ``optax.adam``, ...).

    ``lr``: the optimizer's step size, if known (recorded in the run's metadata and shown
    by the command line; optax does not expose it, so it is given here)."""

    optimizer: optax.GradientTransformation = eqx.field(static=True)
    label: str = eqx.field(static=True)
    lr: float | None = eqx.field(static=True)

    def __init__(
        self,
        optimizer: optax.GradientTransformation,
        label: str = "optax",
        *,
        lr: float | None = None,
    ):
        if not isinstance(optimizer, optax.GradientTransformation):
            raise TypeError(
                "OptaxStepper: optimizer must be an optax.GradientTransformation; got "
                f"{type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        self.label = str(label)
        self.lr = None if lr is None else float(lr)

    @property
    def name(self) -> str:
        return self.label

    def init(self, problem, params):
        return self.optimizer.init(params)

    def residual(self, problem, params, state):
        return problem.residual(params)

    def step(self, problem, params, state):
        loss, g = problem.loss_and_grad(params)
        # optax's own arithmetic (e.g. Adam's bias correction: float ** int32 step count)
        # relies on JAX's standard promotion; keep it working under strict promotion
        with jax.numpy_dtype_promotion("standard"):
            updates, state = self.optimizer.update(g, state, params)
        return optax.apply_updates(params, updates), state, loss


def _jacobian(problem, params):
    flat0, unravel = ravel_pytree(params)
    J = jax.jacfwd(lambda v: problem.outputs(unravel(v)))(flat0)
    return flat0, unravel, J


class LinearisedFlow(AbstractStepper):
    r"""Exact gradient flow of the linearised model $h_0+J(\theta-\theta_0)$ (the NTK flow).

    With $G=J^TQJ=U\Lambda U^T$ and $g_0=J^TQr_0$, the flow
    $\dot\delta=-g_0-G\delta$ is advanced exactly by
    $\delta_{k+1}=e^{-\eta G}\delta_k-\eta\,\varphi_1(\eta G)g_0$, $\varphi_1(z)=(1-e^{-z})/z$;
    the residual is $r_0+J\delta$, i.e. $r(t)=e^{-tJ J^TQ}r_0$ (the NTK eigenmodes decay as
    $e^{-\lambda t}$). Costs $O(NP^2+P^3)$ once; use it for $P\lesssim$ a few thousand.
    """

    lr: Array | None
    auto_factor: float | None = eqx.field(static=True)

    def __init__(self, lr: float | str, *, auto_factor: float | None = None):
        self.lr, self.auto_factor = _lr_or_auto(lr, auto_factor, "LinearisedFlow")

    @property
    def name(self) -> str:
        return "linearised"

    def init(self, problem, params):
        flat0, _, J = _jacobian(problem, params)
        r0 = problem.residual(params)
        q = problem.weights
        G = J.T @ (q[:, None] * J)
        lam, U = jnp.linalg.eigh(G)
        lam = jnp.maximum(lam, 0.0)
        g0 = J.T @ (q * r0)
        return dict(flat0=flat0, J=J, r0=r0, U=U, lam=lam, g0=g0)

    def residual(self, problem, params, state):
        flat, _ = ravel_pytree(params)
        return state["r0"] + state["J"] @ (flat - state["flat0"])

    def step(self, problem, params, state):
        flat, unravel = ravel_pytree(params)
        d = flat - state["flat0"]
        r = state["r0"] + state["J"] @ d
        loss = 0.5 * jnp.sum(problem.weights * r**2)
        U, lam, h = state["U"], state["lam"], self.lr
        dn = U @ (jnp.exp(-h * lam) * (U.T @ d) - h * _phi1(h * lam) * (U.T @ state["g0"]))
        return unravel(state["flat0"] + dn), state, loss


class ExpEuler(AbstractStepper):
    r"""Exponential (Rosenbrock–)Euler with the Gauss–Newton matrix.

    $\theta_{k+1}=\theta_k-\eta\,\varphi_1(\eta G_k)\nabla E(\theta_k)$ with
    $G_k=J_k^TQJ_k$, $\varphi_1(z)=(1-e^{-z})/z$. For a loss quadratic in the trainable
    parameters (outer weights only) it is the exact flow for every $\eta$ (no
    $\eta<2/\lambda_{\max}$ limit). Costs $O(NP^2+P^3)$ per step.
    """

    lr: Array | None
    auto_factor: float | None = eqx.field(static=True)

    def __init__(self, lr: float | str, *, auto_factor: float | None = None):
        self.lr, self.auto_factor = _lr_or_auto(lr, auto_factor, "ExpEuler")

    @property
    def name(self) -> str:
        return "expeuler"

    def init(self, problem, params):
        return None

    def residual(self, problem, params, state):
        return problem.residual(params)

    def step(self, problem, params, state):
        flat, unravel, J = _jacobian(problem, params)
        loss, g = problem.loss_and_grad(params)
        gf, _ = ravel_pytree(g)
        q = problem.weights
        lam, U = jnp.linalg.eigh(J.T @ (q[:, None] * J))
        lam = jnp.maximum(lam, 0.0)
        h = self.lr
        step = U @ (h * _phi1(h * lam) * (U.T @ gf))
        return unravel(flat - step), state, loss


#: the stepper names of `get_stepper` and the knobs each accepts (besides `lr`)
_KNOBS = {
    "euler": ("auto_factor",),
    "rk4": ("auto_factor",),
    "linearised": ("auto_factor",),
    "expeuler": ("auto_factor",),
    "sgd": (),
    "momentum": ("momentum", "nesterov"),
    "adam": ("b1", "b2", "eps"),
}
STEPPER_NAMES = tuple(_KNOBS)


def get_stepper(name: str, lr: float | str, **knobs: Any) -> AbstractStepper:
    r"""A stepper by name: the documented shorthands of the command line and the report.

    | name | stepper |
    |---|---|
    | ``"euler"`` | `Euler(lr)` (gradient descent) |
    | ``"rk4"`` | `RK4(lr)` |
    | ``"linearised"`` | `LinearisedFlow(lr)` |
    | ``"expeuler"`` | `ExpEuler(lr)` |
    | ``"sgd"`` | ``OptaxStepper(optax.sgd(lr), "sgd")`` |
    | ``"momentum"`` | ``OptaxStepper(optax.sgd(lr, momentum, nesterov), "momentum")`` |
    | ``"adam"`` | ``OptaxStepper(optax.adam(lr, b1, b2, eps), "adam")`` |

    **Arguments:**

    - `name`: one of the names above (case-insensitive).
    - `lr`: the step size $\eta>0$; or ``"auto"`` for the first four: $\eta=c/\lambda_{\max}$
      with $\lambda_{\max}$ the top eigenvalue of the Hessian $\nabla^2E$ at the initial
      point (measured by `train` with Lanczos on Hessian-vector products) and
      $c$ = `auto_factor` (default 1; must be in $(0,2)$, the stability limit of gradient
      descent on a quadratic).
    - `knobs`: only those of the chosen stepper: `auto_factor` (with ``lr="auto"``);
      `momentum` (default 0.9), `nesterov` (default ``False``); `b1`, `b2`, `eps` (Adam,
      optax's defaults).

    **Returns:** an `AbstractStepper`.

    **Raises:** ``ValueError`` for an unknown name or ``lr="auto"`` with an optax
    stepper, ``TypeError`` for a knob the stepper does not take, and the steppers' own
    errors for a bad `lr`.

    !!! Example
        ```python
        get_stepper("momentum", 0.01, momentum=0.8)
        get_stepper("euler", "auto", auto_factor=1.5)
        ```
    """
    where = "get_stepper"
    key = name.strip().lower() if isinstance(name, str) else None
    if key not in _KNOBS:
        raise ValueError(f"{where}: name must be one of {', '.join(STEPPER_NAMES)}; got {name!r}")
    extra = sorted(set(knobs) - set(_KNOBS[key]))
    if extra:
        allowed = ", ".join(_KNOBS[key]) or "none"
        raise TypeError(
            f"{where}: the {key} stepper takes no knob {', '.join(map(repr, extra))} "
            f"(its knobs: {allowed})"
        )
    simple = dict(euler=Euler, rk4=RK4, linearised=LinearisedFlow, expeuler=ExpEuler)
    if key in simple:
        return simple[key](lr, **knobs)
    if isinstance(lr, str):
        raise ValueError(
            f"{where}: lr='auto' applies to {', '.join(simple)}; the {key} stepper needs a "
            f"positive real lr; got {lr!r}"
        )
    lr = _check_lr(lr, f"{where}: {key}")
    if key == "sgd":
        opt = optax.sgd(lr)
    elif key == "momentum":
        mom = check_positive(knobs.get("momentum", 0.9), "momentum", where)
        if mom >= 1:
            raise ValueError(f"{where}: momentum must be in (0, 1); got {mom}")
        opt = optax.sgd(lr, momentum=mom, nesterov=bool(knobs.get("nesterov", False)))
    else:
        opt = optax.adam(lr, **{k: float(v) for k, v in knobs.items()})
    return OptaxStepper(opt, key, lr=lr)
