"""Sphinx configuration of the mtor_pharm documentation.

Build (warnings are errors): ``bash docs/build.sh`` or
``python -m sphinx -W --keep-going -b html docs docs/_build/html``.
The Markdown pages are read with MyST; their code blocks are executed by
``tests/test_docs.py``, not by Sphinx.  The API reference comes from the
numpydoc docstrings, whose examples run as doctests in ``tests/test_doctests.py``.
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
try:  # the installed package, else the source tree
    import mtor_pharm  # noqa: F401
except ImportError:  # pragma: no cover - building from a bare checkout
    sys.path.insert(0, str(ROOT / "src"))

project = "mtor_pharm"
author = "mtor_pharm developers"
copyright = "mtor_pharm developers"
try:
    release = _version("mtor_pharm")
except PackageNotFoundError:  # pragma: no cover
    release = "0+unknown"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "numpydoc",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# MyST: ```python blocks stay code; heading anchors make `page.md#section` links work
myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 3

# autodoc + numpydoc
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "none"  # numpydoc's Parameters sections say it better
autodoc_mock_imports: list[str] = []
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

# no network at build time: no intersphinx, MathJax is loaded by the reader's browser
html_theme = "alabaster"
html_title = f"mtor_pharm {release}"
html_static_path: list[str] = []
pygments_style = "sphinx"


def _module_sections_as_rubrics(
    app: object, what: str, name: str, obj: object, options: object, lines: list[str]
) -> None:
    """Module docstrings keep numpydoc section headings ("Examples" + dashes); docutils would make
    them document sections whose labels clash between modules. Render them as rubrics instead."""
    if what != "module":
        return
    out: list[str] = []
    i = 0
    while i < len(lines):
        title, under = lines[i].strip(), lines[i + 1].strip() if i + 1 < len(lines) else ""
        if title and under and set(under) == {"-"} and len(under) >= len(title):
            out += [f".. rubric:: {title}", ""]
            i += 2
        else:
            out.append(lines[i])
            i += 1
    lines[:] = out


def setup(app: object) -> dict[str, bool]:
    app.connect("autodoc-process-docstring", _module_sections_as_rubrics, priority=400)  # type: ignore[attr-defined]
    return {"parallel_read_safe": True}
