"""Quadrature rules (nodes and weights) on intervals, boxes and balls."""

from ._rule import QuadratureRule
from ._rules import ball_rule, composite_gauss, estimate_error, gauss_legendre, qmc_rule

__all__ = [
    "QuadratureRule",
    "gauss_legendre",
    "composite_gauss",
    "ball_rule",
    "qmc_rule",
    "estimate_error",
]
