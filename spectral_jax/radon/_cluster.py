r"""Clustering of breakplanes $\{x : \xi\cdot x = \gamma\}$.

Two breakplanes are the same set when $(\xi, \gamma)$ and $(-\xi, -\gamma)$ agree, so the
distance is $d_{ij} = \min(\|(\xi_i,\gamma_i)-(\xi_j,\gamma_j)\|,
\|(\xi_i,\gamma_i)+(\xi_j,\gamma_j)\|)$. The zero-plane similarity matrix is
$S_{ij} = \exp(-d_{ij}^2/(2\tau^2))$ and the cluster count is the number of connected
components of the graph $d_{ij} < \tau$ (single linkage).

**References:** arXiv 2503.10587, Sec. IV (breakplane clusters in the adaptive regime).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .._checks import check_array, check_positive
from .._types import Array, Float

__all__ = ["breakplane_distances", "zero_plane_similarity", "cluster_count"]


def breakplane_distances(xi: Float[Array, "n d"], gamma: Float[Array, " n"]) -> Float[Array, "n n"]:
    r"""Sign-invariant distances $d_{ij}$ between breakplanes (see the module docstring)."""
    check_array(xi, "xi", "breakplane_distances", ndim=2)
    check_array(gamma, "gamma", "breakplane_distances", shape=(xi.shape[0],))
    p = jnp.concatenate([xi, gamma[:, None]], axis=1)
    sq = jnp.sum(p * p, axis=1)
    g = p @ p.T
    dm = jnp.maximum(sq[:, None] + sq[None, :] - 2 * g, 0.0)
    dp = jnp.maximum(sq[:, None] + sq[None, :] + 2 * g, 0.0)
    return jnp.sqrt(jnp.minimum(dm, dp))


def zero_plane_similarity(
    xi: Float[Array, "n d"], gamma: Float[Array, " n"], *, tau: float = 0.1
) -> Float[Array, "n n"]:
    r"""$S_{ij} = \exp(-d_{ij}^2 / (2\tau^2))$."""
    tau = check_positive(tau, "tau", "zero_plane_similarity")
    d = breakplane_distances(xi, gamma)
    return jnp.exp(-0.5 * (d / tau) ** 2)


def cluster_count(xi: Float[Array, "n d"], gamma: Float[Array, " n"], *, tau: float = 0.1) -> int:
    r"""Connected components of $\{d_{ij} < \tau\}$ (single-linkage clusters of breakplanes)."""
    tau = check_positive(tau, "tau", "cluster_count")
    adj = np.asarray(breakplane_distances(xi, gamma)) < tau
    n = adj.shape[0]
    parent = list(range(n))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in zip(*np.nonzero(np.triu(adj, 1)), strict=True):
        ri, rj = find(int(i)), find(int(j))
        if ri != rj:
            parent[ri] = rj
    return len({find(i) for i in range(n)})
