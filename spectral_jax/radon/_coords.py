r"""Radon-spline coordinates of a shallow network and its breakplanes.

A neuron $v\,\sigma(w\cdot x - b)$ is written with the orientation $\xi = w/|w| \in
S^{d-1}$, the signed offset $\gamma = b/|w|$ (its breakplane is $\{x: \xi\cdot x =
\gamma\}$), the scale $\omega = |w|$ and the amplitude $\mu = v\,\omega^{p}$, where $p$ is
the degree of homogeneity of $\sigma$ ($\sigma(cz) = c^p\sigma(z)$, $c > 0$; ReLU$^p$) and
$p = 0$ for non-homogeneous activations. For homogeneous $\sigma$ the network depends on
$(\xi, \gamma, \mu)$ only, $\omega$ being the rescaling symmetry
$(v, w, b) \mapsto (c^{-p}v, cw, cb)$; for non-homogeneous $\sigma$, $\omega$ is the
steepness of the neuron across its breakplane. The map is a bijection for $w \ne 0$:
$w = \omega\xi$, $b = \omega\gamma$, $v = \mu\,\omega^{-p}$.

**References:** arXiv 2503.10587, Sec. II (Radon-spline reparameterisation).
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from .._checks import check_array, concrete_or_none
from .._types import Array, Float
from ..activations import AbstractActivation, get_activation
from ..networks import ShallowNetwork

__all__ = ["RadonCoordinates", "to_radon", "from_radon", "breakplanes"]


class RadonCoordinates(eqx.Module):
    r"""$(\xi, \gamma, \mu, \omega)$ of every neuron, with the homogeneity degree $p$ used.

    **Fields:** `xi` ``(n, d)`` unit rows, `gamma` ``(n,)``, `mu` ``(n,)``, `omega`
    ``(n,)`` ($>0$), `degree` $p$ (static)."""

    xi: Float[Array, "n d"]
    gamma: Float[Array, " n"]
    mu: Float[Array, " n"]
    omega: Float[Array, " n"]
    degree: int = eqx.field(static=True)


def _degree(activation: AbstractActivation | str) -> int:
    p = get_activation(activation).homogeneity
    return int(p) if p is not None else 0


def to_radon(net: ShallowNetwork) -> RadonCoordinates:
    r"""$(v, w, b) \mapsto (\xi, \gamma, \mu, \omega)$ (see the module docstring).

    **Raises:** ``ValueError`` if some $w_i = 0$ (no breakplane)."""
    w, b, v = net.weights, net.biases, net.outer
    r = jnp.linalg.norm(w, axis=1)
    rv = concrete_or_none(r)
    if rv is not None and np.any(rv == 0):
        raise ValueError(
            f"to_radon: neuron {int(np.argmax(rv == 0))} has w = 0; it has no breakplane "
            "and no Radon-spline coordinates"
        )
    p = _degree(net.activation)
    return RadonCoordinates(w / r[:, None], b / r, v * r**p, r, p)


def from_radon(
    coords: RadonCoordinates, activation: AbstractActivation | str = "relu", offset: float = 0.0
) -> ShallowNetwork:
    r"""$(\xi, \gamma, \mu, \omega) \mapsto (v, w, b)$: $w = \omega\xi$, $b = \omega\gamma$,
    $v = \mu\omega^{-p}$, as a `ShallowNetwork`.

    **Raises:** ``ValueError`` if `activation`'s homogeneity differs from `coords.degree`,
    or for non-positive $\omega$."""
    act = get_activation(activation)
    if _degree(act) != coords.degree:
        raise ValueError(
            f"from_radon: coordinates were made with homogeneity degree {coords.degree} "
            f"but activation {act.name!r} has degree {_degree(act)}"
        )
    check_array(coords.omega, "omega", "from_radon", ndim=1)
    ov = concrete_or_none(coords.omega)
    if ov is not None and np.any(ov <= 0):
        raise ValueError("from_radon: omega must be positive")
    om = coords.omega
    return ShallowNetwork(
        coords.mu / om**coords.degree, om[:, None] * coords.xi, om * coords.gamma, act, offset
    )


def breakplanes(net_or_coords: ShallowNetwork | RadonCoordinates) -> tuple[Array, Array]:
    r"""$(\xi, \gamma)$ of the breakplanes $\{x : \xi\cdot x = \gamma\}$ of every neuron."""
    c = net_or_coords if isinstance(net_or_coords, RadonCoordinates) else to_radon(net_or_coords)
    return c.xi, c.gamma
