"""The explorer's figure on its own, on matplotlib's Agg canvas (no widgets): what it draws,
the repaint-only path and its equality with a full draw, the sticky axes, the decimated curve."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import clr
from clr.explorer import ExplorerSettings
from clr.explorer.view import CurveView, StickyTop, decimate, nice_top


@pytest.fixture
def view():
    figure = Figure(figsize=(7.6, 4.6), dpi=90)
    FigureCanvasAgg(figure)
    return CurveView(figure)


def show(view, **values):
    s = ExplorerSettings(**values)
    view.show(s.picture(), (s.base_momentum, s.max_momentum))
    return s


def pixels(figure):
    return np.asarray(figure.canvas.buffer_rgba()).copy()


def assert_repaint_equals_a_full_draw(view):
    repainted = pixels(view.figure)
    view.figure.canvas.draw()
    np.testing.assert_array_equal(repainted, pixels(view.figure))


def test_a_repaint_gives_the_picture_of_a_full_draw(view):
    show(view, iterations=12_000)
    draws = view.blitter.full_draws
    show(view, iterations=12_000, base_lr=0.002)  # same axes and texts: the curves only
    show(view, iterations=12_000, base_lr=0.002, max_lr=0.0062)
    assert view.blitter.full_draws == draws
    show(view, iterations=12_000, mode="triangular2")  # a new title: drawn once ...
    show(view, iterations=12_000, mode="triangular")
    show(view, iterations=12_000, mode="triangular2", base_lr=0.002)  # ... then kept
    assert view.blitter.full_draws == draws + 1
    assert_repaint_equals_a_full_draw(view)


def test_the_axes_stay_while_the_curve_fits(view):
    show(view, iterations=20_000)
    assert view.ax.get_xlim() == (0, 20_000) and view.ax.get_ylim()[1] == pytest.approx(0.007)
    draws = view.blitter.full_draws
    show(view, iterations=20_100)  # outgrows the top: 25,000, a full draw
    assert view.ax.get_xlim() == (0, 25_000) and view.blitter.full_draws == draws + 1
    for n in (20_000, 20_100, 19_900, 24_900):  # back and forth: the axes stay
        show(view, iterations=n)
    assert view.ax.get_xlim() == (0, 25_000) and view.blitter.full_draws == draws + 1
    show(view, iterations=5_000)  # under 40 % of the top: a new one
    assert view.ax.get_xlim() == (0, 5_000)


def test_legend_and_marks(view):
    show(view, mode="triangular2", iterations=12_000, compare=True)
    labels = [t.get_text() for t in view.legend.get_texts()]
    assert labels[0] == "this policy (triangular2)" and "exp_range_bounds" in labels
    assert "triangular2" not in labels  # its own built-in line is "this policy"
    # The legend sits above the plot, inside the figure: never over a curve, never cut.
    view.figure.canvas.draw()
    legend = view.legend.get_window_extent()
    assert legend.y0 >= view.ax.get_window_extent().y1 and legend.x1 <= view.figure.bbox.x1
    assert list(view.peaks.get_data()[0]) == [2000]
    assert view.last.get_data() == ([11_999], [clr.cyclic_lr(11_999, mode="triangular2")])
    show(view, mode="triangular", iterations=12_000)
    assert [t.get_text() for t in view.legend.get_texts()] == [
        "this policy (triangular)",
        "cycle boundary",
        "max_lr reached",
    ]
    assert all(len(line.get_xdata()) == 0 for line in view.compare.values())


def test_rates_are_written_out_on_the_axis(view):
    show(view, iterations=12_000)
    view.figure.canvas.draw()
    labels = [t.get_text() for t in view.ax.get_yticklabels()]
    assert {"0.001", "0.002", "0.006"} <= set(labels)
    assert view.ax.yaxis.get_offset_text().get_text() == ""  # no detached multiplier


def test_a_new_pixel_ratio_draws_everything_again(view):
    show(view, iterations=12_000)
    draws = view.blitter.full_draws
    show(view, iterations=12_000, base_lr=0.002)
    view.figure.set_dpi(180)  # what ipympl does for a browser with device pixel ratio 2
    show(view, iterations=12_000, base_lr=0.003)
    assert view.blitter.full_draws == draws + 1
    assert_repaint_equals_a_full_draw(view)


def test_saved_picture_holds_the_curves(view):
    import io

    from PIL import Image

    show(view, iterations=12_000)
    view.figure.canvas.draw()
    buffer = io.BytesIO()
    view.figure.savefig(buffer, format="png")
    saved = np.asarray(Image.open(buffer).convert("RGBA"))
    np.testing.assert_array_equal(saved, pixels(view.figure))
    view.line.set_visible(False)  # the check sees the curve: without it the picture differs
    view.figure.canvas.draw()
    assert (pixels(view.figure) != saved).any()


@pytest.mark.parametrize(
    "peak, top",
    [(0.006, 0.007), (0.0068, 0.008), (0.008, 0.009), (0.0098, 0.012), (1.0, 1.2), (3e-5, 3.5e-5)],
)
def test_rate_axis_top_is_a_round_number_above_the_peak(peak, top):
    assert nice_top(peak, 0.04) == pytest.approx(top)
    assert StickyTop(0.04)(peak) >= 1.04 * peak


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 50_000),
    st.integers(10, 800),
    st.sampled_from(["triangular", "triangular2", "exp_range", "exp_range_bounds"]),
    st.integers(1, 5000),
)
def test_decimation_keeps_the_envelope_and_the_ends(n, columns, mode, step):
    y = clr.cyclic_lr(np.arange(n), step_size=step, mode=mode, gamma=0.9999 if "exp" in mode else 1)
    x, v = decimate(y, columns)
    assert len(x) <= max(2 * columns + 2, n) and np.all(np.diff(x) > 0)
    np.testing.assert_array_equal(v, y[x])  # points of the curve, in order
    assert (x[0], x[-1]) == (0, n - 1)
    assert v.max() == y.max() and v.min() == y.min()
    # Each column's extremes are kept: the drawn band is the curve's.
    k = -(-n // columns)
    for start in range(0, n, max(k, 1))[:20]:
        block = y[start : start + k]
        inside = v[(x >= start) & (x < start + k)]
        if len(x) < n:
            assert inside.max() == block.max() and inside.min() == block.min()


def test_the_fast_png_encoder_round_trips():
    """The diff images the explorer sends (clr.explorer.png): what PIL reads back is exact."""
    import io

    from PIL import Image

    from clr.explorer.png import encode_rgba

    rng = np.random.default_rng(0)
    pixels = (rng.random((37, 53, 4)) * 255).astype(np.uint8)
    pixels[:10] = 0  # transparent rows, as in a diff
    back = np.asarray(Image.open(io.BytesIO(encode_rgba(pixels))).convert("RGBA"))
    np.testing.assert_array_equal(back, pixels)
    with pytest.raises(ValueError, match="must be RGBA"):
        encode_rgba(pixels[:, :, :3])
