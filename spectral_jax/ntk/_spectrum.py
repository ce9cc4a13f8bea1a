r"""Eigenvalues of the NTK as an integral operator, and a jittable Lanczos.

The operator $(\mathcal K g)(x) = \int_D K(x, y)\,g(y)\,dy$ is discretised on a
quadrature rule $(x_l, q_l)$ by the symmetrised Nyström matrix
$A = Q^{1/2} K Q^{1/2}$, $Q = \mathrm{diag}(q)$, whose eigenvalues approximate those of
$\mathcal K$. For large $N$, the top $k$ come from `lanczos_eigvalsh` on the matrix-free
product $v \mapsto Q^{1/2} J J^\top Q^{1/2} v$ (NTK-vector products).

**References:** Nyström (1930); Lanczos (1950); Paige (1972) on reorthogonalisation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from .._checks import check_positive_int
from .._memory import array_bytes, check_memory
from .._precision import resolve_dtype
from .._types import Array, Float, PRNGKeyArray
from ..domains import Interval
from ..quadrature import QuadratureRule, gauss_legendre
from ._empirical import _num_layers, _split, check_ntk_memory, empirical_ntk, make_ntk_matvec
from ._trainable import (
    cast_model,
    check_model,
    check_params_finite,
    prepare_inputs,
    trainable_spec,
    widest_axis,
)

#: extra N x N arrays of the Nystrom eigenvalues beside K: Q^1/2 K Q^1/2, its symmetrised
#: copy, the eigensolver's copy and workspace
_EIG_COPIES = 4


def eigenvalue_bytes(n: int, dtype: Any) -> int:
    r"""Peak bytes the dense eigenvalues of an $N\times N$ NTK (`nystrom_eigenvalues`,
    `ntk_operator_eigenvalues` without Lanczos) add beside the kernel: four $N\times N$
    arrays of ``dtype`` ($Q^{1/2}KQ^{1/2}$, its symmetrised copy, the eigensolver's copy
    and its workspace)."""
    return array_bytes(_EIG_COPIES, n, n, dtype=dtype)


__all__ = [
    "eigenvalue_bytes",
    "lanczos_eigvalsh",
    "ntk_eigenvalues",
    "ntk_operator_eigenvalues",
    "nystrom_eigenvalues",
]


def lanczos_eigvalsh(
    matvec: Callable[[Array], Array],
    n: int,
    k: int,
    *,
    num_iter: int | None = None,
    key: PRNGKeyArray,
    dtype: Any = None,
) -> Float[Array, " k"]:
    r"""Top-``k`` eigenvalues (descending) of a symmetric operator given by ``matvec``.

    Lanczos with full reorthogonalisation (classical Gram–Schmidt, applied twice) as one
    `jax.lax.scan`; the Ritz values of the tridiagonal matrix after ``num_iter`` steps
    (default ``min(n, max(2k + 20, 3k))``) are returned.

    **Arguments:** `matvec` ($\mathbb R^n\to\mathbb R^n$, jittable), `n`, `k`,
    `num_iter`, `key` (start vector), `dtype`.
    """
    where = "lanczos_eigvalsh"
    n = check_positive_int(n, "n", where)
    k = check_positive_int(k, "k", where)
    if k > n:
        raise ValueError(f"{where}: k must be <= n = {n}; got {k}")
    m = (
        min(n, max(2 * k + 20, 3 * k))
        if num_iter is None
        else check_positive_int(num_iter, "num_iter", where)
    )
    m = min(m, n)
    if m < k:
        raise ValueError(f"{where}: num_iter must be >= k = {k}; got {m}")
    dt = resolve_dtype(dtype, where)
    v0 = jr.normal(key, (n,), dt)
    return _lanczos(matvec, v0, m)[:k]


@eqx.filter_jit
def _lanczos(matvec, v0, m):
    n = v0.shape[0]
    dt = v0.dtype
    v0 = v0 / jnp.linalg.norm(v0)
    V = jnp.zeros((m + 1, n), dt).at[0].set(v0)

    def step(carry, j):
        V, beta_prev = carry
        v = V[j]
        w = matvec(v)
        alpha = jnp.dot(w, v)
        mask = (jnp.arange(m + 1) <= j)[:, None]
        Vm = V * mask.astype(V.dtype)
        w = w - Vm.T @ (Vm @ w)
        w = w - Vm.T @ (Vm @ w)
        beta = jnp.linalg.norm(w)
        tiny = jnp.finfo(dt).eps * (jnp.abs(alpha) + beta_prev + 1e-300)
        vnext = jnp.where(beta > tiny, w / jnp.where(beta > tiny, beta, 1), 0)
        V = V.at[j + 1].set(vnext)
        return (V, beta), (alpha, beta)

    (_, _), (alphas, betas) = jax.lax.scan(step, (V, jnp.zeros((), dt)), jnp.arange(m))
    T = jnp.diag(alphas) + jnp.diag(betas[:-1], 1) + jnp.diag(betas[:-1], -1)
    return jnp.sort(jnp.linalg.eigvalsh(T))[::-1]


def nystrom_eigenvalues(
    kernel: Float[Array, "m m"], weights: Float[Array, " m"]
) -> Float[Array, " m"]:
    r"""Eigenvalues (descending) of $Q^{1/2} K Q^{1/2}$, the symmetrised Nyström matrix.

    **Raises:** ``ValueError`` for a kernel that is not square, weights of another length,
    or (a `MemoryBudgetError`) a kernel whose eigen-decomposition cannot fit in memory."""
    where = "nystrom_eigenvalues"
    shp = getattr(kernel, "shape", None)
    if shp is None or len(shp) != 2 or shp[0] != shp[1]:
        raise ValueError(f"{where}: kernel must be a square matrix; got shape {shp}")
    if getattr(weights, "shape", None) != (shp[0],):
        raise ValueError(
            f"{where}: weights must have shape ({shp[0]},) like the kernel's rows; got "
            f"{getattr(weights, 'shape', type(weights).__name__)}"
        )
    check_memory(
        eigenvalue_bytes(shp[0], kernel.dtype),
        what=f"{where}: the eigenvalues of a {shp[0]} x {shp[0]} kernel",
        hint="use fewer quadrature points, or the matrix-free top-k eigenvalues "
        "(ntk_operator_eigenvalues(..., lanczos=True, k=...))",
    )
    s = jnp.sqrt(weights)
    a = s[:, None] * kernel * s[None, :]
    return jnp.sort(jnp.linalg.eigvalsh(0.5 * (a + a.T)))[::-1]


def _check_dense(model, trainable, method, n, dim, dt, where) -> None:
    """The dense path's memory: the NTK, its Jacobian work and the eigenvalue copies."""
    if method == "structured":
        return  # structured_ntk checks its own memory
    spec = trainable_spec(model, trainable, where=where)
    mdl = cast_model(model, dt)
    x1 = prepare_inputs(mdl, jnp.zeros((1, dim), dt), "rule.nodes", where, dt)
    check_ntk_memory(
        mdl,
        spec,
        x1,
        n,
        None,
        method=method if method in ("auto", "jacfwd", "jacrev", "ntvp") else "auto",
        block_size=None,
        full=False,
        dtype=dt,
        extra=array_bytes(_EIG_COPIES, n, n, dtype=dt),
        what=f"{where}: the dense NTK and its eigenvalues on {n} quadrature nodes",
        hint="use fewer quadrature points, or lanczos=True with k (the top-k eigenvalues "
        "from NTK-vector products, no N x N matrix)",
    )


def ntk_operator_eigenvalues(
    model: Any,
    domain: Interval | None = None,
    *,
    rule: QuadratureRule | None = None,
    n_points: int = 256,
    trainable: Any = "all",
    method: str = "auto",
    k: int | None = None,
    lanczos: bool = False,
    key: PRNGKeyArray | None = None,
    dtype: Any = None,
) -> Float[Array, " k"]:
    r"""Eigenvalues $\mu_1 \ge \mu_2 \ge \dots$ of the NTK integral operator on a domain.

    **Arguments:**

    - `model`: any model accepted by `empirical_ntk`.
    - `domain`: an `Interval` or `Box` (default $[-1,1]$) for a Gauss–Legendre rule with
      ``n_points`` nodes per axis; or pass a ready `rule`.
    - `trainable`, `method`: as in `empirical_ntk` (dense path).
    - `k`: how many eigenvalues (default all of the dense path).
    - `lanczos`: top-``k`` by `lanczos_eigvalsh` on NTK-vector products (no $K$ formed).
    - `key`: start vector for Lanczos. `dtype`: float32/float64.

    **Returns:** the eigenvalues, descending.

    **References:** Jacot et al. (2018); Welper (2024), arXiv 2405.11696.
    """
    where = "ntk_operator_eigenvalues"
    dt = resolve_dtype(dtype, where)
    check_model(model, where)
    if rule is None:
        domain = Interval() if domain is None else domain
        n_points = check_positive_int(n_points, "n_points", where)
        dim = int(getattr(domain, "dim", 1))
        n = n_points**dim
        if not lanczos:
            _check_dense(model, trainable, method, n, dim, dt, where)
        check_memory(  # the Gauss rule's N x N eigenproblem per axis and its nodes
            array_bytes(3 * n_points * n_points + 2 * n * dim, dtype=dt),
            what=f"{where}: a Gauss-Legendre rule with n_points={n_points} per axis in {dim}-D",
            hint="use fewer n_points",
        )
        rule = gauss_legendre(domain, n_points, dtype=dt)
    elif not isinstance(rule, QuadratureRule):
        raise TypeError(f"{where}: rule must be a QuadratureRule; got {type(rule).__name__}")
    x, q = rule.nodes.astype(dt), rule.weights.astype(dt)
    if lanczos:
        if k is None:
            raise ValueError(f"{where}: lanczos=True needs k (how many eigenvalues)")
        k = check_positive_int(k, "k", where)
        spec = trainable_spec(model, trainable, where=where)
        check_params_finite(model, where)
        mdl = cast_model(model, dt)
        x = prepare_inputs(mdl, x, "rule.nodes", where, dt)
        n = x.shape[0]
        steps = min(n, max(2 * k + 20, 3 * k))
        check_memory(
            array_bytes(
                3 * (steps + 1) * n + 4 * _num_layers(mdl) * n * widest_axis(mdl), dtype=dt
            ),
            what=f"{where}: Lanczos ({steps} steps) on {n} quadrature nodes",
            hint="use fewer quadrature points or a smaller k",
        )
        params, static = _split(mdl, spec)
        out = eqx.filter_eval_shape(
            lambda p: jax.vmap(lambda xi: eqx.combine(p, static)(xi))(x), params
        )
        if out.shape != (x.shape[0],):
            raise ValueError(
                f"{where}: lanczos=True needs a scalar-output model; outputs {out.shape}"
            )
        mv = make_ntk_matvec(params, static, x)
        s = jnp.sqrt(q)
        key = jr.key(0) if key is None else key
        return lanczos_eigvalsh(lambda v: s * mv(s * v), x.shape[0], k, key=key, dtype=dt)
    _check_dense(model, trainable, method, x.shape[0], x.shape[1], dt, where)
    kmat = empirical_ntk(model, x, trainable=trainable, method=method, dtype=dt)
    ev = nystrom_eigenvalues(kmat, q)
    return ev if k is None else ev[:k]


def _kernel_matvec(params: Any, static: Any, x: Array, output: str, o: int, oshape: tuple):
    """$v \\mapsto K v$ on flat vectors for ``output`` ``"trace"`` ($N$), ``"full"``
    ($N O$), or a list of ``O`` products for ``"diagonal"`` (one per output)."""
    mv = make_ntk_matvec(params, static, x)
    n = x.shape[0]
    if output == "full":
        return lambda v: mv(v.reshape(oshape)).reshape(-1)
    if output == "trace":

        def tr(v):
            vecs = jnp.eye(o, dtype=v.dtype)[:, None, :] * v[None, :, None]
            res = jax.vmap(lambda u: mv(u.reshape(oshape)).reshape(n, o))(vecs)
            return jnp.einsum("ono->n", res)

        return tr

    def diag(j):
        def one(v):
            u = jnp.zeros((n, o), v.dtype).at[:, j].set(v)
            return mv(u.reshape(oshape)).reshape(n, o)[:, j]

        return one

    return [diag(j) for j in range(o)]


def ntk_eigenvalues(
    model: Any,
    x: Float[Array, " N *d"],
    *,
    k: int | None = None,
    trainable: Any = "all",
    method: str = "auto",
    output: str = "trace",
    lanczos: bool = False,
    key: PRNGKeyArray | None = None,
    dtype: Any = None,
) -> Float[Array, " k"] | Float[Array, "O k"]:
    r"""Eigenvalues (descending) of the NTK Gram matrix $K(x, x)$ on the points ``x``.

    ``output="trace"``: of the $N\times N$ matrix $\sum_o K_{oo}$; ``"full"``: of the
    $(N O)\times(N O)$ matrix $[K_{oo'}(x_i, x_j)]$ (rows $(i, o)$); ``"diagonal"``: of each
    $K_{oo}$, shape ``(O, k)``. Dense path: `empirical_ntk` (any ``method``) and
    ``eigvalsh``; ``lanczos=True``: the top ``k`` from `lanczos_eigvalsh` on NTK-vector
    products (no $K$ and no Jacobian formed).

    **Arguments:** `model`, `x` (shape ``(N, *input_shape)``), `k` (default: all; required
    with ``lanczos``), `trainable`, `method`, `output`, `lanczos`, `key` (Lanczos start
    vector), `dtype`.

    **Returns:** the eigenvalues, descending (``(O, k)`` for ``"diagonal"``).
    """
    from ._empirical import OUTPUTS

    where = "ntk_eigenvalues"
    dt = resolve_dtype(dtype, where)
    check_model(model, where)
    if output not in OUTPUTS:
        raise ValueError(f"{where}: output must be one of {list(OUTPUTS)}; got {output!r}")
    if k is not None:
        k = check_positive_int(k, "k", where)
    if not lanczos:
        kmat = empirical_ntk(model, x, trainable=trainable, method=method, output=output, dtype=dt)
        n = kmat.shape[0]
        check_memory(
            array_bytes(_EIG_COPIES, kmat.size // n, kmat.size // n, dtype=dt),
            what=f"{where}: the eigenvalues of the NTK on {n} points (output={output!r})",
            hint="use lanczos=True with k (the top-k eigenvalues from NTK-vector products)",
        )
        if output == "full":
            o = kmat.shape[2]
            mats = jnp.transpose(kmat, (0, 2, 1, 3)).reshape(n * o, n * o)[None]
        elif output == "diagonal":
            mats = jnp.moveaxis(kmat, -1, 0)
        else:
            mats = kmat[None]
        ev = jnp.sort(jnp.linalg.eigvalsh(0.5 * (mats + jnp.swapaxes(mats, 1, 2))), axis=-1)
        ev = ev[:, ::-1] if k is None else ev[:, ::-1][:, :k]
        return ev if output == "diagonal" else ev[0]
    if k is None:
        raise ValueError(f"{where}: lanczos=True needs k (how many eigenvalues)")
    spec = trainable_spec(model, trainable, where=where)
    check_params_finite(model, where)
    mdl = cast_model(model, dt)
    x = prepare_inputs(mdl, x, "x", where, dt, dtype_arg=dtype)
    n = x.shape[0]
    steps = min(n, max(2 * k + 20, 3 * k))
    params, static = _split(mdl, spec)
    oshape = eqx.filter_eval_shape(
        lambda p: jax.vmap(lambda xi: eqx.combine(p, static)(xi))(x), params
    ).shape
    o = max(1, int(np.prod(oshape[1:])))
    size = n * o if output == "full" else n
    check_memory(
        array_bytes(
            3 * (steps + 1) * size + 4 * _num_layers(mdl) * n * widest_axis(mdl) * o, dtype=dt
        ),
        what=f"{where}: Lanczos ({steps} steps) on {n} points",
        hint="use fewer points or a smaller k",
    )
    if k > size:
        raise ValueError(f"{where}: k must be <= {size} (the kernel's size); got {k}")
    key = jr.key(0) if key is None else key
    mv = _kernel_matvec(params, static, x, output, o, oshape)
    if output == "diagonal":
        return jnp.stack([lanczos_eigvalsh(m, n, k, key=key, dtype=dt) for m in mv])
    return lanczos_eigvalsh(mv, size, k, key=key, dtype=dt)
