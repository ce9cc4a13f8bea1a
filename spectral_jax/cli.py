"""The ``spectral-jax`` command line.

This is an entry point: it turns on JAX's x64 mode (so ``--dtype float64`` works) before
dispatching, and JAX's persistent compilation cache in a user cache folder (see
`compile_cache_dir`). The library itself never does either.

Parsing the command line imports neither JAX nor the library (``spectral-jax --help``
answers at once): each command imports what it needs when it runs, inside the handler of
Ctrl-C, so an interrupt at any moment prints one line.

Every subcommand accepts ``--json`` (print one JSON object instead of the table, laid out
by `spectral_jax.commands._common.json_document`), ``--quiet`` (no progress on stderr)
and ``--no-compile-cache``. Bad input prints ``spectral-jax CMD: error: ...`` without a
traceback and exits with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import warnings

__all__ = ["main", "build_parser", "compile_cache_dir"]

#: environment variable that turns the persistent compilation cache off (any value but
#: "" and "0"); the flag ``--no-compile-cache`` does the same for one run
NO_CACHE_ENV = "SPECTRAL_JAX_NO_COMPILE_CACHE"


def compile_cache_dir() -> str:
    """The folder of the command line's persistent compilation cache:
    ``$XDG_CACHE_HOME/spectral_jax/jax`` (``~/.cache/spectral_jax/jax`` when
    ``XDG_CACHE_HOME`` is unset)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "spectral_jax", "jax")


def _cache_folder(args: argparse.Namespace, compile_cache: bool, configured) -> str | None:
    """Where the persistent compilation cache goes for this run, or ``None`` for none:
    off for in-process callers (`compile_cache` false), with ``--no-compile-cache`` or
    ``SPECTRAL_JAX_NO_COMPILE_CACHE``, or when JAX already has a cache folder
    (`configured`, e.g. from ``JAX_COMPILATION_CACHE_DIR``: the user's choice stands)."""
    if not compile_cache or getattr(args, "no_compile_cache", False) or configured:
        return None
    if os.environ.get(NO_CACHE_ENV, "") not in ("", "0"):
        return None
    return compile_cache_dir()


def _setup_jax(args: argparse.Namespace, compile_cache: bool) -> None:
    """Turn on x64 (so ``--dtype float64`` works) and, unless opted out, JAX's persistent
    compilation cache, so that a second run of a command skips most of the compiling."""
    import jax

    jax.config.update("jax_enable_x64", True)
    path = _cache_folder(args, compile_cache, jax.config.jax_compilation_cache_dir)
    if path is None:
        return
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
    except OSError:  # e.g. a read-only home: run without the cache
        return
    if not os.access(path, os.W_OK | os.X_OK):
        return
    jax.config.update("jax_compilation_cache_dir", path)
    # the command line's programs compile in 0.1-1 s each: keep them all
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)


def _version() -> str:
    from ._serialize import tool_version

    return tool_version()


def _add_common_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.add_argument("--quiet", action="store_true", help="no progress output on stderr")
    p.add_argument(
        "--no-compile-cache",
        action="store_true",
        help="do not use the persistent compilation cache (also: environment variable "
        f"{NO_CACHE_ENV}=1); the cache lives in $XDG_CACHE_HOME/spectral_jax/jax "
        "(default ~/.cache/spectral_jax/jax)",
    )


def build_parser(only: str | None = None) -> tuple[argparse.ArgumentParser, dict]:
    """The command line's parser and ``{name: command module}``.

    With `only` (a command name, or ``""`` for none), only that command's module is
    imported and its options added; the others are listed with their one-line help.
    Parsing, ``--help`` and ``--version`` import neither JAX nor the library: a command
    imports what it needs when it runs."""
    from .commands import COMMANDS, SUMMARIES

    parser = argparse.ArgumentParser(
        prog="spectral-jax",
        description="Numerical analysis of neural networks through their spectra.",
    )
    parser.add_argument("--version", action="version", version=f"spectral-jax {_version()}")
    from ._distributed import add_distributed_arguments

    add_distributed_arguments(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules = {}
    for name, modname in COMMANDS.items():
        if only is not None and name != only:
            sub.add_parser(name, help=SUMMARIES[name], add_help=False)
            continue
        try:
            mod = importlib.import_module(f"spectral_jax.commands.{modname}")
        except ModuleNotFoundError as err:  # a command whose module is not installed
            if err.name == f"spectral_jax.commands.{modname}":
                continue
            raise
        p = sub.add_parser(
            name,
            help=SUMMARIES[name],
            description=getattr(mod, "DESCRIPTION", mod.HELP),
            formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        )
        mod.add_arguments(p)
        _add_common_options(p)
        modules[name] = mod
    return parser, modules


def _command_in(argv: list[str]) -> str | None:
    """The command named in ``argv``: the first word that is neither an option nor the
    value of one of the top level's options that take a value (the launcher's)."""
    from ._distributed import VALUE_OPTIONS

    skip = False
    for a in argv:
        if skip:
            skip = False
        elif a in VALUE_OPTIONS:
            skip = True
        elif not a.startswith("-"):
            return a
    return None


def _message(err: BaseException) -> str:
    """One line from an exception: ``KeyError`` quotes its argument, others are verbatim."""
    if isinstance(err, KeyError) and len(err.args) == 1 and isinstance(err.args[0], str):
        msg = err.args[0]
    elif isinstance(err, OSError) and err.filename is not None:
        msg = f"{err.filename}: {err.strerror or err}"
    else:
        msg = str(err)
    msg = " ".join(msg.strip().split())  # one line
    return msg or type(err).__name__


#: exceptions a user can cause with bad input, reported as one line with exit status 2
_USER_ERRORS = (
    ValueError,
    TypeError,
    OSError,
    NotImplementedError,
    KeyError,
    OverflowError,
    MemoryError,
    RecursionError,
)


def _print_warnings(command: str, caught: list) -> None:
    """The warnings a command raised, one line each on stderr (deprecations left out):
    printed on success and before a failure's error line alike."""
    from ._distributed import is_secondary_process

    if is_secondary_process():
        return
    for w in caught:
        if issubclass(w.category, (DeprecationWarning, FutureWarning)):
            continue
        print(f"spectral-jax {command}: warning: {w.message}", file=sys.stderr)


def main(argv: list[str] | None = None, *, compile_cache: bool = False) -> int:
    """Run the command line; returns the exit status.

    `compile_cache`: use JAX's persistent compilation cache (see `compile_cache_dir`;
    the ``spectral-jax`` program turns it on, unless ``--no-compile-cache`` or the
    environment variable ``SPECTRAL_JAX_NO_COMPILE_CACHE`` says otherwise; in-process
    callers such as tests keep their own JAX configuration).

    Exit status: 0 success, 1 a command's partial failure (e.g. a failed report section), 2
    bad input or an error the user can act on (one line on stderr, no traceback), 130
    interrupted (Ctrl-C or SIGTERM)."""
    from .commands._common import dump_json, json_document, resolved_inputs

    argv = sys.argv[1:] if argv is None else list(argv)
    parser, modules = build_parser(only=_command_in(argv) or "")
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    mod = modules[args.command]
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            from ._distributed import initialize_from_args, is_secondary_process

            layout = initialize_from_args(args)
            if layout is not None and layout["process_index"] != 0:
                args.quiet = True
            _setup_jax(args, compile_cache)
            result = mod.run(args)
        except KeyboardInterrupt as err:
            from ._progress import end_open_line

            end_open_line()
            _print_warnings(args.command, caught)
            detail = _message(err) if str(err).strip() else ""
            tail = f"; {detail}" if detail and detail != "KeyboardInterrupt" else ""
            print(f"spectral-jax {args.command}: interrupted{tail}", file=sys.stderr)
            return 130
        except _USER_ERRORS as err:
            from ._progress import end_open_line

            end_open_line()
            _print_warnings(args.command, caught)
            print(f"spectral-jax {args.command}: error: {_message(err)}", file=sys.stderr)
            return 2
    total = time.perf_counter() - t0
    if is_secondary_process():  # process 0 alone reports a multi-process run
        return int(result.exit_code)
    _print_warnings(args.command, caught)
    if args.json:
        inputs = resolved_inputs(args) if result.inputs is None else result.inputs
        timings = {**result.timings, "total_s": total}
        print(dump_json(json_document(args.command, inputs, result.data, timings)))
    else:
        print(result.text)
    sys.stdout.flush()
    return int(result.exit_code)


class _InterruptWatch:
    """Ctrl-C and SIGTERM for the ``spectral-jax`` program: the handler raises
    `KeyboardInterrupt`, so checkpoints and reports unwind as on Ctrl-C. Python drops an
    exception raised while it runs a garbage-collector callback or a finaliser (JAX
    registers a collector callback) and hands it to `sys.unraisablehook` instead: a signal
    that lands there would be lost and the run would go on. The hook installed here sends
    the same signal again a moment later, from a timer thread, so it lands outside."""

    def __init__(self) -> None:
        self._signum: int | None = None
        self._previous_hook = sys.unraisablehook

    def _handler(self, signum, frame):
        self._signum = signum
        raise KeyboardInterrupt

    def _unraisable(self, unraisable) -> None:
        if self._signum is not None and issubclass(unraisable.exc_type, KeyboardInterrupt):
            import os
            import threading

            again = threading.Timer(0.05, os.kill, (os.getpid(), self._signum))
            again.daemon = True
            again.start()
            return
        self._previous_hook(unraisable)

    def install(self) -> None:
        import signal

        self._previous_hook = sys.unraisablehook
        sys.unraisablehook = self._unraisable
        signal.signal(signal.SIGINT, self._handler)
        signal.signal(signal.SIGTERM, self._handler)


def _entry() -> None:  # pragma: no cover
    import os

    _InterruptWatch().install()
    try:
        code = main(compile_cache=True)
    except KeyboardInterrupt:
        print("spectral-jax: interrupted", file=sys.stderr)
        code = 130
    except BrokenPipeError:
        # the reader went away (e.g. `| head`): stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 0
    if code == 130:
        # XLA may still be running work on its own threads: leave without interpreter
        # finalisation (which can crash under them); what must be on disk was written
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    _entry()
