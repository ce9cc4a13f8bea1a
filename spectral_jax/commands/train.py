"""``spectral-jax train``: gradient flow / descent of a network, tracked mode by mode."""

from __future__ import annotations

import argparse

from ._common import CommandResult, add_dtype_option, format_table

NAME = "train"
HELP = "train a shallow net or MLP by gradient flow/descent and track Fourier modes"
DESCRIPTION = (
    "Runs one jitted scan of STEPS steps on the continuous L2 loss (Gauss-Legendre rule on "
    "[-1,1]), records loss and per-mode errors every --record-every steps, prints a summary "
    "and optionally writes the trajectory (.npz with a JSON header) and a plot."
)

STEPPERS = ["euler", "rk4", "sgd", "momentum", "adam", "linearised", "expeuler"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", default="sin4", help="target name or expression (1D)")
    p.add_argument("--arch", choices=["shallow", "mlp"], default="shallow", help="architecture")
    p.add_argument("--width", type=int, default=64, help="hidden width")
    p.add_argument("--depth", type=int, default=2, help="hidden layers of the MLP")
    p.add_argument("--activation", default="relu", help="activation name")
    p.add_argument(
        "--trainable",
        default="all",
        help="parts to train: all, outer, biases, weights, last, second_to_last (comma-combined)",
    )
    p.add_argument("--stepper", choices=STEPPERS, default="euler", help="time stepper / optimizer")
    p.add_argument("--lr", type=float, default=0.01, help="step size (learning rate)")
    p.add_argument("--steps", type=int, default=1000, help="number of steps")
    p.add_argument("--record-every", type=int, default=10, help="record interval in steps")
    p.add_argument("--modes", type=int, default=8, help="Fourier modes tracked (m = 1..M)")
    p.add_argument("--nodes", type=int, default=64, help="Gauss-Legendre panels (8 nodes each)")
    p.add_argument("--seed", type=int, default=0, help="PRNG seed")
    p.add_argument("--out", default=None, help="write the trajectory (.npz) here")
    p.add_argument("--plot", default=None, help="write a PNG of loss and mode errors here")
    p.add_argument("--resume", default=None, help="checkpoint to resume from")
    p.add_argument("--checkpoint", default=None, help="checkpoint file written at the end")
    add_dtype_option(p)


def run(args: argparse.Namespace) -> CommandResult:
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
    from ..networks import MLP, ShallowNetwork, uniform_biases
    from ..quadrature import gauss_legendre
    from ..targets import get_target

    dt = jnp.float64 if args.dtype == "float64" else jnp.float32
    if args.width <= 0:
        raise ValueError(f"train: --width must be a positive integer; got {args.width}")
    if not (args.lr > 0):
        raise ValueError(f"train: --lr (step size) must be positive and finite; got {args.lr}")
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
        resume=args.resume,
    )
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
        initial_loss=float(traj.loss[0]),
        final_loss=float(traj.loss[-1]),
        steps_per_s=md["steps_per_s"],
        wall_s=md["wall_s"],
        fast1d=md["fast1d"],
        nan_step=traj.failed_at,
        drift=float(traj.drift[-1]),
        steps_to_halve={
            int(m): (None if h != h else float(h))
            for m, h in zip(traj.mode_labels, halve, strict=True)
        },
        files=files,
    )
    rows = [
        ["initial loss", traj.loss[0]],
        ["final loss", traj.loss[-1]],
        ["steps", args.steps],
        ["steps/s (incl. compile)", md["steps_per_s"]],
        ["fast 1D path", str(md["fast1d"])],
        ["relative drift", traj.drift[-1]],
        ["NaN at step", "-" if traj.failed_at is None else traj.failed_at],
    ]
    text = format_table(
        ["quantity", "value"], rows, title=f"train {args.arch} ({args.stepper}, lr={lr})"
    )
    if traj.failed_at is not None:
        text += f"\nwarning: non-finite loss at step {traj.failed_at}; kept the last good state"
    return CommandResult(data, text, exit_code=0, files=files)
