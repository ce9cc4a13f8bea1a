"""The contract between report sections and the report driver.

A section module defines ``TITLE`` and ``run(ctx: SectionContext) -> SectionResult``.
It measures, makes its figures under ``ctx.out_dir``, and returns one `Claim` per
claim of the seeds it checks: the paper's statement/value beside ours and a verdict.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Claim", "SectionContext", "SectionResult"]


@dataclass
class Claim:
    """One checked statement.

    ``verdict`` is ``"reproduced"``, ``"differs"`` or ``"partial"``; ``why`` explains a
    difference (or how the check was made)."""

    source: str  # e.g. "2306.17301 slides, Table 1"
    claim: str  # the seed's statement
    paper: str  # the paper's value, as text
    ours: str  # our measured value, as text
    verdict: str
    why: str = ""


@dataclass
class SectionContext:
    out_dir: Path  # where figures go (PNG)
    full: bool = False  # the papers' sizes (for a GPU) instead of the CPU defaults
    progress: Callable[[str], None] = lambda msg: None


@dataclass
class SectionResult:
    claims: list[Claim]
    figures: list[str] = field(default_factory=list)  # file names relative to out_dir
    tables: list[str] = field(default_factory=list)  # markdown tables
    data: dict[str, Any] = field(default_factory=dict)  # numbers for --json
