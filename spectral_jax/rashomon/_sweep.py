r"""The Rashomon estimate against the Hoeffding bound as the frequency of $f$ grows."""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from .._types import PRNGKeyArray
from ..quadrature import QuadratureRule
from ..targets import Target
from ._estimate import rashomon_estimate
from ._kappa import hoeffding_bound, rashomon_kappa
from ._setup import check_key

__all__ = ["rashomon_frequency_sweep", "FrequencySweep", "oscillatory_target"]


class FrequencySweep(eqx.Module):
    r"""Per frequency $\nu$: the MC estimate of $\mathbb{P}(\mathcal{R}_\varepsilon)$ and its
    95% upper end, the Hoeffding-event probability, $\kappa$ (direct and the slides'
    Poisson one), and the bound with each. Arrays of shape ``(len(frequencies),)``."""

    frequencies: np.ndarray
    estimate: np.ndarray
    ci_high: np.ndarray
    hoeffding_probability: np.ndarray
    hoeffding_ci_low: np.ndarray
    hoeffding_ci_high: np.ndarray
    kappa: np.ndarray
    kappa_poisson: np.ndarray
    bound: np.ndarray
    bound_poisson: np.ndarray
    f_norm_sq: np.ndarray
    n: int
    epsilon: float
    A: float
    dim: int
    num_samples: int

    def as_dict(self) -> dict:
        """The per-frequency arrays as plain lists (for JSON)."""
        keys = (
            "frequencies",
            "estimate",
            "ci_high",
            "hoeffding_probability",
            "kappa",
            "kappa_poisson",
            "bound",
            "bound_poisson",
        )
        return {k: np.asarray(getattr(self, k)).tolist() for k in keys}


def oscillatory_target(nu: float, dim: int = 1, kind: str = "sin") -> Target:
    r"""The Rashomon studies' oscillatory targets.

    - ``kind="sin"`` (1D): $\sin(\nu\pi x)$, the slides' example. It does **not** satisfy
      the bound's hypothesis $f=\Delta g$ with $g\in C_0^2$: $g'(\pm1)\neq0$.
    - ``kind="cos"`` (1D): $\cos(\nu\pi x)$; for integer $\nu$,
      $g=((-1)^\nu-\cos\nu\pi x)/(\nu\pi)^2$ has $g=g'=0$ at $\pm1$, so the hypothesis
      holds and $\kappa=2/(\nu\pi)^2$.
    - $d\ge2$ (any ``kind``): the radial wave $\cos(\nu\pi|x|)$ on the unit ball; the
      hypothesis holds for even integer $\nu$ in $d=2$ (zero flux
      $\int_0^1 t\cos(\nu\pi t)\,dt$).
    """
    nu = float(nu)
    if kind not in ("sin", "cos"):
        raise ValueError(f"oscillatory_target: kind must be 'sin' or 'cos'; got {kind!r}")
    if dim == 1 and kind == "sin":
        return Target(
            f"sin({nu:g} pi x)", 1, lambda x: jnp.sin(nu * jnp.pi * x[:, 0]), f"sin({nu:g} pi x)"
        )
    if dim == 1:
        return Target(
            f"cos({nu:g} pi x)", 1, lambda x: jnp.cos(nu * jnp.pi * x[:, 0]), f"cos({nu:g} pi x)"
        )
    return Target(
        f"cos({nu:g} pi |x|)",
        dim,
        lambda x: jnp.cos(nu * jnp.pi * jnp.sqrt(jnp.sum(x * x, axis=1))),
        f"cos({nu:g} pi |x|)",
    )


def rashomon_frequency_sweep(
    frequencies: Any,
    n: int,
    epsilon: float,
    *,
    A: float = 1.0,
    dim: int = 1,
    num_samples: int,
    key: PRNGKeyArray,
    batch_size: int | None = None,
    quadrature: QuadratureRule | None = None,
    progress: bool = False,
    dtype: Any = None,
    kind: str = "sin",
) -> FrequencySweep:
    r"""Estimate and bounds for $f_\nu=\sin(\nu\pi x)$ or $\cos(\nu\pi x)$ (1D, ``kind``)
    or $\cos(\nu\pi|x|)$ (d-D, on the unit ball) for each $\nu$ in ``frequencies`` (see
    `oscillatory_target` for which satisfy the bound's hypothesis).

    The valid bound uses $\kappa=\sup|\langle\sigma(w\cdot x-b),f\rangle|$; the slides'
    constant (Poisson, $g|_{\partial D}=0$) is reported beside it. For $\sin(\nu\pi x)$:
    $\kappa=2/(\nu\pi)$ and $\kappa_{\rm slides}=1/(\nu\pi)^2$, so the valid exponent grows
    like $\nu^2$, not $\nu^4$.

    **Returns:** a `FrequencySweep`.

    **References:** arXiv 2306.17301 (slides: Rashomon remark, "$\kappa\approx\nu^{-2}$").
    """
    freqs = np.asarray(frequencies, dtype=float).reshape(-1)
    if freqs.size == 0 or not np.all(np.isfinite(freqs)) or np.any(freqs <= 0):
        raise ValueError(
            f"rashomon_frequency_sweep: frequencies must be positive finite numbers; got {freqs}"
        )
    cols: dict[str, list[float]] = {
        k: []
        for k in (
            "estimate",
            "ci_high",
            "hoeffding_probability",
            "hoeffding_ci_low",
            "hoeffding_ci_high",
            "kappa",
            "kappa_poisson",
            "bound",
            "bound_poisson",
            "f_norm_sq",
        )
    }
    check_key(key, "rashomon_frequency_sweep")
    r = None
    for i, nu in enumerate(freqs):
        f = oscillatory_target(nu, dim, kind)
        r = rashomon_estimate(
            f,
            n,
            epsilon,
            A=A,
            num_samples=num_samples,
            batch_size=batch_size,
            key=jr.fold_in(key, i),
            quadrature=quadrature,
            progress=progress,
            dtype=dtype,
        )
        kap = rashomon_kappa(f, quadrature=quadrature, dtype=dtype)
        kp = rashomon_kappa(f, method="poisson", quadrature=quadrature, dtype=dtype)
        hb = hoeffding_bound(f, n, epsilon, A, kappa=kap, quadrature=quadrature, dtype=dtype)
        hp = hoeffding_bound(f, n, epsilon, A, kappa=kp, quadrature=quadrature, dtype=dtype)
        for k, v in (
            ("estimate", r.probability),
            ("ci_high", r.ci_high),
            ("hoeffding_probability", r.hoeffding_probability),
            ("hoeffding_ci_low", r.hoeffding_ci_low),
            ("hoeffding_ci_high", r.hoeffding_ci_high),
            ("kappa", kap),
            ("kappa_poisson", kp),
            ("bound", hb.bound),
            ("bound_poisson", hp.bound),
            ("f_norm_sq", r.f_norm_sq),
        ):
            cols[k].append(float(v))
    return FrequencySweep(
        frequencies=freqs,
        **{k: np.asarray(v) for k, v in cols.items()},
        n=int(n),
        epsilon=float(epsilon),
        A=float(A),
        dim=int(dim),
        num_samples=int(num_samples),
    )
