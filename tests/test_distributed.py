"""Multi-process runs (jax.distributed) on this machine: 2 or 4 local CPU processes on
127.0.0.1, gloo collectives, 1-2 simulated devices each, every sharded workload compared
with the one-process result; the launcher's argument checks.

The processes are bounded by a deadline and killed on any failure. The default suite
runs a quick smoke (2 processes x 1 device); the full matrix is ``-m slow``."""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from _distributed_cases import CASES, N_ROWS

from spectral_jax._distributed import (
    DistributedError,
    add_distributed_arguments,
    distributed_initialize,
    initialize_from_args,
)

HERE = Path(__file__).resolve().parent
WORKER = HERE / "_distributed_worker.py"
ALL = [
    "gram_1d",
    "gram_2d",
    "gram_rows",
    "ntk_structured",
    "ntk_empirical",
    "rashomon",
    "training",
    "topk",
]
SHARDED_ROWS = {("smoke", "K"): N_ROWS, ("ntk_structured", "K_fast"): N_ROWS,
                ("ntk_structured", "K_2d"): N_ROWS, ("ntk_empirical", "K_jacrev"): N_ROWS,
                ("ntk_empirical", "K_layered"): N_ROWS, ("topk", "K"): 4 * N_ROWS,
                ("gram_rows", "G"): 48, ("gram_rows", "G_2d"): 24}  # fmt: skip


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, n: int = 25) -> str:
    lines = [ln for ln in path.read_text(errors="replace").splitlines() if "[Gloo]" not in ln]
    return "\n".join(lines[-n:])


def run_processes(nproc: int, ndev: int, cases: list[str], out: Path, timeout: float):
    """Start ``nproc`` workers with ``ndev`` simulated devices each; wait at most
    ``timeout`` seconds; kill every worker still running on failure or timeout."""
    env = dict(os.environ)
    env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={ndev}"
    env["JAX_PLATFORMS"] = "cpu"
    for var in (
        "SPECTRAL_JAX_COORDINATOR",
        "SPECTRAL_JAX_NUM_PROCESSES",
        "SPECTRAL_JAX_PROCESS_ID",
    ):
        env.pop(var, None)
    addr = f"127.0.0.1:{_free_port()}"
    procs, logs = [], []
    try:
        for i in range(nproc):
            log = out / f"log-{i}.txt"
            logs.append(log)
            # even processes get the launcher's options, odd ones the environment variables
            opts = ["--coordinator", addr, "--num-processes", str(nproc), "--process-id", str(i)]
            penv = dict(env)
            if i % 2:
                penv.update(SPECTRAL_JAX_COORDINATOR=addr, SPECTRAL_JAX_NUM_PROCESSES=str(nproc),
                            SPECTRAL_JAX_PROCESS_ID=str(i))  # fmt: skip
                opts = []
            with open(log, "w") as fh:
                procs.append(
                    subprocess.Popen(
                        [sys.executable, str(WORKER), "--distributed", *opts, str(out),
                         ",".join(cases)],
                        env=penv, stdout=fh, stderr=subprocess.STDOUT, cwd=str(HERE),
                    )
                )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            codes = [p.poll() for p in procs]
            if any(c not in (None, 0) for c in codes) or all(c == 0 for c in codes):
                break
            time.sleep(0.2)
        codes = [p.poll() for p in procs]
        if not all(c == 0 for c in codes):
            why = "timed out" if None in codes else f"exit codes {codes}"
            detail = "\n".join(f"--- process {i}:\n{_tail(lg)}" for i, lg in enumerate(logs))
            raise AssertionError(f"multi-process run {why} after {timeout} s\n{detail}")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        for p in procs:
            p.wait(timeout=30)
    return [json.loads((out / f"meta-{i}.json").read_text()) for i in range(nproc)]


def _check(case: str, out: Path, metas, ndev_total: int) -> None:
    got = dict(np.load(out / f"{case}.npz"))
    ref = {k: np.asarray(v) for k, v in CASES[case](None).items()}
    assert sorted(got) == sorted(ref)
    for k, r in ref.items():
        g = got[k]
        assert g.shape == r.shape, (case, k)
        if k == "residuals":  # rounding-level numbers: bounded below, not compared
            continue
        if k == "abs_vectors":  # eigenvectors: rounding over the spectral gap
            np.testing.assert_allclose(g, r, atol=1e-9, err_msg=f"{case}/{k}")
        elif np.issubdtype(r.dtype, np.integer):
            np.testing.assert_array_equal(g, r, err_msg=f"{case}/{k}")
        else:
            scale = max(float(np.max(np.abs(r))), 1e-300)
            np.testing.assert_allclose(g, r, rtol=1e-11, atol=1e-13 * scale, err_msg=f"{case}/{k}")
    for meta in metas:
        assert meta["layout"]["devices"] == ndev_total
        rows = meta["cases"][case]["max_rows_per_device"]
        for (c, k), n in SHARDED_ROWS.items():
            if c == case:  # row-sharded result: no device holds more than its rows
                assert rows[k] == n // ndev_total, (case, k, rows[k])
    if case in ("topk", "gram_rows"):
        ev = np.linalg.eigvalsh(ref["K" if case == "topk" else "G"])[::-1][:4]
        np.testing.assert_allclose(got["eigenvalues"], ev, rtol=1e-10)
        assert np.max(got["residuals"]) < 1e-12


def test_two_processes_smoke(tmp_path):
    """2 processes x 1 device: a row-sharded NTK (each process holds half the rows) and a
    Gram assembled by psum over the processes equal one process."""
    metas = run_processes(2, 1, ["smoke"], tmp_path, timeout=120)
    _check("smoke", tmp_path, metas, 2)
    assert [m["layout"]["process_index"] for m in metas] == [0, 1]


@pytest.mark.slow
@pytest.mark.parametrize("nproc,ndev", [(2, 2), (4, 2)])
def test_every_workload_multiprocess(tmp_path, nproc, ndev):
    """Gram (1D, 2D), structured and empirical NTK (jacrev, jacfwd, layered; sharded and
    padded rows), Rashomon counts, train_many, top-k eigenpairs of a sharded NTK: equal to
    one process to rounding, written once by process 0."""
    metas = run_processes(nproc, ndev, ALL, tmp_path, timeout=900)
    for case in ALL:
        _check(case, tmp_path, metas, nproc * ndev)


# -- the launcher's checks (no process is started) ------------------------------------


def _parse(argv):
    p = argparse.ArgumentParser()
    add_distributed_arguments(p)
    return p.parse_args(argv)


@pytest.mark.parametrize(
    "argv,msg",
    [
        (["--coordinator", "h:1"], "need --distributed"),
        (["--distributed", "--coordinator", "h:1"], "--num-processes, --process-id must"),
        (["--distributed", "--coordinator", "h", "--num-processes", "2", "--process-id", "0"],
         "--coordinator must be HOST:PORT"),
        (["--distributed", "--coordinator", "h:70000", "--num-processes", "2",
          "--process-id", "0"], "port in 1..65535"),
        (["--distributed", "--coordinator", "h:1", "--num-processes", "2", "--process-id", "2"],
         "--process-id must be in 0..1"),
    ],
)  # fmt: skip
def test_launcher_errors(argv, msg, monkeypatch):
    for var in (
        "SPECTRAL_JAX_COORDINATOR",
        "SPECTRAL_JAX_NUM_PROCESSES",
        "SPECTRAL_JAX_PROCESS_ID",
    ):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(DistributedError, match=msg.replace("..", r"\.\.")) as err:
        initialize_from_args(_parse(argv))
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "argv,msg",
    [
        (["--num-processes", "0"], "--num-processes must be an integer >= 1; got '0'"),
        (["--num-processes", "x"], "--num-processes must be an integer >= 1; got 'x'"),
        (["--process-id", "-1"], "--process-id must be an integer >= 0; got '-1'"),
    ],
)
def test_launcher_option_types(argv, msg, capsys):
    """Bad counts and ids are argparse's one-line errors (exit 2), naming the option."""
    with pytest.raises(SystemExit) as err:
        _parse(["--distributed", *argv])
    assert err.value.code == 2
    assert msg in capsys.readouterr().err


def test_launcher_environment(monkeypatch):
    """Environment variables fill missing settings; the API names its own arguments."""
    assert initialize_from_args(_parse([])) is None
    monkeypatch.setenv("SPECTRAL_JAX_COORDINATOR", "10.0.0.1:1234")
    monkeypatch.setenv("SPECTRAL_JAX_NUM_PROCESSES", "2")
    with pytest.raises(DistributedError, match="process_id must be given"):
        distributed_initialize()
    monkeypatch.setenv("SPECTRAL_JAX_PROCESS_ID", "5")
    with pytest.raises(DistributedError, match=r"process_id must be in 0\.\.1"):
        distributed_initialize()
    with pytest.raises(DistributedError, match="num_processes must be an integer"):
        distributed_initialize(num_processes=2.5)


# -- one process: the helpers and the distributed eigen-solve ---------------------------


def test_single_process_helpers(tmp_path):
    """With one process the helpers are plain placements, and process 0 writes."""
    import jax.numpy as jnp

    from spectral_jax._distributed import gather, is_main_process, is_secondary_process, write_once
    from spectral_jax._sharding import device_mesh, global_array, shard_leading

    x = np.arange(12.0).reshape(6, 2)
    g = global_array(x, device_mesh())
    np.testing.assert_array_equal(np.asarray(g), x)
    np.testing.assert_array_equal(np.asarray(shard_leading(jnp.asarray(x))), x)
    tree = {"a": g, "b": 3}
    assert gather(tree)["b"] == 3 and gather(tree)["a"] is g
    assert is_main_process() and not is_secondary_process()
    assert write_once(lambda: (tmp_path / "f").write_text("x")) == 1
    with pytest.raises(ValueError, match="global_array: local_rows"):
        global_array(np.float64(1.0))


def test_top_eigenpairs_against_eigh():
    """Top 5 of the 1D ReLU Gram (closed form, n = 200) against numpy.linalg.eigh: values
    to 1e-12, vectors up to sign to 1e-8; the residual stop; bad input (one shape, so one
    compilation)."""
    import jax.numpy as jnp

    from spectral_jax._subspace import top_eigenpairs
    from spectral_jax.gram import relu_gram_1d

    G = np.asarray(relu_gram_1d(jnp.linspace(-1.0, 1.0, 200)))
    lam, V = np.linalg.eigh(G)
    r = top_eigenpairs(G, 5, oversample=2)
    assert r.converged and r.iterations < 30
    np.testing.assert_allclose(r.eigenvalues, lam[::-1][:5], rtol=1e-12)
    U = np.asarray(r.eigenvectors)
    np.testing.assert_allclose(np.abs(U), np.abs(V[:, ::-1][:, :5]), atol=1e-8)
    # a flat spectrum (eigenvalues 1/k): two steps cannot converge, and say so
    Q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((200, 200)))
    flat = (Q * (1.0 / np.arange(1, 201))) @ Q.T
    r2 = top_eigenpairs(flat, 5, oversample=2, max_iterations=2)
    assert not r2.converged and r2.iterations == 2 and np.max(r2.residuals) > 1e-6
    for bad, msg in [
        (dict(matrix=G[:3], k=2), "matrix must be square"),
        (dict(matrix=G, k=0), "k must be an integer in 1..200"),
        (dict(matrix=G, k=2, oversample=-1), "oversample must be"),
        (dict(matrix=G, k=2, max_iterations=0), "max_iterations must be"),
        (dict(matrix=G, k=2, tol=0.0), "tol must be > 0"),
    ]:
        with pytest.raises(ValueError, match=msg.replace("..", r"\.\.")):
            top_eigenpairs(**bad)


def _cli_has_launcher() -> bool:
    from spectral_jax.cli import build_parser

    parser, _ = build_parser(only="rashomon")
    return any("--distributed" in a.option_strings for a in parser._actions)


@pytest.mark.slow
@pytest.mark.skipif(not _cli_has_launcher(), reason="spectral-jax --distributed not wired yet")
def test_cli_two_processes(tmp_path, capsys):
    """``spectral-jax --distributed ... rashomon --shard --json`` on 2 processes (launcher
    options on one, environment variables on the other): process 0 prints the same counts
    as one process, process 1 prints no result."""
    import json as _json

    from spectral_jax.cli import main

    cmd = ["rashomon", "--samples", "4000", "--width", "4", "--shard", "--json"]
    assert main(cmd) == 0
    ref = _json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=1",
               JAX_PLATFORMS="cpu")  # fmt: skip
    addr = f"127.0.0.1:{_free_port()}"
    env1 = dict(env, SPECTRAL_JAX_COORDINATOR=addr, SPECTRAL_JAX_NUM_PROCESSES="2",
                SPECTRAL_JAX_PROCESS_ID="1")  # fmt: skip
    argv0 = ["--distributed", "--coordinator", addr, "--num-processes", "2", "--process-id", "0"]
    procs = [
        subprocess.Popen([sys.executable, "-m", "spectral_jax.cli", *a, *cmd], env=e,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         cwd=tmp_path)
        for a, e in ((argv0, env), (["--distributed"], env1))
    ]  # fmt: skip
    try:
        outs = [p.communicate(timeout=300) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
    got = _json.loads(outs[0][0].strip().splitlines()[-1])  # gloo may print lines first
    assert got["hits"] == ref["hits"] and got["samples"] == ref["samples"] == 4000
    assert "{" not in outs[1][0]


def test_gram_rows_layout_refuses_a_width_the_devices_do_not_divide():
    """A row-sharded `jax.Array` splits its rows evenly (JAX refuses an uneven
    NamedSharding), so ``gram_matrix(layout="rows")`` cannot pad inside and return n
    rows: it refuses such an n in one line naming n, the device count and the nearest
    valid widths, before any work (a stub 4-device mesh: no subprocess needed)."""
    import types

    import jax
    import jax.numpy as jnp
    from jax.sharding import AbstractMesh, NamedSharding, PartitionSpec

    from spectral_jax.domains import Interval
    from spectral_jax.gram import gram_matrix

    rows = NamedSharding(AbstractMesh((4,), ("x",)), PartitionSpec("x", None))
    assert rows.shard_shape((52, 52)) == (13, 52)
    with pytest.raises(ValueError, match="evenly divide"):  # if JAX allows it, pad instead
        rows.shard_shape((50, 50))
    mesh = types.SimpleNamespace(devices=np.array([jax.devices()[0]] * 4))
    for n, near in ((50, "use n=48 or n=52 features"), (3, "use n=4 features")):
        with pytest.raises(ValueError) as err:
            gram_matrix(
                "relu", jnp.ones((n, 1)), jnp.linspace(-1, 1, n), Interval(), method="gauss",
                mesh=mesh, layout="rows",
            )  # fmt: skip
        msg = str(err.value)
        assert msg.startswith(f"gram_matrix: layout='rows' needs the width n={n} to be a ")
        assert "multiple of the mesh's 4 devices" in msg and near in msg and "\n" not in msg
