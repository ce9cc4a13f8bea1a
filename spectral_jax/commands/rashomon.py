"""``spectral-jax rashomon``: Monte Carlo Rashomon measure beside the Hoeffding bound."""

from __future__ import annotations

import argparse
import math

from ._common import (
    CommandResult,
    add_dtype_option,
    fmt,
    format_table,
    named_option,
    positive_int,
    resolved_inputs,
    seed_type,
)

NAME = "rashomon"
HELP = "estimate the Rashomon set measure P(||h - f|| <= eps ||f||) and its Hoeffding bound"
DESCRIPTION = (
    "Monte Carlo estimate of the fraction of parameters (|a_j| <= A, |b_j| <= 1, w_j on the "
    "sphere) of h = (1/n) sum_j a_j relu(w_j.x - b_j) within relative L2 error eps of the "
    "target on D = (-1, 1) or the unit ball, with a 95% interval, the probability of the "
    "Hoeffding event <h, f> >= (1 - eps)||f||^2, and the bound "
    "exp(-n(1-eps)^2||f||^4/(2A^2 kappa^2)) with the valid kappa = sup|<relu(w.x - b), f>| "
    "and with the slides' kappa (Poisson)."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--target",
        default="sin2",
        help="target name (sin2, arctan25, ...) or expression in x (x0, x1, r in d-D)",
    )
    p.add_argument("--width", type=positive_int, default=4, help="network width n")
    p.add_argument(
        "--epsilon", type=float, default=0.9, help="relative L2 error threshold in (0, 1)"
    )
    p.add_argument("--A", type=float, default=8.0, help="bound on the outer weights |a_j| <= A")
    p.add_argument(
        "--samples",
        type=positive_int,
        default=1_000_000,
        help="number of Monte Carlo parameter draws (any count runs in bounded memory)",
    )
    p.add_argument(
        "--batch-size",
        type=positive_int,
        default=None,
        help="draws per jitted batch (default: about 2^22/(width x quadrature nodes)); "
        "bounds the memory",
    )
    p.add_argument(
        "--dim",
        type=positive_int,
        default=1,
        help="input dimension d (D is the unit ball for d >= 2; d >= 4 uses a 4096-point "
        "Halton rule for the L2 norms and slicing quadrature for kappa); sinK is sin(K pi x0)",
    )
    p.add_argument("--activation", default="relu", help="activation name")
    p.add_argument("--seed", type=seed_type, default=0, help="PRNG seed, in [0, 2**32)")
    p.add_argument(
        "--shard", action="store_true", help="split each batch over all devices (jax.sharding)"
    )
    add_dtype_option(p)


def _check_batch_memory(args, mesh) -> None:
    """One batch's memory, named by the options, before anything is compiled."""
    from .._memory import array_bytes, check_memory
    from .._precision import resolve_dtype
    from ..rashomon import rashomon_batch_bytes, rashomon_batch_size, rashomon_rule

    dt = resolve_dtype(args.dtype, "rashomon")
    check_memory(  # the default rule's nodes (at most 4608 of them) and the target on them
        array_bytes(4 * 4608, args.dim, dtype=dt),
        what=f"rashomon: --dim {args.dim} (the quadrature nodes in {args.dim} dimensions)",
        hint="use a smaller --dim",
    )
    with named_option("rashomon", "--dim", args.dim):
        m = rashomon_rule(args.dim, dt).size
    n = args.width
    bs = rashomon_batch_size(n, m) if args.batch_size is None else args.batch_size
    ndev = 1 if mesh is None else int(mesh.devices.size)
    padded = -(-bs // ndev) * ndev
    if args.batch_size is None:
        what = f"rashomon: --width {n} (a batch of {bs} network(s) on {m} quadrature nodes)"
        hint = "use a smaller --width"
    else:
        what = f"rashomon: --batch-size {bs} (networks of width {n} on {m} quadrature nodes)"
        hint = "use a smaller --batch-size (or leave it out: the default bounds each batch)"
    check_memory(rashomon_batch_bytes(padded, n, m, args.dim, dt), what=what, hint=hint)
    imax = 2**63 - 1  # the sample index is an int64 (the CLI runs with x64 on)
    if args.samples > imax - 2 * bs:
        raise ValueError(f"rashomon: --samples must be at most {imax - 2 * bs}; got {args.samples}")


def run(args: argparse.Namespace) -> CommandResult:
    import time

    import jax.random as jr

    from ..activations import get_activation
    from ..rashomon import hoeffding_bound, rashomon_estimate, rashomon_kappa
    from ..targets import get_target

    mesh = None
    if args.shard:
        from .._sharding import device_mesh

        mesh = device_mesh()
    if not 0.0 < args.epsilon < 1.0:  # NaN fails too
        raise ValueError(f"rashomon: --epsilon must lie in (0.0, 1.0); got {args.epsilon}")
    if not (math.isfinite(args.A) and args.A > 0):
        raise ValueError(f"rashomon: --A must be a positive finite number; got {args.A}")
    with named_option("rashomon", "--activation", args.activation):
        get_activation(args.activation)
    _check_batch_memory(args, mesh)
    with named_option("rashomon", "--target", args.target):
        target = get_target(args.target, args.dim)
    t0 = time.perf_counter()
    r = rashomon_estimate(
        target,
        args.width,
        args.epsilon,
        A=args.A,
        activation=args.activation,
        num_samples=args.samples,
        batch_size=args.batch_size,
        key=jr.key(args.seed),
        mesh=mesh,
        progress=not args.quiet,
        dtype=args.dtype,
    )
    t1 = time.perf_counter()
    b = hoeffding_bound(
        target, args.width, args.epsilon, args.A, activation=args.activation, dtype=args.dtype
    )
    try:
        kp = rashomon_kappa(target, method="poisson", dtype=args.dtype)
        bp = hoeffding_bound(
            target, args.width, args.epsilon, args.A, kappa=kp, dtype=args.dtype
        ).bound
    except ValueError:  # the slides' constant needs a radial target in d >= 2
        kp = bp = None
    timings = {"monte_carlo_s": t1 - t0, "bounds_s": time.perf_counter() - t1}
    data = {
        "target": target.name,
        "dim": args.dim,
        "width": args.width,
        "epsilon": args.epsilon,
        "A": args.A,
        "samples": r.num_samples,
        "hits": r.hits,
        "probability": r.probability,
        "ci_low": r.ci_low,
        "ci_high": r.ci_high,
        "interval": r.interval_method,
        "hoeffding_probability": r.hoeffding_probability,
        "hoeffding_ci_low": r.hoeffding_ci_low,
        "hoeffding_ci_high": r.hoeffding_ci_high,
        "bound": b.bound,
        "bound_exponent": b.exponent,
        "kappa": b.kappa,
        "kappa_slides": kp,
        "bound_slides": bp,
        "best_relative_error": r.best_relative_error,
        "f_norm_sq": r.f_norm_sq,
        "quadrature_nodes": r.num_nodes,
        "devices": r.num_devices,
        "bound_holds": bool(r.hoeffding_ci_low <= b.bound),
    }
    rows = [
        [
            "P(R_eps) (Monte Carlo)",
            fmt(r.probability),
            f"[{fmt(r.ci_low)}, {fmt(r.ci_high)}] ({r.interval_method})",
        ],
        [
            "P(<h,f> >= (1-eps)||f||^2) (Hoeffding event)",
            fmt(r.hoeffding_probability),
            f"[{fmt(r.hoeffding_ci_low)}, {fmt(r.hoeffding_ci_high)}]",
        ],
        ["Hoeffding bound, kappa = sup|<relu(w.x-b), f>|", fmt(b.bound), f"kappa = {fmt(b.kappa)}"],
        ["slides' bound, kappa from Delta g = f, g = 0 on dD", fmt(bp), f"kappa = {fmt(kp)}"],
        ["best relative error among samples", fmt(r.best_relative_error), ""],
    ]
    title = (
        f"Rashomon set: f = {target.name}, d = {args.dim}, n = {args.width}, "
        f"eps = {args.epsilon:g}, A = {args.A:g}, {r.num_samples} samples, "
        f"{r.num_nodes} quadrature nodes"
    )
    return CommandResult(
        data=data,
        text=format_table(["quantity", "value", "95% interval / constant"], rows, title=title),
        inputs=resolved_inputs(args, target=target.name),
        timings=timings,
    )
