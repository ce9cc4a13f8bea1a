r"""spectral_jax: numerical analysis of neural networks through their spectra.

Gram kernels of shallow networks by (exact) quadrature, their spectra and the
finite-precision "low-pass filter"; least squares against finite elements; neural
tangent kernels; gradient-flow dynamics tracked mode by mode; the spectral penalty of
an activation and activations designed from a desired penalty.

The library never changes JAX's x64 mode: turn it on yourself for float64.

The subpackages are imported on first use (PEP 562): ``import spectral_jax`` is instant
(the command line parses its arguments and answers ``--help`` without importing JAX),
``spectral_jax.gram_matrix`` or ``from spectral_jax import gram_matrix`` imports the
library, and ``from spectral_jax import *`` binds every public name, as before.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("spectral-jax")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

#: subpackages whose public names the package re-exports, in the order of the star
#: imports this replaces (a later one wins a name)
_SUBPACKAGES = (
    "activations",
    "design",
    "domains",
    "dynamics",
    "fit",
    "gram",
    "networks",
    "ntk",
    "quadrature",
    "radon",
    "rashomon",
    "spectrum",
    "targets",
)
#: public names of the base modules
_BASE = {
    "default_dtype": "_precision",
    "machine_epsilon": "_precision",
    "resolve_dtype": "_precision",
    "x64_enabled": "_precision",
    "device_mesh": "_sharding",
}

if TYPE_CHECKING:  # type checkers and documentation tools read the eager form
    # (the subpackages themselves resolve as submodules)
    from ._precision import default_dtype as default_dtype
    from ._precision import machine_epsilon as machine_epsilon
    from ._precision import resolve_dtype as resolve_dtype
    from ._precision import x64_enabled as x64_enabled
    from ._sharding import device_mesh as device_mesh
    from .activations import *  # noqa: F403
    from .design import *  # noqa: F403
    from .domains import *  # noqa: F403
    from .dynamics import *  # noqa: F403
    from .fit import *  # noqa: F403
    from .gram import *  # noqa: F403
    from .networks import *  # noqa: F403
    from .ntk import *  # noqa: F403
    from .quadrature import *  # noqa: F403
    from .radon import *  # noqa: F403
    from .rashomon import *  # noqa: F403
    from .spectrum import *  # noqa: F403
    from .targets import *  # noqa: F403


#: the order of ``__all__`` (each name once: the first listing wins; a test checks that a
#: name never stands for two objects)
_LISTING = (
    "activations",
    "domains",
    "quadrature",
    "networks",
    "gram",
    "spectrum",
    "fit",
    "rashomon",
    "ntk",
    "dynamics",
    "design",
    "radon",
    "targets",
)


def _load() -> list[str]:
    """Import every subpackage and bind its public names here (once); returns
    ``__all__``."""
    g = globals()
    if "__all__" in g:
        return g["__all__"]
    for attr, mod in _BASE.items():
        g[attr] = getattr(importlib.import_module(f".{mod}", __name__), attr)
    mods = {sub: importlib.import_module(f".{sub}", __name__) for sub in _SUBPACKAGES}
    for sub in _SUBPACKAGES:  # the star imports' order
        for attr in mods[sub].__all__:
            g[attr] = getattr(mods[sub], attr)
    names = ["__version__", *_BASE, *(n for sub in _LISTING for n in mods[sub].__all__)]
    g["__all__"] = list(dict.fromkeys(names))
    return g["__all__"]


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    if name == "SpectrumResult":  # deprecated name of ActivationSpectrum
        return importlib.import_module(".design", __name__).__getattr__(name)
    if name.startswith("__") and name != "__all__":  # e.g. __wrapped__, asked by tools
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    _load()
    try:
        return globals()[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_load()))
