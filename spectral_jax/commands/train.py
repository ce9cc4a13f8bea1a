"""``spectral-jax train``: gradient flow / descent of a network, tracked mode by mode."""

from __future__ import annotations

import argparse
import os
import warnings

from ._common import (
    CommandResult,
    add_dtype_option,
    add_force_option,
    check_plot_path,
    format_table,
    positive_float,
    positive_int,
    seed_type,
)

NAME = "train"
HELP = "train a shallow net or MLP by gradient flow/descent and track Fourier modes"
DESCRIPTION = (
    "Runs a jitted scan of STEPS steps on the continuous L2 loss (Gauss-Legendre rule on "
    "[-1,1]), records loss and per-mode errors every --record-every steps, prints a summary "
    "and optionally writes the trajectory (.npz with a JSON header) and a plot. Output "
    "files are checked before the run and written atomically; an existing file is refused "
    "unless --force is given. With --checkpoint the training state is saved at the end, "
    "every --checkpoint-every steps, and on Ctrl-C/SIGTERM (exit status 130); --resume "
    "continues a saved run, bit for bit, with the same settings and a larger --steps. A "
    "run whose loss becomes non-finite or grows past --divergence-factor times its initial "
    "value stops at its last good state with a warning."
)

STEPPERS = ["euler", "rk4", "sgd", "momentum", "adam", "linearised", "expeuler"]

#: the options that change the trajectory: a resumed run must repeat them
_RUN_OPTIONS = (
    "target",
    "arch",
    "width",
    "depth",
    "activation",
    "trainable",
    "stepper",
    "lr",
    "record_every",
    "modes",
    "nodes",
    "seed",
    "dtype",
    "divergence_factor",
)


def _divergence_factor(text: str) -> float:
    """argparse type: a real number > 1, or ``inf``."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 1 (or inf); got {text!r}") from None
    if not v > 1:  # also NaN
        raise argparse.ArgumentTypeError(f"expected a number > 1 (or inf); got {text}")
    return v


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", default="sin4", help="target name or expression (1D)")
    p.add_argument("--arch", choices=["shallow", "mlp"], default="shallow", help="architecture")
    p.add_argument("--width", type=positive_int, default=64, help="hidden width")
    p.add_argument("--depth", type=positive_int, default=2, help="hidden layers of the MLP")
    p.add_argument("--activation", default="relu", help="activation name")
    p.add_argument(
        "--trainable",
        default="all",
        help="parts to train: all, outer, biases, weights, last, second_to_last (comma-combined)",
    )
    p.add_argument("--stepper", choices=STEPPERS, default="euler", help="time stepper / optimizer")
    p.add_argument("--lr", type=positive_float, default=0.01, help="step size (learning rate)")
    p.add_argument(
        "--steps",
        type=positive_int,
        default=1000,
        help="total number of steps (with --resume: including the checkpoint's)",
    )
    p.add_argument("--record-every", type=positive_int, default=10, help="record interval in steps")
    p.add_argument("--modes", type=positive_int, default=8, help="Fourier modes tracked (m = 1..M)")
    p.add_argument(
        "--nodes", type=positive_int, default=64, help="Gauss-Legendre panels (8 nodes each)"
    )
    p.add_argument("--seed", type=seed_type, default=0, help="PRNG seed of the MLP's weights")
    p.add_argument(
        "--divergence-factor",
        type=_divergence_factor,
        default=1e6,
        help="stop (with a warning, keeping the last good state) once the loss exceeds this "
        "multiple of its initial value; inf: never",
    )
    p.add_argument("--out", default=None, help="write the trajectory (.npz) here")
    p.add_argument(
        "--plot", default=None, help="write a figure of loss and mode errors (.png/.pdf/.svg)"
    )
    p.add_argument(
        "--checkpoint",
        default=None,
        help="save the training state (.npz) here at the end, every --checkpoint-every steps "
        "and on Ctrl-C/SIGTERM; an existing file is refused unless it is the --resume file "
        "(then it is updated) or --force is given",
    )
    p.add_argument(
        "--checkpoint-every",
        type=positive_int,
        default=None,
        help="also save the checkpoint every N steps (a multiple of --record-every)",
    )
    p.add_argument(
        "--resume",
        default=None,
        help="continue the run saved in this checkpoint (same settings; --steps is the new total)",
    )
    add_force_option(p)
    add_dtype_option(p)


def _fail(msg: str) -> None:
    from .._files import OutputPathError

    raise OutputPathError(msg)


def _same_file(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    return os.path.realpath(os.path.expanduser(a)) == os.path.realpath(os.path.expanduser(b))


def _check_outputs(args) -> None:
    """Every output path, before anything is built or run."""
    from .._files import check_output_file

    if args.out is not None:
        check_output_file(args.out, arg="--out", force=args.force, suffixes=(".npz",))
    check_plot_path(args.plot, force=args.force)
    if args.checkpoint is not None:
        resuming_it = _same_file(args.checkpoint, args.resume)
        if not (args.force or resuming_it) and os.path.isfile(args.checkpoint):
            _fail(
                f"--checkpoint: {args.checkpoint!r} already exists; pass --resume "
                f"{args.checkpoint} as well to continue that run, or --force to replace it "
                "(or choose another path)"
            )
        check_output_file(args.checkpoint, arg="--checkpoint", force=True, suffixes=(".npz",))
    named = [(o, getattr(args, o.strip("-"))) for o in ("--out", "--plot", "--checkpoint")]
    named = [(o, v) for o, v in named if v is not None]
    for i, (o1, v1) in enumerate(named):
        for o2, v2 in named[i + 1 :]:
            if _same_file(v1, v2):
                _fail(f"{o1} and {o2} name the same file {v1!r}")
        if o1 != "--checkpoint" and _same_file(v1, args.resume):
            _fail(f"{o1}: {v1!r} is the --resume checkpoint; choose another path")


def _run_info(args) -> dict:
    """The options of this run that a resumed run must repeat, keyed by option name."""
    names = [n for n in _RUN_OPTIONS if args.arch == "mlp" or n not in ("depth", "seed")]
    return {"--" + n.replace("_", "-"): getattr(args, n) for n in names}


def _check_resume(args, info: dict) -> None:
    """The --resume file: readable, whole, from a run with these options, fewer steps."""
    from ..dynamics._checkpoint import CheckpointError, read_checkpoint, setting_differences

    ck = read_checkpoint(args.resume, "--resume")
    if ck.steps_done > args.steps:
        raise CheckpointError(
            f"--steps {args.steps} is fewer than the {ck.steps_done} steps already done in the "
            f"--resume checkpoint {args.resume!r}; pass --steps {ck.steps_done} or more"
        )
    if ck.info:
        diffs = setting_differences(ck.info, info)
        if diffs:
            raise CheckpointError(
                f"--resume: checkpoint {args.resume!r} was written by a different run: "
                + "; ".join(diffs)
            )


def _check_sizes(args, itemsize: int) -> None:
    """Refuse sizes whose memory cannot fit, naming the option, before allocating."""
    from .._memory import check_memory
    from ..dynamics._engine import records_bytes
    from ..dynamics._modes import fourier_modes_bytes

    dtype = "float64" if itemsize == 8 else "float32"
    N, n, M = 8 * args.nodes, args.width, args.modes
    if args.arch == "mlp":
        P = 2 * n + 1 + (args.depth - 1) * (n * n + n)
        acts = args.depth * N * n
    else:
        P = 3 * n + 1
        acts = N * n
    nbytes = itemsize * (6 * acts + 8 * P + 4 * N)
    extra = ""
    if args.stepper in ("linearised", "expeuler"):  # a Jacobian and a P x P eigh
        nbytes += itemsize * (2 * N * P + 4 * P * P)
        extra = f"; --stepper {args.stepper} needs {P} x {P} matrices"
    check_memory(
        nbytes,
        what=f"train: --width {n} with --nodes {args.nodes} ({N} loss nodes, {P} parameters"
        f"{extra})",
        hint="use a smaller --width or fewer --nodes",
    )
    check_memory(
        fourier_modes_bytes(M, N, 1, dtype=dtype),
        what=f"train: --modes {M} on --nodes {args.nodes} ({2 * M} basis functions x {N} "
        "loss nodes)",
        hint="track fewer modes (a smaller --modes)",
    )
    n_rec = args.steps // args.record_every
    check_memory(
        records_bytes(n_rec, M, dtype),
        what=(
            f"train: --steps {args.steps} / --record-every {args.record_every} = {n_rec + 1} "
            f"records of {4 + M} values"
        ),
        hint="record less often (a larger --record-every)",
    )


def run(args: argparse.Namespace) -> CommandResult:
    # cheap checks first, naming the options; no JAX work before the outputs are checked
    if args.record_every > args.steps:
        raise ValueError(
            f"train: --record-every ({args.record_every}) must be <= --steps ({args.steps})"
        )
    if args.steps % args.record_every:
        raise ValueError(
            f"train: --steps ({args.steps}) must be a multiple of --record-every "
            f"({args.record_every})"
        )
    if args.checkpoint_every is not None:
        if args.checkpoint is None:
            raise ValueError("train: --checkpoint-every needs --checkpoint (the file to write)")
        if args.checkpoint_every % args.record_every:
            raise ValueError(
                f"train: --checkpoint-every ({args.checkpoint_every}) must be a multiple of "
                f"--record-every ({args.record_every})"
            )
    _check_outputs(args)
    info = _run_info(args)
    if args.resume is not None:
        _check_resume(args, info)
    _check_sizes(args, 8 if args.dtype == "float64" else 4)

    import jax.numpy as jnp
    import jax.random as jr
    import optax

    from ..domains import Interval
    from ..dynamics import (
        RK4,
        Euler,
        ExpEuler,
        LinearisedFlow,
        OptaxStepper,
        fourier_modes,
        loss_domain,
        plot_trajectory,
        steps_to_halve,
        train,
    )
    from ..dynamics._train import TrainingInterrupted
    from ..networks import MLP, ShallowNetwork, uniform_biases
    from ..quadrature import gauss_legendre
    from ..targets import get_target

    dt = jnp.float64 if args.dtype == "float64" else jnp.float32
    target = get_target(args.target, 1)
    dom = loss_domain(
        target,
        gauss_legendre(Interval(), 8, panels=args.nodes, dtype=dt),
        bounds=(-1.0, 1.0),
        dtype=dt,
    )
    key = jr.key(args.seed)
    n = args.width
    if args.arch == "shallow":
        sign = jnp.where(jnp.arange(n) % 2 == 0, 1.0, -1.0).astype(dt)
        net = ShallowNetwork(
            sign / n, jnp.ones((n, 1), dt), uniform_biases(n, dtype=dt), args.activation
        )
    else:
        net = MLP(1, [n] * args.depth, activation=args.activation, key=key, dtype=dt)
    lr = args.lr
    st = dict(
        euler=lambda: Euler(lr),
        rk4=lambda: RK4(lr),
        linearised=lambda: LinearisedFlow(lr),
        expeuler=lambda: ExpEuler(lr),
        sgd=lambda: OptaxStepper(optax.sgd(lr), "sgd"),
        momentum=lambda: OptaxStepper(optax.sgd(lr, momentum=0.9), "momentum"),
        adam=lambda: OptaxStepper(optax.adam(lr), "adam"),
    )[args.stepper]()
    tracker = fourier_modes(dom, args.modes)
    try:
        traj = train(
            net,
            dom,
            stepper=st,
            steps=args.steps,
            record_every=args.record_every,
            trainable=args.trainable,
            mode_tracker=tracker,
            progress=not args.quiet,
            checkpoint=args.checkpoint,
            checkpoint_every=args.checkpoint_every,
            resume=args.resume,
            divergence_factor=args.divergence_factor,
            checkpoint_info=info,
        )
    except TrainingInterrupted as err:  # the CLI prints it as its one "interrupted" line
        raise KeyboardInterrupt(f"{err}; continue with --resume {err.path}") from None
    files = []
    if args.out:
        files.append(traj.save(args.out))
    if args.plot:
        files.append(
            plot_trajectory(traj, args.plot, title=f"{args.arch} {args.activation} {args.stepper}")
        )
    halve = steps_to_halve(traj)
    md = traj.metadata
    data = dict(
        target=target.name,
        arch=args.arch,
        width=n,
        stepper=args.stepper,
        lr=lr,
        steps=args.steps,
        resumed_from=md.get("resumed_from"),
        initial_loss=float(traj.loss[0]),
        final_loss=float(traj.loss[-1]),
        steps_per_s=md["steps_per_s"],
        wall_s=md["wall_s"],
        fast1d=md["fast1d"],
        stopped=traj.stopped,
        stopped_at=traj.failed_at,
        nan_step=traj.failed_at if traj.stopped == "nonfinite" else None,
        divergence_factor=args.divergence_factor,
        drift=float(traj.drift[-1]),
        steps_to_halve={
            int(m): (None if h != h else float(h))
            for m, h in zip(traj.mode_labels, halve, strict=True)
        },
        files=files,
    )
    stop = "-" if traj.stopped is None else f"{traj.stopped} at step {traj.failed_at}"
    rows = [
        ["initial loss", traj.loss[0]],
        ["final loss", traj.loss[-1]],
        ["steps", args.steps],
        ["steps/s (incl. compile)", md["steps_per_s"]],
        ["fast 1D path", str(md["fast1d"])],
        ["relative drift", traj.drift[-1]],
        ["stopped early", stop],
    ]
    text = format_table(
        ["quantity", "value"], rows, title=f"train {args.arch} ({args.stepper}, lr={lr})"
    )
    if traj.stopped == "nonfinite":
        warnings.warn(
            f"non-finite loss at step {traj.failed_at}; kept the last good state (try a "
            "smaller --lr)",
            stacklevel=2,
        )
    elif traj.stopped == "diverged":
        warnings.warn(
            f"the loss diverged: above {args.divergence_factor:g} x its initial value at step "
            f"{traj.failed_at}; kept the last good state (try a smaller --lr)",
            stacklevel=2,
        )
    return CommandResult(data, text, exit_code=0, files=files)
