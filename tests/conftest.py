"""Suite-wide settings: x64 on (entry points may), rank and dtype promotion strict, a key
fixture.

Warnings are errors (pyproject ``filterwarnings``)."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import jax  # noqa: E402
import jax.random as jr  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")
# strict dtype promotion: an implicit mix of dtypes in the library is a bug (e.g. a
# float32 input silently computed in float64 or the reverse)
jax.config.update("jax_numpy_dtype_promotion", "strict")


@pytest.fixture
def key():
    return jr.key(20230630)


@pytest.fixture
def no_x64():
    """Temporarily switch x64 off (to test the float64-without-x64 error)."""
    jax.config.update("jax_enable_x64", False)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", True)
