r"""Fast 1D path: a ReLU$^p$ shallow network on $N$ points in $O(n\log N+N)$ per step.

For $w_i\ne0$ write $t_i=b_i/w_i$, so $\sigma(w_ix-b_i)=w_i^p(x-t_i)^p$ where active
($x>t_i$ if $w_i>0$, $x<t_i$ if $w_i<0$). Expanding
$(x-t)^p=\sum_k\binom pk x^k(-t)^{p-k}$,

$$h(x)=c+\sum_{k=0}^p x^k\Big[\sum_{w_i>0,\,t_i<x}C_{ik}+\sum_{w_i<0,\,t_i>x}C_{ik}\Big],
\qquad C_{ik}=a_i w_i^p\tbinom pk(-t_i)^{p-k}.$$

The nodes $x_l$ are fixed during training, so they are sorted **once** (`fast1d_order`).
Per evaluation, ``searchsorted(x_sorted, t_i)`` gives each neuron's bin, the coefficients
$C_{ik}$ are scatter-added into the $N+1$ node bins and a cumulative sum over the nodes
reads each bracket: $O(n\log N+N)$, no sort. Neurons with $w_i=0$ are constants.
Reverse mode stays cheap: the transpose of a scatter-add is a gather and that of a
cumulative sum a reversed cumulative sum, so no $N\times n$ array is ever formed.

**References:** the issue's performance item (seed 003's 1D setting, Welper 2023).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from .._types import Array, Float, Int
from ..networks import ShallowNetwork

__all__ = ["fast1d_outputs", "fast1d_order"]


def fast1d_order(x: Float[Array, " N"]) -> Int[Array, " N"]:
    r"""The permutation that sorts the nodes `x` (shape ``(N,)`` or ``(N, 1)``).

    Compute it once for fixed nodes and pass it to `fast1d_outputs` as ``order=``; then
    no sort runs per evaluation.
    """
    return jnp.argsort(jax.lax.stop_gradient(jnp.reshape(x, (-1,))))


def fast1d_sorted_outputs(model: ShallowNetwork, xs: Float[Array, " N"]) -> Float[Array, " N"]:
    r"""$h$ at the ascending nodes `xs` by one scatter-add and one cumulative sum (internal;
    the model is assumed valid: `fast1d_outputs` checks it)."""
    p = model.activation.piecewise_degree
    a, w, b = model.outer, model.weights[:, 0], model.biases
    N = xs.shape[0]
    zero = w == 0
    ws = jnp.where(zero, 1.0, w)
    t = b / ws
    xsg = jax.lax.stop_gradient(xs)
    tg = jax.lax.stop_gradient(t)
    # w > 0: active on x > t, i.e. sorted nodes k >= #{x <= t}; w < 0: active on x < t,
    # i.e. k < #{x < t}. Ties x == t are inactive (sigma(0) = 0, sigma'(0) = 0).
    j_pos = jnp.searchsorted(xsg, tg, side="right")
    j_neg = jnp.searchsorted(xsg, tg, side="left")
    # w == 0 neurons: the constant a*sigma(-b)^p, plus s*x (s = 0 in value) carrying their
    # exact first derivative in w, a_i sigma'(-b_i) x
    const = jnp.sum(jnp.where(zero, a * model.activation(-b), 0.0))
    dact = jax.vmap(jax.grad(model.activation))(-b)
    s = jnp.sum(jnp.where(zero, w * a * dact, 0.0))
    # one signed scatter for both signs: with S_k = sum_{j_i <= k} (+C_i if w_i > 0,
    # -C_i if w_i < 0), the bracket is S_k + sum_{w_i < 0} C_i
    amp = a * ws**p
    sgn_amp = jnp.where(w > 0, amp, jnp.where(w < 0, -amp, 0.0))
    idx = jnp.where(w > 0, j_pos, j_neg)
    powt = jnp.stack([math.comb(p, k) * (-t) ** (p - k) for k in range(p + 1)], axis=1)
    coef = powt * sgn_amp[:, None]  # (n, p+1)
    neg_total = -jnp.sum(jnp.where((w < 0)[:, None], coef, 0.0), axis=0, keepdims=True)
    bins = jnp.zeros((N + 1, p + 1), xs.dtype).at[idx].add(coef)
    brk = jnp.cumsum(bins, axis=0)[:N] + neg_total
    xpow = jnp.stack([xs**k for k in range(p + 1)], axis=1)
    return model.offset + const + s * xs + jnp.sum(xpow * brk, axis=1)


def fast1d_outputs(
    model: ShallowNetwork,
    x: Float[Array, " N"],
    *,
    order: Int[Array, " N"] | None = None,
) -> Float[Array, " N"]:
    r"""$h(x_l)$ of a 1D ReLU$^p$ `ShallowNetwork` in $O(n\log N+N)$ (differentiable).

    **Arguments:**

    - `model`: a `ShallowNetwork` with ``dim == 1`` and a ReLU/ReLU$^p$ activation.
    - `x`: points, shape ``(N,)`` or ``(N, 1)``.
    - `order`: ``fast1d_order(x)``, the sorting permutation of `x`, precomputed once for
      fixed nodes (as `train` does); default: sort `x` here ($O(N\log N)$ per call).

    **Returns:** the values, shape ``(N,)``; equal to ``model.batch(x)`` up to rounding.

    **Raises:** ``ValueError`` for a model outside that class or an `order` of the wrong
    shape.
    """
    p = model.activation.piecewise_degree
    if p is None or model.dim != 1:
        raise ValueError(
            "fast1d_outputs: needs a 1-D ShallowNetwork with a ReLU^p activation; "
            f"got dim={model.dim}, activation={model.activation!r}"
        )
    x = jnp.reshape(x, (-1,))
    if order is None:
        order = fast1d_order(x)
    elif tuple(order.shape) != tuple(x.shape):
        raise ValueError(
            f"fast1d_outputs: order must be fast1d_order(x), shape {tuple(x.shape)}; got "
            f"shape {tuple(order.shape)}"
        )
    out_sorted = fast1d_sorted_outputs(model, x[order])
    return jnp.zeros_like(out_sorted).at[order].set(out_sorted, unique_indices=True)
