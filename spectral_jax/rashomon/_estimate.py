r"""Monte Carlo estimate of the Rashomon set measure of a shallow network class.

$\mathcal{H}_n = \{h = \frac1n\sum_{j=1}^n a_j\sigma(w_j\cdot x-b_j):\ |a_j|\le A,\
|b_j|\le 1,\ w_j\in S^{d-1}\}$ with the parameters uniform on the box $\times$ sphere;
$\mathcal{R}_\varepsilon(f) = \{\|h-f\|_{L^2(D)}\le\varepsilon\|f\|_{L^2(D)}\}$.
"""

from __future__ import annotations

import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from .._checks import check_positive_int
from .._memory import array_bytes, check_memory
from .._progress import Progress
from .._sharding import AXIS
from .._types import Array, Float, PRNGKeyArray
from ..activations import AbstractActivation, get_activation
from ..quadrature import QuadratureRule
from ._interval import binomial_interval
from ._result import RashomonResult
from ._setup import check_common, check_key, setup

__all__ = ["rashomon_estimate", "sample_parameters", "network_inner_products"]

_TARGET_ELEMS = 1 << 22  # batch * n * m elements of the feature tensor held at once
_CHUNK = 64  # batches per jitted call (between two progress updates); a traced trip count


def rashomon_batch_size(n: int, m: int) -> int:
    """Draws per batch when ``batch_size=None``: about $2^{22}/(n m)$ feature entries."""
    return max(1, _TARGET_ELEMS // (n * m))


def rashomon_batch_bytes(batch: int, n: int, m: int, dim: int, dtype: Any) -> int:
    r"""Estimated peak bytes of one batch: the parameters ($B\,n\,(d+2)$), the
    pre-activations and activations ($2\,B\,n\,m$) and $h$ on the nodes ($B\,m$)."""
    return array_bytes(batch * (n * (dim + 2) + 2 * n * m + 2 * m), dtype=dtype)


def sample_parameters(
    key: PRNGKeyArray, batch: int, n: int, dim: int, A: float | Array, dtype: Any
) -> tuple[Float[Array, "B n"], Float[Array, "B n"], Float[Array, "B n d"]]:
    r"""``batch`` i.i.d. parameter sets: $a\sim U[-A,A]^n$, $b\sim U[-1,1]^n$, $w$ uniform
    on $S^{d-1}$ (in 1D a random sign)."""
    ka, kb, kw = jr.split(key, 3)
    a = jr.uniform(ka, (batch, n), dtype, -1.0, 1.0) * A
    b = jr.uniform(kb, (batch, n), dtype, -1.0, 1.0)
    if dim == 1:
        w = jnp.where(jr.bernoulli(kw, 0.5, (batch, n, 1)), 1.0, -1.0).astype(dtype)
    else:
        g = jr.normal(kw, (batch, n, dim), dtype)
        w = g / jnp.linalg.norm(g, axis=-1, keepdims=True)
    return a, b, w


def network_inner_products(
    activation: AbstractActivation,
    a: Float[Array, "B n"],
    b: Float[Array, "B n"],
    w: Float[Array, "B n d"],
    nodes: Float[Array, "m d"],
    weights: Float[Array, " m"],
    f: Float[Array, " m"],
) -> tuple[Float[Array, " B"], Float[Array, " B"]]:
    r"""$(\|h\|^2, \langle h, f\rangle)$ by quadrature for a batch of networks
    $h=\frac1n\sum_j a_j\sigma(w_j\cdot x-b_j)$: one batched GEMM for the pre-activations,
    one for $h$ on the nodes."""
    n = a.shape[1]
    z = jnp.einsum("bnd,md->bnm", w, nodes) - b[..., None]
    h = jnp.einsum("bn,bnm->bm", a, activation(z)) / n
    return (h * h) @ weights, h @ (weights * f)


@eqx.filter_jit
def _count_chunk(
    key,
    first_batch,
    num_batches,
    num_valid,
    A,
    eps,
    fn2,
    nodes,
    weights,
    f,
    activation,
    batch,
    padded,
    n,
    dim,
    mesh,
):
    """Batches ``first_batch .. first_batch + num_batches - 1``; ``num_batches`` and
    ``num_valid`` are traced, so calls with any sample count share one compilation (the
    last partial batch is masked). Each batch of ``batch`` draws is padded to ``padded``
    rows (a multiple of the device count) and the padding masked, so the draws do not
    depend on the devices."""
    dt = nodes.dtype
    spec = None if mesh is None else NamedSharding(mesh, PartitionSpec(AXIS))
    rows = jnp.arange(padded)

    def body(i, carry):
        hits, hhits, best = carry
        bi = first_batch + i
        a, b, w = sample_parameters(jr.fold_in(key, bi), batch, n, dim, A, dt)
        if padded != batch:
            a, b, w = (
                jnp.pad(t, [(0, padded - batch)] + [(0, 0)] * (t.ndim - 1)) for t in (a, b, w)
            )
        if spec is not None:
            a, b, w = (jax.lax.with_sharding_constraint(t, spec) for t in (a, b, w))
        hh, hf = network_inner_products(activation, a, b, w, nodes, weights, f)
        err2 = jnp.maximum(hh - 2 * hf + fn2, 0.0)
        valid = (rows < batch) & (bi * batch + rows < num_valid)
        hit = valid & (err2 <= eps * eps * fn2)
        hoeff = valid & (hf >= (1 - eps) * fn2)
        best = jnp.minimum(best, jnp.min(jnp.where(valid, err2, jnp.inf)))
        return (
            hits + jnp.sum(hit, dtype=hits.dtype),
            hhits + jnp.sum(hoeff, dtype=hits.dtype),
            best,
        )

    zero = jnp.zeros((), jnp.asarray(0).dtype)
    init = (zero, zero, jnp.asarray(jnp.inf, dt))
    # a dynamic trip count (a while loop): the number of batches is not a static shape
    return jax.lax.fori_loop(jnp.zeros_like(num_batches), num_batches, body, init)


def rashomon_estimate(
    target: Any,
    n: int,
    epsilon: float,
    *,
    A: float = 1.0,
    domain: Any = None,
    activation: AbstractActivation | str = "relu",
    num_samples: int,
    batch_size: int | None = None,
    key: PRNGKeyArray,
    quadrature: QuadratureRule | None = None,
    mesh: Mesh | None = None,
    progress: bool = False,
    dtype: Any = None,
) -> RashomonResult:
    r"""Monte Carlo estimate of the Rashomon measure
    $\mathbb{P}(\|h-f\|_{L^2(D)}\le\varepsilon\|f\|)$.

    The parameters of $h=\frac1n\sum_j a_j\sigma(w_j\cdot x-b_j)$ are drawn uniformly
    ($|a_j|\le A$, $|b_j|\le1$, $w_j\in S^{d-1}$). Each batch evaluates $h$ on the $m$
    quadrature nodes as a batched GEMM and uses
    $\|h-f\|^2=\|h\|^2-2\langle h,f\rangle+\|f\|^2$ with the quadrature weights; the
    batches run in a jitted loop (memory $O(\text{batch}\cdot n\cdot m)$ whatever
    ``num_samples`` is). The batch count is a traced trip count and the last partial batch
    is masked, so calls with different ``num_samples`` reuse one compilation. Batch $i$
    uses the key ``fold_in(key, i)``, so the result depends only on ``key`` and
    ``batch_size``, not on the devices (a larger ``num_samples`` extends the same stream
    of draws). It also counts the
    "Hoeffding event" $\langle h,f\rangle\ge(1-\varepsilon)\|f\|^2$, which contains
    $\mathcal{R}_\varepsilon$ (Cauchy–Schwarz) and is what `hoeffding_bound` bounds.

    **Arguments:**

    - `target`: a target name (``"sin2"``), expression, `Target` or callable ``(m, d) -> (m,)``.
    - `n`: the width. `epsilon`: relative error in $(0, 1)$. `A`: bound on $|a_j|$, $> 0$.
    - `domain`: default $(-1,1)$ in 1D and the unit ball $B_d(1)$ in $d\ge2$ (the seed's $D$).
    - `activation`: name or activation module (default ReLU).
    - `num_samples`: number of parameter draws $N$ (10^7 and more run in bounded memory).
    - `batch_size`: draws per loop step (default: about $2^{22}/(n m)$, independent of
      ``num_samples`` and of the devices; with a ``mesh`` each batch is padded to a
      multiple of the device count and the padding masked, so the counts are identical).
    - `key`: a PRNG key, ``jax.random.key(seed)`` (an ``int`` raises ``TypeError``).
      `quadrature`: a `QuadratureRule` on $D$ (default: see
      `default_rule`, 256 Gauss nodes in 1D, 32x64 polar nodes on the disk).
    - `mesh`: a `jax.sharding.Mesh` with axis ``"batch"`` (e.g. `device_mesh()`): each
      batch is split over its devices.
    - `progress`: print progress on stderr. `dtype`: float32/float64 (default from x64).

    **Returns:** a `RashomonResult` (estimate, 95% interval: Wilson, or the rule of three
    $[0,3/N]$ with no hit; the Hoeffding-event probability and its interval).

    **Raises:** ``ValueError`` for $\varepsilon\notin(0,1)$, $A\le0$, a non-positive width or
    sample count, or a target that is NaN/inf on $D$; ``TypeError`` if `key` is not a PRNG key.

    **References:** Q. Zhang, Y. Zhong, H. Zhao, "Why shallow networks struggle ..."
    (arXiv 2306.17301), slides "Rashomon set for two layer NN".
    """
    where = "rashomon_estimate"
    n, eps, A = check_common(n, epsilon, A, where)
    N = check_positive_int(num_samples, "num_samples", where)
    check_key(key, where)
    prob = setup(target, domain, quadrature, dtype, where)
    act = get_activation(activation)
    ndev = 1 if mesh is None else int(mesh.devices.size)
    if mesh is not None and AXIS not in mesh.axis_names:
        raise ValueError(f"{where}: mesh must have an axis named {AXIS!r}; got {mesh.axis_names}")
    m, d = prob.rule.size, prob.target.dim
    if batch_size is None:
        # independent of N (so every sample count reuses one compilation); the padded
        # tail of a small N costs at most one batch of ~4M feature entries
        bs = rashomon_batch_size(n, m)
    else:
        bs = check_positive_int(batch_size, "batch_size", where)
    padded = -(-bs // ndev) * ndev  # the draws per batch stay bs: padding is masked
    check_memory(
        rashomon_batch_bytes(padded, n, m, d, prob.dtype),
        what=f"{where}: one batch of {bs} networks of width n = {n} on {m} quadrature nodes",
        hint="use a smaller "
        + ("width n" if batch_size is None else "batch_size (or width n)")
        + "; the sample count does not change the memory",
    )
    imax = int(jnp.iinfo(jnp.asarray(0).dtype).max)
    if N > imax - 2 * bs:
        raise ValueError(
            f"{where}: num_samples must be at most {imax - 2 * bs} (the sample index is a "
            f"{jnp.asarray(0).dtype} integer); got {N}"
        )
    num_batches = -(-N // bs)
    num_chunks = -(-num_batches // _CHUNK)
    idt = jnp.asarray(0).dtype  # int64 under x64: sample indices beyond 2^31 stay exact
    dt = prob.dtype
    hits = hhits = 0
    best = math.inf
    bar = Progress(N, f"rashomon n={n}", enabled=progress)
    for c in range(num_chunks):
        out = _count_chunk(
            key,
            jnp.asarray(c * _CHUNK, idt),
            jnp.asarray(min(_CHUNK, num_batches - c * _CHUNK), idt),
            jnp.asarray(N, idt),
            jnp.asarray(A, dt),
            jnp.asarray(eps, dt),
            jnp.asarray(prob.f_norm_sq, dt),
            prob.rule.nodes,
            prob.rule.weights,
            prob.f,
            act,
            bs,
            padded,
            n,
            d,
            mesh,
        )
        hits += int(out[0])
        hhits += int(out[1])
        best = min(best, float(out[2]))
        bar.update(min(N, (c + 1) * _CHUNK * bs))
    if progress:
        bar.close()
    lo, hi, method = binomial_interval(hits, N)
    hlo, hhi, _ = binomial_interval(hhits, N)
    return RashomonResult(
        probability=hits / N,
        ci_low=lo,
        ci_high=hi,
        hits=hits,
        num_samples=N,
        interval_method=method,
        hoeffding_probability=hhits / N,
        hoeffding_ci_low=hlo,
        hoeffding_ci_high=hhi,
        hoeffding_hits=hhits,
        best_relative_error=math.sqrt(best / prob.f_norm_sq),
        f_norm_sq=prob.f_norm_sq,
        n=n,
        epsilon=eps,
        A=A,
        dim=d,
        num_nodes=m,
        batch_size=bs,
        num_devices=ndev,
    )
