"""Peak memory while loading CIFAR-10, divided by the data's decompressed size.

Builds the official ``cifar-10-python.tar.gz`` layout (five pickled training batches and the
test batch, pixels as raw bytes as in the original) from this team's copy (``$CLR_CIFAR10`` or
../shared/data/cifar10.npz; without it, a full-size synthetic stand-in), then loads it, its
extracted folder and the .npz with ``clr.cifar10.data.load_cifar10``, each in a fresh
process, and prints the peak resident memory added by the load (``ru_maxrss`` minus the
resident size just before) over the decompressed size of the data. Target: at most 2.

Usage: python bench/bench_loader_memory.py
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MEASURE = """
import resource, sys
from clr.cifar10.data import load_cifar10
def rss_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
before = rss_kb()
data = load_cifar10(sys.argv[1])
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(before, peak, len(data.x_train), len(data.x_test))
"""


def source_arrays() -> tuple[np.ndarray, ...]:
    path = Path(os.environ.get("CLR_CIFAR10", ROOT.parent / "shared" / "data" / "cifar10.npz"))
    if path.suffix == ".npz" and path.exists():
        with np.load(path) as z:
            return z["x_train"], z["y_train"], z["x_test"], z["y_test"], str(path)
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 256, (50_000, 32, 32, 3), dtype=np.uint8)
    x_test = rng.integers(0, 256, (10_000, 32, 32, 3), dtype=np.uint8)
    y_train, y_test = rng.integers(0, 10, 50_000), rng.integers(0, 10, 10_000)
    return x_train, y_train, x_test, y_test, "a full-size synthetic stand-in"


def write_official(folder: Path, arrays: tuple[np.ndarray, ...]) -> int:
    """The official batches (protocol 3 stores the pixels as raw bytes, as the original
    Python 2 pickles do: 31 MB a batch); returns their total size, the decompressed data."""
    x_train, y_train, x_test, y_test = arrays
    folder.mkdir(parents=True)
    rows = lambda x: np.ascontiguousarray(x.transpose(0, 3, 1, 2).reshape(len(x), -1))  # noqa: E731
    total = 0
    for i, part in enumerate(np.array_split(np.arange(len(x_train)), 5), start=1):
        batch = {b"batch_label": f"training batch {i} of 5".encode(), b"labels": y_train[part]
                 .tolist(), b"data": rows(x_train[part])}  # fmt: skip
        total += (folder / f"data_batch_{i}").write_bytes(pickle.dumps(batch, protocol=3))
    batch = {b"batch_label": b"testing batch 1 of 1", b"labels": y_test.tolist(),
             b"data": rows(x_test)}  # fmt: skip
    total += (folder / "test_batch").write_bytes(pickle.dumps(batch, protocol=3))
    return total


def measure(path: Path) -> tuple[int, int]:
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True, cwd=ROOT
    )
    if done.returncode != 0:
        raise SystemExit(f"loading {path} failed:\n{done.stderr}")
    before, peak, _, _ = map(int, done.stdout.split())
    return before * 1024, peak * 1024


def main() -> None:
    *arrays, where = source_arrays()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        size = write_official(tmp / "cifar-10-batches-py", tuple(arrays))
        tarball = tmp / "cifar-10-python.tar.gz"
        with tarfile.open(tarball, "w:gz") as tar:
            tar.add(tmp / "cifar-10-batches-py", arcname="cifar-10-batches-py")
        npz = tmp / "cifar10.npz"
        np.savez(npz, x_train=arrays[0], y_train=arrays[1], x_test=arrays[2], y_test=arrays[3])
        print(f"CIFAR-10 from {where}: decompressed batches {size / 1e6:.1f} MB")
        for label, path in (("tarball", tarball), ("folder", tmp), ("npz", npz)):
            before, peak = measure(path)
            added = peak - before
            print(
                f"{label:8s} peak added by the load {added / 1e6:7.1f} MB = "
                f"{added / size:.2f} x the decompressed data (target <= 2)"
            )


if __name__ == "__main__":
    main()
