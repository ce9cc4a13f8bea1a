"""The reproduction report: run every section, collect claims and figures, write
Markdown + self-contained HTML + JSON atomically.

Output rule (checked before any section runs): the report is written to a new folder, an
empty folder, or the folder of a previous report, which it marks with a manifest
(``.spectral_jax_report.json``, the files it wrote). It only ever replaces or removes the
files a manifest lists; any other non-empty folder, or a file, is refused."""

from __future__ import annotations

import base64
import contextlib
import html
import importlib
import importlib.util
import json
import os
import shutil
import socket
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

from .._files import OutputPathError, atomic_write, current_umask
from ._section import Claim, SectionContext, SectionResult

__all__ = [
    "SECTIONS",
    "MANIFEST",
    "run_report",
    "check_report_dir",
    "ReportSummary",
    "SectionOutcome",
]

#: topic -> module under spectral_jax.report (run in this order)
SECTIONS: dict[str, str] = {
    "spectra": "_spectra",
    "eigenfunctions": "_eigenfunctions",
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


_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:1400px;margin:auto;padding:1em;"
    "line-height:1.4}"
    ".table-wrap{overflow-x:auto;margin:1em 0}"
    "table{border-collapse:collapse;font-size:90%}"
    "td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top;text-align:left}"
    "td{overflow-wrap:break-word}"
    "img{max-width:100%}pre{overflow-x:auto;background:#f6f6f6;padding:.5em}"
    ".fail{color:#b00}"
)


def _cell(text: object) -> str:
    """A Markdown table cell that renders as the text: ``|``, ``*`` and ``[`` escaped
    (``n*eps`` is not emphasis, ``F[phi](k)`` not a link), ``<`` as an entity (no raw
    HTML), on one line."""
    s = str(text).replace("\\|", "|").replace("\n", " ")
    s = s.replace("|", "\\|").replace("*", "\\*").replace("[", "\\[")
    return s.replace("<", "&lt;")


def _claims_md(claims: Sequence[tuple[str, Claim]]) -> str:
    lines = [
        "| section | verdict | claim | paper | ours | why | source |",
        "|---|---|---|---|---|---|---|",
    ]
    for topic, c in claims:  # the verdict second: visible without scrolling a wide table
        cells = [_cell(x) for x in (topic, c.verdict, c.claim, c.paper, c.ours, c.why, c.source)]
        cells[1] = f"**{cells[1]}**"
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown_available() -> bool:
    """Whether Python-Markdown (which renders ``report.html``) is importable."""
    return importlib.util.find_spec("markdown") is not None


def render_html(md: str, title: str, figures: dict[str, bytes]) -> str:
    """A self-contained HTML page from the report's Markdown: Python-Markdown with the
    ``tables`` and ``fenced_code`` extensions; each figure named in `figures` (a PNG file
    name relative to the report) is embedded as a ``data:`` URI; tables scroll sideways
    instead of being cut off."""
    import markdown

    body = markdown.markdown(md, extensions=["tables", "fenced_code"], output_format="html")
    body = body.replace("<table>", "<div class='table-wrap'><table>").replace(
        "</table>", "</table></div>"
    )
    for name, data in figures.items():
        uri = "data:image/png;base64," + base64.b64encode(data).decode()
        body = body.replace(f'src="{html.escape(name, quote=True)}"', f'src="{uri}"')
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width'><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style></head><body>\n{body}\n</body></html>\n"
    )


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
    figures: dict[str, bytes] = {}
    for o in summary.outcomes:
        md += [f"## {o.title}", "", f"_{o.seconds:.1f} s_", ""]
        if not o.ok:
            md += ["**Section failed:**", "", "```", o.error, "```", ""]
            continue
        res = o.result
        for t in res.tables:
            md += [t, ""]
        for fig in res.figures:
            md += [f"![{fig}]({fig})", ""]
            p = tmp / fig
            if p.exists() and p.suffix.lower() == ".png":
                figures[fig] = p.read_bytes()
    text = "\n".join(md)
    (tmp / "report.md").write_text(text)
    (tmp / "report.html").write_text(render_html(text, "spectral_jax report", figures))
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
    from .._serialize import to_jsonable

    (tmp / "report.json").write_text(json.dumps(to_jsonable(data), indent=1))


#: the manifest a report folder carries: which files the report wrote (and nothing else is
#: ever removed or replaced there)
MANIFEST = ".spectral_jax_report.json"
_TOOL = "spectral-jax report"
#: the marker inside a temporary folder of ours: {"pid": ..., "host": ...}
_TMP_MARK = ".spectral_jax_report_tmp"
#: temporary folder built inside an existing output folder
_INNER_TMP = ".spectral_jax_report.tmp-"
#: the files every report writes (besides the sections' figures)
_FIXED = ("report.md", "report.html", "report.json")


def _safe_rel(name: object) -> bool:
    """A manifest entry we would act on: a plain relative path inside the folder."""
    if not isinstance(name, str) or not name or "\x00" in name or "\\" in name:
        return False
    parts = PurePosixPath(name).parts
    return not PurePosixPath(name).is_absolute() and ".." not in parts and parts[0] != MANIFEST


def _read_manifest(out: Path, arg: str, shown: str | None = None) -> list[str] | None:
    """The files a previous report in ``out`` wrote, or ``None`` when ``out`` has no manifest.

    **Raises:** `OutputPathError` for a manifest that cannot be read or trusted."""
    m = out / MANIFEST
    if not os.path.lexists(m):
        return None
    try:
        data = json.loads(m.read_text()) if m.is_file() and not m.is_symlink() else None
        files = data.get("files") if isinstance(data, dict) and data.get("tool") == _TOOL else None
    except (OSError, ValueError):
        files = None
    if not isinstance(files, list) or not all(_safe_rel(f) for f in files):
        raise OutputPathError(
            f"{arg}: {shown or str(out)!r} has an unreadable report manifest {MANIFEST}; choose an "
            "empty or new folder"
        )
    return list(files)


def _write_manifest(folder: Path, files: Sequence[str]) -> None:
    from .. import __version__

    data = {
        "tool": _TOOL,
        "version": __version__,
        "written": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "files": sorted(files),
        "note": "spectral-jax report replaces or removes only the files listed here",
    }
    atomic_write(folder / MANIFEST, lambda fh: fh.write(json.dumps(data, indent=1)), binary=False)


def _is_our_tmp(path: Path, prefix: str) -> bool:
    return (
        path.name.startswith(prefix)
        and path.is_dir()
        and not path.is_symlink()
        and (path / _TMP_MARK).is_file()
    )


def _is_stale(path: Path) -> bool:
    """A temporary folder of ours whose run (on this host) is gone."""
    try:
        mark = json.loads((path / _TMP_MARK).read_text())
        pid, host = int(mark["pid"]), str(mark["host"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if host != socket.gethostname() or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive (another user's process)
        return False
    return False


def _remove_stale(folder: Path, prefix: str) -> None:
    """Remove temporary folders of ours left in ``folder`` by a killed run (marker and a dead
    pid required: nothing else is touched)."""
    with contextlib.suppress(OSError):
        for entry in folder.iterdir():
            if _is_our_tmp(entry, prefix) and _is_stale(entry):
                shutil.rmtree(entry, ignore_errors=True)


def check_report_dir(out_dir: str | os.PathLike, *, arg: str = "run_report: out_dir") -> Path:
    """Check, before any work, that a report may be written to the folder ``out_dir``.

    The rule: a report is written to a new folder, an empty folder, or the folder of a
    previous report (which carries the manifest ``.spectral_jax_report.json``); it never
    removes or replaces a file it did not write. Any other non-empty folder, a file, an
    empty path, a missing or non-writable parent folder are refused.

    **Returns:** the folder as an absolute path (symbolic links kept).

    **Raises:** `OutputPathError` (a ``ValueError``) naming
    ``arg``; ``TypeError`` when ``out_dir`` is not a path.
    """
    if not isinstance(out_dir, (str, os.PathLike)):
        raise TypeError(f"{arg}: expected a folder path; got {type(out_dir).__name__}")
    text = os.fspath(out_dir)
    text = os.fsdecode(text) if isinstance(text, bytes) else text
    if not text.strip():
        raise OutputPathError(
            f"{arg}: expected a folder path; got {'a blank' if text else 'an empty'} string"
        )
    if "\x00" in text:
        raise OutputPathError(f"{arg}: the path contains a NUL character")
    out = Path(os.path.abspath(Path(text).expanduser()))
    if os.path.lexists(out):
        if not out.is_dir():
            raise OutputPathError(
                f"{arg}: {text!r} exists and is not a folder; a report never replaces a file "
                "(choose an empty or new folder)"
            )
        try:
            entries = [e for e in out.iterdir() if not _is_our_tmp(e, _INNER_TMP)]
        except OSError as err:
            raise OutputPathError(
                f"{arg}: cannot read the folder {text!r} ({err.strerror})"
            ) from None
        listed = _read_manifest(out, arg, text)
        if entries and listed is None:
            raise OutputPathError(
                f"{arg}: the folder {text!r} is not empty and holds no previous report "
                f"(no {MANIFEST}); choose an empty or new folder"
            )
        for name in _FIXED:
            if listed is not None and name not in listed and os.path.lexists(out / name):
                raise OutputPathError(
                    f"{arg}: {os.path.join(text, name)!r} was not written by spectral-jax "
                    "report; move it away or choose an empty or new folder"
                )
        if not os.access(out, os.W_OK | os.X_OK):
            raise OutputPathError(f"{arg}: the folder {text!r} is not writable")
        return out
    parent = out.parent
    shown = os.path.dirname(text.rstrip(os.sep)) or str(parent)  # as the user wrote it
    if not parent.exists():
        raise OutputPathError(f"{arg}: the folder {shown!r} does not exist (create it first)")
    if not parent.is_dir():
        raise OutputPathError(f"{arg}: {shown!r} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputPathError(f"{arg}: the folder {shown!r} is not writable")
    return out


def _make_tmp(out: Path, arg: str) -> Path:
    """The temporary folder the report is built in: inside ``out`` when it exists (same file
    system as its files), else beside it. Marked as ours; permissions follow the umask."""
    where, prefix = (out, _INNER_TMP) if out.is_dir() else (out.parent, out.name + ".tmp-")
    try:
        tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=where))
    except OSError as err:
        raise OutputPathError(
            f"{arg}: cannot create a folder in {str(where)!r} ({err.strerror or err})"
        ) from None
    try:
        os.chmod(tmp, 0o777 & ~current_umask())
        (tmp / _TMP_MARK).write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname()}))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _remove_stale(where, prefix)
    return tmp


def _files_in(folder: Path) -> list[str]:
    """Every file under ``folder`` (relative POSIX paths), our marker excluded."""
    found = []
    for root, _dirs, files in os.walk(folder):
        for f in files:
            rel = (Path(root) / f).relative_to(folder).as_posix()
            if rel not in (_TMP_MARK, MANIFEST):
                found.append(rel)
    return sorted(found)


def _remove_listed(out: Path, rel: str) -> None:
    """Remove a file an earlier report wrote, if it is still a plain file inside ``out``."""
    p = out / rel
    real_out = os.path.realpath(out)
    if p.is_file() and not p.is_symlink() and os.path.realpath(p).startswith(real_out + os.sep):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def _commit(tmp: Path, out: Path, arg: str) -> None:
    """Put the finished report in ``tmp`` in place at ``out``.

    A new folder is renamed into place in one step. An existing folder (empty, or a previous
    report) gets the new files one atomic rename each; the files the previous report listed
    and this one did not write are removed; anything else there is kept. The manifest always
    lists every file of ours in the folder, so an interruption never orphans one."""
    new = _files_in(tmp)
    if tmp.parent != out:  # built beside: `out` did not exist
        os.unlink(tmp / _TMP_MARK)
        _write_manifest(tmp, new)
        try:
            os.replace(tmp, out)  # fails (and removes nothing) if `out` appeared, not empty
        except OSError as err:
            raise OutputPathError(
                f"{arg}: {str(out)!r} appeared while the report ran ({err.strerror}); choose an "
                "empty or new folder"
            ) from None
        return
    old = _read_manifest(out, arg) or []
    clash = [f for f in new if f not in old and os.path.lexists(out / f)]
    if clash:
        raise OutputPathError(
            f"{arg}: {str(out / clash[0])!r} was not written by spectral-jax report; move it "
            "away or choose an empty or new folder"
        )
    _write_manifest(out, sorted(set(old) | set(new)))
    for f in new:
        (out / f).parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp / f, out / f)
    for f in sorted(set(old) - set(new)):
        _remove_listed(out, f)
    _write_manifest(out, new)
    shutil.rmtree(tmp, ignore_errors=True)


def run_report(
    out_dir: str | os.PathLike = "spectral_jax_report",
    *,
    only: Sequence[str] | None = None,
    full: bool = False,
    progress: Callable[[str], None] | None = None,
    arg: str = "run_report: out_dir",
) -> ReportSummary:
    """Run the report sections and write ``report.md``, ``report.html`` (figures embedded),
    ``report.json`` and the figures into the folder ``out_dir``.

    **Arguments:**

    - `out_dir`: output folder: a new folder (its parent must exist), an empty folder, or
      the folder of a previous report.
    - `only`: topics to run (default all of `SECTIONS`).
    - `full`: the papers' sizes (meant for a GPU) instead of the CPU defaults.
    - `progress`: called with a status line (default: print to stderr).
    - `arg`: how errors name `out_dir` (the command line passes ``"--out"``).

    The output rule is checked before any section runs: the report never removes or
    replaces a file it did not write. It marks its folder with a manifest,
    ``.spectral_jax_report.json``, listing the files it wrote; a later report replaces
    exactly those (files the user added there are kept). Any other non-empty folder, or a
    file, is refused. The report is built in a temporary folder and put in place only when
    complete: an interrupted run (Ctrl-C, SIGTERM) leaves the previous report as it was and
    no temporary folder behind. Folders get the permissions the umask allows.

    A section that raises is recorded as failed (with its traceback) and the others run on.
    ``report.html`` is ``report.md`` rendered by Python-Markdown (tables, fenced code) with
    the figures embedded, so both show the same table cells (``|`` in a cell is escaped).

    **Raises:** ``ValueError`` for an unknown topic in ``only``, or when Python-Markdown
    (which renders ``report.html``) is not installed, both before any section runs;
    `OutputPathError` (a ``ValueError``) for an output folder
    that must not or cannot be written, naming ``arg``.
    """
    say = progress or (lambda m: print(m, file=sys.stderr, flush=True))
    if isinstance(only, str) or (only is not None and not all(isinstance(t, str) for t in only)):
        raise TypeError(f"run_report: only must be a sequence of topic names; got {only!r}")
    topics = list(dict.fromkeys(only)) if only else list(SECTIONS)
    unknown = [t for t in topics if t not in SECTIONS]
    if unknown:
        raise ValueError(f"run_report: unknown topic(s) {unknown}; known: {list(SECTIONS)}")
    if not markdown_available():
        raise ValueError(  # checked before any section runs; the CLI prints one line
            "run_report: report.html is rendered with Python-Markdown, which is not installed "
            "(pip install markdown)"
        )
    out = check_report_dir(out_dir, arg=arg)
    tmp = _make_tmp(out, arg)
    summary = ReportSummary(out)
    try:
        for i, topic in enumerate(topics, 1):
            say(f"[{i}/{len(topics)}] {topic} ...")
            t0 = time.perf_counter()
            title = topic
            try:
                mod = importlib.import_module(f"spectral_jax.report.{SECTIONS[topic]}")
                title = getattr(mod, "TITLE", topic)
                ctx = SectionContext(
                    out_dir=tmp, full=full, progress=lambda m, t=topic: say(f"    {t}: {m}")
                )
                res = mod.run(ctx)
                summary.outcomes.append(
                    SectionOutcome(topic, title, True, time.perf_counter() - t0, res)
                )
                say(
                    f"[{i}/{len(topics)}] {topic} done in {time.perf_counter() - t0:.1f} s "
                    f"({len(res.claims)} claims)"
                )
            except Exception:  # a failed section is reported, the others still run
                err = traceback.format_exc(limit=8)
                summary.outcomes.append(
                    SectionOutcome(topic, title, False, time.perf_counter() - t0, None, err)
                )
                say(f"[{i}/{len(topics)}] {topic} FAILED ({err.strip().splitlines()[-1]})")
        _write(summary, tmp, full)
        _commit(tmp, out, arg)
    finally:  # success: already moved; failure or interruption: nothing of it stays
        shutil.rmtree(tmp, ignore_errors=True)
    return summary
