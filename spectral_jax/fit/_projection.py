r"""Projection of a target onto the eigenmodes of the Gram matrix.

With $G = V\Lambda V^\top$ the functions $\psi_k = \lambda_k^{-1/2}\sum_i V_{ik}\phi_i$ are
$L^2(D)$-orthonormal, and $\langle f, \psi_k\rangle = \lambda_k^{-1/2}\, v_k^\top F$ with
$F_i = \int_D f\phi_i$. A fit in precision $\epsilon$ can only use the modes with
$\lambda_k \gtrsim \epsilon\lambda_1$: the network acts as a low-pass filter.

**References:** arXiv:2306.17301 (slides: "Projection of f on the eigenmodes").
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._precision import resolve_dtype
from .._types import Array, Float
from ._basis import AbstractBasis
from ._fit import _values, as_target

__all__ = ["ModeProjection", "eigenmode_projection"]


class ModeProjection(eqx.Module):
    r"""Eigenvalues $\lambda_k$ (descending) and coefficients $c_k = \langle f,\psi_k\rangle$.

    **Fields:** `eigenvalues` ``(N,)``, `coefficients` ``(N,)``, `norm_sq`
    ($\|f\|^2_{L^2}$ by the same quadrature), `dtype` (static name).
    """

    eigenvalues: Float[Array, " N"]
    coefficients: Float[Array, " N"]
    norm_sq: Float[Array, ""]
    dtype: str = eqx.field(static=True)

    def tail_energy(self, k: int) -> float:
        r"""Relative energy beyond the first ``k`` modes, $\|f - P_k f\|^2/\|f\|^2$
        (clipped at 0; includes what the basis cannot represent at all)."""
        kept = float(jnp.sum(self.coefficients[:k] ** 2))
        return max(float(self.norm_sq) - kept, 0.0) / float(self.norm_sq)


@jax.jit
def _project(g, f):
    lam, v = jnp.linalg.eigh(g)
    lam, v = lam[::-1], v[:, ::-1]
    c = (v.T @ f) / jnp.sqrt(jnp.maximum(lam, jnp.finfo(g.dtype).tiny))
    return lam, c


def eigenmode_projection(
    basis: AbstractBasis, target, *, load_order: int = 8, dtype=None
) -> ModeProjection:
    r"""Coefficients of ``target`` on the $L^2$-orthonormal Gram eigenmodes of ``basis``.

    **Arguments:** `basis`; `target` (name, expression, `Target` or batch callable);
    `load_order` (Gauss points per panel for the load); `dtype`.

    **Returns:** a `ModeProjection` (modes in descending eigenvalue order).

    **Raises:** ``TypeError``/``ValueError`` for a bad target (not callable, NaN/inf).
    """
    where = "eigenmode_projection"
    dt = resolve_dtype(dtype, where)
    t = as_target(target, basis.domain, where)
    rule = basis.rule(order=load_order, dtype=dt)
    fv = _values(t, rule.nodes, where, "quadrature nodes")
    lam, c = _project(basis.gram(dtype=dt), basis.load(fv, rule))
    return ModeProjection(lam, c, jnp.sum(rule.weights * fv**2), np.dtype(dt).name)
