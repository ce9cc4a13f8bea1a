r"""Algebraic decay-rate fits $\lambda_k \approx C k^{-p}$ of spectra.

**References:** 2306.17301 ($\lambda_k = O(k^{-4})$ for 1D ReLU, $k^{-(d+3)/d}$ in $d$ dimensions).
"""

from __future__ import annotations

import equinox as eqx
import numpy as np

from .._checks import check_array, check_positive
from .._types import ArrayLike, Float

__all__ = ["DecayFit", "decay_rate", "auto_fit_range", "local_decay_exponents"]


class DecayFit(eqx.Module):
    r"""Least-squares fit of $\log\lambda_k = \log C - p\log k$ over $k_1\le k\le k_2$.

    **Fields:** `rate` ($p$), `constant` ($C$), `fit_range` ($(k_1,k_2)$, 1-based,
    inclusive), `r_squared` (of the log-log fit), `floor` (the precision floor used).
    """

    rate: float = eqx.field(static=True)
    constant: float = eqx.field(static=True)
    fit_range: tuple[int, int] = eqx.field(static=True)
    r_squared: float = eqx.field(static=True)
    floor: float = eqx.field(static=True)


def auto_fit_range(lam: np.ndarray, floor: float) -> tuple[int, int]:
    r"""The automatic range: stop at the last $k\le n/2$ with $\lambda_k > 100\cdot$floor
    before the spectrum first stops decreasing; start at $\max(3, k_2/10)$."""
    n = lam.size
    above = lam > 100.0 * floor
    dec = np.concatenate([[True], lam[1:] < lam[:-1]])
    ok = above & dec
    bad = np.flatnonzero(~ok)
    k2 = bad[0] if bad.size else n  # number of leading good modes
    k2 = min(k2, max(n // 2, min(n, 8)))
    k1 = max(3, k2 // 10)
    if k2 - k1 < 2:
        k1 = max(1, k2 - 2)
    return int(k1), int(k2)


def decay_rate(
    eigenvalues: Float[ArrayLike, " n"],
    *,
    fit_range: tuple[int, int] | None = None,
    floor: float | None = None,
) -> DecayFit:
    r"""Fit $\lambda_k \approx C k^{-p}$ by least squares in log-log coordinates.

    **Arguments:**

    - `eigenvalues`: the spectrum (sorted descending here).
    - `fit_range`: ``(k1, k2)``, 1-based and inclusive. ``None`` detects it: skip the first
      modes ($k_1=\max(3,k_2/10)$) and stop before the precision floor (the last
      $k \le n/2$ with $\lambda_k > 100\cdot$``floor`` before the spectrum stops decreasing).
    - `floor`: the precision floor; default $n\,\varepsilon\,\lambda_1$ with $\varepsilon$ of
      the eigenvalues' dtype.

    **Returns:** a `DecayFit`.

    **Raises:** ``ValueError`` for a bad range, fewer than 3 usable modes, or
    non-positive eigenvalues inside the range.
    """
    where = "decay_rate"
    check_array(eigenvalues, "eigenvalues", where, ndim=1)
    raw = np.asarray(eigenvalues)
    eps = (
        float(np.finfo(raw.dtype).eps)
        if np.issubdtype(raw.dtype, np.floating)
        else float(np.finfo(float).eps)
    )
    lam = np.sort(raw.astype(np.float64))[::-1]
    n = lam.size
    if n < 3:
        raise ValueError(f"{where}: need at least 3 eigenvalues; got {n}")
    if floor is None:
        floor = n * eps * abs(lam[0])
    else:
        floor = check_positive(floor, "floor", where)
    if fit_range is None:
        k1, k2 = auto_fit_range(lam, floor)
    else:
        try:
            k1, k2 = (int(v) for v in fit_range)
        except (TypeError, ValueError) as err:
            raise ValueError(
                f"{where}: fit_range must be a pair (k1, k2); got {fit_range!r}"
            ) from err
        if not (1 <= k1 < k2 <= n) or k2 - k1 < 2:
            raise ValueError(
                f"{where}: fit_range must satisfy 1 <= k1, k1 + 2 <= k2 <= {n}; got {(k1, k2)}"
            )
    seg = lam[k1 - 1 : k2]
    if np.any(seg <= 0):
        raise ValueError(
            f"{where}: eigenvalues in fit_range {(k1, k2)} must be positive; got min "
            f"{seg.min():.3e}"
        )
    if seg.size < 3:
        raise ValueError(
            f"{where}: fewer than 3 modes above the floor {floor:.2e}; got range {(k1, k2)}"
        )
    lk = np.log(np.arange(k1, k2 + 1, dtype=np.float64))
    ll = np.log(seg)
    slope, icpt = np.polyfit(lk, ll, 1)
    resid = ll - (slope * lk + icpt)
    ss = float(np.sum((ll - ll.mean()) ** 2))
    r2 = 1.0 - float(np.sum(resid**2)) / ss if ss > 0 else 1.0
    return DecayFit(float(-slope), float(np.exp(icpt)), (int(k1), int(k2)), r2, float(floor))


def local_decay_exponents(
    eigenvalues: Float[ArrayLike, " n"],
    *,
    windows: int = 8,
    start: int = 8,
    stop: int | None = None,
) -> list[tuple[int, int, float, float]]:
    r"""Local decay exponents of a spectrum over log-spaced windows of $k$.

    The range $[\text{start}, \text{stop}]$ is cut into ``windows`` windows of equal
    length in $\log k$; in each, $p$ is the least-squares slope of $-\log\lambda_k$
    against $\log k$, and its uncertainty is half the difference of the slopes fitted on
    the window's two halves (how much the exponent still moves inside the window). A trend
    of $p$ across windows shows whether a fitted rate is asymptotic or pre-asymptotic.

    **Arguments:**

    - `eigenvalues`: positive, in descending order.
    - `windows`: number of windows (at least 2; each holds at least 5 modes).
    - `start`, `stop`: 1-based mode range (default ``stop``: all modes).

    **Returns:** ``[(k_from, k_to, exponent, spread), ...]`` (1-based, inclusive).

    **Raises:** ``ValueError`` for non-positive eigenvalues in the range or a range too
    short for ``windows`` windows of 5 modes.
    """
    where = "local_decay_exponents"
    lam = np.asarray(eigenvalues, dtype=np.float64)
    check_array(lam, "eigenvalues", where, ndim=1)
    n = lam.size
    stop = n if stop is None else int(stop)
    windows = int(windows)
    if windows < 2:
        raise ValueError(f"{where}: windows must be >= 2; got {windows}")
    if not 1 <= start < stop <= n:
        raise ValueError(f"{where}: need 1 <= start < stop <= {n}; got start={start}, stop={stop}")
    if np.any(lam[start - 1 : stop] <= 0):
        raise ValueError(f"{where}: eigenvalues in k={start}..{stop} must be positive")
    edges = np.unique(np.round(np.geomspace(start, stop, windows + 1)).astype(int))
    if edges.size < windows + 1 or np.any(np.diff(edges) < 4):
        raise ValueError(
            f"{where}: k={start}..{stop} is too short for {windows} log-spaced windows of >= 5 "
            "modes; use fewer windows or a longer range"
        )

    def slope(a: int, b: int) -> float:
        k = np.arange(a, b + 1, dtype=np.float64)
        return float(-np.polyfit(np.log(k), np.log(lam[a - 1 : b]), 1)[0])

    out = []
    for a, b in zip(edges[:-1], edges[1:], strict=False):
        mid = int(round(np.sqrt(a * b)))
        halves = (slope(a, mid), slope(mid, b)) if mid - a >= 2 and b - mid >= 2 else (0.0, 0.0)
        out.append((int(a), int(b), slope(a, b), abs(halves[0] - halves[1]) / 2))
    return out
