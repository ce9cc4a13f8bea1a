r"""Parameters of a neural-tangents ``stax`` MLP to and from the project's `MLP`.

A ``stax.serial(Dense(n_1), act, ..., Dense(n_L))`` network has the parameters
``[(W_1, b_1), (), (W_2, b_2), (), ..., (W_L, b_L)]`` (an empty tuple per activation
layer), ``W_l`` of shape ``(n_{l-1}, n_l)`` acting on row vectors, ``b_l`` of shape
``(1, n_l)`` (or ``(n_l,)``). Its layer computes

- ``parameterization="standard"``: $z_l = h_{l-1} W_l + b_l$;
- ``parameterization="ntk"``: $z_l = \frac{\sigma_w}{\sqrt{n_{l-1}}}\,h_{l-1} W_l
  + \sigma_b\, b_l$ ($\sigma_w$ = ``W_std``, $\sigma_b$ = ``b_std``).

The `MLP` with weights $\frac{\sigma_w}{\sqrt{n_{l-1}}} W_l^\top$ and biases
$\sigma_b b_l$ computes the same function. Its NTK (with respect to its own parameters) is
the NTK of the standard parameterisation; neural-tangents' NTK of an ``"ntk"``-parameterised
network differentiates with respect to the unscaled $W_l, b_l$, which multiplies each
layer's terms by the square of its scale:
$K_{\text{ntk}} = \sum_l \big(\frac{\sigma_w^2}{n_{l-1}} K_{W_l} + \sigma_b^2 K_{b_l}\big)$,
$K_{W_l}, K_{b_l}$ the `MLP`'s per-leaf kernels. `stax_ntk` computes that sum (one
`layered_ntk` per leaf, no Jacobian).

The library does not import neural-tangents: these helpers take and return plain arrays.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from .._types import Array, ArrayLike, Float
from ..activations import AbstractActivation
from ._mlp import MLP

__all__ = ["from_stax_mlp", "to_stax_mlp", "stax_ntk"]

_PARAMETERIZATIONS = ("standard", "ntk")


def _check_parameterization(parameterization: str, where: str) -> None:
    if parameterization not in _PARAMETERIZATIONS:
        raise ValueError(
            f"{where}: parameterization must be one of {list(_PARAMETERIZATIONS)} (as stax's "
            f"Dense); got {parameterization!r}"
        )


def _dense_layers(params: Any, where: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """The ``(W, b)`` pairs of a stax parameter list (empty entries skipped), checked."""
    if not isinstance(params, (list, tuple)):
        raise TypeError(
            f"{where}: params must be the list stax's init_fn returns ((W, b) per Dense "
            f"layer, () per activation); got {type(params).__name__}"
        )
    layers = []
    for i, p in enumerate(params):
        if isinstance(p, (list, tuple)) and len(p) == 0:
            continue
        if not (isinstance(p, (list, tuple)) and len(p) == 2):
            raise ValueError(
                f"{where}: params[{i}] must be a (W, b) pair or () (an activation layer)"
            )
        w, b = np.asarray(p[0]), np.asarray(p[1])
        if w.ndim != 2 or b.size != w.shape[1] or not (b.ndim == 1 or b.shape[0] == 1):
            raise ValueError(
                f"{where}: params[{i}] must hold W of shape (in, out) and b of shape (1, out) "
                f"or (out,); got {w.shape} and {b.shape}"
            )
        if layers and layers[-1][0].shape[1] != w.shape[0]:
            raise ValueError(
                f"{where}: params[{i}]: W has {w.shape[0]} input rows but the previous layer "
                f"has {layers[-1][0].shape[1]} outputs"
            )
        layers.append((w, b.reshape(-1)))
    if len(layers) < 2:
        raise ValueError(f"{where}: params must hold at least two Dense layers (one hidden)")
    return layers


def from_stax_mlp(
    params: Sequence[Any],
    activation: AbstractActivation | str = "relu",
    *,
    parameterization: str = "standard",
    W_std: float = 1.0,
    b_std: float = 1.0,
    scalar_output: bool = False,
    dtype: Any = None,
) -> MLP:
    r"""The `MLP` computing the same function as a stax MLP with parameters ``params``.

    **Arguments:**

    - `params`: the list stax's ``init_fn`` returns for ``stax.serial(Dense(n_1), act, ...,
      Dense(n_L))``: ``(W, b)`` per Dense layer (``W`` of shape ``(in, out)``), ``()`` per
      activation layer.
    - `activation`: the activation between the Dense layers (the same for all).
    - `parameterization`, `W_std`, `b_std`: as given to stax's ``Dense`` (see the module
      docstring); ``"standard"`` ignores the stds.
    - `scalar_output`: a last layer with one output becomes ``out_size="scalar"``.
    - `dtype`: parameter dtype (default: the arrays' own if floating and x64 allows).

    **Returns:** an `MLP` with weights $s_l W_l^\top$ and biases $t_l b_l$
    ($s_l = \sigma_w/\sqrt{n_{l-1}}$, $t_l = \sigma_b$ for ``"ntk"``; 1 for ``"standard"``).

    **Raises:** ``ValueError``/``TypeError`` naming the offending entry of ``params``.
    """
    where = "from_stax_mlp"
    _check_parameterization(parameterization, where)
    layers = _dense_layers(params, where)
    dims = [layers[0][0].shape[0], *(w.shape[1] for w, _ in layers)]
    out = "scalar" if scalar_output and dims[-1] == 1 else int(dims[-1])
    mlp = MLP(dims[0], dims[1:-1], out, activation, key=jr.key(0), dtype=dtype)
    dt = mlp.layers[0].weight.dtype
    ws, bs = [], []
    for (w, b), lay in zip(layers, mlp.layers, strict=True):
        s, t = (1.0, 1.0)
        if parameterization == "ntk":
            s, t = W_std / math.sqrt(w.shape[0]), b_std
        ws.append(jnp.asarray(s * w.T, dt).reshape(lay.weight.shape))
        bs.append(jnp.asarray(t * b, dt).reshape(lay.bias.shape))
    mlp = eqx.tree_at(lambda m: tuple(lay.weight for lay in m.layers), mlp, tuple(ws))
    return eqx.tree_at(lambda m: tuple(lay.bias for lay in m.layers), mlp, tuple(bs))


def to_stax_mlp(
    mlp: MLP,
    *,
    parameterization: str = "standard",
    W_std: float = 1.0,
    b_std: float = 1.0,
) -> list[tuple[np.ndarray, np.ndarray] | tuple[()]]:
    r"""The stax parameter list of the network `from_stax_mlp` would turn back into ``mlp``:
    ``[(W_1, b_1), (), ..., (W_L, b_L)]`` with ``W_l`` $= W_l^{\text{MLP}\top}/s_l$
    (shape ``(in, out)``) and ``b_l`` of shape ``(1, out)``, NumPy arrays.

    **Raises:** ``TypeError`` for a model that is not an `MLP`; ``ValueError`` for an
    unknown parameterisation or a zero ``W_std``/``b_std`` with ``"ntk"``.
    """
    where = "to_stax_mlp"
    _check_parameterization(parameterization, where)
    if not isinstance(mlp, MLP):
        raise TypeError(
            f"{where}: mlp must be a spectral_jax.networks.MLP; got {type(mlp).__name__}"
        )
    if parameterization == "ntk" and (W_std == 0 or b_std == 0):
        raise ValueError(f"{where}: W_std and b_std must be nonzero to invert the 'ntk' scaling")
    out: list[Any] = []
    for i, lay in enumerate(mlp.layers):
        w = np.asarray(lay.weight)  # (out, in), also for "scalar" ends
        b = np.asarray(lay.bias).reshape(1, -1)
        s, t = (1.0, 1.0)
        if parameterization == "ntk":
            s, t = W_std / math.sqrt(w.shape[1]), b_std
        if i:
            out.append(())
        out.append((w.T / s, b / t))
    return out


def stax_ntk(
    mlp: MLP,
    x1: Float[ArrayLike, " N1 d"],
    x2: Float[ArrayLike, " N2 d"] | None = None,
    *,
    parameterization: str = "standard",
    W_std: float = 1.0,
    b_std: float = 1.0,
    output: str = "full",
    dtype: Any = None,
) -> Float[Array, "N1 N2 *oo"]:
    r"""The empirical NTK neural-tangents reports for the stax network of ``mlp`` (all
    parameters trainable): $\sum_l (s_l^2 K_{W_l} + t_l^2 K_{b_l})$ with the scales of the
    module docstring (for ``"standard"`` simply the `MLP`'s NTK). ``output`` as
    `layered_ntk` (default ``"full"``, neural-tangents' ``trace_axes=()``).
    """
    from ..ntk import layered_ntk

    where = "stax_ntk"
    _check_parameterization(parameterization, where)
    if not isinstance(mlp, MLP):
        raise TypeError(
            f"{where}: mlp must be a spectral_jax.networks.MLP; got {type(mlp).__name__}"
        )
    if parameterization == "standard":
        return layered_ntk(mlp, x1, x2, output=output, dtype=dtype, where=where)
    scales = []
    for lay in mlp.layers:
        fan_in = 1 if lay.in_features == "scalar" else int(lay.in_features)
        scales.append((W_std**2 / fan_in, b_std**2))
    return layered_ntk(mlp, x1, x2, output=output, dtype=dtype, layer_scales=scales, where=where)
