"""Docs: every public name is documented, the site builds strictly and works offline,
tables keep their rows and columns, API pages render lists and shapes, and the code the
docs and the README show runs.

Conventions for code blocks in ``README.md`` and ``docs/**/*.md`` (see the getting-started
page):

- every ```` ```python ```` block of a page runs, in order, in one namespace per page;
- a block fenced ```` ```text title="Output" ```` right after a Python block is that
  block's expected standard output, compared line by line (rounded numbers only);
- every line of a ```` ```bash ````/```` ```console ```` block that starts with
  ``spectral-jax`` is parsed by the real command-line parser (options and values checked),
  and run (exit status 0) in a temporary folder;
- ``<!-- skip-test: reason -->`` on the line before a block keeps it from running (its
  command lines are still parsed); use it only for work that cannot run in a test (several
  processes, minutes of compute, a source checkout).

The quick examples (the first Python block of each guide, with an output block) and every
command line's parse run in the default suite; the other blocks are slow (``-m slow``).
"""

import contextlib
import html as html_lib
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

import spectral_jax as sj

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted([ROOT / "README.md", *DOCS.rglob("*.md")])
_MKDOCS = shutil.which("mkdocs") or str(Path(sys.executable).with_name("mkdocs"))
needs_mkdocs = pytest.mark.skipif(
    not Path(_MKDOCS).exists(),
    reason="mkdocs not installed (pip install '.[docs]'); CI installs it",
)


# ---------------------------------------------------------------- helpers


_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)(.*)$")
_LAUNCHERS = {"exec", "srun", "time", "nohup", "env"}
_SKIP = re.compile(r"<!--\s*skip-test:\s*(.+?)\s*-->")


def code_blocks(text: str) -> list[dict]:
    """Fenced blocks of a Markdown text: language, info string, code, line, skip reason."""
    lines = text.splitlines()
    out, i = [], 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, lang, info = m.groups()
        j, body = i + 1, []
        while j < len(lines) and not lines[j].strip().startswith(fence):
            body.append(lines[j][len(indent) :])
            j += 1
        prev = next((lines[k].strip() for k in range(i - 1, -1, -1) if lines[k].strip()), "")
        skip = _SKIP.fullmatch(prev)
        out.append(
            {
                "lang": lang,
                "info": info.strip(),
                "code": "\n".join(body),
                "line": i + 1,
                "skip": skip.group(1) if skip else None,
            }
        )
        i = j + 1
    return out


def python_runs(page: Path) -> list[dict]:
    """The page's Python blocks, each with its expected output block (or None)."""
    blocks = code_blocks(page.read_text())
    runs = []
    for k, b in enumerate(blocks):
        if b["lang"] != "python":
            continue
        nxt = blocks[k + 1] if k + 1 < len(blocks) else None
        expected = None
        if nxt is not None and nxt["lang"] == "text" and 'title="Output"' in nxt["info"]:
            expected = nxt["code"]
        runs.append({**b, "expected": expected})
    return runs


def command_lines(page: Path) -> list[tuple[int, list[str], str | None]]:
    """``(line, argv, skip reason)`` of every ``spectral-jax`` line in shell blocks."""
    out = []
    for b in code_blocks(page.read_text()):
        if b["lang"] not in ("", "bash", "console", "sh", "shell"):
            continue
        text = re.sub(r"\\\n\s*", " ", b["code"])  # join continued lines
        for k, line in enumerate(text.splitlines()):
            line = line.strip().removeprefix("$ ")
            if not b["lang"] and not line.startswith("spectral-jax "):
                continue  # a block without a language: only its command lines
            for part in re.split(r"\s*(?:&&|;|\|)\s*", line.split("  #")[0]):
                words = shlex.split(part, comments=True)
                if "spectral-jax" not in words:
                    continue
                i = words.index("spectral-jax")
                if all(w in _LAUNCHERS or "=" in w for w in words[:i]):
                    out.append((b["line"] + 1 + k, words[i + 1 :], b["skip"]))
    return out


def _rel(page: Path) -> str:
    return str(page.relative_to(ROOT))


def _table_rows(text: str) -> list[list[tuple[int, str]]]:
    """Markdown tables (outside code blocks) as lists of ``(line, row)``."""
    tables, cur, fence = [], [], None
    for i, line in enumerate(text.splitlines()):
        m = _FENCE.match(line)
        if m and (fence is None or m.group(2).startswith(fence)):
            fence = None if fence else m.group(2)
        s = line.strip()
        if fence is None and len(s) > 1 and s.startswith("|") and s.endswith("|"):
            cur.append((i + 1, s))
            continue
        if cur:
            tables.append(cur)
            cur = []
    if cur:
        tables.append(cur)
    return tables


def _cells(row: str) -> int:
    """Cells of a table row as Python-Markdown splits it: on ``|`` outside code spans,
    unescaped. A ``|`` inside maths splits the row too: write ``\\lvert x\\rvert``."""
    n, code, i = 0, False, 0
    while i < len(row):
        c = row[i]
        if c == "\\":
            i += 2
            continue
        if c == "`":
            code = not code
        elif c == "|" and not code:
            n += 1
        i += 1
    return n - 1


# ---------------------------------------------------------------- static checks (fast)


def _documented() -> set[str]:
    names = set()
    for p in (DOCS / "api").glob("*.md"):
        for m in re.finditer(r"^:::\s+spectral_jax\.([\w.]+)", p.read_text(), re.M):
            names.add(m.group(1).split(".")[-1])
    return names


def test_every_public_name_has_an_api_entry():
    missing = sorted(n for n in sj.__all__ if n != "__version__" and n not in _documented())
    assert not missing, f"public names without an API entry in docs/api/*.md: {missing}"


def test_every_nav_page_exists():
    text = (ROOT / "mkdocs.yml").read_text()
    pages = re.findall(r":\s*([\w/.-]+\.md)\s*$", text, re.M)
    missing = [p for p in pages if not (DOCS / p).exists()]
    assert not missing, f"pages in mkdocs.yml nav but missing: {missing}"


def test_mkdocs_config_is_offline():
    text = (ROOT / "mkdocs.yml").read_text()
    assert not re.search(r"^\s*-\s*['\"]?(https?:)?//", text, re.M), "a remote script/css"
    assert "javascripts/mathjax/tex-svg.js" in text
    assert "docs/_hooks/offline_maths.py" in text
    assert re.search(r"^\s*font:\s*false", text, re.M), "theme fonts would load remotely"
    assert "example.invalid" not in text
    assert re.search(r"show_signature_annotations:\s*true", text)


def test_table_rows_keep_their_columns():
    bad = []
    for page in PAGES:
        for table in _table_rows(page.read_text()):
            head = _cells(table[0][1])
            bad += [
                f"{_rel(page)}:{ln}: {_cells(row)} cells, header {head}"
                for ln, row in table
                if _cells(row) != head
            ]
    assert not bad, "table rows split by | (write \\lvert x\\rvert in maths):\n" + "\n".join(bad)


def test_docstring_lists_follow_a_blank_line():
    """A Markdown list right after a paragraph line renders as one run-on paragraph."""
    import ast

    item = re.compile(r"^(\s*)(?:[-*]|\d+\.) \S")
    bad = []
    for path in sorted((ROOT / "spectral_jax").rglob("*.py")):
        text = path.read_text()
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if not (
                isinstance(node, ast.Expr)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                continue
            fence = False
            for i in range(node.lineno, node.end_lineno):
                if lines[i].strip().startswith("```"):
                    fence = not fence
                m = item.match(lines[i])
                prev = lines[i - 1]
                if fence or not m or not prev.strip() or item.match(prev):
                    continue
                pindent = len(prev) - len(prev.lstrip())
                if pindent == len(m.group(1)) or i - 1 == node.lineno - 1:
                    bad.append(f"{path.relative_to(ROOT)}:{i + 1}")
    assert not bad, "insert a blank line before these docstring lists:\n" + "\n".join(bad)


def test_every_command_line_parses():
    """Every ``spectral-jax`` line of the README and the docs names real options."""
    from spectral_jax.cli import build_parser

    parser, _ = build_parser()
    bad = []
    for page in PAGES:
        for line, argv, _skip in command_lines(page):
            err = io.StringIO()
            try:
                with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                    parser.parse_args(argv)
            except SystemExit as exc:
                if exc.code not in (0, None):
                    msg = err.getvalue().strip().splitlines()[-1:]
                    bad.append(f"{_rel(page)}:{line}: {shlex.join(argv)}: {msg}")
    assert not bad, "\n".join(bad)


def test_gallery_shows_every_figure_with_its_command():
    text = (DOCS / "gallery.md").read_text()
    shown = set(re.findall(r"\]\(figures/([\w.-]+\.png)\)", text))
    on_disk = {p.name for p in (DOCS / "figures").glob("*.png")}
    assert on_disk <= shown, f"figures missing from docs/gallery.md: {sorted(on_disk - shown)}"
    for name in shown:
        block = text[: text.index(f"](figures/{name})")].rsplit("**", 1)[-1]
        assert "`" in block, f"{name}: no command given"


def help_examples() -> list[list[str]]:
    """The ``spectral-jax ...`` examples that the commands' own help texts show."""
    from spectral_jax.cli import build_parser

    parser, modules = build_parser()
    out = []
    for mod in modules.values():
        text = "\n".join(str(getattr(mod, a, "") or "") for a in ("DESCRIPTION", "HELP", "EPILOG"))
        for m in re.finditer(r"(?:^|\s)(spectral-jax\s+[a-z].*?)(?=$|\n|\s{2,}|\)$)", text):
            words = shlex.split(m.group(1))
            if len(words) > 2:  # a command line, not the command's name
                out.append(words[1:])
    return out


def test_help_examples_parse():
    from spectral_jax.cli import build_parser

    parser, _ = build_parser()
    examples = help_examples()
    assert examples, "the design command's help shows an example"
    for argv in examples:
        with contextlib.redirect_stderr(io.StringIO()) as err:
            try:
                parser.parse_args(argv)
            except SystemExit as exc:
                assert exc.code in (0, None), f"{shlex.join(argv)}: {err.getvalue()}"


@pytest.mark.slow
def test_help_examples_run(tmp_path):
    exe = shutil.which("spectral-jax") or str(Path(sys.executable).with_name("spectral-jax"))
    for argv in help_examples():
        proc = subprocess.run(
            [exe, *argv, "--quiet"], cwd=tmp_path, capture_output=True, text=True, timeout=900
        )
        assert proc.returncode == 0, f"{shlex.join(argv)}\n{proc.stderr[-2000:]}"


# ---------------------------------------------------------------- the built site


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    t0 = time.perf_counter()
    proc = subprocess.run(
        [_MKDOCS, "build", "--strict", "-d", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={
            "NO_MKDOCS_2_WARNING": "1",
            "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
            "HOME": os.environ.get("HOME", "/tmp"),
        },
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    print(f"mkdocs build: {time.perf_counter() - t0:.1f} s")
    return out


def _html_of(site: Path, page: Path) -> Path:
    rel = page.relative_to(DOCS)
    if rel.name == "index.md":
        return site / rel.parent / "index.html"
    return site / rel.with_suffix("") / "index.html"


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.refs.append(a["src"])
        if tag == "link" and a.get("href") and tag != "a":
            rel = (a.get("rel") or "").split()
            if {"stylesheet", "preload", "preconnect", "modulepreload", "icon"} & set(rel):
                self.refs.append(a["href"])
        if tag == "img" and a.get("src"):
            self.refs.append(a["src"])


@needs_mkdocs
def test_site_makes_no_network_request(site):
    remote = []
    for html in site.rglob("*.html"):
        p = _Refs()
        p.feed(html.read_text())
        remote += [f"{html.relative_to(site)}: {r}" for r in p.refs if re.match(r"(https?:)?//", r)]
    assert not remote, "\n".join(remote[:20])
    assert (site / "javascripts" / "mathjax" / "tex-svg.js").stat().st_size > 1_000_000
    assert "Apache License" in (site / "javascripts" / "mathjax" / "LICENSE").read_text()


@needs_mkdocs
def test_pages_with_maths_load_the_local_renderer(site):
    page = (site / "theory" / "index.html").read_text()
    assert 'class="arithmatex"' in page
    assert re.search(r'<script src="\.\./javascripts/mathjax/tex-svg\.js', page)
    assert re.search(r'<script src="\.\./javascripts/mathjax\.js', page)


@needs_mkdocs
def test_every_table_row_became_a_table_row(site):
    bad = []
    for page in DOCS.rglob("*.md"):
        html = _html_of(site, page)
        if not html.exists() or "\n::: " in page.read_text():
            continue
        rows = [
            r
            for t in _table_rows(page.read_text())
            for r in t
            if not re.fullmatch(r"\|[\s:|-]+\|", r[1])
        ]
        text = html.read_text()
        article = text[text.find("<article") : text.rfind("</article>")]
        n_tr = len(re.findall(r"<tr[\s>]", article))
        if n_tr != len(rows):
            bad.append(f"{_rel(page)}: {len(rows)} Markdown rows, {n_tr} <tr> in the HTML")
    assert not bad, "\n".join(bad)


@needs_mkdocs
def test_api_pages_render_lists_and_shapes(site):
    page = (site / "api" / "fit" / "index.html").read_text()
    assert re.search(r"<p><strong>Arguments:</strong></p>\s*<ul>", page)
    assert not re.search(r"<strong>Arguments:</strong>\s*-\s", page)
    text = html_lib.unescape(re.sub(r"<[^>]+>", "", page))
    assert re.search(r"Float\[Array(Like)?, [\"']m d[\"']\]", text)  # jaxtyping shapes shown
    for html in site.rglob("*.html"):
        assert "example.invalid" not in html.read_text(), html


# ---------------------------------------------------------------- code that the docs show


def _run_python(page: Path, runs: list[dict], tmp_path, monkeypatch):
    import matplotlib as mpl

    mpl.use("Agg")
    monkeypatch.chdir(tmp_path)
    ns = {"__name__": "__docs__"}
    for r in runs:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(r["code"], f"{_rel(page)}:{r['line']}", "exec"), ns)
        if r["expected"] is not None:
            got = out.getvalue().strip().splitlines()
            want = r["expected"].strip().splitlines()
            assert got == want, f"{_rel(page)}:{r['line']}: output\n{got}\nexpected\n{want}"
    import matplotlib.pyplot as plt

    plt.close("all")


def _quick(page: Path) -> list[dict]:
    runs = python_runs(page)
    return runs[:1] if runs and runs[0]["expected"] is not None and not runs[0]["skip"] else []


GUIDES = sorted((DOCS / "guide").glob("*.md"))
QUICK = [p for p in GUIDES if _quick(p)]


@pytest.mark.slow
@pytest.mark.parametrize("page", QUICK, ids=[p.stem for p in QUICK])
def test_quick_example_runs_and_prints_its_output(page, tmp_path, monkeypatch):
    _run_python(page, _quick(page), tmp_path, monkeypatch)


def test_every_guide_starts_with_a_quick_example():
    """The first Python block of each guide runs and shows its output (a guide whose first
    block is marked skip-test, e.g. multi-process runs, says why instead)."""
    missing = [
        _rel(p) for p in GUIDES if not _quick(p) and not (python_runs(p) or [{}])[0].get("skip")
    ]
    assert not missing, f"guides without a quick example and its output: {missing}"


RUNNABLE = [p for p in PAGES if python_runs(p)]


@pytest.mark.slow
@pytest.mark.parametrize("page", RUNNABLE, ids=[_rel(p) for p in RUNNABLE])
def test_every_python_block_runs(page, tmp_path, monkeypatch):
    runs = [r for r in python_runs(page) if not r["skip"]]
    _run_python(page, runs, tmp_path, monkeypatch)


def _command_blocks():
    """``(page, first line, [argv, ...])`` per shell block (its lines share a folder)."""
    out = {}
    for page in PAGES:
        blocks = {b["line"]: b for b in code_blocks(page.read_text())}
        for line, argv, skip in command_lines(page):
            if skip:
                continue
            start = max(s for s in blocks if s < line)
            out.setdefault((page, start), []).append(argv)
    return [(p, s, cmds) for (p, s), cmds in out.items()]


COMMANDS = _command_blocks()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("page", "line", "commands"), COMMANDS, ids=[f"{_rel(p)}:{ln}" for p, ln, _ in COMMANDS]
)
def test_every_command_line_runs(page, line, commands, tmp_path):
    """The commands of one block run in order in one folder (a later line may read what an
    earlier one wrote), each with exit status 0."""
    exe = shutil.which("spectral-jax") or str(Path(sys.executable).with_name("spectral-jax"))
    for argv in commands:
        proc = subprocess.run(
            [exe, *argv, "--quiet"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=900,
            env=dict(os.environ, MPLBACKEND="Agg"),
        )
        assert proc.returncode == 0, (
            f"{_rel(page)}:{line}: {shlex.join(argv)}\n{proc.stderr[-2000:]}"
        )
