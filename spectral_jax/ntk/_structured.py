r"""Closed-form NTK of a shallow network, with no Jacobian materialised.

For $h(x) = \sum_i a_i\sigma(z_i(x)) + c$, $z_i = w_i\cdot x - b_i$:
$\partial_{a_i}h = \sigma(z_i)$, $\partial_{w_i}h = a_i\sigma'(z_i)\,x$,
$\partial_{b_i}h = -a_i\sigma'(z_i)$, $\partial_c h = 1$, so with
$\Phi = \sigma(Z)$ and $D = \sigma'(Z)\,\mathrm{diag}(a)$ (both $N\times n$)

$$K = [a]\,\Phi_1\Phi_2^\top + [w]\,(X_1X_2^\top)\odot(D_1D_2^\top)
    + [b]\,D_1D_2^\top + [c]\,\mathbf 1,$$

two GEMMs of size $N\times n\times N$ (one batched GEMM). For $K(x, x)$ only the upper
block triangle is multiplied (recursive halving), which saves close to half the flops.

**Scalar-input ReLU fast path.** In 1D with $\sigma = \mathrm{ReLU}$, neuron $i$ is active
at $x$ iff $x > t_i = b_i/w_i$ ($w_i > 0$) or $x < t_i$ ($w_i < 0$). For a pair $x, x'$
only neurons with $t_i < \min(x, x')$ (resp. $t_i > \max(x,x')$) contribute, and every
contribution is $\alpha_i\,x x' + \beta_i (x + x') + \gamma_i$ with
$\alpha_i = [a]w_i^2 + [w]a_i^2$, $\beta_i = -[a]w_i b_i$, $\gamma_i = [a]b_i^2 + [b]a_i^2$.
After sorting the breakpoints the kernel is three prefix (suffix) sums looked up at the
rank of $\min(x,x')$ ($\max(x,x')$): $O(N^2 + (N+n)\log n)$ work, $O(N^2 + N + n)$ memory.
Neurons with $w_i = 0$ are constant and add a constant term.

**References:** Welper (2024), *Approximation and Gradient Descent Training with Neural
Networks* (arXiv 2405.11696) for the shallow 1D setting.
"""

from __future__ import annotations

import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu

from .._memory import array_bytes, check_memory
from .._precision import resolve_dtype
from .._sharding import pad_to_multiple, replicate, shard_leading
from .._types import Array, ArrayLike, Float
from ..activations import ReLU
from ..networks import ShallowNetwork
from ._trainable import cast_model, check_params_finite, prepare_inputs, trainable_spec

__all__ = ["structured_ntk", "shallow_relu_1d_ntk"]

_COVERS = (
    "structured_ntk covers ShallowNetwork (h(x) = sum_i a_i sigma(w_i.x - b_i) + c, scalar "
    "output, any activation) with any combination of trainable outer a, weights w, biases b "
    "and offset c"
)


def _flags(model: Any, trainable: Any, where: str) -> tuple[bool, bool, bool, bool]:
    if not isinstance(model, ShallowNetwork):
        raise ValueError(f"{where}: got a {type(model).__name__}; {_COVERS}")
    spec = trainable_spec(model, trainable, where=where)
    fa, fw, fb, fc = spec.outer, spec.weights, spec.biases, spec.offset
    others = jtu.tree_leaves(spec.activation)
    if any(others):
        raise ValueError(f"{where}: the selection trains activation parameters; {_COVERS}")
    return bool(fa), bool(fw), bool(fb), bool(fc)


def _features(model, x):
    r"""$[\sigma(Z),\ \sigma'(Z)\,\mathrm{diag}(a)]$ stacked, shape ``(2, N, n)``, from one
    JVP (the activation is evaluated once)."""
    z = x @ model.weights.T - model.biases[None, :]
    phi, dphi = jax.jvp(model.activation, (z,), (jnp.ones_like(z),))
    return jnp.stack([phi, dphi * model.outer[None, :]])


def _combine(fa_, fb_, xa, xb, flags):
    r"""One block $K_{ab}$ from the stacked features of its rows and columns."""
    fa, fw, fb, fc = flags
    k = jnp.zeros((xa.shape[0], xb.shape[0]), xa.dtype)
    if fa and (fw or fb):
        g = jnp.einsum("kin,kjn->kij", fa_, fb_)  # both products in one batched GEMM
        pp, dd = g[0], g[1]
    else:
        pp = fa_[0] @ fb_[0].T if fa else None
        dd = fa_[1] @ fb_[1].T if (fw or fb) else None
    if fa:
        k = k + pp
    if fw and fb:
        k = k + (xa @ xb.T + 1) * dd
    elif fw:
        k = k + (xa @ xb.T) * dd
    elif fb:
        k = k + dd
    if fc:
        k = k + 1
    return k


def _symmetric(f, x, flags, depth):
    r"""$K(x, x)$ from its upper block triangle: split the rows in halves, compute the
    off-diagonal block once and mirror it, recurse on the diagonal blocks. With ``depth``
    levels this needs $(1/2 + 2^{-depth-1})$ of the flops of the full product."""
    if depth == 0 or x.shape[0] < 2:
        return _combine(f, f, x, x, flags)
    h = x.shape[0] // 2
    top = _symmetric(f[:, :h], x[:h], flags, depth - 1)
    bot = _symmetric(f[:, h:], x[h:], flags, depth - 1)
    off = _combine(f[:, :h], f[:, h:], x[:h], x[h:], flags)
    return jnp.block([[top, off], [off.T, bot]])


def _sym_depth(n: int) -> int:
    # diagonal leaves of >= ~100 rows keep each GEMM efficient; 3 levels reach 56% of the
    # full product's flops, more levels gain little
    return max(0, min(3, int(math.log2(max(n, 1) / 100)))) if n >= 200 else 0


@eqx.filter_jit
def _matrix_form(model, x1, x2, flags, block, symmetric):
    if symmetric and block is None:
        return _symmetric(_features(model, x1), x1, flags, _sym_depth(x1.shape[0]))

    def blockk(xa, xb):
        return _combine(_features(model, xa), _features(model, xb), xa, xb, flags)

    if block is None:
        return blockk(x1, x2)
    f2 = _features(model, x2)
    n1 = x1.shape[0]
    p1 = -(-n1 // block) * block
    xp = jnp.concatenate([x1, jnp.broadcast_to(x1[:1], (p1 - n1, x1.shape[1]))])
    rows = jax.lax.map(
        lambda xa: _combine(_features(model, xa), f2, xa, x2, flags),
        xp.reshape(p1 // block, block, x1.shape[1]),
    )
    return rows.reshape(p1, x2.shape[0])[:n1]


def _tables(t, alpha, beta, gamma, mask, ascending):
    """Sorted breakpoints and cumulative coefficient sums (prefix if ascending)."""
    big = jnp.asarray(jnp.inf if ascending else -jnp.inf, t.dtype)
    t = jnp.where(mask, t, big)
    order = jnp.argsort(t) if ascending else jnp.argsort(-t)
    ts = t[order]
    coef = jnp.stack([alpha, beta, gamma], -1) * mask[:, None].astype(t.dtype)
    cs = jnp.concatenate([jnp.zeros((1, 3), t.dtype), jnp.cumsum(coef[order], axis=0)])
    return ts, cs


@eqx.filter_jit
def _fast_1d(model, x1, x2, flags):
    # flags enter as 0/1 weights (an array), so every trainable combination shares one
    # compilation
    fa, fw, fb, fc = flags[0], flags[1], flags[2], flags[3]
    a, w, b = model.outer, model.weights[:, 0], model.biases
    alpha = fa * w * w + fw * a * a
    beta = -fa * w * b
    gamma = fa * b * b + fb * a * a
    pos, neg, zer = w > 0, w < 0, w == 0
    safe = jnp.where(zer, 1, w)
    t = b / safe
    tp, cp = _tables(t, alpha, beta, gamma, pos, True)
    tn, cn = _tables(t, alpha, beta, gamma, neg, False)
    # neurons with w = 0: sigma(-b) constant in x
    on0 = (zer & (b < 0)).astype(a.dtype)
    c0 = jnp.stack(
        [
            fw * (a * a * on0).sum(),
            jnp.zeros((), x1.dtype),
            fa * (((-b) ** 2) * on0).sum() + fb * (a * a * on0).sum(),
        ]
    )

    def lookup(x):
        ip = jnp.searchsorted(tp, x, side="left")  # number of t_i < x
        # descending tn: number of t_i > x
        ineg = jnp.searchsorted(-tn, -x, side="left")
        return cp[ip], cn[ineg]  # (N, 3) each

    p1, n1_ = lookup(x1[:, 0])
    p2, n2_ = lookup(x2[:, 0])
    u, v = x1[:, 0][:, None], x2[:, 0][None, :]
    le = u <= v  # min is x1 -> use row tables; else column tables
    ge = u >= v  # max is x1 -> row tables for the negative orientation
    xx, xs = u * v, u + v

    def comb(c):
        return c[..., 0] * xx + c[..., 1] * xs + c[..., 2]

    kpos = jnp.where(le, comb(p1[:, None, :]), comb(p2[None, :, :]))
    kneg = jnp.where(ge, comb(n1_[:, None, :]), comb(n2_[None, :, :]))
    return kpos + kneg + c0[0] * xx + c0[2] + fc


def structured_peak_bytes(
    n1: int, n2: int, width: int, *, fast: bool, block_size: int | None = None, dtype: Any
) -> int:
    """Estimated peak bytes of `structured_ntk`: the $N_1\times N_2$ temporaries of the
    prefix-sum lookup (fast path), or the features $(2, N, n)$ of rows and columns, their
    products and the result (matrix form)."""
    if fast:
        need = 8 * n1 * n2 + 8 * (n1 + n2 + width)
    else:
        rows = n1 if block_size is None else min(block_size, n1)
        need = 4 * width * (rows + n2) + 3 * rows * n2 + 2 * n1 * n2
    return array_bytes(need, dtype=dtype)


def structured_ntk(
    model: ShallowNetwork,
    x1: Float[ArrayLike, "N1 d"],
    x2: Float[ArrayLike, "N2 d"] | None = None,
    *,
    trainable: Any = "all",
    fast_path: str | bool = "auto",
    block_size: int | None = None,
    mesh: Any = None,
    dtype: Any = None,
) -> Float[Array, "N1 N2"]:
    r"""The NTK of a `ShallowNetwork` in closed form (matrix products; no Jacobian).

    **Arguments:**

    - `model`: a `ShallowNetwork` (scalar output, any activation).
    - `x1`, `x2`: inputs, shape ``(N, d)`` (a 1-D array for $d=1$); ``x2=None``: ``x1``.
    - `trainable`: any combination of ``"outer"``, ``"weights"``, ``"biases"``,
      ``"offset"`` (or ``"all"``, a predicate, a filter spec).
    - `fast_path`: ``"auto"`` uses the $O(N^2 + (N+n)\log n)$ prefix-sum form for 1D ReLU
      networks; ``True`` requires it, ``False`` forces the matrix form.
    - `block_size`: rows per block for the matrix form (``None``: one block).
    - `mesh`: a `jax.sharding.Mesh` (e.g. `spectral_jax._sharding.device_mesh()`): the rows
      of $K$ are sharded over its devices (XLA partitions the products); ``None``: one
      device.
    - `dtype`: float32/float64.

    With ``x2=None`` (one device, no blocking) the matrix form uses the symmetry of $K$:
    only the upper block triangle is multiplied (recursive halving, about 56% of the
    flops of the full product for $N \ge 800$).

    **Returns:** $K$, shape ``(N1, N2)``.

    **Raises:** ``ValueError`` for a model it does not cover (it says which it covers),
    an empty selection, bad inputs, ``block_size <= 0``, or ``fast_path=True`` where the
    fast path does not apply.

    **References:** Welper (2024), arXiv 2405.11696 (shallow 1D NTK).
    """
    where = "structured_ntk"
    dt = resolve_dtype(dtype, where)
    flags = _flags(model, trainable, where)
    if block_size is not None and (
        isinstance(block_size, bool) or not isinstance(block_size, int) or block_size <= 0
    ):
        raise ValueError(
            f"{where}: block_size must be a positive integer or None; got {block_size!r}"
        )
    check_params_finite(model, where)
    model = cast_model(model, dt)
    x1 = prepare_inputs(model, x1, "x1", where, dt)
    x2 = x1 if x2 is None else prepare_inputs(model, x2, "x2", where, dt)
    fast_ok = model.dim == 1 and isinstance(model.activation, ReLU)
    if fast_path is True and not fast_ok:
        raise ValueError(
            f"{where}: fast_path=True needs a 1D ShallowNetwork with ReLU activation; got d="
            f"{model.dim}, activation {model.activation.name!r}"
        )
    if fast_path not in ("auto", True, False):
        raise ValueError(f"{where}: fast_path must be 'auto', True or False; got {fast_path!r}")
    use_fast = fast_ok and fast_path in ("auto", True)
    n1, n2, width = x1.shape[0], x2.shape[0], model.outer.shape[0]
    check_memory(
        structured_peak_bytes(n1, n2, width, fast=use_fast, block_size=block_size, dtype=dt),
        what=f"{where}: the NTK of {n1} x {n2} inputs of a width-{width} network by "
        + ("the 1D ReLU prefix-sum form" if use_fast else "the matrix form"),
        hint="use fewer points or a narrower network"
        + ("" if use_fast else ", or a block_size (bounds the features of the rows)"),
    )
    if mesh is not None:
        ndev = mesh.devices.size
        pad = pad_to_multiple(n1, ndev)
        xs = shard_leading(
            jnp.concatenate([x1, jnp.broadcast_to(x1[:1], (pad - n1, x1.shape[1]))]), mesh
        )
        model, x2 = replicate(model, mesh), replicate(x2, mesh)
        if use_fast:
            return _fast_1d(model, xs, x2, replicate(jnp.asarray(flags, dt), mesh))[:n1]
        return _matrix_form(model, xs, x2, flags, block_size, False)[:n1]
    if use_fast:
        return _fast_1d(model, x1, x2, jnp.asarray(flags, dt))
    return _matrix_form(model, x1, x2, flags, block_size, x2 is x1)


def shallow_relu_1d_ntk(
    model: ShallowNetwork,
    x1,
    x2=None,
    *,
    trainable: Any = "all",
    mesh: Any = None,
    dtype: Any = None,
):
    """The scalar-input ReLU fast path of `structured_ntk` (``fast_path=True``)."""
    return structured_ntk(
        model, x1, x2, trainable=trainable, fast_path=True, mesh=mesh, dtype=dtype
    )
