"""The abstract activation: value, derivatives by autodiff, Fourier magnitude."""

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
from equinox import AbstractVar

from .._types import Array, ArrayLike, Float

__all__ = ["AbstractActivation"]


class AbstractActivation(eqx.Module):
    r"""An elementwise non-linearity $\sigma:\mathbb{R}\to\mathbb{R}$.

    Concrete activations implement `__call__`, `name` and `fourier_sq`, and declare
    `piecewise_degree` and `homogeneity` (``None`` where they do not apply). Derivatives come
    from autodiff, so every activation (built-in or designed) is differentiable to any
    order that its formula allows.

    **Fourier convention** (used everywhere in the library):
    $\mathcal{F}[\sigma](k) = \int_{\mathbb{R}} \sigma(z)\,e^{-ikz}\,dz$, with $k$ an
    angular frequency. For activations that do not decay (ReLU, tanh, ...) the transform
    is a tempered distribution; `fourier_sq(k)` returns the square modulus of its regular
    part for $k \neq 0$, e.g. $|\mathcal{F}[\mathrm{ReLU}](k)|^2 = k^{-4}$, computed from a
    derivative that decays: $\mathcal{F}[\sigma^{(m)}](k) = (ik)^m\mathcal{F}[\sigma](k)$.
    """

    @property
    @abc.abstractmethod
    def name(self) -> str:
        """Registry name, e.g. ``"relu"``, ``"relu3"``, ``"tanh"``."""

    @abc.abstractmethod
    def __call__(self, z: Float[ArrayLike, "*shape"]) -> Float[Array, "*shape"]:
        """Evaluate $\\sigma(z)$ elementwise."""

    @abc.abstractmethod
    def fourier_sq(self, k: Float[ArrayLike, "*shape"]) -> Float[Array, "*shape"]:
        """Closed-form $|\\mathcal{F}[\\sigma](k)|^2$ (see the class docstring for the
        convention). Raises ``NotImplementedError`` where no function-valued closed form
        exists (e.g. ``sine``, whose transform is a pair of Dirac masses)."""

    #: ``p`` if $\sigma$ is a piecewise polynomial of degree ``p`` with a single break at 0
    #: (ReLU$^p$, leaky ReLU); ``None`` otherwise. Exact quadrature rules use it. Every
    #: concrete activation declares it (a class attribute, a field or a property).
    piecewise_degree: AbstractVar[int | None]
    #: ``p`` if $\sigma(cz) = c^p\sigma(z)$ for all $c > 0$, else ``None``.
    homogeneity: AbstractVar[int | None]

    def derivative(self, z: Float[ArrayLike, "*shape"], order: int = 1) -> Float[Array, "*shape"]:
        r"""$\sigma^{(m)}(z)$ elementwise, by nested autodiff (``order`` $= m \ge 0$)."""
        if isinstance(order, bool) or not isinstance(order, int) or order < 0:
            raise ValueError(
                f"{self.name}.derivative: order must be an integer >= 0; got {order!r}"
            )
        f = self.__call__
        for _ in range(order):
            f = jax.grad(f)
        return jnp.vectorize(f)(jnp.asarray(z))
