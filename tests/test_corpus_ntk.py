"""Bad-input corpus of the NTK and Rashomon commands and their library entry points: sizes
that cannot fit, options that do not apply, plot paths, seeds, shapes, NaN under jit."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import pytest
from corpus import CliCase, check_cli_case, corpus_fixture

_SMALL = ["--quiet", "--points", "16", "--width", "8", "--eigs", "3"]
_RSMALL = ["--quiet", "--samples", "200", "--width", "2"]

CASES = [
    # -- ntk: sizes -----------------------------------------------------------------------
    CliCase("ntk-points-huge", ["ntk", "--quiet", "--points", "100000"], match=r"--points.*GiB"),
    CliCase(
        "ntk-points-huge-mlp",
        ["ntk", "--quiet", "--arch", "mlp", "--points", "200000", "--width", "16"],
        match=r"--points.*GiB",
    ),
    CliCase(
        "ntk-width-huge-mlp",
        ["ntk", "--quiet", "--arch", "mlp", "--width", "200000", "--points", "16"],
        match=r"--width.*GiB",
    ),
    CliCase(
        "ntk-width-huge-shallow",
        ["ntk", "--quiet", "--width", "2000000000", "--points", "16"],
        match=r"--width.*GiB",
    ),
    CliCase(
        "ntk-jacfwd-huge",
        [
            "ntk",
            "--quiet",
            "--arch",
            "mlp",
            "--method",
            "jacfwd",
            "--width",
            "512",
            "--points",
            "4096",
        ],
        match=r"--points.*GiB.*(--block-size|jacrev)",
    ),
    CliCase(
        "ntk-ntvp-huge",
        [
            "ntk",
            "--quiet",
            "--arch",
            "mlp",
            "--method",
            "ntvp",
            "--width",
            "512",
            "--points",
            "8192",
        ],
        match=r"--points.*GiB.*--block-size",
    ),
    CliCase("ntk-width-zero", ["ntk", "--quiet", "--width", "0"], match=r"--width"),
    CliCase("ntk-points-negative", ["ntk", "--quiet", "--points", "-5"], match=r"--points"),
    CliCase("ntk-eigs-zero", ["ntk", *_SMALL[:5], "--eigs", "0"], match=r"--eigs"),
    CliCase("ntk-eigs-too-many", ["ntk", *_SMALL[:5], "--eigs", "17"], match=r"--eigs.*16"),
    CliCase("ntk-depth-zero", ["ntk", *_SMALL, "--arch", "mlp", "--depth", "0"], match=r"--depth"),
    CliCase("ntk-block-size-zero", ["ntk", *_SMALL, "--block-size", "0"], match=r"--block-size"),
    CliCase("ntk-dim-zero", ["ntk", *_SMALL, "--arch", "mlp", "--dim", "0"], match=r"--dim"),
    CliCase(
        "ntk-mlp-dim-huge",
        ["ntk", *_SMALL, "--arch", "mlp", "--dim", "1000000"],
        match=r"--dim 1000000.*2\^1000000",
    ),
    CliCase("ntk-dim-3-shallow", ["ntk", *_SMALL, "--dim", "3"], match=r"--dim.*shallow"),
    # -- ntk: options that do not apply ---------------------------------------------------
    CliCase("ntk-depth-shallow", ["ntk", *_SMALL, "--depth", "3"], match=r"--depth.*--arch mlp"),
    CliCase("ntk-seed-shallow", ["ntk", *_SMALL, "--seed", "3"], expect="warn", match=r"--seed"),
    CliCase(
        "ntk-structured-mlp",
        ["ntk", *_SMALL, "--arch", "mlp", "--method", "structured"],
        match=r"structured",
    ),
    CliCase(
        "ntk-block-size-fast-path",
        ["ntk", *_SMALL, "--method", "structured", "--block-size", "4"],
        expect="warn",
        match=r"--block-size",
    ),
    CliCase("ntk-activation-unknown", ["ntk", *_SMALL, "--activation", "nope"], match=r"nope"),
    CliCase("ntk-trainable-unknown", ["ntk", *_SMALL, "--trainable", "gamma"], match=r"gamma"),
    CliCase("ntk-trainable-empty", ["ntk", *_SMALL, "--trainable", ","], match=r"trainable"),
    # -- ntk: seeds -----------------------------------------------------------------------
    CliCase(
        "ntk-seed-2-32", ["ntk", *_SMALL, "--arch", "mlp", "--seed", str(2**32)], match=r"--seed"
    ),
    CliCase("ntk-seed-float", ["ntk", *_SMALL, "--arch", "mlp", "--seed", "1.5"], match=r"--seed"),
    CliCase(
        "ntk-seed-max-ok", ["ntk", *_SMALL, "--arch", "mlp", "--seed", str(2**32 - 1)], expect="ok"
    ),
    # -- ntk: layered method, --out and --save-kernel --------------------------------------
    CliCase(
        "ntk-layered-shallow", ["ntk", *_SMALL, "--method", "layered"], match=r"--method layered"
    ),
    CliCase(
        "ntk-layered-points-huge",
        ["ntk", "--quiet", "--arch", "mlp", "--method", "layered", "--points", "200000"],
        match=r"--points.*GiB.*layered",
    ),
    CliCase("ntk-save-kernel-no-out", ["ntk", *_SMALL, "--save-kernel"], match=r"--save-kernel"),
    CliCase("ntk-out-extension", ["ntk", *_SMALL, "--out", "k.txt"], match=r"--out.*extension"),
    CliCase(
        "ntk-out-exists",
        ["ntk", *_SMALL, "--arch", "mlp", "--out", "k.npz"],
        files={"k.npz": b"not mine"},
        keep=["k.npz"],
        match=r"--out.*already exists.*--force",
    ),
    CliCase(
        "ntk-out-missing-parent", ["ntk", *_SMALL, "--out", "nope/k.npz"], match=r"--out.*exist"
    ),
    CliCase(
        "ntk-layered-out-ok",
        [
            "ntk",
            *_SMALL,
            "--arch",
            "mlp",
            "--method",
            "layered",
            "--out",
            "k.npz",
            "--save-kernel",
        ],
        expect="ok",
        exists=["k.npz"],
    ),
    # -- ntk: plot paths ------------------------------------------------------------------
    CliCase(
        "ntk-plot-folder",
        ["ntk", *_SMALL, "--plot", "sub"],
        files={"sub": None},
        match=r"--plot.*folder",
    ),
    CliCase(
        "ntk-plot-missing-parent",
        ["ntk", *_SMALL, "--plot", "nope/ev.png"],
        match=r"--plot.*does not exist",
    ),
    CliCase(
        "ntk-plot-exists",
        ["ntk", *_SMALL, "--plot", "ev.png"],
        files={"ev.png": b"not mine"},
        keep=["ev.png"],
        match=r"--plot.*already exists.*--force",
    ),
    CliCase("ntk-plot-extension", ["ntk", *_SMALL, "--plot", "ev.txt"], match=r"--plot.*extension"),
    CliCase(
        "ntk-plot-force",
        ["ntk", *_SMALL, "--plot", "ev.png", "--force"],
        files={"ev.png": b"old"},
        expect="ok",
        exists=["ev.png"],
        absent=[".ev.png.*"],
    ),
    CliCase(
        "ntk-plot-svg",
        ["ntk", *_SMALL, "--plot", "ev.svg"],
        expect="ok",
        exists=["ev.svg"],
        absent=[".ev.svg.*"],
    ),
    CliCase(
        "ntk-mlp-3d-ok",
        ["ntk", *_SMALL, "--arch", "mlp", "--dim", "3", "--points", "27"],
        expect="ok",
    ),
    # -- rashomon -------------------------------------------------------------------------
    CliCase(
        "rashomon-width-huge",
        ["rashomon", "--quiet", "--samples", "10", "--width", "100000000"],
        match=r"--width.*GiB",
    ),
    CliCase(
        "rashomon-batch-huge",
        ["rashomon", *_RSMALL, "--batch-size", "1000000000"],
        match=r"--batch-size.*GiB",
    ),
    CliCase(
        "rashomon-samples-huge-batch-default",
        ["rashomon", "--quiet", "--samples", "1000", "--width", "20000000", "--dim", "2"],
        match=r"--width.*GiB",
    ),
    CliCase("rashomon-width-zero", ["rashomon", *_RSMALL, "--width", "0"], match=r"--width"),
    CliCase("rashomon-samples-zero", ["rashomon", *_RSMALL, "--samples", "0"], match=r"--samples"),
    CliCase(
        "rashomon-samples-negative", ["rashomon", *_RSMALL, "--samples", "-3"], match=r"--samples"
    ),
    CliCase(
        "rashomon-batch-zero", ["rashomon", *_RSMALL, "--batch-size", "0"], match=r"--batch-size"
    ),
    CliCase("rashomon-seed-negative", ["rashomon", *_RSMALL, "--seed", "-1"], match=r"--seed"),
    CliCase("rashomon-dim-zero", ["rashomon", *_RSMALL, "--dim", "0"], match=r"--dim"),
    CliCase("rashomon-epsilon-one", ["rashomon", *_RSMALL, "--epsilon", "1"], match=r"epsilon"),
    CliCase("rashomon-A-nan", ["rashomon", *_RSMALL, "--A", "nan"], match=r"\bA\b"),
    CliCase(
        "rashomon-samples-overflow",
        ["rashomon", *_RSMALL[:3], "--samples", str(10**20)],
        match=r"--samples",
    ),
    CliCase("rashomon-dim-huge", ["rashomon", *_RSMALL, "--dim", "100000000"], match=r"--dim.*GiB"),
]

results = corpus_fixture(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_cli_case(case, results):
    check_cli_case(case, results[case.id])


# -- the library entry points (in-process) -------------------------------------------------
from spectral_jax._memory import MemoryBudgetError  # noqa: E402
from spectral_jax.domains import Box  # noqa: E402
from spectral_jax.networks import MLP, ShallowNetwork  # noqa: E402
from spectral_jax.ntk import (  # noqa: E402
    empirical_ntk,
    ntk_operator_eigenvalues,
    ntk_vector_product,
    nystrom_eigenvalues,
    plot_ntk_spectra,
    structured_ntk,
)


@pytest.fixture(scope="module")
def mlp():
    return MLP(2, (4,), key=jr.key(0))


@pytest.fixture
def budget(monkeypatch):
    monkeypatch.setenv("SPECTRAL_JAX_MEMORY_LIMIT", "1G")


class _TwoOutputs(eqx.Module):
    w: jax.Array

    def __call__(self, x):
        return self.w @ x, self.w @ x


_X = jnp.linspace(-1, 1, 6).reshape(3, 2)
_NAN = jnp.array([[0.0, jnp.nan], [0.5, 0.5], [1.0, 0.0]])

API_CASES = [
    ("non-model-int", lambda m: empirical_ntk(42, _X), TypeError, r"empirical_ntk: model must be"),
    ("non-model-class", lambda m: empirical_ntk(MLP, _X), TypeError, r"model must be"),
    (
        "ntvp-non-model",
        lambda m: ntk_vector_product("mlp", _X, jnp.ones(3)),
        TypeError,
        r"model must be",
    ),
    (
        "x-wrong-shape",
        lambda m: empirical_ntk(m, jnp.ones((3, 5))),
        ValueError,
        r"x1 must have shape \(N, 2\)",
    ),
    ("x-empty", lambda m: empirical_ntk(m, jnp.ones((0, 2))), ValueError, r"non-empty batch"),
    (
        "x-complex",
        lambda m: empirical_ntk(m, jnp.ones((3, 2), jnp.complex128)),
        TypeError,
        r"real floating",
    ),
    ("x-string", lambda m: empirical_ntk(m, "abc"), TypeError, r"x1 must be an array"),
    (
        "x2-shape",
        lambda m: empirical_ntk(m, _X, jnp.ones((3, 3))),
        ValueError,
        r"x2 must have shape",
    ),
    (
        "v-wrong-shape",
        lambda m: ntk_vector_product(m, _X, jnp.ones(4)),
        ValueError,
        r"v must have the shape .*\(3,\)",
    ),
    (
        "v-nan",
        lambda m: ntk_vector_product(m, _X, jnp.array([1.0, jnp.nan, 0.0])),
        ValueError,
        r"v must contain only finite",
    ),
    (
        "x-nan-jit",
        lambda m: jax.jit(lambda x: empirical_ntk(m, x))(_NAN),
        RuntimeError,
        r"empirical_ntk: x1 must contain only finite values",
    ),
    (
        "x-nan-jit-ntvp",
        lambda m: jax.jit(lambda x: empirical_ntk(m, x, method="ntvp"))(_NAN),
        RuntimeError,
        r"x1 must contain only finite",
    ),
    (
        "x-nan-jit-kv",
        lambda m: jax.jit(lambda x: ntk_vector_product(m, x, jnp.ones(3)))(_NAN),
        RuntimeError,
        r"ntk_vector_product: x must contain only finite",
    ),
    (
        "v-nan-jit-kv",
        lambda m: jax.jit(lambda v: ntk_vector_product(m, _X, v))(jnp.array([1.0, jnp.nan, 0.0])),
        RuntimeError,
        r"v must contain only finite",
    ),
    (
        "x-nan-filter-jit",
        lambda m: eqx.filter_jit(lambda x: empirical_ntk(m, x))(_NAN),
        RuntimeError,
        r"x1 must contain only finite",
    ),
    (
        "lanczos-k-zero",
        lambda m: ntk_operator_eigenvalues(m, rule=None, n_points=4, lanczos=True, k=0),
        Exception,
        r"k must be a positive integer",
    ),
    (
        "model-returns-tuple",
        lambda m: empirical_ntk(_TwoOutputs(jnp.ones(2)), _X),
        ValueError,
        r"one array per input",
    ),
    (
        "model-wrong-input",
        lambda m: empirical_ntk(eqx.nn.Linear(3, 1, key=jr.key(0)), _X),
        ValueError,
        r"cannot be applied to one input of shape \(2,\)",
    ),
    (
        "nystrom-not-square",
        lambda m: nystrom_eigenvalues(jnp.ones((3, 4)), jnp.ones(3)),
        ValueError,
        r"kernel must be a square",
    ),
    (
        "nystrom-weights",
        lambda m: nystrom_eigenvalues(jnp.eye(3), jnp.ones(4)),
        ValueError,
        r"weights must have shape \(3,\)",
    ),
]


@pytest.mark.parametrize(
    "make,err,match", [c[1:] for c in API_CASES], ids=[c[0] for c in API_CASES]
)
def test_api_case(make, err, match, mlp):
    with pytest.raises(err, match=match):
        make(mlp)


def test_api_huge_inputs_are_refused_up_front(budget, mlp):
    x = jnp.zeros((40_000, 2))  # a 40000 x 40000 kernel: 12 GiB
    with pytest.raises(
        MemoryBudgetError, match=r"empirical_ntk: the NTK of 40000 x 40000 .*GiB.*lanczos=True"
    ):
        empirical_ntk(mlp, x)
    with pytest.raises(MemoryBudgetError, match=r"jacfwd.*block_size"):
        empirical_ntk(MLP(2, (512, 512), key=jr.key(1)), jnp.zeros((2048, 2)), method="jacfwd")
    with pytest.raises(MemoryBudgetError, match=r"structured_ntk: .*40000 x 40000.*GiB"):
        structured_ntk(ShallowNetwork(jnp.ones(4), jnp.ones((4, 2)), jnp.zeros(4)), x)
    with pytest.raises(
        MemoryBudgetError, match=r"ntk_operator_eigenvalues: the dense NTK .*lanczos=True"
    ):
        ntk_operator_eigenvalues(mlp, Box.cube(2), n_points=200)  # 40000 nodes
    with pytest.raises(MemoryBudgetError, match=r"nystrom_eigenvalues: .*40000 x 40000"):
        nystrom_eigenvalues(jax.ShapeDtypeStruct((40_000, 40_000), jnp.float64), jnp.ones(40_000))


def test_rashomon_batch_memory_refused(budget):
    from spectral_jax.rashomon import rashomon_estimate

    with pytest.raises(
        MemoryBudgetError,
        match=r"rashomon_estimate: one batch of 1 networks of width n = 100000000",
    ):
        rashomon_estimate("sin2", 10**8, 0.5, num_samples=10, key=jr.key(0))
    with pytest.raises(MemoryBudgetError, match=r"batch_size"):
        rashomon_estimate("sin2", 2, 0.5, num_samples=10, batch_size=10**9, key=jr.key(0))


def test_plot_function_returns_figure_and_saves_atomically(tmp_path):
    from matplotlib.figure import Figure

    fig = plot_ntk_spectra({"a": [1.0, 0.5, 0.25]})  # no path: nothing written
    assert isinstance(fig, Figure) and not list(tmp_path.iterdir())
    ax = Figure().add_subplot()
    assert plot_ntk_spectra({"a": [1.0, 0.5]}, ax=ax) is ax.figure
    p = tmp_path / "ev.pdf"
    plot_ntk_spectra({"a": [1.0, 0.5]}, p)
    assert p.read_bytes().startswith(b"%PDF") and [q.name for q in tmp_path.iterdir()] == ["ev.pdf"]
    with pytest.raises(FileNotFoundError):  # a missing folder is not created behind the user's back
        plot_ntk_spectra({"a": [1.0, 0.5]}, tmp_path / "missing" / "ev.png")
