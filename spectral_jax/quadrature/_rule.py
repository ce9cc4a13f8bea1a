"""The quadrature rule container."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp

from .._types import Array, Float

__all__ = ["QuadratureRule"]


class QuadratureRule(eqx.Module):
    r"""Nodes $x_l \in \mathbb{R}^d$ and weights $q_l$ with
    $\int_D g(x)\,dx \approx \sum_l q_l\, g(x_l)$.

    **Fields:**

    - `nodes`: shape ``(m, d)``.
    - `weights`: shape ``(m,)``.
    - `kind`: a short description of how the rule was built (static).
    """

    nodes: Float[Array, "m d"]
    weights: Float[Array, " m"]
    kind: str = eqx.field(static=True, default="custom")

    def __check_init__(self):
        if self.nodes.ndim != 2:
            raise ValueError(
                f"QuadratureRule: nodes must have shape (m, d); got {self.nodes.shape}"
            )
        if self.weights.shape != (self.nodes.shape[0],):
            raise ValueError(
                f"QuadratureRule: weights must have shape ({self.nodes.shape[0]},) to match "
                f"nodes; got {self.weights.shape}"
            )

    @property
    def size(self) -> int:
        """Number of nodes $m$."""
        return int(self.nodes.shape[0])

    @property
    def dim(self) -> int:
        return int(self.nodes.shape[1])

    @property
    def dtype(self):
        return self.nodes.dtype

    def integrate(self, values: Float[Array, " m *rest"]) -> Float[Array, "*rest"]:
        r"""$\sum_l q_l\, v_l$ contracted over the leading axis of ``values``."""
        values = jnp.asarray(values)
        if values.shape[:1] != (self.size,):
            raise ValueError(
                f"QuadratureRule.integrate: values must have leading axis {self.size}; "
                f"got shape {values.shape}"
            )
        return jnp.tensordot(self.weights, values, axes=(0, 0))
