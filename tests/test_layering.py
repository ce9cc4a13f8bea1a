"""The command layer uses the library through its public API.

A command module (``spectral_jax/commands/*.py``, ``cli.py``) may import the foundation
modules (``spectral_jax._files``, ``_memory``, ``_argnames``, ...) and the sub-packages'
public names, never a sub-package's private module (``from ..dynamics._engine import
...``): what a command needs that a library user may need too is public, documented and
tested; the rest lives in the command layer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import spectral_jax as sj

_PKG = Path(sj.__file__).parent
_SUBPACKAGES = {p.name for p in _PKG.iterdir() if (p / "__init__.py").exists()} - {"commands"}

#: private imports still to be given public names by the owners of those sub-packages
#: (each entry: "command file: module"); the list only shrinks
_PENDING = {
    "ntk.py: ntk._empirical",
    "ntk.py: ntk._spectrum",
    "ntk.py: ntk._structured",
    "ntk.py: ntk._trainable",
    "ntk.py: ntk._layered",
    "rashomon.py: rashomon._estimate",
    "rashomon.py: rashomon._setup",
    "spectrum.py: spectrum._spectrum",
}


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
