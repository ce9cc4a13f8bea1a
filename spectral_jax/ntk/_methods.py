r"""NTK methods as small configuration modules holding their own knobs.

``empirical_ntk(model, x, method=Jacrev(block_size=256))`` is the same as
``empirical_ntk(model, x, method="jacrev", block_size=256)``; the strings stay as shorthands
for the default knobs. Each module carries only the knobs its method reads, so a knob that
does not apply cannot be passed (``Layered(fast_path=True)`` is a ``TypeError``), and a knob
given both in the module and as an argument of the entry point is refused.

| module | string | knobs |
|---|---|---|
| `Auto` | ``"auto"`` | ``block_size`` |
| `Jacrev` | ``"jacrev"`` | ``block_size`` |
| `Jacfwd` | ``"jacfwd"`` | ``block_size`` |
| `NTVP` | ``"ntvp"`` | ``block_size`` |
| `Structured` | ``"structured"`` | ``block_size``, ``fast_path`` |
| `Layered` | ``"layered"`` | ``block_size`` |
"""

from __future__ import annotations

from typing import Any, ClassVar

import equinox as eqx

__all__ = [
    "AbstractNTKMethod",
    "Auto",
    "Jacrev",
    "Jacfwd",
    "NTVP",
    "Structured",
    "Layered",
    "resolve_method",
]


def _check_block(block_size: Any, name: str) -> None:
    if block_size is not None and (
        isinstance(block_size, bool) or not isinstance(block_size, int) or block_size <= 0
    ):
        raise ValueError(
            f"{name}: block_size must be a positive integer or None; got {block_size!r}"
        )


class AbstractNTKMethod(eqx.Module):
    """An NTK method and its knobs (see the module table)."""

    name: ClassVar[str]
    block_size: eqx.AbstractVar[int | None]


class Auto(AbstractNTKMethod):
    """The automatic choice (``"auto"``): layered for dense models, else jacrev/jacfwd."""

    name: ClassVar[str] = "auto"
    block_size: int | None = eqx.field(default=None, static=True)

    def __check_init__(self):
        _check_block(self.block_size, "Auto")


class Jacrev(AbstractNTKMethod):
    """Per-input Jacobians by reverse mode, contracted (``"jacrev"``)."""

    name: ClassVar[str] = "jacrev"
    block_size: int | None = eqx.field(default=None, static=True)

    def __check_init__(self):
        _check_block(self.block_size, "Jacrev")


class Jacfwd(AbstractNTKMethod):
    """Per-input Jacobians by forward mode, contracted (``"jacfwd"``)."""

    name: ClassVar[str] = "jacfwd"
    block_size: int | None = eqx.field(default=None, static=True)

    def __check_init__(self):
        _check_block(self.block_size, "Jacfwd")


class NTVP(AbstractNTKMethod):
    """NTK-vector products, no Jacobian (``"ntvp"``)."""

    name: ClassVar[str] = "ntvp"
    block_size: int | None = eqx.field(default=None, static=True)

    def __check_init__(self):
        _check_block(self.block_size, "NTVP")


class Structured(AbstractNTKMethod):
    """The closed form of a `ShallowNetwork` (``"structured"``); ``fast_path`` as in
    `structured_ntk` (``"auto"``, True, False)."""

    name: ClassVar[str] = "structured"
    block_size: int | None = eqx.field(default=None, static=True)
    fast_path: str | bool = eqx.field(default="auto", static=True)

    def __check_init__(self):
        _check_block(self.block_size, "Structured")
        if self.fast_path not in ("auto", True, False):
            raise ValueError(
                f"Structured: fast_path must be 'auto', True or False; got {self.fast_path!r}"
            )


class Layered(AbstractNTKMethod):
    """The layer-structured NTK of dense layers (``"layered"``, see `layered_ntk`)."""

    name: ClassVar[str] = "layered"
    block_size: int | None = eqx.field(default=None, static=True)

    def __check_init__(self):
        _check_block(self.block_size, "Layered")


_BY_NAME = {c.name: c for c in (Auto, Jacrev, Jacfwd, NTVP, Structured, Layered)}


def resolve_method(method: Any, block_size: Any, where: str) -> tuple[str, Any, dict]:
    """``(name, block_size, extra knobs)`` from a method string or module and the entry
    point's own ``block_size``; a knob given twice is a ``ValueError``."""
    if isinstance(method, str):
        if method not in _BY_NAME:
            raise ValueError(f"{where}: method must be one of {list(_BY_NAME)}; got {method!r}")
        return method, block_size, {}
    if not isinstance(method, AbstractNTKMethod):
        raise TypeError(
            f"{where}: method must be a name ({', '.join(_BY_NAME)}) or a method module "
            f"(Jacrev(), Layered(block_size=...), ...); got {type(method).__name__}"
        )
    if method.block_size is not None and block_size is not None:
        raise ValueError(
            f"{where}: block_size is given twice (block_size={block_size!r} and "
            f"{type(method).__name__}(block_size={method.block_size!r})); give it once"
        )
    extra = {"fast_path": method.fast_path} if isinstance(method, Structured) else {}
    return method.name, block_size if method.block_size is None else method.block_size, extra
