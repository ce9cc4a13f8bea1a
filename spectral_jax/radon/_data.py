r"""Data sets of seed 002, defined reproducibly: 1D/2D bumps, ring Fourier, and a small real
data set shipped by an installed package (no download): the Jacksboro fault digital
elevation model that matplotlib ships as sample data (``terrain``)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .._checks import check_positive_int
from .._precision import resolve_dtype
from .._types import Array, Float

__all__ = ["load_dataset", "available_datasets"]

_SYNTHETIC = {"bumps": 1, "bumps2d": 2, "ring_fourier": 2}


def available_datasets() -> list[str]:
    return sorted([*_SYNTHETIC, "terrain"])


def load_dataset(
    name: str, n: int = 32, *, dtype=None
) -> tuple[Float[Array, "m d"], Float[Array, " m"]]:
    r"""Inputs on $[-1, 1]^d$ and targets of a named data set.

    - ``bumps`` ($d=1$, ``n`` evenly spaced points), ``bumps2d``, ``ring_fourier``
      ($d = 2$, an ``n x n`` grid): the targets of `spectral_jax.targets`.
    - ``terrain`` ($d = 2$): the Jacksboro fault elevation model shipped with matplotlib
      (``mpl-data/sample_data/jacksboro_fault_dem.npz``, 344 x 403 samples), block-averaged
      to an ``n x n`` grid, coordinates rescaled to $[-1, 1]^2$ and elevations standardised
      (zero mean, unit variance).

    **Raises:** ``ValueError`` for an unknown name or a bad ``n``."""
    where = "load_dataset"
    n = check_positive_int(n, "n", where)
    dt = resolve_dtype(dtype, where)
    if name in _SYNTHETIC:
        from ..targets import get_target

        d = _SYNTHETIC[name]
        t = np.linspace(-1.0, 1.0, n)
        x = (
            t[:, None]
            if d == 1
            else np.stack([g.ravel() for g in np.meshgrid(t, t, indexing="ij")], axis=1)
        )
        x = jnp.asarray(x, dt)
        return x, get_target(name)(x)
    if name == "terrain":
        import matplotlib.cbook as cbook

        z = np.asarray(cbook.get_sample_data("jacksboro_fault_dem.npz")["elevation"], np.float64)
        if n > min(z.shape):
            raise ValueError(
                f"{where}: terrain has {z.shape} samples; n must be <= {min(z.shape)}; got {n}"
            )
        bi = np.array_split(np.arange(z.shape[0]), n)
        bj = np.array_split(np.arange(z.shape[1]), n)
        grid = np.array([[z[np.ix_(a, b)].mean() for b in bj] for a in bi])
        grid = (grid - grid.mean()) / grid.std()
        t = np.linspace(-1.0, 1.0, n)
        x = np.stack([g.ravel() for g in np.meshgrid(t, t, indexing="ij")], axis=1)
        return jnp.asarray(x, dt), jnp.asarray(grid.ravel(), dt)
    raise ValueError(f"{where}: unknown data set {name!r}; known: {available_datasets()}")
