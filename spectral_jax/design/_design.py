r"""Inverse design: from a target spectral penalty $\rho(k)$ to an activation.

$\phi_\rho = \mathcal{F}^{-1}\big[(\rho(k)/|k|^{D-1})^{-1/2}\big]$ (zero phase, so $\phi_\rho$
is even) when the amplitude $A(k) = (\rho(k)/|k|^{D-1})^{-1/2}$ is integrable. When $A$ is
singular at 0 (polynomial penalties such as $k^6$) we design the $m$-th derivative instead,
$\psi = \mathcal{F}^{-1}[|k|^m A(k)]$, the smallest $m$ for which $|k|^mA$ is bounded at 0,
and integrate it $m$ times from the left (the phase $(i\,\mathrm{sign}\,k)^{-m}$ of
$\mathcal{F}[\phi]$ does not change $|\mathcal{F}[\phi]|^2$). When $|k|^mA$ does not decay
(e.g. $k^6$: $|k|^3A = 1$) we regularise by a Gaussian taper $e^{-(k/K_c)^2}$ with $K_c$
chosen so that the penalty on the band changes by at most half the accuracy,
$e^{2(k_{\max}/K_c)^2} - 1 = \mathrm{accuracy}/2$ (the other half is the grid's). Both
choices are reported in the `DesignResult`.

**The accuracy contract:** `accuracy` bounds the relative error of the achieved penalty
on the band, $\max_k|\rho_{\rm achieved}(k)/\rho(k) - 1|$ (`max_rel_error`), recomputed
independently from the tabulated activation. When the recomputed error exceeds it, the
result says so (`accuracy_met` is ``False``) and a ``RuntimeWarning`` names the options
that tighten the design; the design never claims an accuracy it did not reach.

**References:** arXiv 2503.10587, Sec. III-B, Eq. (10).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from .._checks import check_positive, check_positive_int
from .._precision import resolve_dtype
from .._types import Array, Float
from ..activations import TabulatedActivation
from ._rho import as_rho, check_dim
from ._spectrum import _MAX_ORDER, activation_spectrum, choose_derivative_order

__all__ = ["DesignResult", "design_activation"]

#: share of the accuracy that the Gaussian taper may spend on the band (the rest is the
#: grid's: the FFT step, the cubic Hermite table and the m integrations)
_TAPER_SHARE = 0.5


class DesignResult(eqx.Module):
    r"""A designed activation with its diagnostics.

    **Fields:** `activation` (a `TabulatedActivation`), `k` (band frequencies),
    `rho_target`, `rho_achieved` (recomputed from the activation by `activation_spectrum`),
    `max_rel_error` (max over the band of $|\rho_{\rm achieved}/\rho - 1|$),
    `accuracy_met` (``max_rel_error <= accuracy``; ``None`` without diagnostics),
    `derivative_order` $m$ (0: $\phi$ designed directly; $m$: $\phi^{(m)}$ designed and
    integrated), `regularization` (``"none"`` or ``"gaussian taper"``), `taper_scale` $K_c$,
    `points`, `step`, `half_width` (the grid), `accuracy`.
    """

    activation: TabulatedActivation
    k: Float[Array, " K"]
    rho_target: Float[Array, " K"]
    rho_achieved: Float[Array, " K"]
    max_rel_error: float | None = eqx.field(static=True)
    derivative_order: int = eqx.field(static=True)
    regularization: str = eqx.field(static=True)
    taper_scale: float | None = eqx.field(static=True)
    points: int = eqx.field(static=True)
    step: float = eqx.field(static=True)
    half_width: float = eqx.field(static=True)
    accuracy: float = eqx.field(static=True)
    dim: int = eqx.field(static=True)

    def summary(self) -> dict[str, Any]:
        """The diagnostics as a JSON-able dict."""
        return {
            "dim": self.dim,
            "derivative_order": self.derivative_order,
            "regularization": self.regularization,
            "taper_scale": self.taper_scale,
            "points": self.points,
            "step": self.step,
            "half_width": self.half_width,
            "band": [float(self.k[0]), float(self.k[-1])],
            "accuracy": self.accuracy,
            "max_rel_error": self.max_rel_error,
            "accuracy_met": self.accuracy_met,
        }

    @property
    def accuracy_met(self) -> bool | None:
        """Whether the recomputed `max_rel_error` is within `accuracy` (``None`` when the
        achieved penalty was not recomputed)."""
        if self.max_rel_error is None:
            return None
        return bool(self.max_rel_error <= self.accuracy)


def _check_band(band, where: str) -> tuple[float, float]:
    try:
        kmin, kmax = (float(b) for b in band)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where}: band must be a pair (kmin, kmax); got {band!r}") from err
    if not (math.isfinite(kmin) and math.isfinite(kmax) and 0 < kmin < kmax):
        raise ValueError(f"{where}: band must satisfy 0 < kmin < kmax (finite); got {band!r}")
    return kmin, kmax


def _check_values(r: np.ndarray, k: np.ndarray, where: str, what: str) -> None:
    bad = np.isnan(r)
    if bad.any():
        raise ValueError(
            f"{where}: the target rho is NaN {what} (first at k={k[bad][0]:g}); it must be "
            "a positive finite function there"
        )
    if (r <= 0).any():
        i = int(np.argmin(r))
        raise ValueError(
            f"{where}: the target rho must be positive {what}; got rho({k[i]:g}) = {r[i]:g}"
        )


def _check_growth(g, kmax: float, D: int, where: str) -> None:
    """Refuse a penalty with $\\rho(k)/k^{D-1}$ bounded (or decaying) at large $k$.

    Then $|\\mathcal{F}[\\phi]|^2 = k^{D-1}/\\rho$ does not decay: $\\phi$ would be a Dirac
    mass (a constant amplitude) or a distribution more singular than one (a growing
    amplitude), not a function, and no taper makes the design converge to one. Measured
    as the growth of the largest amplitude over eight octaves far above the band."""
    lo = kmax * np.geomspace(2.0**12, 2.0**16, 16)
    hi = kmax * np.geomspace(2.0**20, 2.0**24, 16)
    a_lo, a_hi = g(lo, 0), g(hi, 0)
    if np.any(np.isnan(a_lo)) or np.any(np.isnan(a_hi)):
        return  # undefined out there: the grid checks report it
    top_lo, top_hi = float(np.max(a_lo)), float(np.max(a_hi))
    if top_hi == 0.0:
        return
    flat = math.isinf(top_hi) or (
        top_lo > 0 and math.log(top_hi / top_lo) / math.log(hi[-1] / lo[-1]) > -0.01
    )
    if flat:
        with np.errstate(divide="ignore"):
            r_lo = float(1.0 / g(lo[-1:], 0)[0] ** 2)
        raise ValueError(
            f"{where}: ill-posed design: rho(k)/k^(D-1) must grow at large k, but it "
            f"levels off or decays (about {r_lo:.3g} at k={lo[-1]:.3g}, D={D}); then "
            "|F[phi]|^2 = k^(D-1)/rho does not decay and phi is not a function (a Dirac mass "
            "or worse), so a decaying or bounded penalty cannot be realised"
        )


def _amplitude(rho_fn, D):
    def g(k, m):
        r = rho_fn(k)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return k**m * k ** ((D - 1) / 2) / np.sqrt(r)

    return g


def _order(g, kmin, where, derivative_order):
    probe = kmin * np.array([1e-5, 1e-4, 1e-3, 1e-2])
    orders = range(_MAX_ORDER + 1) if derivative_order is None else [derivative_order]
    for m in orders:
        v = g(probe, m)
        if np.any(np.isnan(v)):
            raise ValueError(
                f"{where}: the target rho is not defined on the design grid near k=0 "
                f"(NaN at k={probe[np.isnan(v)][0]:g})"
            )
        if np.all(np.isfinite(v)) and v[0] <= 4.0 * max(v[-1], 1e-300):
            return m
    if derivative_order is not None:
        raise ValueError(
            f"{where}: with derivative_order={derivative_order}, |k|^m (rho/k^(D-1))^(-1/2) "
            "is singular at k=0; raise the order or use None (automatic)"
        )
    raise ValueError(
        f"{where}: ill-posed design: (rho/k^(D-1))^(-1/2) is singular at k=0 faster than "
        f"|k|^-{_MAX_ORDER}, so no derivative order fixes it"
    )


def _tail(g, m, kmax, peak, accuracy, taper):
    ks = kmax * 2.0 ** np.arange(0, 24, 0.25)
    with np.errstate(invalid="ignore", over="ignore"):
        v = g(ks, m) * (np.exp(-((ks / taper) ** 2)) if taper else 1.0)
    v = np.where(np.isnan(v), np.inf, v)
    small = v <= accuracy * peak
    tail_ok = np.flip(np.cumprod(np.flip(small))).astype(bool)  # small from here on
    return float(ks[np.argmax(tail_ok)]) if tail_ok.any() else None


def _cumtrapz(y: np.ndarray, h: float) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(0.5 * h * (y[1:] + y[:-1]))])


def _check_grid(act, kmin, kmax, kcut, check, max_points, where) -> None:
    r"""Fail fast when the check of the achieved penalty cannot fit in `max_points`.

    `activation_spectrum` refines its grid from the step $h_0 = \min(1/8, \pi/(4k_{\max}))$,
    halving it and widening its window $L$ by 1.25 at each level; it cannot converge
    before its step resolves the table's frequencies (up to `kcut`, where the designed
    spectrum falls below the accuracy), i.e. before level
    $\lceil\log_2(h_0 k_{cut}/\pi)\rceil$, whose grid has $2L/h$ points."""
    _, L0 = choose_derivative_order(act, accuracy=min(check, 1e-3))
    h0 = min(1.0 / 8.0, math.pi / (4.0 * kmax))
    levels = max(0, math.ceil(math.log2(h0 * kcut / math.pi)))
    need = 2.0 * L0 * 1.25**levels / (h0 / 2**levels)
    if need > max_points:
        raise ValueError(
            f"{where}: grid too coarse for the check of the achieved penalty: recomputing "
            f"it to {check:g} on the band [{kmin:g}, {kmax:g}] needs about {need:.3g} points, "
            f"more than max_points={max_points} (the design resolves k up to {kcut:.4g}); "
            "narrow the band, relax the accuracy or raise max_points (--max-points)"
        )


def design_activation(
    rho: Any,
    dim: int = 1,
    *,
    band: tuple[float, float] = (0.1, 10.0),
    accuracy: float = 1e-4,
    derivative_order: int | None = None,
    half_width: float | None = None,
    max_points: int = 1 << 22,
    band_points: int = 48,
    name: str = "designed",
    diagnostics: bool = True,
    dtype=None,
    D: int | None = None,
) -> DesignResult:
    r"""Design an activation whose spectral penalty is $\rho$: $\phi_\rho =
    \mathcal{F}^{-1}[(\rho(k)/|k|^{D-1})^{-1/2}]$, by FFT (see the module docstring for the
    derivative order and the regularisation).

    **Arguments:**

    - `rho`: a callable $k \mapsto \rho(k)$ (NumPy/JAX), a table of $(k,\rho)$ rows, or an
      expression string in ``k`` (``"exp(2*abs(k))"``, ``"exp(k**2)"``, ``"k**6"``).
    - `dim`: input dimension $D \ge 1$ (``D=`` is a deprecated spelling).
    - `band`: $(k_{\min}, k_{\max})$ where the achieved penalty must match.
    - `accuracy`: the relative error allowed for the achieved penalty on the band,
      $\max_k|\rho_{\rm achieved}/\rho - 1|$; the grid, tails and taper are chosen for it
      and the achieved error is recomputed (to `accuracy`/10) and reported as
      `max_rel_error`.
    - `derivative_order`: force $m$ (default: automatic).
    - `half_width`: half-width $Z$ of the $z$-grid (default: grown until $\phi^{(m)}$ decays).
    - `max_points`: largest grid allowed, for the design's FFT and for the check of the
      achieved penalty (`activation_spectrum`).
    - `band_points`: frequencies on the band for the diagnostics.
    - `name`: the activation's name.
    - `diagnostics`: recompute the achieved penalty (``False`` skips it, for timing the
      FFT design alone: then `rho_achieved` is the target and `max_rel_error` is ``None``).

    **Returns:** a `DesignResult`.

    **Raises:** ``ValueError`` for a target that is negative, zero or NaN on the band or
    undefined on the grid, an ill-posed design (singular at 0 faster than $|k|^{-6}$, or a
    penalty with $\rho(k)/k^{D-1}$ bounded or decaying at large $k$: then
    $|\mathcal{F}[\phi]|^2$ does not decay and $\phi$ is not a function), or a grid
    larger than `max_points` (for the design or for its check).
    A ``RuntimeWarning`` when the recomputed error exceeds `accuracy` (then
    `accuracy_met` is ``False``).

    **References:** arXiv 2503.10587, Eq. (10).
    """
    where = "design_activation"
    dt = resolve_dtype(dtype, where)
    D = check_dim(dim, D, where)
    accuracy = check_positive(accuracy, "accuracy", where)
    max_points = check_positive_int(max_points, "max_points", where)
    band_points = check_positive_int(band_points, "band_points", where)
    rho_fn = as_rho(rho, where)
    kmin, kmax = _check_band(band, where)
    kb = np.geomspace(kmin, kmax, band_points)
    rb = rho_fn(kb)
    _check_values(rb, kb, where, f"on the band [{kmin:g}, {kmax:g}]")
    if np.any(np.isinf(rb)):
        raise ValueError(
            f"{where}: the target rho must be finite on the band; it is inf at "
            f"k={kb[np.isinf(rb)][0]:g}"
        )
    g = _amplitude(rho_fn, D)
    _check_growth(g, kmax, D, where)
    if derivative_order is not None and (
        isinstance(derivative_order, bool)
        or not isinstance(derivative_order, int)
        or not 0 <= derivative_order <= _MAX_ORDER
    ):
        raise ValueError(
            f"{where}: derivative_order must be an integer in [0, {_MAX_ORDER}]; got "
            f"{derivative_order!r}"
        )
    m = _order(g, kmin, where, derivative_order)
    peak = float(np.nanmax(g(np.concatenate([kmin * np.array([1e-3, 1e-2, 0.1]), kb]), m)))
    taper = None
    kt = _tail(g, m, kmax, peak, accuracy, None)
    if kt is None or kt > 64 * kmax:
        # rho_achieved / rho = exp(2 (k/K_c)^2) on the band: half the accuracy at kmax
        taper = kmax * math.sqrt(2.0 / math.log1p(_TAPER_SHARE * accuracy))
        kt = _tail(g, m, kmax, peak, accuracy, taper)
        if kt is None:
            raise ValueError(
                f"{where}: ill-posed design: |k|^{m} (rho/k^(D-1))^(-1/2) grows too fast "
                "at large k even with a Gaussian taper (rho must not decay)"
            )
    kcut = 1.25 * kt
    # FFT step: resolve k up to kcut, and keep the cubic Hermite table's own error
    # (relative (kh)^4/384 at k) below accuracy/10 on the band
    h = min(math.pi / kcut, (38.4 * accuracy) ** 0.25 / kmax)
    Z = float(half_width) if half_width is not None else max(8.0, 4.0 * math.pi / kmin)
    while True:
        n = 1 << max(int(math.ceil(math.log2(2 * Z / h))), 4)
        if n > max_points:
            raise ValueError(
                f"{where}: grid too coarse for accuracy={accuracy:g}: the design needs more "
                f"than max_points={max_points} points (k up to {kcut:g}, |z| up to {Z:g}); "
                "relax the accuracy, narrow the band or raise max_points (--max-points)"
            )
        kg = np.abs(2 * np.pi * np.fft.fftfreq(n, h))
        kg[0] = kg[1] * 1e-6
        with np.errstate(invalid="ignore", over="ignore"):
            gk = g(kg, m) * (np.exp(-((kg / taper) ** 2)) if taper else 1.0)
        gk = np.where(np.isinf(gk) | np.isnan(gk), np.nan, gk)
        if np.any(np.isnan(gk)):
            raise ValueError(
                f"{where}: the target rho is not defined (NaN or zero) on the design grid "
                f"at k={kg[np.isnan(gk)][0]:g}"
            )
        psi = np.fft.fftshift(np.fft.ifft(gk).real) / h
        z = (np.arange(n) - n // 2) * h
        edge = np.abs(z) > 0.9 * (n // 2) * h
        if half_width is not None or np.max(np.abs(psi[edge])) <= accuracy * np.max(np.abs(psi)):
            break
        Z *= 2.0
    if m == 0:
        dpsi = np.fft.fftshift(np.fft.ifft(1j * 2 * np.pi * np.fft.fftfreq(n, h) * gk).real) / h
        values, slopes = psi, dpsi
        left, right = values[:1], values[-1:]
    else:
        ints = [psi]
        for _ in range(m):
            ints.append(_cumtrapz(ints[-1], h))
        values, slopes = ints[m], ints[m - 1]
        left = np.array([ints[m - r][0] for r in range(m)])
        right = np.array([ints[m - r][-1] for r in range(m)])
    act = TabulatedActivation(
        jnp.asarray(values, dt),
        jnp.asarray(slopes, dt),
        jnp.asarray(left, dt),
        jnp.asarray(right, dt),
        float(z[0]),
        float(h),
        name,
    )
    if not diagnostics:
        achieved, err = rb, None
    else:
        check = max(accuracy / 10, 1e-10)
        _check_grid(act, kmin, kmax, kcut, check, max_points, where)
        try:
            fsq = np.asarray(
                activation_spectrum(act, kb, accuracy=check, max_points=max_points, dtype=dt)
            )
        except ValueError as err:
            if "grid too coarse" not in str(err):
                raise
            raise ValueError(
                f"{where}: grid too coarse for the check of the achieved penalty: recomputing "
                f"it to {check:g} on the band [{kmin:g}, {kmax:g}] needs more than "
                f"max_points={max_points} points; narrow the band, relax the accuracy or "
                "raise max_points (--max-points)"
            ) from None
        with np.errstate(divide="ignore"):
            achieved = kb ** (D - 1) / fsq
        err = float(np.max(np.abs(achieved / rb - 1.0)))
    if err is not None and err > accuracy:
        warnings.warn(
            f"{where}: accuracy not met: the achieved penalty differs from the target by "
            f"{err:.3g} on the band [{kmin:g}, {kmax:g}], more than accuracy={accuracy:g}; "
            "tighten the accuracy or raise max_points (--accuracy / --max-points)"
            + ("" if half_width is None else f", or widen half_width={half_width:g}"),
            RuntimeWarning,
            stacklevel=2,
        )
    return DesignResult(
        act,
        jnp.asarray(kb, dt),
        jnp.asarray(rb, dt),
        jnp.asarray(achieved, dt),
        err,
        m,
        "gaussian taper" if taper else "none",
        taper,
        int(n),
        float(h),
        float(n // 2 * h),
        float(accuracy),
        int(D),
    )
