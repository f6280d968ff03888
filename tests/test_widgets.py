"""The explorer's panel: ipywidgets controls wired to the settings and the view, driven as a
notebook user would (the settings and the view are tested on their own beside this)."""

import numpy as np
import pytest

pytest.importorskip("ipympl")

from conftest import toy_range_test  # noqa: E402

import clr  # noqa: E402
from clr.widgets import PolicyExplorer  # noqa: E402


@pytest.fixture
def explorer():
    return PolicyExplorer(iterations=12_000)


def drawn(explorer):
    """The drawn curve's envelope must be the policy's (the view decimates it)."""
    y = np.asarray(explorer.view.line.get_ydata())
    x = np.asarray(explorer.view.line.get_xdata()).astype(int)
    np.testing.assert_array_equal(y, explorer.lr[x])
    return explorer.lr


def test_initial_curve_is_the_seed_default(explorer):
    np.testing.assert_allclose(drawn(explorer), clr.cyclic_lr(np.arange(12_000)))
    assert explorer.message.value == ""
    assert 'clr-last-lr">0.00100' in explorer.summary.value
    assert 'clr-peak-lr">0.006' in explorer.summary.value


@pytest.mark.parametrize(
    "control, value, expected",
    [
        ("base_lr", 0.0002, dict(base_lr=0.0002)),
        ("max_lr", 0.02, dict(max_lr=0.02)),
        ("step_size", 1500, dict(step_size=1500)),
        ("mode", "triangular2", dict(mode="triangular2")),
        ("mode", "exp_range", dict(mode="exp_range", gamma=0.99994)),
        ("mode", "exp_range_bounds", dict(mode="exp_range_bounds", gamma=0.99994)),
        ("mode", "sine_cycle", dict(scale_fn=clr.SineScale(), scale_mode="cycle")),
        ("mode", "exp_iterations", dict(scale_fn=clr.ExpScale(0.999839), scale_mode="iterations")),
    ],
)
def test_each_control_redraws_the_curve(explorer, control, value, expected):
    line_before = explorer.view.line
    getattr(explorer, control).value = value
    np.testing.assert_allclose(
        drawn(explorer), clr.cyclic_lr(np.arange(12_000), **expected), rtol=1e-12
    )
    assert explorer.view.line is line_before  # updated in place, never re-created
    assert explorer.policy == clr.CyclicPolicy(**expected)


def test_a_mode_brings_its_gamma_with_one_redraw(explorer):
    assert explorer.gamma.disabled
    updates = []
    explorer.view.show = lambda picture, momenta, show=explorer.view.show: (
        updates.append(picture),
        show(picture, momenta),
    )
    explorer.mode.value = "exp_range"
    assert len(updates) == 1  # the gamma set by the mode does not redraw again
    assert not explorer.gamma.disabled and explorer.gamma.value == pytest.approx(0.99994)
    explorer.gamma.value = 0.9999
    np.testing.assert_allclose(
        drawn(explorer), clr.cyclic_lr(np.arange(12_000), mode="exp_range", gamma=0.9999)
    )
    explorer.mode.value = "triangular"
    assert explorer.gamma.disabled
    np.testing.assert_allclose(drawn(explorer), clr.cyclic_lr(np.arange(12_000)))


def test_invalid_settings_show_a_message_and_keep_the_last_curve(explorer):
    before = drawn(explorer).copy()
    explorer.max_lr.value = 0.0005  # below base_lr
    assert "`max_lr` must be &gt;= `base_lr`" in explorer.message.value
    np.testing.assert_array_equal(drawn(explorer), before)
    explorer.max_lr.value = 0.004  # valid again: message gone, curve follows
    assert explorer.message.value == ""
    np.testing.assert_allclose(drawn(explorer), clr.cyclic_lr(np.arange(12_000), max_lr=0.004))


def test_the_error_names_the_control_that_was_moved():
    explorer = PolicyExplorer()
    explorer.base_lr.value = 0.05  # above max_lr 0.006: the person moved base_lr
    assert (
        "`base_lr` must be &lt;= `max_lr` (0.006). Received: base_lr=0.05" in explorer.message.value
    )
    explorer.base_lr.value = 0.001
    assert explorer.message.value == ""
    explorer.max_lr.value = 0.0005  # now max_lr was moved: the check's own words
    assert "`max_lr` must be &gt;= `base_lr`" in explorer.message.value


def test_asymmetric_cycle_and_iterations(explorer):
    explorer.asymmetric.value = True
    explorer.step_size_down.value = 3000
    explorer.iterations.value = 30_000
    np.testing.assert_allclose(
        drawn(explorer), clr.cyclic_lr(np.arange(30_000), step_size_down=3000)
    )
    assert explorer.view.ax.get_xlim() == (0, 30_000)


def test_every_control_has_a_css_class(explorer):
    for name in (*explorer.controls, "message", "summary", "formula", "code"):
        assert f"clr-{name.replace('_', '-')}" in getattr(explorer, name)._dom_classes
    assert "clr-figure" in explorer.figure.canvas._dom_classes


def test_unknown_initial_mode_is_refused():
    with pytest.raises(ValueError, match=r"`mode` must be one of"):
        PolicyExplorer(mode="cosine")


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(base_lr="0.001"), TypeError, r"`base_lr` must be a number"),
        (dict(base_lr=-1.0), ValueError, r"`base_lr` must be a finite number > 0"),
        (dict(max_lr=float("nan")), ValueError, r"`max_lr` must be a finite number > 0"),
        (dict(step_size=2.5), ValueError, r"`step_size` must be a whole number >= 1"),
        (dict(step_size_down=0), ValueError, r"`step_size_down` must be an integer >= 1"),
        (dict(iterations=10**9), ValueError, r"`iterations` must be an integer in \[2, 1000000\]"),
        (dict(mode="exp_range", gamma=2.0), ValueError, r"`gamma` must be a finite number in"),
        (dict(base_lr=0.01, max_lr=0.006), ValueError, r"`max_lr` must be >= `base_lr`"),
    ],
)
def test_invalid_initial_arguments_are_refused_naming_them(kwargs, error, message):
    with pytest.raises(error, match=message):
        PolicyExplorer(**kwargs)


def test_sliders_widen_to_show_the_value_given_rather_than_clamp_it():
    explorer = PolicyExplorer(base_lr=1e-9, max_lr=50.0, step_size=100_000, iterations=400_000)
    assert explorer.base_lr.value == pytest.approx(1e-9)
    assert explorer.max_lr.value == pytest.approx(50.0)
    assert (explorer.step_size.value, explorer.iterations.value) == (100_000, 400_000)
    assert explorer.policy == clr.CyclicPolicy(base_lr=1e-9, max_lr=50.0, step_size=100_000)


def test_importing_the_explorer_keeps_the_users_matplotlib_backend():
    import subprocess
    import sys

    code = (
        "import matplotlib; matplotlib.use('svg'); import matplotlib.pyplot as plt; "
        "import clr.widgets; print(matplotlib.get_backend())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "svg"


def test_static_fallback_for_readers_without_a_kernel(explorer):
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle  # the live widget first
    assert 'src="data:image/png;base64,' in bundle["text/html"]
    assert "CyclicLR(base_lr=0.001, max_lr=0.006, step_size=2000)" in bundle["text/html"]
    assert bundle["text/plain"].startswith("PolicyExplorer(CyclicPolicy(base_lr=0.001")


def test_one_cycle_mode_swaps_the_controls_and_draws_the_momentum():
    import html

    explorer = PolicyExplorer(mode="one_cycle", max_lr=0.01, iterations=10_000)
    it = np.arange(10_000)
    assert explorer._cyclic.layout.display == "none" and explorer._one_cycle.layout.display == ""
    assert explorer.iterations.description == "total_steps"
    np.testing.assert_allclose(drawn(explorer), clr.one_cycle(it, 0.01, 10_000))
    np.testing.assert_allclose(explorer.momentum, clr.one_cycle_momentum(it, 10_000))
    explorer.three_phase.value = True
    explorer.anneal_strategy.value = "linear"
    explorer.pct_start.value = 0.45
    want = clr.one_cycle(
        it, 0.01, 10_000, pct_start=0.45, anneal_strategy="linear", three_phase=True
    )
    np.testing.assert_allclose(drawn(explorer), want)
    code = html.unescape(explorer.code.value)
    assert "ck.OneCycleMomentum(total_steps=10000, pct_start=0.45" in code
    assert explorer.view.ax.get_title() == "1cycle, three phases (the papers')"
    assert "<b>Phases</b>" in explorer.formula.value


def test_clr_with_cyclical_momentum_and_back():
    explorer = PolicyExplorer(mode="triangular2", iterations=12_000)
    np.testing.assert_allclose(explorer.view.momentum_line.get_ydata(), 0.9)  # constant
    explorer.cycle_momentum.value = True
    want = clr.cyclic_momentum(np.arange(12_000), 0.8, 0.9, step_size=2000, mode="triangular2")
    np.testing.assert_allclose(explorer.momentum, want)
    assert "ck.CyclicalMomentum(mode=&#x27;triangular2&#x27;)" in explorer.code.value
    explorer.mode.value = "one_cycle"  # the usual 1cycle momenta replace CLR's defaults
    assert (explorer.base_momentum.value, explorer.max_momentum.value) == (0.85, 0.95)
    explorer.mode.value = "triangular"
    assert explorer._one_cycle.layout.display == "none"
    assert (explorer.base_momentum.value, explorer.max_momentum.value) == (0.8, 0.9)


def test_with_a_browser_a_press_that_keeps_the_axes_repaints_only(explorer):
    canvas = explorer.figure.canvas
    canvas.syncing_data_url = False  # what ipympl sets once a browser shows the canvas
    images = []
    canvas.send_binary = images.append
    explorer.max_lr.value = 0.0061  # the first update with a browser draws everything
    explorer.iterations.value = 12_100  # past the x axis' top (12,000): a new top, 15,000
    for mode in ("triangular2", "triangular"):  # each mode's title and legend drawn once
        explorer.mode.value = mode
    explorer.compare.value = True
    explorer.compare.value = False
    draws, images = explorer.view.blitter.full_draws, []
    canvas.send_binary = images.append
    presses = [("base_lr", 0.002), ("max_lr", 0.0062), ("mode", "triangular2"),
               ("iterations", 12_000), ("mode", "triangular"), ("compare", True)]  # fmt: skip
    for control, value in presses:
        getattr(explorer, control).value = value
    assert explorer.view.blitter.full_draws == draws and len(images) == 6
    explorer.max_lr.value = 0.009  # a new axis top, new tick labels: a full draw
    assert explorer.view.blitter.full_draws == draws + 1 and len(images) == 7


def test_without_a_browser_the_explorer_only_asks_for_a_draw(explorer):
    # An image sent before any view exists is lost, and JupyterLab then showed no figure at all.
    sent = []
    explorer.figure.canvas.send_binary = sent.append
    explorer.base_lr.value = 0.002
    assert sent == []


def test_bounds_picker_moves_the_chosen_range_on_the_kept_plot():
    from clr.widgets import BoundsPicker

    result = toy_range_test(
        loss=lambda lr: np.interp(lr, [0, 0.002, 0.008, 0.014, 0.02], [2.3, 2.3, 1.0, 0.9, 3.0])
    )
    picker = BoundsPicker(result)
    s = result.suggest()
    assert picker.bounds == (float(f"{s.base_lr:.4g}"), float(f"{s.max_lr:.4g}"))
    canvas = picker.figure.canvas
    canvas.syncing_data_url, images = False, []
    canvas.send_binary = images.append
    picker.base_lr.value, picker.max_lr.value = 0.001, 0.006
    draws = picker._blitter.full_draws
    picker.max_lr.value = 0.007
    assert picker._blitter.full_draws == draws and len(images) == 3  # repainted, not redrawn
    assert picker.bounds == (0.001, 0.007)
    assert picker._span.get_x() == pytest.approx(0.001)
    assert picker._span.get_width() == pytest.approx(0.006)
    assert "CyclicLR(base_lr=0.001, max_lr=0.007, step_size=2000)" in picker.code.value
    picker.max_lr.value = 0.0005  # below base_lr: refused, bounds kept
    assert "Not taken" in picker.message.value and picker.bounds == (0.001, 0.007)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"result": None}, TypeError, r"`result` must be what clr.lr_range_test returned"),
        ({"step_size": 0}, ValueError, r"`step_size` must be"),
        ({"step_size": 2000.5}, ValueError, r"`step_size` must be"),
        # The slider clamped these to its ends without a word.
        ({"base_lr": 5.0}, ValueError, r"`base_lr` must be a finite number in \[.*, 0\.02\]"),
        ({"max_lr": -1.0}, ValueError, r"`max_lr` must be a finite number in"),
        ({"base_lr": float("nan")}, ValueError, r"`base_lr` must be a finite number"),
        ({"base_lr": 0.01, "max_lr": 0.005}, ValueError, r"`base_lr` must be < `max_lr`"),
    ],
    ids=repr,
)
def test_bounds_picker_refuses_what_its_sliders_would_clamp(kwargs, error, message):
    from clr.widgets import BoundsPicker

    kwargs = {"result": toy_range_test(), **kwargs}
    with pytest.raises(error, match=message):
        BoundsPicker(**kwargs)
