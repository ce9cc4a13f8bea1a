r"""The seeds' training-dynamics experiments as functions (used by examples and the report).

- `mode_learning`: steps to halve each Fourier mode $m=1..M$ of $f=\sum_m\sin(m\pi x)$
  for a 1D shallow ReLU$^p$/tanh net, with a given trainable part and stepper; returns the
  fitted growth exponent in $m$ (seeds 000/001: $O(m)$, $O(m^2)$, $O(m^3)$).
- `gram_mode_study`: fixed biases, outer weights trained by Euler: steps to halve the
  residual's component on the $m$-th Gram (NTK) eigenmode against
  $\ln 2/(\eta\lambda_m)$, and the fitted exponent against the Gram decay rate.
- `welper_run`: Welper's setting (seed 003): $a_r=\pm1/n$ fixed, biases trained by gradient
  descent on the continuous $L^2$ loss; the loss rate, plateau and bias drift.

**References:** seeds 000/001 (slides "Training dynamics"); G. Welper, 2023 (seed 003).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree

from .._checks import check_positive_int
from ..domains import Interval
from ..networks import alternating_network
from ..quadrature import gauss_legendre
from ..targets import get_target
from ._modes import fit_exponent, fourier_modes, ntk_modes, steps_to_halve
from ._problem import loss_domain, model_outputs, select_trainable
from ._steppers import Euler, OptaxStepper
from ._train import train

__all__ = ["mode_learning", "gram_mode_study", "welper_run", "gauss_newton_lmax"]


def gauss_newton_lmax(model, dom, trainable) -> float:
    r"""$\lambda_{\max}(J^TQJ)$, the largest Gauss–Newton eigenvalue of the trainable part.

    Euler is stable on the (Gauss–Newton) quadratic model for $\eta<2/\lambda_{\max}$.

    **Arguments:** `model`, `dom` (a `LossDomain`), `trainable` (see `select_trainable`).

    **Returns:** $\lambda_{\max}$ as a float ($O(NP^2)$: forms the Jacobian).

    **References:** seeds 000/001 (step sizes of the training experiments).
    """
    spec = select_trainable(model, trainable, "gauss_newton_lmax")
    diff, static = eqx.partition(model, spec)
    flat, unravel = ravel_pytree(diff)
    J = jax.jacfwd(lambda v: model_outputs(eqx.combine(unravel(v), static), dom.nodes))(flat)
    G = J.T @ (dom.weights[:, None] * J)
    return float(jnp.linalg.eigvalsh(G)[-1])


def _sum_of_modes(M):
    return get_target(lambda x: sum(jnp.sin(m * jnp.pi * x[:, 0]) for m in range(1, M + 1)), dim=1)


def _shallow(n, activation):
    return alternating_network(n, activation)


def mode_learning(
    *,
    width=64,
    max_mode=6,
    activation="relu",
    trainable="outer,biases",
    optimizer="euler",
    lr_factor=0.5,
    adam_lr=1e-3,
    steps=20000,
    record_every=20,
    panels=64,
    progress=False,
) -> dict:
    r"""Steps to halve mode $m$ and the fitted exponent $s$ in steps $\propto m^s$.

    Target $f=\sum_{m=1}^M\sin(m\pi x)$ on $[-1,1]$ (continuous $L^2$ loss, Gauss–Legendre
    with `panels` panels of 8 nodes); a shallow net of `width` neurons with alternating
    outer signs, $w=1$ and evenly spaced biases; the residual is projected on the Fourier
    modes $m=1..M$ (`fourier_modes`) and the first recorded step at which mode $m$'s
    error halves is reported.

    **Arguments:**

    - `width`, `max_mode` ($M$), `activation`, `trainable` (see `select_trainable`).
    - `optimizer`: ``"euler"`` (step ``lr_factor / lambda_max``, Gauss–Newton at
      initialisation) or ``"adam"`` (step `adam_lr`).
    - `steps`, `record_every`, `panels`, `progress`: as in `train`.

    **Returns:** dict with `modes`, `steps_to_halve` (NaN: not within `steps`),
    `exponent` (fit over the modes that halved), `halved`, `lr`, `trajectory`.

    **Raises:** ``ValueError`` for an unknown `optimizer` (and `train`'s errors).

    **References:** seeds 000/001 (slides "Training dynamics").
    """
    if optimizer not in ("euler", "adam"):
        raise ValueError(f"mode_learning: optimizer must be 'euler' or 'adam'; got {optimizer!r}")
    dom = loss_domain(
        _sum_of_modes(max_mode), gauss_legendre(Interval(), 8, panels=panels), bounds=(-1.0, 1.0)
    )
    net = _shallow(width, activation)
    if optimizer == "euler":
        lr = lr_factor / gauss_newton_lmax(net, dom, trainable)
        st = Euler(lr)
    else:
        lr = adam_lr
        st = OptaxStepper(optax.adam(adam_lr), "adam")
    tr = train(
        net,
        dom,
        stepper=st,
        steps=steps,
        record_every=record_every,
        trainable=trainable,
        mode_tracker=fourier_modes(dom, max_mode),
        progress=progress,
    )
    s = steps_to_halve(tr)
    ms = np.arange(1, max_mode + 1)
    try:
        expo = fit_exponent(ms, s)
    except ValueError:
        expo = float("nan")
    return dict(
        modes=ms.tolist(),
        steps_to_halve=s.tolist(),
        exponent=expo,
        lr=lr,
        halved=int(np.isfinite(s).sum()),
        trajectory=tr,
    )


def welper_run(
    *,
    width=200,
    target="sin2",
    lr_factor=0.5,
    steps=20000,
    record_every=100,
    panels=128,
    trainable="biases",
    progress=False,
) -> dict:
    r"""Welper's 1D setting: $h=\sum_r a_r\,\mathrm{ReLU}(w_rx-b_r)$, biases trained.

    $a_r=\pm1$ (alternating) and $w_r=\pm1$ (in pairs) fixed, $b_r$ evenly spaced on
    $[-1,1)$; Euler with ``lr = lr_factor / lambda_max``.

    **Returns:** dict with the fitted exponential `rate` (per step, over the records
    where the loss is above twice its final value), `plateau` (final loss), `ls_level` (loss of
    the least-squares fit with the same features and trained outer weights, a proxy for
    the direct-approximation level), `drift_max` (max $|b_r-b_r(0)|$), `spacing` ($2/n$),
    `lr`, `failed_at`, `trajectory`.

    **References:** G. Welper, 2023 (seed 003).
    """
    dom = loss_domain(
        get_target(target), gauss_legendre(Interval(), 8, panels=panels), bounds=(-1.0, 1.0)
    )
    n = width
    net = alternating_network(
        n, "relu", scale=1.0, weights=jnp.where(jnp.arange(n) % 4 < 2, 1.0, -1.0)
    )
    lr = lr_factor / gauss_newton_lmax(net, dom, trainable)
    tr = train(
        net,
        dom,
        stepper=Euler(lr),
        steps=steps,
        record_every=record_every,
        trainable=trainable,
        progress=progress,
    )
    loss = np.asarray(tr.loss)
    # least-squares level with the same (initial) features
    phi = np.asarray(net.features(dom.nodes))
    q = np.asarray(dom.weights)
    f = np.asarray(dom.values)
    A = np.sqrt(q)[:, None] * np.concatenate([phi, np.ones((phi.shape[0], 1))], 1)
    c = np.linalg.lstsq(A, np.sqrt(q) * f, rcond=None)[0]
    ls = 0.5 * float(np.sum((A @ c - np.sqrt(q) * f) ** 2))
    # exponential rate over the initial decay (until the loss is within 2x of its final value)
    k = np.asarray(tr.steps, float)
    ok = np.isfinite(loss) & (loss > 2 * loss[-1])
    idx = np.nonzero(ok)[0]
    rate = float(-np.polyfit(k[idx], np.log(loss[idx]), 1)[0]) if idx.size >= 3 else float("nan")
    return dict(
        rate=rate,
        plateau=float(loss[-1]),
        initial=float(loss[0]),
        ls_level=ls,
        drift_max=float(tr.drift_max[-1]),
        spacing=2.0 / n,
        lr=lr,
        failed_at=tr.failed_at,
        trajectory=tr,
    )


def gram_mode_study(
    *,
    width=64,
    max_mode=8,
    activation="relu",
    lr_factor=0.45,
    panels=64,
    record_every=1,
    max_steps=200_000,
    fit_from=2,
    progress=False,
    exact=False,
) -> dict:
    r"""Steps to halve the residual on the $m$-th Gram eigenmode (fixed biases).

    A shallow net (alternating outer signs, $w=1$, evenly spaced biases) with only the
    outer weights trained is linear in them, so Euler with step $\eta$ on
    $E=\tfrac12\|h-f\|_q^2$ is exactly the linear iteration $r_{k+1}=(I-\eta KQ)r_k$:
    the component of $r$ on the $m$-th eigenmode of the Gram/NTK operator ($\lambda_m$,
    `ntk_modes`) shrinks by $1-\eta\lambda_m$ per step, so it halves after
    $k_m=\lceil\ln\tfrac12/\ln(1-\eta\lambda_m)\rceil\approx\ln2/(\eta\lambda_m)$ steps.
    If $\lambda_m\propto m^{-\alpha}$, steps to halve grow like $m^{\alpha}$: the fitted
    exponent equals the Gram decay rate. Both exponents are fitted over
    $m\ge$ `fit_from` (mode 1, the near-constant mode, has an outsized $\lambda_1$).
    Target $f(x)=e^x\sin(3x)+x^2$ on $[-1,1]$ (a generic function with a component on
    every mode); $\eta$ = `lr_factor` / $\lambda_1$; the run lasts until mode `max_mode`
    should have halved (+10 %).

    **Arguments:** `width`, `max_mode` (modes $1..M$ tracked), `activation`, `lr_factor`
    ($\eta\lambda_1$), `panels` (Gauss–Legendre panels of 8 nodes), `record_every`
    (1: exact steps), `max_steps` (budget), `fit_from`, `progress`; `exact`: evaluate the
    $k$ Euler steps in closed form (`outer_flow`'s `descent_residuals`, no training run,
    no compilation; the first $k$ with $e_m(k)\le\frac12e_m(0)$ by bisection) instead
    of running `train` (then `trajectory` is ``None``).

    **Returns:** dict with `modes`, `eigenvalues`, `steps_to_halve` (measured),
    `predicted` ($k_m$), `exponent` (fit of steps vs $m$), `eigen_exponent` (fit of
    $1/\lambda_m$ vs $m$), `lr`, `steps`, `trajectory`.

    **Raises:** ``ValueError`` if mode `max_mode` would need more than `max_steps` steps,
    or for ``fit_from`` outside ``1 .. max_mode - 1``.

    **References:** seeds 000/001 (slides "Training dynamics": mode $m$ needs $O(m^3)$
    steps with fixed biases).
    """
    where = "gram_mode_study"
    max_mode = check_positive_int(max_mode, "max_mode", where)
    if not (isinstance(fit_from, int) and 1 <= fit_from <= max_mode - 1):
        raise ValueError(
            f"{where}: fit_from must be an int in 1..max_mode-1 = {max_mode - 1}; got {fit_from!r}"
        )
    target = get_target(lambda x: jnp.exp(x[:, 0]) * jnp.sin(3 * x[:, 0]) + x[:, 0] ** 2, dim=1)
    dom = loss_domain(target, gauss_legendre(Interval(), 8, panels=panels), bounds=(-1.0, 1.0))
    net = _shallow(width, activation)
    tracker = ntk_modes(net, dom, max_mode, trainable="outer")
    lam = np.asarray(tracker.eigenvalues, float)
    lr = lr_factor / lam[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        predicted = np.ceil(np.log(0.5) / np.log1p(-lr * lam))
    need = float(predicted[-1])
    if not np.isfinite(need) or need * 1.1 > max_steps:
        raise ValueError(
            f"{where}: mode {max_mode} would need {need:.3g} steps to halve (lambda_m = "
            f"{lam[-1]:.3g}); more than max_steps={max_steps}: lower max_mode or raise max_steps"
        )
    steps = int(np.ceil(need * 1.1 / record_every) * record_every)
    if exact:
        from ._linear_flow import outer_flow

        flow = outer_flow(net, dom, tracker)
        e0 = flow.initial_errors
        s = []
        for j in range(max_mode):
            lo, hi = 0, steps  # e_j(k) = |1 - lr lambda_j|^k e_j(0): monotone in k
            if flow._errors(flow.descent_residuals([hi], lr))[0, j] > 0.5 * e0[j]:
                s.append(np.nan)
                continue
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if flow._errors(flow.descent_residuals([mid], lr))[0, j] <= 0.5 * e0[j]:
                    hi = mid
                else:
                    lo = mid
            s.append(float(hi))
        s, tr = np.asarray(s), None
    else:
        tr = train(
            net,
            dom,
            stepper=Euler(lr),
            steps=steps,
            record_every=record_every,
            trainable="outer",
            mode_tracker=tracker,
            progress=progress,
        )
        s = steps_to_halve(tr)
    ms = np.arange(1, max_mode + 1)
    return dict(
        modes=ms.tolist(),
        eigenvalues=lam.tolist(),
        steps_to_halve=s.tolist(),
        predicted=predicted.tolist(),
        exponent=fit_exponent(ms[fit_from - 1 :], s[fit_from - 1 :]),
        eigen_exponent=fit_exponent(ms[fit_from - 1 :], 1.0 / lam[fit_from - 1 :]),
        fit_from=fit_from,
        lr=float(lr),
        steps=steps,
        trajectory=tr,
    )
