"""Copies of CIFAR-10 re-encoded as JPEG at a lower quality, for the data-quality ablation.

Our offline copy is itself JPEG (about quality 75, PSNR about 30 dB against the original). To
ask whether that smoothing explains part of the gap between triangular2 and the baseline, the
same runs are repeated on copies degraded further and the gap is plotted against the total
distortion (``scripts/jpeg_copies.py`` makes the copies, notebook 03 reads them).

Deterministic: the same images, quality and Pillow/libjpeg give the same bytes (each image is
encoded alone, baseline JPEG, 4:2:0 chroma subsampling, no optimisation passes). Pillow is
imported when a copy is made; numpy only otherwise.
"""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np

from .._checks import check_int

__all__ = ["reencode", "distortion", "codec_versions"]


def reencode(images: np.ndarray, quality: int) -> np.ndarray:
    """Each uint8 image (N, 32, 32, 3) encoded as JPEG at ``quality`` (1-95) and decoded."""
    from PIL import Image

    quality = check_int("quality", quality, low=1, high=95)
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(
            "`images` must be uint8 RGB images of shape (N, H, W, 3). Received: "
            f"dtype {images.dtype}, shape {images.shape}"
        )
    out = np.empty_like(images)
    for k, image in enumerate(images):
        buffer = io.BytesIO()
        Image.fromarray(image, "RGB").save(
            buffer, "JPEG", quality=quality, subsampling=2, optimize=False, progressive=False
        )
        buffer.seek(0)
        with Image.open(buffer) as decoded:
            out[k] = np.asarray(decoded.convert("RGB"))
    return out


def distortion(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Mean squared error per pixel value (0-255 scale) between two image arrays, and the
    PSNR in dB (infinite for identical arrays)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"`a` and `b` must have one shape. Received: {a.shape} and {b.shape}")
    # In chunks: a float64 copy of all of CIFAR-10 would take 1.5 GB.
    total, count = 0.0, 0
    for start in range(0, len(a), 5000):
        d = a[start : start + 5000].astype(np.float64) - b[start : start + 5000]
        total += float(np.square(d).sum())
        count += d.size
    mse = total / count
    psnr = math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)
    return {"mse": mse, "psnr_db": psnr}


def codec_versions() -> dict[str, Any]:
    """Pillow's and libjpeg's versions: what the copies' bytes depend on."""
    import PIL
    from PIL import features

    return {
        "pillow": PIL.__version__,
        "libjpeg": features.version("jpg"),
        "libjpeg_turbo": features.version_feature("libjpeg_turbo"),
    }
