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
import zlib
from typing import Any, ClassVar

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
    piecewise_degree: ClassVar[None] = None
    homogeneity: ClassVar[None] = None

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


#: most Taylor coefficients a saved tail may hold (a design of derivative order m <= 6
#: stores m of them)
MAX_TAIL = 8
#: longest label a saved file may hold
_MAX_LABEL = 200
_ENTRIES = ("header", "values", "slopes", "left", "right")


def save_activation(
    path: str | os.PathLike,
    act: TabulatedActivation,
    *,
    info: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> str:
    """Write a `TabulatedActivation` to ``path`` (``.npz`` with a JSON header).

    The file is written atomically (a temporary file in the same folder replaces ``path``
    only when it is complete), so a full disk or an interrupted run never leaves a
    truncated file in place of an existing one.

    **Arguments:**

    - `path`: the output file (``.npz``).
    - `act`: the activation.
    - `info`: JSON-able metadata stored in the header (e.g. the design summary).
    - `overwrite`: replace an existing file (the command line's ``--force``); without it
      an existing file is refused.

    **Returns:** the path.

    **Raises:** ``TypeError`` for anything but a `TabulatedActivation`; ``ValueError``
    for an existing file without ``overwrite=True``, a missing or non-writable folder,
    a path that is a folder, a suffix other than ``.npz`` or `info` that is not JSON-able.
    """
    from .._files import OutputPathError, atomic_open, check_output_file

    where = "save_activation"
    if not isinstance(act, TabulatedActivation):
        raise TypeError(f"{where}: act must be a TabulatedActivation; got {type(act).__name__}")
    try:
        check_output_file(path, arg=f"{where}: path", force=True, suffixes=(".npz",))
    except OutputPathError as err:
        raise OutputPathError(str(err)) from None
    path = os.fspath(path)
    if os.path.lexists(path) and not overwrite:
        raise OutputPathError(
            f"{where}: {path!r} already exists; pass overwrite=True to replace it"
        )
    header = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "start": act.start,
        "step": act.step,
        "label": act.label,
        "info": info or {},
    }
    try:
        text = json.dumps(header, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where}: info must be JSON-able (finite numbers); {err}") from None
    with atomic_open(path, "wb") as fh:
        np.savez(
            fh,
            header=np.frombuffer(text.encode(), dtype=np.uint8),
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


def _read_arrays(path: str) -> dict[str, np.ndarray]:
    """The archive's arrays, after checking the zip directory (names and sizes) first."""
    from .._memory import check_memory

    try:
        size = os.path.getsize(path)
        if size == 0:
            raise _bad(path, "the file is empty")
        with zipfile.ZipFile(path) as zf:
            infos = {i.filename: i for i in zf.infolist()}
    except zipfile.BadZipFile as err:
        raise _bad(path, f"cannot read it as an .npz archive ({err})") from None
    except OSError as err:
        raise ValueError(f"load_activation: cannot read {path!r}: {err.strerror or err}") from None
    names = {n[:-4] if n.endswith(".npy") else n for n in infos}
    missing = [k for k in _ENTRIES if k not in names]
    if missing:
        raise _bad(path, f"missing entries {missing}")
    extra = sorted(names - set(_ENTRIES))
    if extra:
        raise _bad(path, f"unexpected entries {extra[:5]}")
    # a small file may claim huge arrays (a compressed archive): check before reading
    total = sum(i.file_size for i in infos.values())
    check_memory(
        2 * total, what=f"load_activation: reading {path!r}", hint="is it a saved activation?"
    )
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: np.array(z[k]) for k in _ENTRIES}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError, zlib.error) as err:
        raise _bad(path, f"cannot read it as an .npz archive ({err})") from None
    except (NotImplementedError, RuntimeError) as err:  # unsupported compression
        raise _bad(path, f"cannot read it as an .npz archive ({err})") from None


def _check_header(path: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    raw = arrays["header"]
    if raw.ndim != 1 or raw.dtype != np.uint8:
        raise _bad(path, f"entry 'header' must be 1-D uint8 bytes; got {raw.dtype} {raw.shape}")
    try:
        header = json.loads(raw.tobytes().decode())
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise _bad(path, "its header is not valid JSON") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        fmt = header.get("format") if isinstance(header, dict) else None
        raise _bad(path, f"format is {fmt!r}, expected {FORMAT!r}")
    if header.get("version") != FORMAT_VERSION or isinstance(header.get("version"), bool):
        raise _bad(
            path,
            f"incompatible format version {header.get('version')!r}; this library reads "
            f"version {FORMAT_VERSION}",
        )
    for key in ("start", "step"):
        v = header.get(key)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise _bad(path, f"header entry {key!r} must be a finite number; got {v!r}")
    if header["step"] <= 0:
        raise _bad(path, f"header entry 'step' must be > 0; got {header['step']!r}")
    label = header.get("label")
    if not isinstance(label, str) or len(label) > _MAX_LABEL:
        raise _bad(
            path, f"header entry 'label' must be a string of at most {_MAX_LABEL} characters"
        )
    return header


def _check_arrays(path: str, a: dict[str, np.ndarray]) -> None:
    for key in ("values", "slopes", "left", "right"):
        x = a[key]
        if x.ndim != 1 or x.dtype not in (np.float32, np.float64):
            raise _bad(
                path, f"entry {key!r} must be a 1-D float32/float64 array; got {x.dtype} {x.shape}"
            )
        if not np.all(np.isfinite(x)):
            raise _bad(path, f"entry {key!r} must hold finite values; it has NaN or inf")
    n = a["values"].shape[0]
    if a["slopes"].shape[0] != n or n < 2:
        raise _bad(
            path,
            f"values and slopes must have the same length >= 2; got {n} and {a['slopes'].shape[0]}",
        )
    for key, end in (("left", 0), ("right", -1)):
        tail = a[key]
        if not 1 <= tail.shape[0] <= MAX_TAIL:
            raise _bad(
                path,
                f"entry {key!r} (the Taylor tail) must hold 1 to {MAX_TAIL} derivatives; got "
                f"{tail.shape[0]}",
            )
        # the tail continues the table: phi and phi' at the end node must match it
        scale = max(float(np.max(np.abs(a["values"]))), float(np.max(np.abs(a["slopes"]))), 1e-300)
        tol = 1e-6 * scale
        table = (a["values"][end], a["slopes"][end])
        for r in range(min(2, tail.shape[0])):
            if not abs(float(tail[r]) - float(table[r])) <= tol:
                what = "phi" if r == 0 else "phi'"
                raise _bad(
                    path,
                    f"entry {key!r} does not continue the table: {what} = {float(tail[r]):g} "
                    f"at the {'first' if end == 0 else 'last'} node, the table has "
                    f"{float(table[r]):g}",
                )


def _read(path: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    if not os.path.isfile(path):
        raise ValueError(f"load_activation: no such file {path!r}")
    arrays = _read_arrays(path)
    header = _check_header(path, arrays)
    _check_arrays(path, arrays)
    return header, arrays


def load_activation(path: str | os.PathLike, *, dtype=None) -> TabulatedActivation:
    """Read a file written by `save_activation`.

    Everything is checked before the module is built: the archive (a readable zip with
    exactly the entries ``header, values, slopes, left, right``, sizes checked against the
    memory budget before reading), the header (format, version, finite ``start``, ``step >
    0``, a string label), every array (1-D float32/float64, finite), the lengths (values
    and slopes equal, ``>= 2``; tails of 1 to `MAX_TAIL` derivatives) and that each tail
    continues the table ($\\phi$ and $\\phi'$ at the end nodes).

    **Raises:** ``ValueError`` naming the file and what is wrong for a missing, empty,
    truncated, corrupt, tampered or incompatible file (nothing is built unless every check
    passes)."""
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
