"""``spectral-jax fit``: least-squares fit of a target by network features or P1 FEM."""

from __future__ import annotations

import argparse

from ._common import (
    CommandResult,
    add_dtype_option,
    add_force_option,
    check_plot_path,
    format_table,
    positive_int,
    resolved_inputs,
    save_figure,
    seed_type,
)

NAME = "fit"
HELP = "least-squares fit of a target in a shallow ReLU network basis or the P1 FEM basis"
DESCRIPTION = (
    "Fits a target (a name such as arctan25, sin8, test2d, or an expression like "
    "'sin(3*pi*x)') by least squares in the span of ReLU(w.x - b) features (plus a constant) "
    "or of the P1 hat functions on the same nodes, and prints MAX/MSE errors on an "
    "evaluation grid with the solver's diagnostics (rank, condition number, residual)."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "target",
        nargs="?",
        default="arctan25",
        help="target name or expression in x (1-D) or x0, x1, ... (d-D: the dimension is "
        "the highest index used + 1, or --dim)",
    )
    p.add_argument(
        "--dim",
        type=positive_int,
        default=None,
        help="dimension of an expression target (default: from the x0, x1, ... it uses)",
    )
    p.add_argument(
        "--width",
        type=positive_int,
        default=100,
        help="number of neurons (biases) n; a width whose matrices cannot fit in memory is "
        "refused before the work",
    )
    p.add_argument(
        "--bias-rule",
        choices=["uniform", "adaptive", "iid"],
        default="uniform",
        help="biases: evenly spaced, equidistributing |f'| (1D), or i.i.d. uniform",
    )
    p.add_argument(
        "--uniform-kind",
        choices=["left", "midpoint", "endpoints"],
        default=None,
        help="1-D targets with --bias-rule uniform: placement of the biases, b_i = -1 + "
        "2(i-1)/n (left, the default: the theorem's rule), cell midpoints, or linspace(-1, 1, "
        "n) (endpoints: the setup that reproduces the slides' Table 1, with --eval-points "
        "10000); d-D uniform biases are cell midpoints",
    )
    p.add_argument(
        "--basis",
        choices=["nn", "fem"],
        default="nn",
        help="network features or P1 finite elements (1D)",
    )
    p.add_argument(
        "--solver",
        choices=["cholesky", "lu", "eigh", "qr", "svd"],
        default="qr",
        help="normal equations G c = F (cholesky, lu: run at any condition number, with a "
        "warning above 1/eps), truncated eigen-solve (eigh), or backward-stable least squares "
        "(qr, svd)",
    )
    p.add_argument(
        "--tau",
        type=float,
        default=None,
        help="eigh only: drop modes below tau*lambda_1 (default machine eps)",
    )
    p.add_argument(
        "--rcond",
        type=float,
        default=None,
        help="svd only: drop singular values below rcond*s_1 (default eps*sqrt(max(rows, n)))",
    )
    p.add_argument(
        "--samples",
        type=positive_int,
        default=None,
        help="fit on this many evenly spaced samples (the Gram solvers then solve the sampled "
        "normal equations Phi^T Phi c = Phi^T y; default: the exact L2 problem)",
    )
    p.add_argument(
        "--eval-points",
        type=positive_int,
        default=None,
        help="evaluation grid points per axis (default 10001 in 1D, 201 in 2D, 41 in 3D); the "
        "error is measured in chunks, a grid that cannot fit in memory is refused",
    )
    p.add_argument(
        "--seed",
        type=seed_type,
        default=None,
        help="random seed (iid biases, d-D directions; default 0; a warning says when the "
        "network has no random part); drawn in float32, so float32 and float64 runs use the "
        "same network",
    )
    p.add_argument(
        "--plot",
        default=None,
        help="save a figure of the fit and its error to this file (.png, .pdf or .svg; an "
        "existing file needs --force)",
    )
    p.add_argument(
        "--out",
        default=None,
        help="write the full result to this .npz file: coefficients, biases, errors, "
        "modes kept, cut-off, spectrum (eigenvalues or singular values); an existing file "
        "needs --force",
    )
    p.add_argument(
        "--save-gram",
        action="store_true",
        help="with --out: also store the Gram matrix G (N x N) of the basis",
    )
    add_force_option(p)
    add_dtype_option(p)


#: how the library's size arguments are called on this command line
_OPTION_NAMES = {
    "where": "fit",
    "width": "--width",
    "dtype": "--dtype",
    "samples": "--samples",
    "eval_points": "--eval-points",
}


def _check_options(args: argparse.Namespace) -> None:
    """Refuse solver knobs the chosen solver does not read (one line naming both)."""
    where = "fit"
    if args.tau is not None and args.solver != "eigh":
        raise ValueError(
            f"{where}: --tau applies only to --solver eigh (its truncation); got --solver "
            f"{args.solver}, which does not use it: drop --tau or use --solver eigh"
        )
    if args.rcond is not None and args.solver != "svd":
        raise ValueError(
            f"{where}: --rcond applies only to --solver svd (its cut-off); got --solver "
            f"{args.solver}, which does not use it: drop --rcond or use --solver svd"
        )
    if getattr(args, "save_gram", False) and getattr(args, "out", None) is None:
        raise ValueError(f"{where}: --save-gram needs --out FILE.npz (where to store G)")
    if getattr(args, "uniform_kind", None) is not None and args.bias_rule != "uniform":
        raise ValueError(
            f"{where}: --uniform-kind applies only to --bias-rule uniform; got --bias-rule "
            f"{args.bias_rule}"
        )
    for name in ("tau", "rcond"):
        v = getattr(args, name)
        if v is not None and not (0.0 <= v < 1.0):  # NaN fails too
            raise ValueError(f"{where}: --{name} must be a relative threshold in [0, 1); got {v}")


def _check_width(args: argparse.Namespace) -> None:
    """Refuse a width whose Gram/feature matrices cannot fit before the network is built
    (a lower bound: three N x N arrays; the library then checks the fit in detail)."""
    import numpy as np

    from .._memory import check_memory

    n1, dt = args.width + 1, np.dtype(args.dtype)
    check_memory(
        3 * n1 * n1 * dt.itemsize,
        what=f"fit: --width {args.width} ({n1} features: {n1} x {n1} {dt.name} matrices)",
        hint="use a smaller --width" + (" or --dtype float32" if dt.itemsize > 4 else ""),
    )


#: the largest input dimension fit accepts (tensor grids beyond it cannot be stored)
_MAX_DIM = 32


def _expression_dim(spec: str) -> int | None:
    """1 + the highest index of the ``x0, x1, ...`` an expression uses; None if it uses
    none (a name, or an expression in ``x``: its own dimension applies)."""
    import re

    idx = [int(i) for i in re.findall(r"\bx(\d+)\b", spec)]
    return max(idx) + 1 if idx else None


def run(args: argparse.Namespace) -> CommandResult:
    import jax.random as jr

    from .._argnames import argument_names
    from ..domains import Box, Interval
    from ..fit import FEMBasis, NetworkBasis, fit_least_squares, plot_fit
    from ..networks import shallow_parameters
    from ..targets import get_target

    where = "fit"
    if args.width <= 0:  # argparse refuses it; a Namespace built by hand may not
        raise ValueError(f"{where}: --width must be a positive integer; got {args.width}")
    dim = args.dim if args.dim is not None else _expression_dim(args.target)
    if dim is not None and dim < 1:
        raise ValueError(f"{where}: --dim must be a positive integer; got {dim}")
    if dim is not None and dim > _MAX_DIM:
        src = "--dim" if args.dim is not None else f"the target (it uses x{dim - 1})"
        raise ValueError(
            f"{where}: {src} asks for dimension {dim}; fit works on [-1, 1]^d for d <= "
            f"{_MAX_DIM} (its quadrature and evaluation grids grow like q^d)"
        )
    _check_options(args)
    plot = check_plot_path(args.plot, force=args.force)
    out = None
    if getattr(args, "out", None) is not None:
        from .._files import check_output_file

        out = check_output_file(args.out, arg="--out", force=args.force, suffixes=(".npz",))
    _check_width(args)
    try:
        t = get_target(args.target, dim=dim)
    except ValueError as err:
        if args.dim is None:
            raise ValueError(f"{where}: target {args.target!r}: {err}") from None
        raise ValueError(f"{where}: --dim {args.dim}: {err}") from err
    dt = args.dtype
    if t.dim > 1 and (args.basis == "fem" or args.bias_rule == "adaptive"):
        raise ValueError(
            f"{where}: --basis fem and --bias-rule adaptive are 1-D only; target "
            f"{t.name!r} is {t.dim}-D"
        )
    # 1D: w_i = 1 and --uniform-kind places uniform biases; d-D: random unit directions
    # and (uniform) cell-midpoint biases, |b| < 1, so every breakplane w.x = b crosses
    # [-1, 1]^d (no dead neuron).
    rule = args.bias_rule
    kind = getattr(args, "uniform_kind", None)
    if kind is not None and t.dim > 1:
        raise ValueError(
            f"{where}: --uniform-kind applies only to 1-D targets (d-D uniform biases are "
            f"cell midpoints); target {t.name!r} is {t.dim}-D: drop --uniform-kind"
        )
    kind_used = (kind or "left") if rule == "uniform" and t.dim == 1 else None
    rule = kind_used or rule
    if args.seed is not None and t.dim == 1 and rule != "iid":
        import warnings

        warnings.warn(
            f"--seed is ignored: the network has no random part (--bias-rule {args.bias_rule} "
            "in 1D)",
            stacklevel=2,
        )
    w, b = shallow_parameters(
        args.width,
        t.dim,
        bias_rule=rule,
        key=jr.key(0 if args.seed is None else args.seed),
        target=t if rule == "adaptive" else None,
        dtype=dt,
    )
    if t.dim == 1:
        domain = Interval()
        keep = b < domain.hi  # ReLU(x - hi) vanishes on the domain (adaptive biases end at hi)
        w, b = w[keep], b[keep]
    else:
        domain = Box.cube(t.dim)
    basis = (
        FEMBasis.from_biases(b, domain)
        if args.basis == "fem"
        else NetworkBasis("relu", w, b, domain)
    )
    with argument_names(**_OPTION_NAMES):
        r = fit_least_squares(
            basis,
            t,
            solver=args.solver,
            tau=args.tau,
            rcond=args.rcond,
            samples=args.samples,
            dtype=dt,
            eval_points=args.eval_points,
        )
    data = {
        "target": t.name,
        "dim": t.dim,
        "basis": args.basis,
        "width": args.width,
        "bias_rule": args.bias_rule,
        **r.summary(),
    }
    files = []
    if out is not None:
        files.append(_save_npz(out, r, basis, data, save_gram=args.save_gram))
        data["out"] = files[-1]
    if plot is not None:
        import matplotlib.pyplot as plt

        fig = plot_fit(r, t, title=f"{t.name}: {args.basis}, n={args.width}")
        try:
            files.append(save_figure(fig, plot))
        finally:
            plt.close(fig)
        data["plot"] = files[-1]
    rows = [[k, v if not isinstance(v, bool) else str(v)] for k, v in data.items()]
    return CommandResult(
        data,
        format_table(["quantity", "value"], rows, title=f"fit {t.name}"),
        files=files,
        inputs=resolved_inputs(
            args, dim=t.dim, uniform_kind=kind_used, seed=0 if args.seed is None else args.seed
        ),
    )


def _save_npz(path, r, basis, data, *, save_gram: bool) -> str:
    """The whole `FitResult` as one ``.npz``, written atomically."""
    import json

    import numpy as np

    from .._files import atomic_write

    arrays = {
        "coefficients": np.asarray(r.coefficients),
        "summary_json": np.asarray(json.dumps(data, default=str)),
        "max_error": np.asarray(r.max_error),
        "mse": np.asarray(r.mse),
        "rel_l2_error": np.asarray(r.rel_l2_error),
        "rank": np.asarray(r.rank),
        "n_features": np.asarray(r.n_features),
        "cutoff": np.asarray(np.nan if r.cutoff is None else r.cutoff),
        "condition_number": np.asarray(r.condition_number),
    }
    if r.spectrum is not None:
        arrays["spectrum"] = np.asarray(r.spectrum)
    for name in ("biases", "weights", "nodes"):
        if hasattr(basis, name):
            arrays[name] = np.asarray(getattr(basis, name))
    if save_gram:
        arrays["gram"] = np.asarray(basis.gram(dtype=r.coefficients.dtype))
    atomic_write(path, lambda fh: np.savez(fh, **arrays))
    return str(path)
