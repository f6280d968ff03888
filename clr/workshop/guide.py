"""The instructors' guide's view of the catalogue: what each check prints for each catalogued
mistake (:func:`output_for`) and the table ``docs/workshop.md`` shows
(:func:`catalogue_markdown`, written there by ``scripts/build_workshop_notebooks.py``)."""

from __future__ import annotations

import contextlib
import io
from typing import Any

import numpy as np

from .catalogue import MISTAKES, Mistake
from .checks import (
    check_bounds,
    check_exp_range,
    check_one_cycle,
    check_prediction,
    check_step_size,
    check_triangular,
    check_triangular2,
)

__all__ = ["catalogue_markdown", "output_for", "toy_range_test"]

# The prediction exercise as the notebook asks it.
PREDICTION = dict(base_lr=0.001, max_lr=0.006, step_size=2000, mode="triangular2")
PREDICTED_AT = (0, 2000, 4000, 6000, 10_000)


def toy_range_test() -> Any:
    """A linear sweep whose accuracy rises from 0.002 to 0.008: a known answer for the bounds."""
    from .._range_result import RangeTestResult, smooth_losses

    lr = np.linspace(0.0001, 0.02, 400)
    acc = np.interp(lr, [0, 0.002, 0.008, 0.02], [0.1, 0.1, 0.7, 0.7])
    loss = 2.3 - acc
    empty = np.array([], int)
    return RangeTestResult(
        lr, loss, smooth_losses(loss, 0.0), acc, empty, np.array([]), None, "linear", 0.0001,
        0.02, 400,
    )  # fmt: skip


def output_for(mistake: Mistake) -> str:
    """What the exercise's check prints for the wrong answer that makes ``mistake``."""
    out = io.StringIO()
    checks = {
        "triangular": check_triangular,
        "triangular2": check_triangular2,
        "exp_range": check_exp_range,
        "one_cycle": check_one_cycle,
    }
    with contextlib.redirect_stdout(out):
        if mistake.exercise in checks:
            checks[mistake.exercise](mistake.wrong)
        elif mistake.exercise == "prediction":
            guess = {i: mistake.wrong(i, *PREDICTION.values(), 1.0) for i in PREDICTED_AT}
            check_prediction(guess, iterations=PREDICTED_AT, **PREDICTION)
        elif mistake.exercise == "step_size":
            check_step_size(mistake.wrong(50_000, 100), train_examples=50_000, batch_size=100)
        else:
            result = toy_range_test()
            check_bounds(*mistake.wrong(result.suggest(), result), result)
    return out.getvalue()


def _printed_hint(text: str) -> str:
    return next((line.strip()[len("Hint: ") :] for line in text.splitlines()
                 if line.strip().startswith("Hint: ")), "")  # fmt: skip


def catalogue_markdown() -> str:
    """The catalogue as a markdown table for instructors: each mistake, the hint the check
    prints for it (run, not copied), and how many mistakes get a hint of their own."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|")  # a bare | would end the table's cell

    rows, named = [], 0
    for k in MISTAKES:
        hint = _printed_hint(output_for(k))
        named += bool(hint) and not hint.startswith("compare your curve")
        rows.append(f"| {k.exercise} | {cell(k.what)} | {cell(hint)} |")
    lines = [
        "| exercise | the mistake | the hint it gets |",
        "| --- | --- | --- |",
        *rows,
        "",
        f"{named} of {len(MISTAKES)} catalogued mistakes get a hint that names what their values "
        "show.",
    ]
    return "\n".join(lines)
