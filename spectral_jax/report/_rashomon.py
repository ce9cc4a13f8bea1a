"""Report section: the Rashomon set bound of arXiv 2306.17301 (slides), checked by Monte Carlo."""

from __future__ import annotations

import numpy as np

from ._section import Claim, SectionContext, SectionResult

TITLE = "Rashomon set: Monte Carlo measure vs the Hoeffding bound"

_SRC = "2306.17301 slides, Rashomon set"


def _slope(x, y) -> float:
    return float(np.polyfit(np.log(np.asarray(x, float)), np.log(np.asarray(y, float)), 1)[0])


def run(ctx: SectionContext) -> SectionResult:
    import jax.random as jr

    from ..rashomon import (
        oscillatory_target,
        plot_frequency_sweep,
        rashomon_frequency_sweep,
        rashomon_kappa,
    )

    n, eps, A = 4, 0.9, 8.0
    N = 10_000_000 if ctx.full else 20_000
    # the main test: targets that satisfy the hypothesis f = Delta g, g in C_0^2
    # (1D cos(nu pi x), integer nu; 2D radial cos(nu pi |x|), even nu)
    cfreqs = [1, 2, 3, 4, 6, 8, 12, 16] if ctx.full else [1, 2, 3, 4, 6, 8]
    ctx.progress(f"1D cos sweep (hypothesis holds), {len(cfreqs)} frequencies x {N} samples")
    c = rashomon_frequency_sweep(cfreqs, n, eps, A=A, num_samples=N, key=jr.key(1), kind="cos")
    # the counterexample: sin(nu pi x) violates g' = 0 at the boundary
    freqs = [1, 2, 3, 4, 6, 8, 12, 16] if ctx.full else [1, 2, 3, 4, 6, 8]
    ctx.progress(f"1D sin sweep (outside the hypothesis), {len(freqs)} frequencies x {N} samples")
    s = rashomon_frequency_sweep(freqs, n, eps, A=A, num_samples=N, key=jr.key(0))
    plot_frequency_sweep(s, ctx.out_dir / "rashomon_sweep_1d.png")
    plot_frequency_sweep(c, ctx.out_dir / "rashomon_sweep_1d_cos.png")
    ctx.progress("2D radial kappa")
    nu2 = [2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 16.0] if ctx.full else [2.0, 4.0, 6.0, 8.0, 10.0]
    k2 = [rashomon_kappa(oscillatory_target(v, 2)) for v in nu2]
    k2p = [rashomon_kappa(oscillatory_target(v, 2), method="poisson") for v in nu2]

    violated = s.frequencies[s.hoeffding_ci_low > s.bound_poisson]
    holds = bool(np.all(s.hoeffding_ci_low <= s.bound))
    holds_c = bool(np.all(c.hoeffding_ci_low <= c.bound))
    kap_agree = float(np.max(np.abs(c.kappa - c.kappa_poisson) / c.kappa))
    exact_c = float(
        np.max(
            np.abs(c.kappa - 2 / (c.frequencies * np.pi) ** 2) * (c.frequencies * np.pi) ** 2 / 2
        )
    )
    sl_c, sl_cp = _slope(c.frequencies, c.kappa), _slope(c.frequencies, c.kappa_poisson)
    sl_2, sl_2p = _slope(nu2, k2), _slope(nu2, k2p)
    agree2 = float(np.max(np.abs(np.asarray(k2) - np.asarray(k2p)) / np.asarray(k2)))
    expo_c = _slope(c.frequencies, -np.log(c.bound))
    i = int(np.argmax(s.hoeffding_probability / np.maximum(s.bound_poisson, 1e-300)))
    kappa_ok = abs(sl_c + 2) < 0.05 and abs(sl_2 + 2) < 0.05 and kap_agree < 1e-6 and agree2 < 1e-5
    claims = [
        Claim(
            _SRC,
            "P(R_eps) <= P(<h,f> >= (1-eps)||f||^2) <= exp(-n(1-eps)^2||f||^4/(2A^2 kappa^2)), "
            "kappa = sup of the hyperplane integral of g, Delta g = f, g in C_0^2",
            "bound with the slides' kappa",
            "under the hypothesis (f = cos(nu pi x), nu = "
            f"{', '.join(f'{v:g}' for v in c.frequencies)}; "
            f"n={n}, eps={eps}, A={A}, {N} samples): the slides' kappa equals the direct one to "
            f"{kap_agree:.0e} and MC P(event) <= bound at every nu: {holds_c}. Outside it "
            f"(f = sin(nu pi x)): MC P(event) = {s.hoeffding_probability[i]:.3g} > the slides' "
            "bound "
            f"{s.bound_poisson[i]:.3g} at nu = {s.frequencies[i]:g}; violated at nu = "
            f"{violated.tolist()}",
            "reproduced under the stated hypotheses" if holds_c and kap_agree < 1e-6 else "differs",
            "with g = g' = 0 on the boundary Green's formula gives <sigma(w.x-b), f> = hyperplane "
            "integral of g, so the slides' kappa is the valid one. sin(nu pi x) has g'(+-1) != 0: "
            "the "
            "boundary term int sigma(w.x-b) d_n g survives and the slides' kappa 1/(nu pi)^2 is "
            "too "
            "small (a counterexample outside the hypothesis, not a refutation); the valid constant "
            "there is sup|<sigma(w.x-b), f>| = 2/(nu pi).",
        ),
        Claim(
            _SRC,
            "the bound holds with the valid constant kappa = sup|<sigma(w.x - b), f>| (any f)",
            "(Hoeffding; same exponent)",
            f"MC P(event) <= bound at every nu: sin {holds}, cos {holds_c}; sin bound = "
            f"{np.array2string(s.bound, precision=4)}",
            "reproduced" if holds and holds_c else "differs",
            "X_j = a_j <sigma(w_j.x-b_j), f> are i.i.d., mean 0, in [-A kappa, A kappa].",
        ),
        Claim(
            _SRC,
            "f oscillating at frequency nu: kappa ~ nu^-2",
            "kappa ~ nu^-2",
            f"under the hypothesis: 1D cos: slope {sl_c:.3f} (slides' kappa {sl_cp:.3f}; "
            f"= 2/(nu pi)^2 to {exact_c:.0e}) over {len(c.frequencies)} nu; 2D cos(nu pi |x|), "
            "even nu "
            f"{', '.join(f'{v:g}' for v in nu2)}: slope {sl_2:.3f} (slides' {sl_2p:.3f}, agree to "
            f"{agree2:.0e}). Outside (1D sin): slope {_slope(s.frequencies, s.kappa):.2f}",
            "reproduced under the stated hypotheses" if kappa_ok else "partial",
            "for g in C_0^2 both constants coincide and decay like nu^-2 (1D: 2/(nu pi)^2 "
            "exactly; 2D "
            "radial: 4/(nu pi)^2). For sin(nu pi x) the valid kappa is 2/(nu pi) ~ nu^-1: the "
            "linear "
            "part of the ReLU features picks up the boundary term.",
        ),
        Claim(
            _SRC,
            "P(R_eps) ~ exp(-O(nu^-4)) (read: exp(-O(nu^4)))",
            "exponent ~ nu^4",
            f"under the hypothesis (1D cos): bound exponent ~ nu^{expo_c:.2f} over "
            f"{len(c.frequencies)} nu; MC P(R_eps) = {np.array2string(c.estimate, precision=3)}; "
            "outside (1D sin, valid kappa): exponent ~ "
            f"nu^{_slope(s.frequencies, -np.log(s.bound)):.2f}",
            "reproduced under the stated hypotheses" if abs(expo_c - 4) < 0.1 else "partial",
            "the slide's exp(-O(nu^-4)) is a sign typo. With kappa ~ nu^-2 and ||f|| fixed the "
            "exponent n(1-eps)^2||f||^4/(2A^2kappa^2) grows like nu^4; the bound is nearly vacuous "
            "at these sizes (n = 4) while the measured P(R_eps) falls much faster.",
        ),
    ]
    rows = [
        f"| {nu:g} | {s.estimate[j]:.3g} | {s.ci_high[j]:.3g} | {s.hoeffding_probability[j]:.3g} | "
        f"{s.kappa[j]:.4g} | {s.bound[j]:.4g} | {s.kappa_poisson[j]:.3g} | "
        f"{s.bound_poisson[j]:.3g} |"
        for j, nu in enumerate(s.frequencies)
    ]
    table = "\n".join(
        [
            "| nu | P(R_eps) | 95% upper | P(event) | kappa | bound | slides' kappa | slides' "
            "bound |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
        ]
    )
    data = s.as_dict()
    data.update(
        {
            "n": n,
            "epsilon": eps,
            "A": A,
            "samples": N,
            "nu_2d": nu2,
            "kappa_2d": k2,
            "kappa_poisson_2d": k2p,
        }
    )
    rows_c = [
        f"| {nu:g} | {c.estimate[j]:.3g} | {c.ci_high[j]:.3g} | {c.hoeffding_probability[j]:.3g} | "
        f"{c.kappa[j]:.4g} | {c.kappa_poisson[j]:.4g} | {c.bound[j]:.4g} |"
        for j, nu in enumerate(c.frequencies)
    ]
    table_c = "\n".join(
        [
            "| nu (cos) | P(R_eps) | 95% upper | P(event) | kappa | slides' kappa | bound |",
            "|---|---|---|---|---|---|---|",
            *rows_c,
        ]
    )
    data["cos_1d"] = c.as_dict()
    return SectionResult(
        claims=claims,
        figures=["rashomon_sweep_1d_cos.png", "rashomon_sweep_1d.png"],
        tables=[table_c, table],
        data=data,
    )
