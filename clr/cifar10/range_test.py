"""Smith's LR range test on ``cifar10_full`` (the paper's Figure 3), with a preset's data:
``python -m clr.experiments range_test``. The sweep itself is :func:`clr.lr_range_test`; the
training runs live in ``runner``.
"""

from __future__ import annotations

import json
import math
import os
import platform
import time
from pathlib import Path

from .._checks import check_choice
from .protocol import PRESETS
from .provenance import command, data_identity, now, versions
from .runfiles import RunError, write_atomic
from .runner import _load_data

__all__ = ["RANGE_TEST", "run_range_test"]


RANGE_TEST = {  # the paper's Figure 3: a linear sweep over 8 epochs, accuracy on held-out data
    "paper": dict(start_lr=1e-5, end_lr=0.02, epochs=8, n_val=2000, evaluations=40),
    "quick": dict(start_lr=1e-5, end_lr=0.02, epochs=8, n_val=1000, evaluations=40),
    "smoke": dict(start_lr=1e-5, end_lr=0.02, epochs=2, n_val=200, evaluations=10),
}


def run_range_test(
    preset: str = "quick",
    source: str | None = None,
    out: str | os.PathLike = "runs",
    seed: int = 0,
    verbose: int = 1,
) -> Path:
    """Smith's LR range test on ``cifar10_full`` (a linear sweep from 0 to 0.02 over 8 epochs,
    validation accuracy on held-out test images) with the preset's data; writes
    ``out/preset/range_test.json`` and its provenance beside it."""
    import keras

    from ..range_test import lr_range_test
    from .models import cifar10_full

    check_choice("preset", preset, tuple(PRESETS))
    protocol, settings = PRESETS[preset], RANGE_TEST[preset]
    folder = Path(out) / preset
    path = folder / "range_test.json"
    if path.exists():
        raise RunError(
            f"{path} exists and is left as it is; use another --out to run the range test again."
        )
    data = _load_data(source, protocol, seed)
    model = cifar10_full(seed=seed)
    model.compile(
        keras.optimizers.SGD(learning_rate=0.001, momentum=0.9),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    iterations = round(settings["epochs"] * math.ceil(len(data.x_train) / protocol.batch_size))
    val = (data.x_test[: settings["n_val"]], data.y_test[: settings["n_val"]])
    if verbose:
        print(
            f"LR range test on {data.description}: linear {settings['start_lr']:g} to "
            f"{settings['end_lr']:g} over {iterations:,} iterations"
        )
    t0 = time.perf_counter()
    result = lr_range_test(
        model,
        data.x_train,
        data.y_train,
        start_lr=settings["start_lr"],
        end_lr=settings["end_lr"],
        iterations=iterations,
        sweep="linear",
        batch_size=protocol.batch_size,
        validation_data=val,
        eval_every=max(1, iterations // settings["evaluations"]),
        seed=seed,
        verbose=verbose,
    )
    folder.mkdir(parents=True, exist_ok=True)
    result.save(path)
    provenance = {
        "command": command(
            "range_test", "--preset", preset, "--seed", str(seed), "--out", str(out), source=source
        ),
        "settings": settings,
        "batch_size": protocol.batch_size,
        "iterations": iterations,
        "seed": seed,
        "data": {"description": data.description, **data_identity(data)},
        "versions": versions(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "elapsed_s": round(time.perf_counter() - t0, 1),
        "date": now(),
    }
    write_atomic(folder / "range_test.provenance.json", json.dumps(provenance, indent=1) + "\n")
    return path
