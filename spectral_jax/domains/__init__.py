"""Integration domains: interval, box and ball."""

from ._domains import AbstractDomain, Ball, Box, Interval, as_domain

__all__ = ["AbstractDomain", "Interval", "Box", "Ball", "as_domain"]
