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

from .._precision import resolve_dtype
from .._sharding import pad_to_multiple, replicate, shard_leading
from .._types import Array, ArrayLike, Float
from ._trainable import cast_model, check_params_finite, prepare_inputs, trainable_spec

__all__ = ["empirical_ntk", "choose_method", "ntk_vector_product", "METHODS"]

METHODS = ("auto", "jacfwd", "jacrev", "ntvp", "structured")


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
    for jl, pl in zip(leaves, pleaves):
        b = jl.shape[0]
        out.append(jl.reshape(b, -1, pl.size))  # (B, O, p)
    return out


def _contract(ja, jb, full):
    r"""$\sum_{\text{leaves}} J_a J_b^\top$, each leaf as one 2-D GEMM (rows: inputs, or
    inputs x outputs for ``full``)."""
    k = 0.0
    for a, b in zip(ja, jb, strict=True):
        na, nb, o = a.shape[0], b.shape[0], a.shape[1]
        if full:
            g = jax.lax.dot_general(
                a.reshape(na * o, -1), b.reshape(nb * o, -1), (((1,), (1,)), ((), ()))
            )
            k = k + jnp.transpose(g.reshape(na, o, nb, o), (0, 2, 1, 3))
        else:
            k = k + jax.lax.dot_general(
                a.reshape(na, -1), b.reshape(nb, -1), (((1,), (1,)), ((), ()))
            )
    return k


def _contract_symmetric(j, full, depth=2):
    r"""$J J^\top$ from its upper block triangle (halve the rows, mirror the off-diagonal
    block, recurse on the diagonal blocks down to 64 rows): 5/8 of the flops at
    ``depth=2``, which used the least CPU time on 2 cores (depth 3 was no faster: thin GEMMs
    with a long contraction run below peak)."""
    n = j[0].shape[0]
    if depth == 0 or n < 64:
        return _contract(j, j, full)
    h = n // 2
    top = [leaf[:h] for leaf in j]
    bot = [leaf[h:] for leaf in j]
    ktop = _contract_symmetric(top, full, depth - 1)
    kbot = _contract_symmetric(bot, full, depth - 1)
    off = _contract(top, bot, full)
    offt = jnp.transpose(off, (1, 0, 3, 2)) if full else off.T
    return jnp.concatenate(
        [jnp.concatenate([ktop, off], axis=1), jnp.concatenate([offt, kbot], axis=1)], axis=0
    )


def _ntvp_block(params, static, xa, xb, full):
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
    return kfull if full else jnp.trace(kfull, axis1=2, axis2=3)


def _block_ntk(params, static, xa, xb, method, full, symmetric=False):
    if method == "ntvp":
        return _ntvp_block(params, static, xa, xb, full)
    ja = _jacobian_rows(params, static, xa, method)
    if symmetric:  # K(x, x): one Jacobian, upper block triangle of J J^T
        return _contract_symmetric(ja, full)
    jb = _jacobian_rows(params, static, xb, method)
    return _contract(ja, jb, full)


def _ntk_body(params, static, x1, x2, method, full, block, row_shard, symmetric=False):
    n1, n2 = x1.shape[0], x2.shape[0]
    if block is None:
        return _block_ntk(params, static, x1, x2, method, full, symmetric)
    b1 = block if not row_shard else x1.shape[0]
    p1, p2 = pad_to_multiple(n1, b1), pad_to_multiple(n2, block)
    xp1 = jnp.concatenate([x1, jnp.broadcast_to(x1[:1], (p1 - n1, *x1.shape[1:]))])
    xp2 = jnp.concatenate([x2, jnp.broadcast_to(x2[:1], (p2 - n2, *x2.shape[1:]))])
    xb1 = xp1.reshape(p1 // b1, b1, *x1.shape[1:])
    xb2 = xp2.reshape(p2 // block, block, *x2.shape[1:])

    def row(xa):
        if method == "ntvp":
            blocks = jax.lax.map(lambda xb: _block_ntk(params, static, xa, xb, method, full), xb2)
        else:
            ja = _jacobian_rows(params, static, xa, method)
            blocks = jax.lax.map(
                lambda xb: _contract(ja, _jacobian_rows(params, static, xb, method), full), xb2
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
    return sum(int(l.size) for l in jtu.tree_leaves(params))


def empirical_ntk(
    model: Any,
    x1: Float[ArrayLike, "N1 *d"],
    x2: Float[ArrayLike, "N2 *d"] | None = None,
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
    - `method`: ``"auto"``, ``"jacfwd"``, ``"jacrev"``, ``"ntvp"`` or ``"structured"``.
    - `block_size`: rows/columns per block (bounded memory); ``None``: one block.
    - `output`: ``"trace"`` ($\sum_o K_{oo}$, shape ``(N1, N2)``) or ``"full"`` (shape
      ``(N1, N2, O, O)``; for a scalar model ``O = 1``).
    - `mesh`: a `jax.sharding.Mesh` (e.g. `spectral_jax._sharding.device_mesh()`) to
      shard the rows over its devices; ``None``: single device.
    - `dtype`: float32/float64 (default from x64); model and inputs are cast to it.

    **Returns:** the kernel matrix.

    **Raises:** ``ValueError`` for an empty trainable selection, inputs whose shape does
    not fit the model, NaN/inf parameters or inputs, ``block_size <= 0``, an unknown
    method/output, or ``method="structured"`` on a model it does not cover.

    !!! Example
        ```python
        K = empirical_ntk(net, x, trainable="biases", method="jacrev")
        ```

    **References:** Jacot et al. (2018), *Neural Tangent Kernel: Convergence and
    Generalization in Neural Networks*.
    """
    where = "empirical_ntk"
    dt = resolve_dtype(dtype, where)
    if method not in METHODS:
        raise ValueError(f"{where}: method must be one of {list(METHODS)}; got {method!r}")
    if output not in ("trace", "full"):
        raise ValueError(f"{where}: output must be 'trace' or 'full'; got {output!r}")
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

        if output == "full":
            raise ValueError(
                f"{where}: method='structured' covers scalar ShallowNetworks; use output='trace'"
            )
        return structured_ntk(
            model, x1, x2, trainable=trainable, block_size=block_size, mesh=mesh, dtype=dt
        )
    spec = trainable_spec(model, trainable, where=where)
    check_params_finite(model, where)
    model = cast_model(model, dt)
    x1 = prepare_inputs(model, x1, "x1", where, dt)
    x2 = x1 if x2 is None else prepare_inputs(model, x2, "x2", where, dt)
    if x2.shape[1:] != x1.shape[1:]:
        raise ValueError(
            f"{where}: x1 and x2 must hold inputs of one shape; got {x1.shape} and {x2.shape}"
        )
    params, static = _split(model, spec)
    if method == "auto":
        out = jax.eval_shape(lambda p, xi: _apply(p, static, xi), params, x1[0])
        method = choose_method(_count(params), max(1, math.prod(out.shape)))
    full = output == "full"
    if mesh is not None:
        ndev = mesh.devices.size
        n1 = x1.shape[0]
        pad = pad_to_multiple(n1, ndev)
        xs = jnp.concatenate([x1, jnp.broadcast_to(x1[:1], (pad - n1, *x1.shape[1:]))])
        xs = shard_leading(xs, mesh)
        params = replicate(params, mesh)
        k = _ntk_impl(params, static, xs, replicate(x2, mesh), method, full, block_size, True)
        k = k[:n1]
    else:
        k = _ntk_impl(params, static, x1, x2, method, full, block_size, False, x2 is x1)
    return k


def ntk_vector_product(
    model: Any,
    x: Float[ArrayLike, "N *d"],
    v: Float[ArrayLike, "N *o"],
    *,
    trainable: Any = "all",
    dtype: Any = None,
) -> Float[Array, "N *o"]:
    r"""$K v$ without forming $K$ or the Jacobian: $K v = J\,(J^\top v)$, with $J^\top v$
    from `jax.linear_transpose` of the linearised model and $J(\cdot)$ from its JVP.

    **Arguments:** `model`, `x` (shape ``(N, *input_shape)``), `v` (shape ``(N, *out)``,
    like the model's outputs on ``x``), `trainable`, `dtype`.

    **Returns:** $Kv$ with the shape of ``v``.
    """
    where = "ntk_vector_product"
    dt = resolve_dtype(dtype, where)
    spec = trainable_spec(model, trainable, where=where)
    check_params_finite(model, where)
    model = cast_model(model, dt)
    x = prepare_inputs(model, x, "x", where, dt)
    params, static = _split(model, spec)
    return _matvec(params, static, x, jnp.asarray(v, dt))


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
