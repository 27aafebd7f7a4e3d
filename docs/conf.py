"""Sphinx configuration for the accord documentation.

Build (strict, as CI does)::

    .venv/bin/sphinx-build -q -W --keep-going -b html docs docs/_build/html
"""

from __future__ import annotations

import sys
from pathlib import Path

# Build from the sources without installing the package.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

# -- project ---------------------------------------------------------------------------
project = "accord"
author = "the accord authors"
copyright = "the accord authors"  # noqa: A001 (Sphinx's name)
try:
    from accord import __version__ as release
except Exception:  # the API pages then fail loudly; the guide still builds
    release = "0.1.0"
version = ".".join(release.split(".")[:2])

# -- extensions ----------------------------------------------------------------------
extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3

# -- autodoc ---------------------------------------------------------------------------
autodoc_default_options = {
    "members": True,
    "undoc-members": False,
    "show-inheritance": True,
}
autodoc_typehints = "description"
autodoc_member_order = "bysource"
autodoc_class_signature = "mixed"
autosummary_generate = False
napoleon_google_docstring = True
napoleon_numpy_docstring = True

nitpicky = False

# -- HTML ------------------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"accord {release}"
html_static_path: list[str] = []
html_theme_options = {
    "description": "Jupyter-native multimodal annotation",
    "fixed_sidebar": True,
    "show_relbars": True,
    "page_width": "1240px",
    "sidebar_width": "250px",
    "body_max_width": "none",
}
