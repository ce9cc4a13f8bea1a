r"""Least-squares solvers as configuration modules (the Lineax way): each is a small
`equinox.Module` that holds its own knobs, passed as ``solver=`` to `fit_least_squares`
and `fit_samples`; the strings ``"qr"``, ``"svd"``, ``"cholesky"``, ``"lu"``, ``"eigh"``
are documented shorthands for the defaults.

Two families solve the same problem $\min_\alpha\|W^{1/2}(\Phi\alpha - y)\|_2$:

- **normal equations** $G\alpha = b$ with $G = \Phi^\top W\Phi$, $b = \Phi^\top W y$ (the
  exact Gram/mass matrix $G_{ij} = \int_D\phi_i\phi_j$ for the $L^2$ projection, or the
  sampled one): `Cholesky`, `LU`, `TruncatedEigh`. Forming $G$ squares the condition
  number, so in precision $\epsilon$ only $\operatorname{cond}(G) < 1/\epsilon$ is solved
  accurately; these solvers still *run* when $\operatorname{cond}(G) \ge 1/\epsilon$ and
  say so with an `IllConditionedWarning` (the float32 normal equations are what the
  slides' Table 1 measures), except when a factorisation breaks down outright
  (a non-positive Cholesky pivot), which is an error;
- **backward stable** on $W^{1/2}\Phi$ itself: `QR` (Householder, no pivoting) and `SVD`
  (truncated, minimum norm).

A knob belongs to its solver: ``SVD(rcond=...)``, ``TruncatedEigh(tau=...)``; passing
``rcond`` or ``tau`` with a solver that does not read it is a ``ValueError``.

**References:** arXiv:2306.17301 (the slides' Table 1 and low-pass filter, threshold
$n\epsilon\lambda_1$); P. Kidger, Lineax (solvers as modules); G. H. Golub, C. F. Van Loan,
*Matrix Computations* (§5.3: normal equations vs QR).
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import numpy as np

__all__ = [
    "AbstractSolver",
    "QR",
    "SVD",
    "Cholesky",
    "LU",
    "TruncatedEigh",
    "IllConditionedWarning",
    "as_solver",
    "SOLVER_NAMES",
]


class IllConditionedWarning(UserWarning):
    r"""A solve ran although the system is numerically singular in its precision
    ($\operatorname{cond} \ge 1/\epsilon$): the coefficients may carry large errors."""


def _relative_cutoff(value, name: str, where: str) -> float | None:
    """None, or a relative threshold in [0, 1)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError(f"{where}: {name} must be a number in [0, 1); got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{where}: {name} must be a number in [0, 1); got {value!r}") from err
    if not (0.0 <= v < 1.0):  # NaN fails too
        raise ValueError(
            f"{where}: {name} must be a relative threshold in [0, 1) (modes at or below "
            f"{name} times the largest are dropped); got {value!r}"
        )
    return v


class AbstractSolver(eqx.Module):
    """A least-squares solver: ``name`` (its string shorthand) and ``normal_equations``
    (whether it solves $G\\alpha = b$ rather than working on $\\Phi$)."""

    name: eqx.AbstractClassVar[str]
    normal_equations: eqx.AbstractClassVar[bool]


class QR(AbstractSolver):
    r"""Householder QR of $[W^{1/2}\Phi\,|\,W^{1/2}y]$ (no pivoting, $Q$ never formed):
    backward stable, error $\sim\epsilon\operatorname{cond}(\Phi)$. Refuses a numerically
    rank-deficient matrix ($\max|R_{ii}|/\min|R_{ii}| \ge 1/\epsilon$)."""

    name: ClassVar[str] = "qr"
    normal_equations: ClassVar[bool] = False


class SVD(AbstractSolver):
    r"""Truncated SVD least squares (R-SVD: QR, then the SVD of $R$): keeps the singular
    values $s_k > \mathrm{rcond}\cdot s_1$, minimum norm.

    **Arguments:** `rcond`: relative cut-off in [0, 1); ``None`` (default) is
    $\epsilon\sqrt{\max(m, N)}$, the typical rounding error of the computed singular
    values ($m$ rows, $N$ features). The `FitResult` says how many modes were kept
    (`rank`), the cut-off used (`cutoff`) and its rule (`cutoff_rule`).
    """

    rcond: float | None = eqx.field(static=True, default=None)
    name: ClassVar[str] = "svd"
    normal_equations: ClassVar[bool] = False

    def __init__(self, rcond: float | None = None):
        self.rcond = _relative_cutoff(rcond, "rcond", "SVD")


class Cholesky(AbstractSolver):
    r"""$G = LL^\top$ and two triangular solves. Runs at any condition number, with an
    `IllConditionedWarning` when the estimate reaches $1/\epsilon$; an error only if the
    factorisation breaks down (a non-positive pivot: $G$ is not numerically positive
    definite in this precision)."""

    name: ClassVar[str] = "cholesky"
    normal_equations: ClassVar[bool] = True


class LU(AbstractSolver):
    r"""$G = PLU$ with partial pivoting and two triangular solves. Never breaks down on a
    nonsingular matrix; an `IllConditionedWarning` when the condition estimate reaches
    $1/\epsilon$."""

    name: ClassVar[str] = "lu"
    normal_equations: ClassVar[bool] = True


class TruncatedEigh(AbstractSolver):
    r"""Truncated eigen-solve $\alpha = \sum_{\lambda_k > \tau\lambda_1}
    \lambda_k^{-1}(v_k^\top b)\,v_k$: the low-pass filter made explicit.

    **Arguments:** `tau`: relative cut-off in [0, 1); ``None`` (default) is the machine
    $\epsilon$ of the working dtype (the slides' $n\epsilon$ is ``tau=n * eps``).
    """

    tau: float | None = eqx.field(static=True, default=None)
    name: ClassVar[str] = "eigh"
    normal_equations: ClassVar[bool] = True

    def __init__(self, tau: float | None = None):
        self.tau = _relative_cutoff(tau, "tau", "TruncatedEigh")


_BY_NAME: dict[str, type[AbstractSolver]] = {
    c.name: c for c in (Cholesky, LU, TruncatedEigh, QR, SVD)
}
#: the string shorthands, in the order of the documentation
SOLVER_NAMES = tuple(_BY_NAME)


def as_solver(solver, *, tau=None, rcond=None, where: str = "fit") -> AbstractSolver:
    """The solver module for ``solver`` (a module or a string shorthand).

    ``tau``/``rcond`` are the legacy keywords of the string form: accepted only with the
    shorthand that reads them (``"eigh"``/``"svd"``), never with a module (which holds its
    own) nor with another solver."""
    if isinstance(solver, AbstractSolver):
        for knob, v in (("tau", tau), ("rcond", rcond)):
            if v is not None:
                raise ValueError(
                    f"{where}: {knob} is given twice: pass it inside the solver module "
                    f"(e.g. {'TruncatedEigh(tau=...)' if knob == 'tau' else 'SVD(rcond=...)'}), "
                    f"not next to {type(solver).__name__}()"
                )
        return solver
    if not isinstance(solver, str) or solver not in _BY_NAME:
        raise ValueError(
            f"{where}: solver must be one of {list(SOLVER_NAMES)} or a solver module "
            f"(QR(), SVD(rcond), Cholesky(), LU(), TruncatedEigh(tau)); got {solver!r}"
        )
    for knob, v, owner in (("tau", tau, "eigh"), ("rcond", rcond, "svd")):
        if v is not None and solver != owner:
            raise ValueError(
                f"{where}: {knob} applies only to solver={owner!r}; solver={solver!r} does "
                f"not read it (drop {knob}, or use solver={owner!r})"
            )
    if solver == "eigh":
        return TruncatedEigh(_relative_cutoff(tau, "tau", where))
    if solver == "svd":
        return SVD(_relative_cutoff(rcond, "rcond", where))
    return _BY_NAME[solver]()


def solver_label(solver: AbstractSolver) -> str:
    """A short text for tables: ``"svd(rcond=1e-06)"``, ``"eigh"``, ``"qr"``."""
    knobs = {k: getattr(solver, k) for k in ("tau", "rcond") if hasattr(solver, k)}
    given = ", ".join(
        f"{k}={np.format_float_positional(v, trim='-')}" for k, v in knobs.items() if v is not None
    )
    return f"{solver.name}({given})" if given else solver.name
