r"""Target penalties $\rho(k)$ from callables, tables or expression strings."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .._expr import parse_expression

__all__ = ["as_rho", "spectral_penalty"]

_FUNCS: dict[str, tuple[Callable, int]] = {
    "exp": (np.exp, 1),
    "log": (np.log, 1),
    "sqrt": (np.sqrt, 1),
    "abs": (np.abs, 1),
    "sin": (np.sin, 1),
    "cos": (np.cos, 1),
    "tanh": (np.tanh, 1),
    "sinh": (np.sinh, 1),
    "cosh": (np.cosh, 1),
    "maximum": (np.maximum, 2),
    "minimum": (np.minimum, 2),
    "log1p": (np.log1p, 1),
    "expm1": (np.expm1, 1),
}


def _from_expression(expr: str, where: str) -> Callable[[np.ndarray], np.ndarray]:
    parsed = parse_expression(
        expr,
        where=f"{where}: rho expression",
        functions=_FUNCS,
        variables=("k",),
        constants={"pi": np.pi, "e": np.e},
    )

    def rho(k):
        with np.errstate(all="ignore"):
            return np.broadcast_to(np.asarray(parsed(k=k), float), k.shape)

    return rho


def _from_table(table: Any, where: str) -> Callable[[np.ndarray], np.ndarray]:
    if isinstance(table, (str, bytes)) or table is None:
        raise TypeError(
            f"{where}: rho must be a callable, an expression string or a table of (k, rho) "
            f"rows; got {type(table).__name__}"
        )
    try:
        if isinstance(table, tuple) and len(table) == 2:
            kt, rt = (np.asarray(t, float) for t in table)
            arr = None
        else:
            arr = np.asarray(table, float)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{where}: rho must be a callable, an expression string or a table of (k, rho) "
            f"rows; got {type(table).__name__} ({err})"
        ) from None
    if arr is not None:
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise ValueError(
                f"{where}: a tabulated rho must have shape (n, 2) of (k, rho) rows or be a "
                f"pair (k, rho); got shape {arr.shape}"
            )
        kt, rt = arr[:, 0], arr[:, 1]
    if kt.ndim != 1 or kt.shape != rt.shape or kt.size < 2:
        raise ValueError(f"{where}: a tabulated rho needs >= 2 matching (k, rho) values")
    if not (np.all(np.isfinite(kt)) and np.all(kt > 0) and np.all(np.diff(kt) > 0)):
        raise ValueError(f"{where}: tabulated k must be finite, positive and increasing")
    if not (np.all(np.isfinite(rt)) and np.all(rt > 0)):
        raise ValueError(
            f"{where}: tabulated rho must be finite and positive; got min {np.nanmin(rt):g}"
        )
    lk, lr = np.log(kt), np.log(rt)
    s0 = (lr[1] - lr[0]) / (lk[1] - lk[0])
    s1 = (lr[-1] - lr[-2]) / (lk[-1] - lk[-2])

    def rho(k):
        with np.errstate(divide="ignore"):
            x = np.log(k)
        y = np.interp(x, lk, lr)
        y = np.where(x < lk[0], lr[0] + s0 * (x - lk[0]), y)
        y = np.where(x > lk[-1], lr[-1] + s1 * (x - lk[-1]), y)
        return np.exp(y)

    return rho


def as_rho(rho: Any, where: str = "design_activation") -> Callable[[np.ndarray], np.ndarray]:
    r"""A NumPy-vectorised $k \mapsto \rho(|k|)$ from a callable (Python or JAX), a table of
    $(k, \rho)$ rows (log-log interpolation; power-law continuation of the end segments)
    or an expression string in ``k`` such as ``"exp(2*abs(k))"`` or ``"k**6"``.

    Expressions are checked before anything is evaluated (see `expression_target` for the
    rules: at most 1000 characters and 50 levels of nesting, constants folded, no strings
    or attributes); the functions are ``exp log sqrt abs sin cos tanh sinh cosh log1p
    expm1`` and ``maximum minimum`` (two arguments), the names ``k``, ``pi``, ``e``.

    **Raises:** ``ValueError`` naming `where` and the expression for a refused expression,
    or for a bad table; ``TypeError`` for something that is neither."""
    if isinstance(rho, str):
        fn = _from_expression(rho, where)
    elif callable(rho):
        fn = rho
    else:
        fn = _from_table(rho, where)

    def wrapped(k: np.ndarray) -> np.ndarray:
        k = np.abs(np.asarray(k, float))
        try:
            with np.errstate(all="ignore"):
                out = np.asarray(fn(k), dtype=float)
        except Exception as err:  # a user callable that fails on the grid
            raise ValueError(
                f"{where}: the target rho is not defined on the design grid "
                f"(k in [{k.min():g}, {k.max():g}]): {type(err).__name__}: {err}"
            ) from err
        return np.broadcast_to(out, k.shape)

    return wrapped


def check_dim(dim: Any, D: Any, where: str) -> int:
    """The input dimension from ``dim`` (or the deprecated keyword ``D``), an integer
    >= 1."""
    if D is not None:
        warnings.warn(
            f"{where}: the keyword D is deprecated; use dim (the same input dimension)",
            DeprecationWarning,
            stacklevel=3,
        )
        if dim not in (1, D):
            raise ValueError(f"{where}: give the dimension once (dim); got dim={dim!r}, D={D!r}")
        dim = D
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
        raise ValueError(f"{where}: dim must be an integer >= 1; got {dim!r}")
    return int(dim)


def spectral_penalty(
    activation,
    k,
    dim: int = 1,
    *,
    method: str = "auto",
    accuracy: float = 1e-6,
    dtype=None,
    D: int | None = None,
):
    r"""The spectral penalty $\rho_\phi(k) = |k|^{D-1}/|\mathcal{F}[\phi](k)|^2$ of an
    activation for input dimension $D$ = ``dim`` (normalisation: $\mathcal{F}[\phi](k)=\int\phi(z)
    e^{-ikz}dz$, no $2\pi$ factors; $\rho(0) = 0$ where $|\mathcal{F}|^2 = \infty$).

    **Arguments:**

    - `activation`: an activation or its name (or a `TabulatedActivation`).
    - `k`: 1-D frequencies.
    - `dim`: input dimension $D \ge 1$ (``D=`` is a deprecated spelling).
    - `method`: ``"closed"`` (the activation's `fourier_sq`), ``"fft"``
      (`activation_spectrum`) or ``"auto"`` (closed form when there is one).
    - `accuracy`, `dtype`: passed to `activation_spectrum`.

    **Raises:** ``ValueError`` for bad `dim`/`method`/`k`; ``NotImplementedError`` when
    ``method="closed"`` and there is no closed form.

    **References:** arXiv 2503.10587, Eq. (8) and Table I.
    """
    import jax.numpy as jnp

    from .._checks import check_array
    from .._precision import resolve_dtype
    from ..activations import get_activation
    from ._spectrum import activation_spectrum

    where = "spectral_penalty"
    dt = resolve_dtype(dtype, where)
    act = get_activation(activation)
    D = check_dim(dim, D, where)
    if method not in ("auto", "closed", "fft"):
        raise ValueError(f"{where}: method must be 'auto', 'closed' or 'fft'; got {method!r}")
    check_array(k, "k", where, ndim=1)
    kk = jnp.abs(jnp.asarray(k, dt))
    fsq = None
    if method in ("auto", "closed"):
        try:
            fsq = jnp.asarray(act.fourier_sq(kk), dt)
        except NotImplementedError:
            if method == "closed":
                raise
    if fsq is None:
        fsq = activation_spectrum(act, kk, accuracy=accuracy, dtype=dt)
    safe = jnp.where((fsq == 0) | jnp.isinf(fsq), 1.0, fsq)
    return jnp.where(jnp.isinf(fsq), 0.0, jnp.where(fsq == 0, jnp.inf, kk ** (D - 1) / safe))
