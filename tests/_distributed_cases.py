"""The workloads the multi-process tests run: each case takes a mesh (``None``: one
device, the reference) and returns a dict of arrays. Shared by the test (reference, in
the pytest process) and by `_distributed_worker.py` (one copy per JAX process)."""

from __future__ import annotations

import jax.numpy as jnp
import jax.random as jr
import numpy as np

from spectral_jax._sharding import gather
from spectral_jax._subspace import top_eigenpairs
from spectral_jax.domains import Box, Interval
from spectral_jax.dynamics import Euler, fourier_modes, loss_domain, train_many
from spectral_jax.gram import AdaptiveGauss, gram_matrix, gram_matrix_with_error
from spectral_jax.networks import MLP, ShallowNetwork
from spectral_jax.ntk import empirical_ntk, structured_ntk
from spectral_jax.quadrature import gauss_legendre
from spectral_jax.rashomon import rashomon_estimate
from spectral_jax.targets import get_target

# rows of the NTK matrices: a multiple of every device count tested (2, 4, 8), so the
# results stay sharded (no unpadding slice)
N_ROWS = 16


def _net(seed: int = 0, n: int = 12, act: str = "relu", dim: int = 1) -> ShallowNetwork:
    k1, k2, k3 = jr.split(jr.key(seed), 3)
    w = jr.normal(k2, (n,) if dim == 1 else (n, dim))
    if dim > 1:
        w = w / jnp.linalg.norm(w, axis=1, keepdims=True)
    return ShallowNetwork(
        jr.normal(k1, (n,)) / n, w, jr.uniform(k3, (n,), minval=-1.0, maxval=1.0), act
    )


def gram_1d(mesh):
    b = jnp.linspace(-1.0, 1.0, 48)
    rule = gauss_legendre(Interval(), 5, panels=41)
    return {"G": gram_matrix("tanh", jnp.ones((48, 1)), 4 * b, rule, block_size=16, mesh=mesh)}


def gram_2d(mesh):
    t = jnp.linspace(0.0, 2 * jnp.pi, 24, endpoint=False)
    W = jnp.stack([jnp.cos(t), jnp.sin(t)], axis=1)
    b = jnp.linspace(-0.9, 0.9, 24)
    rule = gauss_legendre(Box.cube(2), 4, panels=9)
    return {"G": gram_matrix("relu", W, b, rule, block_size=32, mesh=mesh)}


def gram_rows(mesh):
    """layout='rows': each device holds n/D rows of the Gram (never gathered inside),
    by a given rule (1D) and by Gauss refinement (2D: the refinement's difference and
    maximum run on the row-sharded levels); the top eigenpairs of the row-sharded Gram.
    The reference (``mesh=None``) is the one-device Gram."""
    kw = {} if mesh is None else {"mesh": mesh, "layout": "rows"}
    b = jnp.linspace(-1.0, 1.0, 48)
    rule = gauss_legendre(Interval(), 5, panels=41)
    G = gram_matrix("tanh", jnp.ones((48, 1)), 4 * b, rule, block_size=16, **kw)
    t = jnp.linspace(0.0, 2 * jnp.pi, 24, endpoint=False)
    W = jnp.stack([jnp.cos(t), jnp.sin(t)], axis=1)
    r2 = gram_matrix_with_error(
        "relu", W, jnp.linspace(-0.9, 0.9, 24), Box.cube(2), quadrature=AdaptiveGauss(level=4),
        **kw,
    )  # fmt: skip
    r = top_eigenpairs(G, 4, oversample=8)
    return {
        "G": G,
        "G_2d": r2.matrix,
        "estimate": np.array([r2.error_estimate]),
        "eigenvalues": r.eigenvalues,
        "residuals": r.residuals,
    }


def ntk_structured(mesh):
    x = jnp.linspace(-1.0, 1.0, N_ROWS)
    net2 = _net(3, n=10, act="tanh", dim=2)
    x2 = jnp.stack([jnp.cos(3 * x), jnp.sin(2 * x)], axis=1)
    return {
        "K_fast": structured_ntk(_net(), x, mesh=mesh),
        "K_padded": structured_ntk(_net(), x[:13], mesh=mesh),
        "K_2d": structured_ntk(net2, x2, trainable="biases,outer", mesh=mesh),
    }


def ntk_empirical(mesh):
    x = jnp.linspace(-1.0, 1.0, N_ROWS)
    mlp = MLP(2, [8, 8], key=jr.key(5), activation="tanh")
    xm = jnp.stack([x, x**2], axis=1)
    return {
        "K_jacrev": empirical_ntk(_net(1), x, method="jacrev", mesh=mesh),
        "K_jacfwd": empirical_ntk(_net(1), x, method="jacfwd", trainable="biases", mesh=mesh),
        "K_layered": empirical_ntk(mlp, xm, method="layered", mesh=mesh),
    }


def rashomon(mesh):
    r = rashomon_estimate("sin2", 4, 0.9, num_samples=3000, batch_size=64, key=jr.key(7), mesh=mesh)
    return {
        "counts": np.array([r.hits, r.hoeffding_hits]),
        "best": np.array([r.best_relative_error]),
    }


def training(mesh):
    dom = loss_domain(get_target("sin2"), gauss_legendre(Interval(), 4, panels=12))
    nets = [_net(10 + i) for i in range(6)]
    tb = train_many(
        nets,
        dom,
        stepper=Euler(0.2),
        steps=20,
        record_every=5,
        trainable="outer,biases",
        mode_tracker=fourier_modes(dom, 3),
        mesh=mesh,
        progress=False,
    )
    return {
        "loss": tb.loss,
        "modes": tb.mode_errors,
        "biases": np.asarray(gather(tb.model.biases)),
    }


def topk(mesh):
    """The top eigenpairs of a row-sharded NTK (never gathered) by subspace iteration."""
    x = jnp.linspace(-1.0, 1.0, 4 * N_ROWS)
    K = structured_ntk(_net(2, n=40), x, mesh=mesh)
    r = top_eigenpairs(K, 4, oversample=8)
    V = np.asarray(gather(r.eigenvectors))
    return {
        "eigenvalues": r.eigenvalues,
        "abs_vectors": np.abs(V),  # signs are arbitrary
        "residuals": r.residuals,
        "K": K,
    }


def smoke(mesh):
    """The default-suite case: a row-sharded NTK (fast 1D path) and a Gram (psum)."""
    x = jnp.linspace(-1.0, 1.0, N_ROWS)
    b = jnp.linspace(-1.0, 1.0, 16)
    rule = gauss_legendre(Interval(), 3, panels=17)
    return {
        "K": structured_ntk(_net(), x, mesh=mesh),
        "G": gram_matrix("relu", jnp.ones((16, 1)), b, rule, block_size=8, mesh=mesh),
    }


CASES = {
    "smoke": smoke,
    "gram_1d": gram_1d,
    "gram_2d": gram_2d,
    "gram_rows": gram_rows,
    "ntk_structured": ntk_structured,
    "ntk_empirical": ntk_empirical,
    "rashomon": rashomon,
    "training": training,
    "topk": topk,
}
