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


def available_activations() -> list[str]:
    """Names accepted by `get_activation` (``reluP`` stands for any integer power)."""
    return sorted(set(_FACTORIES) | {"reluP (e.g. relu2, relu^3)"})


def register_activation(name: str, factory: Callable[..., AbstractActivation]) -> None:
    """Make ``factory`` available under ``name`` (e.g. a designed activation)."""
    if not isinstance(name, str) or not name or not callable(factory):
        raise ValueError("register_activation: need a non-empty name and a callable factory")
    _FACTORIES[name.lower()] = factory


def get_activation(name: str | AbstractActivation, **params: object) -> AbstractActivation:
    """Return the activation called ``name``; an `AbstractActivation` is passed through.

    Names: ``relu``, ``reluP``/``relu^P`` (integer power ``P >= 1``), ``leaky_relu``
    (``slope=``), ``tanh``, ``sigmoid``/``logistic``, ``softplus``, ``gelu``,
    ``sine``, ``gaussian``, ``cauchy``, and any registered with `register_activation`.
    ``leaky_relu:0.1`` sets the slope inline.

    **Raises:** ``ValueError`` naming the known activations for an unknown name.
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
        p = int(m.group(1))
        if p < 1:
            raise ValueError(f"get_activation: ReLU power must be >= 1; got {name!r}")
        return ReLU() if p == 1 else ReLUPower(p)
    if key not in _FACTORIES:
        raise ValueError(
            f"get_activation: unknown activation {name!r}; known: "
            + ", ".join(available_activations())
        )
    return _FACTORIES[key](**params)
