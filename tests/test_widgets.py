"""The policy explorer, driven through its controls as a notebook user would."""

import numpy as np
import pytest

pytest.importorskip("ipympl")

from conftest import toy_range_test  # noqa: E402

import clr  # noqa: E402
from clr._describe import policy_code, policy_formula  # noqa: E402
from clr.widgets import PolicyExplorer  # noqa: E402


@pytest.fixture
def explorer():
    return PolicyExplorer(iterations=12_000)


def drawn(explorer):
    return np.asarray(explorer._line.get_ydata())


def test_initial_curve_is_the_seed_default(explorer):
    np.testing.assert_allclose(drawn(explorer), clr.cyclic_lr(np.arange(12_000)))
    assert explorer.message.value == ""
    assert 'clr-last-lr">0.00100' in explorer.summary.value


@pytest.mark.parametrize(
    "control, value, expected",
    [
        ("base_lr", 0.0002, dict(base_lr=0.0002)),
        ("max_lr", 0.02, dict(max_lr=0.02)),
        ("step_size", 1500, dict(step_size=1500)),
        ("mode", "triangular2", dict(mode="triangular2")),
        ("mode", "exp_range", dict(mode="exp_range", gamma=0.99994)),
        ("mode", "sine_cycle", dict(scale_fn=clr.SineScale(), scale_mode="cycle")),
        ("mode", "exp_iterations", dict(scale_fn=clr.ExpScale(0.999839), scale_mode="iterations")),
    ],
)
def test_each_control_redraws_the_curve(explorer, control, value, expected):
    line_before = explorer._line
    getattr(explorer, control).value = value
    np.testing.assert_allclose(
        drawn(explorer), clr.cyclic_lr(np.arange(12_000), **expected), rtol=1e-12
    )
    assert explorer._line is line_before  # updated in place, never re-created
    assert explorer.policy == clr.CyclicPolicy(**expected)


def test_gamma_is_active_only_where_it_applies(explorer):
    assert explorer.gamma.disabled
    explorer.mode.value = "exp_range"
    assert not explorer.gamma.disabled and explorer.gamma.value == pytest.approx(0.99994)
    explorer.gamma.value = 0.9999
    np.testing.assert_allclose(
        drawn(explorer), clr.cyclic_lr(np.arange(12_000), mode="exp_range", gamma=0.9999)
    )
    explorer.mode.value = "triangular"
    assert explorer.gamma.disabled
    np.testing.assert_allclose(drawn(explorer), clr.cyclic_lr(np.arange(12_000)))


def test_rates_are_rounded_like_their_readouts(explorer):
    explorer.base_lr.value = 0.00123456789
    assert explorer.policy.base_lr == 0.001235
    assert "base_lr=0.001235" in explorer.code.value


def test_invalid_settings_show_a_message_and_keep_the_last_curve(explorer):
    before = drawn(explorer).copy()
    explorer.max_lr.value = 0.0005  # below base_lr
    assert "`max_lr` must be &gt;= `base_lr`" in explorer.message.value
    np.testing.assert_array_equal(drawn(explorer), before)
    explorer.max_lr.value = 0.004  # valid again: message gone, curve follows
    assert explorer.message.value == ""
    np.testing.assert_allclose(drawn(explorer), clr.cyclic_lr(np.arange(12_000), max_lr=0.004))


def test_asymmetric_cycle_and_iterations(explorer):
    explorer.asymmetric.value = True
    explorer.step_size_down.value = 3000
    explorer.iterations.value = 30_000
    np.testing.assert_allclose(
        drawn(explorer), clr.cyclic_lr(np.arange(30_000), step_size_down=3000)
    )
    assert explorer._ax.get_xlim() == (0, 30_000)


def test_annotations_follow_the_policy(explorer):
    explorer.mode.value = "triangular2"
    peaks_x, _ = explorer._peaks.get_data()
    assert list(peaks_x) == [2000]  # max_lr is reached in the first cycle only
    explorer.mode.value = "triangular"
    assert list(explorer._peaks.get_data()[0]) == [2000, 6000, 10000]
    bounds_x = np.asarray(explorer._bounds.get_data()[0])
    assert sorted(set(bounds_x[~np.isnan(bounds_x)])) == [4000, 8000]
    assert explorer._last_text.get_text() == f"lr(11,999) = {clr.cyclic_lr(11_999):.6g}"


def test_compare_overlays_every_builtin(explorer):
    explorer.compare.value = True
    assert set(explorer._compare_lines) == set(clr.MODES)
    for mode, line in explorer._compare_lines.items():
        gamma = 0.99994 if mode in clr.EXP_MODES else 1.0
        np.testing.assert_allclose(
            line.get_ydata(), clr.cyclic_lr(np.arange(12_000), mode=mode, gamma=gamma)
        )
    explorer.compare.value = False
    assert all(len(line.get_ydata()) == 0 for line in explorer._compare_lines.values())


def test_code_line_rebuilds_the_same_policy(explorer):
    explorer.mode.value = "exp_iterations"
    explorer.step_size.value = 700
    namespace = {"clr": clr, "CyclicLR": lambda **kw: clr.CyclicPolicy(**kw)}
    rebuilt = eval(policy_code(explorer.policy, "CyclicLR"), namespace)
    assert rebuilt == explorer.policy
    assert "0.999839**i" in policy_formula(explorer.policy)


def test_every_control_has_a_css_class(explorer):
    for name in (
        "base_lr",
        "max_lr",
        "step_size",
        "gamma",
        "mode",
        "iterations",
        "step_size_down",
        "compare",
        "message",
        "summary",
        "code",
    ):
        assert f"clr-{name.replace('_', '-')}" in getattr(explorer, name)._dom_classes
    assert "clr-figure" in explorer.figure.canvas._dom_classes


def test_unknown_initial_mode_is_refused():
    with pytest.raises(ValueError, match=r"`mode` must be one of"):
        PolicyExplorer(mode="cosine")


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


def test_bounds_picker_moves_the_chosen_range():
    from clr.widgets import BoundsPicker

    result = toy_range_test(
        loss=lambda lr: np.interp(lr, [0, 0.002, 0.008, 0.014, 0.02], [2.3, 2.3, 1.0, 0.9, 3.0])
    )
    picker = BoundsPicker(result)
    s = result.suggest()
    assert picker.bounds == (
        float(f"{s.base_lr:.4g}"),
        float(f"{s.max_lr:.4g}"),
    )  # starts at the paper's rule
    picker.base_lr.value, picker.max_lr.value = 0.001, 0.006
    assert picker.bounds == (0.001, 0.006)
    assert picker._span.get_x() == pytest.approx(
        0.001
    ) and picker._span.get_width() == pytest.approx(0.005)
    assert "CyclicLR(base_lr=0.001, max_lr=0.006, step_size=2000)" in picker.code.value
    picker.max_lr.value = 0.0005  # below base_lr: refused, bounds kept
    assert "Not taken" in picker.message.value and picker.bounds == (0.001, 0.006)


def test_one_cycle_mode_draws_the_rate_and_the_momentum_under_it():
    import html

    explorer = PolicyExplorer(mode="one_cycle", max_lr=0.01, iterations=10_000)
    it = np.arange(10_000)
    assert (
        explorer._cyclic_group.layout.display == "none"
        and explorer._one_cycle_group.layout.display == ""
    )
    assert explorer.iterations.description == "total_steps"
    np.testing.assert_allclose(drawn(explorer), clr.one_cycle(it, 0.01, 10_000))
    np.testing.assert_allclose(
        explorer._momentum_line.get_ydata(), clr.one_cycle_momentum(it, 10_000)
    )
    explorer.three_phase.value = True
    explorer.anneal_strategy.value = "linear"
    explorer.pct_start.value = 0.45
    want = clr.one_cycle(
        it, 0.01, 10_000, pct_start=0.45, anneal_strategy="linear", three_phase=True
    )
    np.testing.assert_allclose(drawn(explorer), want)
    code = html.unescape(explorer.code.value)
    assert (
        "ck.OneCycle(max_lr=0.01, total_steps=10000, pct_start=0.45, anneal_strategy='linear', "
        "three_phase=True)" in code
    )
    assert "ck.OneCycleMomentum(total_steps=10000, pct_start=0.45" in code
    assert "1cycle, three phases (the papers')" == explorer._ax.get_title()
    assert list(explorer._bounds.get_data()[0][::3]) == pytest.approx([4499, 8998])  # phase ends


def test_clr_with_cyclical_momentum_and_back():
    explorer = PolicyExplorer(mode="triangular2", iterations=12_000)
    it = np.arange(12_000)
    np.testing.assert_allclose(explorer._momentum_line.get_ydata(), 0.9)  # constant until asked
    explorer.cycle_momentum.value = True
    want = clr.cyclic_momentum(it, 0.8, 0.9, step_size=2000, mode="triangular2")
    np.testing.assert_allclose(explorer._momentum_line.get_ydata(), want)
    assert "ck.CyclicalMomentum(mode=&#x27;triangular2&#x27;)" in explorer.code.value
    explorer.mode.value = "one_cycle"  # the usual 1cycle momenta replace CLR's defaults
    assert (explorer.base_momentum.value, explorer.max_momentum.value) == (0.85, 0.95)
    explorer.mode.value = "triangular"
    assert explorer._one_cycle_group.layout.display == "none"
    assert (explorer.base_momentum.value, explorer.max_momentum.value) == (0.8, 0.9)


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


def pixels(figure) -> np.ndarray:
    return np.asarray(figure.canvas.get_renderer().buffer_rgba()).copy()


def test_a_press_that_keeps_the_axes_repaints_only_the_curves_and_the_same_picture():
    explorer = PolicyExplorer(iterations=12_000)
    canvas = explorer.figure.canvas
    canvas.syncing_data_url = False  # what ipympl sets once a browser shows the canvas
    full_draws, images = [], []
    canvas.mpl_connect("draw_event", full_draws.append)
    canvas.send_binary = images.append
    explorer.max_lr.value = 0.0061  # the first update with a browser draws everything
    assert len(full_draws) == 1 and len(images) == 1

    explorer.base_lr.value = 0.002  # same axes: the curves on the kept background
    explorer.max_lr.value = 0.0062  # the axis' top (0.007) still holds the peak
    assert len(full_draws) == 1 and len(images) == 3
    repainted = pixels(explorer.figure)
    canvas.draw()
    np.testing.assert_array_equal(repainted, pixels(explorer.figure))

    explorer.max_lr.value = 0.009  # a new axis top, new tick labels: a full draw
    explorer.iterations.value = 13_000  # a new x axis
    assert len(full_draws) == 4 and len(images) == 6  # (one was the check's canvas.draw())


def test_without_a_browser_the_explorer_only_asks_for_a_draw(explorer):
    # An image sent before any view exists is lost, and JupyterLab then showed no figure at all.
    sent = []
    explorer.figure.canvas.send_binary = sent.append
    explorer.base_lr.value = 0.002
    assert sent == []


def test_saved_picture_holds_the_curves(explorer):
    import io

    from PIL import Image

    explorer.figure.canvas.draw()
    buffer = io.BytesIO()
    explorer.figure.savefig(buffer, format="png")
    saved = np.asarray(Image.open(buffer).convert("RGBA"))
    np.testing.assert_array_equal(saved, pixels(explorer.figure))
    explorer._line.set_visible(False)  # the check sees the curve: without it the picture differs
    explorer.figure.canvas.draw()
    assert (pixels(explorer.figure) != saved).any()


@pytest.mark.parametrize(
    "peak, top",
    [(0.006, 0.007), (0.0068, 0.008), (0.008, 0.009), (0.0098, 0.012), (1.0, 1.2), (3e-5, 3.5e-5)],
)
def test_rate_axis_top_is_a_round_number_above_the_peak(peak, top):
    from clr.widgets import _nice_top

    assert _nice_top(peak) == pytest.approx(top)
    assert _nice_top(peak) >= 1.04 * peak


def test_a_new_pixel_ratio_draws_everything_again():
    explorer = PolicyExplorer(iterations=12_000)
    canvas = explorer.figure.canvas
    canvas.syncing_data_url = False
    full_draws = []
    canvas.mpl_connect("draw_event", full_draws.append)
    canvas.send_binary = lambda data: None
    explorer.base_lr.value = 0.002
    explorer.figure.set_dpi(180)  # what ipympl does for a browser with device pixel ratio 2
    explorer.base_lr.value = 0.003
    assert len(full_draws) == 2
    repainted = pixels(explorer.figure)
    canvas.draw()
    np.testing.assert_array_equal(repainted, pixels(explorer.figure))
