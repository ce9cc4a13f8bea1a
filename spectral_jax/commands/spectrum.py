"""``spectral-jax spectrum``: the Gram-matrix spectrum of a shallow network."""

from __future__ import annotations

import argparse

from ._common import CommandResult, add_dtype_option, format_table

NAME = "spectrum"
HELP = "eigenvalues of the Gram matrix of a shallow network: decay rate, conditioning, resolvable modes"
DESCRIPTION = (
    "Builds the Gram matrix G_ij = int_D sigma(w_i.x - b_i) sigma(w_j.x - b_j) dx of a "
    "shallow network (1D: the interval (-1,1); 2D/3D: the cube (-1,1)^d), computes its "
    "eigenvalues and prints the leading ones, a fitted decay rate lambda_k ~ C k^-p with its "
    "range, the condition number and the number of modes above n*eps*lambda_1 in float32 "
    "and float64. Optionally plots the spectrum and a few eigenfunctions."
)


def _fit_range(s: str | None):
    if s is None:
        return None
    try:
        a, b = s.split(":")
        return int(a), int(b)
    except ValueError as err:
        raise ValueError(
            f"spectrum: --fit-range must look like K1:K2 (e.g. 5:200); got {s!r}"
        ) from err


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--activation", default="relu", help="activation name (relu, relu2, tanh, sigmoid, ...)"
    )
    p.add_argument("--dim", type=int, default=1, choices=[1, 2, 3], help="input dimension d")
    p.add_argument("--width", type=int, default=200, help="number of neurons n")
    p.add_argument(
        "--bias-rule",
        choices=["uniform", "iid", "adaptive"],
        default="uniform",
        help="biases: evenly spaced on [-1,1), i.i.d. uniform, or equidistributing |f'| of --target (1D)",
    )
    p.add_argument("--target", default="arctan25", help="target for --bias-rule adaptive")
    p.add_argument(
        "--directions",
        choices=["random", "quasi"],
        default="random",
        help="directions in 2D/3D: uniform random, or quasi-uniform (even angles / Fibonacci); 1D uses +1",
    )
    p.add_argument(
        "--quadrature",
        choices=["auto", "exact", "gauss", "qmc"],
        default="auto",
        help="auto: closed form for 1D ReLU^p, exact composite rule for piecewise polynomials, refined Gauss otherwise",
    )
    p.add_argument(
        "--order", type=int, default=None, help="Gauss points per panel (default per method)"
    )
    p.add_argument(
        "--level",
        type=int,
        default=None,
        help="fixed refinement level (Gauss panels or QMC points) instead of refining to a tolerance",
    )
    p.add_argument(
        "--fit-range", default=None, help="K1:K2 modes for the decay fit (default: detected)"
    )
    p.add_argument("--plot", default=None, help="write a log-log plot of the spectrum to this PNG")
    p.add_argument(
        "--eigenfunctions",
        type=int,
        default=0,
        help="plot this many leading eigenfunctions (needs --plot; saved beside it)",
    )
    p.add_argument("--show", type=int, default=8, help="number of leading eigenvalues to print")
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        help="random seed for iid biases and random directions; drawn in float32, so float32 and float64 runs use the same network",
    )
    add_dtype_option(p)


def run(args: argparse.Namespace) -> CommandResult:
    import jax.numpy as jnp
    import jax.random as jr
    import numpy as np

    from .._progress import Progress
    from ..domains import Box, Interval
    from ..gram import gram_matrix_with_error
    from ..networks import (
        adaptive_biases,
        iid_biases,
        quasi_uniform_directions,
        random_directions,
        uniform_biases,
    )
    from ..spectrum import (
        condition_number,
        decay_rate,
        eigenfunctions,
        eigh_spectrum,
        plot_eigenfunctions,
        plot_spectrum,
        resolvable_modes,
    )

    where = "spectrum"
    if args.width <= 0:
        raise ValueError(f"{where}: --width must be a positive integer; got {args.width}")
    fr = _fit_range(args.fit_range)
    dt = args.dtype
    d = args.dim
    key_b, key_w = jr.split(jr.key(args.seed))
    prog = Progress(3, "spectrum", enabled=not args.quiet)
    if d == 1:
        domain = Interval()
        if args.bias_rule == "uniform":
            b = uniform_biases(args.width, dtype=dt)
        elif args.bias_rule == "iid":
            b = iid_biases(args.width, key=key_b, dtype="float32").astype(dt)
        else:
            from ..targets import get_target

            t = get_target(args.target)
            if t.dim != 1:
                raise ValueError(
                    f"{where}: --target for adaptive biases must be 1-D; got {args.target!r} ({t.dim}-D)"
                )
            b = adaptive_biases(t.scalar(), args.width, domain, dtype=dt)
        w = jnp.ones((args.width, 1), dt)
    else:
        if args.bias_rule == "adaptive":
            raise ValueError(f"{where}: --bias-rule adaptive is 1-D only; got --dim {d}")
        domain = Box.cube(d)
        b = (
            uniform_biases(args.width, dtype=dt, kind="midpoint")
            if args.bias_rule == "uniform"
            else iid_biases(args.width, key=key_b, dtype="float32").astype(dt)
        )
        w = (
            random_directions(args.width, d, key=key_w, dtype="float32").astype(dt)
            if args.directions == "random"
            else quasi_uniform_directions(args.width, d, dtype=dt)
        )
    prog.update(1, note="Gram")
    res = gram_matrix_with_error(
        args.activation,
        w,
        b,
        domain,
        method=args.quadrature,
        order=args.order,
        level=args.level,
        dtype=dt,
    )
    prog.update(2, note="eigh")
    spec = eigh_spectrum(res.matrix, dtype=dt)
    prog.close()
    lam = np.asarray(spec.eigenvalues, dtype=np.float64)
    try:
        fit = decay_rate(spec.eigenvalues, fit_range=fr)
        fit_d = {
            "rate": fit.rate,
            "constant": fit.constant,
            "fit_range": list(fit.fit_range),
            "r_squared": fit.r_squared,
        }
    except ValueError as err:
        if fr is not None:
            raise
        fit, fit_d = None, {"rate": None, "error": str(err)}
    data = {
        "activation": args.activation,
        "dim": d,
        "width": args.width,
        "bias_rule": args.bias_rule,
        "dtype": dt,
        "gram_method": res.method,
        "quadrature_nodes": None if res.rule is None else res.rule.size,
        "quadrature_error_estimate": res.error_estimate,
        "leading_eigenvalues": lam[: args.show].tolist(),
        "decay_fit": fit_d,
        "condition_number": condition_number(lam),
        "resolvable_modes_float32": resolvable_modes(lam, np.float32),
        "resolvable_modes_float64": resolvable_modes(lam, np.float64),
    }
    files = []
    if args.plot:
        files.append(
            str(
                plot_spectrum(
                    lam,
                    args.plot,
                    labels=[f"{args.activation}, d={d}, n={args.width}"],
                    fits=[fit],
                    floor=args.width * np.finfo(np.dtype(dt)).eps * lam[0],
                )
            )
        )
        if args.eigenfunctions > 0:
            k = min(args.eigenfunctions, args.width)
            x = domain.grid(400 if d == 1 else 60, dtype=dt)
            vals = eigenfunctions(spec, args.activation, w, b, x, modes=list(range(k)))
            base = args.plot[:-4] if args.plot.lower().endswith(".png") else args.plot
            files.append(
                str(
                    plot_eigenfunctions(
                        x, vals, base + "_eigenfunctions.png", modes=range(1, k + 1)
                    )
                )
            )
        data["files"] = files
    rows = [[f"lambda_{i + 1}", v] for i, v in enumerate(lam[: args.show])]
    if fit is not None:
        rows.append(["decay rate p (lambda_k ~ C k^-p)", fit.rate])
        rows.append(["fit range k1:k2", f"{fit.fit_range[0]}:{fit.fit_range[1]}"])
        rows.append(["fit R^2", fit.r_squared])
    else:
        rows.append(["decay rate", "not fitted: " + fit_d["error"]])
    rows += [
        ["condition number", data["condition_number"]],
        ["resolvable modes float32 (lambda_k > n eps lambda_1)", data["resolvable_modes_float32"]],
        ["resolvable modes float64", data["resolvable_modes_float64"]],
        ["Gram method", res.method],
        ["quadrature error estimate", res.error_estimate],
    ]
    title = f"spectrum: {args.activation}, d={d}, n={args.width}, {args.bias_rule} biases, {dt}"
    return CommandResult(data, format_table(["quantity", "value"], rows, title=title), files=files)
