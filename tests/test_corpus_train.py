"""Bad-input corpus of `spectral-jax train` and its library entry points: output paths
checked before the run, damaged checkpoints, resumes that do not fit the run, bad numbers,
sizes that cannot fit, divergence, interrupts and full disks."""

import contextlib
import io
import json
import os
import zipfile

import numpy as np
import pytest
from corpus import CliCase, check_cli_case, corpus_fixture

#: a run small enough that the 'ok' cases cost a compile and little else
_T = ["train", "--quiet", "--width", "4", "--nodes", "2", "--modes", "2", "--record-every", "2"]
_CK_RUN = [*_T, "--steps", "4"]


def _make_files() -> dict[str, bytes]:
    """A real checkpoint (4 steps of `_CK_RUN`) and trajectory, made once at import."""
    import tempfile

    from spectral_jax.cli import main

    with tempfile.TemporaryDirectory() as d:
        ck, tr = os.path.join(d, "ck.npz"), os.path.join(d, "t.npz")
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            rc = main([*_CK_RUN, "--checkpoint", ck, "--out", tr])
        assert rc == 0
        with open(ck, "rb") as fh, open(tr, "rb") as gh:
            return {"ck": fh.read(), "traj": gh.read()}


_FILES = _make_files()
CK = _FILES["ck"]


def _npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _edit_ck(edit) -> bytes:
    """The checkpoint with its arrays passed through ``edit(dict) -> dict``."""
    with np.load(io.BytesIO(CK), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    return _npz(**edit(arrays))


def _first_param(arrays) -> str:
    names = sorted(k for k in arrays if k.startswith("carry_") or k == "state")
    return names[0] if names else sorted(arrays)[0]


def _nan_leaf(a):
    k = _first_param(a)
    x = np.array(a[k], dtype=float if a[k].dtype.kind == "f" else a[k].dtype)
    if x.dtype.kind == "f":
        x.reshape(-1)[0] = np.nan
    a[k] = x
    return a


def _reshape_leaf(a):
    k = _first_param(a)
    a[k] = np.concatenate([a[k].reshape(-1), a[k].reshape(-1)])
    return a


def _header(a, **change):
    h = json.loads(str(a["header"]))
    h.update(change)
    a["header"] = np.asarray(json.dumps(h))
    return a


def _flip(data: bytes, at: int) -> bytes:
    b = bytearray(data)
    b[at] ^= 0xFF
    return bytes(b)


def _data_offset() -> int:
    """A byte inside the stored data of the checkpoint's largest member."""
    with zipfile.ZipFile(io.BytesIO(CK)) as z:
        info = max(z.infolist(), key=lambda i: i.compress_size)
    return info.header_offset + 30 + len(info.filename) + info.compress_size // 2


_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
_RES = [*_T, "--steps", "8", "--resume", "ck.npz"]  # resume of the checkpoint, 4 more steps
_ck = {"ck.npz": CK}

CASES = [
    # -- output paths: checked before the run (a 10**9-step run would fail at its end) ----
    CliCase(
        "out-missing-folder",
        [*_T, "--steps", "1000000000", "--out", "nodir/t.npz"],
        match=r"--out.*nodir",
    ),
    CliCase(
        "out-is-folder",
        [*_T, "--steps", "1000000000", "--out", "d"],
        files={"d": None},
        match=r"--out.*folder",
    ),
    CliCase(
        "out-trailing-slash", [*_T, "--steps", "1000000000", "--out", "t.npz/"], match=r"--out"
    ),
    CliCase("out-empty", [*_T, "--steps", "1000000000", "--out", ""], match=r"--out"),
    CliCase(
        "out-exists",
        [*_T, "--steps", "1000000000", "--out", "t.npz"],
        files={"t.npz": b"precious"},
        keep=["t.npz"],
        match=r"--out.*already exists.*--force",
    ),
    CliCase(
        "out-wrong-extension",
        [*_T, "--steps", "1000000000", "--out", "t.png"],
        match=r"--out.*\.npz",
    ),
    CliCase(
        "out-unwritable-fs", [*_T, "--steps", "1000000000", "--out", "/sys/t.npz"], match=r"--out"
    ),
    CliCase(
        "out-parent-is-file",
        [*_T, "--steps", "1000000000", "--out", "f/t.npz"],
        files={"f": "x"},
        match=r"--out",
    ),
    CliCase(
        "plot-missing-folder",
        [*_T, "--steps", "1000000000", "--plot", "nodir/p.png"],
        match=r"--plot.*nodir",
    ),
    CliCase(
        "plot-wrong-extension", [*_T, "--steps", "1000000000", "--plot", "p.npz"], match=r"--plot"
    ),
    CliCase(
        "plot-exists",
        [*_T, "--steps", "1000000000", "--plot", "p.png"],
        files={"p.png": b"precious"},
        keep=["p.png"],
        match=r"--plot.*already exists",
    ),
    CliCase(
        "plot-is-folder",
        [*_T, "--steps", "1000000000", "--plot", "d"],
        files={"d": None},
        match=r"--plot",
    ),
    CliCase(
        "checkpoint-missing-folder",
        [*_T, "--steps", "1000000000", "--checkpoint", "nodir/ck.npz"],
        match=r"--checkpoint.*nodir",
    ),
    CliCase(
        "checkpoint-is-folder",
        [*_T, "--steps", "1000000000", "--checkpoint", "d"],
        files={"d": None},
        match=r"--checkpoint",
    ),
    CliCase(
        "checkpoint-exists-no-resume",
        [*_T, "--steps", "1000000000", "--checkpoint", "ck.npz"],
        files=_ck,
        keep=["ck.npz"],
        match=r"--checkpoint.*already exists.*--resume|--checkpoint.*--force",
    ),
    CliCase(
        "checkpoint-other-file-exists",
        [*_RES, "--checkpoint", "other.npz"],
        files={**_ck, "other.npz": b"precious"},
        keep=["ck.npz", "other.npz"],
        match=r"--checkpoint.*already exists",
    ),
    CliCase(
        "out-same-as-checkpoint",
        [*_T, "--steps", "4", "--out", "a.npz", "--checkpoint", "a.npz"],
        match=r"--out.*--checkpoint|same file",
    ),
    CliCase(
        "resume-missing",
        [*_T, "--steps", "8", "--resume", "nope.npz"],
        match=r"--resume.*nope\.npz",
    ),
    CliCase(
        "resume-folder",
        [*_T, "--steps", "8", "--resume", "d"],
        files={"d": None},
        match=r"--resume",
    ),
    # -- damaged checkpoints: one line naming the file and what is wrong -------------------
    CliCase(
        "ck-empty",
        _RES,
        files={"ck.npz": b""},
        keep=["ck.npz"],
        match=r"--resume.*ck\.npz.*(empty|not a)",
    ),
    CliCase(
        "ck-truncated",
        _RES,
        files={"ck.npz": CK[: len(CK) // 2]},
        keep=["ck.npz"],
        match=r"ck\.npz.*(truncated|damaged|not a)",
    ),
    CliCase(
        "ck-truncated-tail",
        _RES,
        files={"ck.npz": CK[:-10]},
        keep=["ck.npz"],
        match=r"ck\.npz.*(truncated|damaged|not a)",
    ),
    CliCase(
        "ck-byte-flipped",
        _RES,
        files={"ck.npz": _flip(CK, _data_offset())},
        keep=["ck.npz"],
        match=r"ck\.npz.*(damaged|CRC)",
    ),
    CliCase(
        "ck-byte-flipped-directory",
        _RES,
        files={"ck.npz": _flip(CK, len(CK) - 30)},
        keep=["ck.npz"],
        match=r"ck\.npz.*(damaged|truncated|not a)",
    ),
    CliCase(
        "ck-garbage",
        _RES,
        files={"ck.npz": b"hello, world\n" * 50},
        keep=["ck.npz"],
        match=r"ck\.npz.*not a",
    ),
    CliCase(
        "ck-no-header",
        _RES,
        files={"ck.npz": _npz(a=np.arange(3.0))},
        match=r"ck\.npz.*not a spectral_jax checkpoint",
    ),
    CliCase(
        "ck-header-not-json",
        _RES,
        files={"ck.npz": _edit_ck(lambda a: {**a, "header": np.asarray("{nope")})},
        match=r"ck\.npz.*header",
    ),
    CliCase(
        "ck-wrong-format",
        _RES,
        files={"ck.npz": _edit_ck(lambda a: _header(a, format="other/9"))},
        match=r"ck\.npz.*format",
    ),
    CliCase(
        "ck-trajectory-file",
        _RES,
        files={"ck.npz": _FILES["traj"]},
        match=r"ck\.npz.*trajectory.*not a checkpoint|ck\.npz.*not a spectral_jax checkpoint",
    ),
    CliCase(
        "ck-object-array",
        _RES,
        files={"ck.npz": _npz(header=np.array([{"a": 1}], dtype=object))},
        match=r"ck\.npz",
    ),
    CliCase(
        "ck-nan-parameter",
        _RES,
        files={"ck.npz": _edit_ck(_nan_leaf)},
        match=r"ck\.npz.*(non-finite|NaN)",
    ),
    CliCase(
        "ck-leaf-reshaped",
        _RES,
        files={"ck.npz": _edit_ck(_reshape_leaf)},
        match=r"ck\.npz.*(shape|damaged)",
    ),
    CliCase(
        "ck-leaf-missing",
        _RES,
        files={"ck.npz": _edit_ck(lambda a: {k: v for k, v in a.items() if k != _first_param(a)})},
        match=r"ck\.npz.*(missing|damaged)",
    ),
    CliCase(
        "ck-steps-negative",
        _RES,
        files={"ck.npz": _edit_ck(lambda a: _header(a, steps_done=-4))},
        match=r"ck\.npz.*step",
    ),
    CliCase(
        "ck-records-short",
        _RES,
        files={
            "ck.npz": _edit_ck(
                lambda a: {**a, **{k: v[:1] for k, v in a.items() if k.startswith("rec_")}}
            )
        },
        match=r"ck\.npz.*(record|shape)",
    ),
    # -- resumes that do not fit the checkpoint's run --------------------------------------
    CliCase(
        "resume-fewer-steps",
        [*_T, "--steps", "2", "--resume", "ck.npz"],
        files=_ck,
        match=r"--steps.*2.*4",
    ),
    CliCase(
        "resume-record-every",
        [*_T[:-1], "4", "--steps", "8", "--resume", "ck.npz"],
        files=_ck,
        match=r"--record-every.*2.*4",
    ),
    CliCase("resume-lr", [*_RES, "--lr", "0.02"], files=_ck, match=r"--lr.*0\.01.*0\.02"),
    CliCase("resume-target", [*_RES, "--target", "sin2"], files=_ck, match=r"--target.*sin4.*sin2"),
    CliCase("resume-width", [*_RES, "--width", "6"], files=_ck, match=r"--width.*4.*6"),
    CliCase(
        "resume-stepper", [*_RES, "--stepper", "adam"], files=_ck, match=r"--stepper.*euler.*adam"
    ),
    CliCase("resume-trainable", [*_RES, "--trainable", "outer"], files=_ck, match=r"--trainable"),
    CliCase("resume-activation", [*_RES, "--activation", "tanh"], files=_ck, match=r"--activation"),
    CliCase("resume-nodes", [*_RES, "--nodes", "3"], files=_ck, match=r"--nodes"),
    CliCase("resume-modes", [*_RES, "--modes", "3"], files=_ck, match=r"--modes"),
    CliCase("resume-dtype", [*_RES, "--dtype", "float32"], files=_ck, match=r"--dtype"),
    CliCase("resume-arch", [*_RES, "--arch", "mlp"], files=_ck, match=r"--arch"),
    CliCase(
        "resume-ok-updates-checkpoint",
        [*_RES, "--checkpoint", "ck.npz"],
        expect="ok",
        files=_ck,
        absent=[".*part", "*.tmp"],
        exists=["ck.npz"],
    ),
    CliCase(
        "resume-ok-same-steps",
        [*_T, "--steps", "4", "--resume", "ck.npz", "--out", "t.npz"],
        expect="ok",
        files=_ck,
        keep=["ck.npz"],
        exists=["t.npz"],
    ),
    # -- numbers ---------------------------------------------------------------------------
    CliCase("steps-zero", [*_T, "--steps", "0"], match=r"--steps"),
    CliCase("steps-negative", [*_T, "--steps", "-5"], match=r"--steps"),
    CliCase("steps-float", [*_T, "--steps", "2.5"], match=r"--steps"),
    CliCase(
        "record-every-zero", ["train", "--quiet", "--record-every", "0"], match=r"--record-every"
    ),
    CliCase("width-zero", ["train", "--quiet", "--width", "0"], match=r"--width"),
    CliCase("width-negative", ["train", "--quiet", "--width", "-3"], match=r"--width"),
    CliCase("depth-zero", ["train", "--quiet", "--arch", "mlp", "--depth", "0"], match=r"--depth"),
    CliCase("nodes-zero", ["train", "--quiet", "--nodes", "0"], match=r"--nodes"),
    CliCase("modes-zero", ["train", "--quiet", "--modes", "0"], match=r"--modes"),
    CliCase("lr-zero", ["train", "--quiet", "--lr", "0"], match=r"--lr"),
    CliCase("lr-nan", ["train", "--quiet", "--lr", "nan"], match=r"--lr"),
    CliCase("lr-inf", ["train", "--quiet", "--lr", "inf"], match=r"--lr"),
    CliCase("lr-text", ["train", "--quiet", "--lr", "fast"], match=r"--lr"),
    CliCase("seed-negative", ["train", "--quiet", "--seed", "-1"], match=r"--seed"),
    CliCase(
        "seed-huge", ["train", "--quiet", "--arch", "mlp", "--seed", str(2**64)], match=r"--seed"
    ),
    CliCase(
        "checkpoint-every-zero",
        [*_T, "--steps", "4", "--checkpoint", "c.npz", "--checkpoint-every", "0"],
        match=r"--checkpoint-every",
    ),
    CliCase(
        "checkpoint-every-not-multiple",
        [*_T, "--steps", "4", "--checkpoint", "c.npz", "--checkpoint-every", "3"],
        match=r"--checkpoint-every.*--record-every",
    ),
    CliCase(
        "checkpoint-every-alone",
        [*_T, "--steps", "4", "--checkpoint-every", "2"],
        match=r"--checkpoint-every.*--checkpoint",
    ),
    CliCase(
        "divergence-factor-small",
        [*_T, "--steps", "4", "--divergence-factor", "0.5"],
        match=r"--divergence-factor",
    ),
    CliCase(
        "divergence-factor-nan",
        [*_T, "--steps", "4", "--divergence-factor", "nan"],
        match=r"--divergence-factor",
    ),
    # -- sizes that cannot fit: refused before anything is allocated -----------------------
    CliCase(
        "modes-huge",
        [*_T[:6], "--modes", "10000000", "--steps", "2", "--record-every", "2"],
        match=r"--modes.*GiB",
    ),
    CliCase(
        "width-huge-mlp",
        ["train", "--quiet", "--arch", "mlp", "--width", "1000000"],
        match=r"--width.*GiB",
    ),
    CliCase(
        "nodes-huge",
        ["train", "--quiet", "--nodes", "1000000000", "--width", "4"],
        match=r"--nodes.*GiB",
    ),
    CliCase(
        "records-huge", [*_T[:-1], "1", "--steps", "100000000000"], match=r"--record-every.*GiB"
    ),
    # -- runs that go wrong: flagged, not silent -------------------------------------------
    CliCase(
        "diverges-adam",
        [*_T, "--steps", "4", "--stepper", "adam", "--lr", "1000"],
        expect="warn",
        match=r"diverged",
    ),
    CliCase(
        "nonfinite-euler",
        [*_T, "--steps", "4", "--lr", "1e200"],
        expect="warn",
        match=r"non-finite",
    ),
    CliCase(
        "ok-all-outputs",
        [
            *_T,
            "--steps",
            "4",
            "--checkpoint",
            "c.npz",
            "--checkpoint-every",
            "2",
            "--out",
            "t.npz",
            "--plot",
            "p.png",
        ],
        expect="ok",
        exists=["c.npz", "t.npz", "p.png"],
        absent=[".*.part", "*.tmp"],
    ),
    CliCase(
        "ok-force-replaces",
        [*_T, "--steps", "4", "--out", "t.npz", "--force"],
        expect="ok",
        files={"t.npz": b"old"},
        exists=["t.npz"],
    ),
]
if _ROOT:  # root writes through chmod; only the read-only filesystem case stays meaningful
    pass
else:
    CASES.append(
        CliCase(
            "out-readonly-folder",
            [*_T, "--steps", "1000000000", "--out", "ro/t.npz"],
            files={"ro": None},
            chmod={"ro": 0o555},
            match=r"--out.*not writable",
        )
    )

results = corpus_fixture(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_cli_case(case, results):
    check_cli_case(case, results[case.id])


# -- API cases (in-process) ---------------------------------------------------------------

_BAD_CK = {
    "empty": (b"", r"is empty"),
    "garbage": (b"hello, world\n" * 50, r"not a \.npz archive"),
    "truncated": (CK[: len(CK) // 2], r"truncated or damaged"),
    "byte-flipped": (_flip(CK, _data_offset()), r"damaged.*(CRC|check)"),
    "no-header": (_npz(a=np.arange(3.0)), r"no header"),
    "header-not-json": (
        _edit_ck(lambda a: {**a, "header": np.asarray("{nope")}),
        r"header is not a JSON",
    ),
    "wrong-format": (_edit_ck(lambda a: _header(a, format="other/9")), r"unknown format 'other/9'"),
    "older-format": (
        _npz(header=np.asarray(json.dumps({"signature": "x", "steps_done": 2}))),
        r"older spectral_jax",
    ),
    "trajectory": (_FILES["traj"], r"is a trajectory file"),
    "object-array": (_npz(header=np.array([{"a": 1}], dtype=object)), r"Python objects"),
    "nan-parameter": (_edit_ck(_nan_leaf), r"non-finite"),
    "leaf-reshaped": (_edit_ck(_reshape_leaf), r"has shape .* header says"),
    "leaf-missing": (
        _edit_ck(lambda a: {k: v for k, v in a.items() if k != _first_param(a)}),
        r"is missing",
    ),
    "steps-negative": (_edit_ck(lambda a: _header(a, steps_done=-4)), r"bad step counts"),
    "step-counter": (_edit_ck(lambda a: _header(a, steps_done=6)), r"records|step counter"),
    "records-short": (
        _edit_ck(lambda a: {**a, **{k: v[:1] for k, v in a.items() if k.startswith("rec_")}}),
        r"records .* have shape",
    ),
}


@pytest.mark.parametrize("kind", sorted(_BAD_CK))
def test_read_checkpoint_damaged(kind, tmp_path):
    from spectral_jax.dynamics._checkpoint import CheckpointError, read_checkpoint

    data, match = _BAD_CK[kind]
    p = tmp_path / "ck.npz"
    p.write_bytes(data)
    with pytest.raises(CheckpointError, match=match) as info:
        read_checkpoint(p, "train: resume")
    assert "ck.npz" in str(info.value) and "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)


def test_read_checkpoint_good(tmp_path):
    from spectral_jax.dynamics._checkpoint import read_checkpoint

    p = tmp_path / "ck.npz"
    p.write_bytes(CK)
    ck = read_checkpoint(p)
    assert ck.steps_done == 4 and ck.record_every == 2 and ck.records["loss"].shape == (3,)
    assert ck.info["--lr"] == 0.01 and ck.info["--width"] == 4


@pytest.mark.parametrize(
    "data, match",
    [
        (b"", r"is empty"),
        (b"\x93NUMPY garbage", r"not a \.npz archive"),
        (_FILES["traj"][: len(_FILES["traj"]) // 2], r"truncated or damaged"),
        (CK, r"is a checkpoint"),
        (_npz(steps=np.arange(3)), r"no header"),
        (
            _npz(header=np.asarray(json.dumps({"format": "spectral_jax.trajectory/1"}))),
            r"'steps' is missing",
        ),
    ],
    ids=["empty", "npy", "truncated", "checkpoint", "no-header", "no-arrays"],
)
def test_load_trajectory_bad_files(data, match, tmp_path):
    from spectral_jax.dynamics import load_trajectory
    from spectral_jax.dynamics._trajectory import TrajectoryFileError

    p = tmp_path / "t.npz"
    p.write_bytes(data)
    with pytest.raises(TrajectoryFileError, match=match):
        load_trajectory(p)
    with pytest.raises(TrajectoryFileError, match="does not exist"):
        load_trajectory(tmp_path / "nope.npz")


def _tiny(width=4):
    import jax.numpy as jnp

    from spectral_jax.domains import Interval
    from spectral_jax.dynamics import loss_domain
    from spectral_jax.networks import ShallowNetwork, uniform_biases
    from spectral_jax.quadrature import gauss_legendre
    from spectral_jax.targets import get_target

    n = width
    net = ShallowNetwork(jnp.ones(n) / n, jnp.ones(n), uniform_biases(n), "relu")
    dom = loss_domain(get_target("sin2"), gauss_legendre(Interval(), 4, panels=2))
    return net, dom


@pytest.mark.parametrize(
    "kw, err, match",
    [
        (dict(checkpoint="nodir/ck.npz"), ValueError, r"train: checkpoint: the folder 'nodir'"),
        (dict(checkpoint="d"), ValueError, r"train: checkpoint: 'd' is a folder"),
        (dict(checkpoint="ck.npz", checkpoint_every=0), ValueError, r"checkpoint_every"),
        (dict(checkpoint="ck.npz", checkpoint_every=3), ValueError, r"multiple of record_every"),
        (dict(checkpoint_every=2), ValueError, r"checkpoint_every needs checkpoint"),
        (dict(divergence_factor=0.5), ValueError, r"divergence_factor must be .* > 1"),
        (dict(divergence_factor=float("nan")), ValueError, r"divergence_factor"),
        (dict(divergence_factor="big"), TypeError, r"divergence_factor"),
        (dict(divergence_factor=True), TypeError, r"divergence_factor"),
        (dict(checkpoint_info=["--lr"]), TypeError, r"checkpoint_info must be a dict"),
        (dict(resume="nope.npz"), ValueError, r"train: resume: 'nope.npz' does not exist"),
        (dict(steps=10**12, record_every=1), ValueError, r"records .* needs about .*record_every"),
    ],
)
def test_train_refuses_before_work(kw, err, match, tmp_path, monkeypatch):
    from spectral_jax.dynamics import Euler, train
    from spectral_jax.dynamics import _train as tr

    monkeypatch.chdir(tmp_path)
    (tmp_path / "d").mkdir()
    monkeypatch.setenv("SPECTRAL_JAX_MEMORY_LIMIT", "3G")
    monkeypatch.setattr(tr, "_run", None)  # any training would fail differently
    net, dom = _tiny()
    args = dict(stepper=Euler(0.1), steps=4, record_every=2, progress=False) | kw
    with pytest.raises(err, match=match):
        train(net, dom, **args)
    assert sorted(os.listdir(tmp_path)) == ["d"]


def test_fourier_modes_refuses(monkeypatch):
    from spectral_jax._memory import MemoryBudgetError
    from spectral_jax.dynamics import fourier_modes

    monkeypatch.setenv("SPECTRAL_JAX_MEMORY_LIMIT", "3G")
    _, dom = _tiny()
    with pytest.raises(MemoryBudgetError, match=r"fourier_modes: max_mode=10000000 .*GiB"):
        fourier_modes(dom, 10**7)
    for bad, err in [
        (0, ValueError),
        (-3, ValueError),
        (2.5, TypeError),
        (True, TypeError),
        ("3", TypeError),
    ]:
        with pytest.raises(err, match="fourier_modes: max_mode must be a positive integer"):
            fourier_modes(dom, bad)
    with pytest.raises(TypeError, match="dom must be a LossDomain"):
        fourier_modes("dom", 2)


def _mismatch_cases():
    from spectral_jax.dynamics import Euler

    return {
        "lr": (dict(stepper=Euler(0.02)), r"lr: checkpoint has 0\.01, this run 0\.02"),
        "record_every": (dict(record_every=4), r"record_every: checkpoint has 2, this run 4"),
        "trainable": (dict(trainable="outer"), r"trainable: checkpoint has all, this run outer"),
        "divergence": (dict(divergence_factor=10.0), r"divergence_factor"),
        "target": ("target", r"loss_domain: checkpoint has"),
        "width": ("width", r"n_params: checkpoint has 13, this run 19"),
        "initial": ("initial", r"initial_model"),
        "modes": ("modes", r"modes: checkpoint has None"),
        "steps": (dict(steps=2), r"steps=2 is fewer than the 4 steps already done"),
        "info": (dict(checkpoint_info={"--lr": 0.5}), r"--lr: checkpoint has 0\.1, this run 0\.5"),
    }


@pytest.mark.parametrize("name", sorted(_mismatch_cases()))
def test_resume_mismatch(name, tmp_path):
    import jax.numpy as jnp

    from spectral_jax.domains import Interval
    from spectral_jax.dynamics import Euler, fourier_modes, loss_domain, train
    from spectral_jax.dynamics._checkpoint import CheckpointError
    from spectral_jax.quadrature import gauss_legendre
    from spectral_jax.targets import get_target

    ck = tmp_path / "ck.npz"
    net, dom = _tiny()
    base = dict(stepper=Euler(0.01), steps=8, record_every=2, progress=False)
    if not ck.exists():
        train(net, dom, **(base | dict(steps=4, checkpoint=ck, checkpoint_info={"--lr": 0.1})))
    change, match = _mismatch_cases()[name]
    if change == "target":
        dom = loss_domain(get_target("sin4"), gauss_legendre(Interval(), 4, panels=2))
        change = {}
    elif change == "width":
        net, _ = _tiny(6)
        change = {}
    elif change == "initial":
        net = type(net)(net.outer * 2, net.weights, net.biases, "relu")
        change = {}
    elif change == "modes":
        change = dict(mode_tracker=fourier_modes(dom, 2))
    kw = base | dict(resume=ck, checkpoint_info={"--lr": 0.1}) | change
    before = ck.read_bytes()
    with pytest.raises(CheckpointError, match=match):
        train(net, dom, **kw)
    assert ck.read_bytes() == before
    del jnp


def test_full_disk_keeps_old_files(tmp_path, monkeypatch, capsys):
    """A write that fails half-way (ENOSPC) leaves the old file and no temporary file,
    for the trajectory, the checkpoint and the figure; the CLI reports one line."""
    import errno

    from spectral_jax.cli import main
    from spectral_jax.dynamics import _trajectory

    real = np.savez

    def full(fh, **arrays):
        fh.write(b"PK\x03\x04partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    for name in ("t.npz", "ck.npz"):
        (tmp_path / name).write_bytes(b"old")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(_trajectory.np, "savez", full)
    for extra in (["--out", "t.npz"], ["--checkpoint", "ck.npz"]):
        rc = main([*_T, "--steps", "2", "--force", *extra])
        err = capsys.readouterr().err
        assert rc == 2, err
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert len(lines) == 1 and "No space left on device" in lines[0], err
    monkeypatch.setattr(_trajectory.np, "savez", real)
    assert (tmp_path / "t.npz").read_bytes() == b"old"
    assert (tmp_path / "ck.npz").read_bytes() == b"old"
    assert sorted(os.listdir(tmp_path)) == ["ck.npz", "t.npz"]
