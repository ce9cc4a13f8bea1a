r"""The seeds' training-dynamics experiments as functions (used by examples and the report).

- `mode_learning`: steps to halve each Fourier mode $m=1..M$ of $f=\sum_m\sin(m\pi x)$
  for a 1D shallow ReLU$^p$/tanh net, with a given trainable part and stepper; returns the
  fitted growth exponent in $m$ (seeds 000/001: $O(m)$, $O(m^2)$, $O(m^3)$).
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

from ..domains import Interval
from ..networks import ShallowNetwork, uniform_biases
from ..quadrature import gauss_legendre
from ..targets import get_target
from ._modes import fit_exponent, fourier_modes, steps_to_halve
from ._problem import loss_domain, model_outputs, select_trainable
from ._steppers import Euler, OptaxStepper
from ._train import train

__all__ = ["mode_learning", "welper_run", "gauss_newton_lmax"]


def gauss_newton_lmax(model, dom, trainable) -> float:
    r"""$\lambda_{\max}(J^TQJ)$ of the trainable part.

    Euler is stable on the (Gauss–Newton) quadratic model for $\eta<2/\lambda_{\max}$."""
    spec = select_trainable(model, trainable, "gauss_newton_lmax")
    diff, static = eqx.partition(model, spec)
    flat, unravel = ravel_pytree(diff)
    J = jax.jacfwd(lambda v: model_outputs(eqx.combine(unravel(v), static), dom.nodes))(flat)
    G = J.T @ (dom.weights[:, None] * J)
    return float(jnp.linalg.eigvalsh(G)[-1])


def _sum_of_modes(M):
    return get_target(lambda x: sum(jnp.sin(m * jnp.pi * x[:, 0]) for m in range(1, M + 1)), dim=1)


def _shallow(n, activation):
    sign = jnp.where(jnp.arange(n) % 2 == 0, 1.0, -1.0)
    return ShallowNetwork(sign / n, jnp.ones(n), uniform_biases(n), activation)


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

    Euler's step is ``lr_factor / lambda_max`` (Gauss–Newton at initialisation).

    **Returns:** dict with `modes`, `steps_to_halve`, `exponent`, `lr`, `trajectory`.
    """
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
    `lr`, `trajectory`.
    """
    dom = loss_domain(
        get_target(target), gauss_legendre(Interval(), 8, panels=panels), bounds=(-1.0, 1.0)
    )
    n = width
    sign = jnp.where(jnp.arange(n) % 2 == 0, 1.0, -1.0)
    net = ShallowNetwork(
        sign, jnp.where(jnp.arange(n) % 4 < 2, 1.0, -1.0), uniform_biases(n), "relu"
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
