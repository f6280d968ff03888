"""A run's provenance: the command, the library versions and machine, which code ran each
session (its git revision and a fingerprint of the files that decide what a run computes), and
what identifies its data. The runner writes it beside every run; nothing here trains.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import platform
import shlex
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from .data import Cifar10

__all__ = [
    "PROTOCOL_FILES",
    "code_revision",
    "command",
    "data_identity",
    "machine",
    "now",
    "protocol_changes",
    "protocol_fingerprint",
    "versions",
]


def now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def versions() -> dict[str, str]:
    import keras

    versions = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "keras": keras.__version__,
        "clr": __version__,
    }
    try:
        import tensorflow as tf

        versions["tensorflow"] = tf.__version__
    except ImportError:
        pass
    versions["backend"] = keras.backend.backend()
    return versions


def machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
    }


# The files whose content decides what a run computes: the schedules, the optimizers, the
# network, the data's preprocessing, the batch order and the training loop. A run resumed
# under other contents of these says so (one line) and records it.
PROTOCOL_FILES = (
    "_batches.py",
    "_one_cycle.py",
    "_policies.py",
    "_scales.py",
    "_schedules.py",
    "keras/__init__.py",
    "keras/_shared.py",
    "keras/optimizers.py",
    "keras/schedules.py",
    "cifar10/data.py",
    "cifar10/models.py",
    "cifar10/protocol.py",
    "cifar10/runner.py",
)


def protocol_fingerprint() -> dict[str, str]:
    """sha256 (first 16 hex digits) of each of ``PROTOCOL_FILES`` as this process runs them:
    works in a git checkout, an installed wheel or a dirty tree alike."""
    package = Path(__file__).resolve().parents[1]
    return {
        name: hashlib.sha256((package / name).read_bytes()).hexdigest()[:16]
        for name in PROTOCOL_FILES
    }


def code_revision() -> dict[str, Any]:
    """Which code produced a result: the git commit of this checkout (``+dirty`` with
    uncommitted changes to ``clr/``, and then the sha256 of that diff, untracked files
    included), or None outside a git checkout."""
    package = Path(__file__).resolve().parents[1]

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=package, capture_output=True, text=True, timeout=10, check=True
        )
        return done.stdout

    try:
        revision = git("rev-parse", "--short=12", "HEAD").strip()
        status = git("status", "--porcelain", "--untracked-files=all", "--", ".")
    except (OSError, subprocess.SubprocessError):
        return {"code": None}
    if not status.strip():
        return {"code": revision}
    digest = hashlib.sha256(git("diff", "HEAD", "--", ".").encode())
    for line in sorted(status.splitlines()):
        if line.startswith("??"):  # untracked: its name and content
            path = package.parents[0] / line[3:].strip()
            digest.update(line.encode())
            if path.is_file():
                digest.update(path.read_bytes())
    return {"code": revision + "+dirty", "diff_sha256": digest.hexdigest()}


def protocol_changes(sessions: list[dict[str, Any]], now: dict[str, str]) -> list[str]:
    """The protocol files whose content differs from the last session that recorded them."""
    before = next((s["protocol"] for s in reversed(sessions) if "protocol" in s), None)
    if before is None:
        return []
    return sorted(name for name in set(before) | set(now) if before.get(name) != now.get(name))


def data_identity(data: Cifar10) -> dict[str, Any]:
    """What identifies the data: its content (sha256 of the file, or the generator's call for
    synthetic data), not the path it was read from."""
    return {
        "sha256": data.sha256,
        "synthetic": data.synthetic,
        "n_train": len(data.x_train),
        "n_test": len(data.x_test),
    }


def command(*args: str, source: str | None) -> str:
    return "python -m clr.experiments " + shlex.join(
        [*args] + (["--data", str(source)] if source else [])
    )
