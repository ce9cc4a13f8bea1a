r"""Bases for least squares: shallow-network features and the P1 finite-element hats.

Both expose the same interface (`AbstractBasis`): evaluation $\Phi_{li} = \phi_i(x_l)$,
the exact (or high-order) Gram/mass matrix $G_{ij} = \int_D \phi_i\phi_j\,dx$ and the
load vector $F_i = \int_D f\,\phi_i\,dx$.

**References:** S. Zhang, H. Zhao, Y. Zhong, H. Zhou, *Why shallow networks struggle
with approximating and learning high frequency* (arXiv:2306.17301), Table 1.
"""

from __future__ import annotations

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_array, check_positive_int, check_shallow_parameters
from .._precision import resolve_dtype
from .._types import Array, ArrayLike, Float
from ..activations import AbstractActivation, get_activation
from ..domains import AbstractDomain, Box, Interval
from ..networks import feature_matrix
from ..quadrature import QuadratureRule, composite_gauss, gauss_legendre

__all__ = ["AbstractBasis", "NetworkBasis", "FEMBasis"]


def rule_rows(basis, order: int | None = None) -> int | None:
    """Number of nodes of ``basis.rule(order=order)``, counted without building the rule
    (an upper bound; ``None`` for a basis this does not know), for memory estimates."""
    if isinstance(basis, FEMBasis):
        return (order or 2) * (basis.size - 1)
    if isinstance(basis, NetworkBasis):
        p = basis.activation.piecewise_degree
        if isinstance(basis.domain, Interval):
            q = order or (p + 1 if p is not None else basis.quad_order)
            return q * (basis.width + (1 if p is not None else basis.quad_panels))
        if isinstance(basis.domain, Box):
            return ((order or basis.quad_order) * basis.quad_panels) ** basis.domain.dim
    return None


@eqx.filter_jit
def _network_eval(basis, x):
    dt = x.dtype
    phi = feature_matrix(basis.activation, basis.weights.astype(dt), basis.biases.astype(dt), x)
    if basis.constant:
        phi = jnp.concatenate([jnp.ones((x.shape[0], 1), dt), phi], axis=1)
    return phi


@jax.jit
def _fem_eval(t, x):
    dt = x.dtype
    h = jnp.diff(t)
    left = jnp.concatenate([jnp.ones(1, dt), h])  # h_{i-1} (dummy at i=0)
    right = jnp.concatenate([h, jnp.ones(1, dt)])  # h_i (dummy at i=N-1)
    d = x[:, None] - t[None, :]
    up = jnp.where((d <= 0) & (d >= -left[None, :]), 1 + d / left[None, :], 0.0)
    down = jnp.where((d > 0) & (d <= right[None, :]), 1 - d / right[None, :], 0.0)
    return (up + down).astype(dt)


@jax.jit
def _weighted_gram(phi, q):
    return phi.T @ (q[:, None] * phi)


@jax.jit
def _weighted_load(phi, q, f):
    return phi.T @ (q * f)


class AbstractBasis(eqx.Module):
    """A finite set of functions $\\phi_1..\\phi_N$ on a domain, with the fitting interface."""

    domain: eqx.AbstractVar[AbstractDomain]

    @property
    @abc.abstractmethod
    def size(self) -> int:
        """Number of basis functions $N$."""

    @abc.abstractmethod
    def evaluate(self, x: Float[ArrayLike, "m d"], *, dtype=None) -> Float[Array, "m N"]:
        r"""$\Phi_{li} = \phi_i(x_l)$."""

    @abc.abstractmethod
    def rule(self, *, order: int | None = None, dtype=None) -> QuadratureRule:
        """A quadrature rule that integrates products of two basis functions exactly
        (1D piecewise polynomials) or to high order (d >= 2)."""

    def gram(self, *, dtype=None) -> Float[Array, "N N"]:
        r"""$G_{ij} = \int_D \phi_i\phi_j\,dx = \Phi^\top \mathrm{diag}(q)\,\Phi$."""
        dt = resolve_dtype(dtype, f"{type(self).__name__}.gram")
        r = self.rule(dtype=dt)
        return _weighted_gram(self.evaluate(r.nodes, dtype=dt), r.weights)

    def load(self, values_at_nodes, rule: QuadratureRule) -> Float[Array, " N"]:
        r"""$F_i = \sum_l q_l f(x_l)\phi_i(x_l)$ for ``values_at_nodes`` $= f(x_l)$."""
        return _weighted_load(
            self.evaluate(rule.nodes, dtype=rule.dtype), rule.weights, values_at_nodes
        )


def _kink_refined_rule(domain: Interval, kinks: np.ndarray, order: int, dt, min_panels: int = 64):
    """Composite Gauss with the kinks as breakpoints plus a uniform background mesh."""
    bg = np.linspace(domain.lo, domain.hi, min_panels + 1)
    return composite_gauss(
        domain, np.concatenate([np.asarray(kinks, np.float64), bg]), order, dtype=dt
    )


class NetworkBasis(AbstractBasis):
    r"""Features $\phi_i(x) = \sigma(w_i\cdot x - b_i)$, optionally with a constant $\phi_0 = 1$.

    Why the constant: in 1D with $w_i = 1$ and biases $b_i \in [lo, hi)$ (the seeds'
    rule includes $b_1 = lo$), every $\mathrm{ReLU}(x - b_i)$ vanishes at $x = lo$, so the
    span is the P1 space on the mesh $\{b_i\}\cup\{hi\}$ *minus* the hat at $lo$: it
    cannot represent $f(lo) \ne 0$ (for $\arctan(25x)$, $f(-1) = -1.53$). Adding $1$
    gives exactly the P1 space on the same nodes.

    **Fields:** `activation`, `weights` ``(n, d)``, `biases` ``(n,)``, `domain`,
    `constant` (static bool), `quad_order`, `quad_panels` (static; quadrature for d >= 2
    or non-piecewise-polynomial activations).
    """

    activation: AbstractActivation
    weights: Float[Array, "n d"]
    biases: Float[Array, " n"]
    domain: AbstractDomain
    constant: bool = eqx.field(static=True, default=True)
    quad_order: int = eqx.field(static=True, default=6)
    quad_panels: int = eqx.field(static=True, default=24)

    def __init__(
        self,
        activation,
        weights,
        biases,
        domain=None,
        *,
        constant=True,
        quad_order=6,
        quad_panels=24,
    ):
        where = "NetworkBasis"
        self.activation = get_activation(activation)
        w = jnp.asarray(weights)
        if w.ndim == 1:
            w = w[:, None]
        b = jnp.asarray(biases)
        check_shallow_parameters(w, b, where=where)
        if domain is None:
            domain = Interval() if w.shape[1] == 1 else Box.cube(w.shape[1])
        if not isinstance(domain, AbstractDomain):
            raise TypeError(
                f"{where}: domain must be a domain (Interval, Box, Ball); got "
                f"{type(domain).__name__}"
            )
        if domain.dim != w.shape[1]:
            raise ValueError(
                f"{where}: weights have dimension {w.shape[1]} but the domain has dimension "
                f"{domain.dim}"
            )
        self.weights, self.biases, self.domain = w, b, domain
        self.constant = bool(constant)
        self.quad_order = check_positive_int(quad_order, "quad_order", where)
        self.quad_panels = check_positive_int(quad_panels, "quad_panels", where)

    @property
    def size(self) -> int:
        return int(self.biases.shape[0]) + int(self.constant)

    @property
    def width(self) -> int:
        return int(self.biases.shape[0])

    def evaluate(self, x, *, dtype=None):
        dt = resolve_dtype(dtype, "NetworkBasis.evaluate")
        x = jnp.asarray(x, dt)
        if x.ndim == 1 and self.domain.dim == 1:
            x = x[:, None]
        check_array(x, "x", "NetworkBasis.evaluate", shape=(None, self.domain.dim))
        return _network_eval(self, x)

    def gram(self, *, dtype=None):
        r"""$G = \Phi^\top\mathrm{diag}(q)\Phi$ on `rule` (exact for ReLU$^p$ in 1D),
        assembled by the one Gram engine, `spectral_jax.gram.gram_matrix` (chunked,
        shardable); the constant feature adds the row $\int_D\phi_i = q^\top\Phi$ and
        $G_{00} = |D|$ by the same rule."""
        from ..gram import gram_matrix

        dt = resolve_dtype(dtype, "NetworkBasis.gram")
        r = self.rule(dtype=dt)
        g = gram_matrix(
            self.activation, self.weights.astype(dt), self.biases.astype(dt), r, dtype=dt
        )
        if not self.constant:
            return g
        row = _weighted_load(
            feature_matrix(self.activation, self.weights.astype(dt), self.biases.astype(dt),
                           r.nodes),
            r.weights,
            jnp.ones(r.size, dt),
        )  # fmt: skip
        top = jnp.concatenate([jnp.sum(r.weights)[None], row])[None, :]
        return jnp.concatenate([top, jnp.concatenate([row[:, None], g], axis=1)], axis=0)

    def rule(self, *, order=None, dtype=None):
        dt = resolve_dtype(dtype, "NetworkBasis.rule")
        p = self.activation.piecewise_degree
        if isinstance(self.domain, Interval):
            w = np.asarray(self.weights[:, 0], np.float64)
            b = np.asarray(self.biases, np.float64)
            kinks = b[w != 0] / w[w != 0]
            if order is None:
                order = p + 1 if p is not None else self.quad_order
            # Exact for ReLU^p with the kinks as breakpoints (degree 2p per panel).
            panels = 1 if p is not None else self.quad_panels
            return _kink_refined_rule(self.domain, kinks, order, dt, min_panels=panels)
        if isinstance(self.domain, Box):
            return gauss_legendre(
                self.domain, order or self.quad_order, panels=self.quad_panels, dtype=dt
            )
        raise TypeError(
            f"NetworkBasis.rule: unsupported domain {type(self.domain).__name__}; use Interval or "
            "Box"
        )


class FEMBasis(AbstractBasis):
    r"""The P1 (piecewise-linear hat) finite-element basis on sorted nodes of an interval.

    The nodes must include both ends of the interval. The mass matrix is tridiagonal
    with $G_{ii} = (h_{i-1} + h_i)/3$ and $G_{i,i+1} = h_i/6$ (closed form, `mass_matrix`).

    **Fields:** `nodes` ``(N,)`` strictly increasing, `domain` (`Interval`).
    """

    nodes: Float[Array, " N"]
    domain: Interval

    def __init__(self, nodes, domain=None):
        where = "FEMBasis"
        nd = jnp.asarray(nodes)
        check_array(nd, "nodes", where, ndim=1)
        v = np.asarray(nd, np.float64)
        if v.size < 2 or not np.all(np.diff(v) > 0):
            raise ValueError(
                f"{where}: nodes must be >= 2 strictly increasing values; got {v.size} nodes"
                + ("" if v.size < 2 else " that are not strictly increasing")
            )
        domain = Interval(float(v[0]), float(v[-1])) if domain is None else domain
        if not isinstance(domain, Interval):
            raise TypeError(f"{where}: domain must be an Interval; got {type(domain).__name__}")
        if not (np.isclose(v[0], domain.lo) and np.isclose(v[-1], domain.hi)):
            raise ValueError(
                f"{where}: the first and last nodes must be the domain ends ({domain.lo}, "
                f"{domain.hi}); "
                f"got ({v[0]}, {v[-1]})"
            )
        self.nodes, self.domain = nd, domain

    @classmethod
    def from_biases(cls, biases, domain: Interval | None = None) -> FEMBasis:
        """The P1 space on the biases plus the domain ends: the span of ReLU(x - b_i) and 1."""
        domain = Interval() if domain is None else domain
        b = np.asarray(biases, np.float64)
        inner = b[(b > domain.lo) & (b < domain.hi)]
        return cls(
            jnp.asarray(
                np.unique(np.concatenate([[domain.lo], inner, [domain.hi]])),
                jnp.asarray(biases).dtype,
            ),
            domain,
        )

    @property
    def size(self) -> int:
        return int(self.nodes.shape[0])

    def evaluate(self, x, *, dtype=None):
        dt = resolve_dtype(dtype, "FEMBasis.evaluate")
        x = jnp.asarray(x, dt)
        check_array(x, "x", "FEMBasis.evaluate", ndim=(1, 2))
        if x.ndim == 2:
            check_array(x, "x", "FEMBasis.evaluate", shape=(None, 1))
            x = x[:, 0]
        return _fem_eval(self.nodes.astype(dt), x)

    def mass_matrix(self, *, dtype=None) -> Float[Array, "N N"]:
        """The exact tridiagonal mass matrix (closed form)."""
        dt = resolve_dtype(dtype, "FEMBasis.mass_matrix")
        h = jnp.diff(self.nodes.astype(dt))
        diag = (
            jnp.concatenate([h, jnp.zeros(1, dt)]) / 3 + jnp.concatenate([jnp.zeros(1, dt), h]) / 3
        )
        return jnp.diag(diag) + jnp.diag(h / 6, 1) + jnp.diag(h / 6, -1)

    def gram(self, *, dtype=None):
        return self.mass_matrix(dtype=dtype)

    def rule(self, *, order=None, dtype=None):
        dt = resolve_dtype(dtype, "FEMBasis.rule")
        return composite_gauss(
            self.domain, np.asarray(self.nodes, np.float64), order or 2, dtype=dt
        )
