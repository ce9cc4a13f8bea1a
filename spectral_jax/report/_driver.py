"""The reproduction report: run every section, collect claims and figures, write
Markdown + self-contained HTML + JSON atomically."""

from __future__ import annotations

import base64
import html
import importlib
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ._section import Claim, SectionContext, SectionResult

__all__ = ["SECTIONS", "run_report", "ReportSummary", "SectionOutcome"]

#: topic -> module under spectral_jax.report (run in this order)
SECTIONS: dict[str, str] = {
    "spectra": "_spectra",
    "approximation": "_approximation",
    "rashomon": "_rashomon",
    "dynamics": "_dynamics",
    "ntk": "_ntk",
    "design": "_design",
}


@dataclass
class SectionOutcome:
    topic: str
    title: str
    ok: bool
    seconds: float
    result: SectionResult | None = None
    error: str = ""


@dataclass
class ReportSummary:
    out_dir: Path
    outcomes: list[SectionOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[str]:
        return [o.topic for o in self.outcomes if not o.ok]

    @property
    def claims(self) -> list[tuple[str, Claim]]:
        return [(o.topic, c) for o in self.outcomes if o.result for c in o.result.claims]


def _md_table_to_html(md: str) -> str:
    rows = [r.strip() for r in md.strip().splitlines() if r.strip().startswith("|")]
    rows = [r for r in rows if not set(r.replace("|", "").strip()) <= set("-: ")]
    if not rows:
        return f"<pre>{html.escape(md)}</pre>"
    cells = [[html.escape(c.strip()) for c in r.strip("|").split("|")] for r in rows]
    head = "".join(f"<th>{c}</th>" for c in cells[0])
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in cells[1:])
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _claims_md(claims: Sequence[tuple[str, Claim]]) -> str:
    lines = [
        "| section | source | claim | paper | ours | verdict | why |",
        "|---|---|---|---|---|---|---|",
    ]
    for topic, c in claims:
        cells = [topic, c.source, c.claim, c.paper, c.ours, f"**{c.verdict}**", c.why]
        lines.append("| " + " | ".join(str(x).replace("|", "/").replace("\n", " ") for x in cells) + " |")
    return "\n".join(lines)


def _write(summary: ReportSummary, tmp: Path, full: bool) -> None:
    now = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    md = [
        "# spectral_jax reproduction report",
        "",
        f"Generated {now}; sizes: {'full (papers)' if full else 'default (CPU)'}.",
        "",
        "## Verdicts",
        "",
        _claims_md(summary.claims),
        "",
    ]
    h = [
        "<!doctype html><html><head><meta charset='utf-8'><title>spectral_jax report</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em}"
        "table{border-collapse:collapse;margin:1em 0;font-size:90%}td,th{border:1px solid #ccc;"
        "padding:3px 6px}img{max-width:100%}.fail{color:#b00}</style></head><body>",
        "<h1>spectral_jax reproduction report</h1>",
        f"<p>Generated {now}; sizes: {'full (papers)' if full else 'default (CPU)'}.</p>",
        "<h2>Verdicts</h2>",
        _md_table_to_html(_claims_md(summary.claims)),
    ]
    for o in summary.outcomes:
        md += [f"## {o.title}", "", f"_{o.seconds:.1f} s_", ""]
        h += [f"<h2>{html.escape(o.title)}</h2>", f"<p><i>{o.seconds:.1f} s</i></p>"]
        if not o.ok:
            md += ["**Section failed:**", "", "```", o.error, "```", ""]
            h += [f"<p class='fail'><b>Section failed:</b></p><pre>{html.escape(o.error)}</pre>"]
            continue
        res = o.result
        for t in res.tables:
            md += [t, ""]
            h.append(_md_table_to_html(t))
        for fig in res.figures:
            md += [f"![{fig}]({fig})", ""]
            p = tmp / fig
            if p.exists():
                b64 = base64.b64encode(p.read_bytes()).decode()
                h.append(f"<p><img alt='{html.escape(fig)}' src='data:image/png;base64,{b64}'></p>")
    h.append("</body></html>")
    (tmp / "report.md").write_text("\n".join(md))
    (tmp / "report.html").write_text("\n".join(h))
    data = {
        "full": full,
        "failed_sections": summary.failed,
        "sections": [
            {
                "topic": o.topic,
                "title": o.title,
                "ok": o.ok,
                "seconds": o.seconds,
                "error": o.error,
                "claims": [asdict(c) for c in (o.result.claims if o.result else [])],
                "figures": o.result.figures if o.result else [],
                "data": o.result.data if o.result else {},
            }
            for o in summary.outcomes
        ],
    }
    from ..commands._common import to_jsonable

    (tmp / "report.json").write_text(json.dumps(to_jsonable(data), indent=1))


def _replace_dir(tmp: Path, out: Path) -> None:
    """Atomically swap ``tmp`` into ``out``: a half-written report never replaces a good one."""
    if out.exists():
        old = out.with_name(out.name + f".old-{os.getpid()}")
        os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, out)


def run_report(
    out_dir: str | os.PathLike = "spectral_jax_report",
    *,
    only: Sequence[str] | None = None,
    full: bool = False,
    progress: Callable[[str], None] | None = None,
) -> ReportSummary:
    """Run the report sections and write ``report.md``, ``report.html`` (figures embedded)
    and ``report.json`` into ``out_dir``, replacing it atomically when complete.

    **Arguments:**
    - `out_dir`: output directory.
    - `only`: topics to run (default all of `SECTIONS`).
    - `full`: the papers' sizes (meant for a GPU) instead of the CPU defaults.
    - `progress`: called with a status line (default: print to stderr).

    A section that raises is recorded as failed (with its traceback) and the others run on.

    **Raises:** ``ValueError`` for an unknown topic in ``only``.
    """
    say = progress or (lambda m: print(m, file=sys.stderr, flush=True))
    topics = list(SECTIONS) if not only else list(only)
    unknown = [t for t in topics if t not in SECTIONS]
    if unknown:
        raise ValueError(f"run_report: unknown topic(s) {unknown}; known: {list(SECTIONS)}")
    out = Path(out_dir).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=out.name + ".tmp-", dir=out.parent))
    summary = ReportSummary(out)
    try:
        for i, topic in enumerate(topics, 1):
            say(f"[{i}/{len(topics)}] {topic} ...")
            t0 = time.perf_counter()
            title = topic
            try:
                mod = importlib.import_module(f"spectral_jax.report.{SECTIONS[topic]}")
                title = getattr(mod, "TITLE", topic)
                ctx = SectionContext(out_dir=tmp, full=full, progress=lambda m, t=topic: say(f"    {t}: {m}"))
                res = mod.run(ctx)
                summary.outcomes.append(SectionOutcome(topic, title, True, time.perf_counter() - t0, res))
                say(f"[{i}/{len(topics)}] {topic} done in {time.perf_counter() - t0:.1f} s "
                    f"({len(res.claims)} claims)")
            except Exception:  # a failed section is reported, the others still run
                err = traceback.format_exc(limit=8)
                summary.outcomes.append(SectionOutcome(topic, title, False, time.perf_counter() - t0, None, err))
                say(f"[{i}/{len(topics)}] {topic} FAILED ({err.strip().splitlines()[-1]})")
        _write(summary, tmp, full)
        _replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return summary
