r"""The low-pass filter: which frequencies a shallow ReLU network can fit in a precision.

Gram eigenvalues decay like $\lambda_k \sim k^{-(d+3)/d}$; with machine precision
$\epsilon$ only modes $\lambda_k \gtrsim \epsilon\lambda_1$ are usable, i.e. about
$\epsilon^{-d/(d+3)}$ modes, or Fourier frequencies up to $k_d = \epsilon^{-1/(d+3)}$.

**References:** arXiv:2306.17301 (slides, "Implications to numerical computation").
"""

from __future__ import annotations

from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np

from .._checks import check_in_open_interval, check_positive_int
from .._precision import machine_epsilon, resolve_dtype
from ..domains import Interval
from . import _solvers as S
from ._basis import AbstractBasis

__all__ = ["predicted_max_frequency", "resolvable_frequency_table", "max_fittable_frequency"]


def predicted_max_frequency(eps: float, d: int) -> float:
    r"""$k_d = \epsilon^{-1/(d+3)}$.

    **Raises:** ``ValueError`` for $\epsilon \notin (0, 1)$ or $d < 1$.
    """
    eps = check_in_open_interval(eps, 0.0, 1.0, "eps", "predicted_max_frequency")
    d = check_positive_int(d, "d", "predicted_max_frequency")
    return float(eps ** (-1.0 / (d + 3)))


#: The slides' values (arXiv:2306.17301 talk), for comparison only.
SLIDES_KD = {"float32": {1: 54, 2: 25, 3: 14, 10: 4}, "float64": {1: 8192, 2: 1351, 3: 411, 10: 16}}


def resolvable_frequency_table(dims: Sequence[int] = (1, 2, 3, 10)) -> list[dict]:
    r"""$k_d$ and the number of usable modes $\epsilon^{-d/(d+3)}$ for float32/float64, with
    $\epsilon = 2^{-23}, 2^{-52}$ (machine epsilon, as the slides) and the unit roundoff
    $2^{-24}, 2^{-53}$, beside the slides' values (flagged where they disagree with the
    formula rounded to the nearest integer)."""
    rows = []
    for name, p in (("float32", 24), ("float64", 53)):
        eps, u = 2.0 ** -(p - 1), 2.0**-p
        for d in dims:
            kd = predicted_max_frequency(eps, d)
            slide = SLIDES_KD[name].get(d)
            rows.append(
                {
                    "dtype": name,
                    "d": int(d),
                    "eps": eps,
                    "k_d": kd,
                    "k_d_unit_roundoff": predicted_max_frequency(u, d),
                    "modes": eps ** (-d / (d + 3)),
                    "slides": slide,
                    "slides_agree": None if slide is None else bool(round(kd) == slide),
                }
            )
    return rows


def max_fittable_frequency(
    basis: AbstractBasis,
    *,
    solver: str = "qr",
    ks: Sequence[float] | None = None,
    threshold: float = 1e-2,
    tau: float | None = None,
    eval_points: int = 10001,
    dtype=None,
) -> dict:
    r"""Fit $\sin(k\pi x)$ for each ``k`` and return the largest $k$ whose relative $L^2$
    error is below ``threshold`` (all smaller k fitting too), with the errors.

    One factorisation serves all ``k`` (multiple right-hand sides).

    **Arguments:** `basis` (1D); `solver` ``"eigh"`` (normal equations with the exact Gram,
    truncated at $\tau\lambda_1$, default $\tau = \epsilon$), ``"cholesky"``, or ``"qr"`` /
    ``"svd"`` (backward stable, on the quadrature nodes weighted by $\sqrt{q}$; SVD cut at
    $\epsilon s_1$); `ks` (default 1..200); `threshold` in (0, 1); `eval_points`; `dtype`.

    **Returns:** ``{"k_max", "ks", "rel_l2_errors", "solver", "dtype", "rank", "threshold"}``.

    **Raises:** ``ValueError`` for a non-1D basis, an unknown solver or a threshold
    outside (0, 1).
    """
    where = "max_fittable_frequency"
    dt = resolve_dtype(dtype, where)
    if not isinstance(basis.domain, Interval):
        raise ValueError(f"{where}: needs a 1-D basis; got domain {type(basis.domain).__name__}")
    threshold = check_in_open_interval(threshold, 0.0, 1.0, "threshold", where)
    if solver not in ("eigh", "cholesky", "qr", "svd"):
        raise ValueError(
            f"{where}: solver must be 'eigh', 'cholesky', 'qr' or 'svd'; got {solver!r}"
        )
    ks = np.arange(1, 201, dtype=np.float64) if ks is None else np.asarray(ks, np.float64)
    kk = jnp.asarray(ks, dt)
    fn = lambda x: jnp.sin(jnp.pi * x[:, :1] * kk[None, :])  # noqa: E731  (m, K)
    n = basis.size
    eps = machine_epsilon(dt)
    rule = basis.rule(order=8, dtype=dt)
    phi_q = basis.evaluate(rule.nodes, dtype=dt)
    if solver in ("eigh", "cholesky"):
        g = basis.gram(dtype=dt)
        f = phi_q.T @ (rule.weights[:, None] * fn(rule.nodes))
        if solver == "eigh":
            lam, v = jnp.linalg.eigh(g)
            keep = lam > (eps if tau is None else tau) * lam[-1]
            coef = v @ jnp.where(keep[:, None], (v.T @ f) / jnp.where(keep, lam, 1)[:, None], 0)
            rank = int(jnp.sum(keep))
        else:
            coef, rank = S.solve_cholesky(g, f), n
            if not np.all(np.isfinite(np.asarray(coef))):
                raise ValueError(
                    f"{where}: solver 'cholesky' failed in {np.dtype(dt).name}: the Gram matrix "
                    "is not numerically positive definite in this precision (the low-pass "
                    "filter at its most extreme). Use solver='eigh', 'qr' or 'svd', or float64."
                )
    else:
        sw = jnp.sqrt(rule.weights)[:, None]
        a, y = sw * phi_q, sw * fn(rule.nodes)
        if solver == "qr":
            coef, rank = S.solve_qr(a, y)[0], n
        else:
            u, s, vt = jnp.linalg.svd(a, full_matrices=False)
            keep = s > eps * s[0]
            coef = vt.T @ jnp.where(keep[:, None], (u.T @ y) / jnp.where(keep, s, 1)[:, None], 0)
            rank = int(jnp.sum(keep))
    grid = basis.domain.grid(eval_points, dtype=dt)
    ref = np.asarray(fn(grid), np.float64)
    e = np.asarray(basis.evaluate(grid, dtype=dt) @ coef, np.float64) - ref
    rel = np.sqrt(np.mean(e**2, axis=0) / np.maximum(np.mean(ref**2, axis=0), 1e-300))
    rel = np.where(np.isfinite(rel), rel, np.inf)
    ok = rel < threshold
    first_bad = int(np.argmin(ok)) if not ok.all() else ok.size
    k_max = float(ks[first_bad - 1]) if first_bad > 0 else 0.0
    return {
        "k_max": k_max,
        "ks": ks.tolist(),
        "rel_l2_errors": rel.tolist(),
        "solver": solver,
        "dtype": np.dtype(dt).name,
        "rank": rank,
        "threshold": threshold,
    }
