"""The explorer's figure: axes, artists, and a repaint that touches only what changed.

matplotlib only, no widgets: the figure's canvas may be ipympl's (the panel) or Agg's (tests,
benchmarks). Where the time of a key press goes, and what is done about it (measured in
``bench/bench_explorer.py`` and ``bench/bench_explorer_browser.py``):

- text (tick labels, titles, the legend) is most of a full draw, and a slider press changes
  none of it: the press repaints the curves on a kept picture of the rest (:class:`Blitter`).
  The axes keep their limits while the curves fit (:class:`StickyTop`: round-number tops,
  kept until the curve outgrows them or shrinks under 40 % of them), and the pictures of the
  last sixteen states (limits, titles, legend) are kept, so that going back to a mode or a
  range is a repaint too;
- the layout is computed once per size and arrangement (with or without the momentum panel,
  each legend), kept, and switched by moving the axes, not per press;
- a curve is drawn through at most two points per pixel column (:func:`decimate`: the lowest
  and highest of each column, so its envelope is exact);
- the last point is marked, and its rate written beside the controls, not on the figure: text
  on the figure would be drawn again on every press (a seventh of a repaint).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from .._describe import fmt
from .settings import Picture

__all__ = [
    "Blitter",
    "StickyTop",
    "decimate",
    "lay_out_once",
    "nice_top",
    "rate_label",
    "CurveView",
    "Style",
    "NOTEBOOK",
    "PROJECTOR",
    "COLOURS",
]

COLOURS = {
    "triangular": "tab:blue",
    "triangular2": "tab:orange",
    "exp_range": "tab:green",
    "exp_range_bounds": "tab:olive",
}
_LEVELS = (1, 1.2, 1.5, 2, 2.5, 3, 3.5, 4, 5, 6, 7, 8, 9, 10)


def nice_top(value: float, margin: float = 0.0) -> float:
    """The first of 1, 1.2, 1.5, 2, 2.5, ... 9 (x 10**k) at least ``margin`` above ``value``."""
    want = max(value, 1e-12) * (1 + margin)
    decade = 10.0 ** math.floor(math.log10(want))
    return next(lv * decade for lv in _LEVELS if lv * decade >= want * (1 - 1e-9))


class StickyTop:
    """An axis' top that stays while the data fit under it and still fill 40 % of it: small
    slider moves keep the axes, and so the cheap repaint."""

    def __init__(self, margin: float = 0.0) -> None:
        self.margin, self.top = margin, None

    def __call__(self, value: float) -> float:
        if self.top is None or value * (1 + self.margin) > self.top or value < 0.4 * self.top:
            self.top = nice_top(value, self.margin)
        return self.top


def decimate(y: np.ndarray, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` of a curve over ``x = 0 .. len(y) - 1`` through its first and last points and
    each column's lowest and highest, in their order: about two points per column, and drawn
    at that width it looks the same."""
    n = len(y)
    if n <= 2 * columns + 2:
        return np.arange(n), y
    k = math.ceil(n / columns)  # points per column; the last column padded with the end value
    blocks = np.concatenate([y, np.full(k * math.ceil(n / k) - n, y[-1])]).reshape(-1, k)
    start = np.arange(len(blocks)) * k
    low, high = start + blocks.argmin(1), start + blocks.argmax(1)
    pairs = np.stack([np.minimum(low, high), np.maximum(low, high)], 1).ravel()
    xs = np.unique(np.concatenate([[0], np.minimum(pairs, n - 1), [n - 1]]))
    return xs, y[xs]


class Blitter:
    """Repaints only ``artists`` on a kept picture of everything else.

    ``artists`` are marked animated: a full draw (``canvas.draw()``, also when a browser asks
    for one) paints the rest, keeps it as the background of the current key and paints them on
    top; :meth:`repaint` with a key seen before restores that background, paints them and sends
    the difference. The last ``keep`` backgrounds are kept, so that going back to a mode (its
    title and legend) or an axis range costs a repaint, not a full draw. ``savefig`` paints
    animated artists itself.
    """

    def __init__(self, figure: Figure, artists: list, keep: int = 16) -> None:
        self.figure, self.artists, self.keep = figure, list(artists), keep
        for artist in self.artists:
            artist.set_animated(True)
        self._backgrounds: dict[Any, Any] = {}
        self._key: Any = None
        self.full_draws = 0
        figure.canvas.mpl_connect("draw_event", self._on_draw)

    def _on_draw(self, event: Any) -> None:
        if event.canvas is not self.figure.canvas or event.canvas.is_saving():
            return
        self.full_draws += 1
        self._backgrounds[self._key] = event.canvas.copy_from_bbox(self.figure.bbox)
        while len(self._backgrounds) > self.keep:
            del self._backgrounds[next(iter(self._backgrounds))]  # the oldest
        for artist in self.artists:
            self.figure.draw_artist(artist)

    def repaint(self, key: Any) -> None:
        """Show the figure; ``key`` holds all the background shows (limits, titles, legend):
        one seen before repaints the artists only, a new one draws everything."""
        canvas = self.figure.canvas
        if getattr(canvas, "syncing_data_url", False):
            # ipympl: no browser has shown the canvas yet; an image sent now would reach a model
            # with no view (JupyterLab then never shows the figure). The browser asks for a
            # full draw when it shows the canvas.
            canvas.draw_idle()
            return
        # The size in pixels too: a browser with another pixel ratio changes the figure's dpi.
        self._key = (key, tuple(self.figure.bbox.bounds))
        background = self._backgrounds.pop(self._key, None)
        if background is None:
            canvas.draw()
            return
        self._backgrounds[self._key] = background  # the most recently used, last
        canvas.restore_region(background)
        for artist in self.artists:
            self.figure.draw_artist(artist)
        canvas.blit(self.figure.bbox)


def lay_out_once(figure: Figure) -> None:
    """Constrained layout, computed now and then fixed: a layout per key press would cost half
    a full draw."""
    figure.set_layout_engine("constrained")
    figure.get_layout_engine().execute(figure)
    figure.set_layout_engine("none")


def rate_label(value: float, _: Any = None) -> str:
    """A tick's rate written out (0.001, 0.0025, 1e-05): never a multiplier at the axis' top
    that a reader has to apply in their head."""
    return "0" if value == 0 else fmt(value)


@dataclasses.dataclass(frozen=True)
class Style:
    """Type sizes (points at the figure's 90 dpi: 1 pt is 1.25 px) and the figure's shape."""

    ticks: float
    labels: float
    legend: float
    aspect: float  # the figure's height over its width


NOTEBOOK = Style(ticks=9.5, labels=10.5, legend=9.0, aspect=0.46)
# For the back row: ticks and legend at 18.75 px, labels at 20 px.
PROJECTOR = Style(ticks=15.0, labels=16.0, legend=15.0, aspect=0.38)


class CurveView:
    """The rate over iterations, the momentum under it when it moves (a line of text beside the
    figure says what it is otherwise), their marks and a legend above the plot, at any size.

    :meth:`resize` gives the figure its column's width; :meth:`show` draws a picture. Each
    arrangement (the momentum panel or not, the legend's entries) at each size is laid out
    once with constrained layout and kept; switching between kept ones only moves the axes.
    """

    def __init__(self, figure: Figure, style: Style = NOTEBOOK) -> None:
        self.figure, self.style = figure, style
        gridspec = figure.add_gridspec(2, 1, height_ratios=[3, 1.2])
        self.ax = ax = figure.add_subplot(gridspec[0])
        self.ax_m = ax_m = figure.add_subplot(gridspec[1], sharex=ax)
        self._gridspecs = {True: gridspec, False: figure.add_gridspec(1, 1)}
        for axis in (ax, ax_m):
            axis.tick_params(labelsize=style.ticks)
            axis.grid(alpha=0.25)
        ax.yaxis.set_major_formatter(FuncFormatter(rate_label))
        ax.set_ylabel("learning rate", fontsize=style.labels)
        ax_m.set_ylabel("momentum", fontsize=style.labels)
        self.compare = {
            m: ax.plot([], [], lw=1.0, alpha=0.6, color=c, label=f"{m}")[0]
            for m, c in COLOURS.items()
        }
        (self.line,) = ax.plot([], [], lw=1.8, color="black", label="this policy")
        (self.bounds,) = ax.plot(
            [], [], color="0.6", lw=0.8, ls=":", transform=ax.get_xaxis_transform(),
            label="cycle boundary",
        )  # fmt: skip
        (self.peaks,) = ax.plot(
            [], [], ls="none", marker="v", color="tab:red", ms=7, label="max_lr reached"
        )
        (self.last,) = ax.plot([], [], ls="none", marker="o", color="black", ms=5)
        (self.momentum_line,) = ax_m.plot([], [], lw=1.5, color="tab:purple")
        self.legend = None
        self.momentum_panel = True
        self._labels: tuple = ()
        self._layouts: dict[Any, tuple] = {}
        self._x, self._y = StickyTop(), StickyTop(margin=0.04)
        self.blitter = Blitter(
            figure,
            [*self.compare.values(), self.line, self.bounds, self.peaks, self.last,
             self.momentum_line],
        )  # fmt: skip

    # -- size and arrangement -------------------------------------------------------------------
    def size_for(self, width: float) -> tuple[float, float]:
        """The figure's size in pixels for a column ``width`` pixels wide. The same with the
        momentum panel or without: shown, it takes its room from the rate's panel, so that
        ticking 'cyclical momentum' costs a repaint, not a new canvas in the browser."""
        return width, width * self.style.aspect

    def resize(self, width: float, height: float) -> bool:
        """Give the figure ``width`` x ``height`` pixels; whether that changed anything."""
        dpi = self.figure.dpi
        new = (round(width / dpi, 2), round(height / dpi, 2))
        if tuple(round(v, 2) for v in self.figure.get_size_inches()) == new:
            return False
        self.figure.set_size_inches(*new, forward=True)
        return True

    def _arrange(self, momentum_panel: bool, labels: tuple) -> None:
        """Lay out (or recall the layout of) this arrangement at this size."""
        key = (tuple(self.figure.get_size_inches()), momentum_panel, labels)
        kept = self._layouts.get(key)
        if kept is None:
            self.ax.set_subplotspec(self._gridspecs[momentum_panel][0])
            self.ax_m.set_visible(momentum_panel)
            self.ax_m.set_in_layout(momentum_panel)
            self.ax.set_xlabel("" if momentum_panel else "training iteration (batch)",
                               fontsize=self.style.labels)  # fmt: skip
            self.ax_m.set_xlabel("training iteration (batch)", fontsize=self.style.labels)
            self.ax.tick_params(labelbottom=not momentum_panel)
            lay_out_once(self.figure)
            kept = (self.ax.get_position(), self.ax_m.get_position())
            self._layouts[key] = kept
        else:
            self.ax.set_position(kept[0])
            self.ax_m.set_position(kept[1])
            self.ax_m.set_visible(momentum_panel)
            self.ax.set_xlabel("" if momentum_panel else "training iteration (batch)",
                               fontsize=self.style.labels)  # fmt: skip
            self.ax.tick_params(labelbottom=not momentum_panel)
        self.momentum_panel = momentum_panel

    def _legend(self, handles: list) -> Any:
        """Above the plot, in as many columns as fit the width: never over a curve, never cut."""
        width = self.figure.get_size_inches()[0] * self.figure.dpi
        px = self.style.legend * self.figure.dpi / 72
        widest = max(0.56 * px * len(h.get_label()) + 3.2 * px for h in handles)
        columns = max(1, min(len(handles), int(0.95 * width // widest)))
        return self.ax.legend(
            handles=handles, loc="lower left", bbox_to_anchor=(0, 1.02), ncols=columns,
            borderaxespad=0, fontsize=self.style.legend, frameon=False, handlelength=1.6,
            columnspacing=1.2,
        )  # fmt: skip

    def _columns(self) -> int:
        return max(50, int(self.ax.get_window_extent().width))

    # -- drawing ------------------------------------------------------------------------------
    def show(self, picture: Picture, momentum_range: tuple[float, float]) -> None:
        """Draw ``picture``; ``momentum_range`` is the momentum panel's (low, high)."""
        n, columns = picture.lr.size, self._columns()
        self.line.set_data(*decimate(picture.lr, columns))
        self.line.set_label(f"this policy ({picture.title.split(',')[0]})")
        for mode, line in self.compare.items():
            line.set_data(
                *decimate(picture.compare[mode], columns) if mode in picture.compare else ([], [])
            )
        b = picture.boundaries
        self.bounds.set_data(np.repeat(b, 3), np.tile([0.0, 1.0, np.nan], b.size))
        self.bounds.set_label(picture.boundary_label)
        self.peaks.set_data(*picture.peaks)
        self.peaks.set_label(picture.peak_label)
        self.last.set_data([n - 1], [picture.lr[-1]])
        momentum = picture.momentum
        self.momentum_line.set_data(
            *decimate(momentum, columns) if momentum is not None else ([], [])
        )
        handles = [
            a
            for a in (self.line, *self.compare.values(), self.bounds, self.peaks)
            if len(a.get_xdata())
        ]
        labels = tuple(h.get_label() for h in handles)
        momentum_panel = momentum is not None
        if labels != self._labels or self.legend is None:
            self.legend = self._legend(handles)
            self._labels = labels
        self._arrange(momentum_panel, labels)
        low, high = momentum_range
        pad = max(0.02, 0.1 * abs(high - low))
        self.ax.set_xlim(0, self._x(n))
        self.ax.set_ylim(0, self._y(float(picture.lr.max())))
        self.ax_m.set_ylim(min(low, high) - pad, max(low, high) + pad)
        self.blitter.repaint(
            (self.ax.get_xlim(), self.ax.get_ylim(), self.ax_m.get_ylim(), momentum_panel, labels)
        )
