r"""Target functions of the seeds, by name or by expression.

1D (on $(-1,1)$): ``arctan25`` $= \arctan(25x)$ (slides' Table 1), ``sinK``
$= \sin(K\pi x)$ (with ``dim=d``: the ridge function $\sin(K\pi x_0)$ on
$\mathbb{R}^d$), ``gauss_bump``, ``bumps`` (a sum of narrow Gaussian bumps, seed 002),
``abs``, ``step_smooth``. 2D: ``test2d`` (the slides' 2D test example
$\sum_{ij} a_{ij}\sin(b_i x_i + c_{ij}x_ix_j)\cos(b_j x_j + d_{ij}x_i^2)$ with fixed,
documented coefficients), ``bumps2d``, ``ring_fourier`` (a radial wave
$\cos(\nu\pi|x|)$ modulated by an angular Fourier mode, seed 002).

Every target maps a batch ``x`` of shape ``(m, d)`` to values ``(m,)`` and is
JAX-traceable. ``scalar_target`` gives the pointwise 1D form ``f(t) -> scalar``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from .._expr import parse_expression
from .._types import Array, Float

__all__ = ["Target", "get_target", "available_targets", "expression_target"]


class Target(eqx.Module):
    r"""A named target $f: D\subset\mathbb{R}^d \to \mathbb{R}$ evaluated on batches.

    **Fields:** `name`, `dim`, `fn` (maps ``(m, d)`` to ``(m,)``), `description`.
    """

    name: str = eqx.field(static=True)
    dim: int = eqx.field(static=True)
    fn: Callable = eqx.field(static=True)
    description: str = eqx.field(static=True, default="")

    def __call__(self, x: Float[Array, "m d"]) -> Float[Array, " m"]:
        x = jnp.asarray(x)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(
                f"target {self.name!r}: x must have shape (m, {self.dim}); got {tuple(x.shape)}"
            )
        return self.fn(x)

    def scalar(self) -> Callable[[Array], Array]:
        """1D pointwise form ``t -> f(t)`` (for autodiff, e.g. adaptive biases)."""
        if self.dim != 1:
            raise ValueError(f"target {self.name!r}: scalar() needs a 1-D target; dim={self.dim}")
        return lambda t: self.fn(jnp.reshape(t, (1, 1)))[0]


# Coefficients of the slides' 2D test function (fixed once, reproducible).
_T2_A = np.array([[1.0, 0.5], [0.7, 1.2]])
_T2_B = np.array([2.0, 3.0])
_T2_C = np.array([[0.0, 1.5], [2.0, 0.0]])
_T2_D = np.array([[1.0, 0.8], [0.6, 1.4]])

_BUMPS_1D = [(-0.6, 0.05, 1.0), (-0.1, 0.03, -0.8), (0.3, 0.08, 0.6), (0.7, 0.02, 1.2)]
_BUMPS_2D = [((-0.4, 0.3), 0.15, 1.0), ((0.35, -0.2), 0.1, -0.7), ((0.2, 0.5), 0.08, 0.9)]


def _test2d(x):
    out = jnp.zeros(x.shape[0], x.dtype)
    for i in range(2):
        for j in range(2):
            xi, xj = x[:, i], x[:, j]
            out = out + _T2_A[i, j] * jnp.sin(_T2_B[i] * xi + _T2_C[i, j] * xi * xj) * jnp.cos(
                _T2_B[j] * xj + _T2_D[i, j] * xi**2
            )
    return out


def _bumps(x):
    out = jnp.zeros(x.shape[0], x.dtype)
    for c, s, a in _BUMPS_1D:
        out = out + a * jnp.exp(-0.5 * ((x[:, 0] - c) / s) ** 2)
    return out


def _bumps2d(x):
    out = jnp.zeros(x.shape[0], x.dtype)
    for c, s, a in _BUMPS_2D:
        r2 = (x[:, 0] - c[0]) ** 2 + (x[:, 1] - c[1]) ** 2
        out = out + a * jnp.exp(-0.5 * r2 / s**2)
    return out


def _ring_fourier(x, nu=4.0, m=3):
    r = jnp.sqrt(jnp.sum(x * x, axis=1) + 1e-300)
    th = jnp.arctan2(x[:, 1], x[:, 0])
    return jnp.cos(nu * jnp.pi * r) * jnp.cos(m * th) * jnp.exp(-2.0 * (r - 0.5) ** 2)


_NAMED: dict[str, tuple[int, Callable, str]] = {
    "arctan25": (1, lambda x: jnp.arctan(25.0 * x[:, 0]), "arctan(25 x)"),
    "gauss_bump": (1, lambda x: jnp.exp(-50.0 * x[:, 0] ** 2), "exp(-50 x^2)"),
    "abs": (1, lambda x: jnp.abs(x[:, 0]), "|x|"),
    "step_smooth": (1, lambda x: jnp.tanh(100.0 * x[:, 0]), "tanh(100 x)"),
    "bumps": (1, _bumps, "four Gaussian bumps of widths 0.02-0.08"),
    "test2d": (2, _test2d, "sum_ij a_ij sin(b_i x_i + c_ij x_i x_j) cos(b_j x_j + d_ij x_i^2)"),
    "bumps2d": (2, _bumps2d, "three 2D Gaussian bumps"),
    "ring_fourier": (2, _ring_fourier, "cos(4 pi |x|) cos(3 theta) exp(-2(|x|-1/2)^2)"),
}
_SIN = re.compile(r"^sin(\d+(?:\.\d+)?)$")


def available_targets() -> list[str]:
    return sorted(_NAMED) + [
        "sinK (sin(K pi x), e.g. sin8; sin(K pi x0) in d-D)",
        "any expression in x (1D) or x0, x1, ...",
    ]


_ALLOWED_FUNCS: dict[str, tuple[Callable, int]] = {
    "sin": (jnp.sin, 1),
    "cos": (jnp.cos, 1),
    "tan": (jnp.tan, 1),
    "exp": (jnp.exp, 1),
    "log": (jnp.log, 1),
    "sqrt": (jnp.sqrt, 1),
    "abs": (jnp.abs, 1),
    "arctan": (jnp.arctan, 1),
    "atan": (jnp.arctan, 1),
    "tanh": (jnp.tanh, 1),
    "sinh": (jnp.sinh, 1),
    "cosh": (jnp.cosh, 1),
    "sign": (jnp.sign, 1),
    "maximum": (jnp.maximum, 2),
    "minimum": (jnp.minimum, 2),
    "where": (jnp.where, 3),
}


def expression_target(expr: str, dim: int = 1) -> Target:
    """A target from an expression string, e.g. ``"sin(3*pi*x) + 0.1*x**2"`` (1D, variable
    ``x``) or ``"exp(-x0**2 - x1**2)"`` (``x0, x1, ...``; also ``r`` = |x|).

    Allowed: numbers, ``pi``, ``e``, ``+ - * / ** %``, one comparison ``< > <= >=`` (for
    ``where(x > 0, x, 0)``) and the functions ``sin cos tan exp log sqrt abs arctan atan
    tanh sinh cosh sign`` (one argument), ``maximum minimum`` (two) and ``where`` (three).
    The expression is checked before anything is evaluated (see `spectral_jax._expr`): at
    most 1000 characters and 50 levels of nesting, constant parts folded in floating point
    (so ``9**9**9`` is an overflow error, not a computation that never ends), no strings,
    attributes, subscripts, lambdas or other names.

    **Raises:** ``ValueError`` naming the expression and the problem (a syntax error, a
    disallowed construct or name, a function not called or called with the wrong number of
    arguments, a constant that overflows); ``TypeError`` for a non-string.
    """
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
        raise ValueError(f"expression_target: dim must be a positive integer; got {dim!r}")
    dim = int(dim)
    parsed = parse_expression(
        expr,
        where="target expression",
        functions=_ALLOWED_FUNCS,
        variables=("x", "r"),
        indexed=("x", dim),
        constants={"pi": math.pi, "e": math.e},
        compare=True,
        mod=True,
    )
    used = parsed.variables

    def fn(x):
        env = {}
        if "x" in used:
            env["x"] = x[:, 0]
        if "r" in used:
            env["r"] = jnp.sqrt(jnp.sum(x * x, axis=1))
        for name in used - {"x", "r"}:
            env[name] = x[:, int(name[1:])]
        val = parsed(**env)
        return jnp.broadcast_to(jnp.asarray(val, dtype=x.dtype), (x.shape[0],))

    return Target(parsed.text, dim, fn, description=parsed.text)


def get_target(spec: str | Target | Callable, dim: int | None = None) -> Target:
    r"""A `Target` from a name (``arctan25``, ``sin8``, ``test2d``...), an expression or a
    callable on batches ``(m, d) -> (m,)`` (then ``dim`` is required).

    ``dim`` (default 1): the input dimension of ``sinK`` ($\sin(K\pi x_0)$ in d-D) and of
    expressions; a fixed-dimension name with another ``dim`` raises ``ValueError``."""
    if isinstance(spec, Target):
        return spec
    if callable(spec):
        if dim is None:
            raise ValueError("get_target: pass dim= with a callable target")
        return Target(getattr(spec, "__name__", "callable"), int(dim), spec)
    if not isinstance(spec, str):
        raise TypeError(
            f"get_target: spec must be a name, expression or callable; got {type(spec).__name__}"
        )
    key = spec.strip()
    if key.lower() in _NAMED:
        d, fn, desc = _NAMED[key.lower()]
        if dim is not None and dim != d:
            raise ValueError(f"get_target: target {key!r} is {d}-D; got dim={dim}")
        return Target(key.lower(), d, fn, desc)
    m = _SIN.match(key.lower())
    if m:
        k = float(m.group(1))
        d = 1 if dim is None else int(dim)
        if d < 1:
            raise ValueError(f"get_target: dim must be a positive integer; got {dim}")
        desc = f"sin({k:g} pi x)" if d == 1 else f"sin({k:g} pi x0) on R^{d}"
        return Target(key.lower(), d, lambda x: jnp.sin(k * jnp.pi * x[:, 0]), desc)
    return expression_target(key, 1 if dim is None else dim)
