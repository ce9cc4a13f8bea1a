r"""Kernel regime (frozen breakplanes, convex in the outer weights) and adaptive regime
(every parameter trained, breakplanes tracked over time).

**References:** arXiv 2503.10587, Sec. III-A (kernel regime, Eq. (4)) and Sec. IV
(adaptive regime, breakplane clustering, the switch experiment).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

from .._checks import check_array, check_positive, check_positive_int
from .._types import Array, Float
from ..networks import ShallowNetwork

__all__ = ["kernel_min_norm_fit", "kernel_gradient_descent", "AdaptiveTrajectory", "train_adaptive"]


def kernel_min_norm_fit(
    features: Float[Array, "m n"], y: Float[Array, " m"], *, rcond: float | None = None
) -> Float[Array, " n"]:
    r"""The minimum-norm outer weights $a^\star = \arg\min\{\|a\|_2 : \Phi a = y\}$ (the
    least-squares solution of least norm when $\Phi a = y$ has none), by SVD.

    With frozen $(\xi, \gamma)$ this is the convex problem whose solution gradient descent
    from $a = 0$ reaches (seed 002, Eq. (4)).

    **Raises:** ``ValueError`` for mismatched shapes or non-finite values."""
    where = "kernel_min_norm_fit"
    check_array(features, "features", where, ndim=2)
    check_array(y, "y", where, shape=(features.shape[0],))
    return jnp.linalg.lstsq(features, y, rcond=rcond)[0]


@eqx.filter_jit
def _kernel_gd(features, y, lr, steps: int):
    def step(a, _):
        r = features @ a - y
        a = a - lr * (features.T @ r) / y.shape[0]
        return a, 0.5 * jnp.mean(r * r)

    return jax.lax.scan(step, jnp.zeros(features.shape[1], features.dtype), None, length=steps)


def kernel_gradient_descent(
    features: Float[Array, "m n"],
    y: Float[Array, " m"],
    *,
    steps: int,
    learning_rate: float | None = None,
) -> tuple[Array, Array]:
    r"""Gradient descent from $a = 0$ on $\frac{1}{2m}\|\Phi a - y\|^2$ (outer weights only),
    one jitted ``lax.scan``. Default step $1/\lambda_{\max}(\Phi^\top\Phi/m)$.

    **Returns:** ``(a, losses)``, the final weights and the loss before each step."""
    where = "kernel_gradient_descent"
    check_array(features, "features", where, ndim=2)
    check_array(y, "y", where, shape=(features.shape[0],))
    steps = check_positive_int(steps, "steps", where)
    if learning_rate is None:
        learning_rate = 1.0 / float(jnp.linalg.norm(features, ord=2) ** 2 / features.shape[0])
    lr = check_positive(learning_rate, "learning_rate", where)
    return _kernel_gd(features, y, jnp.asarray(lr, features.dtype), steps)


class AdaptiveTrajectory(eqx.Module):
    r"""A training run with the breakplanes recorded.

    **Fields:** `network` (final), `losses` ``(steps,)``, `times` ``(T,)`` (step of each
    record), `xi` ``(T, n, d)``, `gamma` ``(T, n)``, `mu` ``(T, n)``."""

    network: ShallowNetwork
    losses: Float[Array, " steps"]
    times: Array
    xi: Float[Array, "T n d"]
    gamma: Float[Array, "T n"]
    mu: Float[Array, "T n"]


def _filter(net: ShallowNetwork, train: tuple[str, ...]):
    spec = jax.tree_util.tree_map(lambda _: False, net)
    return eqx.tree_at(
        lambda t: tuple(getattr(t, f) for f in train), spec, replace=(True,) * len(train)
    )


@eqx.filter_jit
def _train(params, static, x, y, opt, n_rec: int, every: int):
    opt_state = opt.init(params)

    def loss_fn(p):
        net = eqx.combine(p, static)
        r = net.batch(x) - y
        return 0.5 * jnp.mean(r * r)

    def inner(carry, _):
        p, s = carry
        loss, g = jax.value_and_grad(loss_fn)(p)
        # optax's bias correction raises a float to an int32 count, which strict dtype
        # promotion refuses: the optimiser runs under the standard rules
        with jax.numpy_dtype_promotion("standard"):
            upd, s = opt.update(g, s, p)
        return (optax.apply_updates(p, upd), s), loss

    def outer(carry, _):
        carry, losses = jax.lax.scan(inner, carry, None, length=every)
        net = eqx.combine(carry[0], static)
        r = jnp.linalg.norm(net.weights, axis=1)
        p = net.activation.homogeneity or 0
        rec = (net.weights / r[:, None], net.biases / r, net.outer * r**p)
        return carry, (losses, rec)

    (params, _), (losses, rec) = jax.lax.scan(outer, (params, opt_state), None, length=n_rec)
    return params, losses.reshape(-1), rec


def train_adaptive(
    net: ShallowNetwork,
    x: Float[Array, "m d"],
    y: Float[Array, " m"],
    *,
    steps: int,
    learning_rate: float = 1e-2,
    record_every: int = 10,
    train: tuple[str, ...] = ("outer", "weights", "biases"),
    optimizer: str = "sgd",
) -> AdaptiveTrajectory:
    r"""Train a shallow network on $\frac{1}{2m}\sum_l (h(x_l) - y_l)^2$ with optax in one
    jitted ``lax.scan``, recording $(\xi, \gamma, \mu)$ every `record_every` steps.

    `train` picks the trained fields: all of them is the adaptive regime, ``("outer",)``
    the kernel regime (breakplanes frozen). The switch experiment of the seed is two calls:
    adaptive, then frozen from the adaptive end point.

    **Raises:** ``ValueError`` for bad sizes, fields or optimizer."""
    where = "train_adaptive"
    steps = check_positive_int(steps, "steps", where)
    every = check_positive_int(record_every, "record_every", where)
    lr = check_positive(learning_rate, "learning_rate", where)
    if steps % every:
        raise ValueError(f"{where}: steps ({steps}) must be a multiple of record_every ({every})")
    bad = set(train) - {"outer", "weights", "biases"}
    if not train or bad:
        raise ValueError(
            f"{where}: train must be a non-empty subset of ('outer', 'weights', 'biases'); got "
            f"{train!r}"
        )
    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"{where}: optimizer must be 'sgd' or 'adam'; got {optimizer!r}")
    check_array(x, "x", where, shape=(None, net.dim))
    check_array(y, "y", where, shape=(x.shape[0],))
    opt = optax.sgd(lr) if optimizer == "sgd" else optax.adam(lr)
    params, static = eqx.partition(net, _filter(net, tuple(train)))
    params, losses, (xi, gamma, mu) = _train(
        params, static, jnp.asarray(x), jnp.asarray(y), opt, steps // every, every
    )
    times = jnp.arange(1, steps // every + 1) * every
    return AdaptiveTrajectory(eqx.combine(params, static), losses, times, xi, gamma, mu)
