"""Command-line conventions shared by every subcommand."""

import json

import pytest

from spectral_jax.cli import build_parser, main


def test_every_command_has_json_quiet_and_documented_options():
    parser, modules = build_parser()
    assert "report" in modules
    for name in modules:
        sub = parser._subparsers._group_actions[0].choices[name]
        opts = {o for a in sub._actions for o in a.option_strings}
        assert {"--json", "--quiet", "--help"} <= opts, name
        for a in sub._actions:
            if a.option_strings and a.dest != "help":
                assert a.help, f"{name} {a.option_strings} has no help text"


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_report_unknown_topic_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as e:
        main(["report", "--only", "nope"])
    assert e.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_bench_without_checkout_is_a_clean_error(tmp_path, capsys, monkeypatch):
    from spectral_jax.commands import bench

    monkeypatch.setattr(
        bench,
        "_find_runner",
        lambda root: (_ for _ in ()).throw(
            FileNotFoundError("bench: benchmarks/run_all.py not found")
        ),
    )
    assert main(["bench", "--root", str(tmp_path)]) == 2
    assert "benchmarks/run_all.py not found" in capsys.readouterr().err


def test_json_is_valid_for_a_fast_command(capsys, monkeypatch, tmp_path):
    import sys
    import types

    from spectral_jax.report import Claim, SectionResult, _driver

    mod = types.ModuleType("spectral_jax.report._fake_cli")
    mod.TITLE = "fake"
    mod.run = lambda ctx: SectionResult([Claim("s", "c", "1", "1.0", "reproduced")])
    sys.modules[mod.__name__] = mod
    monkeypatch.setattr(_driver, "SECTIONS", {"spectra": "_fake_cli"})
    assert main(["report", "--out", str(tmp_path / "r"), "--json", "--quiet"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["verdict_counts"] == {"reproduced": 1} and data["failed_sections"] == []
