r"""Sobolev coercivity of an NTK on $(-1, 1)$ from its Galerkin matrix in a Fourier basis.

With the orthonormal basis $\phi_0 = 2^{-1/2}$, $\phi_{2j-1} = \cos(j\pi x)$,
$\phi_{2j} = \sin(j\pi x)$ (frequencies $\omega_0 = 0$, $\omega_{2j-1} = \omega_{2j} = j\pi$)
and $g = \sum_j c_j\phi_j$, $\|g\|^2_{H^{-s}} := \sum_j (1+\omega_j^2)^{-s}|c_j|^2$. The
Galerkin matrix $G_{jk} = \langle \mathcal K\phi_k, \phi_j\rangle$ (by quadrature) gives
$\langle\mathcal K g, g\rangle = c^\top G c$, so the best constant on the first $M$ modes is

$$C_M(s) = \lambda_{\min}\big(\Lambda_s^{-1/2} G \Lambda_s^{-1/2}\big),\qquad
\Lambda_s = \mathrm{diag}\big((1+\omega_j^2)^{-s}\big).$$

$\langle\mathcal K g, g\rangle \gtrsim \|g\|^2_{H^{-s}}$ holds when $C_M(s)$ stays bounded
away from zero as $M$ grows. We fit the decay exponent $p$ of the eigenvalues of $G$
against frequency ($\lambda \sim \omega^{-p}$), report $s = p/2$ (the smallest exponent
for which $(1+\omega^2)^{-s}$ is dominated by the spectrum) and the constant $C_M(s)$, and
$C_M, C_{M/2}$ on a grid of $s$ so that stability in $M$ can be inspected. A kernel
with super-algebraic decay (smooth activations) has no finite $s$: $p$ grows with $M$.

**References:** Welper (2024), arXiv 2405.11696, NTK coercivity assumption (9).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from .._checks import check_positive_int
from .._precision import resolve_dtype
from .._types import Array, Float
from ..domains import Interval
from ..quadrature import gauss_legendre

__all__ = ["CoercivityEstimate", "fourier_galerkin", "ntk_coercivity"]


class CoercivityEstimate(eqx.Module):
    """Result of `ntk_coercivity`.

    **Fields:** `s` ($p/2$, ``inf`` if no fit),
    `constant` ($C_M(s)$), `exponent` ($p$, fitted decay of the Galerkin eigenvalues vs
    frequency), `frequencies`, `eigenvalues` (descending Galerkin eigenvalues),
    `s_grid`, `constants` ($C_M(s)$ on the grid), `constants_half` ($C_{M/2}(s)$).
    """

    s: float
    constant: float
    exponent: float
    frequencies: Float[Array, " M"]
    eigenvalues: Float[Array, " M"]
    s_grid: Float[Array, " S"]
    constants: Float[Array, " S"]
    constants_half: Float[Array, " S"]


def _basis(x: Array, n_modes: int) -> tuple[Array, Array]:
    j = jnp.arange(n_modes)
    freq = jnp.pi * jnp.ceil(j / 2)
    cols = jnp.where(
        j == 0,
        jnp.full_like(x[:, None] * freq[None, :], 2**-0.5),
        jnp.where(
            j % 2 == 1, jnp.cos(x[:, None] * freq[None, :]), jnp.sin(x[:, None] * freq[None, :])
        ),
    )
    return cols, freq


def fourier_galerkin(
    kernel: Callable[[Array, Array], Array],
    n_modes: int = 32,
    *,
    n_points: int = 512,
    dtype: Any = None,
) -> tuple[Float[Array, "M M"], Float[Array, " M"]]:
    r"""Galerkin matrix $G_{jk} = \iint \phi_j(x)K(x,y)\phi_k(y)$ on $(-1,1)$ and the
    frequencies $\omega_j$. ``kernel(x1, x2)`` takes ``(N, 1)`` arrays and returns
    ``(N, N)``; the integral uses a composite Gauss–Legendre rule (order 8) on
    ``n_points`` nodes."""
    where = "fourier_galerkin"
    n_modes = check_positive_int(n_modes, "n_modes", where)
    n_points = check_positive_int(n_points, "n_points", where)
    dt = resolve_dtype(dtype, where)
    rule = gauss_legendre(Interval(), 8, panels=max(1, n_points // 8), dtype=dt)
    x, q = rule.nodes, rule.weights
    kmat = jnp.asarray(kernel(x, x), dt)
    if kmat.shape != (x.shape[0], x.shape[0]):
        raise ValueError(f"{where}: kernel must return shape {(x.shape[0],) * 2}; got {kmat.shape}")
    b, freq = _basis(x[:, 0], n_modes)
    bq = b * q[:, None]
    g = bq.T @ kmat @ bq
    return 0.5 * (g + g.T), freq


def _cmin(g: np.ndarray, freq: np.ndarray, s: float) -> float:
    d = (1 + freq**2) ** (s / 2)
    return float(np.linalg.eigvalsh(d[:, None] * g * d[None, :])[0])


def ntk_coercivity(
    kernel: Callable[[Array, Array], Array],
    n_modes: int = 32,
    *,
    n_points: int = 512,
    s_grid: Any = None,
    dtype: Any = None,
) -> CoercivityEstimate:
    r"""Estimate the smallest $s$ with $\langle\mathcal K g,g\rangle \ge C\|g\|^2_{H^{-s}}$.

    **Arguments:**

    - `kernel`: ``(x1, x2) -> K`` on ``(N, 1)`` inputs, e.g.
      ``lambda a, b: empirical_ntk(net, a, b, trainable="biases")`` or `limit_ntk`.
    - `n_modes`: Fourier modes $M$ (even). `n_points`: quadrature nodes.
    - `s_grid`: candidate $s$ values (default $0, 0.125, \dots, 4$).

    **Returns:** a `CoercivityEstimate`.

    **References:** Welper (2024), arXiv 2405.11696.
    """
    where = "ntk_coercivity"
    n_modes = check_positive_int(n_modes, "n_modes", where)
    if n_modes < 8:
        raise ValueError(f"{where}: n_modes must be >= 8 for a decay fit; got {n_modes}")
    g, freq = fourier_galerkin(kernel, n_modes, n_points=n_points, dtype=dtype)
    g, freq = np.asarray(g, np.float64), np.asarray(freq, np.float64)
    ev = np.sort(np.linalg.eigvalsh(g))[::-1]
    # decay fit: eigenvalue j against the frequency of mode j, over the resolved tail
    fj = np.pi * np.ceil(np.arange(n_modes) / 2)
    eps = (
        np.finfo(np.asarray(g).dtype).eps
        if dtype is None
        else np.finfo(np.dtype(resolve_dtype(dtype))).eps
    )
    ok = (
        (np.arange(n_modes) >= 2)
        & (ev > 1e3 * eps * ev[0])
        & (np.arange(n_modes) < 3 * n_modes // 4)
    )
    p = float(-np.polyfit(np.log(fj[ok]), np.log(ev[ok]), 1)[0]) if ok.sum() >= 3 else float("inf")
    grid = np.arange(0, 4.0001, 0.125) if s_grid is None else np.asarray(s_grid, float)
    half = n_modes // 2
    cs = np.array([_cmin(g, freq, s) for s in grid])
    ch = np.array([_cmin(g[:half, :half], freq[:half], s) for s in grid])
    s_min = p / 2 if np.isfinite(p) else float("inf")
    const = _cmin(g, freq, s_min) if np.isfinite(s_min) else float("nan")
    return CoercivityEstimate(
        s=s_min,
        constant=const,
        exponent=p,
        frequencies=jnp.asarray(freq),
        eigenvalues=jnp.asarray(ev),
        s_grid=jnp.asarray(grid),
        constants=jnp.asarray(cs),
        constants_half=jnp.asarray(ch),
    )
