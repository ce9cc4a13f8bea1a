"""Bad-input corpus: expressions (targets, penalties), the activation registry, saved
activation files and the ``design``/``penalty`` output files.

Every expression case must be refused quickly (bounded length, nesting and constant
folding before anything is evaluated): ``9**9**9`` used to hang, ``'a'*10**10`` to eat
memory, and a 1000-term sum to hit the recursion limit."""

from __future__ import annotations

import io
import json
import time

import numpy as np
import pytest
from corpus import CliCase, check_cli_case, corpus_fixture

_FORMAT = "spectral_jax.tabulated_activation"

# a tabulated Gaussian: a small, valid saved activation written without the library
_Z = np.linspace(-8.0, 8.0, 65)
_VALID = {
    "values": np.exp(-0.5 * _Z**2),
    "slopes": -_Z * np.exp(-0.5 * _Z**2),
}
_VALID["left"] = _VALID["values"][:1].copy()
_VALID["right"] = _VALID["values"][-1:].copy()
_HEADER = {
    "format": _FORMAT,
    "version": 1,
    "start": -8.0,
    "step": 0.25,
    "label": "gauss",
    "info": {},
}


def _npz(drop=(), header=None, **arrays) -> bytes:
    """The bytes of a saved activation, with some entries replaced or dropped."""
    hdr = dict(_HEADER, **(header or {}))
    data = {"header": np.frombuffer(json.dumps(hdr).encode(), np.uint8), **_VALID, **arrays}
    for k in drop:
        data.pop(k)
    buf = io.BytesIO()
    np.savez(buf, **data)
    return buf.getvalue()


_GOOD = _npz()


def _flipped(data: bytes) -> bytes:
    b = bytearray(data)
    mid = len(b) // 2
    b[mid : mid + 8] = bytes(x ^ 0xFF for x in b[mid : mid + 8])
    return bytes(b)


def _npy() -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ones(4))
    return buf.getvalue()


# files that penalty (and load_activation) must refuse, with the part of the message
BAD_FILES = {
    "truncated": (_GOOD[: len(_GOOD) // 2], r"cannot read|not a valid"),
    "empty": (b"", r"empty|cannot read"),
    "garbage": (b"this is not an npz archive" * 10, r"cannot read"),
    "byte-flipped": (_flipped(_GOOD), r"cannot read|corrupt|CRC"),
    "npy-not-npz": (_npy(), r"cannot read|archive"),
    "left-too-long": (_npz(left=np.ones(40)), r"'left'"),
    "left-inconsistent": (_npz(left=np.array([1e34])), r"'left'"),
    "right-empty": (_npz(right=np.zeros(0)), r"'right'"),
    "nan-values": (_npz(values=np.where(_Z == 0, np.nan, _VALID["values"])), r"'values'.*finite"),
    "inf-slopes": (_npz(slopes=np.full(65, np.inf)), r"'slopes'.*finite"),
    "int-values": (_npz(values=np.arange(65)), r"'values'"),
    "2d-values": (_npz(values=np.ones((65, 1))), r"'values'"),
    "short-slopes": (_npz(slopes=np.ones(64)), r"same length"),
    "missing-right": (_npz(drop=("right",)), r"missing entries \['right'\]"),
    "missing-header": (_npz(drop=("header",)), r"missing entries \['header'\]"),
    "bad-version": (_npz(header={"version": 99}), r"version 99"),
    "bad-format": (_npz(header={"format": "other"}), r"format is 'other'"),
    "bad-step": (_npz(header={"step": -1.0}), r"step"),
    "nan-start": (_npz(header={"start": float("nan")}), r"start"),
}

_EXPR_FIT = {
    # denial of service
    "pow-tower": ("9**9**9", r"too large|overflow"),
    "str-repeat": ("'a'*10**10", r"string"),
    "long-sum": ("+".join(["x"] * 1000), r"too long"),
    "deep-parens": ("(" * 100 + "x" + ")" * 100, r"nest"),
    "deep-unary": ("1+" + "-" * 300 + "x", r"nest"),
    "big-int": ("x + 10**400", r"too large|overflow"),
    "inf-constant": ("x + 1e308*10", r"finite"),
    "zero-division": ("x + 1/0", r"divides by zero"),
    # escapes and what the allow-list does not know
    "import-attribute": ("__import__('os').system('echo hi')", r"Attribute is not allowed"),
    "import": ("__import__('os')", r"unknown function '__import__'"),
    "builtins": ("__builtins__", r"unknown name '__builtins__'"),
    "attribute": ("x.__class__", r"Attribute"),
    "lambda": ("(lambda: 0)()", r"Lambda"),
    "comprehension": ("[x for x in (1,)]", r"ListComp"),
    "subscript": ("x[0]", r"Subscript"),
    "walrus": ("(y := x)", r"NamedExpr"),
    "fstring": ("f'{x}'", r"JoinedStr|string"),
    "bytes": ("b'x' * 2", r"bytes"),
    "complex": ("1j * x", r"complex"),
    "matmul": ("x @ x", r"MatMult"),
    "boolop": ("x and 1", r"BoolOp"),
    "ifexp": ("x if x else 1", r"IfExp"),
    "statement": ("x; import os", r"cannot parse"),
    "empty": ("   ", r"empty"),
    "unknown-name": ("open", r"unknown name 'open'"),
    # calls: only functions, with their number of arguments, on expressions
    "call-variable": ("x(x)", r"'x' is not a function"),
    "function-as-argument": ("exp(exp)", r"'exp' is a function, not a value"),
    "function-as-value": ("sin + 1", r"'sin' is a function"),
    "too-many-args": ("sin(x, x)", r"sin\(\) takes 1 argument"),
    "no-args": ("sin()", r"sin\(\) takes 1 argument"),
    "keyword-arg": ("sin(x=1)", r"keyword"),
    "star-arg": ("maximum(*x)", r"Starred|\*"),
    "call-call": ("sin(x)(x)", r"not a function"),
}

CASES = [
    # expressions as the fit target (positional), train/rashomon/spectrum --target
    *[
        CliCase(f"fit-{k}", ["fit", e], match=r"^spectral-jax fit: error: .*" + m, timeout=30)
        for k, (e, m) in _EXPR_FIT.items()
    ],
    CliCase(
        "train-target-pow",
        ["train", "--target", "9**9**9"],
        match=r"target.*too large|overflow",
        timeout=30,
    ),
    CliCase(
        "train-target-call",
        ["train", "--target", "x(x)"],
        match=r"'x' is not a function",
        timeout=30,
    ),
    CliCase(
        "rashomon-target-tower",
        ["rashomon", "--target", "2**2**2**2**2"],
        match=r"too large|overflow",
        timeout=30,
    ),
    CliCase(
        "spectrum-target-str",
        ["spectrum", "--bias-rule", "adaptive", "--target", "'a'*10**10"],
        match=r"string",
        timeout=30,
    ),
    # design --rho
    CliCase(
        "design-rho-pow",
        ["design", "--rho", "9**9**9"],
        match=r"rho.*too large|overflow",
        timeout=30,
    ),
    CliCase("design-rho-str", ["design", "--rho", "'a'*10**10"], match=r"rho.*string", timeout=30),
    CliCase(
        "design-rho-call-variable",
        ["design", "--rho", "k(k)"],
        match=r"'k' is not a function",
        timeout=30,
    ),
    CliCase(
        "design-rho-function-arg",
        ["design", "--rho", "exp(exp)"],
        match=r"'exp' is a function",
        timeout=30,
    ),
    CliCase("design-rho-attribute", ["design", "--rho", "k.real"], match=r"Attribute", timeout=30),
    CliCase(
        "design-rho-long", ["design", "--rho", "+".join(["k"] * 600)], match=r"too long", timeout=30
    ),
    CliCase(
        "design-rho-deep", ["design", "--rho", "(" * 60 + "k" + ")" * 60], match=r"nest", timeout=30
    ),
    CliCase(
        "design-rho-unknown", ["design", "--rho", "x**2"], match=r"unknown name 'x'", timeout=30
    ),
    # design: a decaying (or constant) penalty is not realisable by a function
    CliCase(
        "design-rho-decaying",
        ["design", "--rho", "1/(1+k**2)"],
        match=r"--rho.*not a function|decay",
        timeout=60,
    ),
    CliCase(
        "design-rho-constant",
        ["design", "--rho", "1"],
        match=r"--rho.*not a function|decay",
        timeout=60,
    ),
    CliCase(
        "design-rho-flat-2d",
        ["design", "--rho", "k", "--dim", "2"],
        match=r"not a function|decay",
        timeout=60,
    ),
    # design: output files checked before the work, never replaced without --force
    CliCase(
        "design-out-exists",
        ["design", "--rho", "exp(2*abs(k))", "--out", "act.npz"],
        files={"act.npz": b"precious"},
        keep=["act.npz"],
        match=r"--out.*already exists.*--force",
    ),
    CliCase(
        "design-out-default-exists",
        ["design", "--rho", "exp(2*abs(k))"],
        files={"designed_activation.npz": b"precious"},
        keep=["designed_activation.npz"],
        match=r"--out.*already exists",
    ),
    CliCase(
        "design-out-missing-folder",
        ["design", "--rho", "exp(2*abs(k))", "--out", "nope/a.npz"],
        match=r"--out.*does not exist",
    ),
    CliCase(
        "design-out-folder",
        ["design", "--rho", "exp(2*abs(k))", "--out", "d"],
        files={"d": None},
        match=r"--out.*folder",
    ),
    CliCase(
        "design-out-extension",
        ["design", "--rho", "exp(2*abs(k))", "--out", "a.txt"],
        match=r"--out.*\.npz",
    ),
    CliCase(
        "design-plot-extension",
        ["design", "--rho", "exp(2*abs(k))", "--plot", "p.txt"],
        match=r"--plot.*\.png",
        absent=["*.npz"],
    ),
    CliCase(
        "design-plot-exists",
        ["design", "--rho", "exp(2*abs(k))", "--plot", "p.png"],
        files={"p.png": b"precious"},
        keep=["p.png"],
        absent=["*.npz"],
        match=r"--plot.*already exists",
    ),
    # design: the grid limit is an option, and a grid that cannot fit fails fast
    CliCase(
        "design-max-points-small",
        ["design", "--rho", "exp(2*abs(k))", "--max-points", "64"],
        match=r"--max-points",
        absent=["*.npz"],
        timeout=30,
    ),
    CliCase(
        "design-max-points-zero",
        ["design", "--rho", "exp(2*abs(k))", "--max-points", "0"],
        match=r"--max-points",
    ),
    CliCase(
        "design-accuracy-zero",
        ["design", "--rho", "exp(2*abs(k))", "--accuracy", "0"],
        match=r"--accuracy",
    ),
    CliCase(
        "design-accuracy-nan",
        ["design", "--rho", "exp(2*abs(k))", "--accuracy", "nan"],
        match=r"--accuracy",
    ),
    CliCase("penalty-dim-zero", ["penalty", "--dim", "0"], match=r"--dim"),
    CliCase(
        "penalty-activation-unknown", ["penalty", "--activation", "nope"], match=r"--activation"
    ),
    CliCase(
        "design-band-reversed",
        ["design", "--rho", "exp(2*abs(k))", "--band", "5", "1"],
        match=r"--band",
    ),
    CliCase(
        "design-force-replaces",
        [
            "design",
            "--rho",
            "exp(2*abs(k))",
            "--band",
            "0.5",
            "4",
            "--accuracy",
            "1e-3",
            "--out",
            "act.npz",
            "--plot",
            "p.svg",
            "--force",
            "--quiet",
        ],
        files={"act.npz": b"old"},
        expect="ok",
        exists=["act.npz", "p.svg"],
        absent=[".act.npz*", ".p.svg*"],
    ),
    # penalty: saved activation files that are not what they claim
    *[
        CliCase(
            f"penalty-file-{k}",
            ["penalty", "--activation", "a.npz"],
            files={"a.npz": data},
            match=r"a\.npz.*" + m,
        )
        for k, (data, m) in BAD_FILES.items()
    ],
    CliCase(
        "penalty-file-valid",
        ["penalty", "--activation", "a.npz", "--points", "3", "--quiet"],
        files={"a.npz": _GOOD},
        expect="ok",
    ),
    # penalty --plot: checked first, never replaced without --force
    CliCase(
        "penalty-plot-exists",
        ["penalty", "--plot", "r.png"],
        files={"r.png": b"precious"},
        keep=["r.png"],
        match=r"--plot.*already exists",
    ),
    CliCase(
        "penalty-plot-missing-folder",
        ["penalty", "--plot", "nope/r.png"],
        match=r"--plot.*does not exist",
    ),
    CliCase("penalty-plot-extension", ["penalty", "--plot", "r.txt"], match=r"--plot.*\.png"),
    CliCase(
        "penalty-plot-svg",
        ["penalty", "--plot", "r.svg", "--points", "3", "--quiet"],
        expect="ok",
        exists=["r.svg"],
        absent=[".r.svg*"],
    ),
    CliCase("penalty-points-one", ["penalty", "--points", "1"], match=r"--points"),
    CliCase("penalty-band-nan", ["penalty", "--band", "nan", "1"], match=r"--band"),
]

results = corpus_fixture(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_cli_case(case, results):
    check_cli_case(case, results[case.id])


# ---------------------------------------------------------------------------------------
# the API: expressions, the activation registry, saved activation files

import jax.numpy as jnp  # noqa: E402

from spectral_jax.activations import (  # noqa: E402
    AbstractActivation,
    ReLU,
    TabulatedActivation,
    get_activation,
    load_activation,
    register_activation,
    save_activation,
)
from spectral_jax.design import as_rho, design_activation  # noqa: E402
from spectral_jax.targets import expression_target, get_target  # noqa: E402


@pytest.mark.parametrize("key", sorted(_EXPR_FIT))
def test_target_expression_refused_fast(key):
    expr, match = _EXPR_FIT[key]
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=match):
        get_target(expr)
    assert time.perf_counter() - t0 < 1.0


_EXPR_RHO = {
    "pow-tower": ("9**9**9", r"rho expression: the constant 9\*\*9\*\*9 is too large"),
    "str-repeat": ("'a'*10**10", r"rho expression: string constants"),
    "sum-1000": ("+".join(["k"] * 1000), r"too long"),
    "deep": ("(" * 51 + "k" + ")" * 51, r"nest too deeply"),
    "call-variable": ("k(k)", r"'k' is not a function"),
    "function-as-argument": ("exp(exp)", r"'exp' is a function, not a value"),
    "arity": ("maximum(k)", r"maximum\(\) takes 2 arguments, got 1"),
    "x-not-k": ("x**2", r"unknown name 'x'"),
    "comparison": ("k > 1", r"Compare"),
    "modulo": ("k % 2", r"operator % is not allowed"),
    "dunder": ("k.__class__.__bases__", r"Attribute"),
    "not-a-string": (b"k**2", r"must be a string|bad table|rho"),
}


@pytest.mark.parametrize("key", sorted(_EXPR_RHO))
def test_rho_expression_refused_fast(key):
    expr, match = _EXPR_RHO[key]
    t0 = time.perf_counter()
    with pytest.raises((ValueError, TypeError), match=match):
        as_rho(expr)
    assert time.perf_counter() - t0 < 1.0


def test_long_sums_and_many_variables_are_fine():
    # a long chain is one nesting level (no recursion limit), an index beyond dim is refused,
    # and a large dim costs nothing at parse time
    x = jnp.linspace(-1.0, 1.0, 5)[:, None]
    expr = "+".join(f"{j}*x**{j % 5}" for j in range(1, 110))
    want = sum(j * np.asarray(x[:, 0]) ** (j % 5) for j in range(1, 110))
    np.testing.assert_allclose(get_target(expr)(x), want, rtol=1e-13)
    with pytest.raises(ValueError, match=r"unknown name 'x3'.*x0\.\.x2"):
        expression_target("x0 + x3", dim=3)
    t0 = time.perf_counter()
    assert expression_target("x99999999", dim=10**8).dim == 10**8
    assert time.perf_counter() - t0 < 1.0
    with pytest.raises(ValueError, match="dim must be a positive integer"):
        expression_target("x", dim=0)
    with pytest.raises(TypeError, match="must be a string"):
        expression_target(3.0)


@pytest.fixture
def restore_registry():
    from spectral_jax.activations import _registry

    saved = dict(_registry._FACTORIES)
    yield
    _registry._FACTORIES.clear()
    _registry._FACTORIES.update(saved)


def test_register_activation_refuses_replacing_and_bad_factories(restore_registry):
    with pytest.raises(ValueError, match=r"'relu' is a built-in activation; pass overwrite=True"):
        register_activation("relu", lambda: ReLU())
    with pytest.raises(ValueError, match=r"'RELU' is a built-in"):
        register_activation("RELU", lambda: ReLU())
    assert type(get_activation("relu")) is ReLU
    with pytest.raises(ValueError, match=r"reserved for the ReLU powers"):
        register_activation("relu2", lambda: ReLU())
    with pytest.raises(ValueError, match=r"':'"):
        register_activation("my:act", lambda: ReLU())
    with pytest.raises(ValueError, match="non-empty string"):
        register_activation("  ", lambda: ReLU())
    with pytest.raises(TypeError, match="must be callable"):
        register_activation("mine", 3.0)
    register_activation("an_instance", ReLU())  # an instance is looked up as it is
    assert type(get_activation("an_instance")) is ReLU
    with pytest.raises(TypeError, match="takes no parameters"):
        get_activation("an_instance", p=2)
    with pytest.raises(TypeError, match="not an AbstractActivation subclass"):
        register_activation("mine", dict)
    register_activation("mine", lambda: 3)
    with pytest.raises(TypeError, match=r"registered as 'mine' returned int"):
        get_activation("mine")
    with pytest.raises(ValueError, match=r"'mine' is already registered"):
        register_activation("mine", lambda: ReLU())
    register_activation("mine", lambda: ReLU(), overwrite=True)
    assert isinstance(get_activation("mine"), AbstractActivation)
    register_activation("tanh", lambda: ReLU(), overwrite=True)  # explicit: allowed
    assert type(get_activation("tanh")) is ReLU


def test_relu_power_names_are_bounded():
    assert get_activation("relu32").p == 32
    for name in ("relu0", "relu33", "relu" + "9" * 5000):
        t0 = time.perf_counter()
        with pytest.raises(ValueError, match=r"ReLU power must be an integer in \[1, 32\]"):
            get_activation(name)
        assert time.perf_counter() - t0 < 1.0


@pytest.mark.parametrize("key", sorted(BAD_FILES))
def test_load_activation_refuses_bad_files(key, tmp_path):
    data, match = BAD_FILES[key]
    p = tmp_path / "a.npz"
    p.write_bytes(data)
    with pytest.raises(ValueError, match=r"load_activation: '.*a\.npz'.*" + match) as info:
        load_activation(p)
    assert "\n" not in str(info.value)


def test_load_activation_accepts_the_valid_file(tmp_path):
    p = tmp_path / "a.npz"
    p.write_bytes(_GOOD)
    act = load_activation(p)
    z = np.array([-20.0, -8.0, 0.0, 0.125, 8.0, 20.0])
    want = np.where(np.abs(z) <= 8, np.exp(-0.5 * z**2), np.exp(-32.0))
    np.testing.assert_allclose(act(jnp.asarray(z)), want, rtol=1e-3, atol=1e-12)


def _table():
    z = jnp.linspace(-4.0, 4.0, 33)
    return TabulatedActivation(
        jnp.exp(-(z**2)),
        -2 * z * jnp.exp(-(z**2)),
        jnp.exp(-(z[:1] ** 2)),
        jnp.exp(-(z[-1:] ** 2)),
        -4.0,
        0.25,
    )


def test_save_activation_refuses_existing_and_is_atomic(tmp_path, monkeypatch):
    act = _table()
    p = tmp_path / "a.npz"
    p.write_bytes(b"precious")
    with pytest.raises(ValueError, match=r"already exists; pass overwrite=True"):
        save_activation(p, act)
    assert p.read_bytes() == b"precious"
    with pytest.raises(ValueError, match=r"folder .* does not exist"):
        save_activation(tmp_path / "nope" / "a.npz", act)
    with pytest.raises(ValueError, match=r"\.npz"):
        save_activation(tmp_path / "a.txt", act)
    with pytest.raises(ValueError, match=r"JSON"):
        save_activation(tmp_path / "b.npz", act, info={"x": float("nan")})
    assert not (tmp_path / "b.npz").exists()

    # a full disk in the middle of the write leaves the old file and no temporary file
    def full(fh, **arrays):
        fh.write(b"PK partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", full)
    with pytest.raises(OSError, match="No space left"):
        save_activation(p, act, overwrite=True)
    monkeypatch.undo()
    assert p.read_bytes() == b"precious"
    assert sorted(f.name for f in tmp_path.iterdir()) == ["a.npz"]
    save_activation(p, act, overwrite=True)
    back = load_activation(p)
    np.testing.assert_array_equal(back.values, act.values)


@pytest.mark.parametrize("rho", ["1/(1+k**2)", "1", "2 - 1/(1+k**2)", "exp(-k)", "2 + sin(k)"])
def test_design_refuses_bounded_or_decaying_rho(rho):
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=r"ill-posed design.*phi is not a function"):
        design_activation(rho, band=(0.5, 2.0))
    assert time.perf_counter() - t0 < 2.0


def test_design_flat_rho_in_2d_is_refused_and_growing_is_not():
    with pytest.raises(ValueError, match=r"not a function"):
        design_activation("k", 2, band=(0.5, 2.0))
    with pytest.raises(ValueError, match=r"grid too coarse.*max_points=64"):
        design_activation("k**3", 2, band=(0.5, 2.0), max_points=64)
