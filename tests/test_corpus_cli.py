"""Bad-input corpus, command-line conventions shared by every command: argument parsing,
the error printer, signals and pipes (the real entry point, in a subprocess)."""

import os
import signal
import subprocess
import sys
import time

import pytest
from corpus import CliCase, check_cli_case, corpus_fixture

_ALL = ["spectrum", "fit", "train", "ntk", "penalty", "design", "rashomon", "report", "bench"]

CASES = [
    # every command: an unknown option, a bad --seed or number where one exists
    *[
        CliCase(
            f"{c}-unknown-option", [c, "--no-such-option"], match=r"unrecognized arguments|required"
        )
        for c in _ALL
    ],
    CliCase("unknown-command", ["frobnicate"], match=r"invalid choice"),
    CliCase("spectrum-width-text", ["spectrum", "--width", "abc"], match=r"--width"),
    CliCase("spectrum-width-float", ["spectrum", "--width", "1.5"], match=r"--width"),
    CliCase("spectrum-width-zero", ["spectrum", "--width", "0"], match=r"--width"),
    CliCase("spectrum-width-negative", ["spectrum", "--width", "-5"], match=r"--width"),
    CliCase("spectrum-dtype-half", ["spectrum", "--dtype", "float16"], match=r"--dtype"),
    CliCase("spectrum-bias-rule", ["spectrum", "--bias-rule", "foo"], match=r"--bias-rule"),
    CliCase("ntk-arch", ["ntk", "--arch", "foo"], match=r"--arch"),
    CliCase("ntk-seed-huge", ["ntk", "--seed", str(2**70)], match=r"--seed"),
    CliCase("ntk-seed-negative", ["ntk", "--seed", "-1"], match=r"--seed"),
    CliCase(
        "rashomon-seed-huge", ["rashomon", "--seed", "99999999999999999999999"], match=r"--seed"
    ),
    CliCase("train-seed-text", ["train", "--seed", "one"], match=r"--seed"),
    # the error printer keeps quotes balanced (it used to strip the closing one)
    CliCase(
        "quote-activation", ["spectrum", "--activation", "nope"], match=r"unknown activation 'nope'"
    ),
    CliCase("quote-penalty-activation", ["penalty", "--activation", "nope"], match=r"'nope'"),
    CliCase("quote-fit-target-name", ["fit", "nope"], match=r"unknown name 'nope' in 'nope'"),
    # help is not an error, and prints no traceback
    *[CliCase(f"{c}-help", [c, "--help"], expect="ok") for c in _ALL],
]

results = corpus_fixture(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_cli_case(case, results):
    check_cli_case(case, results[case.id])


def _spawn(args, *, cache=None, **kw):
    """The console script's entry point, announcing on stderr once the package is imported
    (its compilation cache in the folder `cache`; none without)."""
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"}
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    if cache is None:
        env["SPECTRAL_JAX_NO_COMPILE_CACHE"] = "1"
    else:
        env["XDG_CACHE_HOME"] = str(cache)
        env.pop("SPECTRAL_JAX_NO_COMPILE_CACHE", None)
    code = (
        "import sys, spectral_jax.cli as c; sys.stderr.write('ready\\n'); sys.stderr.flush(); "
        f"sys.argv = ['spectral-jax', *{list(args)!r}]; c._entry()"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        **kw,
    )


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 130)])
def test_interrupt_is_one_line_and_exit_130(sig, code, tmp_path):
    # a command long enough to be interrupted while it works (or while JAX starts)
    proc = _spawn(["rashomon", "--samples", "100000000", "--quiet"], cwd=tmp_path)
    assert proc.stderr.readline() == b"ready\n"
    time.sleep(1.0)
    proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    err = err.decode()
    assert proc.returncode == code, err
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines[-1].endswith("interrupted"), err
    assert list(tmp_path.iterdir()) == []


def test_broken_pipe_is_quiet(tmp_path, tmp_path_factory):
    """(The program also fills its compilation cache in the user cache folder.)"""
    cache = tmp_path_factory.mktemp("cache")
    proc = _spawn(["penalty", "--activation", "relu", "--points", "4"], cwd=tmp_path, cache=cache)
    proc.stdout.close()  # the reader goes away, as `| head -0` does
    try:
        with proc.stderr:
            err = proc.stderr.read().decode().removeprefix("ready\n")
        proc.wait(timeout=120)
    finally:
        proc.kill()
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert proc.returncode == 0, err
    # the program's compilation cache went to $XDG_CACHE_HOME/spectral_jax/jax
    assert any((cache / "spectral_jax" / "jax").iterdir())


_LOST_SIGNAL = """
import gc, os, signal, sys, time
import spectral_jax.cli as c
if sys.argv[1] == "watch":
    c._InterruptWatch().install()
else:
    signal.signal(signal.SIGTERM, lambda s, f: (_ for _ in ()).throw(KeyboardInterrupt))
fired = []
def land_in_collector(phase, info):  # the signal arrives while a gc callback runs
    if phase == "start" and not fired:
        fired.append(1)
        os.kill(os.getpid(), int(sys.argv[2]))
        for _ in range(100000):
            pass
gc.callbacks.append(land_in_collector)
try:
    gc.collect()
    t = time.monotonic()
    while time.monotonic() - t < 2:  # the watch re-sends after 0.05 s
        pass
    print("lost")
except KeyboardInterrupt:
    print("interrupted")
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("watch", [True, False])
def test_signal_landing_in_a_gc_callback_is_not_lost(sig, watch):
    """Python drops the KeyboardInterrupt a signal handler raises inside a garbage-collector
    callback (JAX registers one): the program's interrupt watch sends the signal again, so
    the run still stops; without the watch (the control) the interrupt is lost."""
    proc = subprocess.run(
        [sys.executable, "-c", _LOST_SIGNAL, "watch" if watch else "plain", str(int(sig))],
        capture_output=True,
        timeout=60,
    )
    out, err = proc.stdout.decode().strip(), proc.stderr.decode()
    if watch:
        assert out == "interrupted", (out, err)
        assert "Traceback" not in err and "Exception ignored" not in err, err
    else:
        assert out == "lost", (out, err)
