"""The explorer's settings on their own: control values to a validated policy, its curves and
texts, or a message naming the control (no ipywidgets, no matplotlib)."""

import subprocess
import sys

import numpy as np
import pytest

import clr
from clr._describe import policy_code
from clr.explorer import ExplorerSettings, Picture


def picture(**values) -> Picture:
    result = ExplorerSettings(**values).picture()
    assert isinstance(result, Picture), result
    return result


@pytest.mark.parametrize(
    "values, expected",
    [
        (dict(base_lr=0.0002), dict(base_lr=0.0002)),
        (dict(max_lr=0.02), dict(max_lr=0.02)),
        (dict(step_size=1500), dict(step_size=1500)),
        (dict(mode="triangular2"), dict(mode="triangular2")),
        (dict(mode="exp_range", gamma=0.99994), dict(mode="exp_range", gamma=0.99994)),
        (dict(mode="exp_range_bounds", gamma=0.9999), dict(mode="exp_range_bounds", gamma=0.9999)),
        (dict(mode="sine_cycle"), dict(scale_fn=clr.SineScale(), scale_mode="cycle")),
        (dict(mode="exp_iterations", gamma=0.999839),
         dict(scale_fn=clr.ExpScale(0.999839), scale_mode="iterations")),
        (dict(asymmetric=True, step_size_down=3000), dict(step_size_down=3000)),
        (dict(asymmetric=False, step_size_down=3000), dict()),  # off: ignored
        (dict(gamma=0.9), dict()),  # gamma only where it applies
    ],
)  # fmt: skip
def test_each_control_makes_its_policy(values, expected):
    p = picture(iterations=12_000, **values)
    assert p.policy == clr.CyclicPolicy(**expected)
    np.testing.assert_allclose(p.lr, clr.cyclic_lr(np.arange(12_000), **expected), rtol=1e-12)


def test_rates_are_rounded_like_their_readouts():
    p = picture(base_lr=0.00123456789)
    assert p.policy.base_lr == 0.001235 and "base_lr=0.001235" in p.code


def test_invalid_settings_give_a_message_naming_the_control_moved():
    settings = ExplorerSettings(base_lr=0.05)
    assert settings.picture("base_lr") == (
        "`base_lr` must be <= `max_lr` (0.006). Received: base_lr=0.05"
    )
    assert settings.picture("max_lr").startswith("`max_lr` must be >= `base_lr`")
    momenta = ExplorerSettings(cycle_momentum=True, base_momentum=0.95, max_momentum=0.9)
    assert momenta.picture("base_momentum").startswith("`base_momentum` must be <= `max_momentum`")
    # Types and whole iterations are checked at construction: no slider can produce them.
    with pytest.raises(ValueError, match=r"`step_size` must be an integer >= 1"):
        ExplorerSettings(step_size=0)
    with pytest.raises(TypeError, match=r"`gamma` must be a number"):
        ExplorerSettings(gamma=None)


def test_choosing_a_mode_brings_its_usual_values():
    s = ExplorerSettings().with_mode("exp_range")
    assert s.gamma == 0.99994 and s.mode == "exp_range"
    assert ExplorerSettings(gamma=0.9995).with_mode("exp_range").gamma == 0.9995  # chosen: kept
    s = ExplorerSettings().with_mode("one_cycle")
    assert (s.base_momentum, s.max_momentum) == (0.85, 0.95)
    assert (s.with_mode("triangular").base_momentum, s.with_mode("triangular").max_momentum) == (
        0.8,
        0.9,
    )
    custom = ExplorerSettings(base_momentum=0.7, max_momentum=0.99).with_mode("one_cycle")
    assert (custom.base_momentum, custom.max_momentum) == (0.7, 0.99)
    with pytest.raises(ValueError, match=r"`mode` must be one of"):
        ExplorerSettings(mode="cosine")


def test_marks_follow_the_policy():
    p = picture(mode="triangular2", iterations=12_000)
    assert list(p.peaks[0]) == [2000]  # max_lr is reached in the first cycle only
    p = picture(iterations=12_000)
    assert list(p.peaks[0]) == [2000, 6000, 10000] and list(p.boundaries) == [4000, 8000]
    assert p.title == "triangular" and p.boundary_label == "cycle boundary"
    assert "max_lr reached 3 times" in p.notes and "cycles shown: 3" in p.notes
    assert picture(step_size=1, iterations=1000).boundaries.size == 0  # 500 lines: a grey wash


def test_compare_gives_every_builtin():
    p = picture(compare=True, iterations=12_000)
    assert set(p.compare) == set(clr.MODES) - {"triangular"}  # its own is "this policy"
    for mode, curve in p.compare.items():
        gamma = 0.99994 if mode in clr.EXP_MODES else 1.0
        np.testing.assert_allclose(curve, clr.cyclic_lr(np.arange(12_000), mode=mode, gamma=gamma))
    assert picture().compare == {}


def test_momentum_constant_or_cycled():
    p = picture(mode="triangular2", iterations=12_000)
    assert p.momentum is None and p.momentum_title.startswith("momentum: constant 0.9")
    p = picture(mode="triangular2", iterations=12_000, cycle_momentum=True)
    want = clr.cyclic_momentum(np.arange(12_000), 0.8, 0.9, step_size=2000, mode="triangular2")
    np.testing.assert_allclose(p.momentum, want)
    assert "ck.CyclicalMomentum(mode='triangular2')" in p.code


def test_one_cycle_picture():
    s = ExplorerSettings(mode="one_cycle", max_lr=0.01, iterations=10_000).with_mode("one_cycle")
    p = s.picture()
    it = np.arange(10_000)
    np.testing.assert_allclose(p.lr, clr.one_cycle(it, 0.01, 10_000))
    np.testing.assert_allclose(p.momentum, clr.one_cycle_momentum(it, 10_000))
    s = ExplorerSettings(
        mode="one_cycle",
        max_lr=0.01,
        iterations=10_000,
        three_phase=True,
        anneal_strategy="linear",
        pct_start=0.45,
    ).with_mode("one_cycle")
    p = s.picture()
    assert p.title == "1cycle, three phases (the papers')"
    assert (
        list(p.boundaries) == pytest.approx([4499, 8998]) and p.boundary_label == "phase boundary"
    )
    assert (
        "ck.OneCycle(max_lr=0.01, total_steps=10000, pct_start=0.45, anneal_strategy='linear', "
        "three_phase=True)" in p.code
    )
    assert p.peak_prefix == "peak" and p.notes.startswith(" at iteration 4,499")


def test_code_rebuilds_the_same_policy():
    p = picture(mode="exp_iterations", step_size=700, gamma=0.999839)
    namespace = {"clr": clr, "CyclicLR": lambda **kw: clr.CyclicPolicy(**kw)}
    assert eval(policy_code(p.policy, "CyclicLR"), namespace) == p.policy
    assert "0.999839**i" in p.formula


def test_the_settings_need_neither_widgets_nor_matplotlib():
    code = (
        "import sys; import clr.explorer.settings; "
        "print(sorted({'ipywidgets', 'matplotlib', 'ipympl', 'keras'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
