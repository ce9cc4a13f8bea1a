r"""The design round trip's second and third legs.

- `gram_eigenvalues`: the Gram spectrum of a wide 1D network built on an activation,
  by `gram_matrix` on a fixed Gauss–Legendre rule, so that designed and built-in
  activations are compared on the same features and the same quadrature.
- `roundtrip_training`: training such a network in the kernel regime on a sum of sines
  and measuring each frequency's learning rate against $n/(2\pi\rho(k))$.

**References:** arXiv 2503.10587, Sec. III (kernel regime).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from .._checks import check_positive, check_positive_int
from .._precision import resolve_dtype
from .._types import Array, ArrayLike, Float
from ..activations import AbstractActivation, TabulatedActivation, get_activation
from ..domains import Interval
from ..gram import gram_matrix
from ..quadrature import gauss_legendre
from ._rho import as_rho

__all__ = ["gram_eigenvalues", "roundtrip_training", "RoundTripResult"]


def gram_eigenvalues(
    activation: AbstractActivation | str,
    width: int = 200,
    *,
    bias_range: tuple[float, float] = (-3.0, 3.0),
    order: int = 8,
    panels: int = 64,
    dtype=None,
) -> Float[Array, " n"]:
    r"""Eigenvalues (descending) of $G_{ij} = \int_{-1}^1 \phi(x - b_i)\phi(x - b_j)\,dx$ for
    `width` evenly spaced biases in `bias_range`, by a composite Gauss–Legendre rule
    (``order`` points on each of ``panels`` panels)."""
    where = "gram_eigenvalues"
    dt = resolve_dtype(dtype, where)
    width = check_positive_int(width, "width", where)
    rule = gauss_legendre(Interval(-1.0, 1.0), order, panels=panels, dtype=dt)
    b = jnp.linspace(bias_range[0], bias_range[1], width, dtype=dt)
    g = gram_matrix(activation, jnp.ones((width, 1), dt), b, rule, dtype=dt)
    return jnp.linalg.eigvalsh(g)[::-1]


class _Periodised(AbstractActivation):
    r"""$\phi_P(z) = \sum_{|c|\le C}\phi(z + 2\pi c)$ (private: the round trip's features)."""

    base: AbstractActivation
    copies: int = eqx.field(static=True)
    piecewise_degree: ClassVar[None] = None
    homogeneity: ClassVar[None] = None

    @property
    def name(self) -> str:
        return f"periodised({self.base.name})"

    @eqx.filter_jit
    def __call__(self, z: Float[ArrayLike, "*s"]) -> Float[Array, "*s"]:
        z = jnp.asarray(z)
        shifts = 2 * jnp.pi * jnp.arange(-self.copies, self.copies + 1, dtype=z.dtype)
        return jnp.sum(self.base(z[..., None] + shifts.reshape((1,) * z.ndim + (-1,))), axis=-1)

    def fourier_sq(self, k: Float[ArrayLike, "*s"]) -> Float[Array, "*s"]:
        raise NotImplementedError(
            f"{self.name}.fourier_sq: a periodic function has a line spectrum"
        )


class RoundTripResult(eqx.Module):
    r"""Measured vs predicted learning rates of the round trip's third leg.

    **Fields:** `frequencies` $k_j$; `predicted_rate` $\lambda_j = n/(2\pi\rho(k_j))$;
    `measured_rate` (least-squares slope of $-\log e_j(t)$); `rel_error`
    ($|\text{measured}/\text{predicted} - 1|$ per frequency) and `max_rel_error`; `times`
    and `mode_errors` ``(T, K)`` (the error $e_j(t)$ of each frequency, from training);
    `width` $n$, `points` (quadrature nodes on the period), `copies` (periods summed).
    """

    frequencies: Float[Array, " K"]
    predicted_rate: Float[Array, " K"]
    measured_rate: Float[Array, " K"]
    rel_error: Float[Array, " K"]
    times: Float[Array, " T"]
    mode_errors: Float[Array, "T K"]
    max_rel_error: float = eqx.field(static=True)
    width: int = eqx.field(static=True)
    points: int = eqx.field(static=True)
    copies: int = eqx.field(static=True)

    def summary(self) -> dict[str, Any]:
        """The numbers as a JSON-able dict."""
        return {
            "frequencies": [float(v) for v in self.frequencies],
            "predicted_rate": [float(v) for v in self.predicted_rate],
            "measured_rate": [float(v) for v in self.measured_rate],
            "rel_error": [float(v) for v in self.rel_error],
            "max_rel_error": self.max_rel_error,
            "width": self.width,
            "points": self.points,
            "copies": self.copies,
        }


def _decay_radius(act: AbstractActivation, where: str) -> float:
    """Radius beyond which the activation is negligible (the table's edge for a designed
    one); ``ValueError`` for an activation that does not decay."""
    if isinstance(act, TabulatedActivation):
        if act.left.shape[0] > 1 or act.right.shape[0] > 1:
            raise ValueError(
                f"{where}: the activation must decay (a designed activation of derivative "
                f"order 0); got {act.name!r} with polynomial tails of degree "
                f"{max(act.left.shape[0], act.right.shape[0]) - 1}"
            )
        return max(abs(act.start), abs(act.end))
    r = 2 * math.pi
    peak = float(jnp.max(jnp.abs(act(jnp.linspace(-r, r, 257)))))
    for _ in range(12):
        far = jnp.concatenate([jnp.linspace(r, 2 * r, 65), jnp.linspace(-2 * r, -r, 65)])
        if float(jnp.max(jnp.abs(act(far)))) <= 1e-6 * peak:
            return r
        r *= 2
    raise ValueError(
        f"{where}: the activation must decay (|phi| <= 1e-6 max beyond some |z| <= {r:g}); "
        f"{act.name!r} does not"
    )


def roundtrip_training(
    activation: AbstractActivation | str,
    rho: Any,
    *,
    frequencies: Sequence[int] = (1, 2, 3, 4),
    width: int = 64,
    points: int | None = None,
    decay: float = 3.0,
    step_fraction: float = 0.25,
    max_steps: int = 50_000,
    progress: bool = False,
    dtype=None,
) -> RoundTripResult:
    r"""The round trip's third leg: train a wide network with $\phi$ in the kernel regime on
    a target of known spectrum and compare each frequency's learning rate with the penalty.

    Set-up (exact, so that Fourier modes are the kernel's eigenfunctions): inputs on the
    circle $x\in[0,2\pi)$, a shallow network $u(x)=\sum_{i=1}^n v_i\,\phi_P(x-b_i)$ with
    evenly spaced biases $b_i = 2\pi i/n$ and $\phi_P(z)=\sum_c\phi(z+2\pi c)$ (an infinitely
    wide network on $\mathbb{R}$ whose neurons repeat with period $2\pi$), only the outer
    weights $v$ trained (kernel regime), from $v=0$, by the exact gradient flow of the
    continuous loss $\tfrac12\int_0^{2\pi}(u-f)^2dx$ (`LinearisedFlow`, trapezoid rule) on
    $f(x)=\sum_j\sin(k_jx)$. The kernel $\sum_i\phi_P(x-b_i)\phi_P(x'-b_i)$ is then
    circulant and mode $k$ decays as $e^{-\lambda_k t}$ with
    $$\lambda_k = \frac{n}{2\pi}|\mathcal{F}[\phi](k)|^2 = \frac{n}{2\pi\rho(k)}\quad(D=1),$$
    so a designed $\phi_\rho$ learns frequency $k$ at a rate $\propto 1/\rho(k)$. The
    measured rate is the least-squares slope of $-\log e_k(t)$ over the records where
    $e_k(t) > 10^{-9}e_k(0)$.

    **Arguments:**

    - `activation`: a decaying activation (a designed one of derivative order 0, or e.g.
      ``"cauchy"``, ``"gaussian"``).
    - `rho`: the target penalty it was designed for (callable, table or expression string,
      as in `design_activation`): the prediction.
    - `frequencies`: the integer frequencies $k_j$ of the target ($1 \le k_j < n/2$).
    - `width`: $n$ neurons.
    - `points`: quadrature nodes on the period (default $2n$).
    - `decay`: run until the slowest mode has decayed by $e^{-\text{decay}}$ (predicted).
    - `step_fraction`: time step $\times$ the fastest predicted rate.
    - `max_steps`: refuse runs longer than this (too wide a spread of rates).
    - `progress`: progress on stderr.

    **Returns:** a `RoundTripResult`.

    **Raises:** ``ValueError`` for a non-decaying activation, frequencies that are not
    integers in $[1, n/2)$, a target $\rho$ that is not positive and finite at them, or a
    run longer than `max_steps`.

    **References:** arXiv 2503.10587, Sec. III (spectral bias in the kernel regime).
    """
    from ..dynamics import LinearisedFlow, LossDomain, ModeTracker, train
    from ..networks import ShallowNetwork

    where = "roundtrip_training"
    dt = resolve_dtype(dtype, where)
    act = get_activation(activation)
    width = check_positive_int(width, "width", where)
    points = 2 * width if points is None else check_positive_int(points, "points", where)
    decay = check_positive(decay, "decay", where)
    step_fraction = check_positive(step_fraction, "step_fraction", where)
    max_steps = check_positive_int(max_steps, "max_steps", where)
    ks = np.asarray(frequencies)
    if (
        ks.ndim != 1
        or ks.size < 1
        or ks.dtype.kind not in "iu"
        or np.any(ks < 1)
        or np.any(2 * ks >= min(width, points))
    ):
        raise ValueError(
            f"{where}: frequencies must be integers k with 1 <= k < min(width, points)/2 = "
            f"{min(width, points) / 2:g}; got {list(np.atleast_1d(frequencies))}"
        )
    rho_fn = as_rho(rho, where)
    with np.errstate(all="ignore"):
        r = np.asarray(rho_fn(ks.astype(float)), float)
    if not np.all(np.isfinite(r) & (r > 0)):
        raise ValueError(
            f"{where}: the target rho must be positive and finite at the frequencies "
            f"{ks.tolist()}; got {r.tolist()}"
        )
    predicted = width / (2 * np.pi * r)
    copies = int(math.ceil(_decay_radius(act, where) / (2 * np.pi))) + 1
    tau = step_fraction / predicted.max()
    steps = int(math.ceil(decay / predicted.min() / tau))
    if steps > max_steps:
        raise ValueError(
            f"{where}: the predicted rates span a factor {predicted.max() / predicted.min():.3g}; "
            f"the run would need {steps} steps > max_steps={max_steps} (choose closer "
            "frequencies or raise max_steps)"
        )
    # inputs built with NumPy (no op-by-op dispatch), then handed over as arrays of dtype dt
    x = np.arange(points) * (2 * np.pi / points)
    as_dt = lambda a: jnp.asarray(a, dt)  # noqa: E731
    dom = LossDomain(
        as_dt(x[:, None]),
        as_dt(np.full(points, 2 * np.pi / points)),
        as_dt(np.sin(ks[:, None] * x[None, :]).sum(0)),
        (0.0,),
        (2 * np.pi,),
    )
    basis = np.concatenate([np.cos(ks[:, None] * x[None, :]), np.sin(ks[:, None] * x[None, :])])
    tracker = ModeTracker(as_dt(basis), tuple(range(ks.size)) * 2, tuple(int(k) for k in ks))
    net = ShallowNetwork(
        as_dt(np.zeros(width)),
        as_dt(np.ones((width, 1))),
        as_dt(np.arange(width) * (2 * np.pi / width)),
        _Periodised(act, copies),
    )
    traj = train(
        net,
        dom,
        stepper=LinearisedFlow(tau),
        steps=steps,
        record_every=1,
        trainable="outer",
        mode_tracker=tracker,
        fast1d=False,
        progress=progress,
    )
    t = np.asarray(traj.steps, float) * tau
    e = np.asarray(traj.mode_errors, float)
    measured = np.empty(ks.size)
    for j in range(ks.size):
        ok = e[:, j] > 1e-9 * e[0, j]
        if ok.sum() < 2:
            raise ValueError(
                f"{where}: frequency {ks[j]} decayed within one step; lower step_fraction"
            )
        measured[j] = -np.polyfit(t[ok], np.log(e[ok, j]), 1)[0]
    rel = np.abs(measured / predicted - 1.0)
    return RoundTripResult(
        jnp.asarray(ks, dt),
        jnp.asarray(predicted, dt),
        jnp.asarray(measured, dt),
        jnp.asarray(rel, dt),
        jnp.asarray(t, dt),
        jnp.asarray(e, dt),
        float(rel.max()),
        width,
        points,
        copies,
    )
