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
import subprocess
import sys
import tarfile
import tomllib
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
KERAS_TESTS = ["test_keras.py", "test_keras_entry_points.py", "test_one_cycle.py",
               "test_range_test.py", "test_range_test_pipelines.py", "test_models.py"]  # fmt: skip
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PIP_DISABLE_PIP_VERSION_CHECK="1")
ENV.pop("PYTHONPATH", None)

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


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, env=ENV, **kwargs)


def _index_reachable() -> bool:
    try:
        urllib.request.urlopen("https://pypi.org/simple/numpy/", timeout=10).read(100)
        return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(
    not _index_reachable(), reason="the package index cannot be reached: no clean environments"
)


def _python(version: str) -> str | None:
    """An interpreter of ``version`` (``3.12``) on this machine, or None."""
    root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates = [
        shutil.which(f"python{version}"),
        *sorted(glob.glob(f"{root}/versions/{version}.*/bin/python")),
    ]
    for candidate in candidates:
        if candidate and _run([candidate, "-c", "import sys"]).returncode == 0:
            found = _run([candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
            if found.stdout.strip() == version:
                return candidate
    return None


def _lock_version(name: str) -> str:
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.lower().startswith(name.lower() + "=="):
            return line.split("==")[1]
    raise KeyError(name)


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    done = _run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    wheel = next(out.glob("cyclical_lr-*.whl"))
    sdist = next(out.glob("cyclical_lr-*.tar.gz"))
    return {"wheel": wheel, "sdist": sdist}


def _venv(path: Path, python: str = sys.executable) -> Path:
    base = _run([python, "-c", "import sys; print(sys.base_prefix)"]).stdout.strip()
    interpreter = Path(base) / "bin" / Path(python).name if "versions" not in python else python
    done = _run([str(interpreter), "-m", "venv", str(path)])
    assert done.returncode == 0, done.stderr
    return path / "bin" / "python"


def _packages(python: Path) -> dict[str, str]:
    listed = json.loads(_run([str(python), "-m", "pip", "list", "--format=json"]).stdout)
    return {p["name"].lower().replace("_", "-"): p["version"] for p in listed}


def test_the_wheel_and_sdist_hold_the_package_and_its_metadata(dist):
    with zipfile.ZipFile(dist["wheel"]) as z:
        names = set(z.namelist())
        metadata = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert {"clr/__init__.py", "clr/py.typed", "clr/keras.py", "clr/cifar10/runner.py"} <= names
    assert not any(n.startswith(("results/", "tests/", "notebooks/")) for n in names)
    assert f"Name: cyclical-lr\nVersion: {PROJECT['version']}" in metadata
    assert "Requires-Dist: numpy<3,>=1.26.4" in metadata
    assert 'Requires-Dist: keras<4,>=3.2.0; extra == "keras"' in metadata
    assert "Project-URL: Paper, https://arxiv.org/abs/1506.01186" in metadata
    with tarfile.open(dist["sdist"]) as tar:
        members = tar.getnames()
    assert any(m.endswith("clr/py.typed") for m in members)
    assert dist["sdist"].stat().st_size < 2_000_000  # the package, not the results or notebooks


@pytest.mark.parametrize("version", ["3.11", "3.12", "3.13"])
def test_the_wheel_alone_needs_numpy_only(dist, tmp_path, version):
    python = _python(version)
    if python is None:
        pytest.skip(f"no Python {version} on this machine")
    venv = _venv(tmp_path / "venv", python)
    before = _packages(venv)
    done = _run([str(venv), "-m", "pip", "install", "--quiet", "-c", str(ROOT / "constraints.txt"),
                 str(dist["wheel"])], timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    added = set(_packages(venv)) - set(before)
    assert added == {"cyclical-lr", "numpy"}, added
    check = _run([str(venv), "-c", CORE_CHECK, PROJECT["version"], "without-keras"], cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "core ok; clr.keras says:" in check.stdout


def test_the_oldest_versions_keep_theirs_and_pass_the_keras_tests(dist, tmp_path):
    venv = _venv(tmp_path / "oldest")
    tools = [f"{name}=={_lock_version(name)}" for name in ("pytest", "hypothesis", "pyyaml")]
    done = _run([str(venv), "-m", "pip", "install", "--quiet", "-r",
                 str(ROOT / "tests" / "oldest-versions.txt"), *tools], timeout=1200)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    theirs = _packages(venv)
    done = _run([str(venv), "-m", "pip", "install", "--quiet", f"{dist['wheel']}[keras]"],
                timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    after = _packages(venv)
    assert {k: v for k, v in after.items() if k != "cyclical-lr"} == theirs  # nothing changed
    assert (after["numpy"], after["keras"], after["tensorflow-cpu"]) == (
        "1.26.4",
        "3.2.0",
        "2.16.1",
    )
    tests = [str(ROOT / "tests" / name) for name in KERAS_TESTS]
    run = _run([str(venv), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
                "--rootdir", str(ROOT / "tests"), *tests], cwd=tmp_path, timeout=1800)  # fmt: skip
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr[-2000:]
    print(f"Keras tests on numpy 1.26.4, Keras 3.2.0, TensorFlow 2.16.1: {summary}")
    assert run.returncode == 0, run.stdout[-4000:]
    check = _run([str(venv), "-c", CORE_CHECK, PROJECT["version"], "with-keras"], cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    assert "clr.keras imports beside Keras 3.2.0" in check.stdout


def test_beside_the_lock_the_wheel_installs_nothing_else(dist, tmp_path):
    """This project's own set-up is the lock, the newest releases the ranges allow: the wheel
    with every extra would add no package and change none."""
    report = tmp_path / "report.json"
    done = _run([sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--report",
                 str(report), f"{dist['wheel']}[all]"], timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    would = [item["metadata"]["name"] for item in json.loads(report.read_text())["install"]]
    assert would == ["cyclical-lr"], would
