r"""How a Gram matrix is integrated: small configuration modules holding their own knobs.

`gram_matrix(..., quadrature=...)` takes one of

- `ClosedForm()`: the exact $O(n^2)$ formulas for 1D ReLU$^p$ on an interval;
- `ExactComposite(order)`: composite Gauss on the mesh of sorted kinks, exact for 1D
  piecewise polynomials of degree $p$ with ``order`` $\ge (p+1)/2$ points per panel
  (default $p + 1$);
- `AdaptiveGauss(tol, max_nodes, order, level)`: Gauss product rules (tensor on boxes,
  polar/spherical on balls), panels doubled until the refinement estimate
  $\max|G_{2\ell}-G_\ell|/\max|G_{2\ell}|$ meets ``tol`` or a rule would exceed
  ``max_nodes``; or, with ``level``, that many panels (refined once for the estimate);
- `QMC(level, tol, max_nodes)`: Halton points, doubled the same way, or ``level`` points.

Each module holds only the knobs its rule reads, so a knob that does not apply cannot be
passed (``ExactComposite(level=...)`` is a ``TypeError``), and contradictory knobs are
refused when the module is built. The strings ``method="closed_form" | "exact" | "gauss"
| "qmc"`` with the keyword knobs are shorthands for these modules; ``method="auto"``
(the default) picks the closed form, then the exact rule, then adaptive Gauss, and then
refuses a knob the chosen rule does not read.
"""

from typing import ClassVar

import equinox as eqx
from equinox import AbstractClassVar

from .._checks import check_positive, check_positive_int

__all__ = ["AbstractGramQuadrature", "ClosedForm", "ExactComposite", "AdaptiveGauss", "QMC"]


def _opt_int(v, name: str, where: str) -> int | None:
    return None if v is None else check_positive_int(v, name, where)


def _opt_pos(v, name: str, where: str) -> float | None:
    return None if v is None else check_positive(v, name, where)


class AbstractGramQuadrature(eqx.Module):
    """A way of integrating the Gram matrix (see the module docs).

    `method` is the name the engine reports in `GramResult.method` (and the string
    shorthand of ``gram_matrix(method=...)``)."""

    method: AbstractClassVar[str]

    def knobs(self) -> dict:
        """The knobs as the engine reads them (``None``: the rule's default)."""
        return {"tol": None, "order": None, "level": None, "max_nodes": None}


class ClosedForm(AbstractGramQuadrature):
    r"""Exact formulas for 1D ReLU$^p$ on an interval ($O(n^2)$, no quadrature).

    **References:** 2306.17301 (the 1D ReLU Gram in closed form)."""

    method: ClassVar[str] = "closed_form"


class ExactComposite(AbstractGramQuadrature):
    r"""Composite Gauss–Legendre on the sorted kinks $b_i/w_i$: exact up to rounding for a 1D
    piecewise polynomial activation of degree $p$.

    **Fields:** `order`: Gauss points per panel (default $p + 1$)."""

    method: ClassVar[str] = "exact"
    order: int | None = eqx.field(static=True, default=None)

    def __check_init__(self):
        _opt_int(self.order, "order", "ExactComposite")

    def knobs(self) -> dict:
        return {**super().knobs(), "order": self.order}


class AdaptiveGauss(AbstractGramQuadrature):
    r"""Gauss product rules refined by doubling the panels until the estimated relative error
    $\max|G_{2\ell}-G_\ell|/\max|G_{2\ell}|$ meets `tol`.

    **Fields:**

    - `tol`: target relative error (default $10^3\varepsilon$ in 1D, $\max(10^{-5},
      10^3\varepsilon)$ in 2D/3D).
    - `max_nodes`: the largest rule refinement may build (default $2^{18}$; a
      `RuntimeWarning` with the estimate when reached).
    - `order`: Gauss points per panel (default 8, or 4 for piecewise polynomials and balls).
    - `level`: a fixed number of panels instead of refining to `tol` (the estimate then
      comes from one refinement); excludes `tol` and `max_nodes`.
    """

    method: ClassVar[str] = "gauss"
    tol: float | None = eqx.field(static=True, default=None)
    max_nodes: int | None = eqx.field(static=True, default=None)
    order: int | None = eqx.field(static=True, default=None)
    level: int | None = eqx.field(static=True, default=None)

    def __check_init__(self):
        where = "AdaptiveGauss"
        _opt_pos(self.tol, "tol", where)
        _opt_int(self.max_nodes, "max_nodes", where)
        _opt_int(self.order, "order", where)
        _opt_int(self.level, "level", where)
        _fixed_level_excludes(where, self.level, self.tol, self.max_nodes)

    def knobs(self) -> dict:
        return {
            "tol": self.tol,
            "order": self.order,
            "level": self.level,
            "max_nodes": self.max_nodes,
        }


class QMC(AbstractGramQuadrature):
    r"""Halton points (quasi-Monte Carlo), doubled until the refinement estimate meets `tol`.

    **Fields:** `level`: a fixed number of points instead (excludes `tol`, `max_nodes`);
    `tol`, `max_nodes`: as in `AdaptiveGauss` (refinement starts at 4096 points)."""

    method: ClassVar[str] = "qmc"
    level: int | None = eqx.field(static=True, default=None)
    tol: float | None = eqx.field(static=True, default=None)
    max_nodes: int | None = eqx.field(static=True, default=None)

    def __check_init__(self):
        where = "QMC"
        _opt_int(self.level, "level", where)
        _opt_pos(self.tol, "tol", where)
        _opt_int(self.max_nodes, "max_nodes", where)
        _fixed_level_excludes(where, self.level, self.tol, self.max_nodes)

    def knobs(self) -> dict:
        return {
            **super().knobs(),
            "tol": self.tol,
            "level": self.level,
            "max_nodes": self.max_nodes,
        }


def _fixed_level_excludes(where: str, level, tol, max_nodes, names=None) -> None:
    """A fixed ``level`` is not refined: ``tol`` and ``max_nodes`` would be ignored."""
    names = names or {}
    if level is None:
        return
    for k, v in (("tol", tol), ("max_nodes", max_nodes)):
        if v is not None:
            lv, kk = names.get("level", "level"), names.get(k, k)
            raise ValueError(
                f"{where}: {kk} applies only when refining; a fixed {lv} is not refined "
                f"(drop {kk}, or drop {lv} to refine to a tolerance)"
            )


#: the string shorthands of ``gram_matrix(method=...)``
METHODS: dict[str, type[AbstractGramQuadrature]] = {
    "closed_form": ClosedForm,
    "exact": ExactComposite,
    "gauss": AdaptiveGauss,
    "qmc": QMC,
}
