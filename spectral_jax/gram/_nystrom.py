r"""Eigenvalues of the continuous Gram kernel by the Nyström method.

The kernel $\mathcal G(b,b') = \int_D \sigma(x-b)\,\sigma(x-b')\,dx$ defines a compact,
self-adjoint, positive integral operator $(\mathcal G v)(b)=\int_I \mathcal G(b,b')v(b')db'$
on the bias interval $I$. With Gauss–Legendre nodes $b_l$ and weights $q_l$ on $I$
(``panels`` equal panels of ``order`` points), its eigenvalues $\mu_k$ are approximated by
those of the symmetric matrix $Q^{1/2} K Q^{1/2}$, $K_{lm}=\mathcal G(b_l,b_m)$.

**References:** 2306.17301 (the continuous kernel and $\mu_k = O(k^{-4})$).
"""

from __future__ import annotations

import jax.numpy as jnp

from .._checks import check_positive_int
from .._precision import resolve_dtype
from .._types import Array, Float
from ..activations import AbstractActivation, get_activation
from ..domains import Interval
from ..quadrature import gauss_legendre

__all__ = ["gram_kernel_eigenvalues"]


def gram_kernel_eigenvalues(
    activation: AbstractActivation | str = "relu",
    domain: Interval | None = None,
    *,
    nodes: int = 400,
    order: int = 8,
    bias_interval: Interval | None = None,
    k: int | None = None,
    quadrature=None,
    dtype=None,
) -> Float[Array, " k"]:
    r"""Leading eigenvalues $\mu_1\ge\mu_2\ge\dots$ of the continuous Gram kernel
    $\mathcal G(b,b')=\int_D\sigma(x-b)\sigma(x-b')dx$ on the bias interval, by Nyström.

    **Arguments:**

    - `activation`: an activation or its name.
    - `domain`: the interval $D$ of $x$ (default $(-1,1)$).
    - `nodes`: Nyström nodes (rounded up to a multiple of ``order``).
    - `order`: Gauss points per panel (``nodes/order`` equal panels).
    - `bias_interval`: the interval $I$ of biases (default: ``domain``).
    - `k`: how many eigenvalues to return (default all).
    - `quadrature`: how the kernel's entries $\int_D\sigma(x-b_l)\sigma(x-b_m)dx$ are
      integrated (as in `gram_matrix`; default: closed form / exact rule / adaptive Gauss).
    - `dtype`: float32/float64.

    **Returns:** the eigenvalues in descending order.

    **Raises:** ``TypeError`` for a non-interval domain; ``ValueError`` for bad counts.

    **References:** 2306.17301.
    """
    from ._gram import gram_matrix  # avoid a cycle at import time

    where = "gram_kernel_eigenvalues"
    dt = resolve_dtype(dtype, where)
    domain = Interval() if domain is None else domain
    if not isinstance(domain, Interval):
        raise TypeError(f"{where}: domain must be an Interval; got {type(domain).__name__}")
    nodes = check_positive_int(nodes, "nodes", where)
    order = check_positive_int(order, "order", where)
    bias_interval = domain if bias_interval is None else bias_interval
    if not isinstance(bias_interval, Interval):
        raise TypeError(
            f"{where}: bias_interval must be an Interval; got {type(bias_interval).__name__}"
        )
    panels = -(-nodes // order)
    rule = gauss_legendre(bias_interval, order, panels=panels, dtype=dt)
    b = rule.nodes[:, 0]
    act = get_activation(activation)
    ones = jnp.ones((b.shape[0], 1), dt)
    K = gram_matrix(act, ones, b, domain, quadrature=quadrature, dtype=dt)
    sq = jnp.sqrt(rule.weights)
    A = sq[:, None] * K * sq[None, :]
    A = 0.5 * (A + A.T)
    mu = jnp.linalg.eigvalsh(A)[::-1]
    if k is not None:
        k = check_positive_int(k, "k", where)
        mu = mu[: min(k, mu.shape[0])]
    return mu
