r"""Eigenpairs of Gram matrices, eigenfunctions, conditioning and resolvable modes.

**References:** 2306.17301 (low-pass filter: modes with $\lambda_k > n\varepsilon\lambda_1$
are resolvable; frequencies up to $k_d=\varepsilon^{-1/(d+3)}$).
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_array, check_positive_int
from .._memory import check_memory
from .._precision import machine_epsilon, resolve_dtype
from .._types import Array, ArrayLike, Float
from ..activations import AbstractActivation, get_activation

__all__ = [
    "Spectrum",
    "eigh_spectrum",
    "eigenfunctions",
    "condition_number",
    "resolvable_modes",
    "predicted_resolvable_frequency",
]


class Spectrum(eqx.Module):
    r"""Eigenpairs $G v_k = \lambda_k v_k$ of a symmetric matrix.

    **Fields:**

    - `eigenvalues`: shape ``(k,)``, descending.
    - `eigenvectors`: shape ``(n, k)``, orthonormal columns $v_k$.
    """

    eigenvalues: Float[Array, " k"]
    eigenvectors: Float[Array, "n k"]


def eigh_bytes(n: int, dtype) -> int:
    """Peak bytes an `eigh_spectrum` of an ``(n, n)`` matrix adds to the matrix itself:
    the symmetrised copy, LAPACK's input copy, workspace and eigenvectors (about four
    ``n x n`` arrays of ``dtype``) and the float64 symmetry check (one more). Measured:
    5.2-5.6 n^2 doubles in all with the matrix (float64), 7.1 n^2 floats (float32)."""
    return 4 * n * n * np.dtype(dtype).itemsize + 8 * n * n


@jax.jit
def _eigh_desc(A):
    lam, V = jnp.linalg.eigh(A, symmetrize_input=False)
    return lam[::-1], V[:, ::-1]


def eigh_spectrum(matrix: Float[ArrayLike, "n n"], *, k: int | None = None, dtype=None) -> Spectrum:
    r"""Eigenvalues (descending) and eigenvectors of a symmetric matrix (LAPACK ``syevd``
    through `jnp.linalg.eigh`).

    **Arguments:**

    - `matrix`: a square, symmetric, finite ``(n, n)`` array.
    - `k`: keep the ``k`` largest pairs (default all).
    - `dtype`: float32/float64 (default from x64); the matrix is cast to it.

    **Returns:** a `Spectrum`.

    **Raises:** ``ValueError`` for a non-square, non-symmetric (relative asymmetry above
    $10^3 n\varepsilon$) or non-finite matrix, or float64 without x64.
    """
    where = "eigh_spectrum"
    dt = resolve_dtype(dtype, where)
    check_array(matrix, "matrix", where, ndim=2)
    n, m = np.shape(matrix)
    if n != m or n == 0:
        raise ValueError(f"{where}: matrix must be square and non-empty; got shape {(n, m)}")
    check_memory(
        eigh_bytes(n, dt),
        what=f"{where}: a {n} x {n} {np.dtype(dt).name} matrix (its eigen-decomposition)",
        hint="use a smaller matrix (network width)"
        + (" or dtype='float32'" if np.dtype(dt).itemsize > 4 else ""),
    )
    A = jnp.asarray(matrix, dt)
    An = np.asarray(A, dtype=np.float64)
    scale = max(float(np.max(np.abs(An))), np.finfo(float).tiny)
    asym = float(np.max(np.abs(An - An.T))) / scale
    limit = 1e3 * n * machine_epsilon(dt)
    if asym > limit:
        raise ValueError(
            f"{where}: matrix must be symmetric; got relative asymmetry max|A - A^T|/max|A| = "
            f"{asym:.2e} (allowed {limit:.1e})"
        )
    lam, V = _eigh_desc(0.5 * (A + A.T))
    if k is not None:
        k = check_positive_int(k, "k", where)
        lam, V = lam[:k], V[:, :k]
    return Spectrum(lam, V)


def eigenfunctions(
    spectrum: Spectrum,
    activation: AbstractActivation | str,
    weights: Float[ArrayLike, "n d"],
    biases: Float[ArrayLike, " n"],
    x: Float[ArrayLike, "m d"],
    *,
    modes: Any = None,
) -> Float[Array, "m k"]:
    r"""The Gram eigenvectors as functions,
    $\psi_k(x) = \lambda_k^{-1/2}\sum_i v_{ik}\,\sigma(w_i\cdot x - b_i)$, on points ``x``.

    If the spectrum is that of the Gram matrix on $D$, then
    $\|\psi_k\|_{L^2(D)}^2 = v_k^\top G v_k/\lambda_k = 1$: the functions are normalised in
    $L^2(D)$ and mutually orthogonal.

    **Arguments:**

    - `spectrum`: a `Spectrum` of the Gram matrix of these features.
    - `activation`, `weights` ``(n, d)``, `biases` ``(n,)``: the features.
    - `x`: evaluation points ``(m, d)``.
    - `modes`: indices (0-based) of the modes to return (default all).

    **Returns:** ``(m, k)`` values.

    **Raises:** ``ValueError`` for mismatched shapes or non-positive eigenvalues among the
    requested modes.
    """
    from ..networks import feature_matrix

    where = "eigenfunctions"
    W = jnp.asarray(weights)
    if W.ndim == 1:
        W = W[:, None]
    x = jnp.asarray(x)
    if x.ndim == 1:
        x = x[:, None]
    n = spectrum.eigenvectors.shape[0]
    if W.shape[0] != n:
        raise ValueError(
            f"{where}: the spectrum has {n} rows but weights has {W.shape[0]}; they must match"
        )
    idx = (
        np.arange(spectrum.eigenvalues.shape[0]) if modes is None else np.asarray(modes).reshape(-1)
    )
    lam = np.asarray(spectrum.eigenvalues)[idx]
    if np.any(lam <= 0):
        raise ValueError(
            f"{where}: requested modes have non-positive eigenvalues {lam[lam <= 0][:3]}; cannot "
            "normalise"
        )
    isz = np.dtype(W.dtype).itemsize
    check_memory(
        (2 * x.shape[0] * n + x.shape[0] * idx.size) * isz,
        what=f"{where}: {x.shape[0]} points x {n} features ({np.dtype(W.dtype).name})",
        hint="evaluate on fewer points (in chunks) or fewer modes",
    )
    Phi = feature_matrix(get_activation(activation), W, jnp.asarray(biases), x.astype(W.dtype))
    V = spectrum.eigenvectors[:, idx]
    return (Phi @ V) / jnp.sqrt(jnp.asarray(lam, Phi.dtype))[None, :]


def condition_number(eigenvalues: Float[ArrayLike, " n"]) -> float:
    r"""$\kappa = \lambda_{\max}/\lambda_{\min}$ of a symmetric positive semi-definite
    matrix's eigenvalues; ``inf`` when $\lambda_{\min}\le 0$ (numerically singular)."""
    check_array(eigenvalues, "eigenvalues", "condition_number", ndim=1)
    lam = np.asarray(eigenvalues, dtype=np.float64)
    if lam.size == 0:
        raise ValueError("condition_number: eigenvalues must be non-empty; got shape (0,)")
    lo, hi = float(lam.min()), float(lam.max())
    return float("inf") if lo <= 0 else hi / lo


def _eps(dtype_or_eps: Any, where: str) -> float:
    if isinstance(dtype_or_eps, (float, int, np.floating)) and not isinstance(dtype_or_eps, bool):
        e = float(dtype_or_eps)
        if not (0 < e < 1):
            raise ValueError(f"{where}: eps must lie in (0, 1); got {e}")
        return e
    try:
        return machine_epsilon(np.dtype(dtype_or_eps))
    except TypeError as err:
        raise ValueError(
            f"{where}: dtype_or_eps must be a float dtype or a number in (0, 1); got "
            f"{dtype_or_eps!r}"
        ) from err


def resolvable_modes(
    eigenvalues: Float[ArrayLike, " n"], dtype_or_eps: Any, n: int | None = None
) -> int:
    r"""Number of modes with $\lambda_k > n\,\varepsilon\,\lambda_1$ — the seeds' threshold
    below which a mode is lost to rounding in a width-$n$ computation at precision
    $\varepsilon$ (float32: $2^{-23}$, float64: $2^{-52}$).

    **Arguments:** `eigenvalues` (1-D), `dtype_or_eps` (a dtype or $\varepsilon$), `n`
    (default ``len(eigenvalues)``).

    **References:** 2306.17301 (low-pass filter slide).
    """
    where = "resolvable_modes"
    check_array(eigenvalues, "eigenvalues", where, ndim=1)
    lam = np.sort(np.asarray(eigenvalues, dtype=np.float64))[::-1]
    eps = _eps(dtype_or_eps, where)
    n = lam.size if n is None else check_positive_int(n, "n", where)
    return int(np.sum(lam > n * eps * lam[0]))


def predicted_resolvable_frequency(d: int, eps: Any) -> float:
    r"""The seeds' highest resolvable frequency $k_d = \varepsilon^{-1/(d+3)}$ in dimension
    $d$ (from $\lambda_k\sim k^{-(d+3)/d}$ and $\#\{\text{modes up to frequency }K\}\sim K^d$).

    **Arguments:** `d` (positive int), `eps` (a dtype or a number in (0, 1)).
    """
    where = "predicted_resolvable_frequency"
    d = check_positive_int(d, "d", where)
    return float(_eps(eps, where) ** (-1.0 / (d + 3)))
