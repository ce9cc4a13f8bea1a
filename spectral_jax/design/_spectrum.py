r"""Fourier magnitude $|\mathcal{F}[\phi](k)|^2$ of an activation, computed numerically.

Convention (as everywhere in the library): $\mathcal{F}[\phi](k)=\int\phi(z)e^{-ikz}dz$.

Activations that do not decay (ReLU, ReLU$^p$, softplus, sigmoid, tanh, GELU) have a
transform only as a tempered distribution. We work with the $m$-th derivative, which
decays: $\mathcal{F}[\phi^{(m)}](k) = (ik)^m\mathcal{F}[\phi](k)$. The derivative is the
$m$-th finite difference of samples $\phi(z_j)$ on a uniform grid of step $h$, centred at
$z_j + mh/2$; its discrete-time Fourier transform equals
$s_h(k)^m \sum_n \mathcal{F}[\phi](k + 2\pi n/h)$ with the exact difference symbol
$s_h(k) = 2i\sin(kh/2)/h$, so dividing by $s_h(k)^m$ leaves only the aliasing error
(exponentially small for smooth $\phi$, $O((kh)^{m})$ for kinks). Kinks (the Dirac mass of
ReLU$''$) are handled exactly by the difference (a discrete Dirac).

**$k = 0$**: for $m \ge 1$ the transform is singular at 0 and we return $+\infty$ (as the
closed forms do); for decaying $\phi$ ($m = 0$) the finite value $|\int\phi|^2$.

The grid is refined (halving $h$, widening the window) until two successive estimates
agree to `accuracy` (relative) at every requested $k$ whose value is above the rounding
floor of the sum; values below it are reported as unresolved.

**Summation.** For uniformly spaced $k_i = k_0 + i\,\Delta k$ the sum is an FFT: with the
step chosen so that $P = 2\pi M / (\Delta k\,h)$ is an integer ($P \ge$ the number of
samples, $M \ge 1$ the oversampling), the zero-padded length-$P$ FFT of the modulated
samples $\psi_j e^{-ik_0 c_j}$ has, in bin $iM$, exactly the sum at $k_i$ times a unit-modulus
phase, so $|\cdot|^2$ is exact (no interpolation), at $O(P\log P)$ instead of $O(NK)$. For
other $k$ (log-spaced bands, a few frequencies) the sum is evaluated directly, in chunks.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from .._checks import check_array, check_positive, check_positive_int
from .._precision import default_dtype, machine_epsilon, resolve_dtype
from .._types import Array, ArrayLike, Float
from ..activations import AbstractActivation, get_activation

__all__ = ["ActivationSpectrum", "activation_spectrum", "choose_derivative_order"]

#: the highest derivative order tried (by `activation_spectrum` and `design_activation`)
_MAX_ORDER = 6


class ActivationSpectrum(eqx.Module):
    r"""$|\mathcal{F}[\phi](k)|^2$ with the numerical details.

    **Fields:** `k`, `values` ($|\mathcal{F}[\phi](k)|^2$), `resolved` (bool mask: above the
    rounding floor), `derivative_order` $m$, `step` $h$, `half_width` $L$ of the window,
    `points` (grid size), `error_estimate` (max relative change in the last refinement),
    `method` (``"fft"`` or ``"direct"``: how the sum over the grid was evaluated).
    """

    k: Float[Array, " K"]
    values: Float[Array, " K"]
    resolved: Array
    derivative_order: int = eqx.field(static=True)
    step: float = eqx.field(static=True)
    half_width: float = eqx.field(static=True)
    points: int = eqx.field(static=True)
    error_estimate: float = eqx.field(static=True)
    method: str = eqx.field(static=True, default="direct")


_CHUNK = 4096
_FFT_MIN_K = 32  # below this many frequencies the direct sum is as cheap


@eqx.filter_jit
def _eval_chunk(act: AbstractActivation, order: int, z: Array) -> Array:
    return act(z) if order == 0 else act.derivative(z, order)


def _samples(act: AbstractActivation, m: int, z: np.ndarray, dt) -> np.ndarray:
    r"""$\phi^{(m-1)}$ by autodiff at ``z`` (bounded for every built-in), or $\phi$ if m=0.

    Evaluated in fixed-size chunks so one compilation serves every grid size."""
    order = max(m - 1, 0)
    pad = (-z.size) % _CHUNK
    zp = np.concatenate([z, np.full(pad, z[-1])]).reshape(-1, _CHUNK)
    out = [np.asarray(_eval_chunk(act, order, jnp.asarray(row, dt)), np.float64) for row in zp]
    return np.concatenate(out)[: z.size]


def _derivative_samples(act, m, z, h, dt):
    r"""Samples of $\phi^{(m)}$: autodiff to order $m-1$, then one difference (centred at
    $z_j + h/2$). Returns the values and their centres."""
    g = _samples(act, m, z, dt)
    if m == 0:
        return g, z
    return np.diff(g) / h, z[:-1] + h / 2


def choose_derivative_order(
    activation: AbstractActivation | str, *, accuracy: float = 1e-6, max_half_width: float = 256.0
) -> tuple[int, float]:
    r"""The smallest $m$ whose derivative $\phi^{(m)}$ decays to `accuracy` (relative to
    its peak) within $|z| \le$ `max_half_width`, and the half-width $L$ where it does.

    **Raises:** ``ValueError`` when no order up to 6 decays (e.g. ``sine``).
    """
    act = get_activation(activation)
    h = 1.0 / 16.0
    z = np.arange(-max_half_width, max_half_width + h / 2, h)
    dt = default_dtype()
    for m in range(_MAX_ORDER + 1):
        d, zc = _derivative_samples(act, m, z, h, dt)
        if not np.all(np.isfinite(d)):
            raise ValueError(
                f"activation_spectrum: activation {act.name!r} (or its derivative "
                f"of order {max(m - 1, 0)}) is not finite on the real line"
            )
        peak = np.max(np.abs(d))
        if peak == 0:
            continue
        big = np.abs(d) > accuracy * peak
        if big[0] or big[-1]:
            continue
        L = float(np.max(np.abs(zc[big]))) + 1.0
        return m, float(2.0 ** math.ceil(math.log2(max(L, 1.0))))
    raise ValueError(
        f"activation_spectrum: no derivative of {act.name!r} up to order {_MAX_ORDER} decays "
        f"within |z| <= {max_half_width}; its Fourier transform is not a function (e.g. a "
        "periodic activation) so |F|^2 is undefined"
    )


def _dtft(psi: np.ndarray, centres: np.ndarray, k: np.ndarray, h: float) -> np.ndarray:
    r"""$h\sum_j \psi_j e^{-ik c_j}$ in float64, chunked over ``j`` (bounded memory)."""
    out = np.zeros(k.shape, np.complex128)
    chunk = max(1, (1 << 22) // max(k.size, 1))
    for s in range(0, psi.size, chunk):
        out += np.exp(-1j * np.outer(k, centres[s : s + chunk])) @ psi[s : s + chunk]
    return h * out


def _next_fast_len(n: int) -> int:
    r"""The smallest $2^a 3^b 5^c \ge n$ (a fast FFT length)."""
    best = 1 << max(0, (n - 1).bit_length())
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            q = p35
            while q < n:
                q *= 2
            best = min(best, q)
            p35 *= 3
        p5 *= 5
    return best


class _FFTGrid(eqx.Module):
    r"""A uniform band $k_i = k_0 + i\,\Delta k$ and the base FFT length $P_0$ that fixes
    the step: $h = 2\pi / (\Delta k\,P_0\,2^s)$ at refinement $s$."""

    k0: float
    dk: float
    base: int


def _uniform_band(k: np.ndarray, h0: float) -> _FFTGrid | None:
    """The band's FFT description when ``k`` is uniformly spaced and increasing (at least
    `_FFT_MIN_K` values), else ``None``."""
    if k.size < _FFT_MIN_K:
        return None
    d = np.diff(k)
    dk = (k[-1] - k[0]) / (k.size - 1)
    if not dk > 0 or np.max(np.abs(d - dk)) > 1e-9 * dk:
        return None
    return _FFTGrid(float(k[0]), float(dk), _next_fast_len(math.ceil(2 * math.pi / (dk * h0))))


def _dtft_fft(psi: np.ndarray, centres: np.ndarray, band: _FFTGrid, K: int, h: float):
    r"""$h\sum_j \psi_j e^{-ik_i c_j}$ at $k_i = k_0 + i\Delta k$, up to the unit-modulus
    phase $e^{-i(k_i - k_0) c_0}$ (only $|\cdot|^2$ is used), by one zero-padded FFT whose
    bins fall exactly on the $k_i$."""
    p1 = 2 * math.pi / (band.dk * h)  # integer by the choice of h
    P1 = int(round(p1))
    M = -(-psi.size // P1)  # oversampling so that the samples fit in one period
    mod = psi * np.exp(-1j * band.k0 * (centres - centres[0]))
    spec = np.fft.fft(mod, n=P1 * M)
    return h * spec[np.arange(K) * M]


def _window(z: np.ndarray, L: float) -> np.ndarray:
    r"""A $C^\infty$ window: 1 on $|z| \le L/2$, 0 at $|z| \ge L$ (smooth taper between), so
    truncating a slowly decaying tail leaves an error that decays fast in $kL$."""
    t = np.clip((np.abs(z) - L / 2) / (L / 2), 0.0, 1.0)
    with np.errstate(divide="ignore", over="ignore"):
        f0 = np.where(t < 1, np.exp(-1.0 / np.maximum(1 - t, 1e-300)), 0.0)
        f1 = np.where(t > 0, np.exp(-1.0 / np.maximum(t, 1e-300)), 0.0)
    return f0 / (f0 + f1)


def _estimate(act, m, h, L, k, dt, band=None):
    n = int(round(2 * L / h)) + 1
    z = -L + h * np.arange(n)
    psi, centres = _derivative_samples(act, m, z, h, dt)
    psi = psi * _window(centres, L)
    fm = _dtft(psi, centres, k, h) if band is None else _dtft_fft(psi, centres, band, k.size, h)
    # |DTFT|^2 ~ |F[phi^(m)]|^2; divide by the exact symbol of the one difference and by
    # k^(2(m-1)) for the orders taken by autodiff
    fm_sq = np.abs(fm) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        sym = (2.0 * np.sin(k * h / 2) / h) ** 2 if m else np.ones_like(k)
        ks = np.where(k == 0, 1.0, k) ** (2 * max(m - 1, 0))
        out = np.where(k == 0, np.inf if m else fm_sq, fm_sq / np.where(sym == 0, 1.0, sym) / ks)
    floor = 10.0 * machine_epsilon(dt) * float(h * np.sum(np.abs(psi)))
    return out, fm_sq, floor, n


def activation_spectrum(
    activation: AbstractActivation | str,
    k: Float[ArrayLike, " K"],
    *,
    accuracy: float = 1e-6,
    derivative_order: int | None = None,
    max_points: int = 1 << 22,
    method: str = "auto",
    full_output: bool = False,
    dtype=None,
) -> Float[Array, " K"] | ActivationSpectrum:
    r"""$|\mathcal{F}[\phi](k)|^2$ of an activation, numerically, to a requested accuracy.

    See the module docstring for the method (finite-difference derivative of order $m$,
    its discrete Fourier transform divided by the exact difference symbol, grid refinement
    until two estimates agree to `accuracy`).

    **Arguments:**

    - `activation`: an `AbstractActivation` or a name.
    - `k`: angular frequencies, 1-D (``k = 0`` gives $+\infty$ when $m \ge 1$).
    - `accuracy`: relative accuracy wanted at every resolved $k$.
    - `derivative_order`: $m$; default: the smallest order whose derivative decays.
    - `max_points`: largest grid allowed.
    - `method`: ``"fft"`` (needs uniformly spaced, increasing `k`: exact FFT bins),
      ``"direct"`` (the sum at each $k$) or ``"auto"`` (FFT for >= 32 uniformly spaced
      frequencies, direct otherwise).
    - `full_output`: return a `ActivationSpectrum` instead of the values.
    - `dtype`: float32/float64 (default from x64).

    **Returns:** the values, shape ``(K,)``, or a `ActivationSpectrum`.

    **Raises:** ``ValueError`` for bad `k`, an activation with no decaying derivative, or a
    grid larger than `max_points` needed for `accuracy` ("grid too coarse").

    **References:** Fourier penalty of an activation, arXiv 2503.10587, Sec. III.
    """
    where = "activation_spectrum"
    dt = resolve_dtype(dtype, where)
    act = get_activation(activation)
    check_array(k, "k", where, ndim=1)
    accuracy = check_positive(accuracy, "accuracy", where)
    max_points = check_positive_int(max_points, "max_points", where)
    if accuracy < 10 * machine_epsilon(dt):
        raise ValueError(
            f"{where}: accuracy={accuracy:g} is below what {np.dtype(dt).name} can resolve"
        )
    kk = np.abs(np.asarray(k, np.float64))
    m_auto, L = choose_derivative_order(act, accuracy=min(accuracy, 1e-3))
    if derivative_order is None:
        m = m_auto
    else:
        if (
            isinstance(derivative_order, bool)
            or not isinstance(derivative_order, int)
            or derivative_order < 0
        ):
            raise ValueError(
                f"{where}: derivative_order must be an integer >= 0; got {derivative_order!r}"
            )
        if derivative_order < m_auto:
            raise ValueError(
                f"{where}: derivative_order={derivative_order} of {act.name!r} does not decay; "
                f"use >= {m_auto} (or None for automatic)"
            )
        m = derivative_order
    kmax = float(np.max(kk)) if kk.size else 1.0
    h = min(1.0 / 8.0, math.pi / (4.0 * max(kmax, 1e-12)))
    if method not in ("auto", "fft", "direct"):
        raise ValueError(f"{where}: method must be 'auto', 'fft' or 'direct'; got {method!r}")
    band = None if method == "direct" else _uniform_band(kk, h)
    if method == "fft" and band is None:
        raise ValueError(
            f"{where}: method='fft' needs >= {_FFT_MIN_K} uniformly spaced, increasing "
            "non-negative k; use method='direct' (or 'auto') for other frequencies"
        )
    if band is not None:
        h = 2 * math.pi / (band.dk * band.base)  # <= the target step; halves exactly below
    prev, prev_rich, err = None, None, math.inf
    while True:
        vals, fm_sq, floor, n = _estimate(act, m, h, L, kk, dt, band)
        resolved = ((fm_sq > (floor / accuracy) ** 2) & (kk > 0)) | ((kk == 0) & (m == 0))
        if prev is not None:
            # Richardson step for the O(h^2) error of kinks (harmless where it is smaller)
            with np.errstate(invalid="ignore"):
                rich = np.where(np.isfinite(vals), vals + (vals - prev) / 3.0, vals)
            if prev_rich is not None:
                mask = resolved & np.isfinite(rich)
                a, b = rich[mask], prev_rich[mask]
                err = float(np.max(np.abs(a - b) / np.abs(a))) if a.size else 0.0
                if err <= accuracy:
                    vals = rich
                    break
            prev_rich = rich
        prev = vals
        h, L = h / 2.0, L * 1.25
        if 2 * L / h > max_points:
            raise ValueError(
                f"{where}: grid too coarse for accuracy={accuracy:g} at k up to {kmax:g}: "
                f"it would need more than max_points={max_points} points (last relative change "
                f"{err:.2e}); relax the accuracy, lower k or raise max_points"
            )
    values = jnp.asarray(vals, dt)
    if not full_output:
        return values
    return ActivationSpectrum(
        jnp.asarray(kk, dt),
        values,
        jnp.asarray(resolved),
        m,
        float(h),
        float(L),
        int(n),
        float(err),
        "direct" if band is None else "fft",
    )
