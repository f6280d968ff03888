"""The explorer's panel: ipywidgets controls wired to the settings and the view.

Importing this module imports matplotlib, ipywidgets and ipympl (not Keras).

    >>> from clr.widgets import policy_explorer
    >>> explorer = policy_explorer(mode="triangular2")
    >>> explorer.base_lr.value = 0.002   # moves a slider from code
    >>> # a cell ending in `explorer` displays it

Every control is an attribute (``explorer.base_lr.value = 0.002`` moves the slider and
redraws), and carries a stable CSS class (``clr-base-lr``, ...) for browser tests. What the
controls mean lives in :mod:`clr.explorer.settings`, how the figure is drawn in
:mod:`clr.explorer.view`; this module only connects them.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import html
import io
import math
from typing import Any

import ipywidgets as W
import matplotlib
import numpy as np
from matplotlib.figure import Figure

from ._describe import fmt, policy_code
from ._policies import CyclicPolicy
from .explorer.panel import (
    MOMENTUM,
    ONE_CYCLE_PRIMARY,
    PRIMARY,
    SECONDARY,
    controls,
    grid,
    mode_help,
    size_probe,
    style_sheet,
    texts,
)
from .explorer.png import encode_rgba
from .explorer.settings import (
    CUSTOM_MODES,
    GAMMA_DEFAULTS,
    MOMENTA,
    ONE_CYCLE,
    ExplorerSettings,
    round_sig,
)
from .explorer.view import NOTEBOOK, PROJECTOR, Blitter, CurveView, lay_out_once

__all__ = ["PolicyExplorer", "policy_explorer", "BoundsPicker", "CUSTOM_MODES", "ONE_CYCLE"]


def _import_ipympl_keeping_the_backend():
    """ipympl's ``__init__`` calls ``matplotlib.use("module://ipympl.backend_nbagg")`` when
    matplotlib is already imported. That switch makes IPython unhook the inline backend (its
    figure formatters and post-execute flush), and switching the name back does not hook it
    again, so every later ``plt.show()`` printed ``<Figure size ...>`` instead of the plot.
    We only need ipympl's canvas classes, so the switch is not let happen at all."""
    from unittest import mock

    with mock.patch.object(matplotlib, "use", lambda *args, **kwargs: None):
        from ipympl import backend_nbagg
    return backend_nbagg.Canvas, backend_nbagg.FigureManager


Canvas, FigureManager = _import_ipympl_keeping_the_backend()
_PRE = (
    "white-space:pre; font-family:monospace; overflow-x:auto; line-height:1.35; margin:2px 0 8px;"
)


class _Canvas(Canvas):
    """ipympl's canvas with a faster image: the changed pixels as matplotlib's web backend
    computes them (``get_diff_image``), cut after the last changed row and column and encoded
    by :func:`clr.explorer.png.encode_rgba` (unfiltered rows, deflate level 1) instead of
    PIL's encoder: a press on a projector's 1878 x 525 canvas in 20 ms instead of 30
    (bench/bench_explorer.py)."""

    def get_diff_image(self) -> bytes | None:
        # matplotlib's own logic (backend_webagg_core), with the encoder swapped, and a diff
        # cut after its last changed row and column: ipympl draws it at (0, 0), over the old.
        if not self._png_is_old:
            return None
        pixels = np.asarray(self.get_renderer().buffer_rgba())
        buffer = pixels.view(np.uint32).squeeze(2)
        if (
            self._force_full
            or buffer.shape != self._last_buff.shape
            or (pixels[:, :, 3] != 255).any()
        ):
            self.set_image_mode("full")
            output = buffer
        else:
            self.set_image_mode("diff")
            changed = buffer != self._last_buff
            rows, columns = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
            if rows.size == 0:
                rows = columns = np.array([0])
            bottom, right = rows[-1] + 1, columns[-1] + 1
            output = np.where(changed[:bottom, :right], buffer[:bottom, :right], 0)
        self._last_buff = buffer.copy()
        self._force_full = False
        self._png_is_old = False
        return encode_rgba(output.view(np.uint8).reshape((*output.shape, 4)))


def _live_figure(figsize: tuple[float, float]) -> Figure:
    """A matplotlib figure on its own ipympl canvas widget (pyplot's backend untouched)."""
    figure = Figure(figsize=figsize, dpi=90, layout="constrained")
    canvas = _Canvas(figure)
    FigureManager(canvas, 0)
    canvas.header_visible = canvas.footer_visible = canvas.toolbar_visible = False
    canvas.resizable = False
    canvas.add_class("clr-figure")
    return figure


def _live_and_static(
    widget: W.Widget, figure: Figure, texts: tuple[W.HTML, ...], plain: str, **kwargs: Any
) -> dict:
    """The live widget for Jupyter and Voila, plus a static picture and the texts beside it
    for readers without a kernel (GitHub, nbviewer), who get the text/html."""
    bundle = dict(widget._repr_mimebundle_(**kwargs))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    png = base64.b64encode(buffer.getvalue()).decode("ascii")
    # as wide as the page allows (a documentation column is narrower than the notebook's)
    bundle["text/html"] = (
        f'<div><img src="data:image/png;base64,{png}" style="max-width:100%;height:auto" '
        f'alt="{html.escape(plain)}"/>{"".join(t.value for t in texts)}</div>'
    )
    bundle["text/plain"] = plain
    return bundle


class PolicyExplorer:
    """Controls, one live figure (the rate, and the momentum under it when it moves), the
    formula and the code for a cyclical policy or for 1cycle, laid out for the width it is
    given: from a narrow notebook column to a projector's full screen (``projector=True``:
    type for the back row, the formula and code hidden until asked for).

    Attributes: a widget per control (``mode``, ``base_lr``, ``max_lr``, ``step_size``,
    ``gamma``, ``iterations``, ... as ``clr.explorer.settings.ExplorerSettings`` names them);
    ``figure``, ``message``, ``summary``, ``formula``, ``code``, ``show_formula``,
    ``show_code``; ``settings`` (the controls' values), ``view``
    (``clr.explorer.view.CurveView``), ``policy`` (drawn now: the last valid one), ``lr``
    and ``momentum`` (its curves, full resolution).
    """

    def __init__(
        self,
        base_lr: float = 0.001,
        max_lr: float = 0.006,
        step_size: int = 2000,
        mode: str = "triangular",
        gamma: float | None = None,
        iterations: int = 20_000,
        step_size_down: int | None = None,
        compare: bool = False,
        *,
        projector: bool = False,
    ) -> None:
        momenta = MOMENTA["one_cycle" if mode == "one_cycle" else "cyclic"]
        self.settings = ExplorerSettings(
            mode=mode,
            base_lr=base_lr,
            max_lr=max_lr,
            step_size=step_size,
            gamma=GAMMA_DEFAULTS.get(mode, 1.0) if gamma is None else gamma,
            iterations=iterations,
            asymmetric=step_size_down is not None,
            step_size_down=step_size if step_size_down is None else step_size_down,
            compare=compare,
            base_momentum=momenta[0],
            max_momentum=momenta[1],
        )
        # Fail here, naming the argument, rather than open an explorer on an invalid curve.
        self.settings.policies()
        if not isinstance(projector, bool):
            raise TypeError(f"`projector` must be True or False. Received: {projector!r}")
        self.projector = projector
        self.controls = c = controls(self.settings, projector)
        for name, widget in c.items():
            setattr(self, name, widget)
            widget.add_class("clr-" + name.replace("_", "-"))
        self.message, self.summary, self.formula, self.code, self.mode_help = (
            W.HTML() for _ in range(5)
        )
        for name in ("message", "summary", "formula", "code", "mode_help"):
            getattr(self, name).add_class("clr-" + name.replace("_", "-"))
        self.show_formula = W.ToggleButton(
            value=not projector, description="formula", tooltip="show or hide the formula"
        )
        self.show_code = W.ToggleButton(
            value=not projector, description="code", tooltip="show or hide the code to use"
        )
        self.show_formula.add_class("clr-show-formula")
        self.show_code.add_class("clr-show-code")
        self.size, probe = size_probe()
        style = PROJECTOR if projector else NOTEBOOK
        self._width = 1200.0 if projector else 840.0  # until the browser says
        self._height = 0.0
        self.figure = _live_figure(figsize=(self._width / 90, self._width * style.aspect / 90))
        self.view = CurveView(self.figure, style)
        self.policy = self.lr = self.momentum = None
        self._primary = grid([c[k] for k in (*PRIMARY, *ONE_CYCLE_PRIMARY[1:])],
                             440 if projector else 330)  # fmt: skip
        self._secondary = grid([c[k] for k in (*SECONDARY, *MOMENTUM)], 440 if projector else 330)
        self._update(None)
        for widget in c.values():
            widget.observe(self._on_change, names="value")
        self.size.observe(self._on_size, names="value")
        for toggle in (self.show_formula, self.show_code):
            toggle.observe(self._show_texts, names="value")
        self._show_texts(None)
        toggles = W.HBox([self.show_formula, self.show_code], layout=W.Layout(margin="4px 0"))
        # The numbers, the formula and the code side by side where they fit: on a projector all
        # three stay on the screen under the figure.
        below = grid([W.VBox([self.summary, toggles]), self.formula, self.code], 400, "auto-fit")
        self.widget = W.VBox(
            [
                W.HTML(style_sheet(projector)), probe, self.size, c["mode"], self.mode_help,
                self._primary, self.figure.canvas, self._secondary, self.message, below,
            ],
            layout=W.Layout(width="100%", max_width="100%", overflow="hidden"),
        )  # fmt: skip
        self.widget.add_class("clr-policy-explorer")
        if projector:
            self.widget.add_class("clr-projector")

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        texts = (self.summary, self.formula, self.code)
        return _live_and_static(
            self.widget, self.figure, texts, f"PolicyExplorer({self.policy!r})", **kwargs
        )

    def _on_change(self, change: dict) -> None:
        moved = next(k for k, w in self.controls.items() if w is change["owner"])
        values = {k: w.value for k, w in self.controls.items()}
        settings = dataclasses.replace(self.settings, **values)
        if moved == "mode":
            settings = settings.with_mode(change["new"])
            with self._quiet():  # show the gamma and momenta the mode brings, without redrawing
                for name in ("gamma", "base_momentum", "max_momentum"):
                    self.controls[name].value = getattr(settings, name)
        self.settings = settings
        self._update(moved)

    def _on_size(self, change: dict) -> None:
        """The browser measured the panel: ``"width height"`` (its width, the window's height)."""
        try:
            width, height = (float(v) for v in str(change["new"]).split())
        except ValueError:
            return
        # ipympl frames the canvas with 4 px each side, and a widget has 2 px margins
        self._width, self._height = max(width - 12, 280.0), height
        self._update(None)

    def _show_texts(self, _: Any) -> None:
        self.formula.layout.display = "" if self.show_formula.value else "none"
        self.code.layout.display = "" if self.show_code.value else "none"

    @contextlib.contextmanager
    def _quiet(self) -> Any:
        """Set controls from here without each one redrawing."""
        for widget in self.controls.values():
            widget.unobserve(self._on_change, names="value")
        try:
            yield
        finally:
            for widget in self.controls.values():
                widget.observe(self._on_change, names="value")

    def _show_only_what_acts(self) -> None:
        s, c = self.settings, self.controls
        one_cycle = s.mode == "one_cycle"
        acts = {
            "base_lr": not one_cycle,
            "step_size": not one_cycle,
            "step_size_down": not one_cycle and s.asymmetric,
            "gamma": s.mode in GAMMA_DEFAULTS,
            "asymmetric": not one_cycle,
            "compare": not one_cycle,
            "cycle_momentum": not one_cycle,
            "base_momentum": one_cycle or s.cycle_momentum,
            "max_momentum": one_cycle or s.cycle_momentum,
            **{k: one_cycle for k in (*ONE_CYCLE_PRIMARY[1:], "three_phase")},
        }
        for name, shown in acts.items():
            c[name].layout.display = "" if shown else "none"
        c["iterations"].description = "total_steps" if one_cycle else "iterations"
        self.mode_help.value = mode_help(s.mode)

    def _figure_size(self) -> tuple[float, float]:
        width, height = self.view.size_for(self._width)
        if self._height:  # leave room above and below: controls, numbers, formula and code
            room = self._height - (620 if self.projector else 300)
            height = min(height, max(room, 0.22 * width, 240))
        return width, height

    def _update(self, moved: str | None) -> None:
        s = self.settings
        self._show_only_what_acts()
        picture = s.picture(moved)
        if isinstance(picture, str):  # keep the last valid curve; say what is wrong
            self.message.value = (
                f'<div style="color:#b00020"><b>Not drawn:</b> {html.escape(picture)}</div>'
            )
            return
        self.policy, self.lr, self.momentum = picture.policy, picture.lr, picture.momentum
        self.message.value = ""
        self.view.resize(*self._figure_size())
        self.view.show(picture, (float(s.base_momentum), float(s.max_momentum)))
        heading = "Phases" if s.mode == "one_cycle" else "Formula"
        momentum_line = picture.momentum_title if picture.momentum is None else ""
        self.summary.value, self.formula.value, self.code.value = texts(
            picture, heading, momentum_line
        )


def policy_explorer(**initial: Any) -> PolicyExplorer:
    """A :class:`PolicyExplorer` with ``initial`` settings; it displays itself in a notebook."""
    return PolicyExplorer(**initial)


class BoundsPicker:
    """An LR range test's plot with two sliders that place ``base_lr`` and ``max_lr`` on it.

    Starts at the paper's accuracy rule (or the loss rules when there is no accuracy) and
    writes the ``CyclicLR`` line for the chosen bounds, the paper's CIFAR-10 bounds beside it.
    The chosen range and its title repaint on the kept plot (``clr.explorer.view.Blitter``).
    Attributes: ``base_lr``, ``max_lr`` (sliders), ``figure``, ``code``, ``message``; ``bounds``.
    """

    PAPER_BOUNDS = (0.001, 0.006)  # Smith 2017, CIFAR-10, from his range test (Figure 3)

    def __init__(
        self,
        result: Any,
        step_size: int = 2000,
        base_lr: float | None = None,
        max_lr: float | None = None,
    ) -> None:
        from ._checks import check_number, check_whole
        from ._range_result import RangeTestResult

        if not isinstance(result, RangeTestResult):
            raise TypeError(
                "`result` must be what clr.lr_range_test returned (or RangeTestResult.load). "
                f"Received: result of type {type(result).__name__}"
            )
        self.step_size = check_whole("step_size", step_size, low=1)
        low, high = float(result.lr.min()), float(result.lr.max())
        # A slider clamps a value outside its range without a word: refuse it instead.
        for name, value in (("base_lr", base_lr), ("max_lr", max_lr)):
            if value is not None:
                check_number(name, value, low=low, low_inclusive=True, high=high)
        if base_lr is not None and max_lr is not None and not base_lr < max_lr:
            raise ValueError(
                f"`base_lr` must be < `max_lr` ({max_lr!r}). Received: base_lr={base_lr!r}"
            )
        suggestions = result.suggest()
        by_name = {s.name: s.lr for s in suggestions}
        if base_lr is None:
            base_lr = by_name.get("base_lr") or by_name.get("minimum/10") or result.start_lr
        if max_lr is None:
            max_lr = by_name.get("max_lr") or by_name.get("valley") or result.end_lr
        base_lr, max_lr = min(max(base_lr, low), high), min(max(max_lr, low), high)

        def make(value: float, description: str) -> W.Widget:
            common = dict(
                value=value, description=description, readout_format=".4", continuous_update=False
            )
            if result.sweep == "exp":
                return W.FloatLogSlider(
                    base=10, min=math.log10(low), max=math.log10(high), step=0.01, **common
                )
            return W.FloatSlider(min=low, max=high, step=(high - low) / 1000, **common)

        self.base_lr, self.max_lr = make(base_lr, "base_lr"), make(max_lr, "max_lr")
        self.message, self.code = W.HTML(), W.HTML()
        for name in ("base_lr", "max_lr", "message", "code"):
            getattr(self, name).add_class("clr-pick-" + name.replace("_", "-"))
        self.figure = _live_figure(figsize=(8, 4))
        self._ax = ax = self.figure.add_subplot()
        result.plot(ax=ax, suggestions=suggestions)
        self._span = ax.axvspan(
            base_lr, max_lr, color="gold", alpha=0.25, zorder=0, label="chosen range"
        )
        ax.set_title("chosen: base_lr 0.000000, max_lr 0.000000")  # the widest, for the layout
        lay_out_once(self.figure)
        self._blitter = Blitter(self.figure, [self._span, ax.title])
        self.bounds: tuple[float, float] = (base_lr, max_lr)
        self._update()
        self.base_lr.observe(lambda _: self._update(), names="value")
        self.max_lr.observe(lambda _: self._update(), names="value")
        self.widget = W.VBox(
            [W.HBox([self.base_lr, self.max_lr]), self.message, self.figure.canvas, self.code]
        )
        self.widget.add_class("clr-bounds-picker")

    def _update(self) -> None:
        base, top = round_sig(self.base_lr.value), round_sig(self.max_lr.value)
        try:
            policy = CyclicPolicy(base_lr=base, max_lr=top, step_size=self.step_size)
        except ValueError as err:
            self.message.value = (
                f'<div style="color:#b00020"><b>Not taken:</b> {html.escape(str(err))}</div>'
            )
            return
        self.message.value = ""
        self.bounds = (base, top)
        self._span.set_x(base)
        self._span.set_width(top - base)
        self._ax.set_title(f"chosen: base_lr {fmt(base)}, max_lr {fmt(top)}")
        self._blitter.repaint((self._ax.get_xlim(), self._ax.get_ylim()))
        paper = CyclicPolicy(*self.PAPER_BOUNDS, step_size=self.step_size)
        self.code.value = (
            '<div style="font-size:12px"><b>Your bounds</b><pre '
            f'style="{_PRE}">{html.escape(policy_code(policy))}</pre>'
            "<b>The paper's, for CIFAR-10</b><pre "
            f'style="{_PRE}">{html.escape(policy_code(paper))}</pre></div>'
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return _live_and_static(
            self.widget, self.figure, (self.code,), f"BoundsPicker(bounds={self.bounds})", **kwargs
        )
