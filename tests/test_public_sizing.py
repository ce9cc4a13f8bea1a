"""The public sizing helpers the commands use agree with what the library allocates."""

import numpy as np
import pytest

from spectral_jax.ntk import eigenvalue_bytes
from spectral_jax.rashomon import rashomon_batch_bytes, rashomon_batch_size, rashomon_rule
from spectral_jax.spectrum import eigh_bytes


def test_rashomon_rule_is_the_default_rule():
    # 1D: 4-point Gauss on 64 panels; the 2D disk: 32 radial x 64 angular nodes
    r1 = rashomon_rule(1, "float64")
    assert r1.size == 256
    np.testing.assert_allclose(float(np.sum(r1.weights)), 2.0, rtol=1e-14)  # |(-1, 1)|
    r2 = rashomon_rule(2, "float64")
    assert r2.size == 32 * 64
    np.testing.assert_allclose(float(np.sum(r2.weights)), np.pi, rtol=1e-12)  # |unit disk|


@pytest.mark.parametrize("dim", [0, -1, 1.5, True])
def test_rashomon_rule_refuses_bad_dim(dim):
    with pytest.raises(ValueError, match="rashomon_rule: dim"):
        rashomon_rule(dim)


def test_batch_size_and_bytes():
    n, m = 50, 256
    b = rashomon_batch_size(n, m)
    assert b == 2**22 // (n * m)
    # parameters B n (d+2), pre-activations and activations 2 B n m, h on the nodes 2 B m
    assert rashomon_batch_bytes(b, n, m, 1, "float64") == 8 * b * (3 * n + 2 * n * m + 2 * m)


def test_eigenvalue_memory_estimates():
    assert eigenvalue_bytes(100, "float32") == 4 * 100 * 100 * 4
    assert eigh_bytes(100, "float64") == 4 * 100 * 100 * 8 + 8 * 100 * 100
