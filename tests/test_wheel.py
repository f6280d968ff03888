"""What a pip user gets (issue 38): the built wheel and sdist hold every module of the tree, the
notebooks and the results they read; installed from the wheel into clean virtual environments,
a workshop participant's light install (`cyclical-lr[workshop]`) stays small, gets the notebooks
with `python -m clr.notebooks` and runs notebooks 01 and 04; with the `notebooks` extra the
explorer builds and notebook 01 runs, and a notebook that needs Keras says in one line what to
install. Every check imports clr from site-packages, never from this checkout.

Needs the package index (pip) for the clean environments; where it cannot be reached those
skip and say so. The file comparison needs nothing but the build.
"""

from __future__ import annotations

import json
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest
from package_support import ROOT, index_reachable, packages, run, size_mb, venv

from clr.notebooks import MANIFEST, bundle_files

WORKSHOP_LIMIT_MB = 700  # the goal for a participant's install
HEAVY = {"keras", "tensorflow", "tensorflow-cpu", "jax", "jaxlib", "torch", "ray", "pyarrow"}
needs_index = pytest.mark.skipif(
    not index_reachable(), reason="the package index cannot be reached: no clean environments"
)


def _tree_package_files() -> set[str]:
    """Every file the package is made of, from the tree: each module of every subpackage (found,
    not listed), py.typed, and the bundle setup.py adds under clr/_bundle/."""
    modules = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "clr").rglob("*.py")
        if "__pycache__" not in p.parts and "_bundle" not in p.parts
    }
    bundle = {f"clr/_bundle/{name}" for name in bundle_files(ROOT)}
    return modules | {"clr/py.typed"} | bundle


def test_the_wheel_holds_exactly_the_tree(dist):
    with zipfile.ZipFile(dist["wheel"]) as z:
        names = {n for n in z.namelist() if ".dist-info/" not in n}
    expected = _tree_package_files()
    assert sorted(expected - names) == [], "in the tree, missing from the wheel"
    assert sorted(names - expected) == [], "in the wheel, not in the tree"
    assert "clr/explorer/view.py" in names and "clr/_bundle/notebooks/04_workshop.ipynb" in names
    assert not any(n.endswith(".keras") for n in names)  # no checkpoint


def test_the_sdist_holds_what_the_wheel_is_built_from(dist):
    with tarfile.open(dist["sdist"]) as tar:
        top = tar.getnames()[0].split("/")[0]
        names = {m.name.removeprefix(top + "/") for m in tar.getmembers() if m.isfile()}
    sources = {n for n in _tree_package_files() if not n.startswith("clr/_bundle/")}
    needed = sources | set(bundle_files(ROOT)) | {"pyproject.toml", "setup.py", "README.md"}
    assert sorted(needed - names) == []
    assert not any(n.endswith(".keras") for n in names)


@pytest.fixture(scope="module")
def workshop(dist, tmp_path_factory):
    """A clean environment with the wheel and the `workshop` extra, at the lock's versions (what
    `make workshop` and the guide's `pip install "cyclical-lr[workshop]"` install)."""
    if not index_reachable():
        pytest.skip("the package index cannot be reached: no clean environments")
    root = tmp_path_factory.mktemp("workshop")
    python = venv(root / "venv")
    done = run([str(python), "-m", "pip", "install", "--quiet", "-c", str(ROOT / "constraints.txt"),
                f"{dist['wheel']}[workshop]"], timeout=900)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return {"python": python, "venv": root / "venv", "root": root}


def _where_clr(python: Path, cwd: Path) -> str:
    done = run([str(python), "-c", "import clr; print(clr.__file__)"], cwd=cwd)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _execute(python: Path, folder: Path, *notebooks: str) -> subprocess.CompletedProcess:
    return run([str(python), "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                "--output-dir", str(folder / "executed"), "--ExecutePreprocessor.timeout=600",
                *notebooks], cwd=folder, timeout=900)  # fmt: skip


@needs_index
def test_a_participants_install_is_light_and_says_its_size(workshop):
    installed = packages(workshop["python"])
    assert not HEAVY & set(installed), sorted(HEAVY & set(installed))
    assert {"cyclical-lr", "jupyterlab", "ipywidgets", "ipympl", "matplotlib"} <= set(installed)
    size = size_mb(workshop["venv"])
    print(f"the workshop install: {size:.0f} MB in a clean venv, {len(installed)} packages")
    assert size < WORKSHOP_LIMIT_MB


@needs_index
def test_a_participant_gets_the_notebooks_and_runs_01_and_04(workshop):
    python, folder = workshop["python"], workshop["root"] / "notebooks"
    done = run([str(python), "-m", "clr.notebooks", str(folder)], cwd=workshop["root"])
    assert done.returncode == 0, done.stderr
    assert f"jupyter lab {folder}" in done.stdout
    record = json.loads((folder / MANIFEST).read_text())["files"]
    assert {
        "01_policy_explorer.ipynb",
        "04_workshop.ipynb",
        "results/paper/range_test.json",
    } <= set(record)
    where = _where_clr(python, folder)
    assert "site-packages" in where and not where.startswith(str(ROOT)), where
    executed = _execute(python, folder, "01_policy_explorer.ipynb", "04_workshop.ipynb")
    assert executed.returncode == 0, executed.stderr[-4000:]
    for name in ("01_policy_explorer.ipynb", "04_workshop.ipynb"):
        cells = json.loads((folder / "executed" / name).read_text())["cells"]
        errors = [o for c in cells for o in c.get("outputs", []) if o["output_type"] == "error"]
        assert errors == [], (name, errors[:1])
    # The exercises read the committed range test from the copied results/.
    cells = json.loads((folder / "executed" / "04_workshop.ipynb").read_text())["cells"]
    assert any("range_test" in "".join(c["source"]) for c in cells)


@needs_index
def test_a_second_copy_keeps_an_edited_notebook(workshop, tmp_path):
    python = workshop["python"]
    first = run([str(python), "-m", "clr.notebooks", str(tmp_path)])
    assert first.returncode == 0, first.stderr
    edited = tmp_path / "04_workshop.ipynb"
    notebook = json.loads(edited.read_text())
    notebook["cells"].append({"cell_type": "markdown", "metadata": {}, "source": ["My notes"]})
    edited.write_text(json.dumps(notebook))
    again = run([str(python), "-m", "clr.notebooks", str(tmp_path)])
    assert again.returncode == 2 and again.stderr.count("\n") == 1, again.stderr
    assert "04_workshop.ipynb" in again.stderr and "--force" in again.stderr
    assert "My notes" in edited.read_text()


@needs_index
def test_the_notebooks_extra_builds_the_explorer_and_runs_01(dist, workshop):
    """The `notebooks` extra (the workshop's plus Voila): the explorer is built, notebook 01
    runs, and a notebook that needs Keras stops in one line saying what to install."""
    python, folder = workshop["python"], workshop["root"] / "notebooks-extra"
    done = run([str(python), "-m", "pip", "install", "--quiet", "-c", str(ROOT / "constraints.txt"),
                f"{dist['wheel']}[notebooks]"], timeout=900)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "voila" in packages(python)
    run([str(python), "-m", "clr.notebooks", str(folder)], check=True)
    built = run([str(python), "-c", "import clr, clr.widgets as w; e = w.policy_explorer(); "
                 "print(type(e).__name__, clr.__file__)"], cwd=folder)  # fmt: skip
    assert built.returncode == 0, built.stderr[-3000:]
    assert "site-packages" in built.stdout
    assert _execute(python, folder, "01_policy_explorer.ipynb").returncode == 0
    # Run All stops at the first error: the cell that needs Keras shows one line, no traceback.
    _execute(python, folder, "05_one_cycle.ipynb", "--allow-errors")
    cells = json.loads((folder / "executed" / "05_one_cycle.ipynb").read_text())["cells"]
    first = next(o for c in cells for o in c.get("outputs", []) if o["output_type"] == "error")
    assert first["ename"] == "MissingDependency"
    assert len(first["traceback"]) == 1, first["traceback"]
    message = 'needs keras, which is not installed here: pip install "cyclical-lr[keras]"'
    assert message in first["traceback"][0]
