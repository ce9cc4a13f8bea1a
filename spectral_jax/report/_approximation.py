"""Report section: least squares vs FEM (slides' Table 1), the low-pass filter, stability.

Source: arXiv:2306.17301 and its talk slides. Table 1 is computed in full (n = 100 and
1000, every cell) by default; ``ctx.full`` enlarges the low-pass and stability studies."""

from __future__ import annotations

import jax.numpy as jnp
import jax.random as jr
import numpy as np

from ..fit import SLIDES_TABLE1 as SLIDES  # the slides' Table 1, kept once (public)
from ._section import Claim, SectionContext, SectionResult

TITLE = "Approximation: least squares vs finite elements, the low-pass filter, stability"
SRC = "2306.17301 slides"


#: the setup under which the slides' float64 rows are reproduced (found by the search
#: documented in the approximation guide): uniform biases b_i = linspace(-1, 1, n) (the
#: "endpoints" kind, so NN = n - 1 ReLUs + a constant = P1 on n nodes), adaptive biases
#: F(b_i) = (i-1)/(n-1), the exact L2 projection, MAX/MSE on linspace(-1, 1, 10000).
TABLE1_SETUP = {"uniform_kind": "endpoints", "eval_points": 10000, "load": "exact L2"}
#: normal-equation solvers whose float32 results the float32 NN cells are judged on
NORMAL_SOLVERS = ("lu", "cholesky", "eigh")


def _table(ns, progress):
    """Every cell of the slides' Table 1 in the reproducing setup: FEM (Cholesky on the
    mass matrix) and NN with QR and the three normal-equation solvers, float32 and float64.
    Returns ``{(method, solver, rule, dtype, n): (MAX, MSE, modes kept, note)}``; a solver
    that breaks down is recorded with NaN and the reason."""
    import warnings

    from ..fit import FEMBasis, IllConditionedWarning, NetworkBasis, fit_least_squares
    from ..networks import adaptive_biases, uniform_biases
    from ..targets import get_target

    f = get_target("arctan25")
    out = {}
    for rule in ("uniform", "adaptive"):
        for n in ns:
            for dt in ("float32", "float64"):
                progress(f"Table 1: {rule} n={n} {dt}")
                b = (
                    uniform_biases(n, kind=TABLE1_SETUP["uniform_kind"], dtype=dt)
                    if rule == "uniform"
                    else adaptive_biases(f.scalar(), n, dtype=dt)
                )
                bn = b[b < 1.0]  # ReLU(x - 1) vanishes on (-1, 1)
                nn = NetworkBasis("relu", jnp.ones((bn.shape[0], 1), dt), bn)
                cases = [("FEM", "cholesky", FEMBasis.from_biases(b)), ("NN", "qr", nn)]
                cases += [("NN", s, nn) for s in NORMAL_SOLVERS]
                for method, solver, basis in cases:
                    with warnings.catch_warnings(record=True) as caught:
                        warnings.simplefilter("always", IllConditionedWarning)
                        try:
                            r = fit_least_squares(
                                basis, f, solver=solver, dtype=dt,
                                eval_points=TABLE1_SETUP["eval_points"],
                            )  # fmt: skip
                            res = (r.max_error, r.mse, r.rank, "ill-conditioned" if caught else "")
                        except ValueError as err:  # a Cholesky breakdown: recorded, not hidden
                            res = (float("nan"), float("nan"), 0, str(err).split(" (")[0])
                    out[(method, solver, rule, dt, n)] = res
    return out


def p1_projection_errors(nodes, f, *, eval_points: int = 4001, sub: int = 4, order: int = 8):
    r"""MAX and MSE on ``eval_points`` uniform points of $[-1,1]$, then MAX on 33 points per
    element and the exact mean square error $\tfrac12\int_{-1}^1 e^2$, of the $L^2$
    projection of ``f`` (a NumPy function) onto continuous P1 on ``nodes`` (sorted, with
    both ends): tridiagonal mass matrix, load by ``sub`` x ``order`` Gauss points per
    element. Independent of `fit_least_squares` (a NumPy check of the same problem)."""
    from scipy.linalg import solve_banded

    t = np.asarray(nodes, np.float64)
    h = np.diff(t)
    g, w = np.polynomial.legendre.leggauss(order)
    s = (np.arange(sub)[:, None] + (g[None] + 1) / 2).ravel() / sub  # in (0, 1)
    ws = np.tile(w / 2, sub) / sub
    xq = t[:-1, None] + h[:, None] * s[None]
    fq = f(xq) * ws[None] * h[:, None]
    load = np.zeros(t.size)
    load[:-1] += fq @ (1 - s)
    load[1:] += fq @ s
    ab = np.zeros((3, t.size))
    ab[0, 1:] = h / 6
    ab[2, :-1] = h / 6
    ab[1, :-1] += h / 3
    ab[1, 1:] += h / 3
    c = solve_banded((1, 1), ab, load)
    x = np.linspace(-1.0, 1.0, eval_points)
    e = np.interp(x, t, c) - f(x)
    u = np.linspace(0.0, 1.0, 33)  # dense, element-aligned: no grid/node coincidences
    ed = c[:-1, None] * (1 - u) + c[1:, None] * u - f(t[:-1, None] + h[:, None] * u)
    eq = c[:-1, None] * (1 - s) + c[1:, None] * s - f(xq)
    l2 = float(np.sum((eq**2 * ws[None]) * h[:, None]) / 2)
    return float(np.max(np.abs(e))), float(np.mean(e**2)), float(np.max(np.abs(ed))), l2


def _adaptive_rule(ctx, tab):
    """The slides' adaptive-bias rule: equidistribution and the benefit over uniform biases."""
    import time

    from ..networks import adaptive_biases, uniform_biases
    from ..targets import get_target
    from ._eigenfunctions import power_fit

    t0 = time.perf_counter()
    ctx.progress("adaptive-bias rule")
    tgt = get_target("arctan25")
    f = lambda x: np.arctan(25 * x)  # noqa: E731
    F = lambda x: (np.arctan(25 * x) + np.arctan(25)) / (2 * np.arctan(25))  # noqa: E731
    ns = [25, 50, 100, 200, 400, 1000, 2000, 4000] + ([8000, 16000] if ctx.full else [])
    equi, err = 0.0, {"uniform": [], "adaptive": []}
    for n in ns:
        ba = np.asarray(adaptive_biases(tgt.scalar(), n), np.float64)
        equi = max(equi, float(np.max(np.abs(F(ba) - np.arange(n) / (n - 1)))))
        for rule, b in (("uniform", np.asarray(uniform_biases(n), np.float64)), ("adaptive", ba)):
            nodes = np.unique(np.concatenate([[-1.0], b[(b > -1) & (b < 1)], [1.0]]))
            err[rule].append(p1_projection_errors(nodes, f, eval_points=10000))
    G = {r: np.asarray(v) for r, v in err.items()}  # (n, 4): grid MAX, grid MSE, dense MAX, L2 MSE
    E = {r: v[:, 2:] for r, v in G.items()}
    fits = {(r, j): power_fit(ns, E[r][:, j]) for r in E for j in (0, 1)}
    gain = E["uniform"] / E["adaptive"]
    lib = {r: tab.get(("FEM", "cholesky", r, "float64", 100)) for r in E}
    i100, i1000 = ns.index(100), ns.index(1000)
    agree = (  # the uniform rows of Table 1 use linspace nodes, these the theorem's rule
        abs(lib["adaptive"][0] / G["adaptive"][i100, 0] - 1)
        if lib["adaptive"] is not None
        else float("nan")
    )
    data = {
        "n": ns,
        "equidistribution_max_dev": equi,
        **{f"{r}_{m}": E[r][:, j].tolist() for r in E for j, m in enumerate(("max", "mse"))},
        **{
            f"{r}_{m}_rate": (-fits[(r, j)]["slope"], fits[(r, j)]["stderr"])
            for r in E
            for j, m in enumerate(("max", "mse"))
        },
        "library_vs_numpy_n100": agree,
        "seconds": time.perf_counter() - t0,
    }
    rate = lambda r, j: f"{-fits[(r, j)]['slope']:.2f} +- {fits[(r, j)]['stderr']:.2f}"  # noqa: E731
    loc = lambda r: ", ".join(f"{-v:.2f}" for v in fits[(r, 0)]["local"])  # noqa: E731
    ok = equi < 1e-5 and np.all(gain[2:, 0] > 1.5)
    claim = Claim(
        SRC + ", adaptive vs uniform biases",
        "adaptive biases F(b_i) = (i-1)/(n-1), F(x) = int_-1^x |f'| / int_-1^1 |f'|, approximate "
        "arctan(25x) better than uniform ones (Table 1: MAX 2.92e-3 vs 1.37e-2 at n=100, "
        "3.79e-5 vs 1.05e-4 at n=1000)",
        "FEM MAX 2.92e-3 / 1.37e-2 (n=100), 3.79e-5 / 1.05e-4 (n=1000)",
        f"adaptive_biases: max |F(b_i) - (i-1)/(n-1)| = {equi:.1e} (closed-form F, "
        f"n={ns[0]}..{ns[-1]}); "
        f"P1 L2 projection, n={ns[0]}..{ns[-1]} ({len(ns)} widths): MAX uniform/adaptive = "
        f"{gain[:, 0].min():.1f}..{gain[:, 0].max():.1f} "
        f"({', '.join(f'{g:.1f}' for g in gain[:, 0])}), "
        f"MSE ratio {', '.join(f'{g:.2f}' for g in gain[:, 1])}; MAX rates (all widths): uniform "
        f"{rate('uniform', 0)} "
        f"(local {loc('uniform')}), adaptive {rate('adaptive', 0)} (local {loc('adaptive')}); "
        "MAX adaptive / uniform on the 10000-point grid of Table 1: n=100 "
        f"{G['adaptive'][i100, 0]:.2e} / "
        f"{G['uniform'][i100, 0]:.2e}, n=1000 {G['adaptive'][i1000, 0]:.2e} / "
        f"{G['uniform'][i1000, 0]:.2e}",
        "reproduced" if ok else "partial",
        "the rule is implemented exactly (to the trapezoid grid of adaptive_biases) and lowers "
        "the max "
        "error by a factor ~3.5 at every n >= 100 (the mean square error by 1.34 for n >= 400, "
        "the slides' FEM rows give 1.33e-10/1.02e-10 = 1.30 at n=1000; below 1 at n=25); it does "
        "not change the rate (both -> n^-2, the P1 "
        "rate; the uniform local slopes are pre-asymptotic until h ~ 1/25). |f'|-equidistribution "
        "is a "
        "heuristic: the L2-optimal P1 mesh equidistributes |f''|^(2/5). Independent NumPy P1 "
        "projection "
        "(float64; MAX on 33 points per element, exact L2; rates from these), agreeing with "
        f"fit_least_squares at n=100 to {agree:.0e}",
    )
    return claim, data


def _close(ours, paper, tol=0.02):
    return all(abs(o / p - 1) < tol for o, p in zip(ours, paper, strict=True))


SETTING = (
    "setting: arctan(25x) on (-1, 1), exact L2 projection (Gram + load by exact composite "
    "Gauss), uniform biases linspace(-1, 1, n), adaptive F(b_i) = (i-1)/(n-1), NN = ReLU(x - "
    "b_i) for b_i < 1 plus a constant, FEM = P1 on the same n nodes, MAX/MSE on "
    "linspace(-1, 1, 10000)"
)


def _table1_claims(tab, ns):
    """One row per published cell: paper, ours, setting, verdict."""
    claims = []
    md = [
        "| method | solver | biases | dtype | n | MAX | MSE | modes | slides MAX | slides MSE |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (method, solver, rule, dt, n), (mx, mse, rank, note) in sorted(tab.items()):
        pm, ps = SLIDES[(method, rule, dt, n)]
        extra = f" ({note})" if note else ""
        md.append(
            f"| {method} | {solver}{extra} | {rule} | {dt} | {n} | {_e(mx)} | {_e(mse)} | "
            f"{rank} | {_e(pm)} | {_e(ps)} |"
        )
    for rule in ("uniform", "adaptive"):
        for n in (100, 1000):
            for dt in ("float32", "float64"):
                paper = SLIDES[("FEM", rule, dt, n)]
                fem = tab[("FEM", "cholesky", rule, dt, n)][:2]
                claims.append(
                    Claim(
                        SRC + ", Table 1",
                        f"FEM, {rule} biases, {dt}, n={n}: MAX / MSE",
                        f"{_e(paper[0])} / {_e(paper[1])}",
                        f"{_e(fem[0])} / {_e(fem[1])}",
                        "reproduced" if _close(fem, paper) else "differs",
                        "Cholesky on the exact tridiagonal mass matrix (condition <= 3 "
                        "h_max/h_min, "
                        "so float32 = float64 to rounding); within 2% of both numbers; " + SETTING,
                    )
                )
    for n in ns:
        for rule in ("uniform", "adaptive"):
            paper = SLIDES[("NN", rule, "float64", n)]
            nn = tab[("NN", "qr", rule, "float64", n)][:2]
            fem = tab[("FEM", "cholesky", rule, "float64", n)][:2]
            same = _close(nn, fem, 1e-3)
            ok = _close(nn, paper)
            why = (
                "NN = FEM (same P1 span) to 1e-3 with QR, LU, Cholesky and eigh in float64; "
                + SETTING
            )
            if not ok:
                why = (
                    "our NN equals the exact best approximation in the span (= FEM, which the "
                    "slides' own FEM row confirms); the slides' NN row is above it, which no "
                    "exact L2 solve on this span can give. Searched and excluded (see the "
                    "approximation guide): float64 LU/Cholesky/eigh with tau 1e-14..1e-6, SVD "
                    "on m = 2n, 10n uniform samples with rcond 1e-12..1e-4, 5 level rules for "
                    "the adaptive biases, with/without the constant, 10 evaluation grids. "
                    + SETTING
                )
            claims.append(
                Claim(
                    SRC + ", Table 1",
                    f"NN, {rule} biases, float64, n={n}: MAX / MSE (NN = FEM)",
                    f"{_e(paper[0])} / {_e(paper[1])}",
                    f"{_e(nn[0])} / {_e(nn[1])} (QR)",
                    "reproduced" if ok and same else "differs",
                    why,
                )
            )
            paper32 = SLIDES[("NN", rule, "float32", n)]
            normal = {
                s: tab[("NN", s, rule, "float32", n)]
                for s in NORMAL_SOLVERS
                if np.isfinite(tab[("NN", s, rule, "float32", n)][0])
            }
            q32 = tab[("NN", "qr", rule, "float32", n)]
            maxes = [v[0] for v in normal.values()]
            stall_all = min(maxes) > 3 * fem[0]  # the slides' own smallest ratio is 4.4
            stall_any = max(maxes) > 3 * fem[0]
            near = any(abs(np.log(paper32[0] / v)) < np.log(2) for v in maxes)
            verdict = (
                "reproduced under the stated hypotheses"
                if near and stall_all
                else ("partial" if near or stall_any else "differs")
            )
            breaks = [
                s for s in NORMAL_SOLVERS if not np.isfinite(tab[("NN", s, rule, "float32", n)][0])
            ]
            claims.append(
                Claim(
                    SRC + ", Table 1",
                    f"NN, {rule} biases, float32, n={n}: MAX / MSE (the float32 stall)",
                    f"{_e(paper32[0])} / {_e(paper32[1])}",
                    "normal equations in float32: "
                    + ", ".join(
                        f"{s} {_e(v[0])} / {_e(v[1])} ({v[2]} modes)" for s, v in normal.items()
                    )
                    + (f"; {', '.join(breaks)} breaks down" if breaks else "")
                    + f"; QR {_e(q32[0])} / {_e(q32[1])}",
                    verdict,
                    "hypothesis: the normal equations G c = F are solved in float32 "
                    "(cond(G) ~ 1e9-1e13 > 1/eps = 8.4e6; LU and Cholesky run and warn). The "
                    "stall level depends on the solver's rounding (the slides do not name "
                    "theirs): reproduced when every normal-equation solver stays >= 3x "
                    "above the float64 error and one of them gives the slides' MAX to a "
                    "factor 2; partial when only one of the two holds (or only some solvers "
                    "stall). Backward-stable QR on the same L2 problem in float32 does "
                    "not stall (it reaches the float64 error): the stall is a property of "
                    "forming G, not of the network; " + SETTING,
                )
            )
    return claims, md


def _e(v):
    return f"{v:.2e}"


def _plot_lowpass(ks, meas, n, path) -> None:
    r"""The relative $L^2$ error of the fit of $\sin(k\pi x)$ against $k$ for each (dtype,
    solver) of `meas`, with the $10^{-2}$ threshold (`plot_fittable_frequency`)."""
    from ..fit._plot import plot_fittable_frequency

    plot_fittable_frequency(
        ks, meas, path, title=f"Fittable frequencies: ReLU, $n = {n}$ uniform biases"
    )


def run(ctx: SectionContext) -> SectionResult:
    from ..fit import NetworkBasis, fit_samples, max_fittable_frequency, resolvable_frequency_table
    from ..networks import uniform_biases
    from ..targets import get_target

    ns = (100, 1000)  # every cell of Table 1, also by default (measured: see the guide)
    tab = _table(ns, ctx.progress)
    claims, md = _table1_claims(tab, ns)
    adaptive_claim, adaptive_data = _adaptive_rule(ctx, tab)
    claims.append(adaptive_claim)

    ctx.progress("k_d table")
    kd = resolvable_frequency_table()
    bad = [
        f"{r['dtype']} k_{r['d']}: {r['k_d']:.2f} vs {r['slides']}"
        for r in kd
        if not r["slides_agree"]
    ]
    claims.append(
        Claim(
            SRC + ", low-pass filter",
            "k_d = eps^(-1/(d+3)) table (float32: 54, 25, 14, 4; float64: 8192, 1351, 411, 16)",
            "54, 25, 14, 4 / 8192, 1351, 411, 16",
            ", ".join(f"{r['k_d']:.2f}" for r in kd),
            "partial" if bad else "reproduced",
            "formula with eps = 2^-23, 2^-52; slide values off: " + "; ".join(bad),
        )
    )

    ctx.progress("highest fittable frequency")
    n = 1000 if ctx.full else 120
    ks = np.arange(1, (300 if ctx.full else 40) + 1)
    meas = {}
    for dt in ("float32", "float64"):
        basis = NetworkBasis("relu", jnp.ones((n, 1), dt), uniform_biases(n, dtype=dt))
        for solver in ("eigh", "qr") if dt == "float32" else ("qr",):
            meas[(dt, solver)] = max_fittable_frequency(basis, solver=solver, ks=ks, dtype=dt)
    claims.append(
        Claim(
            SRC + ", low-pass filter",
            "float32 resolves frequencies up to k_1 ~ 54 (float64 ~ 8192)",
            "54 / 8192",
            f"n={n}, rel. L2 < 1e-2: float32 Gram+eigh k={meas[('float32', 'eigh')]['k_max']:.0f} "
            f"({meas[('float32', 'eigh')]['rank']} modes), float32 QR "
            f"k={meas[('float32', 'qr')]['k_max']:.0f}, "
            f"float64 k={meas[('float64', 'qr')]['k_max']:.0f}",
            "differs",
            "the Gram route in float32 keeps ~33 modes but its eigenvectors are inexact, so sin(k "
            "pi x) "
            "already fails 1e-2 at k=2; float64 and float32+QR are limited by the width n, not by "
            "eps",
        )
    )
    _plot_lowpass(ks, meas, n, ctx.out_dir / "approximation_lowpass.png")

    ctx.progress("stability")
    m, nb, nover = (1000, 100, 1500) if ctx.full else (300, 60, 450)
    f = get_target("arctan25")
    x = jnp.linspace(-1, 1, m)
    y = f(x[:, None])
    rb = lambda k: NetworkBasis("relu", jnp.ones((k, 1)), uniform_biases(k))  # noqa: E731
    clean = fit_samples(rb(nb), x, y, solver="svd", target=f)
    sigma = 1e-2
    noisy = y + sigma * jr.normal(jr.key(0), y.shape)
    rn = fit_samples(rb(nb), x, noisy, solver="svd", target=f)
    pred = clean.mse + sigma**2 * (nb + 1) / m
    ro = fit_samples(rb(nover), x, y, solver="svd", target=f, allow_rank_deficient=True)
    ok = rn.mse < 3 * pred and ro.max_error < 0.05
    claims.append(
        Claim(
            SRC + ", stability",
            f"stable w.r.t. noise and over-parametrisation ({m} samples, {nover} biases)",
            "bounded (figures only)",
            f"noise 1e-2: MSE {_e(rn.mse)} (LS theory {_e(pred)}); over-param.: MAX "
            f"{_e(ro.max_error)}, rank {ro.rank}",
            "reproduced" if ok else "differs",
            "SVD least squares, minimum-norm when m < n (flagged rank_deficient)",
        )
    )
    data = {
        "table1": [
            dict(
                method=k[0],
                solver=k[1],
                rule=k[2],
                dtype=k[3],
                n=k[4],
                max=v[0],
                mse=v[1],
                rank=v[2],
            )
            for k, v in tab.items()
        ],
        "k_d": kd,
        "k_max": {f"{k[0]}_{k[1]}": v["k_max"] for k, v in meas.items()},
        "stability": {"noise_mse": rn.mse, "predicted": pred, "over_max": ro.max_error},
        "adaptive_rule": adaptive_data,
    }
    return SectionResult(
        claims, figures=["approximation_lowpass.png"], tables=["\n".join(md)], data=data
    )
