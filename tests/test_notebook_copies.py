"""`python -m clr.notebooks DIR` from this checkout (the installed wheel's copy is in
test_wheel.py): every notebook and result table arrives, a second copy updates only what nobody
edited, an edited notebook is never overwritten without --force, and the notebooks in DIR read
DIR/results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from clr import notebooks
from clr.cifar10.results import results_dir

ROOT = Path(__file__).resolve().parents[1]


def copy(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "clr.notebooks", str(folder), *args],
                          capture_output=True, text=True, cwd=ROOT)  # fmt: skip


def test_every_notebook_and_result_table_arrives(tmp_path):
    done = copy(tmp_path / "nb")
    assert done.returncode == 0, done.stderr
    assert f"jupyter lab {tmp_path / 'nb'}" in done.stdout
    names = set(json.loads((tmp_path / "nb" / notebooks.MANIFEST).read_text())["files"])
    on_disk = {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert on_disk <= names and "solutions/04_workshop_solutions.ipynb" in names
    assert "results/paper/seed0/fixed.csv" in names
    assert not any(n.endswith(".keras") for n in names)
    assert (tmp_path / "nb" / "results/paper/seed0/fixed.csv").read_bytes() == (
        ROOT / "results/paper/seed0/fixed.csv"
    ).read_bytes()


def test_a_second_copy_changes_nothing_and_an_edit_is_kept_unless_forced(tmp_path):
    assert copy(tmp_path).returncode == 0
    again = copy(tmp_path)
    assert again.returncode == 0 and "0 files written" in again.stdout
    edited = tmp_path / "01_policy_explorer.ipynb"
    edited.write_text(edited.read_text() + "\n")
    refused = copy(tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1 and "01_policy_explorer.ipynb" in refused.stderr
    assert edited.read_text().endswith("\n\n")  # kept
    forced = copy(tmp_path, "--force")
    assert forced.returncode == 0 and "1 edited file overwritten" in forced.stdout
    assert edited.read_bytes() == (ROOT / "notebooks" / edited.name).read_bytes()


def test_a_file_it_did_not_write_is_not_overwritten(tmp_path):
    (tmp_path / "04_workshop.ipynb").write_text("{}")
    with pytest.raises(FileExistsError, match="04_workshop.ipynb .* --force"):
        notebooks.copy_notebooks(tmp_path)
    assert not (tmp_path / "01_policy_explorer.ipynb").exists()  # nothing at all was written


def test_a_damaged_record_or_a_file_for_a_folder_is_one_line(tmp_path):
    (tmp_path / notebooks.MANIFEST).write_text("{not json")
    done = copy(tmp_path)
    assert done.returncode == 2 and "damaged" in done.stderr and done.stderr.count("\n") == 1
    (tmp_path / "file").write_text("")
    done = copy(tmp_path / "file")
    assert done.returncode == 2 and "is a file" in done.stderr


def test_the_copied_notebooks_read_the_copied_results(tmp_path, monkeypatch):
    notebooks.copy_notebooks(tmp_path)
    monkeypatch.delenv("CLR_RESULTS", raising=False)
    monkeypatch.chdir(tmp_path / "solutions")  # a notebook's own folder, one below
    # In a checkout the repository's results come first; outside one, the copy's.
    monkeypatch.setattr(Path, "is_file", _without(Path.is_file, ROOT / "pyproject.toml"))
    assert results_dir() == tmp_path / "results"
    monkeypatch.setenv("CLR_RESULTS", "/somewhere")
    assert results_dir() == Path("/somewhere")


def _without(is_file, hidden: Path):
    return lambda self: False if self == hidden else is_file(self)


def test_require_stops_in_one_line_naming_the_install():
    notebooks.require("json")  # present: nothing happens
    with pytest.raises(notebooks.MissingDependency) as raised:
        notebooks.require("json", "no_such_module_here")
    assert 'pip install "cyclical-lr[keras]"' in str(raised.value)
    assert len(raised.value._render_traceback_()) == 1
    assert os.linesep not in str(raised.value)
