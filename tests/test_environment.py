"""Ranges in the package, pins in one lock: pyproject.toml's ranges, the lock (constraints.txt)
that `make lab`/`make test`/.ci/run and environment.yml install from, and the oldest set the
package tests prove must agree with each other."""

import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.lower())


def pins(path: Path) -> dict[str, Version]:
    """``name==version`` lines of a requirements/constraints file."""
    out = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            out[_name(name)] = Version(version)
    return out


def requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        reqs += [r for r in extra if not r.startswith(project["name"])]
    return [Requirement(r) for r in reqs]


def test_every_range_is_bounded_and_the_lock_sits_inside_it():
    lock = pins(ROOT / "constraints.txt")
    for req in requirements():
        name = _name(req.name)
        assert name in lock, f"{req} is not in the lock"
        assert lock[name] in req.specifier, f"the lock's {name}=={lock[name]} is outside {req}"
        ops = {spec.operator for spec in req.specifier}
        assert ">=" in ops and ("<" in ops or "==" in ops), f"{req}: give a lower and upper bound"


def test_the_oldest_set_is_the_ranges_lower_bounds():
    oldest = pins(ROOT / "tests" / "oldest-versions.txt")
    lower = {}
    for req in requirements():
        for spec in req.specifier:
            if spec.operator == ">=":
                lower[_name(req.name)] = Version(spec.version)
    assert oldest == {name: lower[name] for name in oldest}
    assert {"numpy", "keras"} <= set(oldest)


def test_the_lock_pins_exact_versions_once():
    names = [
        line.split("==")[0]
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert len(names) == len({_name(n) for n in names})
    assert "cyclical-lr" not in {_name(n) for n in names}  # the project itself is not locked
    assert {"numpy", "keras", "tensorflow-cpu", "jax", "torch"} <= {_name(n) for n in names}


def test_every_set_up_installs_from_the_lock():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["name"] == "clr" and env["channels"] == ["conda-forge"]
    assert "python=3.11" in env["dependencies"]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip == ["-c constraints.txt", "-e .[all]"]
    makefile = (ROOT / "Makefile").read_text()
    assert "$(STAMP): pyproject.toml $(LOCK)" in makefile
    assert "pip install --progress-bar on -c $(LOCK) -e '.[all]'" in makefile
    assert "pip install --progress-bar on -c $(LOCK) -e '.[workshop]'" in makefile
    assert "-c constraints.txt torch" in (ROOT / ".ci" / "run").read_text()
