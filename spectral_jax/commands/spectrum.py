"""``spectral-jax spectrum``: the Gram-matrix spectrum of a shallow network."""

from __future__ import annotations

import argparse

from ._common import (
    CommandResult,
    add_dtype_option,
    add_force_option,
    check_plot_path,
    format_table,
    named_option,
    nonnegative_int,
    positive_int,
    save_figure,
    seed_type,
)

NAME = "spectrum"
HELP = (
    "eigenvalues of the Gram matrix of a shallow network: decay rate, conditioning, "
    "resolvable modes"
)
DESCRIPTION = (
    "Builds the Gram matrix G_ij = int_D sigma(w_i.x - b_i) sigma(w_j.x - b_j) dx of a "
    "shallow network (1D: the interval (-1,1); 2D/3D: the cube (-1,1)^d), computes its "
    "eigenvalues and prints the leading ones, a fitted decay rate lambda_k ~ C k^-p with its "
    "range, the condition number and the number of modes above n*eps*lambda_1 in float32 "
    "and float64. Optionally plots the spectrum and a few eigenfunctions, and saves all "
    "eigenvalues (and the Gram matrix) to an .npz file."
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


#: how the library's size arguments are called on this command line
_OPTION_NAMES = {
    "where": "spectrum",
    "width": "--width",
    "dtype": "--dtype",
    "level": "--level",
    "order": "--order",
    "method": "--quadrature",
}


def _directions(args: argparse.Namespace) -> str:
    """The direction rule: +1 in 1D, ``--directions`` (default random) otherwise."""
    if args.dim == 1:
        return "ones"
    return "random" if args.directions is None else args.directions


def _is_random(args: argparse.Namespace) -> bool:
    """Whether the network has a random part (so that ``--seed`` matters)."""
    if args.bias_rule == "iid":
        return True
    return _directions(args) == "random"


def _adaptive_target(args: argparse.Namespace):
    """The 1-D target that places the adaptive biases (``--target``, default arctan25)."""
    from ..targets import get_target

    name = "arctan25" if args.target is None else args.target
    t = get_target(name)
    if t.dim != 1:
        raise ValueError(
            f"spectrum: --target for adaptive biases must be 1-D; got {name!r} ({t.dim}-D)"
        )
    return t


def _check_options(args: argparse.Namespace):
    """Refuse options that do not apply; check the figure paths before the work.

    **Returns:** the spectrum figure's path and the eigenfunction figure's (or None)."""
    where = "spectrum"
    if args.eigenfunctions and args.plot is None:
        raise ValueError(
            f"{where}: --eigenfunctions {args.eigenfunctions} needs --plot (the eigenfunctions "
            "figure is written beside the spectrum figure): add --plot FILE.png or drop "
            "--eigenfunctions"
        )
    if args.eigenfunctions > args.width:
        raise ValueError(
            f"{where}: --eigenfunctions {args.eigenfunctions} exceeds --width {args.width} "
            "(the Gram matrix has that many eigenfunctions)"
        )
    fr = _fit_range(args.fit_range)
    if fr is not None and not (1 <= fr[0] and fr[0] + 2 <= fr[1] <= args.width):
        raise ValueError(
            f"{where}: --fit-range K1:K2 must satisfy 1 <= K1, K1 + 2 <= K2 <= --width "
            f"{args.width} (modes are counted from 1); got {args.fit_range}"
        )
    if args.target is not None and args.bias_rule != "adaptive":
        raise ValueError(
            f"{where}: --target applies only with --bias-rule adaptive (it places the biases); "
            f"got --bias-rule {args.bias_rule}: drop --target or use --bias-rule adaptive"
        )
    if args.bias_rule == "adaptive" and args.dim != 1:
        raise ValueError(f"{where}: --bias-rule adaptive is 1-D only; got --dim {args.dim}")
    if args.directions is not None and args.dim == 1:
        raise ValueError(
            f"{where}: --directions applies only with --dim 2 or 3 (1D uses the direction +1); "
            f"got --directions {args.directions} with --dim 1"
        )
    if args.save_gram and args.out is None:
        raise ValueError(
            f"{where}: --save-gram needs --out (the Gram matrix is saved in the --out file): "
            "add --out FILE.npz or drop --save-gram"
        )
    if args.seed is not None and not _is_random(args):
        import warnings

        warnings.warn(
            f"--seed is ignored: the network has no random part (--bias-rule {args.bias_rule}"
            + (" in 1D" if args.dim == 1 else f" with --directions {args.directions}")
            + ")",
            stacklevel=2,
        )
    plot = check_plot_path(args.plot, force=args.force)
    if args.out is not None:
        from .._files import check_output_file

        check_output_file(args.out, arg="--out", force=args.force, suffixes=(".npz",))
    eig_plot = None
    if plot is not None and args.eigenfunctions:
        eig_plot = plot.with_name(f"{plot.stem}_eigenfunctions{plot.suffix}")
        check_plot_path(str(eig_plot), force=args.force, arg="--plot (its eigenfunctions figure)")
    return plot, eig_plot


def _check_memory(args: argparse.Namespace) -> None:
    """Refuse a width whose Gram matrix and eigen-decomposition cannot fit, before the
    network is even built (the library checks each step again, in detail)."""
    import numpy as np

    from .._memory import available_memory, check_memory
    from .._precision import resolve_dtype
    from ..spectrum import eigh_bytes

    n, dt = args.width, np.dtype(resolve_dtype(args.dtype, "spectrum"))
    per = dt.itemsize + eigh_bytes(1, dt)  # bytes per n^2: the Gram plus the eigh workspace
    avail = available_memory()
    fits = "" if avail is None else f" (about {int((0.85 * avail / per) ** 0.5)} fits here)"
    check_memory(
        n * n * per,
        what=f"spectrum: --width {n} (a {n} x {n} {dt.name} Gram matrix and its "
        "eigen-decomposition)",
        hint=f"use a smaller --width{fits}" + (" or --dtype float32" if dt.itemsize > 4 else ""),
    )
    if args.eigenfunctions and args.plot is not None:
        m = 400 if args.dim == 1 else 60**args.dim  # the grid of the eigenfunctions figure
        k = min(args.eigenfunctions, n)
        check_memory(
            n * n * dt.itemsize + (2 * m * n + m * k) * dt.itemsize,
            what=f"spectrum: --eigenfunctions with --width {n} ({n} features on {m} points)",
            hint="use a smaller --width or drop --eigenfunctions",
        )


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--activation", default="relu", help="activation name (relu, relu2, tanh, sigmoid, ...)"
    )
    p.add_argument("--dim", type=int, default=1, choices=[1, 2, 3], help="input dimension d")
    p.add_argument(
        "--width",
        type=positive_int,
        default=200,
        help="number of neurons n (the Gram matrix and its eigen-decomposition need about "
        "5 n^2 numbers; a width that cannot fit in memory is refused before the work)",
    )
    p.add_argument(
        "--bias-rule",
        choices=["uniform", "iid", "adaptive"],
        default="uniform",
        help="biases: evenly spaced on [-1,1), i.i.d. uniform, or equidistributing |f'| of "
        "--target (1D)",
    )
    p.add_argument(
        "--target",
        default=None,
        help="target for --bias-rule adaptive (only then; default arctan25)",
    )
    p.add_argument(
        "--directions",
        choices=["random", "quasi"],
        default=None,
        help="directions in 2D/3D (default random): uniform random, or quasi-uniform; with "
        "--bias-rule uniform, 'quasi' is a low-discrepancy design of the (direction, bias) "
        "pairs over the sphere x [-1, 1] (quasi_uniform_parameters); 1D uses +1 and refuses "
        "this option",
    )
    p.add_argument(
        "--quadrature",
        choices=["auto", "exact", "gauss", "qmc"],
        default="auto",
        help="auto: closed form for 1D ReLU^p, exact composite rule for piecewise "
        "polynomials, refined Gauss otherwise",
    )
    p.add_argument(
        "--order",
        type=positive_int,
        default=None,
        help="Gauss points per panel (default per method; the exact and gauss rules only)",
    )
    p.add_argument(
        "--level",
        type=positive_int,
        default=None,
        help="fixed refinement level (Gauss panels or QMC points) instead of refining to a "
        "tolerance (the gauss and qmc rules only)",
    )
    p.add_argument(
        "--fit-range", default=None, help="K1:K2 modes for the decay fit (default: detected)"
    )
    p.add_argument(
        "--plot",
        default=None,
        help="write a log-log plot of the spectrum to this file (.png, .pdf or .svg; an "
        "existing file needs --force)",
    )
    p.add_argument(
        "--eigenfunctions",
        type=nonnegative_int,
        default=0,
        help="plot this many leading eigenfunctions (needs --plot; written beside it as "
        "NAME_eigenfunctions.EXT)",
    )
    add_force_option(p)
    p.add_argument(
        "--show", type=nonnegative_int, default=8, help="number of leading eigenvalues to print"
    )
    p.add_argument(
        "--out",
        default=None,
        help="save every eigenvalue (descending), the weights and the biases to this .npz "
        "file (an existing file needs --force)",
    )
    p.add_argument(
        "--save-gram",
        action="store_true",
        help="also save the Gram matrix in the --out file (n^2 numbers)",
    )
    p.add_argument(
        "--seed",
        type=seed_type,
        default=None,
        help="random seed for iid biases and random directions (default 0; a warning says "
        "when the network has no random part); drawn in float32, so float32 and float64 "
        "runs use the same network",
    )
    add_dtype_option(p)


def _save(path, spec, gram, w, b, inputs: dict) -> str:
    """Write the ``--out`` file atomically: eigenvalues (descending), weights, biases, the
    resolved inputs (JSON text) and, with ``--save-gram``, the Gram matrix."""
    import numpy as np

    from .._files import atomic_write
    from .._serialize import dump_json

    arrays = {
        "eigenvalues": np.asarray(spec.eigenvalues),
        "weights": np.asarray(w),
        "biases": np.asarray(b),
        "inputs": np.asarray(dump_json(inputs)),
    }
    if gram is not None:
        arrays["gram"] = np.asarray(gram)
    atomic_write(path, lambda fh: np.savez(fh, **arrays))
    return str(path)


def run(args: argparse.Namespace) -> CommandResult:
    import time

    import jax.random as jr
    import numpy as np

    from .._argnames import argument_names
    from .._precision import resolve_dtype
    from .._progress import Progress
    from ..activations import get_activation
    from ..domains import Box, Interval
    from ..gram import gram_matrix_with_error
    from ..networks import shallow_parameters
    from ..spectrum import (
        condition_number,
        decay_rate,
        eigenfunctions,
        eigh_spectrum,
        plot_eigenfunctions,
        plot_spectrum,
        resolvable_modes,
    )
    from ._common import resolved_inputs

    where = "spectrum"
    if args.width <= 0:  # argparse refuses it; a Namespace built by hand may not
        raise ValueError(f"{where}: --width must be a positive integer; got {args.width}")
    fr = _fit_range(args.fit_range)
    dt = np.dtype(resolve_dtype(args.dtype, where)).name
    d = args.dim
    plot, eig_plot = _check_options(args)
    with named_option(where, "--activation", args.activation):
        get_activation(args.activation)
    _check_memory(args)
    seed = 0 if args.seed is None else args.seed
    target = None
    if args.bias_rule == "adaptive":
        target = _adaptive_target(args)
    inputs = resolved_inputs(
        args,
        seed=seed,
        target=None if target is None else target.name,
        directions=_directions(args),
        dtype=dt,
    )
    timings: dict[str, float] = {}
    prog = Progress(3, "spectrum", enabled=not args.quiet)
    t0 = time.perf_counter()
    w, b = shallow_parameters(
        args.width,
        d,
        bias_rule=args.bias_rule,
        directions=inputs["directions"],
        key=jr.key(seed),
        target=target,
        dtype=dt,
    )
    domain = Interval() if d == 1 else Box.cube(d)
    prog.update(1, note="Gram matrix")
    t1 = time.perf_counter()
    timings["network_s"] = t1 - t0
    with argument_names(**_OPTION_NAMES):
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
        res.matrix.block_until_ready()
        t2 = time.perf_counter()
        timings["gram_s"] = t2 - t1
        prog.update(2, note="eigenvalues")
        spec = eigh_spectrum(res.matrix, dtype=dt)
        spec.eigenvalues.block_until_ready()
        timings["eigh_s"] = time.perf_counter() - t2
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
    if args.out is not None:
        files.append(_save(args.out, spec, res.matrix if args.save_gram else None, w, b, inputs))
    if plot is not None:
        import matplotlib.pyplot as plt

        fig = plot_spectrum(
            lam,
            labels=[f"{args.activation}, d={d}, n={args.width}"],
            fits=[fit],
            floor=args.width * np.finfo(np.dtype(dt)).eps * lam[0],
            title=f"Gram spectrum ({np.dtype(dt).name})",
        )
        try:
            files.append(save_figure(fig, plot))
        finally:
            plt.close(fig)
        if eig_plot is not None:
            k = min(args.eigenfunctions, args.width)
            x = domain.grid(400 if d == 1 else 60, dtype=dt)
            vals = eigenfunctions(spec, args.activation, w, b, x, modes=list(range(k)))
            fig = plot_eigenfunctions(
                x,
                vals,
                modes=range(1, k + 1),
                title=f"Gram eigenfunctions: {args.activation}, d={d}, n={args.width}",
            )
            try:
                files.append(save_figure(fig, eig_plot))
            finally:
                plt.close(fig)
    if files:
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
    rows += [["written", f] for f in files]
    title = f"spectrum: {args.activation}, d={d}, n={args.width}, {args.bias_rule} biases, {dt}"
    return CommandResult(
        data,
        format_table(["quantity", "value"], rows, title=title),
        files=files,
        inputs=inputs,
        timings=timings,
    )
