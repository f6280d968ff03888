"""Every figure a notebook makes is stored as an image: committed notebooks and a fresh run.

A cell whose output is only the text ``<Figure size ... with N Axes>`` drew nothing a reader can
see (on GitHub, or in nbval's comparison, which ignores images and so cannot notice).
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").rglob("*.ipynb"))
FIGURE_TEXT = re.compile(r"^<Figure size [\d.]+x[\d.]+ with \d+ Axes>$")


def figure_cells_without_image(cells: list[dict]) -> list[int]:
    bad = []
    for index, cell in enumerate(cells):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            text = "".join(data.get("text/plain", ""))
            if FIGURE_TEXT.match(text.strip()) and "image/png" not in data:
                bad.append(index)
    return bad


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_committed_notebooks_store_every_figure_as_an_image(path):
    cells = json.loads(path.read_text())["cells"]
    assert figure_cells_without_image(cells) == [], (
        f"{path.name}: cells that made a figure but stored no image"
    )


def test_a_fresh_kernel_shows_figures_after_importing_the_widgets():
    """The order the notebooks use: pyplot first, then clr.widgets, then an ordinary plot."""
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import matplotlib.pyplot as plt"),
        nbformat.v4.new_code_cell("from clr.widgets import BoundsPicker, policy_explorer"),
        nbformat.v4.new_code_cell("fig, ax = plt.subplots()\nax.plot([1, 2])\nplt.show()"),
    ]
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    outputs = nb.cells[2].outputs
    assert any("image/png" in o.get("data", {}) for o in outputs), outputs
    assert figure_cells_without_image(nb.cells) == []
