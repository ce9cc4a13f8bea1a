r"""The NTK of a deep dense network layer by layer: Hadamard products of Gram matrices.

For a chain of dense layers $z_l = W_l h_{l-1} + b_l$, $h_l = \sigma_l(z_l)$
($h_0 = x$, $l = 1, \dots, L$, $f = \sigma_L(z_L)$ with $\sigma_L$ the identity unless the
model has a final activation), the parameter derivatives factor through the cotangent
$\delta_l^{o}(x) = \partial f_o/\partial z_l$:
$\partial f_o/\partial W_l = \delta_l^{o}\,h_{l-1}^\top$ and
$\partial f_o/\partial b_l = \delta_l^{o}$. Hence

$$K_{oo'}(x, x') = \sum_l \big([W_l]\,\langle h_{l-1}(x), h_{l-1}(x')\rangle + [b_l]\big)
\,\langle \delta_l^{o}(x), \delta_l^{o'}(x')\rangle,$$

i.e. $K = \sum_l (H_{l-1}H_{l-1}^\top + \mathbf 1) \odot (\Delta_l\Delta_l^\top)$ for the
selected layers ($[\cdot]$: 1 if trainable). The cotangents come from one manual
backward pass over all $N$ points, $\Delta_L = \operatorname{diag}\sigma_L'(z_L)$,
$\Delta_l = (\Delta_{l+1} W_{l+1}) \odot \sigma_l'(z_l)$, with $\sigma_l'$ from the forward
pass (one JVP per activation). Cost $O(N^2 \sum_l n_l + N P)$, memory
$O(N^2 + N \sum_l n_l)$; no Jacobian is formed. Output modes: ``"trace"``
($\sum_o K_{oo}$: the Gram of $\Delta_l$ flattened over (output, neuron)), ``"full"``
($(N_1, N_2, O, O)$) and ``"diagonal"`` ($K_{oo}$, $(N_1, N_2, O)$).

Covered: `spectral_jax.networks.MLP` and `eqx.nn.MLP` (also ``scan=True``, ``"scalar"``
input/output, without biases, any elementwise or learnt per-neuron activation, final
activation). Trainable leaves that are not weights or biases of the `eqx.nn.Linear` layers
(e.g. a learnt activation's parameters) are added by the generic Jacobian path
(`empirical_ntk(method="jacrev")`) for those leaves only: the NTK is a sum over leaves.

**References:** Jacot, Gabriel, Hongler (2018), *Neural Tangent Kernel*; Novak et al.
(2022), *Fast Finite Width Neural Tangent Kernel* ("structured derivatives").
"""

from __future__ import annotations

import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np

from .._memory import array_bytes, check_memory
from .._precision import resolve_dtype
from .._sharding import pad_to_multiple, replicate, shard_leading
from .._types import Array, ArrayLike, Float
from ..networks import MLP
from ._taps import count_linears, covered_linears, is_linear, tap_features, tap_flags
from ._trainable import (
    cast_model,
    check_model,
    check_params_finite,
    output_size,
    prepare_inputs,
    trainable_spec,
)

__all__ = ["layered_ntk", "layered_applies", "OUTPUTS"]

OUTPUTS = ("trace", "full", "diagonal")

_COVERS = (
    "layered_ntk covers eqx.nn.Linear layers called once per input (any Equinox model; "
    "other trainable leaves go through the Jacobian); use empirical_ntk(method='jacrev') "
    "for models without them"
)

_apply_each = eqx.filter_vmap(lambda a, b: a(b))  # a per-neuron activation on a vector


# ----------------------------------------------------------------------------- the chain


def _slots(model: Any) -> list[tuple[int, int | None]] | None:
    """Where the dense layers sit: ``(index into model.layers, index into a stacked
    (scanned) layer or None)`` in order of application; ``None`` if not covered."""
    if isinstance(model, MLP):
        if not all(isinstance(lay, eqx.nn.Linear) for lay in model.layers):
            return None
        return [(k, None) for k in range(len(model.layers))]
    if isinstance(model, eqx.nn.MLP):
        if not all(isinstance(lay, eqx.nn.Linear) for lay in model.layers):
            return None
        if model.scan and model.depth > 0:
            return [(0, None), *[(1, j) for j in range(model.depth - 1)], (2, None)]
        return [(k, None) for k in range(len(model.layers))]
    return None


def layered_applies(model: Any) -> bool:
    """Whether `layered_ntk` takes ``model`` by its fastest route, the dense chain of
    `MLP`/`eqx.nn.MLP` (manual backward pass); other models with `eqx.nn.Linear` leaves
    go through the tapped route (see `spectral_jax.ntk._taps`)."""
    return _slots(model) is not None


def _plan(model: Any, spec: Any, x0: Any) -> tuple[str, tuple, Any, list[int]]:
    """``(kind, flags, rest, widths)``: ``"chain"`` (an `MLP`/`eqx.nn.MLP`) or ``"taps"``
    (any model, its once-called `eqx.nn.Linear` leaves), the per-layer trainable flags, the
    spec of the trainable leaves left to the generic Jacobian path, and the output widths of
    the layers the structured part covers."""
    if _slots(model) is not None:
        widths = [int(w.shape[0]) for w, _, _ in _layers(model)]
        return "chain", _flags(model, spec), _rest_spec(spec), widths
    covered = covered_linears(model, x0)
    flags, rest = tap_flags(model, spec, covered)
    lins = [leaf for leaf in jtu.tree_leaves(model, is_leaf=is_linear) if is_linear(leaf)]
    widths = [
        1 if lin.out_features == "scalar" else int(lin.out_features)
        for lin, f in zip(lins, flags, strict=True)
        if f[0] or f[1]
    ]
    return "taps", flags, rest, widths


def layered_covers_all(model: Any, spec: Any, x0: Any) -> bool:
    """Whether every trainable leaf of ``model`` sits in a dense layer the layered NTK
    covers (then ``method="auto"`` takes it: no Jacobian at all)."""
    if count_linears(model) == 0:
        return False
    _, flags, rest, _ = _plan(model, spec, x0)
    return any(f[0] or f[1] for f in flags) and not any(jtu.tree_leaves(rest))


def _activation(model: Any, i: int, last: bool):
    """The activation after chain layer ``i`` as a map of a batch ``(N, n)``, or None."""
    if isinstance(model, MLP):
        return None if last else model.activation  # elementwise by contract
    if last:
        if model.depth == 0:
            return None
        fa = model.final_activation
        if model.out_size == "scalar":
            return lambda z: jax.vmap(fa)(z[:, 0])[:, None]
        return jax.vmap(lambda z: _apply_each(fa, z))
    act = jtu.tree_map(lambda a: a[i] if eqx.is_array(a) else a, model.activation)
    return jax.vmap(lambda z: _apply_each(act, z))


def _layers(model: Any) -> list[tuple[Array, Array | None, Any]]:
    """``(W, b, activation)`` per dense layer, in order."""
    slots = _slots(model)
    out = []
    for i, (k, j) in enumerate(slots):
        lay = model.layers[k]
        w, b = lay.weight, lay.bias
        if j is not None:
            w = w[j]
            b = None if b is None else b[j]
        out.append((w, b, _activation(model, i, i == len(slots) - 1)))
    return out


def _flags(model: Any, spec: Any) -> tuple[tuple[bool, bool], ...]:
    """Per dense layer: (weight trainable, bias trainable)."""
    out = []
    for k, _ in _slots(model):
        s = spec.layers[k]
        out.append((bool(s.weight), s.bias is not None and bool(s.bias)))
    return tuple(out)


def _rest_spec(spec: Any) -> Any:
    """``spec`` with the dense layers' weights and biases switched off."""
    return eqx.tree_at(
        lambda s: s.layers,
        spec,
        replace=tuple(jtu.tree_map(lambda _: False, s) for s in spec.layers),
    )


# ------------------------------------------------------------- features and their Grams


def _features(layers, flags, x):
    r"""Forward pass storing $h_{l-1}$ and $\sigma_l'(z_l)$, then the manual backward pass.

    Returns ``(hs, ds)``: per layer the input $h_{l-1}$ ``(N, n_{l-1})`` (None where the
    weight is frozen) and the cotangents $\Delta_l$ ``(N, O, n_l)`` (None below the lowest
    trainable layer)."""
    first = min(i for i, f in enumerate(flags) if f[0] or f[1])
    h = x.reshape(x.shape[0], -1)
    hs, slopes = [], []
    for i, (w, b, act) in enumerate(layers):
        hs.append(h if flags[i][0] else None)
        if i == len(layers) - 1 and act is None:
            slopes.append(None)
            break
        z = h @ w.T if b is None else h @ w.T + b[None, :]
        if act is None:
            h, s = z, None
        else:
            h, s = jax.jvp(act, (z,), (jnp.ones_like(z),))
        slopes.append(s)
    n, out = x.shape[0], layers[-1][0].shape[0]
    s = slopes[-1]
    eye = jnp.eye(out, dtype=x.dtype)
    d = jnp.broadcast_to(eye, (n, out, out)) if s is None else eye[None] * s[:, None, :]
    ds = [None] * len(layers)
    ds[-1] = d
    for i in range(len(layers) - 2, first - 1, -1):
        d = jnp.einsum("nop,pq->noq", d, layers[i + 1][0]) * slopes[i][:, None, :]
        ds[i] = d
    return hs, ds


def _grams(pairs):
    r"""$A B^\top$ for each pair, one GEMM each. (Stacking pairs of one shape into one
    batched GEMM was measured 15-30% slower on 2 CPU cores, float32 and float64, widths 128
    and 512, N = 1000: XLA's batched dot runs below its 2-D GEMM rate.)"""
    return [a @ b.T for a, b in pairs]


def _delta_operands(da, db, output):
    r"""The 2-D operands whose Gram gives $\Delta_a\Delta_b^\top$ (trace, full), or None
    for the diagonal (one GEMM per output, done separately)."""
    na, nb = da.shape[0], db.shape[0]
    if output == "trace":  # flatten (output, neuron): the trace over outputs
        return da.reshape(na, -1), db.reshape(nb, -1)
    if output == "full":
        return da.reshape(-1, da.shape[2]), db.reshape(-1, db.shape[2])
    return None


def _delta_result(g, da, db, output):
    na, nb, o = da.shape[0], db.shape[0], da.shape[1]
    if output == "trace":
        return g
    if output == "full":
        return jnp.transpose(g.reshape(na, o, nb, o), (0, 2, 1, 3))
    g = jnp.einsum("ion,jon->oij", da, db)  # diagonal: one GEMM per output
    return jnp.moveaxis(g, 0, -1)


def _combine(fa, fb, flags, output):
    r"""One block $K_{ab} = \sum_l ([W_l] H_a H_b^\top + [b_l]) \odot \Delta_a\Delta_b^\top$."""
    (ha, da), (hb, db) = fa, fb
    layers = [i for i, (fw, fbias) in enumerate(flags) if fw or fbias]
    pairs, where = [], {}
    for i in layers:
        ops = _delta_operands(da[i], db[i], output)
        if ops is not None:
            where[("d", i)] = len(pairs)
            pairs.append(ops)
        if flags[i][0]:
            where[("h", i)] = len(pairs)
            pairs.append((ha[i], hb[i]))
    grams = _grams(pairs)
    k = None
    for i in layers:
        fw, fbias = flags[i]
        gd = grams[where[("d", i)]] if ("d", i) in where else None
        g = _delta_result(gd, da[i], db[i], output)
        # flags are True/False, or the squared scales of the layer's weight and bias terms
        # (neural-tangents' "ntk" parameterisation, see networks.stax_ntk)
        if fw:
            gh = grams[where[("h", i)]]
            if fw is not True:
                gh = fw * gh
            if fbias:
                gh = gh + (1 if fbias is True else fbias)
            gh = gh if output == "trace" else gh.reshape(*gh.shape, *([1] * (g.ndim - 2)))
            g = gh * g
        elif fbias is not True:
            g = fbias * g
        k = g if k is None else k + g
    return k


def _take(f, sl):
    hs, ds = f
    return (
        [None if h is None else h[sl] for h in hs],
        [None if d is None else d[sl] for d in ds],
    )


def _mirror(k, output):
    if output == "trace":
        return k.T
    if output == "full":
        return jnp.transpose(k, (1, 0, 3, 2))
    return jnp.transpose(k, (1, 0, 2))


def _symmetric(f, n, flags, output, depth):
    r"""$K(x, x)$ from its upper block triangle (recursive halving, as `structured_ntk`)."""
    if depth == 0 or n < 2:
        k = _combine(f, f, flags, output)
        return 0.5 * (k + _mirror(k, output))  # exactly symmetric
    h = n // 2
    top_f, bot_f = _take(f, slice(0, h)), _take(f, slice(h, n))
    top = _symmetric(top_f, h, flags, output, depth - 1)
    bot = _symmetric(bot_f, n - h, flags, output, depth - 1)
    off = _combine(top_f, bot_f, flags, output)
    return jnp.concatenate(
        [jnp.concatenate([top, off], axis=1), jnp.concatenate([_mirror(off, output), bot], axis=1)],
        axis=0,
    )


def _sym_depth(n: int) -> int:
    # diagonal leaves of >= 250 rows: on 2 CPU cores (N = 1000, widths 128 and 512, float32
    # and float64) two levels were faster than three and than none
    return max(0, min(3, int(math.log2(max(n, 1) / 250)))) if n >= 500 else 0


def _feats(model, kind, flags, x):
    if kind == "chain":
        return _features(_layers(model), flags, x)
    return tap_features(model, flags, x)


@eqx.filter_jit
def _layered_impl(model, x1, x2, flags, output, block, symmetric, kind="chain"):
    if symmetric and block is None:
        f = _feats(model, kind, flags, x1)
        return _symmetric(f, x1.shape[0], flags, output, _sym_depth(x1.shape[0]))
    f2 = _feats(model, kind, flags, x2)
    if block is None:
        return _combine(_feats(model, kind, flags, x1), f2, flags, output)
    n1 = x1.shape[0]
    p1 = pad_to_multiple(n1, block)
    xp = jnp.concatenate([x1, jnp.broadcast_to(x1[:1], (p1 - n1, *x1.shape[1:]))])
    rows = jax.lax.map(
        lambda xa: _combine(_feats(model, kind, flags, xa), f2, flags, output),
        xp.reshape(p1 // block, block, *x1.shape[1:]),
    )
    return rows.reshape(p1, *rows.shape[2:])[:n1]


# ------------------------------------------------------------------------------ checks


def _input_shape(model: Any) -> tuple[int, ...]:
    first = model.layers[0]
    return () if first.in_features == "scalar" else (int(first.in_features),)


def _prepare(
    model: Any, x: Any, name: str, where: str, dt: Any, dtype_arg: Any, chain: bool
) -> Array:
    """``x`` checked (an array of shape ``(N, *input_shape)``, N >= 1, finite) and cast, as
    `empirical_ntk` checks its inputs; a float64 NumPy input computed in float32 (x64 off,
    ``dtype_arg=None``) warns once."""
    shape = _input_shape(model) if chain else None
    return prepare_inputs(model, x, name, where, dt, dtype_arg=dtype_arg, shape=shape)


def _scaled_flags(flags, scales, kind, where, covered=None):
    """The trainable flags with each dense layer's (a, c) in place of True. On the tapped
    route (any model) the layers are its `eqx.nn.Linear` leaves in pytree order; a leaf the
    layered path does not cover (applied more than once or under vmap: its terms come from
    the generic Jacobian path) only accepts the neutral pair (1, 1)."""
    layer = "dense layer" if kind == "chain" else "eqx.nn.Linear leaf"
    try:
        pairs = [(float(a), float(c)) for a, c in scales]
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where}: layer_scales must be a list of (a, c) number pairs") from err
    if len(pairs) != len(flags):
        raise ValueError(
            f"{where}: layer_scales must have one (a, c) pair per {layer} ({len(flags)}); "
            f"got {len(pairs)}"
        )
    if not all(np.isfinite(v) and v >= 0 for pair in pairs for v in pair):
        raise ValueError(f"{where}: layer_scales must hold finite non-negative numbers")
    for i, pair in enumerate(pairs):
        if covered is not None and not covered[i] and pair != (1.0, 1.0):
            raise ValueError(
                f"{where}: layer_scales[{i}] must be (1, 1): that eqx.nn.Linear leaf is applied "
                "more than once or under vmap, so the layered path cannot rescale its terms"
            )
    return tuple(
        (a if fw else False, c if fb else False)
        for (fw, fb), (a, c) in zip(flags, pairs, strict=True)
    )


def layered_peak_bytes(
    n1: int,
    n2: int,
    widths: list[int],
    out: int,
    *,
    output: str,
    block_size: int | None = None,
    n_rest: int = 0,
    dtype: Any,
) -> int:
    """Estimated peak bytes: the result (twice, blocks and their concatenation), the
    features of rows and columns ($h$ and $\\Delta$: $(1 + O)\\sum_l n_l$ per point), the
    Gram products of one block (up to $2L$ stacked, plus two temporaries), and the
    Jacobians of the ``n_rest`` trainable scalars outside the dense layers (generic path;
    twice)."""
    oo = {"trace": 1, "full": out * out, "diagonal": out}[output]
    rows = n1 if block_size is None else min(block_size, n1)
    feats = (rows + n2) * (1 + out) * (sum(widths) + out)
    jac = 2 * (rows + n2) * out * n_rest
    grams = (2 * len(widths) + 2) * rows * n2 * oo
    return array_bytes(2 * n1 * n2 * oo + feats + grams + jac, dtype=dtype)


def layered_ntk(
    model: Any,
    x1: Float[ArrayLike, " N1 *d"],
    x2: Float[ArrayLike, " N2 *d"] | None = None,
    *,
    trainable: Any = "all",
    output: str = "trace",
    block_size: int | None = None,
    mesh: Any = None,
    dtype: Any = None,
    layer_scales: Any = None,
    where: str = "layered_ntk",
) -> Float[Array, "N1 N2 *oo"]:
    r"""The NTK of a deep dense network as a sum over layers of Hadamard products of Gram
    matrices: $K = \sum_l ([W_l]\,H_{l-1}H_{l-1}^\top + [b_l]) \odot \Delta_l\Delta_l^\top$
    (no Jacobian is formed; see the module docstring and ``docs/guide/ntk_structured.md``).

    **Arguments:**

    - `model`: a `spectral_jax.networks.MLP` or an `eqx.nn.MLP`.
    - `x1`, `x2`: inputs, shape ``(N, d)`` (``(N,)`` for ``in_size="scalar"``);
      ``x2=None`` uses ``x1`` (and computes only the upper block triangle).
    - `trainable`: which leaves are trained (see `trainable_spec`); trainable leaves other
      than the dense weights/biases are added by the generic Jacobian path.
    - `output`: ``"trace"`` (shape ``(N1, N2)``), ``"full"`` (``(N1, N2, O, O)``) or
      ``"diagonal"`` (``(N1, N2, O)``); ``O = 1`` for a scalar output.
    - `block_size`: rows per tile of the result (bounded memory); ``None``: one tile.
    - `mesh`: a `jax.sharding.Mesh` (`spectral_jax._sharding.device_mesh()`): the rows of
      $K$ are sharded over its devices; ``None``: one device.
    - `dtype`: float32/float64 (default from x64); model and inputs are cast to it.
    - `layer_scales`: optional ``[(a_l, c_l), ...]``, one pair per dense layer of an
      `MLP`/`eqx.nn.MLP` (of any other model: per `eqx.nn.Linear` leaf, in pytree order):
      the kernel becomes
      $\sum_l (a_l [W_l] H H^\top + c_l [b_l]) \odot \Delta\Delta^\top$ (the squared
      scales of neural-tangents' ``"ntk"`` parameterisation; see `stax_ntk`), i.e. the NTK
      in the parameters $V_l = W_l/\sqrt{a_l}$, $u_l = b_l/\sqrt{c_l}$ of the same
      function. A Linear leaf applied more than once or under vmap (generic path) takes
      ``(1, 1)`` only.
    - `where`: the name error messages start with (``empirical_ntk`` passes its own).

    **Returns:** the kernel.

    **Raises:** ``ValueError`` for a model it does not cover (naming its type), inputs of
    the wrong shape or with NaN/inf, an empty trainable selection, an unknown `output`,
    ``block_size <= 0``, or a result that does not fit in memory.

    !!! Example
        ```python
        mlp = MLP(2, (512, 512, 512), activation="tanh", key=jr.key(0))
        K = layered_ntk(mlp, x, trainable="second_to_last")
        ```

    **References:** Novak et al. (2022), *Fast Finite Width Neural Tangent Kernel*.
    """
    dt = resolve_dtype(dtype, where)
    check_model(model, where)
    if output not in OUTPUTS:
        raise ValueError(f"{where}: output must be one of {list(OUTPUTS)}; got {output!r}")
    if block_size is not None and (
        isinstance(block_size, bool) or not isinstance(block_size, int) or block_size <= 0
    ):
        raise ValueError(
            f"{where}: block_size must be a positive integer or None; got {block_size!r}"
        )
    chain = layered_applies(model)
    if not chain and count_linears(model) == 0:
        raise ValueError(
            f"{where}: got a {type(model).__name__} without eqx.nn.Linear layers; {_COVERS}"
        )
    spec = trainable_spec(model, trainable, where=where)
    check_params_finite(model, where)
    model = cast_model(model, dt)
    x1 = _prepare(model, x1, "x1", where, dt, dtype, chain)
    x2 = x1 if x2 is None else _prepare(model, x2, "x2", where, dt, dtype, chain)
    if x2.shape[1:] != x1.shape[1:]:
        raise ValueError(
            f"{where}: x1 and x2 must hold inputs of one shape; got {x1.shape} and {x2.shape}"
        )
    kind, flags, rest, widths = _plan(model, spec, x1[0])
    if layer_scales is not None:
        covered = None if kind == "chain" else covered_linears(model, x1[0])
        flags = _scaled_flags(flags, layer_scales, kind, where, covered)
    n1, n2 = x1.shape[0], x2.shape[0]
    n_rest = sum(int(np.size(leaf)) for leaf in jtu.tree_leaves(eqx.filter(model, rest)))
    if kind == "chain":
        last = model.layers[-1].out_features
        out = 1 if last == "scalar" else int(last)
    else:
        out = output_size(model, x1)
    check_memory(
        layered_peak_bytes(
            n1, n2, widths, out, output=output, block_size=block_size, n_rest=n_rest, dtype=dt
        ),
        what=f"{where}: the NTK of {n1} x {n2} inputs (output={output!r})",
        hint="use fewer points or a block_size (bounds the per-tile work, not the N1 x N2 "
        "result); for K v without forming K use ntk_vector_product, for the top eigenvalues "
        "ntk_operator_eigenvalues(..., lanczos=True, k=...)",
    )
    k = None
    if any(f[0] or f[1] for f in flags):
        if mesh is not None:
            pad = pad_to_multiple(n1, mesh.devices.size)
            xs = shard_leading(
                jnp.concatenate([x1, jnp.broadcast_to(x1[:1], (pad - n1, *x1.shape[1:]))]), mesh
            )
            k = _layered_impl(
                _replicate_arrays(model, mesh),
                xs,
                replicate(x2, mesh),
                flags,
                output,
                block_size,
                False,
                kind,
            )[:n1]
        else:
            k = _layered_impl(model, x1, x2, flags, output, block_size, x2 is x1, kind)
    if any(jtu.tree_leaves(rest)):
        k = _add_generic(k, model, x1, x2, rest, output, block_size, mesh)
    return k


def _replicate_arrays(model, mesh):
    """``model`` with its array leaves replicated over ``mesh`` (functions and other
    non-array leaves, e.g. an activation, stay as they are)."""
    arrays, rest = eqx.partition(model, eqx.is_array)
    return eqx.combine(replicate(arrays, mesh), rest)


def _jacobian(params, static, x):
    """Per-input Jacobians of the leaves in ``params``, as one ``(N, O, P)`` array."""
    f = lambda p, xi: jnp.reshape(eqx.combine(p, static)(xi), (-1,))  # noqa: E731
    jac = jax.vmap(jax.jacrev(f), in_axes=(None, 0))(params, x)
    leaves = jtu.tree_leaves(jac)
    return jnp.concatenate([j.reshape(*j.shape[:2], -1) for j in leaves], axis=-1)


def _contract_jac(ja, jb, output):
    if output == "trace":
        return jnp.einsum("iop,jop->ij", ja, jb)
    if output == "full":
        return jnp.einsum("iop,jqp->ijoq", ja, jb)
    return jnp.einsum("iop,jop->ijo", ja, jb)


@eqx.filter_jit
def _generic_impl(params, static, x1, x2, output, block):
    jb = _jacobian(params, static, x2)
    if block is None:
        return _contract_jac(_jacobian(params, static, x1), jb, output)
    n1 = x1.shape[0]
    p1 = pad_to_multiple(n1, block)
    xp = jnp.concatenate([x1, jnp.broadcast_to(x1[:1], (p1 - n1, *x1.shape[1:]))])
    rows = jax.lax.map(
        lambda xa: _contract_jac(_jacobian(params, static, xa), jb, output),
        xp.reshape(p1 // block, block, *x1.shape[1:]),
    )
    return rows.reshape(p1, *rows.shape[2:])[:n1]


def _add_generic(k, model, x1, x2, rest, output, block_size, mesh):
    """The contribution of trainable leaves outside the dense layers (e.g. a learnt
    activation's parameters): their Jacobians by reverse mode, contracted (the NTK is a sum
    over parameter leaves)."""
    params, static = eqx.partition(model, rest)
    n1 = x1.shape[0]
    if mesh is not None:
        pad = pad_to_multiple(n1, mesh.devices.size)
        x1 = shard_leading(
            jnp.concatenate([x1, jnp.broadcast_to(x1[:1], (pad - n1, *x1.shape[1:]))]), mesh
        )
        params, x2 = replicate(params, mesh), replicate(x2, mesh)
    g = _generic_impl(params, static, x1, x2, output, block_size)[:n1]
    if output == "full" and g.ndim == 2:
        g = g[:, :, None, None]
    return g if k is None else k + g
