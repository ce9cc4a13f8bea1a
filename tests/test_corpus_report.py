"""Bad-input corpus for ``spectral-jax report`` (output folder safety) and ``bench``.

The report's rule: it writes to a new folder, an empty folder or a previous report's
folder (marked by its manifest) and never removes or replaces a file it did not write. The
CLI cases all fail before any section runs (they take milliseconds); the cases where a
report is written run in-process with fast fake sections.
"""

import json
import os
import subprocess
import sys
import types

import pytest
from corpus import CliCase, check_cli_case, corpus_fixture

from spectral_jax._files import OutputPathError
from spectral_jax.cli import main
from spectral_jax.report import Claim, SectionResult, _driver, run_report
from spectral_jax.report._driver import MANIFEST

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0

NOTES = {"notes.txt": "my notes\n"}
LITTER = ["*.tmp-*", "**/.spectral_jax_report.tmp-*", "**/*.tmp-*"]


def _manifest(files, tool="spectral-jax report"):
    return json.dumps({"tool": tool, "version": "0", "files": files})


#: a checkout with a benchmark runner that only prints (for bench's checks)
FAKE_BENCH = {
    "src/benchmarks/run_all.py": (
        "import sys\nprint('progress', file=sys.stderr)\nprint('SUMMARY-OK')\n"
    ),
    "src/benchmarks/bench_gram.py": "",
}

CASES = [
    # --- report --out: never delete or replace what the report did not write ---------
    CliCase(
        "report-out-dot",
        ["report", "--out", "."],
        files=NOTES,
        match=r"--out.*not empty",
        keep=["notes.txt"],
        absent=LITTER,
    ),
    CliCase(
        "report-out-empty-string",
        ["report", "--out", ""],
        files=NOTES,
        match=r"--out: expected a folder path; got an empty string",
        keep=["notes.txt"],
    ),
    CliCase(
        "report-out-blank",
        ["report", "--out", "   "],
        files=NOTES,
        match=r"--out: expected a folder",
        keep=["notes.txt"],
    ),
    CliCase(
        "report-out-home",
        ["report", "--out", "~"],
        files=NOTES,
        env={"HOME": "."},
        match=r"--out.*not empty",
        keep=["notes.txt"],
    ),
    CliCase(
        "report-out-dotdot-of-sub",
        ["report", "--out", "sub/.."],
        files={**NOTES, "sub": None},
        match=r"--out.*not empty",
        keep=["notes.txt"],
        absent=LITTER,
    ),
    CliCase(
        "report-out-foreign-folder",
        ["report", "--out", "d"],
        files={"d/notes.txt": "mine"},
        match=r"--out: the folder 'd' is not empty.*choose an empty or new folder",
        keep=["d/notes.txt"],
        absent=LITTER,
    ),
    CliCase(
        "report-out-foreign-trailing-slash",
        ["report", "--out", "d/"],
        files={"d/notes.txt": "mine"},
        match=r"--out.*not empty",
        keep=["d/notes.txt"],
    ),
    CliCase(
        "report-out-foreign-hidden-only",
        ["report", "--out", "d"],
        files={"d/.config": "mine"},
        match=r"--out.*not empty",
        keep=["d/.config"],
    ),
    CliCase(
        "report-out-foreign-subfolder-only",
        ["report", "--out", "d"],
        files={"d/sub/x.txt": "mine"},
        match=r"--out.*not empty",
        keep=["d/sub/x.txt"],
    ),
    CliCase(
        "report-out-is-file",
        ["report", "--out", "notes.txt"],
        files=NOTES,
        match=r"--out: 'notes.txt' exists and is not a folder",
        keep=["notes.txt"],
        absent=LITTER,
    ),
    CliCase(
        "report-out-missing-parent",
        ["report", "--out", "missing/rep"],
        match=r"--out: the folder 'missing' does not exist",
        absent=["missing"],
    ),
    CliCase(
        "report-out-parent-is-file",
        ["report", "--out", "notes.txt/rep"],
        files=NOTES,
        match=r"--out: 'notes.txt' is not a folder",
        keep=["notes.txt"],
    ),
    CliCase(
        "report-out-unwritable-proc",
        ["report", "--out", "/proc/spectral-jax-report"],
        match=r"--out: cannot create a folder in '/proc'",
    ),
    CliCase(
        "report-out-nul", ["report", "--out", "a\x00b"], match=r"--out: the path contains a NUL"
    ),
    CliCase(
        "report-out-corrupt-manifest",
        ["report", "--out", "r"],
        files={f"r/{MANIFEST}": "{not json", "r/report.md": "mine"},
        match=r"--out: .*unreadable report manifest",
        keep=["r/report.md", f"r/{MANIFEST}"],
    ),
    CliCase(
        "report-out-manifest-other-tool",
        ["report", "--out", "r"],
        files={f"r/{MANIFEST}": _manifest(["notes.txt"], tool="other"), "r/notes.txt": "mine"},
        match=r"--out: .*unreadable report manifest",
        keep=["r/notes.txt"],
    ),
    CliCase(
        "report-out-manifest-escapes",
        ["report", "--out", "r"],
        files={f"r/{MANIFEST}": _manifest(["../notes.txt"]), **NOTES},
        match=r"--out: .*unreadable report manifest",
        keep=["notes.txt", f"r/{MANIFEST}"],
    ),
    CliCase(
        "report-out-manifest-absolute",
        ["report", "--out", "r"],
        files={f"r/{MANIFEST}": _manifest(["/etc/hostname"]), "r/report.md": "old"},
        match=r"--out: .*unreadable report manifest",
        keep=["r/report.md"],
    ),
    CliCase(
        "report-out-unlisted-report-md",
        ["report", "--out", "r"],
        files={
            f"r/{MANIFEST}": _manifest(["report.html"]),
            "r/report.md": "mine",
            "r/report.html": "old",
        },
        match=r"--out: .*report\.md' was not written by spectral-jax report",
        keep=["r/report.md", "r/report.html"],
    ),
    CliCase(
        "report-only-unknown",
        ["report", "--only", "nope", "--out", "."],
        files=NOTES,
        match=r"--only.*invalid choice",
        keep=["notes.txt"],
    ),
    # --- bench --root: exactly the checkout named, checked before anything runs -------
    CliCase(
        "bench-root-missing", ["bench", "--root", "nope"], match=r"--root: 'nope' does not exist"
    ),
    CliCase("bench-root-empty", ["bench", "--root", ""], match=r"--root: expected a folder"),
    CliCase(
        "bench-root-file",
        ["bench", "--root", "notes.txt"],
        files=NOTES,
        match=r"--root: 'notes.txt' is not a folder",
        keep=["notes.txt"],
    ),
    CliCase(
        "bench-root-no-benchmarks",
        ["bench", "--root", "d"],
        files={"d": None},
        match=r"--root: no benchmarks/run_all.py under 'd'",
    ),
    CliCase(
        "bench-root-benchmarks-without-runner",
        ["bench", "--root", "d"],
        files={"d/benchmarks/bench_gram.py": ""},
        match=r"--root: no benchmarks/run_all.py",
    ),
    CliCase(
        "bench-only-unknown",
        ["bench", "--root", "src", "--only", "nope"],
        files=FAKE_BENCH,
        match=r"--only: unknown benchmark\(s\) nope; known: gram",
    ),
    CliCase(
        "bench-fake-root-ok", ["bench", "--root", "src", "--quiet"], expect="ok", files=FAKE_BENCH
    ),
]
if not IS_ROOT:  # permission bits do not stop root
    CASES.append(
        CliCase(
            "report-out-readonly-parent",
            ["report", "--out", "ro/rep"],
            files={"ro": None},
            chmod={"ro": 0o555},
            match=r"--out: the folder 'ro' is not writable",
            absent=["ro/*"],
        )
    )

results = corpus_fixture(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_cli_case(case, results):
    check_cli_case(case, results[case.id])


def test_bench_streams_summary(results):
    assert "SUMMARY-OK" in results["bench-fake-root-ok"]["stdout"]


# --- API level, with fast fake sections ------------------------------------------------

CALLS = []


def _fake_module(name, fn):
    mod = types.ModuleType(f"spectral_jax.report.{name}")
    mod.TITLE = name
    mod.run = fn
    sys.modules[mod.__name__] = mod
    return name


@pytest.fixture
def fake_sections(monkeypatch):
    """Two fast sections: ``a`` writes a.txt (and, with ctx.full, extra.txt); ``b`` writes b.txt."""
    CALLS.clear()

    def a(ctx):
        CALLS.append("a")
        (ctx.out_dir / "a.txt").write_text("a")
        if ctx.full:
            (ctx.out_dir / "extra.txt").write_text("extra")
        return SectionResult([Claim("s", "c", "1", "1.0", "reproduced")], figures=["a.txt"])

    def b(ctx):
        CALLS.append("b")
        (ctx.out_dir / "b.txt").write_text("b")
        return SectionResult([Claim("s", "d", "2", "2.0", "reproduced")])

    monkeypatch.setattr(
        _driver, "SECTIONS", {"a": _fake_module("_corpus_a", a), "b": _fake_module("_corpus_b", b)}
    )


def _quiet(m):
    pass


def _litter(folder):
    return sorted(p.name for p in folder.rglob("*tmp-*"))


def test_report_writes_manifest(tmp_path, fake_sections):
    out = tmp_path / "rep"
    run_report(out, progress=_quiet)
    man = json.loads((out / MANIFEST).read_text())
    assert man["tool"] == "spectral-jax report"
    assert man["files"] == ["a.txt", "b.txt", "report.html", "report.json", "report.md"]
    assert sorted(p.name for p in out.iterdir()) == sorted(man["files"] + [MANIFEST])


def test_previous_report_replaced_user_files_kept(tmp_path, fake_sections):
    out = tmp_path / "rep"
    run_report(out, full=True, progress=_quiet)  # writes extra.txt too
    (out / "my_notes.txt").write_text("keep me")
    (out / "report.md").write_text("stale")
    run_report(out, only=["a"], progress=_quiet)  # no --force needed for our own folder
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [MANIFEST, "a.txt", "my_notes.txt", "report.html", "report.json", "report.md"]
    )
    assert (out / "my_notes.txt").read_text() == "keep me"
    assert (out / "report.md").read_text() != "stale"
    assert json.loads((out / MANIFEST).read_text())["files"] == [
        "a.txt",
        "report.html",
        "report.json",
        "report.md",
    ]
    assert _litter(tmp_path) == []


def test_out_dot_in_empty_folder_and_again(tmp_path, fake_sections, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["report", "--out", ".", "--quiet"]) == 0
    assert (tmp_path / MANIFEST).is_file() and (tmp_path / "report.html").is_file()
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["report", "--out", ".", "--quiet"]) == 0  # a previous report's folder
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert _litter(tmp_path) == [] and _litter(tmp_path.parent) == []
    capsys.readouterr()


def test_refused_before_any_section_runs(tmp_path, fake_sections):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(OutputPathError, match=r"run_report: out_dir: the folder .* is not empty"):
        run_report(tmp_path, progress=_quiet)
    with pytest.raises(
        OutputPathError, match=r"run_report: out_dir: .* exists and is not a folder"
    ):
        run_report(tmp_path / "notes.txt", progress=_quiet)
    with pytest.raises(OutputPathError, match=r"run_report: out_dir: expected a folder path"):
        run_report("", progress=_quiet)
    with pytest.raises(OutputPathError, match=r"run_report: out_dir: the folder .* does not exist"):
        run_report(tmp_path / "no" / "rep", progress=_quiet)
    assert CALLS == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_bad_argument_types(tmp_path, fake_sections):
    with pytest.raises(TypeError, match=r"run_report: out_dir: expected a folder path; got int"):
        run_report(3, progress=_quiet)
    with pytest.raises(TypeError, match=r"run_report: only must be a sequence"):
        run_report(tmp_path / "r", only="a", progress=_quiet)
    assert CALLS == []


def test_interrupted_section_leaves_previous_report_and_no_litter(
    tmp_path, fake_sections, monkeypatch
):
    out = tmp_path / "rep"
    run_report(out, progress=_quiet)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def interrupted(ctx):
        (ctx.out_dir / "half.png").write_text("half")
        raise KeyboardInterrupt  # Ctrl-C, or SIGTERM turned into KeyboardInterrupt

    monkeypatch.setattr(
        _driver, "SECTIONS", {**_driver.SECTIONS, "b": _fake_module("_corpus_int", interrupted)}
    )
    with pytest.raises(KeyboardInterrupt):
        run_report(out, progress=_quiet)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert _litter(tmp_path) == []
    # a new folder: not created at all
    with pytest.raises(KeyboardInterrupt):
        run_report(tmp_path / "new", progress=_quiet)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]


def test_clash_with_an_unlisted_file_keeps_it(tmp_path, fake_sections):
    out = tmp_path / "rep"
    run_report(out, only=["b"], progress=_quiet)
    (out / "a.txt").write_text("the user's a.txt")  # section a would write a.txt
    with pytest.raises(OutputPathError, match=r"a\.txt' was not written by spectral-jax report"):
        run_report(out, progress=_quiet)
    assert (out / "a.txt").read_text() == "the user's a.txt"
    assert (out / "b.txt").is_file() and _litter(tmp_path) == []


@pytest.mark.parametrize("mask, mode", [(0o022, 0o755), (0o077, 0o700), (0o002, 0o775)])
def test_folder_permissions_follow_umask(tmp_path, fake_sections, mask, mode):
    old = os.umask(mask)
    try:
        run_report(tmp_path / "rep", progress=_quiet)
    finally:
        os.umask(old)
    assert (tmp_path / "rep").stat().st_mode & 0o777 == mode
    assert (tmp_path / "rep" / "report.md").stat().st_mode & 0o777 == mode & 0o666


def _dead_pid():
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_stale_temp_folders_of_ours_only_are_cleaned(tmp_path, fake_sections):
    import socket

    def tmpdir(name, pid):
        d = tmp_path / name
        d.mkdir()
        (d / "half.png").write_text("x")
        if pid is not None:
            (d / _driver._TMP_MARK).write_text(
                json.dumps({"pid": pid, "host": socket.gethostname()})
            )
        return d

    stale = tmpdir("rep.tmp-dead", _dead_pid())
    unmarked = tmpdir("rep.tmp-unmarked", None)  # not ours: kept
    alive = tmpdir("rep.tmp-alive", os.getppid())  # a run still going: kept
    run_report(tmp_path / "rep", progress=_quiet)
    assert not stale.exists() and unmarked.exists() and alive.exists()
    # inside a previous report's folder, a killed run's temporary folder is cleaned too
    inner = tmp_path / "rep" / (_driver._INNER_TMP + "dead")
    inner.mkdir()
    (inner / _driver._TMP_MARK).write_text(
        json.dumps({"pid": _dead_pid(), "host": socket.gethostname()})
    )
    run_report(tmp_path / "rep", progress=_quiet)
    assert not inner.exists()


def test_empty_folder_with_only_a_stale_temp_folder_is_accepted(tmp_path, fake_sections):
    import socket

    out = tmp_path / "rep"
    inner = out / (_driver._INNER_TMP + "dead")
    inner.mkdir(parents=True)
    (inner / _driver._TMP_MARK).write_text(
        json.dumps({"pid": _dead_pid(), "host": socket.gethostname()})
    )
    run_report(out, progress=_quiet)
    assert (out / "report.html").is_file() and not inner.exists()


# --- bench, in-process -------------------------------------------------------------------


def _bench_root(tmp_path, body):
    b = tmp_path / "src" / "benchmarks"
    b.mkdir(parents=True)
    (b / "run_all.py").write_text(body)
    (b / "bench_gram.py").write_text("")
    return str(tmp_path / "src")


def test_bench_streams_and_reports_exit_status(tmp_path, capsys):
    root = _bench_root(
        tmp_path, "import sys\nprint('working', file=sys.stderr)\nprint('SUMMARY')\nsys.exit(1)\n"
    )
    assert main(["bench", "--root", root]) == 1
    cap = capsys.readouterr()
    assert cap.out.startswith("SUMMARY\n") and "FAILED" in cap.out and "working" in cap.err
    assert main(["bench", "--root", root, "--json"]) == 1
    cap = capsys.readouterr()
    data = json.loads(cap.out)  # stdout is the JSON object alone
    assert data["exit_code"] == 1 and data["summary"] == "SUMMARY\n"
    assert "SUMMARY" in cap.err and "working" in cap.err


def test_bench_interrupt_stops_the_suite(tmp_path, capsys, monkeypatch):
    pidfile = tmp_path / "pid"
    root = _bench_root(
        tmp_path,
        f"import os, time\nopen({str(pidfile)!r}, 'w').write(str(os.getpid()))\n"
        "print('started', flush=True)\ntime.sleep(60)\n",
    )

    class Interrupting:
        def write(self, text):
            raise KeyboardInterrupt

        def flush(self):
            pass

    monkeypatch.setattr(sys, "stdout", Interrupting())
    assert main(["bench", "--root", root]) == 130
    monkeypatch.undo()
    pid = int(pidfile.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert "interrupted" in capsys.readouterr().err
