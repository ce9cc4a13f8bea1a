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
import jax.tree_util as jtu
import numpy as np

from .._checks import check_array
from .._precision import resolve_dtype
from .._types import Array, Float
from ..activations import ReLU, ReLUPower
from ..networks import MLP, ShallowNetwork
from ..quadrature import QuadratureRule

__all__ = ["LossDomain", "loss_domain", "select_trainable", "TRAINABLE_NAMES", "model_outputs"]

TRAINABLE_NAMES = ("all", "outer", "biases", "weights", "last", "second_to_last", "offset")


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
        if rule is not None and hasattr(rule, "kind"):
            pass
    else:
        lo, hi = (tuple(float(v) for v in np.atleast_1d(b)) for b in bounds)
    return LossDomain(x, q, f, lo, hi)


def model_outputs(model: Any, x: Float[Array, "N d"]) -> Float[Array, " N"]:
    """$h(x_l)$ for all nodes: `ShallowNetwork.batch`, else ``vmap(model)``."""
    if isinstance(model, ShallowNetwork):
        return model.batch(x)
    out = jax.vmap(model)(x)
    return out.reshape(x.shape[0])


def _false_spec(model):
    return jtu.tree_map(lambda _: False, model)


def _set(spec, where_fn, model):
    leaves = where_fn(model)
    if not isinstance(leaves, tuple):
        leaves = (leaves,)
    nodes = lambda m: tuple(where_fn(m)) if isinstance(where_fn(m), tuple) else (where_fn(m),)  # noqa: E731
    return eqx.tree_at(nodes, spec, replace=tuple(True for _ in leaves))


def _named(model, name: str, where: str):
    spec = _false_spec(model)
    if name == "all":
        return jtu.tree_map(eqx.is_inexact_array, model)
    if isinstance(model, ShallowNetwork):
        table = {
            "outer": lambda m: m.outer,
            "biases": lambda m: m.biases,
            "weights": lambda m: m.weights,
            "offset": lambda m: m.offset,
            "last": lambda m: (m.outer, m.offset),
            "second_to_last": lambda m: (m.weights, m.biases),
        }
    elif isinstance(model, MLP):
        layers = model.layers

        def _bias(i):
            return lambda m: m.layers[i].bias

        table = {
            "outer": lambda m: m.layers[-1].weight,
            "biases": lambda m: tuple(lay.bias for lay in m.layers if lay.bias is not None),
            "weights": lambda m: tuple(lay.weight for lay in m.layers),
            "offset": lambda m: m.layers[-1].bias,
            "last": lambda m: (m.layers[-1].weight, m.layers[-1].bias),
        }
        if len(layers) >= 2:
            table["second_to_last"] = lambda m: (m.layers[-2].weight, m.layers[-2].bias)
    else:
        raise ValueError(
            f"{where}: trainable={name!r} needs a ShallowNetwork or MLP; for a "
            f"{type(model).__name__} pass 'all' or an Equinox filter (pytree of bools or a "
            "callable on leaves)"
        )
    if name not in table:
        raise ValueError(
            f"{where}: trainable must be one of {list(TRAINABLE_NAMES)} (or a "
            f"comma-separated combination, or a filter); got {name!r}"
        )
    return _set(spec, table[name], model)


def select_trainable(
    model: Any, trainable: str | Callable | Any = "all", where: str = "select_trainable"
):
    r"""A boolean filter spec (pytree like `model`) of the trainable leaves.

    **Arguments:**
    - `model`: any Equinox module (`ShallowNetwork`, `MLP`, ...).
    - `trainable`: a name in ``("all", "outer", "biases", "weights", "last",
      "second_to_last", "offset")``, a combination ``"outer,biases"``, a callable applied
      to each leaf (an Equinox filter such as ``eqx.is_inexact_array``), or a pytree of
      bools with the structure of `model`.

    **Returns:** the filter spec, for ``eqx.partition(model, spec)``.

    **Raises:** ``ValueError`` for an unknown name or a selection that selects no
    floating-point array.
    """
    if isinstance(trainable, str):
        names = [s.strip() for s in trainable.replace("+", ",").split(",") if s.strip()]
        if not names:
            raise ValueError(f"{where}: trainable must name at least one part; got {trainable!r}")
        specs = [_named(model, n, where) for n in names]
        spec = jtu.tree_map(lambda *b: any(b), *specs)
    elif callable(trainable) and not isinstance(trainable, eqx.Module):
        spec = jtu.tree_map(lambda x: bool(trainable(x)) and eqx.is_inexact_array(x), model)
    else:
        try:
            spec = jtu.tree_map(lambda s, x: bool(s) and eqx.is_inexact_array(x), trainable, model)
        except ValueError as err:
            raise ValueError(
                f"{where}: the trainable filter spec does not have the structure of "
                f"the model: {err}"
            ) from err
    n = sum(
        int(np.size(x))
        for x, s in zip(jtu.tree_leaves(model), jtu.tree_leaves(spec), strict=True)
        if s and eqx.is_inexact_array(x)
    )
    if n == 0:
        raise ValueError(
            f"{where}: the trainable selection {trainable!r} selects no parameters "
            f"of the {type(model).__name__}; select at least one floating array"
        )
    return spec


def fast1d_applies(model: Any, dom: LossDomain) -> bool:
    """Whether the O((N+n) log(N+n)) 1D path applies: a 1D `ShallowNetwork` with ReLU^p."""
    return (
        isinstance(model, ShallowNetwork)
        and model.dim == 1
        and dom.dim == 1
        and isinstance(model.activation, (ReLU, ReLUPower))
    )
