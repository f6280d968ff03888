"""A policy as text (clr._describe): works without ipywidgets, and says what the curve does."""

import math

import numpy as np
import pytest

import clr
from clr._describe import policy_code, policy_formula

BUILT_INS = [
    (clr.ConstantScale(), "cycle", "* 1"),
    (clr.HalvingScale(), "cycle", "* 1 / 2**(cycle - 1)"),
    (clr.ExpScale(0.9995), "iterations", "* 0.9995**i"),
    (clr.SineScale(), "cycle", "* 0.5*(1 + sin(cycle*pi/2))"),
    (clr.ExpScale(0.5), "cycle", "* 0.5**cycle"),
]


@pytest.mark.parametrize("scale_fn, scale_mode, text", BUILT_INS, ids=lambda v: repr(v)[:20])
def test_every_built_in_scale_passed_as_scale_fn_describes_itself(scale_fn, scale_mode, text):
    policy = clr.CyclicPolicy(0.001, 0.006, 10, scale_fn=scale_fn, scale_mode=scale_mode)
    formula = policy_formula(policy)
    assert formula.splitlines()[-1].endswith(text), formula
    # The text computes what the policy computes (evaluated at a few iterations).
    on = "cycle" if scale_mode == "cycle" else "i"
    for i in (0, 5, 10, 25, 47):
        cycle = math.floor(1 + i / 20)
        value = eval(
            scale_fn.formula(on).replace("**", "**"),
            {"sin": math.sin, "pi": math.pi, "cycle": cycle, "i": i},
        )
        np.testing.assert_allclose(
            value, scale_fn(np.float64(cycle if on == "cycle" else i)), rtol=1e-6
        )


def test_modes_read_as_their_scale():
    assert policy_formula(clr.CyclicPolicy(mode="triangular2")).endswith("* 1 / 2**(cycle - 1)")
    assert policy_formula(clr.CyclicPolicy(mode="exp_range", gamma=0.99994)).endswith(
        "* 0.99994**i"
    )
    assert policy_formula(clr.CyclicPolicy()).endswith("* 1")


def test_a_custom_function_is_named_not_misdescribed():
    def my_scale(x):
        return np.ones_like(x)

    assert policy_formula(clr.CyclicPolicy(scale_fn=my_scale)).endswith("* my_scale(cycle)")


def test_code_rebuilds_the_policy():
    policy = clr.CyclicPolicy(0.002, 0.01, 500, scale_fn=clr.HalvingScale(), step_size_down=300)
    rebuilt = eval(policy_code(policy, "clr.CyclicPolicy"), {"clr": clr})
    assert rebuilt == policy


def test_describing_needs_no_widgets():
    import subprocess
    import sys

    code = (
        "import sys, clr._describe as d, clr; d.policy_formula(clr.CyclicPolicy()); "
        "print('ipywidgets' in sys.modules)"
    )
    assert (
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.strip()
        == "False"
    )
