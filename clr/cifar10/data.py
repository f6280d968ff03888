"""CIFAR-10 for the paper's experiments: loading from Keras or a local file, the paper's
preprocessing, and a synthetic stand-in for tests and offline demos. numpy only (Keras is
imported only when its downloader is used).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np

from .._checks import check_whole
from .datafiles import HOW_TO as _HOW_TO
from .datafiles import DataError

__all__ = ["Cifar10", "DataError", "load_cifar10", "synthetic_cifar10", "preprocess", "CLASSES"]

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
ENV_VAR = "CLR_CIFAR10"


def _check_split(
    x: np.ndarray, y: np.ndarray, split: str, source: str
) -> tuple[np.ndarray, np.ndarray]:
    """Images as uint8 (N, 32, 32, 3) in 0-255 and labels as 1-D integers 0-9, or DataError
    saying what is wrong, before any training."""
    where = f"CIFAR-10 from {source}"
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 4 or x.shape[1:] != (32, 32, 3):
        raise DataError(f"{where}: `x_{split}` must have shape (N, 32, 32, 3); it has {x.shape}.")
    if len(x) == 0:
        raise DataError(f"{where}: the {split} split is empty (x_{split} has 0 images).")
    if y.ndim == 2 and y.shape[1] == 10 and len(y) == len(x):
        raise DataError(
            f"{where}: `y_{split}` looks one-hot (shape {y.shape}); give class indices 0-9, e.g. "
            "y.argmax(1)."
        )
    if not (y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1)):
        raise DataError(
            f"{where}: `y_{split}` must hold one class index per image, shape (N,) or (N, 1); it "
            f"has {y.shape}."
        )
    y = y.reshape(-1)
    if len(y) != len(x):
        raise DataError(f"{where}: {len(x)} images but {len(y)} labels in the {split} split.")
    if y.dtype.kind not in "iu":
        if y.dtype.kind == "f" and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
            y = y.astype(np.int64)
        else:
            bad = y[0] if y.dtype.kind != "f" else y[~(np.isfinite(y) & (y == np.round(y)))][0]
            raise DataError(
                f"{where}: `y_{split}` must hold integer class indices 0-9; found {bad.item()!r} "
                f"(dtype {y.dtype})."
            )
    if y.min() < 0 or y.max() > 9:
        bad = y[(y < 0) | (y > 9)][0]
        raise DataError(f"{where}: `y_{split}` must hold class indices 0-9; found {int(bad)}.")
    if x.dtype != np.uint8:
        if x.dtype.kind == "f":
            if not np.all(np.isfinite(x)):
                raise DataError(f"{where}: `x_{split}` holds NaN or infinite pixels.")
            lo, hi = float(x.min()), float(x.max())
            if lo < 0 or hi > 255:
                raise DataError(
                    f"{where}: `x_{split}` pixels must be in 0-255; they span {lo:g} to {hi:g}."
                )
            if hi <= 1.0:
                raise DataError(
                    f"{where}: `x_{split}` looks scaled to [0, 1] (max {hi:g}); the paper's "
                    "network "
                    "expects raw 0-255 pixels: pass the uint8 images."
                )
            if not np.all(x == np.round(x)):
                raise DataError(
                    f"{where}: `x_{split}` must hold whole 0-255 pixel values (uint8); it has "
                    "fractions."
                )
        elif x.dtype.kind in "iu":
            lo, hi = int(x.min()), int(x.max())
            if lo < 0 or hi > 255:
                raise DataError(
                    f"{where}: `x_{split}` pixels must be in 0-255; they span {lo} to {hi}."
                )
        else:
            raise DataError(
                f"{where}: `x_{split}` must be numeric pixels 0-255; its dtype is {x.dtype}."
            )
        x = x.astype(np.uint8)
    return x, y.astype(np.uint8)


@dataclasses.dataclass(frozen=True)
class Cifar10:
    """CIFAR-10 arrays (images NHWC, labels 1-D) and where they came from."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    sha256: str | None = None
    synthetic: bool = False

    def __post_init__(self) -> None:
        for split in ("train", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            if x.ndim != 4 or x.shape[1:] != (32, 32, 3) or len(x) != len(y):
                raise DataError(
                    f"CIFAR-10 `x_{split}` must have shape (N, 32, 32, 3) with N == "
                    f"len(y_{split}). "
                    f"Received: x_{split}.shape={x.shape}, y_{split}.shape={y.shape} from "
                    f"{self.source}"
                )

    @classmethod
    def checked(
        cls, x_train: Any, y_train: Any, x_test: Any, y_test: Any, source: str, **kwargs: Any
    ) -> Cifar10:
        """Raw CIFAR-10 arrays, checked (uint8 pixels 0-255, labels 0-9, both splits non-empty)."""
        x_train, y_train = _check_split(x_train, y_train, "train", source)
        x_test, y_test = _check_split(x_test, y_test, "test", source)
        return cls(x_train, y_train, x_test, y_test, source, **kwargs)

    @property
    def description(self) -> str:
        kind = "SYNTHETIC stand-in for CIFAR-10" if self.synthetic else "CIFAR-10"
        sizes = f"{len(self.x_train)} train / {len(self.x_test)} test images"
        return f"{kind} ({sizes}) from {self.source}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _load_path(path: Path) -> tuple[np.ndarray, ...]:
    """The four arrays of a local copy, through :mod:`clr.cifar10.datafiles`, which sizes
    every member before reading it and never runs a pickle's code."""
    from .datafiles import read_folder, read_npz, read_tarball  # the file readers, when needed

    if path.is_dir():
        folder = path / "cifar-10-batches-py" if (path / "cifar-10-batches-py").is_dir() else path
        if not (folder / "data_batch_1").exists():
            raise DataError(
                f"{path} holds no cifar-10-batches-py data (data_batch_1 ... test_batch). {_HOW_TO}"
            )
        return read_folder(folder)
    try:
        if path.name.endswith((".tar.gz", ".tgz", ".tar")):
            return read_tarball(path)
        if path.suffix == ".npz":
            return read_npz(path, ("x_train", "y_train", "x_test", "y_test"))
    except DataError:
        raise
    except Exception as err:  # truncated, empty or random bytes: EOFError, OSError, zlib ...
        raise DataError(
            f"{path} cannot be read as CIFAR-10 ({type(err).__name__}: {err}); is it complete?"
        ) from None
    raise DataError(f"Unknown CIFAR-10 file type: {path}. {_HOW_TO}")


def load_cifar10(source: str | os.PathLike | None = None) -> Cifar10:
    """CIFAR-10 as uint8 images (N, 32, 32, 3) and 1-D labels, in the file's own order.

    ``source`` (or, when it is None, the environment variable ``CLR_CIFAR10``) names a local
    ``.npz``, the official ``cifar-10-python.tar.gz`` or its extracted folder. With neither,
    Keras' own loader downloads and caches the data set. When nothing is reachable the error
    says how to provide it.
    """
    if source is not None and not isinstance(source, (str, os.PathLike)):
        raise TypeError(
            "`source` must be a path (str or os.PathLike) to a .npz, the official tarball or its "
            f"folder, or None. Received: source={source!r}"[:300]
        )
    source = source if source is not None else os.environ.get(ENV_VAR) or None
    if source is None:
        try:
            import keras

            (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
        except Exception as err:  # offline, proxy, corrupt cache ...
            reason = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise DataError(f"Keras could not download CIFAR-10 ({reason}). {_HOW_TO}") from None
        return Cifar10.checked(x_train, y_train, x_test, y_test, "keras.datasets.cifar10")
    path = Path(source).expanduser()
    if not path.exists():
        raise DataError(f"No CIFAR-10 at {path}: no such file or folder. {_HOW_TO}")
    x_train, y_train, x_test, y_test = _load_path(path)
    return Cifar10.checked(
        x_train,
        y_train,
        x_test,
        y_test,
        str(path),
        sha256=_sha256(path) if path.is_file() else None,
    )


def synthetic_cifar10(n_train: int = 2000, n_test: int = 500, seed: int = 0) -> Cifar10:
    """Small, CIFAR-shaped, learnable data made here: for tests and offline demos only.

    Each class is a smooth random colour pattern; an image is its class pattern, shifted by a
    few pixels, plus noise, in 0-255. Everything made from it says SYNTHETIC.
    """
    n_train = check_whole("n_train", n_train, low=1, high=1_000_000)
    n_test = check_whole("n_test", n_test, low=1, high=1_000_000)
    seed = check_whole("seed", seed, low=0)
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(0, 255, size=(10, 4, 4, 3))
    patterns = coarse.repeat(8, axis=1).repeat(8, axis=2)  # 10 smooth 32x32x3 prototypes

    def make(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, 10, size=n).astype(np.uint8)
        shifts = rng.integers(-3, 4, size=(n, 2))
        x = np.stack([np.roll(patterns[c], tuple(s), axis=(0, 1)) for c, s in zip(y, shifts)])
        x = x + rng.normal(0, 40, size=x.shape)
        return np.clip(x, 0, 255).astype(np.uint8), y

    x_train, y_train = make(n_train)
    x_test, y_test = make(n_test)
    return Cifar10(
        x_train,
        y_train,
        x_test,
        y_test,
        f"synthetic_cifar10(n_train={n_train}, n_test={n_test}, seed={seed})",
        synthetic=True,
    )


def preprocess(
    data: Cifar10, seed: int = 0, n_train: int | None = None, n_test: int | None = None
) -> Cifar10:
    """The paper's preprocessing: subtract the per-pixel mean image of the training set from
    both splits, on the raw 0-255 scale (float32), no augmentation; training order shuffled
    with ``seed`` (the offline copy is sorted by class). ``n_train``/``n_test`` keep a random
    subset of that size (taken after shuffling, so every class is in it).
    """
    seed = check_whole("seed", seed, low=0)
    if n_train is not None:
        n_train = check_whole("n_train", n_train, low=1)
    if n_test is not None:
        n_test = check_whole("n_test", n_test, low=1)
    rng = np.random.default_rng(seed)
    train_order = rng.permutation(len(data.x_train))[:n_train]
    test_order = rng.permutation(len(data.x_test))[:n_test]
    x_train = data.x_train[train_order].astype(np.float32)
    mean_image = x_train.mean(axis=0)
    return dataclasses.replace(
        data,
        x_train=x_train - mean_image,
        y_train=data.y_train[train_order],
        x_test=data.x_test[test_order].astype(np.float32) - mean_image,
        y_test=data.y_test[test_order],
    )
