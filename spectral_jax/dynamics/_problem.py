r"""The training problem: a model, a trainable subset and the loss
$E=\tfrac12\sum_l q_l(h(x_l)-f(x_l))^2$.

- `LossDomain`: nodes $x_l$, weights $q_l$ and target values $f(x_l)$ (a quadrature rule
  gives the continuous $L^2$ loss; unit/`1/m` weights give the sample loss).
- `select_trainable`: a boolean filter spec from a name or an Equinox filter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_array
from .._precision import resolve_dtype
from .._types import Array, Float
from ..activations import ReLU, ReLUPower
from ..networks import ShallowNetwork
from ..networks._trainable import NAMED_SELECTIONS as TRAINABLE_NAMES
from ..networks._trainable import trainable_spec
from ..quadrature import QuadratureRule

__all__ = ["LossDomain", "loss_domain", "select_trainable", "TRAINABLE_NAMES", "model_outputs"]


class LossDomain(eqx.Module):
    r"""Nodes, weights and target values of $E=\tfrac12\sum_l q_l(h(x_l)-f_l)^2$.

    **Fields:** `nodes` ``(N, d)``, `weights` ``(N,)`` (positive), `values` ``(N,)``,
    `lo`/`hi` (static bounding box used by the Fourier modes).
    """

    nodes: Float[Array, "N d"]
    weights: Float[Array, " N"]
    values: Float[Array, " N"]
    lo: tuple[float, ...] = eqx.field(static=True)
    hi: tuple[float, ...] = eqx.field(static=True)

    @property
    def size(self) -> int:
        return int(self.weights.shape[0])

    @property
    def dim(self) -> int:
        return int(self.nodes.shape[1])


def loss_domain(
    target: Callable | Any,
    rule: QuadratureRule | None = None,
    *,
    samples: Float[Array, "N d"] | None = None,
    bounds: tuple | None = None,
    dtype=None,
) -> LossDomain:
    r"""Build the loss $E=\tfrac12\sum_l q_l(h(x_l)-f(x_l))^2$.

    **Arguments:**

    - `target`: a `Target` (or any callable ``(N, d) -> (N,)``).
    - `rule`: a `QuadratureRule` (continuous $L^2$ loss, e.g.
      ``gauss_legendre(Interval(), 8, panels=64)``); or
    - `samples`: sample points ``(N, d)`` (weights $1/N$: the mean-squared loss / 2).
    - `bounds`: ``(lo, hi)`` of the domain for the Fourier modes (default: the bounding box
      of the nodes).
    - `dtype`: floating dtype (default: x64-dependent).

    **Returns:** a `LossDomain`.

    **Raises:** ``ValueError`` if neither or both of `rule`/`samples` are given, or for
    non-finite target values.
    """
    where = "loss_domain"
    dt = resolve_dtype(dtype, where)
    if (rule is None) == (samples is None):
        raise ValueError(
            f"{where}: pass exactly one of rule= (a QuadratureRule) or samples=; got "
            f"rule={'given' if rule is not None else None}, samples="
            f"{'given' if samples is not None else None}"
        )
    if rule is not None:
        if not isinstance(rule, QuadratureRule):
            raise TypeError(f"{where}: rule must be a QuadratureRule; got {type(rule).__name__}")
        x = jnp.asarray(rule.nodes, dt)
        q = jnp.asarray(rule.weights, dt)
    else:
        x = jnp.asarray(samples, dt)
        if x.ndim == 1:
            x = x[:, None]
        check_array(x, "samples", where, ndim=2)
        q = jnp.full((x.shape[0],), 1.0 / x.shape[0], dt)
    f = jnp.asarray(target(x), dt)
    check_array(f, "target values", where, shape=(x.shape[0],))
    xn = np.asarray(x)
    if bounds is None:
        lo, hi = tuple(float(v) for v in xn.min(0)), tuple(float(v) for v in xn.max(0))
    else:
        lo, hi = (tuple(float(v) for v in np.atleast_1d(b)) for b in bounds)
    return LossDomain(x, q, f, lo, hi)


def model_outputs(model: Any, x: Float[Array, "N d"]) -> Float[Array, " N"]:
    """$h(x_l)$ for all nodes: `ShallowNetwork.batch`, else ``vmap(model)``."""
    if isinstance(model, ShallowNetwork):
        return model.batch(x)
    out = jax.vmap(model)(x)
    return out.reshape(x.shape[0])


def select_trainable(
    model: Any, trainable: str | Callable | Any = "all", where: str = "select_trainable"
):
    r"""A boolean filter spec (pytree like `model`) of the trainable leaves; the library's
    one resolver `spectral_jax.networks.trainable_spec` (names, combinations such as
    ``"outer,biases"``, a predicate on leaves, or a pytree of bools).

    **Raises:** ``ValueError`` for an unknown name or a selection that selects no
    floating-point array.
    """
    return trainable_spec(model, trainable, where=where)


def fast1d_applies(model: Any, dom: LossDomain) -> bool:
    """Whether the O((N+n) log(N+n)) 1D path applies: a 1D `ShallowNetwork` with ReLU^p."""
    return (
        isinstance(model, ShallowNetwork)
        and model.dim == 1
        and dom.dim == 1
        and isinstance(model.activation, (ReLU, ReLUPower))
    )
