"""Shared test helpers: the one tolerance table, keyed by dtype."""

import numpy as np

#: relative tolerances by dtype name for "should agree to rounding" comparisons
RTOL = {"float32": 2e-5, "float64": 1e-12}
#: absolute floor, scaled by the problem's magnitude where used
ATOL = {"float32": 1e-6, "float64": 1e-14}


def rel_err(a, b) -> float:
    """max |a - b| / max |b| (b the reference)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), np.finfo(float).tiny))


def fitted_order(hs, errs) -> float:
    """Slope of log(err) against log(h) by least squares (empirical order)."""
    return float(np.polyfit(np.log(np.asarray(hs)), np.log(np.asarray(errs)), 1)[0])
