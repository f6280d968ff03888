"""Building the package and installing it into clean virtual environments, for the tests of what
a user installs (test_package.py, test_wheel.py): one copy of the helpers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PIP_DISABLE_PIP_VERSION_CHECK="1")
ENV.pop("PYTHONPATH", None)


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, env=ENV, **kwargs)


def index_reachable() -> bool:
    try:
        urllib.request.urlopen("https://pypi.org/simple/numpy/", timeout=10).read(100)
        return True
    except OSError:
        return False


def build(out: Path) -> dict[str, Path]:
    """The wheel and sdist, as `python -m build` makes them (the wheel from the sdist)."""
    done = run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return {
        "wheel": next(out.glob("cyclical_lr-*.whl")),
        "sdist": next(out.glob("cyclical_lr-*.tar.gz")),
    }


def venv(path: Path, python: str = sys.executable) -> Path:
    """A clean virtual environment (no system site-packages); its interpreter."""
    base = run([python, "-c", "import sys; print(sys.base_prefix)"]).stdout.strip()
    interpreter = Path(base) / "bin" / Path(python).name if "versions" not in python else python
    done = run([str(interpreter), "-m", "venv", str(path)])
    assert done.returncode == 0, done.stderr
    return path / "bin" / "python"


def packages(python: Path) -> dict[str, str]:
    listed = json.loads(run([str(python), "-m", "pip", "list", "--format=json"]).stdout)
    return {p["name"].lower().replace("_", "-"): p["version"] for p in listed}


def lock_version(name: str) -> str:
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.lower().startswith(name.lower() + "=="):
            return line.split("==")[1]
    raise KeyError(name)


def size_mb(folder: Path) -> float:
    """Bytes on disk under ``folder``, in MB (10**6), links not followed."""
    total = 0
    for dirpath, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                total += os.lstat(path).st_blocks * 512
    return total / 1e6
