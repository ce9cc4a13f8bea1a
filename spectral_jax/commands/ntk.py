"""``spectral-jax ntk``: empirical NTK of a shallow or deep network on [-1, 1]^d, its
timing, top operator eigenvalues and their decay rate."""

from __future__ import annotations

import argparse
import time
import warnings

from ._common import (
    CommandResult,
    add_dtype_option,
    add_force_option,
    check_plot_path,
    format_table,
    named_option,
    positive_int,
    save_figure,
    seed_type,
)

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
    p.add_argument("--width", type=positive_int, default=256, help="hidden width")
    p.add_argument(
        "--depth",
        type=positive_int,
        default=None,
        help="hidden layers of the MLP (--arch mlp only; default 2)",
    )
    p.add_argument(
        "--dim", type=positive_int, default=1, help="input dimension d (shallow: 1 or 2)"
    )
    p.add_argument("--activation", default="relu", help="activation name (e.g. relu, tanh)")
    p.add_argument(
        "--trainable",
        default="all",
        help="trainable leaves: all, outer, weights, biases, second_to_last, or a comma list",
    )
    p.add_argument(
        "--points",
        type=positive_int,
        default=256,
        help="quadrature points N (in d dimensions a tensor grid of round(N^(1/d)) per axis)",
    )
    p.add_argument(
        "--method",
        default="auto",
        choices=["auto", "jacfwd", "jacrev", "ntvp", "structured", "layered"],
        help="NTK method (layered: --arch mlp, sum over layers of Hadamard products of Gram "
        "matrices, no Jacobian; auto takes it for --arch mlp)",
    )
    p.add_argument(
        "--block-size",
        type=positive_int,
        default=None,
        help="rows/columns per block (default: one block); bounds the Jacobian work, "
        "not the N x N kernel; not used by the 1D ReLU fast path of --method structured",
    )
    add_dtype_option(p)
    p.add_argument(
        "--eigs", type=positive_int, default=10, help="number of top eigenvalues to print"
    )
    p.add_argument(
        "--seed",
        type=seed_type,
        default=None,
        help="PRNG seed of the MLP's weights (--arch mlp only; default 0)",
    )
    p.add_argument(
        "--plot",
        default=None,
        help="save the eigenvalue plot to this file (.png, .pdf or .svg; checked before the "
        "work starts)",
    )
    p.add_argument(
        "--out",
        default=None,
        help="save every eigenvalue (descending), the quadrature nodes and weights and the "
        "resolved inputs to this .npz file (checked before the work starts; an existing file "
        "needs --force)",
    )
    p.add_argument(
        "--save-kernel",
        action="store_true",
        help="also save the N x N NTK matrix in the --out file",
    )
    add_force_option(p)


def _mlp_params(dim: int, width: int, depth: int) -> int:
    return dim * width + width + (depth - 1) * (width * width + width) + width + 1


def _check_options(args) -> None:
    """Options that only one architecture reads, and sizes, before any work."""
    if args.arch == "shallow":
        if args.depth is not None:
            raise ValueError(
                "ntk: --depth applies to --arch mlp only (the shallow network has one hidden layer)"
            )
        if args.dim > 2:
            raise ValueError(
                f"ntk: --dim must be 1 or 2 for --arch shallow; got {args.dim} (use --arch mlp)"
            )
        if args.seed is not None:
            warnings.warn(
                "--seed is ignored with --arch shallow (its weights and biases are deterministic)",
                stacklevel=2,
            )
    if args.method == "structured" and args.arch != "shallow":
        raise ValueError(
            "ntk: --method structured needs --arch shallow (structured_ntk covers "
            "ShallowNetwork only)"
        )
    if args.method == "layered" and args.arch != "mlp":
        raise ValueError(
            "ntk: --method layered needs --arch mlp (the layered NTK covers dense layers; "
            "the shallow network has --method structured)"
        )
    if args.save_kernel and args.out is None:
        raise ValueError(
            "ntk: --save-kernel needs --out (the NTK matrix is saved in the --out file): add "
            "--out FILE.npz or drop --save-kernel"
        )
    if (
        args.block_size is not None
        and args.method == "structured"
        and args.dim == 1
        and args.activation.strip().lower() == "relu"
    ):
        warnings.warn(
            "--block-size is not used by the 1D ReLU fast path of --method structured "
            "(it needs no blocks)",
            stacklevel=2,
        )


def _grid(args) -> int:
    """Points per axis of the tensor Gauss-Legendre grid; refuses a grid far larger than
    --points (at least 2 points per axis in d dimensions)."""
    if args.dim == 1:
        return args.points
    pts = max(2, int(round(args.points ** (1 / args.dim))))
    if pts**args.dim > 4 * args.points:
        raise ValueError(
            f"ntk: --dim {args.dim} needs at least 2 points per axis, 2^{args.dim} nodes; "
            f"--points {args.points} is too few (use a smaller --dim or more --points)"
        )
    return pts


def _model(args, dt):
    import jax.numpy as jnp
    import jax.random as jr
    import numpy as np

    from .._memory import array_bytes, check_memory
    from ..networks import MLP, ShallowNetwork, shallow_parameters

    depth = 2 if args.depth is None else args.depth
    n = args.width
    nparams = (args.dim + 2) * n + 1 if args.arch == "shallow" else _mlp_params(args.dim, n, depth)
    check_memory(
        array_bytes(3 * nparams, dtype=dt),
        what=f"ntk: --width {n}"
        + (f" --depth {depth}" if args.arch == "mlp" else "")
        + f" ({nparams} parameters)",
        hint="use a smaller --width" + (" or --depth" if args.arch == "mlp" else ""),
    )
    if args.arch == "shallow":
        w, b = shallow_parameters(
            n,
            args.dim,
            bias_rule="endpoints",
            directions="alternating" if args.dim == 1 else "golden",
            dtype=dt,
        )
        return ShallowNetwork(jnp.ones(n, dt) / np.sqrt(n), w, b, args.activation)
    return MLP(
        args.dim,
        (n,) * depth,
        activation=args.activation,
        key=jr.key(0 if args.seed is None else args.seed),
        dtype=dt,
    )


def _check_kernel_memory(args, model, trainable, n: int, dt) -> None:
    """The dense N x N kernel, its Jacobian work and the eigenvalue copies, before the
    quadrature rule (itself O(N^2) in 1D) is built."""
    import jax.numpy as jnp

    from .._memory import check_memory
    from ..ntk import check_ntk_memory, eigenvalue_bytes, structured_peak_bytes, trainable_spec

    eig = eigenvalue_bytes(n, dt)
    what = f"ntk: --points {args.points} ({n} nodes, a {n} x {n} NTK by --method {args.method}"
    what += f", width {args.width}, and its eigenvalues)"
    fix = "use fewer --points"
    if args.method == "structured":
        fast = args.dim == 1 and args.activation.strip().lower() == "relu"
        need = eig + structured_peak_bytes(
            n, n, args.width, fast=fast, block_size=args.block_size, dtype=dt
        )
        check_memory(need, what=what, hint=fix + ("" if fast else " or a --block-size"))
        return
    spec = trainable_spec(model, trainable, where="ntk")
    method = args.method
    if method == "layered" or (method == "auto" and args.arch == "mlp"):
        from ..ntk import layered_peak_bytes

        widths = [args.width] * (2 if args.depth is None else args.depth)
        check_memory(
            eig
            + layered_peak_bytes(
                n, n, widths, 1, output="trace", block_size=args.block_size, dtype=dt
            ),
            what=what,
            hint=fix + " (the layered NTK needs O(N^2 + N x sum of widths) memory); the top "
            "eigenvalues alone need no N x N matrix: "
            "spectral_jax.ntk.ntk_eigenvalues(..., lanczos=True, k=K)",
        )
        return
    hint = fix + " or a --block-size (bounds the Jacobian work, not the N x N kernel)"
    if method in ("jacfwd", "ntvp", "auto"):
        hint += ", or --method jacrev (the least memory per row)"
    hint += (
        "; the top eigenvalues alone need no N x N matrix: "
        "spectral_jax.ntk.ntk_operator_eigenvalues(..., lanczos=True, k=K)"
    )
    check_ntk_memory(
        model,
        spec,
        jnp.zeros((1, args.dim), dt),
        n,
        None,
        method=method,
        block_size=args.block_size,
        full=False,
        dtype=dt,
        what=what,
        hint=hint,
        extra=eig,
    )


def _save(path, ev, rule, kernel, inputs: dict) -> str:
    """Write the ``--out`` file atomically: every eigenvalue (descending), the quadrature
    nodes and weights, the resolved inputs (JSON text) and, with ``--save-kernel``, the
    NTK matrix."""
    import numpy as np

    from .._files import atomic_write
    from .._serialize import dump_json

    arrays = {
        "eigenvalues": np.asarray(ev),
        "nodes": np.asarray(rule.nodes),
        "weights": np.asarray(rule.weights),
        "inputs": np.asarray(dump_json(inputs)),
    }
    if kernel is not None:
        arrays["ntk"] = kernel
    atomic_write(path, lambda fh: np.savez(fh, **arrays))
    return str(path)


def run(args: argparse.Namespace) -> CommandResult:
    import jax
    import numpy as np

    from .._precision import resolve_dtype
    from ..activations import get_activation
    from ..domains import Box, Interval
    from ..ntk import empirical_ntk, nystrom_eigenvalues
    from ..quadrature import gauss_legendre
    from ..spectrum import decay_rate

    _check_options(args)
    with named_option("ntk", "--activation", args.activation):
        get_activation(args.activation)
    plot_path = check_plot_path(args.plot, force=args.force)
    out_path = None
    if args.out is not None:
        from .._files import check_output_file

        out_path = check_output_file(args.out, arg="--out", force=args.force, suffixes=(".npz",))
    dt = resolve_dtype(args.dtype, "ntk")
    pts = _grid(args)
    size = pts**args.dim
    if args.eigs > size:
        raise ValueError(
            f"ntk: --eigs {args.eigs} exceeds the number of quadrature nodes, {size} (raise "
            "--points or lower --eigs)"
        )
    model = _model(args, dt)
    trainable = args.trainable.split(",") if "," in args.trainable else args.trainable
    if isinstance(trainable, list):
        trainable = tuple(t.strip() for t in trainable)
    _check_kernel_memory(args, model, trainable, size, dt)
    dom = Interval() if args.dim == 1 else Box.cube(args.dim)
    rule = gauss_legendre(dom, pts, dtype=dt)
    kw = dict(trainable=trainable, method=args.method, block_size=args.block_size, dtype=dt)
    t0 = time.perf_counter()
    k = jax.block_until_ready(empirical_ntk(model, rule.nodes, **kw))
    first = time.perf_counter() - t0
    del k  # one kernel at a time
    t0 = time.perf_counter()
    k = jax.block_until_ready(empirical_ntk(model, rule.nodes, **kw))
    again = time.perf_counter() - t0
    ev = np.asarray(nystrom_eigenvalues(k, rule.weights))
    kernel = np.asarray(k) if args.save_kernel else None
    del k
    top = ev[: args.eigs]
    pos = ev[ev > 1e3 * np.finfo(ev.dtype).eps * ev[0]]
    lo, hi = max(1, pos.size // 8), max(2, pos.size // 2)
    rate = decay_rate(pos, fit_range=(lo + 1, hi)).rate if hi - lo >= 3 else float("nan")
    files = []
    if plot_path is not None:
        from ..ntk import plot_ntk_spectra

        fig = plot_ntk_spectra({f"{args.arch} {args.activation} ({args.trainable})": pos})
        files.append(save_figure(fig, plot_path))
    depth = 2 if args.depth is None else args.depth
    data = {
        "arch": args.arch,
        "width": args.width,
        "depth": depth if args.arch == "mlp" else 1,
        "activation": args.activation,
        "trainable": args.trainable,
        "points": int(rule.size),
        "method": args.method,
        "dtype": args.dtype,
        "first_call_s": first,
        "time_s": again,
        "eigenvalues": top.tolist(),
        "decay_exponent": rate,
        "plot": files[0] if files else None,
    }
    if out_path is not None:
        files.append(_save(out_path, ev, rule, kernel, {**data, "eigenvalues": None}))
        data["out"] = files[-1]
    rows = [[i + 1, float(v)] for i, v in enumerate(top)]
    text = format_table(
        ["k", "eigenvalue"],
        rows,
        title=(
            f"NTK of {args.arch} ({args.activation}, width {args.width}, trainable "
            f"{args.trainable}) on {rule.size} points: {again * 1e3:.2f} ms (first call "
            f"{first:.2f} s); decay exponent {rate:.3f}"
        ),
    )
    return CommandResult(data=data, text=text, files=files)
