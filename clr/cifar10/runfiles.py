"""The files of one run, written so that no fault leaves a damaged one as the current one, and
read back only after checking that they agree with each other. numpy-free, Keras-free (the
checkpoint's model is loaded by the runner).

- Every file is replaced whole, through a temporary file, ``fsync`` and a rename: a kill, a
  full disk or a power cut leaves the old file or the new one, never a truncated one. A full
  disk is one line naming the path.
- The CSV is checked row by row on resume: its header, numbers, and the evaluated iterations
  ``0, eval_every, 2 * eval_every, ...`` with none missing, repeated or added.
- The provenance JSON is checked for the keys and types the runner reads.
- The checkpoint carries the run it belongs to (policy, optimizer, preset, seed, iteration)
  inside its ``.keras`` zip; on resume it must agree with the CSV and the provenance.
- One lock per run: a second runner on the same files refuses in one line; the lock dies with
  its process, so a crash never leaves it stuck.

:func:`decide` reads them all and says whether a run is new, resumes or is done.

Each problem is a :class:`RunError` whose message says which file, what is wrong and what to
do; the files are left as they are.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import json
import math
import os
import zipfile
from pathlib import Path
from typing import Any

__all__ = [
    "RunError",
    "COLUMNS",
    "CHECKPOINT_META",
    "write_atomic",
    "write_rows",
    "read_rows",
    "expected_iterations",
    "read_provenance",
    "checkpoint_meta",
    "add_checkpoint_meta",
    "RunLock",
    "decide",
    "io_error",
]

COLUMNS = ("iteration", "lr", "train_loss", "test_loss", "test_accuracy", "elapsed_s")
CHECKPOINT_META = "clr_run.json"  # the run a checkpoint belongs to, inside its .keras zip


class RunError(RuntimeError):
    """A run that must not start or go on (its files belong to another run, are damaged, or
    cannot be written); the message says what to do."""


def io_error(path: Path, err: OSError) -> RunError:
    """An OSError while writing ``path`` as one line: a full disk says so and how to go on."""
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return RunError(
            f"no space left on the device writing {path}: nothing was left half-written and the "
            "run resumes from its last checkpoint; free some space and run the same command."
        )
    return RunError(f"cannot write {path}: {err.strerror or err}")


def write_atomic(path: Path, data: str | bytes) -> None:
    """Replace ``path`` with ``data`` through a temporary file, fsync and a rename; on any
    failure the temporary file is removed and ``path`` is as it was."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with tmp.open("wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise io_error(path, err) from None
    except BaseException:  # an interrupt between write and rename: no stray temporary file
        tmp.unlink(missing_ok=True)
        raise


# -- the CSV -----------------------------------------------------------------------------------


def write_rows(csv_path: Path, rows: list[dict[str, Any]]) -> None:
    """The whole CSV, header and every row, replaced atomically."""
    text = io.StringIO()
    writer = csv.DictWriter(text, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_atomic(csv_path, text.getvalue())


def expected_iterations(total: int, eval_every: int) -> list[int]:
    """The iterations a run of ``total`` iterations evaluates at: 0, every ``eval_every``, and
    the last one."""
    points = list(range(0, total + 1, eval_every))
    return points if points[-1] == total else [*points, total]


def parse_rows(csv_path: Path) -> list[tuple[int, str, dict[str, float]]]:
    """``(line number, line, row)`` for each row of a results CSV, checked for the exact
    header, a complete last line and a number in every cell; anything else is a RunError
    naming the file (and the line)."""
    try:
        text = Path(csv_path).read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise RunError(f"{csv_path} cannot be read ({err}); it is left as it is.") from None
    lines = text.splitlines()
    if not lines or lines[0].split(",") != list(COLUMNS):
        raise RunError(
            f"{csv_path} does not start with the header {','.join(COLUMNS)}; it is left as it "
            "is: move it away to start over."
        )
    if not text.endswith("\n"):
        raise RunError(
            f"{csv_path} ends in the middle of a line (a truncated write); it is left as it is: "
            "move it away, or delete its last line, to resume."
        )
    parsed = []
    for number, line in enumerate(lines[1:], start=2):
        cells = line.split(",")
        try:
            values = [float(c) for c in cells]
        except ValueError:
            values = []
        if len(values) != len(COLUMNS) or len(cells) != len(COLUMNS):
            raise RunError(
                f"{csv_path}, line {number}: {line[:60]!r} is not a row of {len(COLUMNS)} "
                "numbers; the file is left as it is."
            )
        parsed.append((number, line, dict(zip(COLUMNS, values))))
    return parsed


def check_values(where: str, line: str, row: dict[str, float]) -> None:
    """RunError when a row holds what no run can produce."""
    bad = [c for c in ("lr", "test_loss", "elapsed_s") if not math.isfinite(row[c])]
    if bad or not 0.0 <= row["test_accuracy"] <= 1.0 or row["elapsed_s"] < 0:
        raise RunError(f"{where}: impossible values ({line[:80]}); the file is left as it is.")


def read_rows(csv_path: Path, total: int, eval_every: int) -> list[dict[str, float]]:
    """The rows of a run's CSV, checked: the exact header, numbers in every cell, and the
    evaluated iterations in order with none missing, repeated or added (a prefix of
    :func:`expected_iterations`). Anything else is a RunError naming the file and the line."""
    want = expected_iterations(total, eval_every)
    rows = []
    for number, line, row in parse_rows(csv_path):
        where = f"{csv_path}, line {number}"
        k = len(rows)
        expected = want[k] if k < len(want) else None
        if row["iteration"] != expected:
            what = (
                "a row past the end of the run"
                if expected is None
                else f"iteration {expected:,} is missing or out of order"
            )
            raise RunError(
                f"{where}: iteration {row['iteration']:,.0f} where {what}; the evaluations "
                f"must be {want[0]}, {want[1] if len(want) > 1 else ''}, ... every "
                f"{eval_every:,} iterations, each once. The file is left as it is."
            )
        check_values(where, line, row)
        row["iteration"] = int(row["iteration"])
        rows.append(row)
    return rows


# -- the provenance ----------------------------------------------------------------------------

# The keys the runner reads back, and their types.
_PROVENANCE_KEYS: dict[str, type | tuple[type, ...]] = {
    "policy_name": str,
    "preset": dict,
    "settings": dict,
    "seed": int,
    "data": dict,
    "iteration": int,
    "started": str,
    "sessions": list,
    "elapsed_s": (int, float),
}


def read_provenance(path: Path) -> dict[str, Any] | None:
    """A run's provenance JSON, checked for the keys and types the runner reads back (None
    when there is none yet)."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RunError(
            f"{path} is not readable JSON ({err}); it is left as it is: move it away to start over."
        ) from None
    if not isinstance(data, dict):
        raise RunError(
            f"{path} must hold a JSON object (a run's provenance); it holds a "
            f"{type(data).__name__}. It is left as it is."
        )
    for key, kind in _PROVENANCE_KEYS.items():
        value = data.get(key)
        if key not in data or isinstance(value, bool) or not isinstance(value, kind):
            names = (
                kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            )
            raise RunError(
                f"{path}: key {key!r} must be {names}; it is "
                f"{'missing' if key not in data else repr(value)[:60]}. It is left as it is."
            )
    if data["seed"] < 0 or data["iteration"] < 0 or not math.isfinite(data["elapsed_s"]):
        raise RunError(f"{path}: a negative seed or iteration, or a non-finite elapsed_s.")
    if not isinstance(data["data"].get("sha256"), (str, type(None))):
        raise RunError(f"{path}: key 'data.sha256' must be a string or null.")
    return data


# -- the checkpoint ----------------------------------------------------------------------------


def add_checkpoint_meta(path: Path, meta: dict[str, Any]) -> None:
    """Write the run's identity into a saved ``.keras`` file (Keras ignores the extra member)."""
    with zipfile.ZipFile(path, "a") as z:
        z.writestr(CHECKPOINT_META, json.dumps(meta))


def checkpoint_meta(path: Path) -> dict[str, Any] | None:
    """The run a checkpoint belongs to, or None for a checkpoint from before they said so; a
    truncated or damaged file is a RunError."""
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            if "model.weights.h5" not in names or "config.json" not in names:
                raise RunError(
                    f"{path} is not a complete Keras checkpoint (it lacks "
                    f"{'model.weights.h5' if 'config.json' in names else 'config.json'}); it "
                    "is left as it is: move it away, or restore it, to resume."
                )
            bad = z.testzip()
            if bad is not None:
                raise RunError(f"{path} is damaged ({bad} fails its CRC); it is left as it is.")
            if CHECKPOINT_META not in names:
                return None
            meta = json.loads(z.read(CHECKPOINT_META))
    except (zipfile.BadZipFile, OSError, EOFError, json.JSONDecodeError) as err:
        raise RunError(
            f"{path} cannot be read as a checkpoint (truncated or damaged: {err}); it is left "
            "as it is: move it away, or restore it, to resume."
        ) from None
    if not isinstance(meta, dict):
        raise RunError(f"{path}: its {CHECKPOINT_META} is not a JSON object.")
    return meta


# -- one runner per run ------------------------------------------------------------------------


def decide(
    paths: dict[str, Path], provenance: dict[str, Any], total: int, eval_every: int
) -> tuple[str, list[dict[str, float]]]:
    """``("new" | "resume" | "done", rows)`` for the files at ``paths`` (the CSV's checked rows),
    or RunError when they belong to a run this command must not continue or replace, or are
    damaged, or disagree with each other. Nothing is written here."""
    csv_path, ckpt, meta = paths["csv"], paths["checkpoint"], paths["provenance"]
    folder = csv_path.parent
    before = read_provenance(meta)
    if before is None:
        if csv_path.exists() or ckpt.exists():
            what = csv_path if csv_path.exists() else ckpt
            raise RunError(
                f"{what} exists without its provenance {meta.name}: it is not this run's, so it "
                f"is left as it is. Use another --out, or move {folder} away to start over."
            )
        return "new", []
    before = {"optimizer_name": "sgd", **before}  # runs from before Table 3's optimizers were SGD
    for key in ("policy_name", "optimizer_name", "preset", "settings", "seed"):
        if before.get(key) != json.loads(json.dumps(provenance[key])):
            raise RunError(
                f"{folder} holds a {before.get('policy_name')} run with other `{key}` "
                f"({before.get(key)!r}) in {meta.name}; "
                "it is left as it is. Use another --out."
            )
    old, new = before["data"], provenance["data"]
    if (old.get("sha256"), old.get("n_train"), old.get("n_test")) != (
        new["sha256"],
        new["n_train"],
        new["n_test"],
    ):
        raise RunError(
            f"{folder} holds a run on other data (sha256 {old.get('sha256')}, "
            f"{old.get('description')}); "
            "it is left as it is. Use another --out."
        )
    rows = read_rows(csv_path, total, eval_every) if csv_path.exists() else []
    last = rows[-1]["iteration"] if rows else None
    if last == total and before["iteration"] == total:
        return "done", rows
    if not ckpt.exists():
        if last in (None, 0):
            # Killed before its first evaluation after iteration 0: nothing to lose.
            return "new", []
        raise RunError(
            f"{csv_path} holds {len(rows)} evaluations up to iteration {last:,} "
            f"of {total:,} but its checkpoint {ckpt.name} is missing, so it cannot be continued; "
            "it is left as it is. Use another --out, or restore the checkpoint."
        )
    saved = checkpoint_meta(ckpt)
    if saved is not None:
        for key in ("policy_name", "optimizer_name", "seed"):
            if saved.get(key) != provenance[key]:
                raise RunError(
                    f"{ckpt} belongs to another run ({key} {saved.get(key)!r}, this run's "
                    f"{provenance[key]!r}); it is left as it is. Use another --out, or restore "
                    "this run's checkpoint."
                )
        if saved.get("preset") != provenance["preset"]["name"]:
            raise RunError(
                f"{ckpt} belongs to a run of preset {saved.get('preset')!r}, not "
                f"{provenance['preset']['name']!r}; it is left as it is."
            )
        done = [r["iteration"] for r in rows]
        if saved.get("iteration") not in done:
            raise RunError(
                f"{ckpt} was saved at iteration {saved.get('iteration')!r}, which {csv_path.name} "
                f"does not hold (its evaluations reach {last if last is not None else 'none'}); "
                "the files disagree and are left as they are."
            )
    return "resume", rows


class RunLock:
    """An exclusive lock on a run's files (``POLICY.lock`` beside them), held while it runs.

    ``fcntl.flock`` dies with its process, so a killed or crashed run never leaves it stuck;
    a second runner on the same files refuses in one line. A run that ends (finished,
    stopped or failed) removes the file; only a killed one leaves it, for the next to take.
    Where ``fcntl`` is missing (Windows), it does nothing.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: Any = None

    def __enter__(self) -> RunLock:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not on POSIX
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            file = self.path.open("a+")
            try:
                fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                file.seek(0)
                holder = file.read().strip() or "another process"
                file.close()
                raise RunError(
                    f"another runner ({holder}) is running this run now ({self.path} is "
                    "locked); this one does nothing. Wait for it, or stop it first."
                ) from None
            # The holder before us may have removed the file between our open and our lock:
            # then we hold a lock on a file nobody else will open; take the one now there.
            try:
                same = os.stat(self.path).st_ino == os.fstat(file.fileno()).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            file.close()
        self._file = file
        file.seek(0)
        file.truncate()
        file.write(f"pid {os.getpid()}")
        file.flush()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()  # while still holding it, so no one takes a removed file
            self._file.close()  # releases the lock
            self._file = None
