"""``spectral-jax penalty``: the spectral penalty rho(k) of built-in or saved activations."""

from __future__ import annotations

import argparse
import os

from ._common import (
    CommandResult,
    add_dtype_option,
    add_force_option,
    check_plot_path,
    format_table,
    positive_int,
)

NAME = "penalty"
HELP = "print or plot the spectral penalty rho(k) = k^(D-1)/|F[phi](k)|^2 of activations"
DESCRIPTION = (
    "Evaluates rho(k) on a log-spaced band for built-in activations (closed forms, or the FFT "
    "with --method fft) and for saved designed activations (.npz files, by FFT)."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--activation",
        nargs="+",
        default=["relu"],
        help="activation names (relu, relu2, tanh, ...) or saved .npz files",
    )
    p.add_argument("--dim", type=positive_int, default=1, help="input dimension D")
    p.add_argument(
        "--band",
        type=float,
        nargs=2,
        default=(0.5, 8.0),
        metavar=("KMIN", "KMAX"),
        help="frequency band",
    )
    p.add_argument("--points", type=int, default=6, help="number of frequencies (log-spaced)")
    p.add_argument(
        "--method",
        choices=["auto", "closed", "fft"],
        default="auto",
        help="closed form where there is one (auto), closed form only, or FFT",
    )
    p.add_argument(
        "--plot",
        default=None,
        help="save a log-log figure of rho(k) (.png, .pdf or .svg, by extension; an existing "
        "file needs --force)",
    )
    add_force_option(p)
    add_dtype_option(p)


def _activation(spec: str):
    """A built-in activation by name, or a saved one (.npz); errors name --activation."""
    from ..activations import get_activation, load_activation

    try:
        if spec.endswith(".npz") or os.path.isfile(spec):
            return load_activation(spec)
        return get_activation(spec)
    except (ValueError, TypeError, KeyError) as err:
        msg = err.args[0] if isinstance(err, KeyError) and err.args else err
        raise ValueError(f"--activation {spec!r}: {msg}") from None


def run(args: argparse.Namespace) -> CommandResult:
    import math
    import time

    import jax.numpy as jnp
    import numpy as np

    from .._progress import Progress
    from ..design import spectral_penalty

    if not 2 <= args.points <= 100_000:
        raise ValueError(f"penalty: --points must be in [2, 100000]; got {args.points}")
    kmin, kmax = args.band
    if not (math.isfinite(kmin) and math.isfinite(kmax) and 0 < kmin < kmax):
        raise ValueError(
            f"penalty: --band must satisfy 0 < KMIN < KMAX (finite); got {kmin} {kmax}"
        )
    check_plot_path(args.plot, force=args.force)
    k = jnp.asarray(np.geomspace(kmin, kmax, args.points), args.dtype)
    table = {}
    t0 = time.perf_counter()
    with Progress(len(args.activation), "penalty", enabled=not args.quiet) as prog:
        for spec in args.activation:
            prog.set_note(spec)
            act = _activation(spec)
            table[spec] = np.asarray(
                spectral_penalty(act, k, args.dim, method=args.method, dtype=args.dtype)
            ).tolist()
            prog.update()
    timings = {"penalty_s": time.perf_counter() - t0}
    data = {"dim": args.dim, "k": np.asarray(k).tolist(), "rho": table}
    files = []
    if args.plot:
        from ..design import plot_penalties

        # the labels are shown literally (a '$' in a file name is not mathtext)
        labels = {name.replace("$", r"\$"): vals for name, vals in table.items()}
        plot_penalties(np.asarray(k), labels, args.plot, dim=args.dim)
        files.append(args.plot)
        data["plot"] = args.plot
    rows = [
        [f"{float(kk):.4g}"] + [table[s][i] for s in args.activation]
        for i, kk in enumerate(np.asarray(k))
    ]
    return CommandResult(
        data,
        format_table(
            ["k", *args.activation], rows, title=f"rho(k) = k^(D-1)/|F[phi](k)|^2, D = {args.dim}"
        ),
        files=files,
        timings=timings,
    )
