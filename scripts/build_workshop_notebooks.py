"""Write the workshop's two notebooks from one source, so they cannot drift apart.

    python scripts/build_workshop_notebooks.py            # write both (unexecuted)
    python scripts/build_workshop_notebooks.py --clear    # after executing: empty the
                                                          # participant's exercise outputs

``notebooks/04_workshop.ipynb`` gets stubs; ``notebooks/solutions/04_workshop_solutions.ipynb``
the answers. In the participant notebook the cells that hold an answer or check one are tagged
``exercise``, carry nbval's ignore marker (their output depends on the participant's answer)
and are committed without outputs, so the notebook hands out no answer. The timetable lives in
``docs/workshop.md`` only; this script also writes the catalogue of typical mistakes and their
hints there (``clr.workshop.guide.catalogue_markdown``, between its two marker lines).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat as nbf

ROOT = Path(__file__).resolve().parents[1]
PARTICIPANT = ROOT / "notebooks" / "04_workshop.ipynb"
SOLUTIONS = ROOT / "notebooks" / "solutions" / "04_workshop_solutions.ipynb"
IGNORE = "# NBVAL_IGNORE_OUTPUT (depends on your answer)\n"


def cells(solutions: bool) -> list:
    md = lambda text: nbf.v4.new_markdown_cell(text.strip())  # noqa: E731
    code = lambda text: nbf.v4.new_code_cell(text.strip())  # noqa: E731

    def exercise(stub: str, answer: str):
        """An answer cell: the stub for participants, the answer in the solutions."""
        cell = code(answer if solutions else IGNORE + stub)
        if not solutions:
            cell.metadata["tags"] = ["exercise"]
        return cell

    def check(text: str):
        cell = code(text if solutions else IGNORE + text)
        if not solutions:
            cell.metadata["tags"] = ["exercise"]
        return cell

    title = "# Workshop: cyclical learning rates in 90 minutes" + (
        " (solutions)" if solutions else ""
    )
    return [
        md(f"""
{title}

**By the end you will be able to:**
1. say why a rate that rises again can help training;
2. write the triangular, triangular2 and exp_range policies from the formula;
3. predict a CLR curve before seeing it;
4. choose `base_lr` and `max_lr` from an LR range test, and `step_size` from iterations per epoch;
5. read a fixed-versus-CLR comparison on CIFAR-10 against the paper's.

Every exercise ends with a `workshop.check_...` cell: it tests your answer on cases you do not see and tells you what is wrong, never the answer.
Everything here runs offline; the CIFAR-10 results it reads are committed in `results/`.
The timetable is in `docs/workshop.md`.
"""),
        code("""
import math

import matplotlib.pyplot as plt
import numpy as np

import clr
from clr import workshop
from clr.cifar10 import results as cifar10_results
from clr.widgets import policy_explorer
"""),
        md("""
## Why would a rising rate help?

The usual advice is to lower the learning rate as training goes on. Smith's paper (arXiv:1506.01186, section 3) argues for letting it rise again, periodically:

- **Saddle points, not bad minima, slow training down** (Dauphin et al. 2015). Around a saddle point the gradients are small, so a small rate crawls across the plateau; a larger rate crosses it quickly.
- **Short-term harm, long-term benefit.** Raising the rate makes the loss worse for a while (you will see the accuracy dip at each peak in exercise 6), but it moves the weights out of a region where they were stuck; when the rate comes down again, the accuracy ends higher than before.
- **No single best rate to find.** The best rate lies somewhere between two bounds that are easy to find with one short test (exercise 5); cycling between them spends part of every cycle near it.

The policy that grew out of this, **1cycle** with cyclical momentum, is in notebook `05_one_cycle.ipynb` (and the extra exercise 7 below).
"""),
        md("""
## 1. Write the triangular policy

For iteration `i` (counted from 0), the original Keras callback computes:

```
cycle = floor(1 + i / (2 * step_size))
x     = |i / step_size - 2 * cycle + 1|
lr    = base_lr + (max_lr - base_lr) * max(0, 1 - x)
```

Write it as a Python function of one iteration.
"""),
        exercise(
            """
def triangular(iteration, base_lr, max_lr, step_size):
    # Your code here: the rate at this iteration, from the formula above.
    raise NotImplementedError
""",
            """
def triangular(iteration, base_lr, max_lr, step_size):
    cycle = math.floor(1 + iteration / (2 * step_size))
    x = abs(iteration / step_size - 2 * cycle + 1)
    return base_lr + (max_lr - base_lr) * max(0, 1 - x)
""",
        ),
        check("workshop.check_triangular(triangular);"),
        md("""
## 2. Scale the height: triangular2 and exp_range

`triangular2` divides the height `max_lr - base_lr` by 2 after each cycle (the first cycle has the full height).
`exp_range` multiplies the height by `gamma**i`, on iterations, not cycles.
"""),
        exercise(
            """
def triangular2(iteration, base_lr, max_lr, step_size):
    # Your code here (you may call your triangular).
    raise NotImplementedError
""",
            """
def triangular2(iteration, base_lr, max_lr, step_size):
    cycle = math.floor(1 + iteration / (2 * step_size))
    height = triangular(iteration, base_lr, max_lr, step_size) - base_lr
    return base_lr + height / 2 ** (cycle - 1)
""",
        ),
        check("workshop.check_triangular2(triangular2);"),
        exercise(
            """
def exp_range(iteration, base_lr, max_lr, step_size, gamma):
    # Your code here.
    raise NotImplementedError
""",
            """
def exp_range(iteration, base_lr, max_lr, step_size, gamma):
    height = triangular(iteration, base_lr, max_lr, step_size) - base_lr
    return base_lr + height * gamma**iteration
""",
        ),
        check("workshop.check_exp_range(exp_range);"),
        md("""
## 3. Predict, then reveal

With `base_lr=0.001`, `max_lr=0.006`, `step_size=2000`, predict the `triangular2` rate at iterations 0, 2000, 4000, 6000 and 10,000 (on paper first, with your neighbour).
The check says which predictions are too high or too low, not their values. Only then open the explorer below to see the curve.
"""),
        exercise(
            "my_prediction = {0: None, 2000: None, 4000: None, 6000: None, 10000: None}  # your "
            "predictions",
            "my_prediction = {0: 0.001, 2000: 0.006, 4000: 0.001, 6000: 0.0035, 10000: 0.00225}",
        ),
        check(
            "workshop.check_prediction(my_prediction, iterations=(0, 2000, 4000, 6000, 10000),\n"
            "                          base_lr=0.001, max_lr=0.006, step_size=2000, "
            'mode="triangular2");'
        ),
        code('policy_explorer(mode="triangular2", iterations=12_000)'),
        md("""
## 4. Choose a step size

CIFAR-10 has 50,000 training images; the paper trains with batches of 100. The paper's advice: a half cycle of 2 to 10 epochs. Give a `step_size` in iterations.
"""),
        exercise(
            "my_step_size = None  # your answer",
            "my_step_size = 2000  # 4 epochs of 500 iterations",
        ),
        check("workshop.check_step_size(my_step_size, train_examples=50_000, batch_size=100);"),
        md("""
## 5. Choose the bounds from a range test

This is the LR range test of the paper's network on all of CIFAR-10 (made by `python -m clr.experiments range_test --preset paper`): the rate rose linearly over 8 epochs while the accuracy on held-out images was measured.
Read off where the accuracy starts to rise (`base_lr`) and where the rise slows, becomes ragged or falls (`max_lr`). The plot shows the curves only: read them, there is nothing to copy.
"""),
        code("""
range_test = clr.RangeTestResult.load(cifar10_results.results_dir() / "paper" / "range_test.json")
fig, ax = plt.subplots(figsize=(10, 4))
range_test.plot(ax=ax, show_suggestions=False)
ax.set_xlim(0, 0.02)
fig.tight_layout()
plt.show()
"""),
        exercise(
            "my_base_lr, my_max_lr = None, None  # read them off the plot",
            "my_base_lr, my_max_lr = 0.0006, 0.004  # accuracy rises from ~0.0005 and slows near "
            "0.004",
        ),
        check("workshop.check_bounds(my_base_lr, my_max_lr, range_test);"),
        md("""
The check accepts a reading within the test's resolution: the accuracy was measured every 0.0005 of rate, so two readings closer than that cannot be told apart.
Compare with the paper's bounds for the same network, 0.001 and 0.006. Ours come out lower: our runs use a JPEG-recompressed copy of CIFAR-10 and Keras instead of Caffe.
"""),
        md("""
## 6. Fixed versus cyclical on CIFAR-10

These are the committed runs of the paper's protocol on all of CIFAR-10 (seed 0, made with `python -m clr.experiments POLICY --preset paper`; hours of CPU each, so we read them rather than run them).
The top panel is the test accuracy every 1,000 iterations, the paper's own numbers as stars; the bottom one the learning rate each policy trained with.
"""),
        code("""
from clr.cifar10.plots import plot_accuracy, plot_lr

POLICIES = ("fixed", "triangular2", "exp_range")
paper_runs = cifar10_results.load_comparison(cifar10_results.results_dir() / "paper" / "seed0", POLICIES)
fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6.5), sharex=True, gridspec_kw=dict(height_ratios=[3, 1]))
plot_accuracy(paper_runs, ax=top)
top.set_ylim(55, 83)
top.set_xlabel("")
plot_lr(list(POLICIES), ax=bottom)
fig.tight_layout()
plt.show()
"""),
        md("""
Discuss with your neighbour, reading the plot:
- Where does the cyclical runs' accuracy dip, and what is their rate doing there?
- At 25,000 iterations, where triangular2 stops, which is ahead: triangular2 or fixed? How many iterations does fixed need to catch up, and what happens to its rate just before it does?
- The paper says triangular2 reaches fixed's final accuracy in 25,000 instead of 70,000 iterations. Do these runs show that? (The reproduction notebook, `03_cifar10_fixed_vs_clr.ipynb`, asks why not.)

To train the same comparison yourself at 1/50 of the iterations (`quick`, about 3 minutes with CIFAR-10 at hand), run it **in a terminal** (it would block this notebook's kernel), then plot `runs/quick/seed0` the same way:

```bash
for p in fixed triangular2 exp_range; do python -m clr.experiments $p --preset quick; done
```

## Wrap-up

- The CLR formula is a triangle whose height is scaled per cycle or per iteration.
- Bounds come from one range test; the step size from the epoch length.
- Stop training at the end of a cycle, where the rate is lowest.
- Next: 1cycle and cyclical momentum (notebook `05_one_cycle.ipynb`).
"""),
        md("""
## 7. Extra, for the fast: write 1cycle

Smith's later policy in the papers' three phases, straight lines: from `max_lr / 25` up to `max_lr` at iteration `0.45 * total_steps - 1`, back down to `max_lr / 25` at iteration `0.9 * total_steps - 2`, then on down to `max_lr / 25 / 10_000` at the last iteration, `total_steps - 1`.
"""),
        exercise(
            """
def one_cycle(iteration, max_lr, total_steps):
    # Your code here.
    raise NotImplementedError
""",
            """
def one_cycle(iteration, max_lr, total_steps):
    start, end = max_lr / 25, max_lr / 25 / 10_000
    up, down = 0.45 * total_steps - 1, 0.9 * total_steps - 2
    if iteration <= up:
        return start + (max_lr - start) * iteration / up
    if iteration <= down:
        return max_lr + (start - max_lr) * (iteration - up) / (down - up)
    return start + (end - start) * (iteration - down) / (total_steps - 1 - down)
""",
        ),
        check("workshop.check_one_cycle(one_cycle);"),
    ]


def write() -> None:
    for path, solutions in ((PARTICIPANT, False), (SOLUTIONS, True)):
        nb = nbf.v4.new_notebook()
        nb.cells = cells(solutions)
        nb.metadata["kernelspec"] = {
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
            "name": "python3",
        }
        nb.metadata["language_info"] = {"name": "python"}
        nbf.write(nb, path)


DOCS = ROOT / "docs" / "workshop.md"
BEGIN, END = (
    "<!-- catalogue: written by scripts/build_workshop_notebooks.py -->",
    "<!-- /catalogue -->",
)


def write_catalogue() -> None:
    """The catalogue of typical mistakes, as the checks print their hints, into the docs."""
    from clr.workshop.guide import catalogue_markdown

    text = DOCS.read_text()
    head, rest = text.split(BEGIN)
    _, tail = rest.split(END)
    DOCS.write_text(f"{head}{BEGIN}\n{catalogue_markdown()}\n{END}{tail}")


def clear() -> None:
    """Empty the outputs of the participant's exercise cells (after an execution)."""
    nb = nbf.read(PARTICIPANT, as_version=4)
    for cell in nb.cells:
        if "exercise" in cell.metadata.get("tags", []):
            cell.outputs, cell.execution_count = [], None
    nbf.write(nb, PARTICIPANT)


if __name__ == "__main__":
    if "--clear" in sys.argv[1:]:
        clear()
    else:
        write()
        write_catalogue()
