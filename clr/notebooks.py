"""``python -m clr.notebooks DIR``: the notebooks, and the committed results they read, for a pip
user (numpy only; nothing here imports Keras or Jupyter).

The files come from the installed wheel (``clr/_bundle/``, made by setup.py), or from the
repository in a source checkout. ``DIR/.clr-notebooks.json`` records what was written, so a
second run updates the files nobody changed and refuses, in one line, to overwrite any that
were edited (``--force`` overwrites them). What lives elsewhere: which files go in the bundle
(setup.py's ``BUNDLE``), and where the notebooks look for the results
(``clr.cifar10.results.results_dir``, which finds ``DIR/results`` through the record).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

__all__ = [
    "BUNDLE",
    "MANIFEST",
    "MissingDependency",
    "bundle_files",
    "copy_notebooks",
    "main",
    "require",
    "source_root",
]

MANIFEST = ".clr-notebooks.json"


def source_root() -> Path:
    """Where the bundle's files are: ``clr/_bundle`` in an installed wheel, else the repository
    (a source checkout or an editable install)."""
    package = Path(__file__).resolve().parent
    bundle = package / "_bundle"
    if (bundle / "notebooks").is_dir():
        return bundle
    repository = package.parent
    if (repository / "notebooks").is_dir():
        return repository
    raise FileNotFoundError(
        f"Neither {bundle} nor {repository / 'notebooks'} exists: this installation of clr has "
        "no notebooks. Reinstall it from the package index: pip install cyclical-lr"
    )


# The bundle: every notebook, and the results' tables, provenance and READMEs (never the
# checkpoints, 32 MB that no notebook reads). setup.py puts these into the wheel.
BUNDLE = (
    ("notebooks", ("*.ipynb", "solutions/*.ipynb")),
    ("results", ("**/*.csv", "**/*.json", "**/README.md")),
)


def bundle_files(root: Path) -> list[str]:
    """The bundle's files under ``root`` (the repository or ``clr/_bundle``), as sorted paths
    relative to it."""
    found = set()
    for folder, patterns in BUNDLE:
        for pattern in patterns:
            found.update(p.relative_to(root).as_posix() for p in (root / folder).glob(pattern))
    return sorted(found)


def _files(root: Path) -> dict[str, Path]:
    """Name in the user's folder -> source file: the notebooks at its top (solutions/ below
    them), the results under results/."""
    return {name.removeprefix("notebooks/"): root / name for name in bundle_files(root)}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def copy_notebooks(folder: str | Path, *, force: bool = False) -> dict[str, list[str]]:
    """Copy the notebooks and results into ``folder``; what was ``written``, ``unchanged`` and
    (with ``force``) ``overwritten``.

    A file already there is replaced only when it is what an earlier copy wrote (the record's
    sha256 matches) or with ``force``; otherwise nothing at all is written and ``FileExistsError``
    names the edited files.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"{folder} is a file; give a folder for the notebooks.")
    record_path = folder / MANIFEST
    try:
        record = json.loads(record_path.read_text()).get("files", {})
    except FileNotFoundError:
        record = {}
    except (OSError, ValueError, AttributeError) as err:
        raise ValueError(f"{record_path} is damaged ({err}); delete it or use --force.") from None
    report: dict[str, list[str]] = {"written": [], "unchanged": [], "overwritten": []}
    plan, edited = [], []
    for name, source in _files(source_root()).items():
        target = folder / name
        new = _digest(source)
        if not target.exists():
            plan.append((name, source, new, "written"))
            continue
        old = _digest(target)
        if old == new:
            report["unchanged"].append(name)
        elif record.get(name) == old:  # ours, as we left it: update it
            plan.append((name, source, new, "written"))
        else:
            edited.append(name)
            plan.append((name, source, new, "overwritten"))
    if edited and not force:
        shown = ", ".join(edited[:3]) + (f" and {len(edited) - 3} more" if len(edited) > 3 else "")
        raise FileExistsError(
            f"{shown} in {folder} changed since clr.notebooks wrote it (or was not written by "
            "it); nothing was written. Copy into another folder, or overwrite with --force."
        )
    for name, source, _, kind in plan:
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
        report[kind].append(name)
    digests = {**record, **{name: _digest(folder / name) for name in _files(source_root())}}
    record_path.write_text(json.dumps({"files": digests}, indent=1, sort_keys=True) + "\n")
    return report


class MissingDependency(ImportError):
    """A package a notebook needs is not installed. In a notebook it shows as its one line,
    not a traceback (IPython renders ``_render_traceback_``)."""

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[31m{self}\x1b[0m"]


def require(*modules: str, extra: str = "keras") -> None:
    """Stop a notebook in one line when one of ``modules`` cannot be imported, saying what to
    install (``pip install "cyclical-lr[EXTRA]"``)."""
    import importlib.util

    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise MissingDependency(
            f"This notebook needs {' and '.join(missing)}, which is not installed here: "
            f'pip install "cyclical-lr[{extra}]", then restart the kernel.'
        )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m clr.notebooks",
        description="Copy clr's notebooks, and the committed results they read, into a folder.",
    )
    parser.add_argument("folder", metavar="DIR", help="where to put them (created if missing)")
    parser.add_argument(
        "--force", action="store_true", help="overwrite notebooks you have edited there"
    )
    args = parser.parse_args(argv)
    try:
        report = copy_notebooks(args.folder, force=args.force)
    except (OSError, ValueError) as err:
        print(f"clr.notebooks: {err}", file=sys.stderr)
        return 2
    written, edited = len(report["written"]), len(report["overwritten"])
    parts = [_count(written + edited, "file") + " written"]
    if edited:
        parts.append(f"{_count(edited, 'edited file')} overwritten")
    if report["unchanged"]:
        parts.append(f"{_count(len(report['unchanged']), 'file')} already up to date")
    print(f"clr.notebooks: {', '.join(parts)} in {args.folder}.")
    print(f"Open them with: jupyter lab {args.folder}")
    print('  (JupyterLab comes with: pip install "cyclical-lr[workshop]")')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
