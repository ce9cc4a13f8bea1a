"""``spectral-jax design``: an activation from a target spectral penalty rho(k)."""

from __future__ import annotations

import argparse

from ._common import (
    CommandResult,
    add_dtype_option,
    add_force_option,
    check_plot_path,
    format_table,
    positive_int,
)

NAME = "design"
HELP = "design an activation whose spectral penalty is a target rho(k) and save it"
DESCRIPTION = (
    "Computes phi = F^-1[(rho(k)/k^(D-1))^(-1/2)] by FFT (designing a derivative of phi and "
    "integrating, or tapering, where needed), writes it as a tabulated activation (.npz) and "
    "prints the diagnostics: the achieved penalty against the target over the band. "
    "rho(k)/k^(D-1) must grow at large k (a decaying or bounded penalty is refused: "
    "|F[phi]|^2 would not decay, so phi would not be a function). The output files are "
    "checked before the work starts; an existing file is replaced only with --force. "
    "Example: spectral-jax design --rho 'k**6' --band 0.5 5 --out relu2_like.npz"
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--rho",
        required=True,
        help="target penalty as an expression in k (numbers, pi, e, + - * / **, exp log sqrt "
        "abs sin cos tanh sinh cosh log1p expm1 maximum minimum), e.g. 'exp(2*abs(k))' or "
        "'k**6'; it must grow faster than k^(D-1)",
    )
    p.add_argument("--dim", type=positive_int, default=1, help="input dimension D of the network")
    p.add_argument(
        "--accuracy",
        type=_accuracy,
        default=1e-4,
        help="relative error allowed for the achieved penalty on --band, "
        "max |rho_achieved/rho - 1| (max_rel_error, recomputed independently to "
        "accuracy/10); accuracy_met says whether it holds, and a warning names --accuracy / "
        "--max-points when it does not",
    )
    p.add_argument(
        "--max-points",
        type=positive_int,
        default=1 << 22,
        help="largest grid (FFT size) allowed for the design and for its check; the design "
        "stops with an error when the accuracy needs more. A penalty growing like a power of "
        "k (e.g. 'k**6') is tapered at about KMAX*sqrt(2/accuracy), and its check must "
        "resolve the taper: a wide band at a tight accuracy can need more than the default "
        "(narrow --band, relax --accuracy or raise this limit)",
    )
    p.add_argument(
        "--band",
        type=float,
        nargs=2,
        default=(0.1, 10.0),
        metavar=("KMIN", "KMAX"),
        help="frequency band where the achieved penalty is checked",
    )
    p.add_argument(
        "--out",
        default="designed_activation.npz",
        help="file to write the activation to (.npz; an existing file needs --force)",
    )
    p.add_argument("--name", default="designed", help="name stored with the activation")
    p.add_argument(
        "--plot",
        default=None,
        help="save a figure of phi, |F[phi]|^2 and achieved vs target rho (.png, .pdf or .svg, "
        "by extension; an existing file needs --force)",
    )
    add_force_option(p)
    add_dtype_option(p)


def _accuracy(text: str) -> float:
    import math

    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1); got {text!r}") from None
    if not (math.isfinite(v) and 0 < v < 1):
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1); got {text}")
    return v


def _plain(text: str) -> str:
    """`text` shown literally in a matplotlib title (no mathtext)."""
    return text.replace("$", r"\$")


def run(args: argparse.Namespace) -> CommandResult:
    import math
    import time

    from .._files import check_output_file
    from .._progress import Progress
    from ..activations import save_activation
    from ..design import as_rho, design_activation, plot_design

    # everything the user can get wrong is checked before the design runs
    check_output_file(args.out, arg="--out", force=args.force, suffixes=(".npz",))
    check_plot_path(args.plot, force=args.force)
    kmin, kmax = args.band
    if not (math.isfinite(kmin) and math.isfinite(kmax) and 0 < kmin < kmax):
        raise ValueError(f"--band must satisfy 0 < KMIN < KMAX (finite); got {kmin:g} {kmax:g}")
    as_rho(args.rho, "--rho")
    timings = {}
    with Progress(2, "design", enabled=not args.quiet) as bar:
        bar.set_note("FFT design and check of the achieved penalty")
        t0 = time.perf_counter()
        r = design_activation(
            args.rho,
            args.dim,
            band=(kmin, kmax),
            accuracy=args.accuracy,
            max_points=args.max_points,
            name=args.name,
            dtype=args.dtype,
        )
        timings["design_s"] = time.perf_counter() - t0
        bar.update(1, note="writing")
        info = {"rho": args.rho, **r.summary()}
        save_activation(args.out, r.activation, info=info, overwrite=args.force)
        data = {**info, "file": args.out}
        files = [args.out]
        if args.plot:
            bar.set_note("figure")
            title = rf"target $\rho(k)$ = {_plain(args.rho)}, $D = {args.dim}$"
            plot_design(r, args.plot, title=title)
            files.append(args.plot)
            data["plot"] = args.plot
        bar.update(2)
    rows = [
        [k, v if not isinstance(v, (list, tuple)) else ", ".join(f"{x:g}" for x in v)]
        for k, v in data.items()
        if v is not None
    ]
    return CommandResult(
        data,
        format_table(["quantity", "value"], rows, title=f"design rho = {args.rho}"),
        files=files,
        timings=timings,
    )
