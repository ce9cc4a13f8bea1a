"""How messages call the arguments: the API's names, or a front end's option names.

The library's one-line errors name the argument at fault (``gram_matrix: width 90000
...``). A front end that passes its own options through to the library (the command
line's ``--width``) wraps the call in `argument_names`, and the same messages then name
its options (``spectral: --width 90000 ...``). The names live in a context variable, so
nested and concurrent calls (threads, asyncio tasks) each see their own.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

__all__ = ["argument_names", "argname", "option"]

#: how arguments are called in messages (``{"width": "--width", ...}``); unset: the
#: API's own names
_NAMES: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "spectral_jax_names", default=None
)


@contextlib.contextmanager
def argument_names(**names: str) -> Iterator[None]:
    """Within the block, messages call the arguments by these names (the command line
    passes its option names, e.g. ``width="--width"``; ``where="fit"`` names the caller).
    Blocks nest: an inner block adds to (and may override) the outer names."""
    token = _NAMES.set({**(_NAMES.get() or {}), **names})
    try:
        yield
    finally:
        _NAMES.reset(token)


def argname(name: str, default: str | None = None) -> str:
    """The name of argument ``name`` in messages (see `argument_names`); ``default``
    (else ``name``) when none is set. ``argname("where", where)`` names the caller."""
    return (_NAMES.get() or {}).get(name, name if default is None else default)


def option(name: str, value) -> str:
    """``--dtype float32`` for an option, ``dtype='float32'`` for an API argument."""
    n = argname(name)
    return f"{n} {value}" if n.startswith("-") else f"{n}={value!r}"
