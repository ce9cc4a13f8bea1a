"""Docs: every public name is documented in an API page, and the site builds strictly."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import spectral_jax as sj

ROOT = Path(__file__).resolve().parent.parent


def _documented() -> set[str]:
    names = set()
    for p in (ROOT / "docs" / "api").glob("*.md"):
        for m in re.finditer(r"^:::\s+spectral_jax\.([\w.]+)", p.read_text(), re.M):
            names.add(m.group(1).split(".")[-1])
    return names


def test_every_public_name_has_an_api_entry():
    missing = sorted(n for n in sj.__all__ if n != "__version__" and n not in _documented())
    assert not missing, f"public names without an API entry in docs/api/*.md: {missing}"


def test_every_nav_page_exists():
    text = (ROOT / "mkdocs.yml").read_text()
    pages = re.findall(r":\s*([\w/.-]+\.md)\s*$", text, re.M)
    missing = [p for p in pages if not (ROOT / "docs" / p).exists()]
    assert not missing, f"pages in mkdocs.yml nav but missing: {missing}"


@pytest.mark.skipif(
    shutil.which("mkdocs") is None and not Path(sys.executable).with_name("mkdocs").exists(),
    reason="mkdocs not installed (pip install '.[docs]'); CI installs it",
)
def test_docs_build_strict(tmp_path):
    exe = shutil.which("mkdocs") or str(Path(sys.executable).with_name("mkdocs"))
    out = subprocess.run(
        [exe, "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={
            "NO_MKDOCS_2_WARNING": "1",
            "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        },
    )
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
