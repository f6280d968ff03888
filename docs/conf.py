"""Sphinx configuration of clr's documentation site: `make docs` builds it into docs/_build/html.

Strict and offline: `make docs` runs sphinx-build with -W (every warning fails the build), -n
(every cross-reference must resolve) and --keep-going (all of them reported at once). Nothing is
fetched at build or view time: no intersphinx, no MathJax, no ipywidgets scripts from a CDN (the
notebooks are rendered from their committed outputs; an explorer's output shows its static
picture). docs/README.md says why Sphinx.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(ROOT))

import clr  # noqa: E402

project = "clr"
author = "the clr team"
copyright = "2026, the clr team"
release = clr.__version__
version = release

extensions = [
    "myst_nb",  # markdown pages and the notebooks (MyST-NB registers myst_parser)
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",  # the docstrings' "Args:" and "Examples:" sections
    "clr_docs",  # the pictures of every policy and the command line's --help
]

# The pages: markdown (MyST) and the notebooks, copied from notebooks/ at every build so that
# the site shows what is committed (docs/_notebooks is generated, not committed).
NOTEBOOKS = DOCS / "_notebooks"
shutil.rmtree(NOTEBOOKS, ignore_errors=True)
shutil.copytree(ROOT / "notebooks", NOTEBOOKS, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
exclude_patterns = ["_build", "README.md", "_generated/**", "**/.ipynb_checkpoints"]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"

# Notebooks are rendered from their committed outputs: nbval executes them in `make test`.
nb_execution_mode = "off"
# No widget state is stored (make notebooks executes with store_widget_state=False), so a widget
# view has nothing to draw: its text/html output (the explorer's static picture) is shown instead.
nb_mime_priority_overrides = [
    (builder, "application/vnd.jupyter.widget-view+json", None)
    for builder in ("html", "dirhtml", "singlehtml")
]
nb_ipywidgets_js = {}  # and never ipywidgets' scripts from a CDN
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]  # the notebooks' and README's headings start at any level

# The API reference, from the docstrings (Google-style "Args:" sections).
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
napoleon_google_docstring = True
napoleon_numpy_docstring = False
add_module_names = True

# Every cross-reference must resolve, except to the libraries whose own docs are not fetched
# (no intersphinx: the build is offline).
nitpicky = True
nitpick_ignore_regex = [
    (
        r"py:.*",
        r"(numpy|np|keras|ipywidgets|matplotlib|tensorflow|os|pathlib|typing|"
        r"collections|argparse|dataclasses|enum|abc|types)(\..*)?",
    ),  # fmt: skip
    (r"py:.*", r"(ArrayLike|NDArray|Any|Callable|Sequence|Iterable|Mapping|Self|PathLike|ScaleFn)"),
    (r"py:class", r"(int|float|str|bool|dict|list|tuple|None|object|type|Path)"),
]

# Offline: no MathJax (the pages hold no math; a formula is code), no intersphinx.
html_theme = "sphinx_book_theme"
html_title = f"clr {release}"
html_static_path = []
html_theme_options = {
    "repository_url": "",
    "use_repository_button": False,
    "show_toc_level": 2,
    "navigation_with_keys": False,
}
html_show_sourcelink = False
html_copy_source = False
# The theme's light mode from the start: with no mode set it logs a console error ("invalid
# theme mode") before falling back to auto.
html_context = {"default_mode": "light"}
