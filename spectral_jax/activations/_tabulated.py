r"""A tabulated activation (e.g. one designed from a target spectral penalty).

Values $\phi_j$ and slopes $\phi'_j$ on a uniform grid $z_j = z_0 + jh$ are joined by
cubic Hermite interpolation ($C^1$, error $O(h^4)$). Outside the table the activation is
continued by Taylor polynomials at the two ends (``left``/``right`` hold
$\phi^{(r)}(z_{\rm end})$, $r = 0..p$); a designed activation whose derivative of order
$m$ has decayed is exactly a polynomial of degree $m-1$ there.

Saved files are ``.npz`` archives with a JSON header (format name and version); loading
checks everything before it builds the module, so a corrupt or incompatible file raises
``ValueError`` and never yields a half-loaded activation.

Evaluation is one fused pass over the input: the cell is found by arithmetic on the
uniform grid ($j = \lfloor (z - z_0)/h \rfloor + 1$, clipped; no search), the cells and
the two tails are packed into one coefficient-major table of power-basis coefficients in
the local variable $s$ (the tails are columns 0 and $N$), and $\phi$ is a Horner
evaluation of the gathered coefficients. Each coefficient is its own scalar gather from a
contiguous row of the table, which XLA fuses into the elementwise loop (a gather of whole
packed rows, sliced afterwards, ran ~1.2x slower on CPU). The derivative has its own
table and a ``custom_jvp``, so a gradient stores $\phi'(z)$ rather than the gathered
coefficients.
"""

from __future__ import annotations

import functools
import json
import math
import os
import zipfile
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._types import Array, ArrayLike, Float
from ._base import AbstractActivation

__all__ = ["TabulatedActivation", "save_activation", "load_activation", "FORMAT", "FORMAT_VERSION"]

FORMAT = "spectral_jax.tabulated_activation"
FORMAT_VERSION = 1


def _coefficient_tables(
    values: Array, slopes: Array, left: Array, right: Array, h: float
) -> tuple[Array, Array]:
    r"""The packed, coefficient-major power-basis tables of $\phi$ and $\phi'$ in the local
    variable $s$: row $r$ holds the coefficients of $s^r$, shapes ``(w, N + 1)`` and
    ``(w - 1, N + 1)``.

    Column 0 is the left tail (Taylor polynomial in $s = (z - z_0)/h \le 0$), columns
    $1..N-1$ the cubic Hermite cells ($s = t - j \in [0, 1)$ in cell $j$), column $N$ the
    right tail ($s = (z - z_{N-1})/h \ge 0$); all padded with zeros to a common degree."""
    dt = values.dtype
    y0, y1, m0, m1 = values[:-1], values[1:], h * slopes[:-1], h * slopes[1:]
    width = max(4, left.shape[0], right.shape[0])

    def tail(c: Array) -> Array:  # phi^(r)(z_end) -> coefficient of s^r: phi^(r) h^r / r!
        scale = np.array([h**r / math.factorial(r) for r in range(c.shape[0])])
        return jnp.zeros((width,), dt).at[: c.shape[0]].set(c * scale.astype(dt))

    cells = [y0, m0, 3 * (y1 - y0) - 2 * m0 - m1, 2 * (y0 - y1) + m0 + m1]
    cells += [jnp.zeros_like(y0)] * (width - 4)
    tab = jnp.concatenate([tail(left)[:, None], jnp.stack(cells, 0), tail(right)[:, None]], 1)
    powers = jnp.arange(1, width, dtype=dt)
    dtab = tab[1:] * (powers / h)[:, None]
    return tab, dtab


def _coefficients(tab: Array, start: float, step: float, z: Array) -> tuple[list[Array], Array]:
    # uniform grid: the column is found by arithmetic (no search); t + 1 clipped to [0, N]
    # truncates to the column (0: left tail, N: right tail), one scalar gather per power
    n = tab.shape[1] - 1
    t = (z - start) * (1.0 / step)
    j = jnp.clip(t + 1.0, 0.0, float(n)).astype(jnp.int32)
    s = t - jnp.maximum(j.astype(t.dtype) - 1.0, 0.0)
    return [row.at[j].get(mode="promise_in_bounds") for row in tab], s


def _horner(coef: list[Array], s: Array) -> Array:
    out = coef[-1]
    for c in coef[-2::-1]:
        out = c + s * out
    return out


@functools.partial(jax.custom_jvp, nondiff_argnums=(2, 3))
def _evaluate(tab: Array, dtab: Array, start: float, step: float, z: Array) -> Array:
    return _horner(*_coefficients(tab, start, step, z))


@_evaluate.defjvp
def _evaluate_jvp(start, step, primals, tangents):
    # phi' from its own packed table: value and slope are separate gathers, so the
    # backward pass stores one array (phi') instead of the gathered coefficients
    tab, dtab, z = primals
    value = _horner(*_coefficients(tab, start, step, z))
    slope = _horner(*_coefficients(dtab, start, step, z))
    return value, slope * tangents[2]


@functools.partial(jax.jit, static_argnames=("start", "step"))
def _apply(
    values: Array, slopes: Array, left: Array, right: Array, z: Array, *, start: float, step: float
) -> Array:
    # one executable per shape, also when called outside jit (no op-by-op dispatch)
    dt = z.dtype
    table = [jax.lax.stop_gradient(a).astype(dt) for a in (values, slopes, left, right)]
    tab, dtab = _coefficient_tables(*table, step)
    return _evaluate(tab, dtab, start, step, z)


class TabulatedActivation(AbstractActivation):
    r"""$\phi$ from values and slopes on a uniform grid, cubic Hermite in between and Taylor
    polynomials outside.

    **Fields:**
    - `values`, `slopes`: $\phi(z_j)$, $\phi'(z_j)$, shape ``(N,)``, ``N >= 2``.
    - `left`, `right`: $\phi^{(r)}$ at the first/last node, $r = 0..p$ (the tails).
    - `start`, `step`: $z_0$ and $h$ (static).
    - `label`: the name (static).

    The table is treated as a constant (``stop_gradient``): gradients flow through $z$ (so
    networks train), not into the tabulated values.
    """

    values: Float[Array, " N"]
    slopes: Float[Array, " N"]
    left: Float[Array, " p"]
    right: Float[Array, " p"]
    start: float = eqx.field(static=True)
    step: float = eqx.field(static=True)
    label: str = eqx.field(static=True, default="tabulated")

    def __check_init__(self):
        where = "TabulatedActivation"
        n = self.values.shape[0] if self.values.ndim == 1 else -1
        if n < 2:
            raise ValueError(
                f"{where}: values must be a 1-D array of >= 2 entries; got shape "
                f"{self.values.shape}"
            )
        if self.slopes.shape != self.values.shape:
            raise ValueError(
                f"{where}: slopes must have shape {self.values.shape}; got {self.slopes.shape}"
            )
        for nm, arr in (("left", self.left), ("right", self.right)):
            if arr.ndim != 1 or arr.shape[0] < 1:
                raise ValueError(
                    f"{where}: {nm} must be a non-empty 1-D array; got shape {arr.shape}"
                )
        if not (math.isfinite(self.step) and self.step > 0 and math.isfinite(self.start)):
            raise ValueError(
                f"{where}: need finite start and step > 0; got start={self.start}, step={self.step}"
            )

    @property
    def name(self) -> str:
        return self.label

    @property
    def end(self) -> float:
        """Last grid node."""
        return self.start + self.step * (self.values.shape[0] - 1)

    def __call__(self, z: Float[ArrayLike, "*s"]) -> Float[Array, "*s"]:
        z = jnp.asarray(z)
        dt = z.dtype if jnp.issubdtype(z.dtype, jnp.floating) else self.values.dtype
        z = z.astype(dt)
        # the table is a fixed design, not a trainable parameter: no gradient flows into it
        # (this keeps the backward pass a gather, not a scatter into the table)
        return _apply(
            self.values, self.slopes, self.left, self.right, z, start=self.start, step=self.step
        )

    def fourier_sq(self, k: Float[ArrayLike, "*s"]) -> Float[Array, "*s"]:
        raise NotImplementedError(
            f"{self.label}.fourier_sq: a tabulated activation has no closed form; use "
            "spectral_jax.design.activation_spectrum"
        )


def save_activation(
    path: str | os.PathLike, act: TabulatedActivation, *, info: dict[str, Any] | None = None
) -> str:
    """Write a `TabulatedActivation` to ``path`` (``.npz`` with a JSON header).

    **Raises:** ``TypeError`` for anything but a `TabulatedActivation`."""
    if not isinstance(act, TabulatedActivation):
        raise TypeError(
            f"save_activation: act must be a TabulatedActivation; got {type(act).__name__}"
        )
    header = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "start": act.start,
        "step": act.step,
        "label": act.label,
        "info": info or {},
    }
    path = os.fspath(path)
    with open(path, "wb") as fh:
        np.savez(
            fh,
            header=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8),
            values=np.asarray(act.values),
            slopes=np.asarray(act.slopes),
            left=np.asarray(act.left),
            right=np.asarray(act.right),
        )
    return path


def _bad(path: str, why: str) -> ValueError:
    return ValueError(f"load_activation: {path!r} is not a valid saved activation: {why}")


def read_activation_header(path: str | os.PathLike) -> dict[str, Any]:
    """The JSON header of a saved activation (format, version, grid, design info)."""
    return _read(os.fspath(path))[0]


def _read(path: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    if not os.path.isfile(path):
        raise ValueError(f"load_activation: no such file {path!r}")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: np.array(z[k]) for k in z.files}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as err:
        raise _bad(path, f"cannot read it as an .npz archive ({err})") from err
    need = {"header", "values", "slopes", "left", "right"}
    if not need <= set(arrays):
        raise _bad(path, f"missing entries {sorted(need - set(arrays))}")
    try:
        header = json.loads(arrays["header"].astype(np.uint8).tobytes().decode())
    except (ValueError, UnicodeDecodeError) as err:
        raise _bad(path, "its header is not valid JSON") from err
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise _bad(
            path,
            f"format is {header.get('format') if isinstance(header, dict) else None!r}, "
            f"expected {FORMAT!r}",
        )
    if header.get("version") != FORMAT_VERSION:
        raise _bad(
            path,
            f"incompatible format version {header.get('version')!r}; this library reads "
            f"version {FORMAT_VERSION}",
        )
    for key in ("values", "slopes", "left", "right"):
        a = arrays[key]
        if a.ndim != 1 or a.dtype.kind != "f" or not np.all(np.isfinite(a)):
            raise _bad(
                path, f"entry {key!r} must be a 1-D array of finite floats; got {a.dtype} {a.shape}"
            )
    if arrays["values"].shape != arrays["slopes"].shape or arrays["values"].size < 2:
        raise _bad(path, "values and slopes must have the same length >= 2")
    return header, arrays


def load_activation(path: str | os.PathLike, *, dtype=None) -> TabulatedActivation:
    """Read a file written by `save_activation`.

    **Raises:** ``ValueError`` naming the file for a missing, corrupt or incompatible file
    (nothing is built unless every check passes)."""
    from .._precision import resolve_dtype

    dt = resolve_dtype(dtype, "load_activation")
    path = os.fspath(path)
    header, a = _read(path)
    try:
        start, step, label = float(header["start"]), float(header["step"]), str(header["label"])
    except (KeyError, TypeError, ValueError) as err:
        raise _bad(path, "header lacks start/step/label") from err
    try:
        return TabulatedActivation(
            jnp.asarray(a["values"], dt),
            jnp.asarray(a["slopes"], dt),
            jnp.asarray(a["left"], dt),
            jnp.asarray(a["right"], dt),
            start,
            step,
            label,
        )
    except ValueError as err:
        raise _bad(path, str(err)) from err
