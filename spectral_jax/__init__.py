r"""spectral_jax: numerical analysis of neural networks through their spectra.

Gram kernels of shallow networks by (exact) quadrature, their spectra and the
finite-precision "low-pass filter"; least squares against finite elements; neural
tangent kernels; gradient-flow dynamics tracked mode by mode; the spectral penalty of
an activation and activations designed from a desired penalty.

The library never changes JAX's x64 mode: turn it on yourself for float64.
"""

from importlib.metadata import PackageNotFoundError, version

from . import (
    activations,
    design,
    domains,
    dynamics,
    fit,
    gram,
    networks,
    ntk,
    quadrature,
    radon,
    rashomon,
    spectrum,
    targets,
)
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

try:
    __version__ = version("spectral-jax")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

# Each name once: a sub-package may re-export a name of another (ntk re-exports
# networks' trainable_spec); the first listing wins, and the test suite checks that
# every name resolves and that a name never stands for two different objects.
__all__ = list(
    dict.fromkeys(
        [
            "__version__",
            "default_dtype",
            "device_mesh",
            "machine_epsilon",
            "resolve_dtype",
            "x64_enabled",
            *activations.__all__,
            *domains.__all__,
            *quadrature.__all__,
            *networks.__all__,
            *gram.__all__,
            *spectrum.__all__,
            *fit.__all__,
            *rashomon.__all__,
            *ntk.__all__,
            *dynamics.__all__,
            *design.__all__,
            *radon.__all__,
            *targets.__all__,
        ]
    )
)


def __getattr__(name: str):
    if name == "SpectrumResult":  # deprecated name of ActivationSpectrum
        return design.__getattr__(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
