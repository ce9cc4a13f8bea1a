"""``spectral-jax train``: gradient flow / descent of a network, tracked mode by mode."""

from __future__ import annotations

import argparse
import math
import os

from ._common import (
    CommandResult,
    add_dtype_option,
    add_force_option,
    check_plot_path,
    named_option,
    positive_float,
    positive_int,
    seed_type,
)
from ._train_output import many_result, single_result

NAME = "train"
HELP = "train a shallow net or MLP by gradient flow/descent and track Fourier modes"
DESCRIPTION = (
    "Runs a jitted scan of STEPS steps on the continuous L2 loss (Gauss-Legendre rule on "
    "[-1,1]), records loss and per-mode errors every --record-every steps, prints a summary "
    "with the steps to halve each mode (n/a for a mode with no content in the initial "
    "residual, 'not reached' for one that did not halve within the run) and optionally "
    "writes the trajectory (.npz with a JSON header) and a plot. "
    "--lr auto takes 1/lambda_max of the loss Hessian at the start (Lanczos; --auto-factor "
    "c gives c/lambda_max, c < 2). --stepper tsit5|dopri5|dopri8|kvaerno3|kvaerno5 "
    "integrates the gradient flow instead, with error control (--rtol, --atol) up to flow "
    "time --time, recorded at --save-times log-spaced times. --networks K trains K "
    "networks at once (one vmapped scan; shallow: network i has i.i.d. uniform biases "
    "drawn with seed --seed + i; mlp: weights drawn with seed --seed + i). Output files "
    "are checked before the run and written atomically; an existing file is refused "
    "unless --force is given. With --checkpoint the state is saved at the end, every "
    "--checkpoint-every steps (flow: at --checkpoint-times), and on Ctrl-C/SIGTERM (exit "
    "status 130); --resume continues a saved run, bit for bit, with the same settings "
    "(descent: a larger --steps; flow: the same --time). A run whose loss becomes "
    "non-finite or grows past --divergence-factor times its initial value stops at its "
    "last good state with a warning; a loss that increases from one step to the next is "
    "reported (monotone: no)."
)

#: descent steppers (`get_stepper`) and error-controlled flow solvers (`gradient_flow`)
DESCENT = ("euler", "rk4", "sgd", "momentum", "adam", "linearised", "expeuler")
FLOW = ("tsit5", "dopri5", "dopri8", "kvaerno3", "kvaerno5")
STEPPERS = [*DESCENT, *FLOW]
_AUTO_LR = ("euler", "rk4", "linearised", "expeuler")

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
    "auto_factor",
    "record_every",
    "modes",
    "nodes",
    "seed",
    "dtype",
    "divergence_factor",
    "networks",
)
#: options of the descent steppers only / of the flow solvers only (default None: unset)
_DESCENT_ONLY = ("lr", "steps", "record_every", "checkpoint_every", "divergence_factor")
_FLOW_ONLY = ("time", "rtol", "atol", "save_times", "checkpoint_times")
_DEFAULTS = dict(
    lr=0.01,
    steps=1000,
    record_every=10,
    divergence_factor=1e6,
    time=100.0,
    rtol=1e-6,
    atol=1e-9,
    save_times=48,
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


def _lr(text: str) -> float | str:
    """argparse type: a positive finite number, or ``auto``."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return positive_float(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected a positive finite number or 'auto'; got {text!r}"
        ) from None


def _auto_factor(text: str) -> float:
    """argparse type: a number in (0, 2)."""
    try:
        v = float(text)
    except ValueError:
        v = float("nan")
    if not 0 < v < 2:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 2); got {text!r}")
    return v


def _nonneg_float(text: str) -> float:
    """argparse type: a finite real number >= 0."""
    try:
        v = float(text)
    except ValueError:
        v = float("nan")
    if not (math.isfinite(v) and v >= 0):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0; got {text!r}")
    return v


def _times(text: str) -> list[float]:
    """argparse type: comma-separated positive flow times."""
    try:
        ts = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        ts = []
    if not ts or not all(math.isfinite(t) and t > 0 for t in ts):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive flow times; got {text!r}"
        )
    return ts


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", default="sin4", help="target name or expression (1D)")
    p.add_argument("--arch", choices=["shallow", "mlp"], default="shallow", help="architecture")
    p.add_argument("--width", type=positive_int, default=64, help="hidden width")
    p.add_argument(
        "--depth",
        type=positive_int,
        default=None,
        help="hidden layers of the MLP (--arch mlp only; default 2)",
    )
    p.add_argument("--activation", default="relu", help="activation name")
    p.add_argument(
        "--trainable",
        default="all",
        help="parts to train: all, outer, biases, weights, last, second_to_last (comma-combined)",
    )
    p.add_argument(
        "--stepper",
        choices=STEPPERS,
        default="euler",
        help="descent stepper / optimizer (euler, rk4, sgd, momentum, adam, linearised, "
        "expeuler: --lr, --steps) or error-controlled gradient-flow solver (tsit5, dopri5, "
        "dopri8 explicit; kvaerno3, kvaerno5 implicit, for stiff flows: --time, --rtol, --atol)",
    )
    p.add_argument(
        "--lr",
        type=_lr,
        default=None,
        help="step size (learning rate), default 0.01; 'auto' (euler, rk4, linearised, "
        "expeuler): c / lambda_max of the loss Hessian at the start",
    )
    p.add_argument(
        "--auto-factor",
        type=_auto_factor,
        default=None,
        help="c of --lr auto (in (0, 2); default 1)",
    )
    p.add_argument(
        "--steps",
        type=positive_int,
        default=None,
        help="total number of steps, default 1000 (with --resume: including the checkpoint's)",
    )
    p.add_argument(
        "--record-every", type=positive_int, default=None, help="record interval in steps (10)"
    )
    p.add_argument(
        "--time", type=positive_float, default=None, help="flow solvers: final flow time (100)"
    )
    p.add_argument(
        "--rtol", type=positive_float, default=None, help="flow solvers: relative tolerance (1e-6)"
    )
    p.add_argument(
        "--atol", type=_nonneg_float, default=None, help="flow solvers: absolute tolerance (1e-9)"
    )
    p.add_argument(
        "--save-times",
        type=positive_int,
        default=None,
        help="flow solvers: record at 0 and this many log-spaced times up to --time (48)",
    )
    p.add_argument(
        "--checkpoint-times",
        type=_times,
        default=None,
        help="flow solvers: comma-separated flow times in (0, --time) after which the "
        "checkpoint is written (default: every sixth saved time)",
    )
    p.add_argument("--modes", type=positive_int, default=8, help="Fourier modes tracked (m = 1..M)")
    p.add_argument(
        "--nodes", type=positive_int, default=64, help="Gauss-Legendre panels (8 nodes each)"
    )
    p.add_argument(
        "--networks",
        type=positive_int,
        default=1,
        help="train this many networks at once (descent steppers; shallow: i.i.d. uniform "
        "biases, seed --seed + i; mlp: seed --seed + i); prints per-network results",
    )
    p.add_argument(
        "--seed",
        type=seed_type,
        default=None,
        help="PRNG seed of the MLP's weights, or of the i.i.d. biases of --networks K "
        "(network i: --seed + i); default 0. The single shallow network is deterministic "
        "(a warning says --seed is then ignored)",
    )
    p.add_argument(
        "--divergence-factor",
        type=_divergence_factor,
        default=None,
        help="stop (with a warning, keeping the last good state) once the loss exceeds this "
        "multiple of its initial value (1e6); inf: never",
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


def _check_combinations(args) -> None:
    """Options that do not apply to the chosen stepper are refused, not ignored; then the
    defaults are filled in."""
    flow = args.stepper in FLOW
    if args.arch != "mlp" and args.depth is not None:
        raise ValueError(
            "train: --depth applies to --arch mlp only (the shallow network has one hidden layer)"
        )
    if args.arch == "mlp" and args.depth is None:
        args.depth = 2
    if args.arch != "mlp" and args.networks == 1 and args.seed is not None:
        import warnings

        warnings.warn(
            "--seed is ignored with --arch shallow and --networks 1 (the alternating-sign "
            "network is deterministic)",
            stacklevel=2,
        )
    if args.seed is None:
        args.seed = 0
    for name in _DESCENT_ONLY if flow else _FLOW_ONLY:
        if getattr(args, name) is not None:
            opt = "--" + name.replace("_", "-")
            kind = "the flow solvers" if flow else "the descent steppers"
            raise ValueError(
                f"train: {opt} does not apply to --stepper {args.stepper} (not one of {kind}' "
                "options; see --help)"
            )
    for name, v in _DEFAULTS.items():
        if getattr(args, name, None) is None and name in (_FLOW_ONLY if flow else _DESCENT_ONLY):
            setattr(args, name, v)
    if flow and args.networks > 1:
        raise ValueError(f"train: --networks applies to the descent steppers, not {args.stepper}")
    if args.networks > 1 and args.plot is not None:
        raise ValueError("train: --plot draws one network; it is not available with --networks > 1")
    if not flow:
        if args.lr == "auto" and args.stepper not in _AUTO_LR:
            raise ValueError(
                f"train: --lr auto applies to --stepper {', '.join(_AUTO_LR)}; "
                f"{args.stepper} needs a number"
            )
        if args.auto_factor is not None and args.lr != "auto":
            raise ValueError("train: --auto-factor applies only with --lr auto")
    elif args.auto_factor is not None:
        raise ValueError(f"train: --auto-factor does not apply to --stepper {args.stepper}")


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
    names = [
        n
        for n in _RUN_OPTIONS
        if args.arch == "mlp" or n != "depth"
        if args.arch == "mlp" or n != "seed" or args.networks > 1
    ]
    return {"--" + n.replace("_", "-"): getattr(args, n) for n in names}


def _check_resume(args, info: dict) -> None:
    """The --resume file: readable, whole, from a run with these options, fewer steps."""
    from ..dynamics import CheckpointError, read_checkpoint

    ck = read_checkpoint(args.resume, "--resume")
    if ck.steps_done > args.steps:
        raise CheckpointError(
            f"--steps {args.steps} is fewer than the {ck.steps_done} steps already done in the "
            f"--resume checkpoint {args.resume!r}; pass --steps {ck.steps_done} or more"
        )
    if ck.info:
        diffs = ck.differences(info)
        if diffs:
            raise CheckpointError(
                f"--resume: checkpoint {args.resume!r} was written by a different run: "
                + "; ".join(diffs)
            )


def _check_sizes(args, itemsize: int) -> None:
    """Refuse sizes whose memory cannot fit, naming the option, before allocating."""
    from .._memory import check_memory
    from ..dynamics import fourier_modes_bytes, records_bytes

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
    if args.stepper in FLOW:
        check_memory(
            records_bytes(args.save_times, M, dtype),
            what=f"train: --save-times {args.save_times} records of {4 + M} values",
            hint="record at fewer times (a smaller --save-times)",
        )
        return
    n_rec = args.steps // args.record_every
    check_memory(
        args.networks * records_bytes(n_rec, M, dtype),
        what=(
            f"train: --steps {args.steps} / --record-every {args.record_every} = {n_rec + 1} "
            f"records of {4 + M} values"
            + (f" x {args.networks} networks" if args.networks > 1 else "")
        ),
        hint="record less often (a larger --record-every)",
    )


def _build(args):
    """The loss domain, the mode tracker and the network(s) of the run."""
    import jax.numpy as jnp
    import jax.random as jr

    from .._precision import resolve_dtype
    from ..activations import get_activation
    from ..domains import Interval
    from ..dynamics import fourier_modes, loss_domain, stack_models
    from ..networks import MLP, alternating_network, shallow_parameters
    from ..quadrature import gauss_legendre
    from ..targets import get_target

    dt = resolve_dtype(args.dtype, "train: --dtype")
    with named_option("train", "--target", args.target):
        target = get_target(args.target, 1)
    with named_option("train", "--activation", args.activation):
        get_activation(args.activation)
    dom = loss_domain(
        target,
        gauss_legendre(Interval(), 8, panels=args.nodes, dtype=dt),
        bounds=(-1.0, 1.0),
        dtype=dt,
    )
    n = args.width

    def one(i):
        key = jr.key(args.seed + i)
        if args.arch == "mlp":
            return MLP(1, [n] * args.depth, activation=args.activation, key=key, dtype=dt)
        if args.networks == 1:
            return alternating_network(n, args.activation, dtype=dt)
        _, b = shallow_parameters(n, 1, bias_rule="iid", key=key, dtype=dt)
        return alternating_network(n, args.activation, biases=jnp.sort(b), dtype=dt)

    nets = [one(i) for i in range(args.networks)]
    net = nets[0] if args.networks == 1 else stack_models(nets)
    return target, dom, fourier_modes(dom, args.modes), net


def _interrupted(err) -> KeyboardInterrupt:
    return KeyboardInterrupt(f"{err}; continue with --resume {err.path}")


def _flow_progress(args) -> bool:
    """Diffrax's tqdm meter on a terminal only (its text meter would write to stdout)."""
    import importlib.util
    import sys

    return not args.quiet and sys.stderr.isatty() and importlib.util.find_spec("tqdm") is not None


def _run_flow(args, net, dom, tracker):
    import numpy as np

    from ..dynamics import flow_save_times, gradient_flow

    ts = flow_save_times(args.time, args.save_times)
    try:
        return gradient_flow(
            net,
            dom,
            args.time,
            solver=args.stepper,
            rtol=args.rtol,
            atol=args.atol,
            saveat_times=ts,
            trainable=args.trainable,
            tracker=tracker,
            progress=_flow_progress(args),
            checkpoint=args.checkpoint,
            checkpoint_times=None
            if args.checkpoint_times is None
            else np.asarray(args.checkpoint_times),
            resume=args.resume,
            overwrite=args.force,
        )
    except KeyboardInterrupt:
        if args.checkpoint is not None and os.path.isfile(args.checkpoint):
            raise KeyboardInterrupt(
                f"checkpoint of the last completed segment in {args.checkpoint!r}; continue "
                f"with --resume {args.checkpoint}"
            ) from None
        raise


def _run_descent(args, net, dom, tracker, info):
    from ..dynamics import TrainingInterrupted, get_stepper, train, train_many

    knobs = {} if args.auto_factor is None else {"auto_factor": args.auto_factor}
    kw = dict(
        stepper=get_stepper(args.stepper, args.lr, **knobs),
        steps=args.steps,
        record_every=args.record_every,
        trainable=args.trainable,
        mode_tracker=tracker,
        progress=not args.quiet,
        checkpoint=args.checkpoint,
        checkpoint_every=args.checkpoint_every,
        resume=args.resume,
        overwrite=args.force,
        checkpoint_info=info,
    )
    try:
        if args.networks > 1:
            return train_many(net, dom, **kw)
        return train(net, dom, divergence_factor=args.divergence_factor, **kw)
    except TrainingInterrupted as err:  # the CLI prints it as its one "interrupted" line
        raise _interrupted(err) from None


def run(args: argparse.Namespace) -> CommandResult:
    # cheap checks first, naming the options; no JAX work before the outputs are checked
    _check_combinations(args)
    flow = args.stepper in FLOW
    if not flow:
        if args.record_every > args.steps:
            raise ValueError(
                f"train: --record-every ({args.record_every}) must be <= --steps ({args.steps})"
            )
        if args.steps % args.record_every:
            raise ValueError(
                f"train: --steps ({args.steps}) must be a multiple of --record-every "
                f"({args.record_every})"
            )
    elif args.checkpoint_times is not None:
        if args.checkpoint is None:
            raise ValueError("train: --checkpoint-times needs --checkpoint (the file to write)")
        ct = args.checkpoint_times
        if any(b <= a for a, b in zip(ct, ct[1:], strict=False)) or ct[-1] >= args.time:
            raise ValueError(
                f"train: --checkpoint-times must increase and lie in (0, --time {args.time:g})"
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
    if args.resume is not None and not flow:
        _check_resume(args, info)
    _check_sizes(args, 8 if args.dtype == "float64" else 4)

    target, dom, tracker, net = _build(args)
    if flow:
        traj = _run_flow(args, net, dom, tracker)
    else:
        traj = _run_descent(args, net, dom, tracker, info)
    if args.networks > 1:
        return many_result(args, target, traj)
    return single_result(args, target, traj, flow=flow)
