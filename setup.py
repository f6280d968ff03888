"""Adds the notebooks, and the committed results they read, to the wheel as ``clr/_bundle/``.

Everything else about the package is in pyproject.toml. The files stay where a reader of the
repository expects them (``notebooks/``, ``results/``); a pip user gets them with
``python -m clr.notebooks DIR``. Which files go in is decided in one place,
``clr.notebooks.BUNDLE`` (a stdlib-only module, importable here before anything is installed).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
from clr.notebooks import bundle_files  # noqa: E402


class BuildWithBundle(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads notebooks/ and results/ in place
            return
        target = Path(self.build_lib) / "clr" / "_bundle"
        for name in bundle_files(ROOT):
            destination = target / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / name, destination)


if __name__ == "__main__":  # how setuptools' build backend runs this file
    setup(cmdclass={"build_py": BuildWithBundle})
