"""Output of ``spectral-jax train``: the tables, the JSON data, the files and warnings."""

from __future__ import annotations

import os
import warnings

from ._common import CommandResult, fmt, format_table

__all__ = ["many_result", "single_result"]


def _halving(traj) -> tuple[dict, dict]:
    """Mode -> steps (flow: time) to halve (``None`` if none), and mode -> what the table
    prints: the number, ``n/a`` where the library gives ``None`` (no content in the
    initial residual) or ``not reached`` (NaN: it did not halve within the run)."""
    from ..dynamics import halving_times

    out, shown = {}, {}
    for m, h in zip(traj.mode_labels, halving_times(traj, interpolate=False), strict=True):
        m = int(m)
        if h is None:
            out[m], shown[m] = None, "n/a"
        elif h != h:
            out[m], shown[m] = None, "not reached"
        else:
            out[m] = shown[m] = float(h)
    return out, shown


def _halving_table(shown: dict, unit: str) -> str:
    rows = [[m, h] for m, h in shown.items()]
    return format_table(["mode m", f"{unit} to halve"], rows)


def _warn_stop(traj, factor) -> None:
    if traj.stopped == "nonfinite":
        warnings.warn(
            f"non-finite loss at step {traj.failed_at}; kept the last good state (try a "
            "smaller --lr)",
            stacklevel=4,
        )
    elif traj.stopped == "diverged":
        warnings.warn(
            f"the loss diverged: above {factor:g} x its initial value at step "
            f"{traj.failed_at}; kept the last good state (try a smaller --lr)",
            stacklevel=4,
        )


def single_result(args, target, traj, *, flow: bool) -> CommandResult:
    """The table, JSON and files of a one-network run (``flow``: a gradient-flow solver,
    else a descent stepper)."""
    from ..dynamics import plot_trajectory

    files = []
    if args.out:
        files.append(traj.save(args.out))
    if args.plot:
        import matplotlib.pyplot as plt

        how = "gradient flow" if flow else "training"
        fig = plot_trajectory(
            traj,
            args.plot,
            title=f"{how} ({args.stepper}): {args.arch} {args.activation}, width {args.width}",
        )
        plt.close(fig)
        files.append(os.fspath(args.plot))
    halve, shown = _halving(traj)
    md = traj.metadata
    unit = "flow time" if flow else "steps"
    data = dict(
        target=target.name,
        arch=args.arch,
        width=args.width,
        stepper=args.stepper,
        initial_loss=float(traj.loss[0]),
        final_loss=float(traj.loss[-1]),
        wall_s=md["wall_s"],
        fast1d=md["fast1d"],
        monotone=traj.monotone,
        first_increase=traj.first_increase,
        drift=float(traj.drift[-1]),
        steps_to_halve=halve,
        modes_no_content=[m for m, v in shown.items() if v == "n/a"],
        files=files,
    )
    rows = [["initial loss", traj.loss[0]], ["final loss", traj.loss[-1]]]
    if flow:
        data.update(
            time=args.time,
            rtol=args.rtol,
            atol=args.atol,
            completed=traj.completed,
            stopped=traj.stopped,
            solver_steps=traj.stats.get("num_steps"),
            accepted_steps=traj.stats.get("num_accepted_steps"),
            rejected_steps=traj.stats.get("num_rejected_steps"),
        )
        rows += [
            ["flow time", args.time],
            ["solver steps (accepted/rejected)",
             f"{traj.stats.get('num_accepted_steps')}/{traj.stats.get('num_rejected_steps')}"],
            ["completed", "yes" if traj.completed else f"no: {traj.stopped}"],
        ]  # fmt: skip
        title = f"train {args.arch} (gradient flow, {args.stepper}, rtol={args.rtol:g})"
    else:
        data.update(
            lr=md["lr"],
            lr_auto=md.get("lr_auto"),
            steps=args.steps,
            resumed_from=md.get("resumed_from"),
            steps_per_s=md["steps_per_s"],
            stopped=traj.stopped,
            stopped_at=traj.failed_at,
            nan_step=traj.failed_at if traj.stopped == "nonfinite" else None,
            divergence_factor=args.divergence_factor,
        )
        stop = "-" if traj.stopped is None else f"{traj.stopped} at step {traj.failed_at}"
        rows += [
            ["steps", args.steps],
            ["step size" + (" (auto)" if args.lr == "auto" else ""), md["lr"]],
            ["steps/s (incl. compile)", md["steps_per_s"]],
            ["stopped early", stop],
        ]
        title = f"train {args.arch} ({args.stepper}, lr={fmt(md['lr'])})"
    rows += [
        ["fast 1D path", str(md["fast1d"])],
        ["relative drift", traj.drift[-1]],
        ["monotone loss", "yes" if traj.monotone else f"no: increased at {traj.first_increase}"],
    ]
    text = format_table(["quantity", "value"], rows, title=title)
    text += "\n\n" + _halving_table(shown, unit)
    if not flow:
        _warn_stop(traj, args.divergence_factor)
    return CommandResult(data, text, exit_code=0, files=files)


def many_result(args, target, batch) -> CommandResult:
    """Per-network results of ``--networks K``."""
    import numpy as np

    from ..dynamics import halving_times

    files = []
    if args.out:
        files.append(batch.save(args.out))
    halve = np.asarray(
        [
            [np.nan if h is None else h for h in halving_times(batch[i], interpolate=False)]
            for i in range(len(batch))
        ],
        dtype=float,
    )
    med = {
        int(m): (None if not np.any(np.isfinite(col)) else float(np.nanmedian(col)))
        for m, col in zip(batch.mode_labels, halve.T, strict=True)
    }
    md = batch.metadata
    data = dict(
        target=target.name,
        arch=args.arch,
        width=args.width,
        stepper=args.stepper,
        networks=len(batch),
        lr=md["lr"],
        lr_auto=md.get("lr_auto"),
        steps=args.steps,
        resumed_from=md.get("resumed_from"),
        initial_loss=batch.loss[:, 0].tolist(),
        final_loss=batch.loss[:, -1].tolist(),
        stopped_at=batch.failed_at,
        monotone=batch.monotone,
        first_increase=batch.first_increase,
        median_steps_to_halve=med,
        network_steps_per_s=md["network_steps_per_s"],
        wall_s=md["wall_s"],
        fast1d=md["fast1d"],
        files=files,
    )
    rows = [
        [i, batch.loss[i, 0], batch.loss[i, -1],
         "-" if batch.failed_at[i] is None else batch.failed_at[i],
         "yes" if batch.monotone[i] else f"no ({batch.first_increase[i]})"]
        for i in range(len(batch))
    ]  # fmt: skip
    text = format_table(
        ["network", "initial loss", "final loss", "stopped at", "monotone"],
        rows,
        title=f"train {len(batch)} x {args.arch} ({args.stepper}, lr={fmt(md['lr'])})",
    )
    shown = {m: "n/a / not reached" if v is None else v for m, v in med.items()}
    text += "\n\n" + _halving_table(shown, "median steps")
    for i, f in enumerate(batch.failed_at):
        if f is not None:
            warnings.warn(f"network {i}: non-finite loss at step {f}; kept its last good state",
                          stacklevel=2)  # fmt: skip
    return CommandResult(data, text, exit_code=0, files=files)
