"""``spectral-jax ntk``: empirical NTK of a shallow or deep network on [-1, 1]^d, its
timing, top operator eigenvalues and their decay rate."""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from ._common import CommandResult, add_dtype_option, format_table

NAME = "ntk"
HELP = "empirical NTK of a network: timing, top eigenvalues, decay rate"
DESCRIPTION = (
    "Build a shallow network (biases evenly spaced on [-1, 1], alternating +-1 directions in "
    "1D, outer weights 1/sqrt(width)) or an MLP, form its NTK on a Gauss-Legendre rule on "
    "[-1, 1]^d, and report the time, the top eigenvalues of the NTK integral operator and "
    "their fitted decay exponent."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--arch", choices=["shallow", "mlp"], default="shallow", help="network architecture"
    )
    p.add_argument("--width", type=int, default=256, help="hidden width")
    p.add_argument("--depth", type=int, default=2, help="hidden layers of the MLP")
    p.add_argument("--dim", type=int, default=1, help="input dimension d (shallow: 1 or 2)")
    p.add_argument("--activation", default="relu", help="activation name (e.g. relu, tanh)")
    p.add_argument(
        "--trainable",
        default="all",
        help="trainable leaves: all, outer, weights, biases, second_to_last, or a comma list",
    )
    p.add_argument("--points", type=int, default=256, help="quadrature points per axis (N)")
    p.add_argument(
        "--method",
        default="auto",
        choices=["auto", "jacfwd", "jacrev", "ntvp", "structured"],
        help="NTK method",
    )
    p.add_argument(
        "--block-size", type=int, default=None, help="rows/columns per block (default: one block)"
    )
    add_dtype_option(p)
    p.add_argument("--eigs", type=int, default=10, help="number of top eigenvalues to print")
    p.add_argument("--seed", type=int, default=0, help="PRNG seed for the MLP")
    p.add_argument("--plot", default=None, help="save the eigenvalue plot to this PNG file")


def _model(args, dt):
    from ..networks import MLP, ShallowNetwork

    if args.width <= 0 or args.depth <= 0 or args.points <= 0 or args.eigs <= 0:
        raise ValueError("ntk: --width, --depth, --points and --eigs must be positive integers")
    if args.arch == "shallow":
        n = args.width
        b = jnp.linspace(-1, 1, n, dtype=dt)
        if args.dim == 1:
            w = jnp.where(jnp.arange(n) % 2 == 0, 1.0, -1.0).astype(dt)[:, None]
        elif args.dim == 2:
            t = 2 * jnp.pi * jnp.arange(n, dtype=dt) * 0.618033988749895
            w = jnp.stack([jnp.cos(t), jnp.sin(t)], -1)
        else:
            raise ValueError(f"ntk: --dim must be 1 or 2 for --arch shallow; got {args.dim}")
        return ShallowNetwork(jnp.ones(n, dt) / np.sqrt(n), w, b, args.activation)
    return MLP(
        args.dim,
        (args.width,) * args.depth,
        activation=args.activation,
        key=jr.key(args.seed),
        dtype=dt,
    )


def run(args: argparse.Namespace) -> CommandResult:
    from .._precision import resolve_dtype
    from ..domains import Box, Interval
    from ..ntk import empirical_ntk, nystrom_eigenvalues
    from ..quadrature import gauss_legendre

    dt = resolve_dtype(args.dtype, "ntk")
    model = _model(args, dt)
    trainable = args.trainable.split(",") if "," in args.trainable else args.trainable
    if isinstance(trainable, list):
        trainable = tuple(t.strip() for t in trainable)
    dom = Interval() if args.dim == 1 else Box.cube(args.dim)
    pts = args.points if args.dim == 1 else max(2, int(round(args.points ** (1 / args.dim))))
    rule = gauss_legendre(dom, pts, dtype=dt)
    kw = dict(trainable=trainable, method=args.method, block_size=args.block_size, dtype=dt)
    t0 = time.perf_counter()
    k = jax.block_until_ready(empirical_ntk(model, rule.nodes, **kw))
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    k = jax.block_until_ready(empirical_ntk(model, rule.nodes, **kw))
    again = time.perf_counter() - t0
    ev = np.asarray(nystrom_eigenvalues(k, rule.weights))
    top = ev[: args.eigs]
    pos = ev[ev > 1e3 * np.finfo(ev.dtype).eps * ev[0]]
    lo, hi = max(1, pos.size // 8), max(2, pos.size // 2)
    idx = np.arange(lo, hi)
    rate = (
        float(-np.polyfit(np.log(idx + 1), np.log(pos[idx]), 1)[0])
        if idx.size >= 3
        else float("nan")
    )
    files = []
    if args.plot:
        from ..ntk import plot_ntk_spectra

        plot_ntk_spectra({f"{args.arch} {args.activation} ({args.trainable})": pos}, args.plot)
        files.append(args.plot)
    data = {
        "arch": args.arch,
        "width": args.width,
        "depth": args.depth if args.arch == "mlp" else 1,
        "activation": args.activation,
        "trainable": args.trainable,
        "points": int(rule.size),
        "method": args.method,
        "dtype": args.dtype,
        "first_call_s": first,
        "time_s": again,
        "eigenvalues": top.tolist(),
        "decay_exponent": rate,
        "plot": args.plot,
    }
    rows = [[i + 1, float(v)] for i, v in enumerate(top)]
    text = format_table(
        ["k", "eigenvalue"],
        rows,
        title=(
            f"NTK of {args.arch} ({args.activation}, width {args.width}, trainable {args.trainable}) on "
            f"{rule.size} points: {again * 1e3:.2f} ms (first call {first:.2f} s); decay exponent {rate:.3f}"
        ),
    )
    return CommandResult(data=data, text=text, files=files)
