r"""Integration domains $D \subset \mathbb{R}^d$: interval, box and ball.

Domains are static configuration (Python floats); their quadrature rules live in
`spectral_jax.quadrature`.
"""

from __future__ import annotations

import abc
import math

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from .._types import Array, ArrayLike, Float

__all__ = ["AbstractDomain", "Interval", "Box", "Ball", "as_domain"]


def _finite(v: float, name: str, where: str) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{where}: {name} must be a real number; got {v!r}") from err
    if not math.isfinite(f):
        raise ValueError(f"{where}: {name} must be finite; got {f}")
    return f


class AbstractDomain(eqx.Module):
    """A bounded domain with a dimension, a volume and a membership test."""

    @property
    @abc.abstractmethod
    def dim(self) -> int:
        """Spatial dimension $d$."""

    @property
    @abc.abstractmethod
    def volume(self) -> float:
        """Lebesgue measure $|D|$."""

    @abc.abstractmethod
    def bounding_box(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """``(lo, hi)`` corners of the smallest axis-aligned box containing $D$."""

    @abc.abstractmethod
    def contains(self, x: Float[ArrayLike, "m d"], *, tol: float = 0.0) -> Array:
        """Boolean mask of the points of ``x`` (shape ``(m, d)``) inside the closure of $D$."""

    def grid(self, n: int, *, dtype=None) -> Float[Array, "m d"]:
        """A uniform evaluation grid: ``n`` points per axis of the bounding box, kept if
        inside $D$ (for an interval, ``n`` evenly spaced points including endpoints)."""
        from .._precision import resolve_dtype

        dt = resolve_dtype(dtype, f"{type(self).__name__}.grid")
        lo, hi = self.bounding_box()
        axes = [np.linspace(a, b, int(n)) for a, b in zip(lo, hi, strict=True)]
        pts = np.stack([g.ravel() for g in np.meshgrid(*axes, indexing="ij")], axis=-1)
        pts = pts[np.asarray(self.contains(pts, tol=1e-12))]
        return jnp.asarray(pts, dtype=dt)


class Interval(AbstractDomain):
    r"""$D = (lo, hi) \subset \mathbb{R}$; default $(-1, 1)$ as in the seeds."""

    lo: float = eqx.field(static=True, default=-1.0)
    hi: float = eqx.field(static=True, default=1.0)

    def __check_init__(self):
        lo = _finite(self.lo, "lo", "Interval")
        hi = _finite(self.hi, "hi", "Interval")
        if not lo < hi:
            raise ValueError(f"Interval: need lo < hi for a non-empty interval; got ({lo}, {hi})")

    @property
    def dim(self) -> int:
        return 1

    @property
    def volume(self) -> float:
        return float(self.hi) - float(self.lo)

    def bounding_box(self):
        return (float(self.lo),), (float(self.hi),)

    def contains(self, x, *, tol: float = 0.0):
        x = jnp.asarray(x)
        x = x[..., 0] if x.ndim >= 1 and x.shape[-1] == 1 else x
        return (x >= self.lo - tol) & (x <= self.hi + tol)


class Box(AbstractDomain):
    r"""$D = \prod_j (lo_j, hi_j) \subset \mathbb{R}^d$."""

    lo: tuple[float, ...] = eqx.field(static=True)
    hi: tuple[float, ...] = eqx.field(static=True)

    def __init__(self, lo, hi):
        lo_t = tuple(_finite(v, "lo", "Box") for v in np.atleast_1d(np.asarray(lo, dtype=float)))
        hi_t = tuple(_finite(v, "hi", "Box") for v in np.atleast_1d(np.asarray(hi, dtype=float)))
        if len(lo_t) != len(hi_t) or len(lo_t) == 0:
            raise ValueError(
                f"Box: lo and hi must have the same positive length; got {len(lo_t)} and "
                f"{len(hi_t)}"
            )
        if any(a >= b for a, b in zip(lo_t, hi_t, strict=True)):
            raise ValueError(
                f"Box: need lo < hi in every coordinate (non-degenerate); got lo={lo_t}, hi={hi_t}"
            )
        self.lo = lo_t
        self.hi = hi_t

    @classmethod
    def cube(cls, dim: int, lo: float = -1.0, hi: float = 1.0) -> Box:
        """The cube $(lo, hi)^d$."""
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
            raise ValueError(f"Box.cube: dim must be a positive integer; got {dim!r}")
        return cls((lo,) * dim, (hi,) * dim)

    @property
    def dim(self) -> int:
        return len(self.lo)

    @property
    def volume(self) -> float:
        return float(np.prod([b - a for a, b in zip(self.lo, self.hi, strict=True)]))

    def bounding_box(self):
        return self.lo, self.hi

    def contains(self, x, *, tol: float = 0.0):
        x = jnp.asarray(x)
        lo = jnp.asarray(self.lo, dtype=x.dtype)
        hi = jnp.asarray(self.hi, dtype=x.dtype)
        lo = jnp.broadcast_to(lo, x.shape)
        hi = jnp.broadcast_to(hi, x.shape)
        return jnp.all((x >= lo - tol) & (x <= hi + tol), axis=-1)


class Ball(AbstractDomain):
    r"""$D = \{x : |x - c| < R\} \subset \mathbb{R}^d$ (default the unit ball $B_d(1)$)."""

    dimension: int = eqx.field(static=True)
    radius: float = eqx.field(static=True, default=1.0)
    center: tuple[float, ...] | None = eqx.field(static=True, default=None)

    def __check_init__(self):
        if (
            isinstance(self.dimension, bool)
            or not isinstance(self.dimension, int)
            or self.dimension < 1
        ):
            raise ValueError(f"Ball: dimension must be a positive integer; got {self.dimension!r}")
        r = _finite(self.radius, "radius", "Ball")
        if r <= 0:
            raise ValueError(f"Ball: radius must be positive (non-degenerate ball); got {r}")
        if self.center is not None and len(self.center) != self.dimension:
            raise ValueError(
                f"Ball: center must have length dimension={self.dimension}; got {len(self.center)}"
            )

    @property
    def dim(self) -> int:
        return self.dimension

    @property
    def centre(self) -> tuple[float, ...]:
        return tuple(self.center) if self.center is not None else (0.0,) * self.dimension

    @property
    def volume(self) -> float:
        d = self.dimension
        return math.pi ** (d / 2) / math.gamma(d / 2 + 1) * float(self.radius) ** d

    def bounding_box(self):
        c = self.centre
        return tuple(v - self.radius for v in c), tuple(v + self.radius for v in c)

    def contains(self, x, *, tol: float = 0.0):
        x = jnp.asarray(x)
        c = jnp.asarray(self.centre, dtype=x.dtype)
        return jnp.sum((x - jnp.broadcast_to(c, x.shape)) ** 2, axis=-1) <= (self.radius + tol) ** 2


def as_domain(domain: AbstractDomain | str | None, dim: int = 1) -> AbstractDomain:
    """Coerce ``None``/``"interval"``/``"box"``/``"ball"`` into a default domain of
    dimension ``dim`` ((-1,1), the cube (-1,1)^d, the unit ball)."""
    if isinstance(domain, AbstractDomain):
        return domain
    if domain is None:
        return Interval() if dim == 1 else Box.cube(dim)
    key = str(domain).lower()
    if key == "interval":
        if dim != 1:
            raise ValueError(f"as_domain: an interval is 1-D; got dim={dim}")
        return Interval()
    if key in ("box", "cube"):
        return Interval() if dim == 1 else Box.cube(dim)
    if key == "ball":
        return Interval() if dim == 1 else Ball(dim)
    raise ValueError(f"as_domain: domain must be 'interval', 'box' or 'ball'; got {domain!r}")
