r"""The Gram matrix $G_{ij} = \int_D \sigma(w_i\cdot x - b_i)\,\sigma(w_j\cdot x - b_j)\,dx$.

How it is computed (``method``):

- ``"closed_form"``: 1D ReLU$^p$ on an interval, $O(n^2)$ exact formulas
  (`relu_power_gram_1d`); ``"auto"`` picks it whenever it applies.
- ``"exact"``: 1D piecewise polynomials of degree $p$: composite Gauss with $p+1$ points
  per panel on the sorted kinks $b_i/w_i$, exact up to rounding with $(p+1)(n+1)$ nodes.
- ``"gauss"``: (tensor/polar) Gauss product rules, the number of panels doubled until
  the refinement estimate $\max|G_{2\ell}-G_\ell|/\max|G_{2\ell}|$ meets ``tol``
  (a `RuntimeWarning` with the estimate if ``max_nodes`` is reached first).
- ``"qmc"``: Halton points, doubled the same way.
- a `QuadratureRule` passed as ``domain_or_rule`` is used as is.

**References:** 2306.17301 (Gram matrix of two-layer networks).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from .._checks import check_array, check_positive, check_positive_int
from .._precision import machine_epsilon, resolve_dtype
from .._types import Array, ArrayLike, Float
from ..activations import AbstractActivation, ReLU, ReLUPower, get_activation
from ..domains import AbstractDomain, Ball, Box, Interval
from ..quadrature import QuadratureRule, ball_rule, composite_gauss, gauss_legendre, qmc_rule
from ._assembly import assemble_gram
from ._closed_form import relu_power_gram_kinks

__all__ = ["GramResult", "gram_matrix", "gram_matrix_with_error"]

_METHODS = ("auto", "closed_form", "exact", "gauss", "qmc")


class GramResult(eqx.Module):
    r"""A Gram matrix with the way it was computed.

    **Fields:**
    - `matrix`: the ``(n, n)`` Gram matrix.
    - `error_estimate`: estimated max-entry error relative to $\max|G|$ (0 for the
      closed form and the exact rule, which are exact up to rounding; NaN for a
      user-given rule).
    - `rule`: the `QuadratureRule` used (``None`` for the closed form).
    - `method`: ``"closed_form"``, ``"exact"``, ``"gauss"``, ``"qmc"`` or ``"rule"``.
    """

    matrix: Float[Array, "n n"]
    error_estimate: float = eqx.field(static=True)
    rule: QuadratureRule | None
    method: str = eqx.field(static=True)


def _relu_power(act: AbstractActivation) -> int | None:
    if isinstance(act, ReLU):
        return 1
    if isinstance(act, ReLUPower):
        return act.p
    return None


def _check_inputs(where, weights, biases, dt):
    if not hasattr(weights, "shape"):
        weights = np.asarray(weights, dtype=float)
    if weights.ndim == 1:
        weights = weights[:, None]
    check_array(weights, "weights", where, ndim=2, what="array of directions (n, d)")
    n, d = weights.shape
    if n == 0:
        raise ValueError(
            f"{where}: width must be positive; got weights of shape {tuple(weights.shape)}"
        )
    check_array(biases, "biases", where, shape=(n,))
    return jnp.asarray(weights, dt), jnp.asarray(biases, dt)


def _refine(
    where: str,
    build: Callable[[int], QuadratureRule],
    level0: int,
    assemble,
    tol: float,
    max_nodes: int,
):
    level = level0
    rule = build(level)
    G = assemble(rule)
    est = float("nan")
    while True:
        fine = build(2 * level)
        if fine.size > max_nodes:
            err = est  # NaN when not even one refinement fitted
            warnings.warn(
                f"{where}: quadrature too coarse for tol={tol:.1e}: estimated relative error "
                f"{err:.2e} with {rule.size} nodes; the next refinement ({fine.size} nodes) "
                f"exceeds max_nodes={max_nodes}. Raise max_nodes or tol.",
                RuntimeWarning,
                stacklevel=3,
            )
            return G, err, rule
        Gf = assemble(fine)
        scale = float(jnp.max(jnp.abs(Gf)))
        est = float(jnp.max(jnp.abs(Gf - G))) / max(scale, np.finfo(float).tiny)
        G, rule, level = Gf, fine, 2 * level
        if est <= tol:
            return G, est, rule


def gram_matrix_with_error(
    activation: AbstractActivation | str,
    weights: Float[ArrayLike, "n d"],
    biases: Float[ArrayLike, " n"],
    domain_or_rule: AbstractDomain | QuadratureRule,
    *,
    block_size: int | None = None,
    method: str = "auto",
    tol: float | None = None,
    order: int | None = None,
    level: int | None = None,
    max_nodes: int = 2**18,
    mesh=None,
    sharded: bool = False,
    dtype=None,
) -> GramResult:
    r"""The Gram matrix $G_{ij}=\int_D\sigma(w_i\cdot x-b_i)\sigma(w_j\cdot x-b_j)dx$ with
    an error estimate and the rule used. See `gram_matrix` for the arguments.

    **Returns:** a `GramResult`.
    """
    where = "gram_matrix"
    act = get_activation(activation)
    dt = resolve_dtype(dtype, where)
    W, b = _check_inputs(where, weights, biases, dt)
    n, d = W.shape
    if method not in _METHODS:
        raise ValueError(f"{where}: method must be one of {_METHODS}; got {method!r}")
    if block_size is not None:
        block_size = check_positive_int(block_size, "block_size", where)
    max_nodes = check_positive_int(max_nodes, "max_nodes", where)
    if sharded and mesh is None:
        from .._sharding import device_mesh

        mesh = device_mesh()

    def assemble(rule: QuadratureRule) -> Array:
        return assemble_gram(
            act,
            W,
            b,
            jnp.asarray(rule.nodes, dt),
            jnp.asarray(rule.weights, dt),
            block_size=block_size,
            mesh=mesh,
        )

    if isinstance(domain_or_rule, QuadratureRule):
        rule = domain_or_rule
        if rule.dim != d:
            raise ValueError(
                f"{where}: the rule's nodes have dimension {rule.dim} but the directions "
                f"(weights) have dimension {d}; they must match"
            )
        if method not in ("auto",):
            raise ValueError(f"{where}: method={method!r} needs a domain, not a QuadratureRule")
        if np.any(np.asarray(rule.weights) < 0):
            raise ValueError(f"{where}: the rule's weights must be non-negative")
        return GramResult(assemble(rule), float("nan"), rule, "rule")
    if not isinstance(domain_or_rule, AbstractDomain):
        raise TypeError(
            f"{where}: domain_or_rule must be a domain (Interval, Box, Ball) or a "
            f"QuadratureRule; got {type(domain_or_rule).__name__}"
        )
    dom = domain_or_rule
    if dom.dim != d:
        raise ValueError(
            f"{where}: the domain has dimension {dom.dim} but the directions (weights) have "
            f"dimension {d}; they must match"
        )
    p = _relu_power(act)
    wn = np.asarray(W, dtype=np.float64)[:, 0] if d == 1 else None
    if method == "closed_form":
        if p is None or not isinstance(dom, Interval):
            raise ValueError(
                f"{where}: method='closed_form' needs a ReLU or ReLU^p activation on a 1D "
                f"Interval; got {act.name} on {type(dom).__name__}"
            )
        if np.any(wn == 0):
            raise ValueError(f"{where}: method='closed_form' needs non-zero 1D weights")
    use_closed = (
        p is not None
        and isinstance(dom, Interval)
        and (method == "closed_form" or (method == "auto" and not np.any(wn == 0) and mesh is None))
    )
    if use_closed:
        bn = np.asarray(b, dtype=np.float64)
        G = relu_power_gram_kinks(p, bn / wn, np.sign(wn), np.abs(wn) ** p, dom, dtype=dt)
        return GramResult(G, 0.0, None, "closed_form")
    deg = act.piecewise_degree
    if method == "exact" or (method == "auto" and d == 1 and deg is not None):
        if d != 1 or deg is None or not isinstance(dom, Interval):
            raise ValueError(
                f"{where}: method='exact' needs a piecewise-polynomial activation on a 1D "
                f"Interval; got {act.name} on {type(dom).__name__}"
            )
        bn, wn_ = np.asarray(b, np.float64), wn
        kinks = bn[wn_ != 0] / wn_[wn_ != 0]
        rule = composite_gauss(dom, kinks, deg + 1 if order is None else order, dtype=dt)
        return GramResult(assemble(rule), 0.0, rule, "exact")
    if tol is None:
        tol = 1e3 * machine_epsilon(dt) if d == 1 else max(1e-5, 1e3 * machine_epsilon(dt))
    tol = check_positive(tol, "tol", where)
    if method == "qmc":
        n0 = check_positive_int(level, "level", where) if level is not None else 4096
        if level is not None:
            rule = qmc_rule(dom, n0, dtype=dt)
            return GramResult(assemble(rule), float("nan"), rule, "qmc")
        G, est, rule = _refine(
            where, lambda lv: qmc_rule(dom, lv, dtype=dt), n0, assemble, tol, max_nodes
        )
        return GramResult(G, est, rule, "qmc")
    # Gauss product rules
    if isinstance(dom, (Interval, Box)):
        q = order if order is not None else (8 if deg is None else 4)
        q = check_positive_int(q, "order", where)

        def build(lv: int) -> QuadratureRule:
            return gauss_legendre(dom, q, panels=lv, dtype=dt)

        lv0 = 4 if d == 1 else 8
    elif isinstance(dom, Ball):
        q = order if order is not None else 4

        def build(lv: int) -> QuadratureRule:
            return ball_rule(dom, q * lv, (4 if d == 2 else 2) * q * lv, dtype=dt)

        lv0 = 4 if d == 2 else 1
    else:
        raise TypeError(f"{where}: no product rule for {type(dom).__name__}; use method='qmc'")
    if level is not None:
        level = check_positive_int(level, "level", where)
        G, est, rule = _refine(where, build, level, assemble, np.inf, 2**62)
        return GramResult(G, est, rule, "gauss")
    G, est, rule = _refine(where, build, lv0, assemble, tol, max_nodes)
    return GramResult(G, est, rule, "gauss")


def gram_matrix(
    activation: AbstractActivation | str,
    weights: Float[ArrayLike, "n d"],
    biases: Float[ArrayLike, " n"],
    domain_or_rule: AbstractDomain | QuadratureRule,
    *,
    block_size: int | None = None,
    method: str = "auto",
    tol: float | None = None,
    order: int | None = None,
    level: int | None = None,
    max_nodes: int = 2**18,
    mesh=None,
    sharded: bool = False,
    dtype=None,
) -> Float[Array, "n n"]:
    r"""Gram matrix $G_{ij} = \int_D \sigma(w_i\cdot x - b_i)\,\sigma(w_j\cdot x - b_j)\,dx$
    of a shallow network's features.

    Quadrature Grams are assembled as $\sum_k S_k^\top S_k$, $S_k=\mathrm{diag}(\sqrt{q})\Phi$
    on blocks of ``block_size`` nodes, so the peak memory is the Gram plus one block.

    **Arguments:**
    - `activation`: an activation or its name.
    - `weights`: directions, shape ``(n, d)`` (``(n,)`` is read as ``(n, 1)``).
    - `biases`: shape ``(n,)``.
    - `domain_or_rule`: a domain (a rule is chosen, see the module docs) or a
      `QuadratureRule` used as is.
    - `block_size`: nodes per block (default: about 32 MiB of features per block).
    - `method`: ``"auto"``, ``"closed_form"``, ``"exact"``, ``"gauss"`` or ``"qmc"``.
    - `tol`: target relative error of the refined rules (default $10^3\varepsilon$ in 1D,
      $10^{-5}$ in 2D/3D).
    - `order`, `level`: Gauss points per panel and a fixed refinement level (panels, or
      QMC points) instead of refining to ``tol``.
    - `max_nodes`: the largest rule refinement may build.
    - `mesh`, `sharded`: split the nodes over the devices of a `jax.sharding.Mesh`
      (``sharded=True``: all devices).
    - `dtype`: float32/float64 (default from x64).

    **Returns:** the symmetric ``(n, n)`` Gram matrix.

    **Raises:** ``ValueError`` for non-finite or mis-shaped weights/biases, width 0, a
    dimension mismatch, float64 without x64, an unknown method; ``RuntimeWarning`` if the
    refined rule cannot meet ``tol`` within ``max_nodes``.

    **References:** 2306.17301 (Gram matrix and its spectrum).
    """
    return gram_matrix_with_error(
        activation,
        weights,
        biases,
        domain_or_rule,
        block_size=block_size,
        method=method,
        tol=tol,
        order=order,
        level=level,
        max_nodes=max_nodes,
        mesh=mesh,
        sharded=sharded,
        dtype=dtype,
    ).matrix
