r"""The infinite-width NTK of Welper's shallow 1D setting, in closed form.

**Setting (as we state it).** $f(x) = m^{-1/2}\sum_{r=1}^m a_r\,\mathrm{ReLU}(x - b_r)$ on
$D = [-1, 1]$, with $a_r = \pm1$ fixed (random signs), first-layer weights fixed to $1$,
biases $b_r \sim U[-1,1]$ i.i.d. and **only the biases trained**. Then
$\partial_{b_r} f(x) = -m^{-1/2} a_r \mathbf 1[x > b_r]$ and

$$K_m(x,x') = \frac1m\,\#\{r : b_r < \min(x,x')\} \xrightarrow{m\to\infty}
K_\infty(x,x') = \frac{1 + \min(x,x')}{2},$$

half the Brownian-motion covariance in $s = x + 1 \in [0, 2]$. Its eigenpairs on
$L^2(-1,1)$ are $\mu_k = \dfrac{2}{(k-\frac12)^2\pi^2}$,
$\phi_k(x) = \sin\big((k-\tfrac12)\pi(x+1)/2\big)$, $k = 1, 2, \dots$: decay $k^{-2}$,
i.e. coercivity in $H^{-1}$. By the law of large numbers
$\mathbb E\|K_m - K_\infty\|^2_{L^2(D^2)} = \frac1m\int\!\!\int p(1-p)$ with
$p = (1+\min(x,x'))/2$, i.e. $\frac{2}{3m}$ (`limit_mc_constant`): the error decays like
$m^{-1/2}$.

**References:** Welper (2024), *Approximation and Gradient Descent Training with Neural
Networks*, arXiv 2405.11696 (shallow setting, Sec. 2.1).
"""

from __future__ import annotations

import jax.numpy as jnp
import jax.random as jr

from .._checks import check_positive_int
from .._precision import resolve_dtype
from .._types import Array, ArrayLike, Float, PRNGKeyArray
from ..networks import ShallowNetwork

__all__ = [
    "welper_shallow_network",
    "limit_ntk",
    "limit_ntk_eigenvalues",
    "limit_mc_constant",
]


def welper_shallow_network(m: int, *, key: PRNGKeyArray, dtype=None) -> ShallowNetwork:
    r"""A width-``m`` network of the setting above: $a_r = \pm m^{-1/2}$ (random signs),
    $w_r = 1$, $b_r\sim U[-1,1]$. Train ``"biases"`` only (``trainable="biases"``)."""
    where = "welper_shallow_network"
    m = check_positive_int(m, "m", where)
    dt = resolve_dtype(dtype, where)
    ka, kb = jr.split(key)
    a = jnp.where(jr.bernoulli(ka, 0.5, (m,)), 1.0, -1.0).astype(dt) / jnp.sqrt(jnp.asarray(m, dt))
    b = jr.uniform(kb, (m,), dt, minval=-1.0, maxval=1.0)
    return ShallowNetwork(a, jnp.ones((m, 1), dt), b, "relu")


def limit_ntk(
    x1: Float[ArrayLike, " N1"], x2: Float[ArrayLike, " N2"] | None = None, *, dtype=None
) -> Float[Array, "N1 N2"]:
    r"""$K_\infty(x, x') = (1 + \min(x, x'))/2$ on $[-1,1]$ (inputs 1-D or ``(N, 1)``)."""
    dt = resolve_dtype(dtype, "limit_ntk")
    x1 = jnp.asarray(x1, dt).reshape(-1)
    x2 = x1 if x2 is None else jnp.asarray(x2, dt).reshape(-1)
    return 0.5 * (1.0 + jnp.minimum(x1[:, None], x2[None, :]))


def limit_ntk_eigenvalues(k: int, *, dtype=None) -> Float[Array, " k"]:
    r"""$\mu_j = 2/((j - \frac12)^2\pi^2)$, $j = 1..k$ (descending)."""
    k = check_positive_int(k, "k", "limit_ntk_eigenvalues")
    dt = resolve_dtype(dtype, "limit_ntk_eigenvalues")
    j = jnp.arange(1, k + 1, dtype=dt)
    return 2.0 / ((j - 0.5) ** 2 * jnp.pi**2)


def limit_mc_constant() -> float:
    r"""$C = \int_{-1}^1\!\int_{-1}^1 p(1-p)\,dx\,dx'$, $p = (1+\min(x,x'))/2$, so that
    $\mathbb E\|K_m - K_\infty\|^2_{L^2} = C/m$. In $s = x+1$: $2\int_0^2 (2-s)\,
    \frac s2(1-\frac s2)\,ds = 2/3$."""
    return 2.0 / 3.0
