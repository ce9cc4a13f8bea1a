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

The same choices as configuration modules: ``quadrature=ClosedForm() | ExactComposite(order)
| AdaptiveGauss(tol, max_nodes, order, level) | QMC(level, tol, max_nodes)`` (see
`spectral_jax.gram._methods`); the strings are their shorthands.

**References:** 2306.17301 (Gram matrix of two-layer networks).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._argnames import argname, option
from .._checks import check_positive, check_positive_int, check_shallow_parameters
from .._memory import check_memory
from .._precision import machine_epsilon, resolve_dtype
from .._types import Array, ArrayLike, Float
from ..activations import AbstractActivation, ReLU, ReLUPower, get_activation
from ..domains import AbstractDomain, Ball, Box, Interval
from ..quadrature import QuadratureRule, ball_rule, composite_gauss, gauss_legendre, qmc_rule
from ._assembly import assemble_gram, default_block_size
from ._closed_form import relu_power_gram_kinks
from ._methods import AbstractGramQuadrature, _fixed_level_excludes

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


def rule_bytes(nodes: int, d: int, order: int = 0) -> int:
    """Peak bytes of building a rule of ``nodes`` points in ``d`` dimensions (NumPy
    meshgrids and stacks in float64, the device copy, the padded blocks) and, for Gauss
    rules, NumPy's ``leggauss`` of ``order`` points (an order x order eigenproblem)."""
    return int(nodes) * (3 * d + 4) * 8 + 3 * int(order) ** 2 * 8


def _check_gram_memory(
    where: str,
    n: int,
    dt,
    *,
    grams: int,
    nodes: int = 0,
    d: int = 1,
    order: int = 0,
    block_size: int | None = None,
    share: float = 1.0,
) -> None:
    """Refuse a Gram whose peak memory cannot fit, before anything is allocated: ``grams``
    n x n arrays alive at once (1 for one assembly, 2 for the closed form's temporaries,
    4 while refining: two levels, their difference and its magnitude), building the
    rule's ``nodes`` (and ``leggauss(order)``) and one block of features. ``share``: the
    fraction of each Gram this process holds (its devices' rows with ``layout="rows"``)."""
    isz = np.dtype(dt).itemsize
    gram_b = int(grams * n * n * isz * share)
    gauss_b = rule_bytes(0, d, order)
    nodes_b = rule_bytes(nodes, d)
    block = 0
    if nodes:
        block = default_block_size(nodes, n, isz) if block_size is None else min(block_size, nodes)
    need = gram_b + gauss_b + nodes_b + 3 * block * n * isz
    name = argname("where", where)
    if gauss_b > max(gram_b, nodes_b):
        what = f"{name}: {argname('order')} {order} (Gauss points per panel)"
        hint = f"use a smaller {argname('order')} (a few to a few dozen points suffice)"
    elif nodes_b > gram_b:
        what = f"{name}: a quadrature rule of {nodes} nodes"
        hint = (
            f"use a smaller {argname('level')} or {argname('order')}, or leave "
            f"{argname('level')} unset (refinement to a tolerance)"
        )
    else:
        what = f"{name}: {argname('width')} {n} (a {n} x {n} {np.dtype(dt).name} Gram matrix)"
        hint = f"use a smaller {argname('width')}" + (
            f" or {option('dtype', 'float32')}" if isz > 4 else ""
        )
    check_memory(need, what=what, hint=hint)


def _unused(where: str, how: str, **given) -> None:
    """Refuse a quadrature knob that the chosen way of computing the Gram does not read."""
    uses = {
        "level": ("the refined rules", "gauss or qmc"),
        "order": ("Gauss rules", "exact or gauss"),
        "tol": ("the refined rules", "gauss or qmc"),
        "max_nodes": ("the refined rules", "gauss or qmc"),
    }
    for k, v in given.items():
        if v is not None:
            rules, methods = uses[k]
            raise ValueError(
                f"{argname('where', where)}: {argname(k)} applies only to {rules}; this Gram "
                "is computed by the "
                f"{how}, which does not use it (drop {argname(k)}, or choose "
                f"{argname('method')} {methods})"
            )


def _resolve_quadrature(where: str, quadrature, method: str, knobs: dict) -> tuple[str, dict]:
    """``(method, knobs)`` from a quadrature module (or its string shorthand) or from the
    ``method`` string and keyword knobs; the two ways cannot be mixed."""
    if quadrature is None:
        return method, knobs
    if isinstance(quadrature, str):
        if method != "auto":
            raise ValueError(
                f"{where}: give the rule once, as quadrature or as method; got "
                f"quadrature={quadrature!r} and method={method!r}"
            )
        return quadrature, knobs
    if not isinstance(quadrature, AbstractGramQuadrature):
        raise TypeError(
            f"{where}: quadrature must be ClosedForm(), ExactComposite(...), "
            f"AdaptiveGauss(...), QMC(...) or a method name; got {type(quadrature).__name__}"
        )
    if method != "auto":
        raise ValueError(
            f"{where}: give the rule once, as quadrature or as method; got "
            f"quadrature={type(quadrature).__name__}(...) and method={method!r}"
        )
    for k, v in knobs.items():
        if v is not None:
            raise ValueError(
                f"{where}: with quadrature={type(quadrature).__name__}(...) its knobs go "
                f"inside it; got {k}={v!r} beside it"
            )
    return quadrature.method, quadrature.knobs()


def _product_nodes(dom, q: int, lv: int) -> int:
    """Nodes of the Gauss product rule ``build(lv)`` below (without building it)."""
    d = dom.dim
    if isinstance(dom, Ball):
        m = q * lv
        return m if d == 1 else (m * 4 * m if d == 2 else 2 * m * (2 * m) ** 2)
    return (q * lv) ** d


_LAYOUTS = ("replicated", "rows")


def _check_layout(where: str, layout, mesh, n: int) -> float:
    """Validate ``layout`` against the mesh and the width; return the share of each Gram
    this process holds (1 unless the rows are split)."""
    if layout not in _LAYOUTS:
        raise ValueError(f"{where}: layout must be 'replicated' or 'rows'; got {layout!r}")
    if layout == "replicated":
        return 1.0
    if mesh is None:
        raise ValueError(
            f"{where}: layout='rows' splits the Gram's rows over devices: give mesh= "
            "(a device_mesh()) or sharded=True"
        )
    devs = list(mesh.devices.flat)
    D = len(devs)
    if n % D:
        # a row-sharded jax.Array splits its rows evenly over the mesh (JAX refuses an
        # uneven NamedSharding), so padded rows could not be dropped from the result
        near = " or ".join(f"n={k}" for k in (n // D * D, n // D * D + D) if k > 0)
        raise ValueError(
            f"{where}: layout='rows' needs the width n={n} to be a multiple of the mesh's "
            f"{D} devices (a row-sharded array splits its rows evenly): use {near} "
            "features, or layout='replicated'"
        )
    return sum(d.process_index == jax.process_index() for d in devs) / len(devs)


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
    check_shallow_parameters(weights, biases, where=where)
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
    quadrature: AbstractGramQuadrature | str | None = None,
    method: str = "auto",
    tol: float | None = None,
    order: int | None = None,
    level: int | None = None,
    max_nodes: int | None = None,
    mesh=None,
    sharded: bool = False,
    layout: str = "replicated",
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
    knobs = {"tol": tol, "order": order, "level": level, "max_nodes": max_nodes}
    method, knobs = _resolve_quadrature(where, quadrature, method, knobs)
    tol, order, level, max_nodes = (knobs[k] for k in ("tol", "order", "level", "max_nodes"))
    if method not in _METHODS:
        raise ValueError(f"{where}: method must be one of {_METHODS}; got {method!r}")
    if block_size is not None:
        block_size = check_positive_int(block_size, "block_size", where)
    given_max_nodes = max_nodes
    max_nodes = 2**18 if max_nodes is None else check_positive_int(max_nodes, "max_nodes", where)
    if sharded and mesh is None:
        from .._sharding import device_mesh

        mesh = device_mesh()
    share = _check_layout(where, layout, mesh, n)

    def assemble(rule: QuadratureRule) -> Array:
        return assemble_gram(
            act,
            W,
            b,
            jnp.asarray(rule.nodes, dt),
            jnp.asarray(rule.weights, dt),
            block_size=block_size,
            mesh=mesh,
            layout=layout,
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
        _unused(where, "given rule", level=level, order=order, tol=tol, max_nodes=given_max_nodes)
        if np.any(np.asarray(rule.weights) < 0):
            raise ValueError(f"{where}: the rule's weights must be non-negative")
        _check_gram_memory(
            where, n, dt, grams=1, nodes=rule.size, d=d, block_size=block_size, share=share
        )
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
    if use_closed and layout == "rows":
        raise ValueError(
            f"{where}: layout='rows' assembles the Gram by quadrature on each device's rows; "
            "the closed form builds the whole matrix on one device (choose method='exact' "
            "or 'gauss', or layout='replicated')"
        )
    if use_closed:
        _unused(where, "closed form", level=level, order=order, tol=tol, max_nodes=given_max_nodes)
        _check_gram_memory(where, n, dt, grams=2, share=share)
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
        _unused(where, "exact rule", level=level, tol=tol, max_nodes=given_max_nodes)
        q = deg + 1 if order is None else check_positive_int(order, "order", where)
        _check_gram_memory(
            where, n, dt, grams=1, nodes=q * (n + 1), order=q, block_size=block_size, share=share
        )
        bn, wn_ = np.asarray(b, np.float64), wn
        kinks = bn[wn_ != 0] / wn_[wn_ != 0]
        rule = composite_gauss(dom, kinks, q, dtype=dt)
        return GramResult(assemble(rule), 0.0, rule, "exact")
    _fixed_level_excludes(
        argname("where", where),
        level,
        tol,
        given_max_nodes,
        {k: argname(k) for k in ("level", "tol", "max_nodes")},
    )
    if tol is None:
        tol = 1e3 * machine_epsilon(dt) if d == 1 else max(1e-5, 1e3 * machine_epsilon(dt))
    tol = check_positive(tol, "tol", where)
    if method == "qmc":
        _unused(where, "qmc rule", order=order)
        n0 = check_positive_int(level, "level", where) if level is not None else 4096
        if level is not None:
            _check_gram_memory(
                where, n, dt, grams=1, nodes=n0, d=d, block_size=block_size, share=share
            )
            rule = qmc_rule(dom, n0, dtype=dt)
            return GramResult(assemble(rule), float("nan"), rule, "qmc")
        _check_gram_memory(
            where,
            n,
            dt,
            grams=4,
            nodes=2 * max(n0, max_nodes),
            d=d,
            block_size=block_size,
            share=share,
        )
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
        q = check_positive_int(order if order is not None else 4, "order", where)

        def build(lv: int) -> QuadratureRule:
            return ball_rule(dom, q * lv, (4 if d == 2 else 2) * q * lv, dtype=dt)

        lv0 = 4 if d == 2 else 1
    else:
        raise TypeError(f"{where}: no product rule for {type(dom).__name__}; use method='qmc'")
    if level is not None:
        level = check_positive_int(level, "level", where)
    gq = q if not isinstance(dom, Ball) else 4 * q * (level or lv0)  # largest leggauss order
    if level is not None:
        m = _product_nodes(dom, q, 2 * level) + _product_nodes(dom, q, level)
        _check_gram_memory(
            where, n, dt, grams=4, nodes=m, d=d, order=gq, block_size=block_size, share=share
        )
        G, est, rule = _refine(where, build, level, assemble, np.inf, 2**62)
        return GramResult(G, est, rule, "gauss")
    # refinement builds rules until one exceeds max_nodes (by at most a factor 2^d)
    m = max(_product_nodes(dom, q, lv0) + _product_nodes(dom, q, 2 * lv0), (2**d + 1) * max_nodes)
    _check_gram_memory(
        where, n, dt, grams=4, nodes=m, d=d, order=gq, block_size=block_size, share=share
    )
    G, est, rule = _refine(where, build, lv0, assemble, tol, max_nodes)
    return GramResult(G, est, rule, "gauss")


def gram_matrix(
    activation: AbstractActivation | str,
    weights: Float[ArrayLike, "n d"],
    biases: Float[ArrayLike, " n"],
    domain_or_rule: AbstractDomain | QuadratureRule,
    *,
    block_size: int | None = None,
    quadrature: AbstractGramQuadrature | str | None = None,
    method: str = "auto",
    tol: float | None = None,
    order: int | None = None,
    level: int | None = None,
    max_nodes: int | None = None,
    mesh=None,
    sharded: bool = False,
    layout: str = "replicated",
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
    - `quadrature`: how to integrate: `ClosedForm()`, `ExactComposite(order)`,
      `AdaptiveGauss(tol, max_nodes, order, level)` or `QMC(level, tol, max_nodes)`, each
      holding only the knobs it reads (or one of their names). Default: as ``method``.
    - `method`: the string shorthand: ``"auto"`` (closed form, else the exact rule, else
      adaptive Gauss), ``"closed_form"``, ``"exact"``, ``"gauss"`` or ``"qmc"``, with
      the knobs below as keywords (not together with `quadrature`).
    - `tol`: target relative error of the refined rules (default $10^3\varepsilon$ in 1D,
      $10^{-5}$ in 2D/3D).
    - `order`, `level`: Gauss points per panel and a fixed refinement level (panels, or
      QMC points) instead of refining to ``tol``.
    - `max_nodes`: the largest rule refinement may build (default $2^{18}$).

    A knob the chosen rule does not read (``order`` with the closed form, ``tol`` with a
    fixed ``level``, any knob with a given `QuadratureRule`) is an error, not ignored.

    - `mesh`, `sharded`: run on the devices of a `jax.sharding.Mesh` (``sharded=True``:
      `device_mesh()`, every device of every process).
    - `layout`: how the work and the result are split over the mesh's $D$ devices:

        - ``"replicated"`` (default): the quadrature nodes are split, each device sums
          its blocks' $S_k^\top S_k$ and one all-reduce adds them; every device holds the
          whole Gram ($n^2$ entries + one block per device).
        - ``"rows"``: the Gram's rows are split; device $p$ forms every block's features
          and accumulates its rows $G_{I_p,:}$ ($n^2/D$ entries + one block per device,
          nothing reduced; up to $1.8\times$ the flops, as symmetry is not used). Needs a
          mesh and $n$ a multiple of $D$ (a row-sharded `jax.Array` splits its rows
          evenly: rows padded inside could not be dropped from it; the error names the
          nearest valid widths); not with the closed form (it is built whole).
          The result is a **row-sharded global** `jax.Array` that is not gathered: pass it
          to `spectral_jax._subspace.top_eigenpairs(G, k)` for the top eigenpairs
          (sharded products, never gathered), or call `spectral_jax._sharding.gather(G)`
          for the whole matrix on every process (on one process ``np.asarray(G)`` works).

    - `dtype`: float32/float64 (default from x64).

    **Returns:** the symmetric ``(n, n)`` Gram matrix (row-sharded with ``layout="rows"``).

    **Raises:** ``ValueError`` for non-finite or mis-shaped weights/biases, width 0, a
    dimension mismatch, float64 without x64, an unknown method, a knob that does not
    apply, an unknown `layout`, ``layout="rows"`` without a mesh or with $n$ not a multiple
    of the device count; ``RuntimeWarning`` if the
    refined rule cannot meet ``tol`` within ``max_nodes``.

    **References:** 2306.17301 (Gram matrix and its spectrum).
    """
    return gram_matrix_with_error(
        activation,
        weights,
        biases,
        domain_or_rule,
        block_size=block_size,
        quadrature=quadrature,
        method=method,
        tol=tol,
        order=order,
        level=level,
        max_nodes=max_nodes,
        mesh=mesh,
        sharded=sharded,
        layout=layout,
        dtype=dtype,
    ).matrix
