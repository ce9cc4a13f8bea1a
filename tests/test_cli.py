"""Command-line conventions shared by every subcommand."""

import io
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


# --- parsing imports no library --------------------------------------------------------


def test_command_modules_import_nothing_heavy_at_module_level():
    """Parsing and --help import the command modules: at module level they import only
    the standard library and the light shared modules (the library is imported by run)."""
    import ast
    import sys
    from pathlib import Path

    from spectral_jax.commands import COMMANDS

    light = {"_common", "_serialize", "_train_output", "__future__"}
    folder = Path(__file__).resolve().parents[1] / "spectral_jax" / "commands"
    heavy = {}
    for mod in ["_common", "__init__", *COMMANDS.values()]:
        tree = ast.parse((folder / f"{mod}.py").read_text())
        for node in tree.body:
            if isinstance(node, ast.Import):
                names = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level:  # relative
                names = [(node.module or "").split(".")[-1]]
            elif isinstance(node, ast.ImportFrom):
                names = [(node.module or "").split(".")[0]]
            else:
                continue
            bad = [n for n in names if n not in sys.stdlib_module_names and n not in light]
            if bad:
                heavy.setdefault(mod, []).extend(bad)
    mine = {m: v for m, v in heavy.items() if m not in ("fit", "ntk", "train")}
    assert not mine, f"command modules import {mine} at module level"
    if heavy:
        pytest.xfail(f"command modules still import {heavy} at module level")


def test_help_imports_no_jax():
    """``spectral-jax --help`` and ``spectral-jax spectrum --help`` import neither JAX nor
    the library (checked in a fresh interpreter)."""
    import ast
    import subprocess
    import sys
    from pathlib import Path

    import spectral_jax

    init = ast.parse(Path(spectral_jax.__file__).read_text())
    if any(isinstance(n, ast.ImportFrom) and n.level == 1 for n in init.body):
        pytest.skip("`import spectral_jax` imports the whole library (eager package __init__)")
    code = (
        "import sys, contextlib, io\n"
        "import spectral_jax\n"
        "eager = 'jax' in sys.modules\n"
        "from spectral_jax.cli import main\n"
        "for argv in (['--help'], ['spectrum', '--help'], ['report', '--help']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        try:\n"
        "            main(argv)\n"
        "        except SystemExit:\n"
        "            pass\n"
        "print(eager, 'jax' in sys.modules, 'spectral_jax.gram' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    ).stdout.split()
    if out[0] == "True":
        pytest.skip("`import spectral_jax` imports the whole library (eager package __init__)")
    assert out == ["False", "False", "False"]


def test_summaries_and_sections_agree_with_the_modules():
    import importlib

    from spectral_jax.commands import COMMANDS, SUMMARIES
    from spectral_jax.commands import report as report_cmd
    from spectral_jax.report import SECTIONS

    assert SUMMARIES.keys() == COMMANDS.keys()
    for name, mod in COMMANDS.items():
        assert importlib.import_module(f"spectral_jax.commands.{mod}").HELP == SUMMARIES[name]
    assert report_cmd.SECTIONS == tuple(SECTIONS)


def test_only_the_named_command_is_built():
    parser, modules = build_parser(only="penalty")
    assert list(modules) == ["penalty"]
    with pytest.raises(SystemExit):  # the others are listed, with their help
        parser.parse_args(["nope"])


# --- compilation cache -----------------------------------------------------------------


def test_compile_cache_folder_and_opt_outs(monkeypatch, tmp_path):
    import argparse

    from spectral_jax import cli

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv(cli.NO_CACHE_ENV, raising=False)
    on = argparse.Namespace(no_compile_cache=False)
    want = str(tmp_path / "spectral_jax" / "jax")
    assert cli.compile_cache_dir() == want
    assert cli._cache_folder(on, True, None) == want
    assert cli._cache_folder(on, False, None) is None  # in-process callers: not touched
    assert cli._cache_folder(on, True, "/elsewhere") is None  # the user's own cache stands
    assert cli._cache_folder(argparse.Namespace(no_compile_cache=True), True, None) is None
    monkeypatch.setenv(cli.NO_CACHE_ENV, "1")
    assert cli._cache_folder(on, True, None) is None
    monkeypatch.setenv(cli.NO_CACHE_ENV, "0")
    assert cli._cache_folder(on, True, None) == want
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cli.compile_cache_dir() == str(tmp_path / "home" / ".cache" / "spectral_jax" / "jax")


# --- the --json document ---------------------------------------------------------------


def test_json_document_layout(capsys):
    from spectral_jax.commands._common import JSON_SCHEMA_VERSION, tool_version

    args = ["penalty", "--activation", "relu", "--points", "3", "--json", "--quiet"]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    keys = list(doc)
    assert keys[:5] == ["tool", "version", "schema_version", "command", "inputs"]
    assert keys[-1] == "timings"
    assert doc["tool"] == "spectral-jax" and doc["version"] == tool_version()
    assert doc["schema_version"] == JSON_SCHEMA_VERSION and doc["command"] == "penalty"
    # every option, defaults resolved, no presentation flags
    assert doc["inputs"]["points"] == 3 and doc["inputs"]["dim"] == 1
    assert doc["inputs"]["band"] == [0.5, 8.0] and doc["inputs"]["dtype"] == "float64"
    assert not {"json", "quiet", "command", "no_compile_cache"} & set(doc["inputs"])
    assert doc["timings"]["total_s"] > 0
    assert len(doc["rho"]["relu"]) == 3  # results at the top level


# --- progress --------------------------------------------------------------------------


class _Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self):
        return True


def _screen(text: str) -> list[str]:
    """What a terminal shows after ``text``: ``\\r`` returns, ``ESC[K`` erases to the end
    of the line, ``\\n`` starts a new line."""
    lines, row, col = [[]], 0, 0
    i = 0
    while i < len(text):
        if text.startswith("\x1b[K", i):
            del lines[row][col:]
            i += 3
            continue
        c = text[i]
        if c == "\r":
            col = 0
        elif c == "\n":
            row, col = row + 1, 0
            if row == len(lines):
                lines.append([])
        else:
            line = lines[row]
            line[col : col + 1] = [c]
            col += 1
        i += 1
    out = ["".join(x) for x in lines]
    while out and not out[-1]:
        out.pop()
    return out


def test_progress_draws_on_a_terminal_and_leaves_nothing(monkeypatch):
    from spectral_jax import _progress

    now = [0.0]
    monkeypatch.setattr(_progress.time, "perf_counter", lambda: now[0])
    tty = _Terminal()
    bar = _progress.Progress(4, "work", stream=tty, min_interval=0.0)
    assert _screen(tty.getvalue()) == ["work: 0/4 (0%) 0.0 s"]
    now[0] = 30.0
    bar.update()  # the first unit (compilation) took 30 s: no ETA yet
    assert _screen(tty.getvalue()) == ["work: 1/4 (25%) 30.0 s"]
    now[0] = 31.0
    bar.update(note="stage b")  # 1 s per unit since, 2 units left
    assert _screen(tty.getvalue()) == ["work: 2/4 (50%) 31.0 s, eta 2.0 s stage b"]
    bar.log("a permanent line")
    assert _screen(tty.getvalue())[0] == "a permanent line"
    bar.update()
    bar.update()  # 4/4: no duplicate final line
    bar.close()
    assert _screen(tty.getvalue()) == ["a permanent line"]
    assert tty.getvalue().count("4/4") <= 1
    assert _progress._open_line["stream"] is None


def test_progress_is_silent_off_a_terminal_or_when_disabled():
    from spectral_jax._progress import Progress

    for stream, enabled in ((io.StringIO(), True), (_Terminal(), False)):
        with Progress(3, "work", stream=stream, enabled=enabled, min_interval=0.0) as bar:
            for _ in range(3):
                bar.update()
        assert stream.getvalue() == ""
    log = io.StringIO()
    Progress(1, "work", stream=log).log("kept")  # permanent lines go to any stream
    assert log.getvalue() == "kept\n"


def test_progress_line_is_erased_before_an_error(monkeypatch, capsys):
    from spectral_jax import _progress

    tty = _Terminal()
    monkeypatch.setattr("sys.stderr", tty)
    assert main(["penalty", "--activation", "relu", "nope", "--points", "2"]) == 2
    screen = _screen(tty.getvalue())
    assert len(screen) == 1 and "unknown activation 'nope'" in screen[0], screen
    assert _progress._open_line["stream"] is None
    assert main(["penalty", "--activation", "relu", "tanh", "--points", "2"]) == 0
    assert _screen(tty.getvalue()) == screen  # the finished command left nothing


def test_report_and_bench_sections_on_one_status_line(monkeypatch, tmp_path, capsys):
    """report: the section lines stay, the stage messages only change the status line;
    bench: the runner's lines stay above the status line; nothing else is left."""
    from spectral_jax.commands import report as report_cmd

    tty = _Terminal()
    monkeypatch.setattr("sys.stderr", tty)
    bar, say = report_cmd._section_progress(["spectra", "ntk"], enabled=True)
    bar.min_interval = 0.0
    say("[1/2] spectra ...")
    say("    spectra: Table 1 relu n=64")
    assert _screen(tty.getvalue())[-1].startswith("report: 0/2 (0%)")
    assert _screen(tty.getvalue())[-1].endswith("spectra: Table 1 relu n=64")
    say("[1/2] spectra done in 1.0 s (3 claims)")
    say("[2/2] ntk ...")
    say("[2/2] ntk FAILED (ValueError: x)")
    bar.close()
    assert _screen(tty.getvalue()) == [
        "[1/2] spectra done in 1.0 s (3 claims)",
        "[2/2] ntk FAILED (ValueError: x)",
    ]

    tty.seek(0)
    tty.truncate()
    b = tmp_path / "benchmarks"
    b.mkdir()
    for name in ("bench_a.py", "bench_b.py"):
        (b / name).write_text("")
    (b / "run_all.py").write_text(
        "import sys\n"
        "for s in ('bench_a.py', 'bench_b.py'):\n"
        "    print('== ' + s, file=sys.stderr)\n"
        "    print('   ok in 0 s', file=sys.stderr)\n"
        "print('SUMMARY')\n"
    )
    assert main(["bench", "--root", str(tmp_path)]) == 0
    assert _screen(tty.getvalue()) == [
        "== bench_a.py",
        "   ok in 0 s",
        "== bench_b.py",
        "   ok in 0 s",
    ]
    assert capsys.readouterr().out.startswith("SUMMARY\n")
