"""MkDocs hook: ship MathJax with the site, so formulas render without a network.

The MathJax 3 browser bundle comes from the PyPI package ``django-static-mathjax``
(MathJax 3.2.2, Apache-2.0; a plain copy of the upstream ``es5`` build, no Django code is
imported). Its ``es5`` folder, minus the combined bundles the site does not load, is added
to the site under ``javascripts/mathjax/`` together with MathJax's licence. The pages load
``javascripts/mathjax/tex-svg.js``: SVG output draws every glyph inline, so no font file is
fetched (fonts loaded from ``file://`` pages are blocked by some browsers).
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

DISTRIBUTION = "django-static-mathjax"
DEST = "javascripts/mathjax"
# the site loads tex-svg.js; the other combined bundles are dead weight
_OTHER_BUNDLES = {
    "latest.js",
    "mml-chtml.js",
    "mml-svg.js",
    "node-main.js",
    "tex-chtml-full-speech.js",
    "tex-chtml-full.js",
    "tex-chtml.js",
    "tex-mml-chtml.js",
    "tex-mml-svg.js",
    "tex-svg-full.js",
}


def mathjax_root() -> Path:
    """The ``es5`` folder of the installed MathJax bundle (a clear error when missing)."""
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise PluginError(
            f"offline maths needs the {DISTRIBUTION} package (MathJax 3 for the site): "
            f"pip install {DISTRIBUTION}  (or pip install '.[docs]')"
        ) from None
    root = Path(str(dist.locate_file("mathjax/static/mathjax/es5")))
    if not (root / "tex-svg.js").is_file():
        raise PluginError(f"{DISTRIBUTION} is installed but {root}/tex-svg.js is missing")
    return root


def on_files(files: Files, config) -> Files:
    root = mathjax_root()
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_dir() or (len(rel.parts) == 1 and rel.name in _OTHER_BUNDLES):
            continue
        files.append(File.generated(config, f"{DEST}/{rel.as_posix()}", abs_src_path=str(path)))
    licence = root.parent / "LICENSE"
    files.append(File.generated(config, f"{DEST}/LICENSE", abs_src_path=str(licence)))
    return files
