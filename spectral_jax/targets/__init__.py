"""Target functions of the seeds (by name or expression)."""

from ._functions import Target, available_targets, expression_target, get_target

__all__ = ["Target", "get_target", "available_targets", "expression_target"]
