"""The package as a user installs it (issue 21): the wheel and sdist build; the wheel installs
into clean virtual environments with numpy only (Python 3.11 to 3.13, where found) and offers
the numpy API with no Keras; beside the oldest versions the ranges allow
(tests/oldest-versions.txt) it installs without changing them and the Keras tests pass there;
beside the lock (the newest releases, this project's own set-up) it would install nothing but
itself.

Needs the package index (pip) for the clean environments; where it cannot be reached these
skip and say so.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from package_support import ROOT, index_reachable, lock_version, packages, run, venv

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
KERAS_TESTS = ["test_keras.py", "test_keras_entry_points.py", "test_one_cycle.py",
               "test_range_test.py", "test_range_test_pipelines.py", "test_models.py",
               "test_keras_setups.py"]  # fmt: skip

CORE_CHECK = """
import sys
import numpy as np
import clr
assert clr.__version__ == sys.argv[1], clr.__version__
assert "site-packages" in clr.__file__, clr.__file__  # the installed wheel, not a checkout
np.testing.assert_allclose(clr.cyclic_lr([0, 1000, 2000, 6000], mode="triangular2"),
                           [0.001, 0.0035, 0.006, 0.0035])
np.testing.assert_allclose(clr.one_cycle([0, 29, 99], 0.1, 100), [0.004, 0.1, 4e-07], atol=1e-9)
phases = clr.Join((clr.Constant(1e-3), clr.Constant(1e-4)), (10,))
assert phases(12) == 1e-4 and clr.step_size_range(50_000, 100).low == 1000
heavy = {"keras", "tensorflow", "jax", "torch", "matplotlib", "ray"} & set(sys.modules)
assert not heavy, heavy
from importlib.resources import files
assert files("clr").joinpath("py.typed").is_file()
if sys.argv[2] == "without-keras":
    try:
        import clr.keras
    except ImportError as err:
        assert "pip install 'cyclical-lr[keras]'" in str(err), err
        print("core ok; clr.keras says:", err)
else:
    import clr.keras
    print("core ok; clr.keras imports beside Keras", clr.keras.keras.__version__)
"""


pytestmark = pytest.mark.skipif(
    not index_reachable(), reason="the package index cannot be reached: no clean environments"
)


def _python(version: str) -> str | None:
    """An interpreter of ``version`` (``3.12``) on this machine, or None."""
    root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates = [
        shutil.which(f"python{version}"),
        *sorted(glob.glob(f"{root}/versions/{version}.*/bin/python")),
    ]
    for candidate in candidates:
        if candidate and run([candidate, "-c", "import sys"]).returncode == 0:
            found = run([candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
            if found.stdout.strip() == version:
                return candidate
    return None


def test_the_wheel_and_sdist_hold_the_package_and_its_metadata(dist):
    with zipfile.ZipFile(dist["wheel"]) as z:
        names = set(z.namelist())
        metadata = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert not any(n.startswith(("results/", "tests/", "notebooks/")) for n in names)
    assert f"Name: cyclical-lr\nVersion: {PROJECT['version']}" in metadata
    assert "Requires-Dist: numpy<3,>=1.26.4" in metadata
    assert 'Requires-Dist: keras<4,>=3.2.0; extra == "keras"' in metadata
    assert "Project-URL: Paper, https://arxiv.org/abs/1506.01186" in metadata
    # the package, the notebooks and the results' tables, not the 32 MB of checkpoints
    assert dist["sdist"].stat().st_size < 4_000_000


@pytest.mark.parametrize("version", ["3.11", "3.12", "3.13"])
def test_the_wheel_alone_needs_numpy_only(dist, tmp_path, version):
    python = _python(version)
    if python is None:
        pytest.skip(f"no Python {version} on this machine")
    env = venv(tmp_path / "venv", python)
    before = packages(env)
    done = run([str(env), "-m", "pip", "install", "--quiet", "-c", str(ROOT / "constraints.txt"),
                str(dist["wheel"])], timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    added = set(packages(env)) - set(before)
    assert added == {"cyclical-lr", "numpy"}, added
    check = run([str(env), "-c", CORE_CHECK, PROJECT["version"], "without-keras"], cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "core ok; clr.keras says:" in check.stdout


def test_the_oldest_versions_keep_theirs_and_pass_the_keras_tests(dist, tmp_path):
    env = venv(tmp_path / "oldest")
    tools = [f"{name}=={lock_version(name)}" for name in ("pytest", "hypothesis", "pyyaml")]
    done = run([str(env), "-m", "pip", "install", "--quiet", "-r",
                str(ROOT / "tests" / "oldest-versions.txt"), *tools], timeout=1200)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    theirs = packages(env)
    done = run([str(env), "-m", "pip", "install", "--quiet", f"{dist['wheel']}[keras]"],
               timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    after = packages(env)
    assert {k: v for k, v in after.items() if k != "cyclical-lr"} == theirs  # nothing changed
    assert (after["numpy"], after["keras"], after["tensorflow-cpu"]) == (
        "1.26.4",
        "3.2.0",
        "2.16.1",
    )
    tests = [str(ROOT / "tests" / name) for name in KERAS_TESTS]
    done = run([str(env), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
                "--rootdir", str(ROOT / "tests"), *tests], cwd=tmp_path, timeout=1800)  # fmt: skip
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-2000:]
    print(f"Keras tests on numpy 1.26.4, Keras 3.2.0, TensorFlow 2.16.1: {summary}")
    assert done.returncode == 0, done.stdout[-4000:]
    check = run([str(env), "-c", CORE_CHECK, PROJECT["version"], "with-keras"], cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    assert "clr.keras imports beside Keras 3.2.0" in check.stdout


def test_beside_the_lock_the_wheel_installs_nothing_else(dist, tmp_path):
    """This project's own set-up is the lock, the newest releases the ranges allow: the wheel
    with every extra would add no package and change none."""
    report = tmp_path / "report.json"
    done = run([sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--report",
                str(report), f"{dist['wheel']}[all]"], timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    would = [item["metadata"]["name"] for item in json.loads(report.read_text())["install"]]
    assert would == ["cyclical-lr"], would
