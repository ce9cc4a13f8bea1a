"""Shape-annotated array aliases used across the public API (jaxtyping)."""

from __future__ import annotations

from jaxtyping import Array, ArrayLike, Float, Int, PRNGKeyArray

__all__ = ["Array", "ArrayLike", "Float", "Int", "PRNGKeyArray"]
