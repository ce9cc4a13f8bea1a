r"""The empirical NTK of any Equinox model by Jacobian contraction or NTK-vector products.

$K(x, x') = \sum_p \partial_p f(x)\,\partial_p f(x')^\top$ over the trainable leaves $p$.

- ``"jacfwd"`` / ``"jacrev"``: per-input Jacobians by forward / reverse mode
  (`jax.vmap` over the inputs), contracted leaf by leaf.
- ``"auto"``: forward mode costs about $P$ JVPs per input ($P$ trainable scalars),
  reverse mode about $O$ VJPs ($O$ outputs), each ~2-3x a JVP; so ``jacrev`` is chosen
  when $3\,O < P$, else ``jacfwd`` (measured in ``benchmarks/bench_ntk.py`` on 2 CPU
  cores: jacfwd was 85x-470x slower than jacrev on a width-512 one-hidden-layer MLP with
  scalar output).
- ``"ntvp"``: no Jacobian is formed; the columns of $K$ are $J_1 (J_2^\top e_j)$ by a
  VJP on the second batch and a linearised JVP on the first (neural-tangents'
  "NTK-vector products" idea).
- ``"structured"``: the closed form for `ShallowNetwork` (see `structured_ntk`).
- ``"layered"``: deep dense networks (`MLP`, `eqx.nn.MLP`) as a sum over layers of Hadamard
  products of Gram matrices, no Jacobian (see `layered_ntk`); ``"auto"`` picks it for
  every model it covers.

Each leaf's Jacobian is contracted by one 2-D GEMM. For $K(x, x)$ (``x2=None``, no
blocking, one device) the Jacobian is formed once and only the upper block triangle of
$J J^\top$ is multiplied (two levels of halving: 5/8 of the contraction flops).

Inputs are processed in blocks of ``block_size`` rows and columns (`jax.lax.map`), so the
memory is $O(B\,P + B^2)$ beyond the result; ``mesh`` shards the rows over devices.

**References:** Jacot, Gabriel, Hongler (2018), *Neural Tangent Kernel*; Novak et al.
(2022), *Fast Finite Width Neural Tangent Kernel*.
"""

from __future__ import annotations

import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np

from .._checks import concrete_or_none
from .._memory import array_bytes, check_memory
from .._precision import resolve_dtype
from .._sharding import pad_to_multiple, replicate, shard_leading
from .._types import Array, ArrayLike, Float
from ._methods import resolve_method
from ._trainable import (
    cast_model,
    check_model,
    check_params_finite,
    count_params,
    output_size,
    prepare_inputs,
    trainable_spec,
    widest_axis,
)

__all__ = ["empirical_ntk", "choose_method", "ntk_vector_product", "METHODS"]

METHODS = ("auto", "jacfwd", "jacrev", "ntvp", "structured", "layered")
OUTPUTS = ("trace", "full", "diagonal")


def _split(model: Any, spec: Any) -> tuple[Any, Any]:
    return eqx.partition(model, spec)


def _apply(params: Any, static: Any, x: Array) -> Array:
    return eqx.combine(params, static)(x)


def choose_method(n_params: int, out_size: int) -> str:
    """The ``"auto"`` rule: ``"jacrev"`` if $3\\,O < P$ else ``"jacfwd"``."""
    return "jacrev" if 3 * out_size < n_params else "jacfwd"


def _jacobian_rows(params, static, x, mode):
    """Per-input Jacobians: list of arrays (B, *out, leaf.size)."""
    f = lambda p, xi: _apply(p, static, xi)  # noqa: E731
    jac = jax.jacfwd if mode == "jacfwd" else jax.jacrev
    jt = jax.vmap(jac(f), in_axes=(None, 0))(params, x)
    leaves = jtu.tree_leaves(jt)
    pleaves = jtu.tree_leaves(params)
    out = []
    for jl, pl in zip(leaves, pleaves, strict=True):
        b = jl.shape[0]
        out.append(jl.reshape(b, -1, pl.size))  # (B, O, p)
    return out


def _contract(ja, jb, output):
    r"""$\sum_{\text{leaves}} J_a J_b^\top$, each leaf as one 2-D GEMM (rows: inputs, or
    inputs x outputs for ``"full"``; one GEMM per output for ``"diagonal"``)."""
    k = 0.0
    for a, b in zip(ja, jb, strict=True):
        na, nb, o = a.shape[0], b.shape[0], a.shape[1]
        if output == "full":
            g = jax.lax.dot_general(
                a.reshape(na * o, -1), b.reshape(nb * o, -1), (((1,), (1,)), ((), ()))
            )
            k = k + jnp.transpose(g.reshape(na, o, nb, o), (0, 2, 1, 3))
        elif output == "diagonal":
            g = jax.lax.dot_general(a, b, (((2,), (2,)), ((1,), (1,))))  # (o, na, nb)
            k = k + jnp.moveaxis(g, 0, -1)
        else:
            k = k + jax.lax.dot_general(
                a.reshape(na, -1), b.reshape(nb, -1), (((1,), (1,)), ((), ()))
            )
    return k


def _mirror(k, output):
    if output == "full":
        return jnp.transpose(k, (1, 0, 3, 2))
    if output == "diagonal":
        return jnp.transpose(k, (1, 0, 2))
    return k.T


def _contract_symmetric(j, output, depth=2):
    r"""$J J^\top$ from its upper block triangle (halve the rows, mirror the off-diagonal
    block, recurse on the diagonal blocks down to 64 rows): 5/8 of the flops at
    ``depth=2``, which used the least CPU time on 2 cores (depth 3 was no faster: thin GEMMs
    with a long contraction run below peak)."""
    n = j[0].shape[0]
    if depth == 0 or n < 64:
        return _contract(j, j, output)
    h = n // 2
    top = [leaf[:h] for leaf in j]
    bot = [leaf[h:] for leaf in j]
    ktop = _contract_symmetric(top, output, depth - 1)
    kbot = _contract_symmetric(bot, output, depth - 1)
    off = _contract(top, bot, output)
    return jnp.concatenate(
        [
            jnp.concatenate([ktop, off], axis=1),
            jnp.concatenate([_mirror(off, output), kbot], axis=1),
        ],
        axis=0,
    )


def _ntvp_block(params, static, xa, xb, output):
    fa = lambda p: jax.vmap(lambda xi: _apply(p, static, xi))(xa)  # noqa: E731
    fb = lambda p: jax.vmap(lambda xi: _apply(p, static, xi))(xb)  # noqa: E731
    outb, vjp = jax.vjp(fb, params)
    nb = xb.shape[0]
    o = max(1, math.prod(outb.shape[1:]))
    cots = jnp.eye(nb * o, dtype=outb.dtype).reshape(nb * o, *outb.shape)
    tangents = jax.vmap(vjp)(cots)[0]
    _, lin = jax.linearize(fa, params)
    cols = jax.vmap(lin)(tangents)  # (nb*o, na, *out)
    na = xa.shape[0]
    cols = cols.reshape(nb, o, na, o)
    kfull = jnp.transpose(cols, (2, 0, 3, 1))  # (na, nb, o_a, o_b)
    if output == "full":
        return kfull
    if output == "diagonal":
        return jnp.diagonal(kfull, axis1=2, axis2=3)
    return jnp.trace(kfull, axis1=2, axis2=3)


def _block_ntk(params, static, xa, xb, method, output, symmetric=False):
    if method == "ntvp":
        return _ntvp_block(params, static, xa, xb, output)
    ja = _jacobian_rows(params, static, xa, method)
    if symmetric:  # K(x, x): one Jacobian, upper block triangle of J J^T
        return _contract_symmetric(ja, output)
    jb = _jacobian_rows(params, static, xb, method)
    return _contract(ja, jb, output)


def _ntk_body(params, static, x1, x2, method, output, block, row_shard, symmetric=False):
    n1, n2 = x1.shape[0], x2.shape[0]
    if block is None:
        return _block_ntk(params, static, x1, x2, method, output, symmetric)
    b1 = block if not row_shard else x1.shape[0]
    p1, p2 = pad_to_multiple(n1, b1), pad_to_multiple(n2, block)
    xp1 = jnp.concatenate([x1, jnp.broadcast_to(x1[:1], (p1 - n1, *x1.shape[1:]))])
    xp2 = jnp.concatenate([x2, jnp.broadcast_to(x2[:1], (p2 - n2, *x2.shape[1:]))])
    xb1 = xp1.reshape(p1 // b1, b1, *x1.shape[1:])
    xb2 = xp2.reshape(p2 // block, block, *x2.shape[1:])

    def row(xa):
        if method == "ntvp":
            blocks = jax.lax.map(lambda xb: _block_ntk(params, static, xa, xb, method, output), xb2)
        else:
            ja = _jacobian_rows(params, static, xa, method)
            blocks = jax.lax.map(
                lambda xb: _contract(ja, _jacobian_rows(params, static, xb, method), output), xb2
            )
        # blocks: (nb2, b1, block, ...) -> (b1, p2, ...)
        blocks = jnp.moveaxis(blocks, 0, 1)
        return blocks.reshape(blocks.shape[0], p2, *blocks.shape[3:])

    k = jax.lax.map(row, xb1)
    k = k.reshape(p1, p2, *k.shape[3:])
    return k[:n1, :n2]


# trace counter (tests check that calls with the same shapes do not retrace)
_ntk_traced = eqx.debug.assert_max_traces(_ntk_body, max_traces=None)
_ntk_impl = eqx.filter_jit(_ntk_traced)


def _count(params) -> int:
    return sum(int(leaf.size) for leaf in jtu.tree_leaves(params))


def _num_layers(model: Any) -> int:
    """Array leaves with two or more axes (weight matrices): the depth proxy of the memory
    estimates."""
    return max(
        1, sum(1 for leaf in jtu.tree_leaves(model) if eqx.is_array(leaf) and leaf.ndim >= 2)
    )


def ntk_peak_bytes(
    n1: int,
    n2: int | None,
    *,
    method: str,
    n_params: int,
    out_size: int,
    widest: int,
    layers: int,
    block_size: int | None = None,
    full: bool = False,
    dtype: Any = "float64",
    output: str | None = None,
) -> int:
    r"""Estimated peak bytes of `empirical_ntk` (``n2=None``: $K(x, x)$).

    The result ($N_1 N_2$, times $O^2$ for ``output="full"``, twice: blocks and their
    concatenation) plus, per block of $B_1$ rows and $B_2$ columns: ``jacrev`` the
    Jacobians ($B\,O\,P$, twice); ``jacfwd`` the $P$ tangents pushed through the widest
    layer $W$ of each of the $L$ layers ($\max(3, L)\,B\,P\,W$); ``ntvp`` the cotangents
    ($B_2 O\times P$) and the linearised model on them ($2.5\,L\,B_2 O\,B_1 W$). The factors
    were measured on `MLP`s (widths 64-128, depths 1-4) on CPU; they are upper bounds there
    to within about 30%.
    """
    o = max(1, int(out_size))
    same = n2 is None
    n2 = n1 if same else int(n2)
    b1 = n1 if block_size is None else min(int(block_size), n1)
    b2 = n2 if block_size is None else min(int(block_size), n2)
    if output is not None:
        full = output == "full"
    res = n1 * n2 * (o * o if full else (o if output == "diagonal" else 1))
    if method == "ntvp":
        work = (
            (b2 * o) ** 2 + b2 * o * n_params + math.ceil(2.5 * layers * b2 * o * b1 * (widest + o))
        )
    else:
        rows = b1 + (0 if same and block_size is None else b2)
        work = 2 * rows * o * n_params
        if method == "jacfwd":
            work += max(3, layers) * max(b1, b2) * n_params * widest
        else:
            work += 2 * layers * max(b1, b2) * o * widest
    return array_bytes(2 * res + work, dtype=dtype)


def check_ntk_memory(
    model: Any,
    spec: Any,
    x: Array,
    n1: int,
    n2: int | None,
    *,
    method: str,
    block_size: int | None,
    full: bool,
    dtype: Any,
    what: str,
    output: str | None = None,
    hint: str | None = None,
    extra: int = 0,
) -> int:
    """`check_memory` on `ntk_peak_bytes` (+ ``extra`` bytes) for ``model`` on inputs like
    ``x``; returns the method ``"auto"`` resolves to."""
    P = count_params(model, spec)
    o = output_size(model, x)
    if method == "auto":
        method = choose_method(P, o)
    need = extra + ntk_peak_bytes(
        n1,
        n2,
        method=method,
        n_params=P,
        out_size=o,
        widest=widest_axis(model),
        layers=_num_layers(model),
        block_size=block_size,
        full=full,
        dtype=dtype,
        output=output,
    )
    if hint is None:
        hint = (
            "use fewer points, a block_size (bounds the Jacobian/NTK-vector-product work, "
            "not the N1 x N2 result)"
            + (", method='jacrev'" if method in ("jacfwd", "ntvp") else "")
            + "; for K v without forming K use ntk_vector_product, for the top eigenvalues "
            "ntk_operator_eigenvalues(..., lanczos=True, k=...)"
        )
    check_memory(need, what=what, hint=hint)
    return method


def empirical_ntk(
    model: Any,
    x1: Float[ArrayLike, " N1 *d"],
    x2: Float[ArrayLike, " N2 *d"] | None = None,
    *,
    trainable: Any = "all",
    method: str = "auto",
    block_size: int | None = None,
    output: str = "trace",
    mesh: Any = None,
    dtype: Any = None,
) -> Float[Array, "N1 N2 *oo"]:
    r"""The empirical neural tangent kernel $K(x_i, x'_j) = \sum_p \partial_p f(x_i)\,
    \partial_p f(x'_j)^\top$ of an Equinox model.

    **Arguments:**

    - `model`: an Equinox module mapping one input (e.g. shape ``(d,)``) to a scalar or
      an array (`ShallowNetwork`, `MLP`, or your own).
    - `x1`, `x2`: batches of inputs, shape ``(N, *input_shape)``; ``x2=None`` uses ``x1``.
      For a 1D `ShallowNetwork` a 1-D array of points is accepted.
    - `trainable`: which leaves are trained (see `trainable_spec`).
    - `method`: ``"auto"``, ``"jacfwd"``, ``"jacrev"``, ``"ntvp"``, ``"structured"`` or
      ``"layered"``, or the method module holding its knobs (`Jacrev`, `Layered`, ...,
      e.g. ``Layered(block_size=256)``; see `spectral_jax.ntk._methods`). ``"auto"`` uses
      ``"layered"`` for `MLP`, `eqx.nn.MLP` and any model whose trainable leaves all sit in
      `eqx.nn.Linear` layers called once per input, else ``"jacrev"`` if $3\,O < P$, else
      ``"jacfwd"``.
    - `block_size`: rows/columns per block (bounded memory); ``None``: one block.
    - `output`: ``"trace"`` ($\sum_o K_{oo}$, shape ``(N1, N2)``), ``"full"`` (shape
      ``(N1, N2, O, O)``; for a scalar model ``O = 1``) or ``"diagonal"`` ($K_{oo}$, shape
      ``(N1, N2, O)``), as neural-tangents' ``trace_axes``/``diagonal_axes``; $O$ counts
      the flattened outputs.
    - `mesh`: a `jax.sharding.Mesh` (e.g. `spectral_jax._sharding.device_mesh()`) to
      shard the rows over its devices; ``None``: single device.
    - `dtype`: float32/float64 (default from x64); model and inputs are cast to it.

    **Returns:** the kernel matrix.

    **Raises:** ``ValueError`` for an empty trainable selection, inputs whose shape does
    not fit the model, NaN/inf parameters or inputs, ``block_size <= 0``, an unknown
    method/output, or ``method="structured"``/``"layered"`` on a model it does not cover.

    !!! Example
        ```python
        K = empirical_ntk(net, x, trainable="biases", method="jacrev")
        ```

    **References:** Jacot et al. (2018), *Neural Tangent Kernel: Convergence and
    Generalization in Neural Networks*.
    """
    where = "empirical_ntk"
    dt = resolve_dtype(dtype, where)
    check_model(model, where)
    method, block_size, knobs = resolve_method(method, block_size, where)
    if method not in METHODS:
        raise ValueError(f"{where}: method must be one of {list(METHODS)}; got {method!r}")
    if output not in OUTPUTS:
        raise ValueError(f"{where}: output must be one of {list(OUTPUTS)}; got {output!r}")
    if block_size is not None:
        if isinstance(block_size, bool) or not isinstance(block_size, int):
            raise TypeError(
                f"{where}: block_size must be a positive integer or None; got {block_size!r}"
            )
        if block_size <= 0:
            raise ValueError(
                f"{where}: block_size must be a positive integer or None; got {block_size}"
            )
    if method == "structured":
        from ._structured import structured_ntk

        if output != "trace":
            raise ValueError(
                f"{where}: method='structured' covers scalar ShallowNetworks; use output='trace'"
            )
        return structured_ntk(
            model, x1, x2, trainable=trainable, block_size=block_size, mesh=mesh, dtype=dt, **knobs
        )
    from ._layered import layered_applies, layered_covers_all, layered_ntk

    def layered():
        return layered_ntk(
            model,
            x1,
            x2,
            trainable=trainable,
            output=output,
            block_size=block_size,
            mesh=mesh,
            dtype=dtype,
            where=where,
        )

    if method == "layered" or (method == "auto" and layered_applies(model)):
        return layered()
    spec = trainable_spec(model, trainable, where=where)
    check_params_finite(model, where)
    model = cast_model(model, dt)
    x1 = prepare_inputs(model, x1, "x1", where, dt, dtype_arg=dtype)
    x2 = x1 if x2 is None else prepare_inputs(model, x2, "x2", where, dt, dtype_arg=dtype)
    if x2.shape[1:] != x1.shape[1:]:
        raise ValueError(
            f"{where}: x1 and x2 must hold inputs of one shape; got {x1.shape} and {x2.shape}"
        )
    if method == "auto" and layered_covers_all(model, spec, x1[0]):
        return layered()
    full = output == "full"
    n1, n2 = x1.shape[0], (None if x2 is x1 and mesh is None else x2.shape[0])
    method = check_ntk_memory(
        model,
        spec,
        x1,
        n1,
        n2,
        method=method,
        block_size=block_size,
        full=full,
        output=output,
        dtype=dt,
        what=(
            f"{where}: the NTK of {n1} x {x2.shape[0]} inputs by method={method!r}"
            + (f" with block_size={block_size}" if block_size is not None else "")
        ),
    )
    params, static = _split(model, spec)
    if mesh is not None:
        ndev = mesh.devices.size
        n1 = x1.shape[0]
        pad = pad_to_multiple(n1, ndev)
        xs = jnp.concatenate([x1, jnp.broadcast_to(x1[:1], (pad - n1, *x1.shape[1:]))])
        xs = shard_leading(xs, mesh)
        params = replicate(params, mesh)
        k = _ntk_impl(params, static, xs, replicate(x2, mesh), method, output, block_size, True)
        k = k[:n1]
    else:
        k = _ntk_impl(params, static, x1, x2, method, output, block_size, False, x2 is x1)
    return k


def ntk_vector_product(
    model: Any,
    x: Float[ArrayLike, " N *d"],
    v: Float[ArrayLike, " N *o"],
    *,
    trainable: Any = "all",
    output: str = "full",
    dtype: Any = None,
) -> Float[Array, " N *o"]:
    r"""$K v$ without forming $K$ or the Jacobian: $K v = J\,(J^\top v)$, with $J^\top v$
    from `jax.linear_transpose` of the linearised model and $J(\cdot)$ from its JVP.

    **Arguments:**

    - `model`, `x` (shape ``(N, *input_shape)``), `trainable`, `dtype`.
    - `output`: which kernel multiplies ``v``: ``"full"`` (default; the $(N O) \times (N O)$
      kernel, ``v`` of shape ``(N, *out)`` like the model's outputs), ``"trace"``
      ($\sum_o K_{oo}$, ``v`` of shape ``(N,)``: $\sum_o [K (v \otimes e_o)]_o$, one product
      per output) or ``"diagonal"`` ($K_{oo}$ per output, ``v`` of shape ``(N, O)``).

    **Returns:** $Kv$ with the shape of ``v``.
    """
    where = "ntk_vector_product"
    dt = resolve_dtype(dtype, where)
    check_model(model, where)
    if output not in OUTPUTS:
        raise ValueError(f"{where}: output must be one of {list(OUTPUTS)}; got {output!r}")
    spec = trainable_spec(model, trainable, where=where)
    check_params_finite(model, where)
    model = cast_model(model, dt)
    x = prepare_inputs(model, x, "x", where, dt, dtype_arg=dtype)
    out = eqx.filter_eval_shape(lambda m, xi: jax.vmap(m)(xi), model, x)
    o = max(1, math.prod(out.shape[1:]))
    vshape = {"full": out.shape, "trace": out.shape[:1], "diagonal": (out.shape[0], o)}[output]
    v = _check_vector(v, vshape, where, dt, dtype)
    n, w = x.shape[0], widest_axis(model)
    check_memory(
        array_bytes(4 * _num_layers(model) * n * (w + math.prod(out.shape[1:])), dtype=dt),
        what=f"{where}: the linearised model on {n} inputs",
        hint="use fewer inputs (the product needs O(N x width x depth) memory)",
    )
    params, static = _split(model, spec)
    if output == "full":
        return _matvec(params, static, x, v)
    return _matvec_reduced(params, static, x, v, output)


@eqx.filter_jit
def _matvec_reduced(params, static, x, v, output):
    r"""$\sum_o K_{oo} v$ (``"trace"``) or $(K_{oo} v_o)_o$ (``"diagonal"``): one full
    product per output $o$ on $v$ placed in output $o$, its output-$o$ part kept."""
    mv = make_ntk_matvec(params, static, x)
    n = x.shape[0]
    f = lambda p: jax.vmap(lambda xi: _apply(p, static, xi))(x)  # noqa: E731
    oshape = jax.eval_shape(f, params).shape
    o = max(1, math.prod(oshape[1:]))
    eye = jnp.eye(o, dtype=v.dtype)
    vo = v[:, None] if output == "trace" else v
    vecs = eye[:, None, :] * vo[None]  # [a, i, b] = delta_ab v_i (trace) or v_ia (diagonal)
    res = jax.vmap(lambda u: mv(u.reshape(oshape)).reshape(n, o))(vecs)  # (o, n, o)
    kept = jnp.einsum("ono->no", res)
    return kept.sum(axis=1) if output == "trace" else kept


def _check_vector(v: Any, shape: tuple[int, ...], where: str, dt: Any, dtype_arg: Any) -> Array:
    """``v`` must have the shape of the model's outputs on ``x`` and be finite."""
    from .._precision import warn_float64_input

    if not hasattr(v, "shape") or not hasattr(v, "dtype"):
        try:
            v = jnp.asarray(v, dt)
        except (TypeError, ValueError) as err:
            raise TypeError(f"{where}: v must be an array; got {type(v).__name__}") from err
    warn_float64_input(v, "v", where, dtype=dtype_arg)
    if tuple(v.shape) != tuple(shape):
        raise ValueError(
            f"{where}: v must have the shape of the model's outputs on x, {tuple(shape)}; "
            f"got {tuple(v.shape)}"
        )
    val = concrete_or_none(v)
    if val is not None and not np.all(np.isfinite(val)):
        raise ValueError(f"{where}: v must contain only finite values")
    v = jnp.asarray(v, dt)
    if val is None:
        v = eqx.error_if(
            v,
            ~jnp.all(jnp.isfinite(v)),
            f"{where}: v must contain only finite values (got NaN/inf under jit)",
        )
    return v


@eqx.filter_jit
def _matvec(params, static, x, v):
    return make_ntk_matvec(params, static, x)(v)


def make_ntk_matvec(params: Any, static: Any, x: Array):
    """A closure $v \\mapsto K v$ (linearise once, transpose once), for Lanczos."""
    f = lambda p: jax.vmap(lambda xi: _apply(p, static, xi))(x)  # noqa: E731
    out, lin = jax.linearize(f, params)
    lin_t = jax.linear_transpose(lin, params)

    def mv(v):
        v = v.reshape(out.shape)
        (jt,) = lin_t(v)
        return lin(jt)

    return mv
