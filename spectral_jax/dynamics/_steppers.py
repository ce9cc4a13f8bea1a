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
import optax
from jax.flatten_util import ravel_pytree

from .._checks import check_positive
from .._types import Array

__all__ = ["AbstractStepper", "Euler", "RK4", "OptaxStepper", "LinearisedFlow", "ExpEuler"]


def _axpy(alpha, x, y):
    return jtu.tree_map(lambda a, b: b + alpha * a, x, y)


def _check_lr(lr, where):
    try:
        return check_positive(lr, "lr (step size)", where)
    except TypeError as err:
        raise TypeError(
            f"{where}: lr (step size) must be a positive real number; got {lr!r}"
        ) from err


def _phi1(z):
    """$(1-e^{-z})/z$ with the limit 1 at $z=0$."""
    small = jnp.abs(z) < 1e-8
    zs = jnp.where(small, 1.0, z)
    return jnp.where(small, 1.0 - z / 2, -jnp.expm1(-zs) / zs)


class AbstractStepper(eqx.Module):
    """Base class: `init`, `step` and (optionally) `residual`."""

    @property
    @abc.abstractmethod
    def name(self) -> str: ...

    def init(self, problem, params) -> Any:
        return None

    @abc.abstractmethod
    def step(self, problem, params, state): ...

    def residual(self, problem, params, state):
        """The residual $h-f$ at the nodes that this stepper's dynamics see."""
        return problem.residual(params)


class Euler(AbstractStepper):
    r"""Explicit Euler $\theta_{k+1}=\theta_k-\eta\nabla E(\theta_k)$ = gradient descent.

    Stable on a quadratic $E$ iff $\eta<2/\lambda_{\max}(\nabla^2E)$."""

    lr: Array

    def __init__(self, lr: float):
        self.lr = jnp.asarray(_check_lr(lr, "Euler"))

    @property
    def name(self) -> str:
        return "euler"

    def step(self, problem, params, state):
        loss, g = problem.loss_and_grad(params)
        return _axpy(-self.lr, g, params), state, loss


class RK4(AbstractStepper):
    r"""Classical 4th-order Runge–Kutta on $\dot\theta=-\nabla E(\theta)$ with step $\eta$."""

    lr: Array

    def __init__(self, lr: float):
        self.lr = jnp.asarray(_check_lr(lr, "RK4"))

    @property
    def name(self) -> str:
        return "rk4"

    def step(self, problem, params, state):
        h = self.lr
        loss, k1 = problem.loss_and_grad(params)
        k2 = problem.grad(_axpy(-h / 2, k1, params))
        k3 = problem.grad(_axpy(-h / 2, k2, params))
        k4 = problem.grad(_axpy(-h, k3, params))
        inc = jtu.tree_map(lambda a, b, c, d: (a + 2 * b + 2 * c + d) / 6, k1, k2, k3, k4)
        return _axpy(-h, inc, params), state, loss


class OptaxStepper(AbstractStepper):
    """Any ``optax.GradientTransformation`` (``optax.sgd``, ``optax.adam``, ...)."""

    optimizer: optax.GradientTransformation = eqx.field(static=True)
    label: str = eqx.field(static=True, default="optax")

    @property
    def name(self) -> str:
        return self.label

    def init(self, problem, params):
        return self.optimizer.init(params)

    def step(self, problem, params, state):
        loss, g = problem.loss_and_grad(params)
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

    lr: Array

    def __init__(self, lr: float):
        self.lr = jnp.asarray(_check_lr(lr, "LinearisedFlow"))

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

    lr: Array

    def __init__(self, lr: float):
        self.lr = jnp.asarray(_check_lr(lr, "ExpEuler"))

    @property
    def name(self) -> str:
        return "expeuler"

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
