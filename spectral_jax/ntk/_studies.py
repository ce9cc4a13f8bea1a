r"""Small reproducible studies shared by the examples, the report and the docs.

- `limit_convergence_study`: $\|K_m - K_\infty\|_{L^2(D^2)}$ against the width $m$ in
  Welper's shallow setting (biases trained), its fitted rate, and the top eigenvalues of
  the finite-width operator against $2/((k-\frac12)^2\pi^2)$.
- `coercivity_study`: decay exponent $p$ and $s = p/2$ for ReLU/tanh, shallow/deep.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import jax.random as jr
import numpy as np

from .._types import PRNGKeyArray
from ..domains import Interval
from ..networks import MLP, alternating_network
from ..quadrature import gauss_legendre
from ._coercivity import ntk_coercivity
from ._empirical import empirical_ntk
from ._limit import limit_mc_constant, limit_ntk, limit_ntk_eigenvalues, welper_shallow_network
from ._spectrum import nystrom_eigenvalues
from ._structured import structured_ntk

__all__ = ["limit_convergence_study", "coercivity_study"]


def limit_convergence_study(
    widths: Any, *, seeds: int = 8, panels: int = 32, n_eigs: int = 6, key: PRNGKeyArray
) -> dict:
    """Finite-width NTKs (fast path) vs the closed-form limit; returns a JSON-able dict."""
    rule = gauss_legendre(Interval(), 4, panels=panels)
    kinf = limit_ntk(rule.nodes)
    q = rule.weights
    errs, eig_errs = [], []
    for m in widths:
        e2, ee = [], []
        for s in range(seeds):
            net = welper_shallow_network(int(m), key=jr.fold_in(key, 1000 * int(m) + s))
            km = structured_ntk(net, rule.nodes, trainable="biases")
            e2.append(float(q @ ((km - kinf) ** 2) @ q))
            ev = np.asarray(nystrom_eigenvalues(km, q)[:n_eigs])
            ee.append(
                np.max(
                    np.abs(ev - np.asarray(limit_ntk_eigenvalues(n_eigs)))
                    / np.asarray(limit_ntk_eigenvalues(n_eigs))
                )
            )
        errs.append(float(np.sqrt(np.mean(e2))))
        eig_errs.append(float(np.mean(ee)))
    rate = float(np.polyfit(np.log(widths), np.log(errs), 1)[0])
    eig_rate = float(np.polyfit(np.log(widths), np.log(eig_errs), 1)[0])
    limit_ev = np.asarray(nystrom_eigenvalues(kinf, q)[:n_eigs])
    closed = np.asarray(limit_ntk_eigenvalues(n_eigs))
    lln = [float(np.sqrt(limit_mc_constant() / m)) for m in widths]
    return {
        "widths": [int(m) for m in widths],
        "l2_errors": errs,
        "rate": rate,
        "lln_prediction": lln,
        "eig_rel_errors": eig_errs,
        "eig_rate": eig_rate,
        "limit_eigs_nystrom": limit_ev.tolist(),
        "limit_eigs_closed_form": closed.tolist(),
        "nystrom_rel_err": float(np.max(np.abs(limit_ev - closed)) / closed[0]),  # relative to mu_1
    }


def coercivity_study(*, n_modes: int = 32, width: int = 128, key: PRNGKeyArray) -> dict:
    """$p$ and $s = p/2$ for the settings of the seed: shallow ReLU/tanh (biases trained),
    the limit kernel, and deep MLPs (second-to-last layer trained)."""
    n = width
    # Directions w_i = +-1 alternately; the bias NTK sees only a_i^2 = 1/n, so the outer
    # signs of alternating_network leave every kernel value as with a_i = 1/sqrt(n).
    signs = jnp.where(jnp.arange(n) % 2 == 0, 1.0, -1.0)
    b = jnp.linspace(-1, 1, n)
    out = {}
    cases = {"limit kernel (1+min)/2": limit_ntk}
    for act in ("relu", "tanh"):
        net = alternating_network(n, act, scale=1 / np.sqrt(n), weights=signs, biases=b)
        cases[f"shallow {act}, biases"] = lambda a, c, net=net: structured_ntk(
            net, a, c, trainable="biases"
        )
        mlp = MLP(1, (width // 2, width // 2), activation=act, key=key)
        cases[f"deep {act}, second-to-last"] = lambda a, c, mlp=mlp: empirical_ntk(
            mlp, a, c, trainable="second_to_last", method="jacrev"
        )
    for name, kern in cases.items():
        est = ntk_coercivity(kern, n_modes, n_points=256)
        out[name] = {
            "exponent": est.exponent,
            "s": est.s,
            "constant": est.constant,
            "eigenvalues": np.asarray(est.eigenvalues).tolist(),
        }
    return out
