"""Report section: Gram-matrix spectra of shallow networks (seeds 000, 001)."""

from __future__ import annotations

import numpy as np

from ._section import Claim, SectionContext, SectionResult

TITLE = "Gram spectra: decay rates, scaling and resolvable modes"

SRC = "2306.17301 slides"


def _verdict(ok: bool, partial: bool = False) -> str:
    return "reproduced" if ok else ("partial" if partial else "differs")


def run(ctx: SectionContext) -> SectionResult:
    import jax.numpy as jnp
    import jax.random as jr

    from ..domains import Ball, Interval
    from ..gram import gram_matrix_with_error, relu_power_gram_1d
    from ..networks import iid_biases, random_directions, uniform_biases
    from ..spectrum import (
        decay_rate,
        eigh_spectrum,
        plot_spectrum,
        predicted_resolvable_frequency,
        resolvable_modes,
    )

    full = ctx.full
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    claims: list[Claim] = []
    data: dict = {}
    figs: list[str] = []
    n1 = 2000 if full else 600
    b = uniform_biases(n1)

    # 1. 1D ReLU rate and ReLU^p rates
    ctx.progress("1D ReLU^p spectra")
    lams, fits, labels = [], [], []
    for p in (1, 2, 3):
        lam = np.asarray(eigh_spectrum(relu_power_gram_1d(p, b)).eigenvalues)
        f = decay_rate(lam)
        lams.append(lam)
        fits.append(f)
        labels.append(f"ReLU$^{p}$" if p > 1 else "ReLU")
        data[f"relu{p}_rate"] = f.rate
        data[f"relu{p}_fit_range"] = list(f.fit_range)
    claims.append(
        Claim(
            SRC,
            "1D ReLU Gram eigenvalues decay as O(k^-4)",
            "4",
            f"{fits[0].rate:.3f} (n={n1}, k={fits[0].fit_range[0]}..{fits[0].fit_range[1]})",
            _verdict(abs(fits[0].rate - 4) < 0.1),
            "closed-form Gram, float64 eigh",
        )
    )
    seeds = {2: 5.0, 3: 6.0}
    ours = {p: fits[p - 1].rate for p in (2, 3)}
    claims.append(
        Claim(
            SRC,
            "for sigma^k, lambda_k = O(k^-(d+k+2)/d); in 1D k^-(p+3)",
            "ReLU^2: 5, ReLU^3: 6",
            f"ReLU^2: {ours[2]:.2f}, ReLU^3: {ours[3]:.2f}",
            _verdict(all(abs(ours[p] - seeds[p]) < 0.3 for p in (2, 3))),
            "measured rates match 2p+2 (= (d+2p+1)/d in d dims, from |sigma^(w)|^2 ~ w^-(2p+2)), "
            "not p+3; "
            "the two agree only for p=1",
        )
    )

    # 2b. how the discrete eigenvalues scale with n (the seed's question says n^2)
    ctx.progress("scaling of lambda_k with n")
    ns_sweep = [100, 200, 400, 800, 1600] + ([3200] if full else [])
    lk = np.array(
        [
            np.asarray(eigh_spectrum(relu_power_gram_1d(1, uniform_biases(m))).eigenvalues)[:5]
            for m in ns_sweep
        ]
    )
    expo = [float(np.polyfit(np.log(ns_sweep), np.log(lk[:, j]), 1)[0]) for j in range(5)]
    data["lambda_k_vs_n_exponents"] = {"n": ns_sweep, "k1..k5": expo}
    claims.append(
        Claim(
            "2306.17301 (seed 000)",
            "eigenvalues of the continuous Gram kernel carry over to the discrete Gram matrix "
            "with a scaling in n (the seed's summary asks for n^2)",
            "n^2",
            f"lambda_k(G_n) ~ n^{min(expo):.4f}..n^{max(expo):.4f} for k=1..5, "
            f"n={ns_sweep[0]}..{ns_sweep[-1]} ({len(ns_sweep)} widths)",
            "differs" if all(abs(e - 1) < 0.02 for e in expo) else "partial",
            "G_ij = int sigma(x-b_i) sigma(x-b_j) dx is a sum over n^2 entries of size O(1) whose "
            "eigenvectors have O(1/sqrt(n)) entries: lambda_k = (n/2) mu_k + O(1) (the constant-C "
            "row of the eigenfunctions section), linear in n. "
            "An n^2 scaling would hold for n^2 G/(...)-type normalisations only; the statement as "
            "summarised does not match the paper's own (n/2) mu_k",
        )
    )

    # 2c. the closed form of the 1D ReLU Gram
    ctx.progress("1D ReLU Gram closed form")
    bq = np.asarray(iid_biases(300, key=jr.key(7)), np.float64)
    G_quad = np.asarray(
        gram_matrix_with_error("relu", jnp.ones((300, 1)), jnp.asarray(bq), Interval()).matrix
    )
    X, Y = np.meshgrid(bq, bq, indexing="ij")
    G_seed = np.abs(X - Y) ** 3 / 12 + (2 - X - Y) * (2 * (1 - X) * (1 - Y) - (X - Y) ** 2) / 12
    G_lib = np.asarray(relu_power_gram_1d(1, bq))
    e_seed = float(np.max(np.abs(G_quad - G_seed)) / np.max(np.abs(G_seed)))
    e_lib = float(np.max(np.abs(G_lib - G_seed)) / np.max(np.abs(G_seed)))
    data["relu_gram_closed_form_rel_err"] = {
        "quadrature_vs_formula": e_seed,
        "library_vs_formula": e_lib,
    }
    claims.append(
        Claim(
            "2306.17301 slides",
            "1D ReLU Gram: G(x,y) = |x-y|^3/12 + (2-x-y)(2(1-x)(1-y) - (x-y)^2)/12 on (-1,1)",
            "closed form",
            f"max rel. difference to the formula: exact composite Gauss {e_seed:.1e}, "
            f"library closed form {e_lib:.1e} (300 i.i.d. biases, float64)",
            _verdict(e_seed < 1e-13 and e_lib < 1e-13),
            "the quadrature on the sorted-bias mesh is exact for the piecewise-cubic integrand",
        )
    )

    # 3. tanh / sigmoid
    ctx.progress("tanh / sigmoid")
    ns = 200
    bs = uniform_biases(ns)
    smooth = {}
    for name in ("tanh", "sigmoid"):
        lam = np.asarray(
            eigh_spectrum(
                gram_matrix_with_error(name, jnp.ones((ns, 1)), bs, Interval()).matrix
            ).eigenvalues
        )
        lam_pos = lam[lam > 1e3 * ns * np.finfo(float).eps * lam[0]]
        k = np.arange(1, lam_pos.size + 1, dtype=float)
        ll = np.log(lam_pos)

        def r2(xv, ll=ll):
            c = np.polyfit(xv, ll, 1)
            res = ll - np.polyval(c, xv)
            return 1 - np.sum(res**2) / np.sum((ll - ll.mean()) ** 2), c[0]

        r2_exp, slope_exp = r2(k)
        r2_pow, _ = r2(np.log(k))
        smooth[name] = (r2_exp, r2_pow, float(np.exp(-slope_exp)), lam_pos.size)
        lams.append(lam)
        fits.append(None)
        labels.append(name)
    data["smooth_fits"] = {
        k: {"r2_exponential": v[0], "r2_power": v[1], "factor_per_mode": v[2], "modes": v[3]}
        for k, v in smooth.items()
    }
    ok = all(v[0] > v[1] for v in smooth.values())
    claims.append(
        Claim(
            SRC,
            "smoother activations decay faster (tanh, sigmoid: faster than any power)",
            "super-algebraic",
            "; ".join(
                f"{k}: log(lambda_k) vs k R^2 {v[0]:.3f} vs log k R^2 {v[1]:.3f}, "
                f"lambda_k/lambda_(k+1) ~ {v[2]:.0f} over {v[3]} modes"
                for k, v in smooth.items()
            ),
            _verdict(ok),
            "exponential decay fits better than any power over the modes above 1000*n*eps*lambda_1 "
            "(tanh's eigenvalues come in near-equal pairs: odd/even symmetry)",
        )
    )
    plot_spectrum(
        lams, ctx.out_dir / "spectra_1d.png", labels=labels, fits=fits, title="1D Gram spectra"
    )
    figs.append("spectra_1d.png")

    # 4. 2D and 3D ReLU rates: the continuous operator on the ball (the theorem's setting),
    # far into the tail, by spherical-harmonic degree; finite-width Grams as context
    ctx.progress("2D / 3D ReLU spectra: continuous operator on the ball")
    from ..spectrum import ball_gram_eigenvalues, local_decay_exponents

    cont = {}
    for d, (M, L) in {
        2: ((192, 64) if full else (128, 48)),
        3: ((160, 32) if full else (96, 24)),
    }.items():
        sp = ball_gram_eigenvalues(d, radial_nodes=M, max_degree=L)
        loc = local_decay_exponents(sp.eigenvalues, windows=8, start=8)
        cont[d] = (sp, loc)
    ctx.progress("2D / 3D ReLU spectra: finite widths")
    rates = {}
    for d, n, dom, kw in (
        (2, 600 if full else 300, Ball(2), {"tol": 1e-5}),
        (3, 1500 if full else 300, Ball(3), {"level": 3 if full else 2}),
    ):
        W = random_directions(n, d, key=jr.key(d))
        bb = iid_biases(n, key=jr.key(10 + d))
        r = gram_matrix_with_error("relu", W, bb, dom, **kw)
        lam = np.asarray(eigh_spectrum(r.matrix).eigenvalues)
        f = decay_rate(lam)
        rates[d] = (f.rate, f.fit_range, r.error_estimate, r.rule.size, n)
    data["relu_rates_2d_3d"] = {
        d: {"rate": v[0], "fit_range": list(v[1]), "quad_err": v[2], "nodes": v[3], "n": v[4]}
        for d, v in rates.items()
    }
    data["relu_continuous_ball"] = {
        d: {
            "modes": int(sp.eigenvalues.size),
            "radial_nodes": sp.radial_nodes,
            "max_degree": sp.max_degree,
            "complete_to": sp.complete_to,
            "max_error_estimate": float(sp.error_estimate.max()),
            "local_exponents": [
                {"k_from": int(a), "k_to": int(b), "exponent": float(e), "spread": float(u)}
                for a, b, e, u in loc
            ],
        }
        for d, (sp, loc) in cont.items()
    }
    import matplotlib.pyplot as plt

    from ..spectrum import plot_local_exponents

    fig_ax = plot_local_exponents(
        {d: loc for d, (_, loc) in cont.items()},
        ctx.out_dir / "spectra_ball_local_exponents.png",
        title="Continuous ReLU Gram operator on the unit ball",
    )
    figs.append("spectra_ball_local_exponents.png")
    plt.close(fig_ax)
    verdict_ok, parts = True, []
    for d, (sp, loc) in cont.items():
        target = (d + 3) / d
        ex = [e for _, _, e, _ in loc]
        last = loc[-1]
        tail = ex[len(ex) // 2 - 1 :]  # the first windows hold multiplicity plateaus
        decreasing = all(b <= a + 0.02 for a, b in zip(tail, tail[1:], strict=False))
        close = abs(last[2] - target) <= 0.1
        verdict_ok &= decreasing and close
        parts.append(
            f"d={d}: local exponent {ex[0]:.2f} (k={loc[0][0]}..{loc[0][1]}) -> {last[2]:.3f} "
            f"+- {last[3]:.3f} (k={last[0]}..{last[1]}), {sp.eigenvalues.size} modes, "
            f"{'decreasing' if decreasing else 'not decreasing'} over the last {len(tail)} windows "
            f"({', '.join(f'{x:.2f}' for x in ex)})"
        )
    finite = ", ".join(
        f"d={d}: {v[0]:.2f} (n={v[4]}, k={v[1][0]}..{v[1][1]})" for d, v in rates.items()
    )
    claims.append(
        Claim(
            SRC,
            "c1 k^-(d+3)/d <= lambda_k <= c2 k^-(d+3)/d (w uniform on S^(d-1), b uniform in "
            "[-1,1])",
            "d=2: 2.5, d=3: 2.0",
            "; ".join(parts),
            "reproduced under the stated hypotheses" if verdict_ok else "partial",
            "continuous Gram operator on the unit ball (rotation invariant): one 1-D problem per "
            "spherical-harmonic degree, eigenvalues trusted to 1e-3 by a two-resolution check; "
            "local exponents over 8 log-spaced windows decrease toward (d+3)/d, so lambda_k "
            "k^((d+3)/d) "
            "stays bounded on the computed range. Finite widths (random parameters, fitted "
            f"once): {finite}: "
            "their slopes are pre-asymptotic, as the continuous exponents at the same k show",
        )
    )

    # 5. resolvable-frequency table and floors
    slides = {
        "float32": {1: 54, 2: 25, 3: 14, 10: 4},
        "float64": {1: 8192, 2: 1351, 3: 411, 10: 16},
    }
    table, wrong = {}, []
    for dt, vals in slides.items():
        for d, kd in vals.items():
            v = predicted_resolvable_frequency(d, np.dtype(dt))
            table[f"{dt}_k{d}"] = v
            if abs(v - kd) > 0.5:
                wrong.append(f"{dt} k_{d}: slides {kd}, eps^(-1/(d+3)) = {v:.2f}")
    data["resolvable_frequency"] = table
    claims.append(
        Claim(
            SRC,
            "k_d = eps^(-1/(d+3)): f32 k1~54, k2~25, k3~14, k10=4; f64 k1~8192, k2~1351, k3~411, "
            "k10=16",
            "table",
            ", ".join(f"{k}={v:.1f}" for k, v in table.items()),
            _verdict(not wrong, partial=True),
            "wrong entries: " + ("; ".join(wrong) if wrong else "none"),
        )
    )
    r32 = resolvable_modes(lams[0], np.float32)
    r64 = resolvable_modes(lams[0], np.float64)
    lam32 = np.asarray(
        eigh_spectrum(relu_power_gram_1d(1, b, dtype="float32"), dtype="float32").eigenvalues,
        np.float64,
    )
    rel = np.abs(lam32 - lams[0]) / lams[0]
    k_lost = int(np.argmax(rel > 0.5)) + 1 if np.any(rel > 0.5) else n1
    depth = float(lams[0][k_lost - 1] / lams[0][0] / np.finfo(np.float32).eps)
    data.update(
        resolvable_f32=r32,
        resolvable_f64=r64,
        f32_first_mode_wrong_by_half=k_lost,
        f32_lost_depth_in_eps=depth,
    )
    claims.append(
        Claim(
            SRC,
            "low-pass filter: modes with lambda_k > n eps lambda_1 are resolvable (1D: "
            "~eps^(-1/4))",
            f"f32 ~{predicted_resolvable_frequency(1, np.float32):.0f}, f64 ~8192",
            f"n={n1}: threshold counts {r32} modes in f32, {r64} in f64; float32 eigenvalues "
            f"(float32 Gram + eigh) first off by >50% at k={k_lost}, where lambda_k = {depth:.2g} "
            "eps lambda_1",
            _verdict(abs(k_lost - r32) <= max(3, r32 // 2), partial=True),
            "the observed float32 floor is ~eps*lambda_1 (eigh's backward error), not "
            "n*eps*lambda_1: "
            "the threshold is conservative by about a factor n",
        )
    )
    return SectionResult(claims, figs, [], data)
