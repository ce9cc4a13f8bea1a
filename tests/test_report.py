"""The report driver: failures isolated, output replaced atomically, files written."""

import json
import sys
import types

import pytest

from spectral_jax.report import Claim, SectionResult, _driver, run_report


def _fake(name, fn):
    mod = types.ModuleType(f"spectral_jax.report.{name}")
    mod.TITLE = name
    mod.run = fn
    sys.modules[mod.__name__] = mod
    return name


@pytest.fixture
def fake_sections(monkeypatch):
    def ok(ctx):
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots()
        ax.plot([1, 2], [3, 4])
        fig.savefig(ctx.out_dir / "ok.png")
        plt.close(fig)
        return SectionResult(
            [Claim("seed", "x decays like k^-4", "4", "3.98", "reproduced")],
            figures=["ok.png"],
            tables=["| a | b |\n|---|---|\n| 1 | 2 |"],
        )

    def bad(ctx):
        raise RuntimeError("boom in section")

    monkeypatch.setattr(
        _driver, "SECTIONS", {"good": _fake("_fake_good", ok), "bad": _fake("_fake_bad", bad)}
    )


def test_failed_section_is_reported_and_others_run(tmp_path, fake_sections):
    out = tmp_path / "rep"
    s = run_report(out, progress=lambda m: None)
    assert s.failed == ["bad"]
    data = json.loads((out / "report.json").read_text())
    assert [x["ok"] for x in data["sections"]] == [True, False]
    assert "boom in section" in data["sections"][1]["error"]
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "reproduced" in html
    assert "x decays like k^-4" in (out / "report.md").read_text()


def test_output_replaced_atomically(tmp_path, fake_sections, monkeypatch):
    out = tmp_path / "rep"
    run_report(out, only=["good"], progress=lambda m: None)
    before = (out / "report.md").read_text()

    def crash(summary, tmp, full):
        raise KeyboardInterrupt  # e.g. the user interrupts while files are written

    monkeypatch.setattr(_driver, "_write", crash)
    with pytest.raises(KeyboardInterrupt):
        run_report(out, only=["good"], progress=lambda m: None)
    assert (out / "report.md").read_text() == before  # the good report survives
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]  # no temp dirs left


def test_unknown_topic(tmp_path):
    with pytest.raises(ValueError, match="unknown topic"):
        run_report(tmp_path / "r", only=["nope"])
