"""Binomial confidence intervals for a Monte Carlo probability."""

from __future__ import annotations

import math

__all__ = ["binomial_interval"]

_Z95 = 1.959963984540054


def binomial_interval(hits: int, total: int, *, z: float = _Z95) -> tuple[float, float, str]:
    r"""95% confidence interval for a probability from ``hits`` successes in ``total`` trials.

    - ``hits > 0``: the Wilson score interval
      $\frac{\hat p + z^2/2N \pm z\sqrt{\hat p(1-\hat p)/N + z^2/4N^2}}{1 + z^2/N}$.
    - ``hits == 0``: $[0, 3/N]$, the "rule of three" one-sided 95% upper bound
      ($(1-p)^N \ge 0.05 \Rightarrow p \le -\ln 0.05/N \approx 3/N$).

    **Returns:** ``(low, high, method)`` with method ``"wilson"`` or ``"rule-of-three"``.
    """
    if total <= 0:
        raise ValueError(f"binomial_interval: total must be positive; got {total}")
    if hits == 0:
        return 0.0, min(1.0, 3.0 / total), "rule-of-three"
    p = hits / total
    den = 1.0 + z * z / total
    mid = (p + z * z / (2 * total)) / den
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / den
    return max(0.0, mid - half), min(1.0, mid + half), "wilson"
