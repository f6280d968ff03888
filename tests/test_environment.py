"""environment.yml (conda, Binder) and pyproject.toml (make) must name the same pinned packages."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _split(requirement: str) -> tuple[str, str]:
    name, _, version = re.split(r"(==|=)", requirement.strip(), maxsplit=1)
    return re.sub(r"[-_.]+", "-", name.strip().lower()), version.strip()


def pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        reqs += [r for r in extra if not r.startswith("clr[")]
    return dict(_split(r) for r in reqs)


def environment_pins() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pins = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pins.update(_split(r) for r in dep["pip"])
        else:
            name, version = _split(dep) if "=" in dep else (dep, "")
            if name not in ("python", "pip"):
                pins[name] = version
    return pins


def test_environment_yml_and_pyproject_pin_the_same_packages():
    assert environment_pins() == pyproject_pins()


def test_every_dependency_is_pinned():
    assert all(pyproject_pins().values())


def test_environment_is_python_311_on_conda_forge():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["name"] == "clr" and env["channels"] == ["conda-forge"]
    assert "python=3.11" in env["dependencies"]
