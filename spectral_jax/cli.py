"""The ``spectral-jax`` command line.

This is an entry point: it turns on JAX's x64 mode (so ``--dtype float64`` works) before
dispatching. The library itself never does.

Every subcommand accepts ``--json`` (print one JSON object instead of the table) and
``--quiet`` (no progress on stderr). Bad input prints ``spectral-jax CMD: error: ...``
without a traceback and exits with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings

__all__ = ["main", "build_parser"]


def _enable_x64() -> None:
    import jax

    jax.config.update("jax_enable_x64", True)


def build_parser() -> tuple[argparse.ArgumentParser, dict]:
    from .commands import COMMANDS

    parser = argparse.ArgumentParser(
        prog="spectral-jax",
        description="Numerical analysis of neural networks through their spectra.",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"spectral-jax {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules = {}
    for name, modname in COMMANDS.items():
        try:
            mod = importlib.import_module(f"spectral_jax.commands.{modname}")
        except ModuleNotFoundError as err:  # a command whose module is not installed
            if err.name == f"spectral_jax.commands.{modname}":
                continue
            raise
        p = sub.add_parser(
            name,
            help=mod.HELP,
            description=getattr(mod, "DESCRIPTION", mod.HELP),
            formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        )
        mod.add_arguments(p)
        p.add_argument("--json", action="store_true", help="print the result as one JSON object")
        p.add_argument("--quiet", action="store_true", help="no progress output on stderr")
        modules[name] = mod
    return parser, modules


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


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Exit status: 0 success, 1 a command's partial failure (e.g. a failed report section), 2
    bad input or an error the user can act on (one line on stderr, no traceback), 130
    interrupted (Ctrl-C), 143 terminated (SIGTERM)."""
    from .commands._common import dump_json

    parser, modules = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    _enable_x64()
    mod = modules[args.command]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = mod.run(args)
        except KeyboardInterrupt as err:
            from ._progress import end_open_line

            end_open_line()
            detail = _message(err) if str(err).strip() else ""
            tail = f"; {detail}" if detail and detail != "KeyboardInterrupt" else ""
            print(f"spectral-jax {args.command}: interrupted{tail}", file=sys.stderr)
            return 130
        except _USER_ERRORS as err:
            from ._progress import end_open_line

            end_open_line()
            print(f"spectral-jax {args.command}: error: {_message(err)}", file=sys.stderr)
            return 2
    for w in caught:
        if issubclass(w.category, (DeprecationWarning, FutureWarning)):
            continue
        print(f"spectral-jax {args.command}: warning: {w.message}", file=sys.stderr)
    if args.json:
        print(dump_json(result.data))
    else:
        print(result.text)
    sys.stdout.flush()
    return int(result.exit_code)


def _entry() -> None:  # pragma: no cover
    import os
    import signal

    def _terminate(signum, frame):  # SIGTERM: unwind like Ctrl-C (checkpoints are written)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    try:
        code = main()
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
