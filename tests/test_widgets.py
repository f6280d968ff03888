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


def shown(widget) -> bool:
    return widget.layout.display != "none"


def test_a_mode_brings_its_gamma_with_one_redraw(explorer):
    assert not shown(explorer.gamma)  # shown only where it acts
    updates = []
    explorer.view.show = lambda picture, momenta, show=explorer.view.show: (
        updates.append(picture),
        show(picture, momenta),
    )
    explorer.mode.value = "exp_range"
    assert len(updates) == 1  # the gamma set by the mode does not redraw again
    assert shown(explorer.gamma) and explorer.gamma.value == pytest.approx(0.99994)
    explorer.gamma.value = 0.9999
    np.testing.assert_allclose(
        drawn(explorer), clr.cyclic_lr(np.arange(12_000), mode="exp_range", gamma=0.9999)
    )
    explorer.mode.value = "triangular"
    assert not shown(explorer.gamma)
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
    assert not shown(explorer.base_lr) and not shown(explorer.step_size)
    assert shown(explorer.pct_start) and shown(explorer.three_phase)
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
    assert "1cycle, three phases (the papers')" in explorer.mode_help.value or (
        explorer.view.line.get_label() == "this policy (1cycle)"
    )
    assert explorer.view.momentum_panel  # 1cycle's momentum moves: its panel is drawn
    assert "<b>Phases</b>" in explorer.formula.value


def test_clr_with_cyclical_momentum_and_back():
    explorer = PolicyExplorer(mode="triangular2", iterations=12_000)
    # Constant momentum takes no room: a line of text says what it is.
    assert not explorer.view.momentum_panel and not explorer.view.ax_m.get_visible()
    assert "momentum: constant 0.9" in explorer.summary.value
    size, rate_panel = explorer.figure.get_size_inches(), explorer.view.ax.get_position().height
    explorer.cycle_momentum.value = True
    assert explorer.view.momentum_panel and explorer.view.ax_m.get_visible()
    # The panel takes its room from the rate's: the canvas keeps its size (no resize in the
    # browser, a repaint), the rate's panel gives up a part.
    assert list(explorer.figure.get_size_inches()) == list(size)
    assert explorer.view.ax.get_position().height < 0.8 * rate_panel
    assert "momentum: constant" not in explorer.summary.value
    want = clr.cyclic_momentum(np.arange(12_000), 0.8, 0.9, step_size=2000, mode="triangular2")
    np.testing.assert_allclose(explorer.momentum, want)
    assert "ck.CyclicalMomentum(mode=&#x27;triangular2&#x27;)" in explorer.code.value
    explorer.mode.value = "one_cycle"  # the usual 1cycle momenta replace CLR's defaults
    assert (explorer.base_momentum.value, explorer.max_momentum.value) == (0.85, 0.95)
    explorer.mode.value = "triangular"
    assert not shown(explorer.pct_start)
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


def test_the_figure_takes_the_width_the_browser_reports():
    """The browser types "width height" into the hidden size widget; the figure follows, to
    the pixel (less ipympl's frame), and the rate axis writes its rates out."""
    explorer = PolicyExplorer(mode="triangular", iterations=12_000)
    explorer.size.value = "848 800"  # JupyterLab at 1280x800 with the file browser open
    assert explorer.figure.get_size_inches()[0] * explorer.figure.dpi == pytest.approx(836, abs=1)
    explorer.size.value = "1520 1080"
    width, height = explorer.figure.get_size_inches() * explorer.figure.dpi
    assert width == pytest.approx(1508, abs=1) and height <= 1080 - 300
    explorer.size.value = "not a size"  # ignored, never an error in the panel
    explorer.figure.canvas.draw()
    labels = [t.get_text() for t in explorer.view.ax.get_yticklabels() if t.get_text()]
    assert "0.006" in labels and not explorer.view.ax.yaxis.get_offset_text().get_text()


def test_controls_read_in_order_with_tooltips_and_the_mode_explained():
    from clr.explorer.panel import PRIMARY, TOOLTIPS

    explorer = PolicyExplorer(mode="triangular2")
    grid = [w.description for w in explorer._primary.children if w.layout.display != "none"]
    assert grid == ["base_lr", "max_lr", "step_size"]  # the bounds together, lower first
    assert list(PRIMARY[:3]) == ["base_lr", "max_lr", "step_size"]
    assert all(getattr(explorer, name).tooltip == TOOLTIPS[name] for name in TOOLTIPS)
    assert "halved after every cycle" in explorer.mode_help.value
    labels = [label for label, _ in explorer.mode.options]
    assert max(len(label) for label in labels) <= 18  # short: the dropdown never cuts them


def test_the_projector_view_hides_formula_and_code_until_asked():
    explorer = PolicyExplorer(mode="exp_range", base_lr=0.002, max_lr=0.01, step_size=1500,
                              projector=True)  # fmt: skip
    assert explorer.formula.layout.display == "none" and explorer.code.layout.display == "none"
    explorer.show_formula.value = True
    assert explorer.formula.layout.display == ""
    assert "clr-projector" in explorer.widget._dom_classes
    with pytest.raises(TypeError, match="`projector` must be True or False"):
        PolicyExplorer(projector="yes")


def test_compare_lists_only_what_it_draws():
    explorer = PolicyExplorer(mode="triangular2", compare=True)
    labels = [t.get_text() for t in explorer.view.legend.get_texts()]
    assert "this policy (triangular2)" in labels
    assert "triangular2" not in labels  # its own line is "this policy", listed once
    assert {"triangular", "exp_range", "exp_range_bounds"} <= set(labels)
