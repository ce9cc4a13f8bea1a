r"""Fast 1D path: a ReLU$^p$ shallow network on $N$ points in $O((N+n)\log(N+n))$.

For $w_i\ne0$ write $t_i=b_i/w_i$, so $\sigma(w_ix-b_i)=w_i^p(x-t_i)^p$ where active
($x>t_i$ if $w_i>0$, $x<t_i$ if $w_i<0$). Expanding
$(x-t)^p=\sum_k\binom pk x^k(-t)^{p-k}$,

$$h(x)=c+\sum_{k=0}^p x^k\Big[\sum_{w_i>0,\,t_i<x}C_{ik}+\sum_{w_i<0,\,t_i>x}C_{ik}\Big],
\qquad C_{ik}=a_i w_i^p\tbinom pk(-t_i)^{p-k},$$

so after sorting the breakpoints $t_i$ each bracket is a prefix (suffix) sum read at
``searchsorted(t, x)``. Neurons with $w_i=0$ are constants. Reverse-mode differentiation
of these gathers and cumulative sums gives the gradient of the loss in the same
complexity (the transposes are scatter-adds and reversed cumulative sums), so no
$N\times n$ array is ever formed.

**References:** the issue's performance item (seed 003's 1D setting, Welper 2023).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from .._types import Array, Float
from ..networks import ShallowNetwork

__all__ = ["fast1d_outputs"]


def fast1d_outputs(model: ShallowNetwork, x: Float[Array, " N"]) -> Float[Array, " N"]:
    r"""$h(x_l)$ of a 1D ReLU$^p$ `ShallowNetwork` in $O((N+n)\log n)$ (differentiable).

    **Arguments:**
    - `model`: a `ShallowNetwork` with ``dim == 1`` and a ReLU/ReLU$^p$ activation.
    - `x`: points, shape ``(N,)`` or ``(N, 1)``.

    **Returns:** the values, shape ``(N,)``; equal to ``model.batch(x)`` up to rounding.

    **Raises:** ``ValueError`` for a model outside that class.
    """
    p = model.activation.piecewise_degree
    if p is None or model.dim != 1:
        raise ValueError(
            "fast1d_outputs: needs a 1-D ShallowNetwork with a ReLU^p activation; "
            f"got dim={model.dim}, activation={model.activation!r}"
        )
    x = jnp.reshape(x, (-1,))
    a, w, b = model.outer, model.weights[:, 0], model.biases
    zero = w == 0
    ws = jnp.where(zero, 1.0, w)
    t = b / ws
    # constants from w == 0 neurons: a * relu(-b)^p
    const = jnp.sum(jnp.where(zero, a * model.activation(-b), 0.0))
    perm = jnp.argsort(jax.lax.stop_gradient(t))
    ts = t[perm]
    amp = (a * ws**p)[perm]
    pos = (w > 0)[perm]
    neg = (w < 0)[perm]
    tsg = jax.lax.stop_gradient(ts)
    n_lt = jnp.searchsorted(tsg, jax.lax.stop_gradient(x), side="left")  # #{t < x}
    n_le = jnp.searchsorted(tsg, jax.lax.stop_gradient(x), side="right")  # #{t <= x}
    # w == 0 neurons are constant in x; the term s*x (s = 0 in value) carries their exact
    # first derivative in w, a_i sigma'(-b_i) x
    dact = jax.vmap(jax.grad(model.activation))(-b)
    s = jnp.sum(jnp.where(zero, w * a * dact, 0.0))
    out = jnp.zeros_like(x) + model.offset + const + s * x
    xk = jnp.ones_like(x)
    for k in range(p + 1):
        coef = amp * (math.comb(p, k) * (-ts) ** (p - k))
        cp = jnp.concatenate([jnp.zeros((1,), x.dtype), jnp.cumsum(jnp.where(pos, coef, 0.0))])
        cn = jnp.concatenate([jnp.zeros((1,), x.dtype), jnp.cumsum(jnp.where(neg, coef, 0.0))])
        bracket = cp[n_lt] + (cn[-1] - cn[n_le])
        out = out + xk * bracket
        xk = xk * x
    return out
