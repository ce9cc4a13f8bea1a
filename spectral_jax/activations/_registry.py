"""Look activations up by name (used by the command line and saved files)."""

from __future__ import annotations

import re
from collections.abc import Callable

from ._base import AbstractActivation
from ._builtin import (
    GELU,
    Cauchy,
    Gaussian,
    LeakyReLU,
    ReLU,
    ReLUPower,
    Sigmoid,
    Sine,
    Softplus,
    Tanh,
)

__all__ = ["get_activation", "available_activations", "register_activation"]

_FACTORIES: dict[str, Callable[..., AbstractActivation]] = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "tanh": Tanh,
    "sigmoid": Sigmoid,
    "logistic": Sigmoid,
    "softplus": Softplus,
    "gelu": GELU,
    "sine": Sine,
    "sin": Sine,
    "gaussian": Gaussian,
    "cauchy": Cauchy,
}
_POWER = re.compile(r"^relu(?:\^|_?)(\d+)$")
#: largest ReLU power by name (|F|^2 involves (p!)^2, which overflows a float near p = 170)
_MAX_POWER = 32


def available_activations() -> list[str]:
    """Names accepted by `get_activation` (``reluP`` stands for any integer power)."""
    return sorted(set(_FACTORIES) | {"reluP (e.g. relu2, relu^3)"})


_BUILTIN = frozenset(_FACTORIES)


class _Fixed:
    """The factory of a registered instance (it takes no parameters)."""

    def __init__(self, act: AbstractActivation, name: str):
        self.act, self.name = act, name

    def __call__(self, **params: object) -> AbstractActivation:
        if params:
            raise TypeError(
                f"get_activation: {self.name!r} is a registered instance; it takes no "
                f"parameters (got {sorted(params)})"
            )
        return self.act


def register_activation(
    name: str, factory: Callable[..., AbstractActivation], *, overwrite: bool = False
) -> None:
    """Make ``factory`` available to `get_activation` under ``name`` (case-insensitive).

    ``factory(**params)`` must return an `AbstractActivation` (a subclass, or a function
    returning an instance); `get_activation` checks what it returns. An activation
    instance (e.g. ``design_activation(...).activation``) may be passed as it is.

    **Arguments:**

    - `name`: a non-empty name without ``:`` or surrounding spaces; the ReLU-power names
      ``reluP``/``relu^P`` are reserved.
    - `factory`: the callable, or an activation instance.
    - `overwrite`: replace an existing name, built-in (``relu``, ``tanh``...) or
      registered. Without it an existing name is refused: a replaced built-in changes
      every later lookup in the process.

    **Raises:** ``ValueError`` for a bad or reserved name, or an existing one without
    ``overwrite=True``; ``TypeError`` for a factory that is not callable or a class that is
    not an `AbstractActivation`.
    """
    where = "register_activation"
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{where}: name must be a non-empty string; got {name!r}")
    if name != name.strip() or ":" in name:
        raise ValueError(f"{where}: name must not contain ':' or surrounding spaces; got {name!r}")
    key = name.lower()
    if _POWER.match(key):
        raise ValueError(
            f"{where}: {name!r} is reserved for the ReLU powers (relu2, relu^3, ...); "
            "choose another name"
        )
    if isinstance(factory, AbstractActivation):  # an instance: looked up as it is
        factory = _Fixed(factory, key)
    if not callable(factory):
        raise TypeError(f"{where}: factory must be callable; got {type(factory).__name__}")
    if isinstance(factory, type) and not issubclass(factory, AbstractActivation):
        raise TypeError(
            f"{where}: factory {factory.__name__} is not an AbstractActivation subclass"
        )
    if key in _FACTORIES and not overwrite:
        kind = "a built-in activation" if key in _BUILTIN else "already registered"
        raise ValueError(
            f"{where}: {name!r} is {kind}; pass overwrite=True to replace it (for the whole "
            "process) or choose another name"
        )
    _FACTORIES[key] = factory


def get_activation(name: str | AbstractActivation, **params: object) -> AbstractActivation:
    """Return the activation called ``name``; an `AbstractActivation` is passed through.

    Names: ``relu``, ``reluP``/``relu^P`` (integer power ``P >= 1``), ``leaky_relu``
    (``slope=``), ``tanh``, ``sigmoid``/``logistic``, ``softplus``, ``gelu``,
    ``sine``, ``gaussian``, ``cauchy``, and any registered with `register_activation`.
    ``leaky_relu:0.1`` sets the slope inline.

    **Raises:** ``ValueError`` naming the known activations for an unknown name, or for a
    ReLU power outside [1, 32]; ``TypeError`` when a registered factory returns something
    that is not an `AbstractActivation`.
    """
    if isinstance(name, AbstractActivation):
        return name
    if not isinstance(name, str):
        raise TypeError(f"get_activation: name must be a string; got {type(name).__name__}")
    key = name.strip().lower()
    if ":" in key:
        key, _, arg = key.partition(":")
        if key == "leaky_relu":
            try:
                params = {**params, "slope": float(arg)}
            except ValueError as err:
                raise ValueError(f"get_activation: bad leaky_relu slope {arg!r}") from err
    m = _POWER.match(key)
    if m:
        digits = m.group(1)
        p = int(digits) if len(digits) <= 6 else _MAX_POWER + 1
        if not 1 <= p <= _MAX_POWER:
            raise ValueError(
                f"get_activation: ReLU power must be an integer in [1, {_MAX_POWER}]; got "
                f"{name if len(name) <= 40 else name[:37] + '...'!r}"
            )
        return ReLU() if p == 1 else ReLUPower(p)
    if key not in _FACTORIES:
        raise ValueError(
            f"get_activation: unknown activation {name!r}; known: "
            + ", ".join(available_activations())
        )
    act = _FACTORIES[key](**params)
    if not isinstance(act, AbstractActivation):
        raise TypeError(
            f"get_activation: the factory registered as {key!r} returned "
            f"{type(act).__name__}, not an AbstractActivation"
        )
    return act
