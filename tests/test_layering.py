"""The command layer uses the library through its public API.

A command module (``spectral_jax/commands/*.py``, ``cli.py``) may import the foundation
modules (``spectral_jax._files``, ``_memory``, ``_argnames``, ...) and the sub-packages'
public names, never a sub-package's private module (``from ..dynamics._engine import
...``): what a command needs that a library user may need too is public, documented and
tested; the rest lives in the command layer.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import spectral_jax as sj

_PKG = Path(sj.__file__).parent
_SUBPACKAGES = {p.name for p in _PKG.iterdir() if (p / "__init__.py").exists()} - {"commands"}

#: private imports still to be given public names by the owners of those sub-packages
#: (each entry: "command file: module"); the list only shrinks
_PENDING: set[str] = set()


def _private_imports(path: Path) -> set[str]:
    """``"FILE: sub._module"`` for every import of a sub-package's private module."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.ImportFrom) or node.module is None:
            continue
        parts = node.module.split(".")
        if parts[0] == "spectral_jax":
            parts = parts[1:]
        elif node.level < 2 and path.parent.name == "commands":
            continue  # a sibling in the command layer (``from ._common import ...``)
        if len(parts) >= 2 and parts[0] in _SUBPACKAGES and parts[1].startswith("_"):
            found.add(f"{path.name}: {parts[0]}.{parts[1]}")
    return found


def test_commands_import_no_private_module_of_a_subpackage():
    files = sorted((_PKG / "commands").glob("*.py")) + [_PKG / "cli.py"]
    found = set().union(*(_private_imports(f) for f in files))
    assert found - _PENDING == set(), sorted(found - _PENDING)
    # an entry whose import is gone leaves the list (it must not hide a new one)
    assert _PENDING - found == set(), sorted(_PENDING - found)


def test_the_scan_sees_a_private_import(tmp_path):
    f = tmp_path / "train.py"
    f.write_text("def run():\n    from ..dynamics._engine import records_bytes\n")
    assert _private_imports(f) == {"train.py: dynamics._engine"}
    f.write_text("from ..dynamics import records_bytes\nfrom .._files import atomic_write\n")
    assert _private_imports(f) == set()


def _hand_alternating(paths) -> list[str]:
    """``ShallowNetwork(...)`` calls whose outer weights are an alternating sign pattern
    written by hand (``sign / n`` with ``sign = where(arange(n) % 2 == 0, 1, -1)``)."""
    found = []
    for path in paths:
        text = path.read_text()
        if "ShallowNetwork(" not in text:
            continue
        for node in ast.walk(ast.parse(text)):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            f = node.func
            name = f.id if isinstance(f, ast.Name) else getattr(f, "attr", None)
            if name != "ShallowNetwork":
                continue
            outer = ast.get_source_segment(text, node.args[0]) or ""
            if re.search(r"\bsigns?\b|%\s*2\b", outer):
                found.append(f"{path.name}:{node.lineno}")
    return found


def test_the_alternating_network_is_built_by_alternating_network():
    """One constructor for the seeds' alternating-sign network (not a hand copy)."""
    root = _PKG.parent
    paths = [
        p
        for d in (_PKG, root / "benchmarks", root / "examples")
        for p in sorted(d.rglob("*.py"))
        if "networks" not in p.relative_to(root).parts
    ]
    assert _hand_alternating(paths) == []


def test_the_scan_sees_a_hand_written_alternating_network(tmp_path):
    f = tmp_path / "bench.py"
    f.write_text(
        "sign = jnp.where(jnp.arange(n) % 2 == 0, 1.0, -1.0)\n"
        "net = ShallowNetwork(sign / n, jnp.ones(n), uniform_biases(n), 'relu')\n"
    )
    assert _hand_alternating([f]) == ["bench.py:2"]


def test_mode_study_network_is_bit_identical_to_the_hand_formula():
    import jax.numpy as jnp
    import numpy as np

    from spectral_jax.dynamics._mode_study import sum_of_modes_problem
    from spectral_jax.networks import uniform_biases

    for width in (7,):
        net, _, _ = sum_of_modes_problem(width, 2, "tanh", panels=2)
        sign = jnp.where(jnp.arange(width) % 2 == 0, 1.0, -1.0)
        for got, want in [
            (net.outer, sign / width),
            (net.weights, jnp.ones((width, 1))),
            (net.biases, uniform_biases(width)),
        ]:
            assert got.dtype == want.dtype and np.array_equal(got, want)
