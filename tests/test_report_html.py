"""report.html: the report's Markdown rendered by Python-Markdown (tables, emphasis, pipes,
embedded figures), and a clear error before any work when the renderer is missing."""

import re
import sys
import types
from html.parser import HTMLParser

import pytest

from spectral_jax.report import Claim, SectionResult, _driver, run_report


class _Table(HTMLParser):
    """Cells per row of every table, as a browser would see them."""

    def __init__(self):
        super().__init__()
        self.rows, self._row, self._cell = [], None, None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr":
            self.rows.append(self._row)

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


CLAIMS = [
    (
        "spectra",
        Claim(
            "2306.17301 s.3",
            "eigenvalues decay like |λ| ~ k^-4",
            "4",
            "4.02",
            "reproduced",
            "fit over k = 10..100 | tail excluded; n*eps*lambda_1 <b>",
        ),
    ),
    ("ntk", Claim("2405.11696", "a `x|y` code cell", "—", "1e-3", "differs", "")),
]


def test_verdicts_render_as_html_not_markdown():
    page = _driver.render_html(_driver._claims_md(CLAIMS), "t", {})
    t = _Table()
    t.feed(page)
    assert [len(r) for r in t.rows] == [7, 7, 7]
    assert t.rows[1][2] == "eigenvalues decay like |λ| ~ k^-4"
    assert t.rows[0][:2] == ["section", "verdict"]  # visible without scrolling
    assert t.rows[1][1] == "reproduced" and t.rows[2][1] == "differs"
    assert t.rows[1][5] == "fit over k = 10..100 | tail excluded; n*eps*lambda_1 <b>"
    assert "<strong>reproduced</strong>" in page and "**" not in page
    assert "/λ/" not in page
    # wide tables scroll inside their box instead of being cut off
    assert "<div class='table-wrap'><table>" in page and "overflow-x:auto" in page


def test_figures_are_embedded_and_failures_shown(tmp_path, monkeypatch):
    png = b"\x89PNG\r\n\x1a\nfake"

    def ok(ctx):
        (ctx.out_dir / "f.png").write_bytes(png)
        return SectionResult(
            [CLAIMS[0][1]], figures=["f.png"], tables=["| a | b |\n|---|---|\n| 1 | 2 |"]
        )

    def bad(ctx):
        raise RuntimeError("boom <b> in section")

    mods = {}
    for name, fn in (("_html_ok", ok), ("_html_bad", bad)):
        mod = types.ModuleType(f"spectral_jax.report.{name}")
        mod.TITLE, mod.run = name, fn
        monkeypatch.setitem(sys.modules, mod.__name__, mod)
        mods[name.removeprefix("_html_")] = name
    monkeypatch.setattr(_driver, "SECTIONS", mods)
    run_report(tmp_path / "r", progress=lambda m: None)
    page = (tmp_path / "r" / "report.html").read_text()
    assert 'src="data:image/png;base64,iVBORw0KGgpmYWtl"' in page
    assert re.search(r"<pre><code>Traceback.*boom &lt;b&gt; in section", page, re.S)
    t = _Table()
    t.feed(page)
    assert ["1", "2"] in t.rows  # the section's own table


def test_missing_renderer_is_one_line_before_any_work(tmp_path, monkeypatch):
    monkeypatch.setattr(_driver, "markdown_available", lambda: False)
    with pytest.raises(ValueError, match=r"^run_report: report.html .*pip install markdown\)$"):
        run_report(tmp_path / "r", progress=lambda m: None)
    assert not (tmp_path / "r").exists()


def test_cells_escape_link_and_emphasis_syntax():
    """``F[phi](k)`` in a claim is text, not a link; ``n*eps`` is not emphasis."""
    markdown = pytest.importorskip("markdown")
    from spectral_jax.report._driver import _cell

    cell = _cell("rho = |k|/|F[phi](k)|^2, n*eps*m < 1")
    html = markdown.markdown(f"| a |\n|---|\n| {cell} |", extensions=["tables"])
    assert "<a " not in html and "<em>" not in html
    assert "|F[phi](k)|^2, n*eps*m &lt; 1" in html
