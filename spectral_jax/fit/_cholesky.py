r"""Cholesky factor $G = LL^\top$ for the normal-equation solvers, without the passes over
the matrix that a general-purpose factor adds.

`jax.lax.linalg.cholesky` on CPU calls LAPACK ``potrf`` and then rewrites the whole
$n\times n$ result: it zeroes the strict upper triangle and replaces the factor by NaNs
when ``potrf`` reports failure (one fused select over $n^2$ entries, run on XLA's thread
pool). A solver that only hands $L$ to triangular solves needs neither: ``trsm`` with
``uplo = "L"`` never reads the upper triangle, and failure can be reported by one flag.
At $n = 2000$ in float64 on two cores that pass made the factor-and-solve about 1.4× the
time SciPy takes for the same LAPACK calls; without it the two are level
(`benchmarks/bench_fit.py`).

`cholesky_lower` therefore calls the same LAPACK kernel that JAX registers for CPU
(``lapack_{s,d}potrf_ffi``) through the public `jax.ffi.ffi_call`, in place on the one
(column-major) copy of $G$ that XLA makes anyway, and returns $(L, \text{ok})$ where
only the lower triangle of $L$ is meaningful. It reads $G$'s lower triangle with
``uplo = "L"``, exactly as SciPy's and JAX's ``cho_factor(lower=True)`` do, and its
factor is bit-identical to theirs. (Factoring the row-major bytes as the column-major
$G^\top$ with ``uplo = "U"`` would skip the transposition in that copy, but LAPACK's
upper variant rounds differently; on an ill-conditioned Gram the solutions then differ
from SciPy's by ~5e-4 relative, and it was not faster.)

On other platforms (GPU, TPU), for other dtypes, or if the installed jaxlib does not
register that kernel (checked once per process by factoring a 2×2 matrix and comparing
with the closed form), it falls back to `jax.lax.linalg.cholesky`, whose factor is
lower-triangular and NaN where the factor failed; callers must not rely on either.

The factor is differentiable: its JVP is the one of `jax.lax.linalg.cholesky`
(Murray 2016, *Differentiation of the Cholesky decomposition*, arXiv:1602.07527):
$\dot L = L\,\Phi(L^{-1}\dot G L^{-\top})$ with $\Phi$ the lower triangle with halved
diagonal.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jaxtyping import Array, Bool, Float

__all__ = ["cholesky_lower", "cholesky_solve"]

_LAPACK_PREFIX = {np.dtype(np.float32): "s", np.dtype(np.float64): "d"}
_COLUMN_MAJOR = (1, 0)  # jax.ffi layouts are major-to-minor: axis 1 outermost


def _ffi_potrf(a: Float[Array, "n n"], target: str):
    r"""``potrf`` with ``uplo = "L"`` on a column-major copy of $A$ (the kernel works in
    place; XLA makes the copy). Returns ``(L, info)``."""
    call = jax.ffi.ffi_call(
        target,
        (jax.ShapeDtypeStruct(a.shape, a.dtype), jax.ShapeDtypeStruct((), jnp.int32)),
        input_layouts=[_COLUMN_MAJOR],
        output_layouts=[_COLUMN_MAJOR, None],
        input_output_aliases={0: 0},
        vmap_method="sequential",
    )
    return call(a, uplo=np.uint8(ord("L")))


@functools.cache
def _cpu_potrf_target(dtype: np.dtype) -> str | None:
    """The CPU LAPACK ``potrf`` FFI target for `dtype` if this jaxlib registers it and it
    factors a 2×2 test matrix correctly; else None (the fallback is used)."""
    prefix = _LAPACK_PREFIX.get(np.dtype(dtype))
    if prefix is None:
        return None
    target = f"lapack_{prefix}potrf_ffi"
    a = np.array([[4.0, 9.0], [2.0, 5.0]], dtype)  # lower triangle read: L = [[2, 0], [1, 2]]
    try:
        with jax.ensure_compile_time_eval():
            cpu = jax.devices("cpu")[0]
            x = jax.device_put(a, cpu)
            # Lowering any LAPACK op makes jaxlib load its LAPACK table; do it first.
            jax.block_until_ready(jax.jit(lax.linalg.cholesky)(x))
            fac, info = jax.jit(functools.partial(_ffi_potrf, target=target))(x)
            fac, info = np.tril(np.asarray(fac)), int(info)
    except Exception:  # an unregistered target or a changed calling convention
        return None
    ok = info == 0 and np.allclose(fac, [[2.0, 0.0], [1.0, 2.0]], rtol=1e-6)
    return target if ok else None


def _generic(a: Float[Array, "n n"]):
    fac = lax.linalg.cholesky(a, symmetrize_input=False)
    return fac, jnp.all(jnp.isfinite(jnp.diagonal(fac)))


@jax.custom_jvp
def cholesky_lower(a: Float[Array, "n n"]) -> tuple[Float[Array, "n n"], Bool[Array, ""]]:
    r"""Lower Cholesky factor of a symmetric positive definite $A = LL^\top$ and whether
    it succeeded: ``(L, ok)``. $A$ is taken as symmetric and only its lower triangle is
    read, as by SciPy's ``cholesky(A, lower=True)``.

    Only the lower triangle of ``L`` is defined (the fast CPU path leaves $A$'s entries
    in the strict upper triangle); use it with `cholesky_solve`, which reads no other.
    ``ok`` is False when $A$ is not numerically positive definite; ``L`` is then
    meaningless.
    """
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"cholesky_lower: a must be a square matrix; got shape {a.shape}")
    target = _cpu_potrf_target(np.dtype(a.dtype))
    if target is None:
        return _generic(a)

    def cpu(x):
        fac, info = _ffi_potrf(x, target)
        return fac, info == 0

    return lax.platform_dependent(a, cpu=cpu, default=_generic)


@cholesky_lower.defjvp
def _cholesky_lower_jvp(primals, tangents):
    (a,), (da,) = primals, tangents
    fac, dfac = jax.jvp(lambda x: lax.linalg.cholesky(x, symmetrize_input=False), (a,), (da,))
    ok = jnp.all(jnp.isfinite(jnp.diagonal(fac)))
    return (fac, ok), (dfac, np.zeros((), jax.dtypes.float0))


def cholesky_solve(fac: Float[Array, "n n"], b: Float[Array, "n r"]) -> Float[Array, "n r"]:
    r"""$X = (LL^\top)^{-1}B$ by two triangular solves that read only the lower triangle
    of ``fac`` $= L$ (from `cholesky_lower`)."""
    y = lax.linalg.triangular_solve(fac, b, left_side=True, lower=True)
    return lax.linalg.triangular_solve(fac, y, left_side=True, lower=True, transpose_a=True)
