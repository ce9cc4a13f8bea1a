"""Radon-spline coordinates of shallow networks, kernel vs adaptive regime, breakplane
clustering, and the seed's data sets.

References: arXiv 2503.10587.
"""

from ._cluster import breakplane_distances, cluster_count, zero_plane_similarity
from ._coords import RadonCoordinates, breakplanes, from_radon, to_radon
from ._data import available_datasets, load_dataset
from ._regimes import (
    AdaptiveTrajectory,
    kernel_gradient_descent,
    kernel_min_norm_fit,
    train_adaptive,
)

__all__ = [
    "RadonCoordinates",
    "to_radon",
    "from_radon",
    "breakplanes",
    "kernel_min_norm_fit",
    "kernel_gradient_descent",
    "AdaptiveTrajectory",
    "train_adaptive",
    "breakplane_distances",
    "zero_plane_similarity",
    "cluster_count",
    "load_dataset",
    "available_datasets",
]
