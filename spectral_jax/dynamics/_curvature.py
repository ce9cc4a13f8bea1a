r"""The top Hessian eigenvalue of the training loss, and the step size ``lr="auto"``.

Gradient descent $\theta_{k+1}=\theta_k-\eta\nabla E(\theta_k)$ on a quadratic $E$ with
Hessian $H$ multiplies each eigencomponent of $\theta-\theta^*$ by $1-\eta\lambda_i$: it is
stable (and the loss decreases monotonically) iff $\eta<2/\lambda_{\max}(H)$. ``lr="auto"``
takes $\eta=c/\lambda_{\max}$ at the initial point, $c$ = ``auto_factor`` (default 1, must be
in $(0,2)$; $c=1$ leaves a factor 2 of margin for the curvature to grow during training).

$\lambda_{\max}$ is measured matrix-free by $k$ steps of the Lanczos iteration (with full
reorthogonalisation) on Hessian-vector products $Hv=\frac{d}{d\epsilon}\nabla
E(\theta+\epsilon v)|_{\epsilon=0}$ (``jax.jvp`` of ``jax.grad``): $O(k)$ gradient-sized
evaluations, no $P\times P$ matrix. The top Ritz value converges from below; its residual
$|\beta_k s_k|$ bounds the distance to an eigenvalue of $H$.

**References:** Lanczos (1950); Golub & Van Loan, *Matrix Computations* §10.1;
Pearlmutter (1994), *Fast exact multiplication by the Hessian*.
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jax.flatten_util import ravel_pytree

from .._checks import check_positive_int
from ._engine import setup
from ._problem import LossDomain

__all__ = ["CurvatureEstimate", "top_hessian_eigenvalue", "hessian_lmax", "resolve_lr"]


class CurvatureEstimate(NamedTuple):
    """`lambda_max` (top Ritz value of the Hessian), `residual` (its Lanczos residual
    bound $|\\beta_k s_k|$), `iterations` ($k$) and `wall_s` (seconds, incl. compile)."""

    lambda_max: float
    residual: float
    iterations: int
    wall_s: float


@eqx.filter_jit
def _lanczos(problem, params, v0, k: int):
    flat0, unravel = ravel_pytree(params)

    def hvp(v):
        t = jax.jvp(problem.grad, (params,), (unravel(v),))[1]
        return ravel_pytree(t)[0]

    P = flat0.shape[0]
    V = jnp.zeros((k + 1, P), flat0.dtype).at[0].set(v0 / jnp.linalg.norm(v0))
    alpha = jnp.zeros(k, flat0.dtype)
    beta = jnp.zeros(k, flat0.dtype)

    def body(j, carry):
        V, alpha, beta = carry
        w = hvp(V[j])
        a = jnp.dot(V[j], w)
        for _ in range(2):  # full reorthogonalisation against all previous vectors, twice
            w = w - V.T @ (V @ w)
        b = jnp.linalg.norm(w)
        scale = jnp.where(b > 0, b, 1.0)
        V = V.at[j + 1].set(jnp.where(b > 0, w / scale, 0.0))
        return V, alpha.at[j].set(a), beta.at[j].set(b)

    V, alpha, beta = jax.lax.fori_loop(0, k, body, (V, alpha, beta))
    T = jnp.diag(alpha) + jnp.diag(beta[:-1], 1) + jnp.diag(beta[:-1], -1)
    theta, S = jnp.linalg.eigh(T)
    return theta[-1], jnp.abs(beta[-1] * S[-1, -1])


def hessian_lmax(problem, params, *, iters: int = 32, key=None) -> CurvatureEstimate:
    """The top Hessian eigenvalue of ``problem.loss`` at `params` (a `TrainingProblem`
    and its trainable part), by `iters` Lanczos steps from a random start (`key`,
    default ``jax.random.key(0)``)."""
    flat0, _ = ravel_pytree(params)
    k = min(int(iters), int(flat0.size))
    key = jr.key(0) if key is None else key
    v0 = jr.normal(key, flat0.shape, flat0.dtype)
    t0 = time.perf_counter()
    lam, res = _lanczos(problem, params, v0, k)
    lam, res = float(lam), float(res)
    return CurvatureEstimate(lam, res, k, time.perf_counter() - t0)


def top_hessian_eigenvalue(
    model: Any,
    dom: LossDomain,
    *,
    trainable: Any = "all",
    fast1d: bool | str = "auto",
    iters: int = 32,
    key=None,
) -> CurvatureEstimate:
    r"""The top eigenvalue $\lambda_{\max}$ of the Hessian of
    $E=\tfrac12\sum_l q_l(h(x_l)-f_l)^2$ in the trainable parameters of `model`.

    **Arguments:**

    - `model`, `dom`, `trainable`, `fast1d`: as for `train`.
    - `iters`: Lanczos steps $k$ (at most the number of parameters; there it is exact up
      to rounding).
    - `key`: PRNG key of the start vector (default ``jax.random.key(0)``).

    **Returns:** a `CurvatureEstimate` (``lambda_max``, ``residual``, ``iterations``,
    ``wall_s``).

    **Raises:** ``ValueError`` for a non-positive `iters` and every setup error of
    `train`.

    !!! Example
        ```python
        est = top_hessian_eigenvalue(net, dom, trainable="outer")
        lr = 1.0 / est.lambda_max   # what lr="auto" takes
        ```
    """
    where = "top_hessian_eigenvalue"
    iters = check_positive_int(iters, "iters", where)
    _, _, problem, params, _ = setup(model, dom, trainable, fast1d, where)
    return hessian_lmax(problem, params, iters=iters, key=key)


def resolve_lr(stepper, problem, params, where: str, *, iters: int = 32):
    """`stepper` with ``lr="auto"`` resolved to $c/\\lambda_{\\max}$ (and the estimate), or
    `stepper` unchanged (and ``None``)."""
    c = getattr(stepper, "auto_factor", None)
    if c is None:
        return stepper, None
    est = hessian_lmax(problem, params, iters=iters)
    if not (est.lambda_max > 0 and est.lambda_max < float("inf")):
        raise ValueError(
            f"{where}: lr='auto' needs a positive, finite top Hessian eigenvalue at the initial "
            f"point; got {est.lambda_max} (pass a numeric lr)"
        )
    return type(stepper)(c / est.lambda_max), est
