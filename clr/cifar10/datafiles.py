"""Reading CIFAR-10 files that may be damaged or hostile, without trusting what they declare.

- **Sized before read.** Every tar member and ``.npz`` array is sized from its header first and
  refused beyond CIFAR-10's own sizes (50,000 training and 10,000 test images of 32x32x3, a
  python batch of about 31 MB), so the memory used while loading stays within twice the real
  data set whatever a file declares.
- **No code from pickles.** The official ``cifar-10-python.tar.gz`` holds pickled batches. They
  are read with a restricted unpickler that admits only what those batches contain (numpy's
  array reconstruction of a plain dtype, lists, bytes, numbers); anything else, such as a
  crafted pickle that would call ``os.system``, is refused before it runs.
- **Nothing extracted.** Tar members are read in memory; members whose names climb out of the
  archive (``..``, absolute paths), links and devices are refused, as is a tarball with two
  members that could be the same batch.
- **No object arrays.** ``.npz`` arrays load with ``allow_pickle=False`` after their header says
  they hold plain numbers.

Every refusal is a ``DataError`` (defined here, re-exported by :mod:`clr.cifar10.data`) naming
the file and the member.
numpy only.
"""

from __future__ import annotations

import io
import pickle
import posixpath
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "DataError",
    "HOW_TO",
    "read_tarball",
    "read_folder",
    "read_npz",
    "LIMITS",
    "BATCH_MAX_BYTES",
]

IMAGE = 32 * 32 * 3
# The most each array may hold (elements): CIFAR-10's own sizes.
LIMITS = {
    "x_train": 50_000 * IMAGE,
    "y_train": 50_000,
    "x_test": 10_000 * IMAGE,
    "y_test": 10_000,
}
# The whole data set as uint8 images and labels: what a file may declare in all.
DATASET_BYTES = sum(LIMITS.values())
# One python batch: 10,000 images (30,720,000 bytes), labels and file names, pickled (31.0 MB).
BATCH_MAX_BYTES = 32 * 1024 * 1024
BATCHES = (*(f"data_batch_{i}" for i in range(1, 6)), "test_batch")


HOW_TO = (
    "Give CIFAR-10 one of these ways: let Keras download it (needs the internet once); or name a "
    "local copy with --data (the command line), `source=` (Python) or the environment variable "
    "CLR_CIFAR10: a .npz with x_train, y_train, x_test, y_test, the official "
    "cifar-10-python.tar.gz, or its extracted cifar-10-batches-py folder."
)


class DataError(ValueError):
    """CIFAR-10 that cannot be used as it is; the message names the file and the problem."""


def _error(message: str) -> Exception:
    return DataError(message)


def _how_to() -> str:
    return HOW_TO


# -- pickled batches ---------------------------------------------------------------------------


class _BatchUnpickler(pickle.Unpickler):
    """Admits only what CIFAR-10's python batches hold: numpy arrays (rebuilt by numpy's
    ``_reconstruct`` from an ``ndarray`` and a ``dtype``, or by ``_frombuffer`` in newer
    pickles), and bytes encoded by ``_codecs`` in pickles written by Python 3. Every other
    global (``os.system``, ``builtins.eval``, ``subprocess.Popen``, ...) is refused by name
    before anything is called."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.numeric", "_frombuffer"),  # arrays pickled with protocol 5
        ("numpy._core.numeric", "_frombuffer"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
    }

    def __init__(self, data: bytes, where: str) -> None:
        super().__init__(io.BytesIO(data), encoding="bytes")
        self.where = where

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise _error(
                f"{self.where} asks to load {module}.{name}, which a CIFAR-10 batch never holds: "
                "refused (a pickle can run code; this one is not a CIFAR-10 batch)."
            )
        return super().find_class(module, name)


def _batch(data: bytes, where: str) -> tuple[np.ndarray, np.ndarray]:
    """One python batch as images (N, 32, 32, 3) uint8 and labels, checked."""
    try:
        d = _BatchUnpickler(data, where).load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
            IndexError, KeyError, MemoryError) as err:  # fmt: skip
        if isinstance(err, DataError):
            raise
        raise _error(
            f"{where} is not a readable CIFAR-10 batch ({type(err).__name__}: {err})."
        ) from None
    if not isinstance(d, dict) or b"data" not in d or b"labels" not in d:
        raise _error(f"{where} must hold a dict with b'data' and b'labels' (a CIFAR-10 batch).")
    x, labels = d[b"data"], d[b"labels"]
    if not isinstance(x, np.ndarray) or x.dtype != np.uint8 or x.ndim != 2 or x.shape[1] != IMAGE:
        raise _error(
            f"{where}: b'data' must be a uint8 array of shape (N, {IMAGE}); it is "
            f"{type(x).__name__} {getattr(x, 'dtype', '')} {getattr(x, 'shape', '')}."
        )
    if not isinstance(labels, list) or not all(type(v) is int for v in labels):
        raise _error(f"{where}: b'labels' must be a list of integers.")
    if len(labels) != len(x):
        raise _error(f"{where}: {len(x)} images but {len(labels)} labels.")
    return x.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), np.asarray(labels, dtype=np.int64)


def _assemble(read: Callable[[str], bytes], where: str) -> tuple[np.ndarray, ...]:
    """The five training batches and the test batch through ``read(name) -> bytes``, copied
    into one preallocated array per split as each batch is read (one batch in memory at a
    time, beside the result)."""
    parts = [_batch(read(name), f"{where}: {name}") for name in BATCHES[:5]]
    n = sum(len(x) for x, _ in parts)
    if n > 50_000:
        raise _error(
            f"{where}: the training batches hold {n:,} images, more than CIFAR-10's 50,000."
        )
    x_train = np.empty((n, 32, 32, 3), np.uint8)
    y_train = np.empty(n, np.int64)
    start = 0
    while parts:
        x, y = parts.pop(0)
        x_train[start : start + len(x)], y_train[start : start + len(x)] = x, y
        start += len(x)
        del x, y
    x_test, y_test = _batch(read(BATCHES[5]), f"{where}: {BATCHES[5]}")
    return x_train, y_train, np.ascontiguousarray(x_test), y_test


def read_folder(folder: Path) -> tuple[np.ndarray, ...]:
    """An extracted ``cifar-10-batches-py`` folder: each batch file sized before it is read."""

    def read(name: str) -> bytes:
        path = folder / name
        if path.is_symlink() or not path.is_file():
            raise _error(f"{path} must be a regular file (not a link, folder or device).")
        size = path.stat().st_size
        if size > BATCH_MAX_BYTES:
            raise _error(
                f"{path} is {size:,} bytes; a CIFAR-10 batch is about 31 MB: refused unread."
            )
        return path.read_bytes()

    return _assemble(read, str(folder))


def read_tarball(path: Path) -> tuple[np.ndarray, ...]:
    """The official ``cifar-10-python.tar.gz``, read in memory, nothing extracted."""
    with tarfile.open(path, "r:*") as tar:
        found: dict[str, tarfile.TarInfo] = {}
        for member in tar.getmembers():
            name = member.name
            parts = posixpath.normpath(name).split("/")
            if name.startswith(("/", "\\")) or ".." in parts:
                raise _error(
                    f"{path}: member {name!r} points outside the archive; refused (nothing was "
                    "extracted)."
                )
            base = posixpath.basename(name)
            if base not in BATCHES:
                continue
            if not member.isfile():
                kind = "link" if member.issym() or member.islnk() else "special file"
                raise _error(f"{path}: member {name!r} is a {kind}, not a batch file; refused.")
            if base in found:
                raise _error(
                    f"{path}: members {found[base].name!r} and {name!r} could both be {base}; "
                    "refused rather than guess."
                )
            if member.size > BATCH_MAX_BYTES:
                raise _error(
                    f"{path}: member {name!r} declares {member.size:,} bytes; a CIFAR-10 batch "
                    "is about 31 MB: refused unread."
                )
            found[base] = member
        missing = [b for b in BATCHES if b not in found]
        if missing:
            raise _error(f"{path} lacks the batches {missing}.")

        def read(name: str) -> bytes:
            f = tar.extractfile(found[name])
            data = f.read(BATCH_MAX_BYTES + 1) if f is not None else b""
            if len(data) != found[name].size:
                raise _error(f"{path}: member {found[name].name!r} is truncated.")
            return data

        return _assemble(read, str(path))


# -- .npz --------------------------------------------------------------------------------------


def read_npz(path: Path, keys: tuple[str, ...]) -> tuple[np.ndarray, ...]:
    """The arrays ``keys`` of an ``.npz``, each sized from its ``.npy`` header first: plain
    numbers only (no object arrays), at most CIFAR-10's own sizes, and, in all, no more bytes
    than CIFAR-10 as uint8, so loading holds at most twice the real data set."""
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise _error(f"{path} cannot be read as CIFAR-10 ({err}); is it complete?") from None
    with z:
        members = {n[: -len(".npy")]: n for n in z.namelist() if n.endswith(".npy")}
        missing = sorted(k for k in keys if k not in members)
        if missing:
            raise _error(f"{path} lacks the arrays {missing}. " + _how_to())
        declared = {}
        for key in keys:
            info = z.getinfo(members[key])
            try:
                with z.open(info) as f:
                    version = np.lib.format.read_magic(f)
                    header = {(1, 0): np.lib.format.read_array_header_1_0,
                              (2, 0): np.lib.format.read_array_header_2_0}.get(version)  # fmt: skip
                    if header is None:
                        raise ValueError(f"unsupported .npy version {version}")
                    shape, _, dtype = header(f)
            except (ValueError, OSError, EOFError, zipfile.BadZipFile, SyntaxError) as err:
                raise _error(
                    f"{path}: array {key!r} has no readable .npy header ({err})."
                ) from None
            if dtype.hasobject or dtype.kind not in "biuf":
                raise _error(
                    f"{path}: array {key!r} holds {dtype} values; CIFAR-10 is numbers "
                    "(object arrays can run code when loaded): refused."
                )
            count = int(np.prod(shape, dtype=np.int64)) if shape else 1
            if count > LIMITS[key]:
                raise _error(
                    f"{path}: array {key!r} declares shape {shape} ({count:,} values), more than "
                    f"CIFAR-10's {LIMITS[key]:,}: refused unread."
                )
            declared[key] = count * dtype.itemsize
            if sum(declared.values()) > DATASET_BYTES:
                raise _error(
                    f"{path} declares {sum(declared.values()):,} bytes of arrays by {key!r}, more "
                    f"than CIFAR-10 as uint8 ({DATASET_BYTES:,}): store the images as uint8."
                )
            if info.file_size < declared[key]:
                raise _error(f"{path}: array {key!r} is shorter than its header says (truncated).")
    with np.load(path, allow_pickle=False) as data:
        return tuple(data[k] for k in keys)
