"""The workshop's checks: correct answers pass, the common wrong ones are caught with a hint."""

import math

import numpy as np
import pytest

import clr
from clr import workshop


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
    assert passes(workshop.check_triangular, lambda i, b, m, s: clr.cyclic_lr(i, b, m, s))  # numpy answers too
    out = capsys.readouterr().out
    assert out.count("✓") == 4 and "✗" not in out


def wrong_triangular(cycle_shift=1, use_abs=True, clip=True, period=2, swap=False):
    def fn(i, b, m, s):
        if swap:
            b, m = m, b
        cycle = math.floor(cycle_shift + i / (period * s))
        x = i / s - 2 * cycle + 1
        x = abs(x) if use_abs else x
        return b + (m - b) * (max(0, 1 - x) if clip else 1 - x)

    return fn


@pytest.mark.parametrize(
    "answer, hint",
    [
        (wrong_triangular(cycle_shift=0), "cycle looks 0-based"),
        (wrong_triangular(use_abs=False), "absolute value is missing"),
        (wrong_triangular(period=1), "step_size as the whole cycle"),
        (wrong_triangular(swap=True), "base_lr and max_lr look swapped"),
    ],
)
def test_common_triangular_mistakes_are_named(answer, hint, capsys):
    assert not passes(workshop.check_triangular, answer)
    out = capsys.readouterr().out
    assert "✗ At iteration" in out and "expected" in out and "got" in out
    assert hint in out
    assert "floor" not in out and "abs(" not in out  # the hint never gives the formula away


def test_common_triangular2_and_exp_range_mistakes(capsys):
    def halving_off_by_one(i, b, m, s):
        cycle = math.floor(1 + i / (2 * s))
        return b + (triangular(i, b, m, s) - b) / 2**cycle

    def gamma_on_cycle(i, b, m, s, g):
        return b + (triangular(i, b, m, s) - b) * g ** math.floor(1 + i / (2 * s))

    def decays_everything(i, b, m, s, g):
        return triangular(i, b, m, s) * g**i

    assert not passes(workshop.check_triangular2, halving_off_by_one)
    assert "off by one cycle" in capsys.readouterr().out
    assert not passes(workshop.check_exp_range, gamma_on_cycle)
    assert "raised to the cycle number" in capsys.readouterr().out
    assert not passes(workshop.check_exp_range, decays_everything)
    assert "only the height above base_lr" in capsys.readouterr().out


def test_an_answer_that_raises_is_reported_not_raised(capsys):
    assert not passes(workshop.check_triangular, lambda i, b, m, s: 1 / 0)
    assert "raised ZeroDivisionError" in capsys.readouterr().out


def test_max_0_is_not_a_mistake_with_a_1_based_cycle():
    # x = |i/s - 2*cycle + 1| <= 1 always, so 1 - x never goes negative: both forms are right.
    assert passes(workshop.check_triangular, wrong_triangular(clip=False))


def test_unrecognised_mistakes_still_say_where(capsys):
    assert not passes(workshop.check_triangular, lambda i, b, m, s: m)
    out = capsys.readouterr().out
    assert "At iteration 0 (base_lr=0.001, max_lr=0.006, step_size=2000): expected 0.001, got 0.006" in out
    assert "compare your value with the curve" in out


def test_prediction_step_size_and_bounds(capsys):
    assert passes(workshop.check_prediction, {0: 0.001, 2000: 0.006, 3000: 0.0035}, base_lr=0.001, max_lr=0.006, step_size=2000)
    assert not passes(workshop.check_prediction, {6000: 0.006}, base_lr=0.001, max_lr=0.006, step_size=2000, mode="triangular2")
    assert "you predicted 0.006; the triangular2 policy gives 0.0035" in capsys.readouterr().out
    assert passes(workshop.check_step_size, 2000, train_examples=50_000, batch_size=100)
    assert not passes(workshop.check_step_size, 200_000, train_examples=50_000, batch_size=100)
    assert "count examples instead of iterations" in capsys.readouterr().out
    assert not passes(workshop.check_step_size, 300, train_examples=50_000, batch_size=100)
    assert "under 2 epochs" in capsys.readouterr().out

    from clr._range_test import smooth_losses

    lr = np.linspace(0.0001, 0.02, 400)
    acc = np.interp(lr, [0, 0.002, 0.008, 0.02], [0.1, 0.1, 0.7, 0.7])
    loss = 2.3 - acc
    result = clr.RangeTestResult(lr, loss, smooth_losses(loss, 0.0), acc, np.array([], int), np.array([]), None, "linear", 0.0001, 0.02, 400)
    assert passes(workshop.check_bounds, 0.003, 0.007, result)
    assert not passes(workshop.check_bounds, 0.0001, 0.007, result)
    assert "look further right" in capsys.readouterr().out
