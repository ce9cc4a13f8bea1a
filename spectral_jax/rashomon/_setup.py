"""Shared set-up of the Rashomon computations: domain, quadrature rule, target values."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax.numpy as jnp
import numpy as np

from .._checks import check_in_open_interval, check_positive, check_positive_int
from .._precision import resolve_dtype
from .._types import Array, Float
from ..domains import AbstractDomain, Ball, Box, Interval
from ..quadrature import QuadratureRule, ball_rule, gauss_legendre, qmc_rule
from ..targets import Target, get_target

_QMC_NODES = 4096  # default rule on a ball in d >= 4


class Problem(NamedTuple):
    target: Target
    domain: AbstractDomain
    rule: QuadratureRule
    f: Float[Array, " m"]
    f_norm_sq: float
    dtype: Any


def resolve_domain(domain: Any, dim: int, where: str) -> AbstractDomain:
    """``None`` -> $(-1,1)$ in 1D, the unit ball $B_d(1)$ otherwise (the seed's $D$)."""
    if domain is None:
        return Interval() if dim == 1 else Ball(dim)
    if isinstance(domain, str):
        key = domain.lower()
        if key in ("interval", "ball", "box", "cube"):
            if dim == 1:
                return Interval()
            return Ball(dim) if key == "ball" else Box.cube(dim)
    if not isinstance(domain, AbstractDomain):
        raise TypeError(
            f"{where}: domain must be a domain or 'interval'/'ball'/'box'; got {domain!r}"
        )
    if domain.dim != dim:
        raise ValueError(f"{where}: domain is {domain.dim}-D but the target is {dim}-D")
    return domain


def default_rule(domain: AbstractDomain, dtype: Any) -> QuadratureRule:
    r"""1D: 4-point Gauss on 64 panels (256 nodes); 2D ball: 32 radial x 64 angular;
    3D ball: 16 x 12 (x 24 azimuths); a ball in $d\ge4$: 4096 Halton points (`qmc_rule`,
    error $O(m^{-1}\log^dm)$ for smooth integrands, about 1e-3 relative for $\|f\|^2$ of
    low-frequency $f$); a box: 4-point Gauss on 8 panels per axis ($d\le3$), else the same
    Halton rule."""
    if isinstance(domain, Interval):
        return gauss_legendre(domain, 4, panels=64, dtype=dtype)
    if isinstance(domain, Ball):
        if domain.dim == 1:
            return ball_rule(domain, 256, 1, dtype=dtype)
        if domain.dim == 2:
            return ball_rule(domain, 32, 64, dtype=dtype)
        if domain.dim == 3:
            return ball_rule(domain, 16, 12, dtype=dtype)
        return qmc_rule(domain, _QMC_NODES, dtype=dtype)
    if domain.dim >= 4:
        return qmc_rule(domain, _QMC_NODES, dtype=dtype)
    return gauss_legendre(domain, 4, panels=8, dtype=dtype)


def rashomon_rule(dim: int, dtype: Any = None, *, domain: Any = None) -> QuadratureRule:
    """The quadrature rule `rashomon_estimate` uses when ``quadrature=None``, for a target in
    ``dim`` dimensions on ``domain`` (``None``: $(-1,1)$ in 1D, the unit ball otherwise;
    see `default_rule` for the rules), with nodes in ``dtype`` (``None``: the default
    float type). Useful to size a run before it starts (the number of nodes is ``.size``)."""
    from .._precision import resolve_dtype

    where = "rashomon_rule"
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
        raise ValueError(f"{where}: dim must be a positive integer; got {dim!r}")
    return default_rule(resolve_domain(domain, dim, where), resolve_dtype(dtype, where))


def setup(
    target: Any,
    domain: Any,
    quadrature: QuadratureRule | None,
    dtype: Any,
    where: str,
    dim: int | None = None,
) -> Problem:
    """Resolve the target, domain and rule; evaluate $f$ on the nodes and check it."""
    dt = resolve_dtype(dtype, where)
    if not (isinstance(target, (str, Target)) or callable(target)):
        raise TypeError(
            f"{where}: target must be a name, expression, Target or callable; got "
            f"{type(target).__name__}"
        )
    if callable(target) and not isinstance(target, Target) and dim is None:
        dim = domain.dim if isinstance(domain, AbstractDomain) else 1
    tgt = get_target(target, dim)
    dom = resolve_domain(domain, tgt.dim, where)
    rule = default_rule(dom, dt) if quadrature is None else quadrature
    if not isinstance(rule, QuadratureRule):
        raise TypeError(f"{where}: quadrature must be a QuadratureRule; got {type(rule).__name__}")
    if rule.dim != tgt.dim:
        raise ValueError(
            f"{where}: quadrature nodes are {rule.dim}-D but the target is {tgt.dim}-D"
        )
    nodes = jnp.asarray(rule.nodes, dt)
    rule = QuadratureRule(nodes, jnp.asarray(rule.weights, dt), kind=rule.kind)
    f = jnp.asarray(tgt(nodes), dt)
    fv = np.asarray(f)
    if fv.shape != (rule.size,):
        raise ValueError(f"{where}: target must map (m, d) to (m,); got shape {fv.shape}")
    if not np.all(np.isfinite(fv)):
        bad = int(np.sum(~np.isfinite(fv)))
        raise ValueError(
            f"{where}: target {tgt.name!r} returned NaN/inf at {bad} of {fv.size} quadrature "
            "nodes in the domain; it must be finite on D"
        )
    fn2 = float(rule.integrate(f * f))
    if not fn2 > 0:
        raise ValueError(
            f"{where}: target {tgt.name!r} has zero L2 norm on the domain; the relative error is "
            "undefined"
        )
    return Problem(tgt, dom, rule, f, fn2, dt)


def check_common(n: Any, epsilon: Any, A: Any, where: str) -> tuple[int, float, float]:
    n = check_positive_int(n, "n (the width)", where)
    eps = check_in_open_interval(epsilon, 0.0, 1.0, "epsilon", where)
    A = check_positive(A, "A", where)
    return n, eps, A


def check_key(key: Any, where: str) -> None:
    """A typed key (``jax.random.key``) or a legacy ``uint32[2]`` key (``PRNGKey``)."""
    import jax

    if isinstance(key, jax.Array):
        if jnp.issubdtype(key.dtype, jax.dtypes.prng_key) and key.ndim == 0:
            return
        if key.dtype == jnp.uint32 and key.shape == (2,):
            return
    shown = repr(key) if isinstance(key, (int, float, str)) else type(key).__name__
    raise TypeError(
        f"{where}: key must be a single PRNG key such as jax.random.key(0); got {shown}"
    )
