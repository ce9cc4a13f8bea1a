"""The output-file convention (checked first, atomic, umask) and the memory budget."""

import os
import stat

import pytest

from spectral_jax._files import OutputPathError, atomic_open, atomic_write, check_output_file
from spectral_jax._memory import (
    MemoryBudgetError,
    _parse_bytes,
    array_bytes,
    available_memory,
    check_memory,
    format_bytes,
)


def test_check_output_file_accepts_a_new_file(tmp_path):
    p = check_output_file(tmp_path / "a.npz", arg="--out")
    assert p == tmp_path / "a.npz" and not p.exists()


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda d: "", r"--out: expected a file path"),
        (lambda d: str(d), r"--out: .* is a folder"),
        (lambda d: str(d / "missing" / "x.npz"), r"--out: the folder .*missing.* does not exist"),
        (lambda d: str(d / "x.npz") + os.sep, r"is a folder"),
    ],
)
def test_check_output_file_refuses(tmp_path, make, match):
    with pytest.raises(OutputPathError, match=match):
        check_output_file(make(tmp_path), arg="--out")


def test_existing_file_needs_force(tmp_path):
    f = tmp_path / "x.png"
    f.write_text("mine")
    with pytest.raises(OutputPathError, match=r"--plot: .*already exists; pass --force"):
        check_output_file(f, arg="--plot")
    assert check_output_file(f, arg="--plot", force=True) == f
    assert f.read_text() == "mine"  # checking never touches the file


def test_suffix_is_checked(tmp_path):
    with pytest.raises(OutputPathError, match=r"extension '.txt'; expected one of .png"):
        check_output_file(tmp_path / "a.txt", arg="--plot", suffixes=(".png", ".pdf"))


def test_parent_that_is_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputPathError, match="does not exist|is not a folder"):
        check_output_file(tmp_path / "f" / "a.npz")


def test_atomic_write_replaces_and_follows_umask(tmp_path):
    f = tmp_path / "out.bin"
    f.write_bytes(b"old")
    old = os.umask(0o027)
    try:
        atomic_write(f, lambda fh: fh.write(b"new"))
    finally:
        os.umask(old)
    assert f.read_bytes() == b"new"
    assert stat.S_IMODE(f.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_atomic_write_failure_keeps_old_file_and_leaves_no_litter(tmp_path):
    f = tmp_path / "out.bin"
    f.write_bytes(b"old")

    def boom(fh):
        fh.write(b"partial")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        atomic_write(f, boom)
    assert f.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]

    with pytest.raises(KeyboardInterrupt):
        with atomic_open(f) as fh:
            fh.write(b"x")
            raise KeyboardInterrupt
    assert f.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_atomic_open_rejects_read_modes(tmp_path):
    with pytest.raises(ValueError, match="mode"):
        with atomic_open(tmp_path / "x", "rb"):
            pass


def test_memory_helpers():
    assert array_bytes(60000, 60000, dtype="float64") == 60000 * 60000 * 8
    assert array_bytes(3, dtype="float32") == 12
    assert format_bytes(512) == "512 B"
    assert format_bytes(3 * 2**30) == "3.0 GiB"
    assert _parse_bytes("3G") == 3 * 2**30
    assert _parse_bytes("512MiB") == 512 * 2**20
    assert _parse_bytes("1000") == 1000
    assert _parse_bytes("lots") is None


def test_check_memory_obeys_the_env_cap(monkeypatch):
    monkeypatch.setenv("SPECTRAL_JAX_MEMORY_LIMIT", "1G")
    assert available_memory() <= 2**30
    check_memory(2**20, what="small", hint="fine")
    with pytest.raises(
        MemoryBudgetError, match=r"big thing needs about 4.0 GiB but only .* available; use less"
    ):
        check_memory(4 * 2**30, what="big thing", hint="use less")
    assert issubclass(MemoryBudgetError, ValueError)


def test_host_memory_is_known_here():
    avail = available_memory()
    assert avail is None or avail > 0
