"""The reproduction report (``spectral-jax report``): every seed claim, our measured
value beside the paper's, a verdict, and the figures."""

from ._driver import SECTIONS, ReportSummary, SectionOutcome, run_report
from ._section import Claim, SectionContext, SectionResult

__all__ = [
    "run_report",
    "SECTIONS",
    "ReportSummary",
    "SectionOutcome",
    "Claim",
    "SectionContext",
    "SectionResult",
]
