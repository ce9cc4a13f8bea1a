"""Worker for tests/corpus.py: runs pickled CliCases in this process, one JSON line each.

argv: TODO_PICKLE RESULTS_JSONL BASE_DIR RSS_CAP_BYTES

A watchdog thread ends the process (exit 124 on a time limit, 137 above the resident
memory cap) so that the parent marks the running case as a crash and continues.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import io
import json
import os
import pickle
import sys
import threading
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _rss() -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class _Watchdog(threading.Thread):
    def __init__(self, cap: int):
        super().__init__(daemon=True)
        self.cap = cap
        self.deadline = None
        self.case = None

    def run(self):
        while True:
            time.sleep(0.05)
            if self.deadline is not None and time.monotonic() > self.deadline:
                os.write(2, f"\ncorpus: case {self.case} exceeded its time limit\n".encode())
                os._exit(124)
            if _rss() > self.cap:
                os.write(2, f"\ncorpus: case {self.case} exceeded the memory cap\n".encode())
                os._exit(137)


def _digest(p: Path) -> str | None:
    try:
        return (
            hashlib.sha256(p.read_bytes()).hexdigest()
            if p.is_file()
            else ("dir" if p.is_dir() else None)
        )
    except OSError:
        return None


def main() -> None:
    todo, results, base, cap = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
    cases = pickle.loads(Path(todo).read_bytes())
    from spectral_jax.cli import main as cli_main

    dog = _Watchdog(cap)
    dog.start()
    home = os.getcwd()
    with open(results, "a") as out:
        for case in cases:
            work = base / f"case-{case.id}"
            work.mkdir(parents=True, exist_ok=True)
            for rel, content in case.files.items():
                p = work / rel
                if content is None:
                    p.mkdir(parents=True, exist_ok=True)
                    continue
                p.parent.mkdir(parents=True, exist_ok=True)
                if isinstance(content, bytes):
                    p.write_bytes(content)
                else:
                    p.write_text(content)
            for rel, mode in case.chmod.items():
                os.chmod(work / rel, mode)
            before = {rel: _digest(work / rel) for rel in case.keep}
            out.write(json.dumps({"id": case.id, "started_only": True}) + "\n")
            out.flush()
            saved_env = {k: os.environ.get(k) for k in case.env}
            os.environ.update(case.env)
            os.chdir(work)
            err, std = io.StringIO(), io.StringIO()
            dog.case, dog.deadline = case.id, time.monotonic() + case.timeout
            t0 = time.perf_counter()
            kind, status = None, None
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(std):
                try:
                    status = cli_main(list(case.argv))
                except SystemExit as e:  # argparse
                    status = e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
                except BaseException:  # noqa: BLE001 - what we are here to catch
                    kind = "traceback"
                    err.write(traceback.format_exc())
            dog.deadline = None
            os.chdir(home)
            for k, v in saved_env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            if kind is None:
                kind = {0: "ok", 1: "ok", 2: "error"}.get(status, "other")
            rec = {
                "id": case.id,
                "kind": kind,
                "status": status,
                "seconds": time.perf_counter() - t0,
                "stderr": err.getvalue()[-6000:],
                "stdout": std.getvalue()[-2000:],
                "kept": {
                    rel: before[rel] is not None and _digest(work / rel) == before[rel]
                    for rel in case.keep
                },
                "globbed": {
                    pat: [
                        os.path.relpath(g, work) for g in glob.glob(str(work / pat), recursive=True)
                    ]
                    for pat in case.absent
                },
                "existing": {rel: (work / rel).exists() for rel in case.exists},
            }
            out.write(json.dumps(rec) + "\n")
            out.flush()


if __name__ == "__main__":
    main()
