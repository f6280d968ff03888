"""Make the data-quality ablation's CIFAR-10 copies: every image re-encoded as JPEG at a lower
quality, written as .npz with the same keys, and a record of each copy (quality, sha256, MSE and
PSNR against the source, codec versions) for the provenance.

Deterministic: run it twice and the copies' sha256 agree (the .npz is written with fixed zip
timestamps). The copies are not committed (180 MB each); the record is.

Usage: python scripts/jpeg_copies.py [--data ../shared/data/cifar10.npz] [--quality 30 20]
           [--out-dir data] [--record results/ablations/jpeg_copies.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import zipfile
from pathlib import Path

import numpy as np

from clr.cifar10.data import DataError, _sha256, load_cifar10
from clr.cifar10.jpeg import codec_versions, distortion, reencode

KEYS = ("x_train", "y_train", "x_test", "y_test")


def save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez`` with a fixed timestamp in every zip entry, so equal arrays give equal bytes."""
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED, allowZip64=True) as z:
        for key, array in arrays.items():
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            with z.open(info, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.ascontiguousarray(array), allow_pickle=False)
    os.replace(tmp, path)


def _quality(text: str) -> int:
    """An argparse type: a JPEG quality, 1-95 as Pillow advises."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number in 1-95, got {text!r}") from None
    if not 1 <= value <= 95:
        raise argparse.ArgumentTypeError(f"must be a whole number in 1-95, got {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument(
        "--data", default=os.environ.get("CLR_CIFAR10", "../shared/data/cifar10.npz")
    )
    parser.add_argument("--quality", type=_quality, nargs="+", default=[30, 20])
    parser.add_argument("--out-dir", default="data")
    parser.add_argument("--record", default="results/ablations/jpeg_copies.json")
    args = parser.parse_args(argv)
    args.quality = list(dict.fromkeys(args.quality))  # each copy once
    try:
        source = load_cifar10(args.data)
    except DataError as err:
        parser.error(str(err))
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    record_path = Path(args.record)
    record = json.loads(record_path.read_text()) if record_path.exists() else {}
    record.update(
        source={"path": str(args.data), "sha256": source.sha256},
        codec=codec_versions(),
        command=f"python scripts/jpeg_copies.py --data {args.data} --quality "
        + " ".join(map(str, args.quality)),
    )
    copies = record.setdefault("copies", {})
    for quality in args.quality:
        path = out_dir / f"cifar10-jpeg{quality}.npz"
        print(f"quality {quality}: re-encoding 60,000 images ...", flush=True)
        x_train, x_test = reencode(source.x_train, quality), reencode(source.x_test, quality)
        save_npz(
            path,
            {
                "x_train": x_train,
                "y_train": source.y_train,
                "x_test": x_test,
                "y_test": source.y_test,
            },
        )
        both = distortion(
            np.concatenate([source.x_train, source.x_test]), np.concatenate([x_train, x_test])
        )
        copies[str(quality)] = {
            "file": path.name,
            "sha256": _sha256(path),
            "against_source": both,
            "train_against_source": distortion(source.x_train, x_train),
            "test_against_source": distortion(source.x_test, x_test),
        }
        print(
            f"  {path}: MSE {both['mse']:.1f}, PSNR {both['psnr_db']:.2f} dB against the source; "
            f"sha256 {copies[str(quality)]['sha256'][:16]}...",
            flush=True,
        )
    record_path.parent.mkdir(parents=True, exist_ok=True)
    record_path.write_text(json.dumps(record, indent=1) + "\n")
    print(f"record: {record_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
