"""Shared test helpers: the one tolerance table, keyed by dtype."""

import numpy as np

#: relative tolerances by dtype name for "should agree to rounding" comparisons
RTOL = {"float32": 2e-5, "float64": 1e-12}
#: absolute floor, scaled by the problem's magnitude where used
ATOL = {"float32": 1e-6, "float64": 1e-14}


def rel_err(a, b) -> float:
    """max |a - b| / max |b| (b the reference)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), np.finfo(float).tiny))


def fitted_order(hs, errs) -> float:
    """Slope of log(err) against log(h) by least squares (empirical order)."""
    return float(np.polyfit(np.log(np.asarray(hs)), np.log(np.asarray(errs)), 1)[0])


#: the first bytes of each figure format the library writes
MAGIC = {".png": b"\x89PNG", ".pdf": b"%PDF", ".svg": b"<?xml"}


def overlapping_tick_labels(fig) -> list[tuple[str, str]]:
    """Pairs of drawn tick labels (inside the view) whose boxes overlap, on any axis."""
    import itertools

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    bad = []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            boxes = []
            for tick in [*axis.get_major_ticks(), *axis.get_minor_ticks()]:
                label = tick.label1
                inside = lo * (1 - 1e-9) <= tick.get_loc() <= hi * (1 + 1e-9)
                if inside and label.get_visible() and label.get_text():
                    boxes.append((label.get_text(), label.get_window_extent(renderer)))
            for (ta, a), (tb, b) in itertools.combinations(boxes, 2):
                if a.overlaps(b):
                    bad.append((ta, tb))
    return bad


def legend_covered_points(fig) -> list[tuple[str, int]]:
    """``(axes title, count)`` for each legend that covers drawn data of its axes: line
    vertices (in display coordinates, inside the axes) that fall inside the legend's box."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    bad = []
    for ax in fig.axes:
        leg = ax.get_legend()
        if leg is None:
            continue
        box = leg.get_window_extent(renderer)
        frame = ax.get_window_extent(renderer)
        count = 0
        for line in ax.get_lines():
            xy = np.asarray(line.get_xydata(), dtype=float)
            xy = xy[np.all(np.isfinite(xy), axis=1)]
            if xy.size == 0 or line.get_transform() != ax.transData:
                continue  # axhline & co. span the axes: their ends say nothing
            pts = ax.transData.transform(xy)
            pts = pts[[frame.contains(*pt) for pt in pts]]
            count += int(box.count_contains(pts)) if pts.size else 0
        if count:
            bad.append((ax.get_title(), count))
    return bad
