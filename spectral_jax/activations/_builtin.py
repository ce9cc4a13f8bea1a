r"""Built-in activations with closed-form Fourier magnitudes.

$|\mathcal{F}[\sigma](k)|^2$ for $k \neq 0$ (convention in `AbstractActivation`):

| activation | $\sigma(z)$ | $|\mathcal{F}[\sigma](k)|^2$ |
|---|---|---|
| ReLU | $\max(z, 0)$ | $k^{-4}$ |
| ReLU$^p$ | $\max(z,0)^p$ | $(p!)^2 k^{-2p-2}$ |
| leaky ReLU | $\max(z, \alpha z)$ | $(1-\alpha)^2 k^{-4}$ |
| tanh | $\tanh z$ | $\pi^2/\sinh^2(\pi k/2)$ |
| sigmoid | $1/(1+e^{-z})$ | $\pi^2/\sinh^2(\pi k)$ |
| softplus | $\log(1+e^z)$ | $\pi^2/(k^2\sinh^2(\pi k))$ |
| GELU | $z\,\Phi(z)$ | $(1+k^2)^2 e^{-k^2}/k^4$ |
| Gaussian | $e^{-z^2/2}$ | $2\pi e^{-k^2}$ |
| Cauchy | $1/(1+z^2)$ | $\pi^2 e^{-2|k|}$ |
| sine | $\sin z$ | (Dirac masses at $\pm1$) |
"""

from __future__ import annotations

import math
from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
from jax.scipy.special import erf

from .._types import Array, ArrayLike, Float
from ._base import AbstractActivation

__all__ = [
    "ReLU",
    "ReLUPower",
    "LeakyReLU",
    "Tanh",
    "Sigmoid",
    "Softplus",
    "GELU",
    "Sine",
    "Gaussian",
    "Cauchy",
]


def _k_nonzero(k: ArrayLike) -> Array:
    k = jnp.abs(jnp.asarray(k))
    return k, jnp.where(k == 0, 1, k)


def _at_zero(k: Array, value: Array) -> Array:
    return jnp.where(k == 0, jnp.inf, value)


class ReLU(AbstractActivation):
    r"""$\sigma(z) = \max(z, 0)$; $\sigma'(0) := 0$."""

    piecewise_degree: ClassVar[int] = 1
    homogeneity: ClassVar[int] = 1

    @property
    def name(self) -> str:
        return "relu"

    def __call__(self, z: Float[ArrayLike, "*s"]) -> Float[Array, "*s"]:
        z = jnp.asarray(z)
        return jnp.where(z > 0, z, jnp.zeros_like(z))

    def fourier_sq(self, k: Float[ArrayLike, "*s"]) -> Float[Array, "*s"]:
        k, ks = _k_nonzero(k)
        return _at_zero(k, ks**-4.0)


class ReLUPower(AbstractActivation):
    r"""$\sigma(z) = \max(z, 0)^p$ for an integer $p \ge 1$ (the ReLU$^p$ / RePU family)."""

    p: int = eqx.field(static=True)

    def __check_init__(self):
        if isinstance(self.p, bool) or not isinstance(self.p, int) or self.p < 1:
            raise ValueError(f"ReLUPower: p must be an integer >= 1; got {self.p!r}")

    @property
    def name(self) -> str:
        return "relu" if self.p == 1 else f"relu{self.p}"

    def __call__(self, z: Float[ArrayLike, "*s"]) -> Float[Array, "*s"]:
        z = jnp.asarray(z)
        zp = jnp.where(z > 0, z, jnp.zeros_like(z))
        return zp**self.p

    def fourier_sq(self, k: Float[ArrayLike, "*s"]) -> Float[Array, "*s"]:
        k, ks = _k_nonzero(k)
        return _at_zero(k, float(math.factorial(self.p)) ** 2 * ks ** (-2.0 * self.p - 2.0))

    @property
    def piecewise_degree(self) -> int:
        return self.p

    @property
    def homogeneity(self) -> int:
        return self.p


class LeakyReLU(AbstractActivation):
    r"""$\sigma(z) = \max(z, \alpha z)$ with slope $0 \le \alpha < 1$."""

    slope: float = eqx.field(static=True, default=0.01)
    piecewise_degree: ClassVar[int] = 1
    homogeneity: ClassVar[int] = 1

    def __check_init__(self):
        if not (0.0 <= float(self.slope) < 1.0):
            raise ValueError(f"LeakyReLU: slope must lie in [0, 1); got {self.slope!r}")

    @property
    def name(self) -> str:
        return "leaky_relu"

    def __call__(self, z: Float[ArrayLike, "*s"]) -> Float[Array, "*s"]:
        z = jnp.asarray(z)
        return jnp.where(z > 0, z, self.slope * z)

    def fourier_sq(self, k: Float[ArrayLike, "*s"]) -> Float[Array, "*s"]:
        k, ks = _k_nonzero(k)
        return _at_zero(k, (1.0 - self.slope) ** 2 * ks**-4.0)


class Tanh(AbstractActivation):
    r"""$\sigma(z) = \tanh z$."""

    piecewise_degree: ClassVar[None] = None
    homogeneity: ClassVar[None] = None

    @property
    def name(self) -> str:
        return "tanh"

    def __call__(self, z: Float[ArrayLike, "*s"]) -> Float[Array, "*s"]:
        return jnp.tanh(jnp.asarray(z))

    def fourier_sq(self, k: Float[ArrayLike, "*s"]) -> Float[Array, "*s"]:
        k, ks = _k_nonzero(k)
        return _at_zero(k, (jnp.pi / jnp.sinh(jnp.pi * ks / 2)) ** 2)


class Sigmoid(AbstractActivation):
    r"""Logistic sigmoid $\sigma(z) = 1/(1+e^{-z})$."""

    piecewise_degree: ClassVar[None] = None
    homogeneity: ClassVar[None] = None

    @property
    def name(self) -> str:
        return "sigmoid"

    def __call__(self, z: Float[ArrayLike, "*s"]) -> Float[Array, "*s"]:
        z = jnp.asarray(z)
        return 0.5 * (1.0 + jnp.tanh(0.5 * z))

    def fourier_sq(self, k: Float[ArrayLike, "*s"]) -> Float[Array, "*s"]:
        k, ks = _k_nonzero(k)
        return _at_zero(k, (jnp.pi / jnp.sinh(jnp.pi * ks)) ** 2)


class Softplus(AbstractActivation):
    r"""$\sigma(z) = \log(1 + e^z)$ (computed stably)."""

    piecewise_degree: ClassVar[None] = None
    homogeneity: ClassVar[None] = None

    @property
    def name(self) -> str:
        return "softplus"

    def __call__(self, z: Float[ArrayLike, "*s"]) -> Float[Array, "*s"]:
        z = jnp.asarray(z)
        return jnp.logaddexp(z, jnp.zeros_like(z))

    def fourier_sq(self, k: Float[ArrayLike, "*s"]) -> Float[Array, "*s"]:
        k, ks = _k_nonzero(k)
        return _at_zero(k, (jnp.pi / (ks * jnp.sinh(jnp.pi * ks))) ** 2)


class GELU(AbstractActivation):
    r"""Exact GELU $\sigma(z) = z\,\Phi(z)$, $\Phi$ the standard normal CDF."""

    piecewise_degree: ClassVar[None] = None
    homogeneity: ClassVar[None] = None

    @property
    def name(self) -> str:
        return "gelu"

    def __call__(self, z: Float[ArrayLike, "*s"]) -> Float[Array, "*s"]:
        z = jnp.asarray(z)
        return 0.5 * z * (1.0 + erf(z / jnp.sqrt(2.0).astype(z.dtype)))

    def fourier_sq(self, k: Float[ArrayLike, "*s"]) -> Float[Array, "*s"]:
        k, ks = _k_nonzero(k)
        return _at_zero(k, (1.0 + ks**2) ** 2 * jnp.exp(-(ks**2)) / ks**4)


class Sine(AbstractActivation):
    r"""$\sigma(z) = \sin z$ (periodic; its transform is a pair of Dirac masses)."""

    piecewise_degree: ClassVar[None] = None
    homogeneity: ClassVar[None] = None

    @property
    def name(self) -> str:
        return "sine"

    def __call__(self, z: Float[ArrayLike, "*s"]) -> Float[Array, "*s"]:
        return jnp.sin(jnp.asarray(z))

    def fourier_sq(self, k: Float[ArrayLike, "*s"]) -> Float[Array, "*s"]:
        raise NotImplementedError(
            "sine.fourier_sq: the Fourier transform of sin is a pair of Dirac masses at "
            "k = +-1; it has no function-valued |F|^2, so its spectral penalty is undefined"
        )


class Gaussian(AbstractActivation):
    r"""$\sigma(z) = e^{-z^2/2}$."""

    piecewise_degree: ClassVar[None] = None
    homogeneity: ClassVar[None] = None

    @property
    def name(self) -> str:
        return "gaussian"

    def __call__(self, z: Float[ArrayLike, "*s"]) -> Float[Array, "*s"]:
        z = jnp.asarray(z)
        return jnp.exp(-0.5 * z * z)

    def fourier_sq(self, k: Float[ArrayLike, "*s"]) -> Float[Array, "*s"]:
        k = jnp.asarray(k)
        return 2.0 * jnp.pi * jnp.exp(-k * k)


class Cauchy(AbstractActivation):
    r"""$\sigma(z) = 1/(1+z^2)$."""

    piecewise_degree: ClassVar[None] = None
    homogeneity: ClassVar[None] = None

    @property
    def name(self) -> str:
        return "cauchy"

    def __call__(self, z: Float[ArrayLike, "*s"]) -> Float[Array, "*s"]:
        z = jnp.asarray(z)
        return 1.0 / (1.0 + z * z)

    def fourier_sq(self, k: Float[ArrayLike, "*s"]) -> Float[Array, "*s"]:
        k = jnp.asarray(k)
        return jnp.pi**2 * jnp.exp(-2.0 * jnp.abs(k))
