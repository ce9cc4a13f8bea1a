"""``spectral-jax report``: the main job — reproduce the seeds' results into a report."""

from __future__ import annotations

import argparse

from ._common import CommandResult, format_table

NAME = "report"
HELP = "reproduce the papers' results into a report (Markdown + HTML + PNG + JSON)"
DESCRIPTION = (
    "Runs every section (spectra, eigenfunctions, approximation, rashomon, dynamics, ntk, "
    "design) on its "
    "built-in defaults (a few minutes on a 2-core CPU) and writes a self-contained report "
    "with, for every claim of the seeds, our measured value beside the paper's and a "
    "verdict. A failed section is reported and makes the exit status 1; the others still "
    "run. --out must be a new folder (its parent must exist), an empty folder, or the "
    "folder of an earlier report: the report marks its folder with a manifest "
    "(.spectral_jax_report.json) and only ever replaces the files listed there; any other "
    "non-empty folder, or a file, is refused before anything runs. The report is built in "
    "a temporary folder and put in place when complete, so an interrupted run leaves the "
    "earlier report as it was."
)


#: the report's sections, in order (``spectral_jax.report.SECTIONS``; listed here so that
#: parsing imports no library module; a test checks they agree)
SECTIONS = ("spectra", "eigenfunctions", "approximation", "rashomon", "dynamics", "ntk", "design")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--out",
        default="spectral_jax_report",
        help="output folder: new, empty, or an earlier report's (never another folder)",
    )
    p.add_argument(
        "--only",
        action="append",
        choices=list(SECTIONS),
        metavar="TOPIC",
        help=f"run only this section (repeatable); one of {', '.join(SECTIONS)}",
    )
    p.add_argument("--full", action="store_true", help="the papers' sizes (meant for a GPU)")


def _section_progress(topics: list[str], enabled: bool):
    """A status line over the sections, fed by the report's messages: ``[i/N] topic ...``
    starts section i, ``    topic: stage`` names its stage, and the section's last line
    (``... done in``/``FAILED``) is kept as a permanent line."""
    import re

    from .._progress import Progress

    bar = Progress(len(topics), "report", enabled=enabled)
    start = re.compile(r"\[(\d+)/\d+\] (\S+) \.\.\.$")

    def say(message: str) -> None:
        m = start.match(message)
        if m:
            bar.update(int(m.group(1)) - 1, note=m.group(2))
        elif message.startswith(" "):
            topic, _, stage = message.strip().partition(": ")
            bar.set_note(f"{topic}: {stage}" if stage else topic)
        else:
            bar.log(message)
            if re.match(r"\[(\d+)/\d+\]", message):
                bar.update(int(message[1 : message.index("/")]))

    return bar, say


def run(args: argparse.Namespace) -> CommandResult:
    from ..report import run_report

    topics = list(dict.fromkeys(args.only)) if args.only else list(SECTIONS)
    bar, say = _section_progress(topics, enabled=not args.quiet)
    try:
        summary = run_report(args.out, only=args.only, full=args.full, progress=say, arg="--out")
    finally:
        bar.close()
    rows = [[t, c.claim[:60], c.paper[:28], c.ours[:28], c.verdict] for t, c in summary.claims]
    text = format_table(["section", "claim", "paper", "ours", "verdict"], rows, title="Verdicts")
    counts: dict[str, int] = {}
    for _, c in summary.claims:
        counts[c.verdict] = counts.get(c.verdict, 0) + 1
    text += "\n\n" + ", ".join(f"{v}: {n}" for v, n in sorted(counts.items()))
    if summary.failed:
        text += f"\nFAILED sections: {', '.join(summary.failed)}"
    text += f"\nreport written to {summary.out_dir}/report.html (and report.md, report.json)"
    data = {
        "out_dir": str(summary.out_dir),
        "failed_sections": summary.failed,
        "verdict_counts": counts,
        "claims": [{"section": t, **c.__dict__} for t, c in summary.claims],
    }
    timings = {f"{o.topic}_s": o.seconds for o in summary.outcomes}
    return CommandResult(data, text, exit_code=1 if summary.failed else 0, timings=timings)
