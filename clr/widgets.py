"""The explorer's panel: ipywidgets controls wired to the settings and the view.

Importing this module imports matplotlib, ipywidgets and ipympl (not Keras).

    >>> from clr.widgets import policy_explorer
    >>> policy_explorer(mode="triangular2")          # displays itself in a notebook

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
from matplotlib.figure import Figure
from PIL import Image

from ._describe import fmt, policy_code
from ._policies import CyclicPolicy
from .explorer.settings import (
    CUSTOM_MODES,
    GAMMA_DEFAULTS,
    MODE_LABELS,
    MOMENTA,
    ONE_CYCLE,
    ExplorerSettings,
    Picture,
    round_sig,
)
from .explorer.view import Blitter, CurveView, lay_out_once

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
    """ipympl's canvas with a cheaper image: PNG at zlib level 1 instead of 6 (one press's image
    in 3.9 ms instead of 6.2, 18 kB instead of 13: bench/bench_explorer.py)."""

    def get_diff_image(self) -> bytes | None:
        save = Image.Image.save

        def fast(image: Any, fp: Any, format: Any = None, **params: Any) -> Any:  # noqa: A002
            return save(image, fp, format=format, compress_level=1, **params)

        Image.Image.save = fast
        try:
            return super().get_diff_image()
        finally:
            Image.Image.save = save


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
    bundle["text/html"] = (
        f'<div><img src="data:image/png;base64,{png}" '
        f'alt="figure"/>{"".join(t.value for t in texts)}</div>'
    )
    bundle["text/plain"] = plain
    return bundle


def _controls(s: ExplorerSettings) -> dict[str, W.Widget]:
    """One widget per field of :class:`ExplorerSettings`, showing ``s``."""
    style = {"description_width": "125px"}
    # Wide sliders: six decades of a log slider in 114 px made a 40 px drag a factor of 100.
    common = dict(continuous_update=False, style=style, layout=W.Layout(width="460px"))

    def log(name: str, low: float, high: float) -> W.FloatLogSlider:
        # Wide enough for the value given, never clamping it silently.
        value = getattr(s, name)
        low, high = min(low, math.floor(math.log10(value))), max(high, math.ceil(math.log10(value)))
        return W.FloatLogSlider(
            value=getattr(s, name),
            base=10,
            min=low,
            max=high,
            step=0.01,
            description=name,
            readout_format=".4",
            **common,
        )

    def num(kind: type, name: str, **kw: Any) -> W.Widget:
        value = getattr(s, name)
        kw["min"], kw["max"] = min(kw["min"], value), max(kw["max"], value)  # never clamped
        return kind(value=value, description=kw.pop("label", name), **kw, **common)

    def box(name: str, label: str) -> W.Checkbox:
        return W.Checkbox(value=getattr(s, name), description=label, indent=False)

    return {
        "mode": W.Dropdown(
            options=list(MODE_LABELS.items()), value=s.mode, description="mode", style=style
        ),
        "base_lr": log("base_lr", -6, 0),
        "max_lr": log("max_lr", -6, 0),
        "step_size": num(W.IntSlider, "step_size", min=1, max=20_000),
        # 1e-5 per key press: 0.99994 -> 0.99984 in ten presses, the range that matters.
        "gamma": num(W.FloatSlider, "gamma", min=0.99, max=1.0, step=1e-5, readout_format=".6"),
        "iterations": num(W.IntSlider, "iterations", min=100, max=100_000, step=100),
        "asymmetric": box("asymmetric", "asymmetric cycle (step_size_down)"),
        "step_size_down": num(W.IntSlider, "step_size_down", min=1, max=20_000),
        "compare": box("compare", "compare the built-in policies"),
        "pct_start": num(
            W.FloatSlider, "pct_start", min=0.05, max=0.5, step=0.01, readout_format=".2f"
        ),
        "div_factor": log("div_factor", 0, 3),
        "final_div_factor": log("final_div_factor", 0, 6),
        "three_phase": box("three_phase", "three phases (the papers' layout)"),
        "anneal_strategy": W.Dropdown(
            options=["cos", "linear"], value=s.anneal_strategy, description="anneal", style=style
        ),
        "cycle_momentum": box("cycle_momentum", "cyclical momentum"),
        "base_momentum": num(
            W.FloatSlider, "base_momentum", min=0.0, max=1.0, step=0.005, readout_format=".3f"
        ),
        "max_momentum": num(
            W.FloatSlider, "max_momentum", min=0.0, max=1.0, step=0.005, readout_format=".3f"
        ),
    }


def _texts(p: Picture, heading: str) -> tuple[str, str, str]:
    """The summary (its numbers with classes the browser tests read), the formula and the code,
    as HTML."""
    more = html.escape(p.notes).replace("\n", "<br>")
    summary = (
        '<div style="font-size:13px">'
        f'lr at iteration 0: <span class="clr-first-lr">{fmt(p.lr[0])}</span><br>'
        f'lr at the last iteration, <span class="clr-last-iteration">{p.lr.size - 1}</span>: '
        f'<b><span class="clr-last-lr">{fmt(p.lr[-1])}</span></b><br>{p.peak_prefix}: '
        f'<span class="clr-peak-lr">{fmt(p.lr.max())}</span>{more}</div>'
    )
    formula = (
        f'<div style="font-size:12px"><b>{heading}</b><pre style="{_PRE}">'
        f"{html.escape(p.formula)}</pre></div>"
    )
    code = (
        '<div style="font-size:12px"><b>Use these settings</b>'
        f'<pre style="{_PRE} user-select:all">{html.escape(p.code)}</pre></div>'
    )
    return summary, formula, code


class PolicyExplorer:
    """Controls, one live figure (the rate, and the momentum under it), the formula and the code
    for a cyclical policy or for 1cycle.

    Attributes: a widget per control (``mode``, ``base_lr``, ``max_lr``, ``step_size``,
    ``gamma``, ``iterations``, ... as :class:`clr.explorer.ExplorerSettings` names them);
    ``figure``, ``message``, ``summary``, ``formula``, ``code``; ``settings`` (the controls'
    values), ``view`` (:class:`clr.explorer.view.CurveView`), ``policy`` (drawn now: the last
    valid one), ``lr`` and ``momentum`` (its curves, full resolution).
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
        self.controls = _controls(self.settings)
        for name, widget in self.controls.items():
            setattr(self, name, widget)
            widget.add_class("clr-" + name.replace("_", "-"))
        self.message, self.summary, self.formula, self.code = (W.HTML() for _ in range(4))
        for name in ("message", "summary", "formula", "code"):
            getattr(self, name).add_class("clr-" + name)
        self.figure = _live_figure(figsize=(7.6, 4.6))
        self.view = CurveView(self.figure)
        self.policy = self.lr = self.momentum = None
        c = self.controls
        self._cyclic = W.VBox(
            [
                c[k]
                for k in (
                    "base_lr",
                    "step_size",
                    "gamma",
                    "asymmetric",
                    "step_size_down",
                    "compare",
                )
            ]
        )
        self._one_cycle = W.VBox(
            [
                c[k]
                for k in (
                    "pct_start",
                    "div_factor",
                    "final_div_factor",
                    "three_phase",
                    "anneal_strategy",
                )
            ]
        )
        self._update(None)
        for widget in c.values():
            widget.observe(self._on_change, names="value")
        controls = W.VBox(
            [
                c["mode"],
                c["max_lr"],
                c["iterations"],
                self._cyclic,
                self._one_cycle,
                c["cycle_momentum"],
                c["base_momentum"],
                c["max_momentum"],
                self.message,
                self.summary,
            ],
            layout=W.Layout(min_width="480px"),
        )
        plot = W.VBox(
            [self.figure.canvas, self.formula, self.code], layout=W.Layout(flex="1 1 560px")
        )
        self.widget = W.HBox(
            [controls, plot], layout=W.Layout(flex_flow="row wrap", align_items="flex-start")
        )
        self.widget.add_class("clr-policy-explorer")

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

    def _update(self, moved: str | None) -> None:
        s, c = self.settings, self.controls
        one_cycle = s.mode == "one_cycle"
        self._cyclic.layout.display = "none" if one_cycle else ""
        self._one_cycle.layout.display = "" if one_cycle else "none"
        c["cycle_momentum"].layout.display = "none" if one_cycle else ""
        c["iterations"].description = "total_steps" if one_cycle else "iterations"
        c["gamma"].disabled = s.mode not in GAMMA_DEFAULTS
        c["step_size_down"].disabled = not s.asymmetric
        c["base_momentum"].disabled = not (one_cycle or s.cycle_momentum)
        picture = s.picture(moved)
        if isinstance(picture, str):  # keep the last valid curve; say what is wrong
            self.message.value = (
                f'<div style="color:#b00020"><b>Not drawn:</b> {html.escape(picture)}</div>'
            )
            return
        self.policy, self.lr, self.momentum = picture.policy, picture.lr, picture.momentum
        self.message.value = ""
        self.view.show(picture, (float(s.base_momentum), float(s.max_momentum)))
        heading = "Phases" if one_cycle else "Formula"
        self.summary.value, self.formula.value, self.code.value = _texts(picture, heading)


def policy_explorer(**initial: Any) -> PolicyExplorer:
    """A :class:`PolicyExplorer` with ``initial`` settings; it displays itself in a notebook."""
    return PolicyExplorer(**initial)


class BoundsPicker:
    """An LR range test's plot with two sliders that place ``base_lr`` and ``max_lr`` on it.

    Starts at the paper's accuracy rule (or the loss rules when there is no accuracy) and
    writes the ``CyclicLR`` line for the chosen bounds, the paper's CIFAR-10 bounds beside it.
    The chosen range and its title repaint on the kept plot (:class:`clr.explorer.view.Blitter`).
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
