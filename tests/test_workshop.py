"""The workshop's checks: correct answers pass, the common wrong ones are caught with a hint."""

import math
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import toy_range_test

import clr
from clr import workshop
from clr.workshop import guide
from clr.workshop.catalogue import catalogue
from clr.workshop.checks import _curves, diagnose
from clr.workshop.shapes import HINTS


def passes(check, *args, **kwargs) -> bool:
    """Run a check; it passed when it printed a ✓ and no ✗."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert check(*args, **kwargs) is None  # prints, returns nothing (no stray Out in notebooks)
    print(out.getvalue(), end="")
    return "✓" in out.getvalue() and "✗" not in out.getvalue()


def triangular(i, base_lr, max_lr, step_size):
    cycle = math.floor(1 + i / (2 * step_size))
    x = abs(i / step_size - 2 * cycle + 1)
    return base_lr + (max_lr - base_lr) * max(0, 1 - x)


def triangular2(i, base_lr, max_lr, step_size):
    cycle = math.floor(1 + i / (2 * step_size))
    return base_lr + (triangular(i, base_lr, max_lr, step_size) - base_lr) / 2 ** (cycle - 1)


def exp_range(i, base_lr, max_lr, step_size, gamma):
    return base_lr + (triangular(i, base_lr, max_lr, step_size) - base_lr) * gamma**i


def test_correct_answers_pass(capsys):
    assert passes(workshop.check_triangular, triangular)
    assert passes(workshop.check_triangular2, triangular2)
    assert passes(workshop.check_exp_range, exp_range)
    assert passes(
        workshop.check_triangular, lambda i, b, m, s: clr.cyclic_lr(i, b, m, s)
    )  # numpy answers too
    out = capsys.readouterr().out
    assert out.count("✓") == 4 and "✗" not in out


def float32_triangular(i, b, m, s):
    """A correct answer computed in float32, as numpy's and Keras' defaults do."""
    i, b, m, s = (np.float32(v) for v in (i, b, m, s))
    cycle = np.floor(np.float32(1) + i / (np.float32(2) * s))
    x = np.abs(i / s - np.float32(2) * cycle + np.float32(1))
    return b + (m - b) * np.maximum(np.float32(0), np.float32(1) - x)


def one_cycle_answer(i, max_lr, total):
    return clr.one_cycle(
        i, max_lr, total, pct_start=0.45, anneal_strategy="linear", three_phase=True
    )


# Right answers in the shapes participants write them: each must pass.
RIGHT = [
    ("float64", workshop.check_triangular, triangular),
    ("float32", workshop.check_triangular, float32_triangular),
    (
        "1-element array",
        workshop.check_triangular,
        lambda i, b, m, s: np.array([triangular(i, b, m, s)]),
    ),
    ("0-d array", workshop.check_triangular, lambda i, b, m, s: np.asarray(triangular(i, b, m, s))),
    (
        "numpy vectorised",
        workshop.check_triangular2,
        lambda i, b, m, s: clr.cyclic_lr(i, b, m, s, mode="triangular2"),
    ),
    (
        "float32 exp_range",
        workshop.check_exp_range,
        lambda i, b, m, s, g: np.float32(exp_range(i, b, m, s, g)),
    ),
    ("one_cycle", workshop.check_one_cycle, one_cycle_answer),
    (
        "one_cycle float32",
        workshop.check_one_cycle,
        lambda i, m, t: np.float32(one_cycle_answer(i, m, t)),
    ),
]


@pytest.mark.parametrize(
    "check, answer", [(c, a) for _, c, a in RIGHT], ids=[n for n, _, _ in RIGHT]
)
def test_right_answers_pass(check, answer):
    assert passes(check, answer)


def _no_return(i, b, m, s):
    triangular(i, b, m, s)


# Wrong answers and what the message must say (and, for all, never the expected formula).
WRONG = [
    ("no return", workshop.check_triangular, _no_return, r"returned None: is a `return` missing\?"),
    (
        "integer division",
        workshop.check_triangular,
        lambda i, b, m, s: i // (2 * s),
        r"returned the integer 0: a learning rate is a fraction",
    ),
    ("a string", workshop.check_triangular, lambda i, b, m, s: "0.001", r"returned str '0.001'"),
    (
        "nan from a division by zero",
        workshop.check_triangular,
        lambda i, b, m, s: (i - i) * math.inf,  # what numpy gives for 0 / 0
        r"returned nan: is something divided by a value that is 0",
    ),
    (
        "whole array",
        workshop.check_triangular,
        lambda i, b, m, s: np.zeros(3),
        r"array of shape \(3,\): return one number",
    ),
    (
        "2-based cycle",
        workshop.check_triangular,
        lambda i, b, m, s: wrong_triangular(cycle_shift=2)(i, b, m, s),
        r"never leaves base_lr",
    ),
    (
        "0-based cycle",
        workshop.check_triangular,
        lambda i, b, m, s: wrong_triangular(cycle_shift=0)(i, b, m, s),
        r"At iteration 2,000 \(the peak of cycle 1; .*\): expected 0\.006, got 0\.001",
    ),
    (
        "small slip",
        workshop.check_triangular,
        lambda i, b, m, s: triangular(i, b, m, s) * (1 + 1e-3),
        r"At iteration 7 \(the peak of cycle 1; .*\): expected 0\.0009, got 0\.0009009",
    ),
    (
        "not answered yet",
        workshop.check_triangular,
        lambda i, b, m, s: (_ for _ in ()).throw(NotImplementedError),
        r"is not answered yet: replace `raise NotImplementedError` with your code",
    ),
    (
        "one_cycle no tail",
        workshop.check_one_cycle,
        lambda i, m, t: one_cycle_answer(min(i, int(0.9 * t - 2)), m, t),
        r"tail does not stay at the start",
    ),
    (
        "one_cycle peak late",
        workshop.check_one_cycle,
        lambda i, m, t: clr.one_cycle(
            i, m, t, pct_start=0.5, anneal_strategy="linear", three_phase=True
        ),
        r"too (low|high) in the (rising|falling back) phase",
    ),
]


@pytest.mark.parametrize(
    "check, answer, message", [(c, a, m) for _, c, a, m in WRONG], ids=[n for n, *_ in WRONG]
)
def test_wrong_answers_are_explained(check, answer, message, capsys):
    assert not passes(check, answer)
    out = capsys.readouterr().out
    assert re.search(message, out), out
    assert "floor" not in out and "abs(" not in out


def wrong_triangular(cycle_shift=1, use_abs=True, clip=True, period=2, swap=False):
    def fn(i, b, m, s):
        if swap:
            b, m = m, b
        cycle = math.floor(cycle_shift + i / (period * s))
        x = i / s - 2 * cycle + 1
        x = abs(x) if use_abs else x
        return b + (m - b) * (max(0, 1 - x) if clip else 1 - x)

    return fn


# -- the catalogue of typical mistakes: each gets the hint that names what its values show -----

ASKED = dict(
    iterations=(0, 2000, 4000, 6000, 10_000),
    base_lr=0.001,
    max_lr=0.006,
    step_size=2000,
    mode="triangular2",
)
POLICIES = ("triangular", "triangular2", "exp_range")


def _hint_of(mistake) -> str:
    """The hint's text as the check prints it, up to its first value ({...})."""
    text = mistake.hint if mistake.hint is not None else HINTS[mistake.shape]
    return text.split("{")[0]


@pytest.mark.parametrize(
    "mistake", workshop.MISTAKES, ids=[f"{k.exercise}:{k.name}" for k in workshop.MISTAKES]
)
def test_every_catalogued_mistake_gets_the_hint_of_what_it_shows(mistake):
    out = guide.output_for(mistake)
    assert "✗" in out and "✓" not in out, out
    assert f"Hint: {_hint_of(mistake)}" in out, out
    assert HINTS["general"] not in out
    assert "floor(" not in out and "abs(" not in out  # never the formula
    if mistake.exercise in POLICIES:
        name = diagnose(mistake.exercise, _curves(mistake.wrong, mistake.exercise))[0]
        assert name == (mistake.shape or mistake.name)
        # The case shown is one where the difference is visible: a tenth of the curve's height.
        line = next(x for x in out.splitlines() if x.startswith("✗ At iteration"))
        expected, got = (float(v) for v in re.findall(r"(?:expected|got) ([-0-9.e+]+)", line))
        height = re.search(r"base_lr=([0-9.e-]+), max_lr=([0-9.e-]+)", line).groups()
        assert abs(got - expected) >= 0.1 * (float(height[1]) - float(height[0])), line


# Each shape with a neighbouring mistake that looks alike and must not get its hint.
NEIGHBOURS = [
    ("triangular", "cycle-0-based", "period-step-size"),  # both mostly at base_lr
    ("triangular", "period-step-size", "cycle-0-based"),
    ("triangular", "x-without-plus-1", "counted-from-1"),  # peak late versus one step ahead
    ("triangular", "counted-from-1", "x-without-plus-1"),
    ("triangular", "step-size-is-the-cycle", "period-step-size"),
    ("triangular", "swapped-bounds", "base-forgotten"),
    ("triangular", "base-forgotten", "swapped-bounds"),
    ("triangular", "no-abs", "swapped-bounds"),
    ("triangular2", "halving-at-the-peak", "halving-fractional"),
    ("triangular2", "halving-fractional", "halving-at-the-peak"),
    ("triangular2", "no-halving", "halving-off-by-one"),
    ("triangular2", "halving-whole-rate", "base-forgotten"),
    ("exp_range", "linear-decay", "no-decay"),
    ("exp_range", "no-decay", "linear-decay"),
    ("exp_range", "gamma-to-cycle", "gamma-in-cycle"),
    ("exp_range", "gamma-times-i", "no-abs"),  # both above max_lr
    ("exp_range", "x-for-1-minus-x", "gamma-whole-rate"),
    ("one_cycle", "counted-from-1", "phase-ends-late"),
    ("prediction", "percent", "no-halving"),
    ("step_size", "keras-batch-32", "whole-cycle"),
    ("step_size", "whole-cycle", "keras-batch-32"),
]


@pytest.mark.parametrize("exercise, name, neighbour", NEIGHBOURS, ids=lambda v: str(v))
def test_a_neighbouring_mistake_does_not_get_the_hint(exercise, name, neighbour):
    mistakes = {k.name: k for k in catalogue(exercise)}
    hint = _hint_of(mistakes[name])
    assert f"Hint: {hint}" in guide.output_for(mistakes[name])
    assert hint not in guide.output_for(mistakes[neighbour])


def _policy_check_output(mode, answer) -> str:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        {"triangular": workshop.check_triangular, "triangular2": workshop.check_triangular2,
         "exp_range": workshop.check_exp_range}[mode](answer)  # fmt: skip
    return out.getvalue()


def test_shapes_beyond_the_catalogue_are_named_too():
    """Variants nobody catalogued get the hint of what their values show."""

    def per_cycle(i, b, m, s, g):  # the decay of a whole cycle, applied once per cycle
        cycle = math.floor(1 + i / (2 * s))
        return b + (triangular(i, b, m, s) - b) * g ** (2 * s * (cycle - 1))

    assert "shrinks in steps, once per cycle" in _policy_check_output("exp_range", per_cycle)
    out = _policy_check_output("exp_range", lambda i, b, m, s, g: exp_range(i, b, m, s, 0.999))
    assert "Your height shrinks faster than it should" in out
    out = _policy_check_output("triangular", lambda i, b, m, s: 10 * triangular(i, b, m, s))
    assert "every value is 10 times the reference's" in out
    out = _policy_check_output("triangular", lambda i, b, m, s: triangular(i, b, m, 3 * s))
    assert "A cycle of yours lasts" in out
    out = _policy_check_output("triangular", lambda i, b, m, s: triangular(max(i - 1, 0), b, m, s))
    assert "one iteration behind" in out


def test_the_catalogue_covers_the_issues():
    by_exercise = {}
    for k in workshop.MISTAKES:
        by_exercise.setdefault(k.exercise, []).append(k.name)
    for exercise in ("triangular", "triangular2", "exp_range", "one_cycle"):
        assert len(by_exercise[exercise]) >= 5, exercise
    for exercise in ("prediction", "step_size", "bounds"):
        assert len(by_exercise[exercise]) >= 3, exercise
    names = {(k.exercise, k.name) for k in workshop.MISTAKES}
    assert len(names) == len(workshop.MISTAKES)  # one entry per mistake
    for wanted in [
        # the first workshop issue's list
        ("triangular", "period-step-size"),
        ("triangular", "cycle-0-based"),
        ("triangular", "x-without-plus-1"),
        ("triangular2", "halving-per-iteration"),
        ("triangular2", "halving-fractional"),
        ("exp_range", "gamma-to-cycle"),
        ("exp_range", "gamma-whole-rate"),
        ("step_size", "examples"),
        ("step_size", "epochs"),
        ("one_cycle", "phases-swapped"),
        ("one_cycle", "final-is-start"),
        # the beginners' list (issue 40)
        ("triangular", "base-forgotten"),  # a rate that falls under base_lr
        ("exp_range", "gamma-times-i"),  # a decay factor multiplied instead of raised
        ("triangular2", "halving-at-the-peak"),  # halving at the wrong moment
        ("triangular", "counted-from-1"),  # an iteration counted from 1
        ("triangular", "step-size-is-the-cycle"),  # a cycle of the wrong length
        ("triangular", "x-for-1-minus-x"),
        ("triangular", "sign-in-x"),
        ("triangular", "no-floor"),
        ("exp_range", "linear-decay"),
        ("step_size", "keras-batch-32"),
        ("prediction", "percent"),
    ]:
        assert wanted in names, wanted


def test_docs_show_every_hint_to_instructors():
    from pathlib import Path

    text = Path(__file__).resolve().parents[1].joinpath("docs", "workshop.md").read_text()
    table = guide.catalogue_markdown()  # python scripts/build_workshop_notebooks.py writes it
    assert table in text
    n = len(workshop.MISTAKES)
    assert f"{n} of {n} catalogued mistakes get a hint that names what their values show" in table


def test_unrecognised_mistakes_get_the_general_hint_at_a_visible_case(capsys):
    def odd(i, b, m, s):  # right, except for a lower fourth cycle
        lower = 0.3 * (triangular(i, b, m, s) - b) if 6 * s <= i < 8 * s else 0.0
        return triangular(i, b, m, s) - lower

    assert not passes(workshop.check_triangular, odd)
    out = capsys.readouterr().out
    assert HINTS["general"] in out
    assert "At iteration 1 " not in out and "(the peak of cycle 4; " in out


# -- right answers in any form -----------------------------------------------------------------


def vectorised_triangular(i, b, m, s):
    i = np.asarray(i, dtype=float)
    cycle = np.floor(1 + i / (2 * s))
    return b + (m - b) * np.maximum(0, 1 - np.abs(i / s - 2 * cycle + 1))


@pytest.mark.parametrize(
    "form",
    [
        2000,
        2000.0,
        4 * 50_000 / 100,  # the issue's example: 2000.0
        np.int64(2000),
        np.int32(2000),
        np.float32(2000.0),
        np.float64(2000.0),
        np.array(2000),
        np.array([2000.0]),
        1000,
        5000.0,
    ],
    ids=repr,
)
def test_step_size_in_any_whole_form_passes(form):
    assert passes(workshop.check_step_size, form, train_examples=50_000, batch_size=100)


@pytest.mark.parametrize("bad", [2000.5, "2000", True, None, float("nan"), [2000, 3000]], ids=repr)
def test_step_size_not_whole_is_refused_by_name(bad, capsys):
    assert not passes(workshop.check_step_size, bad, train_examples=50_000, batch_size=100)
    assert "whole number" in capsys.readouterr().out


@pytest.mark.parametrize(
    "convert",
    [float, np.float32, np.float64, np.array, lambda v: np.array([v]), lambda v: np.float16(v)],
    ids=["float", "float32", "float64", "0-d array", "1-element array", "float16"],
)
def test_predictions_in_any_number_form_pass(convert):
    right = {0: 0.001, 2000: 0.006, 4000: 0.001, 6000: 0.0035, 10_000: 0.00225}
    assert passes(workshop.check_prediction, {k: convert(v) for k, v in right.items()}, **ASKED)
    keys = {np.int64(k): v for k, v in right.items()}  # numpy integer keys are iterations too
    assert passes(workshop.check_prediction, keys, **ASKED)


@pytest.mark.parametrize(
    "convert", [float, np.float32, np.float64, np.array], ids=["float", "f32", "f64", "0-d"]
)
def test_bounds_in_any_number_form_pass(convert):
    result = toy_range_test()
    assert passes(workshop.check_bounds, convert(0.003), convert(0.007), result)


def test_bounds_by_the_papers_third_to_quarter_rule_pass(capsys):
    result = toy_range_test()  # accuracy rule: base about 0.0026, max about 0.0074
    assert passes(workshop.check_bounds, 0.0015, 0.0074, result)  # base a fifth of max
    assert "1/3-1/4 rule" in capsys.readouterr().out


def test_bounds_are_judged_to_the_range_tests_own_resolution(capsys):
    """The committed CIFAR-10 test evaluates accuracy every 0.0005 of rate: max_lr within two
    evaluations of where the rise slows (0.0040), base_lr within one of where it starts (0.0005)
    and never the sweep's first reading; not anything within a factor of 2."""
    result = clr.RangeTestResult.load(
        Path(__file__).resolve().parents[1] / "results" / "paper" / "range_test.json"
    )
    s = result.suggest()
    assert s.resolution == pytest.approx(0.0005, rel=0.01)
    assert passes(workshop.check_bounds, 0.0006, 0.004, result)  # the solutions' reading
    assert passes(workshop.check_bounds, 0.0008, 0.0049, result)
    assert "within the test's resolution (0.0005)" in capsys.readouterr().out
    for base, top in ((0.0006, 0.002), (0.0006, 0.008), (0.0006, 0.0056), (0.002, 0.004),
                      (0.00001, 0.004)):  # fmt: skip
        assert not passes(workshop.check_bounds, base, top, result), (base, top)
    assert passes(workshop.check_bounds, 0.0012, 0.004, result)  # a third of max_lr


def test_vectorised_and_rounded_answers_pass():
    assert passes(workshop.check_triangular, vectorised_triangular)
    # Only floating-point rounding away from the reference: a relative 1e-9.
    assert passes(
        workshop.check_triangular2, lambda i, b, m, s: triangular2(i, b, m, s) * (1 + 1e-9)
    )
    assert passes(
        workshop.check_exp_range, lambda i, b, m, s, g: np.float32(exp_range(i, b, m, s, g))
    )


def test_an_answer_that_raises_is_reported_not_raised(capsys):
    assert not passes(workshop.check_triangular, lambda i, b, m, s: 1 / 0)
    assert "raised ZeroDivisionError: division by zero" in capsys.readouterr().out

    def stub(iteration, base_lr, max_lr, step_size):
        raise NotImplementedError

    assert not passes(workshop.check_triangular, stub)
    out = capsys.readouterr().out
    assert out.startswith("✗ stub is not answered yet") and "NotImplementedError:" not in out


def test_max_0_is_not_a_mistake_with_a_1_based_cycle():
    # x = |i/s - 2*cycle + 1| <= 1 always, so 1 - x never goes negative: both forms are right.
    assert passes(workshop.check_triangular, wrong_triangular(clip=False))


def test_prediction_step_size_and_bounds(capsys):
    asked = dict(
        iterations=(0, 2000, 4000, 6000, 10_000),
        base_lr=0.001,
        max_lr=0.006,
        step_size=2000,
        mode="triangular2",
    )
    right = {0: 0.001, 2000: 0.006, 4000: 0.001, 6000: 0.0035, 10_000: 0.00225}
    assert passes(workshop.check_prediction, right, **asked)
    assert not passes(workshop.check_prediction, {**right, 6000: 0.006}, **asked)
    out = capsys.readouterr().out
    assert "iteration 6000 (cycle 2, at a peak): too high" in out
    assert "0.0035" not in out  # a direction, never the value
    assert not passes(workshop.check_prediction, {**right, 10_000: 0.001}, **asked)
    assert "iteration 10000 (cycle 3, at a peak): too low" in capsys.readouterr().out
    assert not passes(workshop.check_prediction, {}, **asked)  # incomplete answers are refused
    assert "missing iterations [0, 2000, 4000, 6000, 10000]" in capsys.readouterr().out
    assert not passes(workshop.check_prediction, {0: 0.001}, **asked)
    assert not passes(workshop.check_prediction, [0.001], **asked)
    capsys.readouterr()
    assert passes(workshop.check_step_size, 2000, train_examples=50_000, batch_size=100)
    assert not passes(workshop.check_step_size, 200_000, train_examples=50_000, batch_size=100)
    assert "count examples instead of iterations" in capsys.readouterr().out
    assert not passes(workshop.check_step_size, 300, train_examples=50_000, batch_size=100)
    assert "under 2 epochs" in capsys.readouterr().out
    for bad in (0, -2000, 2000.5, "2000"):
        assert not passes(workshop.check_step_size, bad, train_examples=50_000, batch_size=100)
    assert capsys.readouterr().out.count("✗") == 4

    result = toy_range_test()
    assert passes(workshop.check_bounds, 0.003, 0.007, result)
    assert not passes(workshop.check_bounds, 0.0001, 0.007, result)
    assert "look further right" in capsys.readouterr().out
    assert not passes(workshop.check_bounds, 0.0, 0.0, result)
    assert "base_lr must be a learning rate read off the plot" in capsys.readouterr().out
    assert not passes(workshop.check_bounds, 0.003, 0.007, None)  # the result left out
    assert "`result` must be what clr.lr_range_test returned" in capsys.readouterr().out
    assert not passes(workshop.check_step_size, 10**100, train_examples=50_000, batch_size=100)
    assert "1e+100 iterations is 2e+97 epochs" in capsys.readouterr().out
    assert not passes(workshop.check_step_size, 500, train_examples=50_000, batch_size=100)
    assert "500 iterations is 1 epoch per half cycle" in capsys.readouterr().out
