r"""The design round trip's second leg: the Gram spectrum of a wide 1D network built on an
activation, assembled here from `feature_matrix` and a Gauss–Legendre rule
($G = \Phi^\top \mathrm{diag}(q)\,\Phi$), so that designed and built-in activations can be
compared on the same features.

**References:** arXiv 2503.10587, Sec. III (kernel regime).
"""

from __future__ import annotations

import jax.numpy as jnp

from .._checks import check_positive_int
from .._precision import resolve_dtype
from .._types import Array, Float
from ..activations import AbstractActivation, get_activation
from ..domains import Interval
from ..networks import feature_matrix
from ..quadrature import gauss_legendre

__all__ = ["gram_eigenvalues"]


def gram_eigenvalues(
    activation: AbstractActivation | str,
    width: int = 200,
    *,
    bias_range: tuple[float, float] = (-3.0, 3.0),
    order: int = 8,
    panels: int = 64,
    dtype=None,
) -> Float[Array, " n"]:
    r"""Eigenvalues (descending) of $G_{ij} = \int_{-1}^1 \phi(x - b_i)\phi(x - b_j)\,dx$ for
    `width` evenly spaced biases in `bias_range`, by a composite Gauss–Legendre rule
    (``order`` points on each of ``panels`` panels)."""
    where = "gram_eigenvalues"
    dt = resolve_dtype(dtype, where)
    width = check_positive_int(width, "width", where)
    rule = gauss_legendre(Interval(-1.0, 1.0), order, panels=panels, dtype=dt)
    b = jnp.linspace(bias_range[0], bias_range[1], width, dtype=dt)
    phi = feature_matrix(get_activation(activation), jnp.ones((width, 1), dt), b, rule.nodes)
    g = phi.T @ (rule.weights[:, None] * phi)
    return jnp.linalg.eigvalsh(g)[::-1]
