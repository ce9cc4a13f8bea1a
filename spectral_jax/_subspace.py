r"""Top-$k$ eigenpairs of a symmetric positive semi-definite matrix by randomized
subspace iteration, with the matrix products sharded over the devices (any process
count): the eigen-solve for a Gram or NTK matrix too large to gather on one device.

Only $K$ times a thin block ($N\times\ell$, $\ell=k+p$) touches the $N\times N$ matrix, and
XLA runs it where the rows of $K$ live; the thin block's QR and the $\ell\times\ell$
Rayleigh–Ritz problem are small (replicated). Nothing of size $N^2$ is gathered.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from ._sharding import gather, row_sharding

__all__ = ["top_eigenpairs", "TopEigenpairs"]


@dataclass
class TopEigenpairs:
    """Result of `top_eigenpairs`.

    **Fields:** `eigenvalues` (NumPy, ``(k,)``, descending); `eigenvectors` (a
    `jax.Array` ``(N, k)``, rows placed like the matrix's: sharded if it is);
    `residuals` (NumPy ``(k,)``: $\\|Ku_i-\\theta_iu_i\\|/\\theta_1$); `iterations`;
    `converged` (all residuals $\\le$ `tol`).
    """

    eigenvalues: np.ndarray
    eigenvectors: Any
    residuals: np.ndarray
    iterations: int
    converged: bool


@partial(jax.jit, static_argnums=(2,))
def _step(K, Q, k):
    """One power step with Rayleigh–Ritz: $Y = KQ$, the Ritz pairs of $K$ on
    $\\mathrm{span}\\,Q$ from $Q^\\top Y$, residuals, and the next orthonormal basis."""
    Y = K @ Q
    B = Q.T @ Y
    theta, V = jnp.linalg.eigh(0.5 * (B + B.T))
    theta, V = theta[::-1], V[:, ::-1]
    U = Q @ V[:, :k]
    R = Y @ V[:, :k] - U * theta[None, :k]
    res = jnp.linalg.norm(R, axis=0) / jnp.maximum(jnp.abs(theta[0]), jnp.finfo(K.dtype).tiny)
    Qn, _ = jnp.linalg.qr(Y)
    return theta[:k], U, res, Qn


def top_eigenpairs(
    matrix,
    k: int,
    *,
    oversample: int = 10,
    tol: float | None = None,
    max_iterations: int = 100,
    key=None,
) -> TopEigenpairs:
    r"""The $k$ largest eigenpairs of a symmetric PSD matrix $K$ (Gram, NTK) by randomized
    subspace iteration with Rayleigh–Ritz (Halko, Martinsson & Tropp 2011, Alg. 4.3/5.3).

    Start from a Gaussian block $\Omega\in\mathbb{R}^{N\times\ell}$, $\ell=k+p$; repeat
    $Y=KQ$, Ritz values $\theta$ and vectors $U=QV$ of $Q^\top K Q = V\Theta V^\top$,
    $Q\leftarrow\mathrm{qr}(Y)$, until every residual
    $\|Ku_i-\theta_iu_i\|_2/\theta_1\le$ `tol`. Eigenvalue $i$ converges like
    $(\lambda_{\ell+1}/\lambda_i)^{2t}$ after $t$ steps, so decaying spectra (Gram, NTK)
    need few. A matrix sharded by rows (``NamedSharding`` over a mesh, on one process or
    many) stays sharded: each step is one sharded $N\times N$ by $N\times\ell$ product and
    a QR of the thin $N\times\ell$ block; the full matrix is never gathered.

    **Arguments:**

    - `matrix`: ``(N, N)`` symmetric PSD `jax.Array` (sharded or not) or NumPy array.
    - `k`: number of eigenpairs, $1\le k\le N$. `oversample`: $p\ge0$ extra columns.
    - `tol`: residual tolerance relative to $\theta_1$ (default $100\,\varepsilon_{\rm mach}$
      of the dtype, times $\sqrt N$).
    - `max_iterations`: bound on the steps. `key`: PRNG key for $\Omega$ (default key 0).

    **Returns:** a `TopEigenpairs` (eigenvalues descending).

    **Raises:** ``ValueError`` for a non-square matrix or $k$ out of range.

    **References:** N. Halko, P.-G. Martinsson, J. A. Tropp, *Finding structure with
    randomness*, SIAM Review 53 (2011).
    """
    where = "top_eigenpairs"
    K = matrix if isinstance(matrix, jax.Array) else jnp.asarray(matrix)
    if K.ndim != 2 or K.shape[0] != K.shape[1]:
        raise ValueError(f"{where}: matrix must be square (N, N); got shape {K.shape}")
    N = K.shape[0]
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= N:
        raise ValueError(f"{where}: k must be an integer in 1..{N}; got {k!r}")
    if isinstance(oversample, bool) or not isinstance(oversample, int) or oversample < 0:
        raise ValueError(f"{where}: oversample must be an integer >= 0; got {oversample!r}")
    if not jnp.issubdtype(K.dtype, jnp.floating):
        K = K.astype(jnp.result_type(float))
    if (
        isinstance(max_iterations, bool)
        or not isinstance(max_iterations, int)
        or max_iterations < 1
    ):
        raise ValueError(f"{where}: max_iterations must be an integer >= 1; got {max_iterations!r}")
    eps = float(jnp.finfo(K.dtype).eps)
    tol = 100 * eps * np.sqrt(N) if tol is None else float(tol)
    if not tol > 0:
        raise ValueError(f"{where}: tol must be > 0; got {tol!r}")
    ell = min(N, k + oversample)
    key = jr.key(0) if key is None else key
    omega = jr.normal(key, (N, ell), K.dtype)
    sharding = getattr(K, "sharding", None)
    mesh = getattr(sharding, "mesh", None)
    if mesh is not None and N % mesh.devices.size == 0:
        omega = jax.device_put(omega, row_sharding(mesh, 2))
    Q, _ = jnp.linalg.qr(K @ omega)
    it, done = 0, False
    while not done and it < max_iterations:
        theta, U, res, Q = _step(K, Q, k)
        res_h = np.asarray(gather(res))
        it, done = it + 1, bool(np.all(res_h <= tol))
    return TopEigenpairs(
        eigenvalues=np.asarray(gather(theta)),
        eigenvectors=U,
        residuals=res_h,
        iterations=it,
        converged=done,
    )
