"""The explorer panel's parts (ipywidgets): its controls in reading order with tooltips, the
texts beside the figure, the style sheet, and the probe that tells the kernel the panel's width.

The width probe is how the figure takes its size from its column: ipywidgets does not report
an element's size, so a hidden image in an HTML widget runs one short script in the browser
(JupyterLab or Voila) that measures the panel (a ``ResizeObserver``, debounced) and types
``"width height"`` into a hidden text widget, whose change reaches the kernel like any
control's. The same script gives each slider's PageUp/PageDown a tenth of its range (typed into
the slider's readout, as a person would). How the
pieces are wired together lives in ``clr.widgets``; the figure in ``view``.
"""

from __future__ import annotations

import html
import math
from typing import Any

import ipywidgets as W

from .._describe import fmt
from .settings import MODE_HELP, MODE_LABELS, ExplorerSettings, Picture

__all__ = ["controls", "texts", "style_sheet", "size_probe", "TOOLTIPS", "PRIMARY", "SECONDARY"]

# Reading order: what the curve is, its bounds, its length, then what is shown.
PRIMARY = ("base_lr", "max_lr", "step_size", "step_size_down", "gamma")
ONE_CYCLE_PRIMARY = ("max_lr", "pct_start", "div_factor", "final_div_factor", "anneal_strategy")
SECONDARY = ("iterations", "compare", "asymmetric", "three_phase", "cycle_momentum")
MOMENTUM = ("base_momentum", "max_momentum")

TOOLTIPS = {
    "mode": "the policy: how the rate moves between the bounds",
    "base_lr": "the lower bound of the learning rate (a rate, no unit)",
    "max_lr": "the upper bound of the learning rate (a rate, no unit)",
    "step_size": "half a cycle, in iterations (batches): base_lr to max_lr",
    "step_size_down": "the fall from max_lr back to base_lr, in iterations (batches)",
    "gamma": "exp modes: the height is multiplied by gamma at every iteration",
    "iterations": "how many iterations (batches) the figure shows",
    "asymmetric": "a fall of its own length (step_size_down) after each rise",
    "compare": "draw the built-in policies with the same bounds and step size",
    "cycle_momentum": "momentum moving against the rate, between base and max momentum",
    "base_momentum": "the momentum at the rate's peak (a fraction, 0-1)",
    "max_momentum": "the momentum at the rate's trough (a fraction, 0-1)",
    "pct_start": "1cycle: the share of total_steps spent rising",
    "div_factor": "1cycle: the start is max_lr / div_factor",
    "final_div_factor": "1cycle: the end is the start / final_div_factor",
    "three_phase": "1cycle: back down to the start before the final anneal (the papers' layout)",
    "anneal_strategy": "1cycle: the shape of each phase, cosine or straight",
}


def _wide() -> W.Layout:
    # One Layout per widget: a shared one would hide every slider when one is hidden. "auto"
    # fills the grid cell with the widget's margins inside it (100% would add them).
    return W.Layout(width="auto")


def controls(s: ExplorerSettings, projector: bool = False) -> dict[str, W.Widget]:
    """One widget per field of :class:`ExplorerSettings`, showing ``s``, each with its tooltip
    and a width that follows its grid cell (labels wide enough for "final_div_factor" at the
    notebook's type, or at the projector's)."""
    style = {"description_width": "185px" if projector else "120px"}
    common = dict(continuous_update=False, style=style)  # a Layout of its own each: see below

    def log(name: str, low: float, high: float) -> W.FloatLogSlider:
        # Wide enough for the value given, never clamping it silently.
        value = getattr(s, name)
        low, high = min(low, math.floor(math.log10(value))), max(high, math.ceil(math.log10(value)))
        return W.FloatLogSlider(value=value, base=10, min=low, max=high, step=0.01,
                                description=name, readout_format=".4", layout=_wide(),
                                **common)  # fmt: skip

    def num(kind: type, name: str, **kw: Any) -> W.Widget:
        value = getattr(s, name)
        kw["min"], kw["max"] = min(kw["min"], value), max(kw["max"], value)  # never clamped
        return kind(value=value, description=kw.pop("label", name), layout=_wide(), **kw, **common)

    def box(name: str, label: str) -> W.Checkbox:
        return W.Checkbox(value=getattr(s, name), description=label, indent=False,
                          layout=W.Layout(width="auto"))  # fmt: skip

    widgets = {
        "mode": W.Dropdown(
            options=list(MODE_LABELS.items()),
            value=s.mode,
            description="mode",
            style=style,
            layout=W.Layout(width="330px"),
        ),  # fmt: skip
        "base_lr": log("base_lr", -6, 0),
        "max_lr": log("max_lr", -6, 0),
        "step_size": num(W.IntSlider, "step_size", min=1, max=20_000),
        "step_size_down": num(W.IntSlider, "step_size_down", min=1, max=20_000),
        # 1e-5 per key press: 0.99994 -> 0.99984 in ten presses, the range that matters.
        "gamma": num(W.FloatSlider, "gamma", min=0.99, max=1.0, step=1e-5, readout_format=".6"),
        "iterations": num(W.IntSlider, "iterations", min=100, max=100_000, step=100),
        "asymmetric": box("asymmetric", "asymmetric cycle (step_size_down)"),
        "compare": box("compare", "compare the built-in policies"),
        "pct_start": num(
            W.FloatSlider, "pct_start", min=0.05, max=0.5, step=0.01, readout_format=".2f"
        ),  # fmt: skip
        "div_factor": log("div_factor", 0, 3),
        "final_div_factor": log("final_div_factor", 0, 6),
        "three_phase": box("three_phase", "three phases (the papers' layout)"),
        "anneal_strategy": W.Dropdown(
            options=["cos", "linear"],
            value=s.anneal_strategy,
            description="anneal",
            style=style,
            layout=W.Layout(width="100%"),
        ),  # fmt: skip
        "cycle_momentum": box("cycle_momentum", "cyclical momentum"),
        "base_momentum": num(
            W.FloatSlider, "base_momentum", min=0.0, max=1.0, step=0.005, readout_format=".3f"
        ),  # fmt: skip
        "max_momentum": num(
            W.FloatSlider, "max_momentum", min=0.0, max=1.0, step=0.005, readout_format=".3f"
        ),  # fmt: skip
    }
    for name, widget in widgets.items():
        widget.tooltip = TOOLTIPS[name]
        if isinstance(widget, W.FloatLogSlider):
            widget.add_class("clr-log")  # the browser's PageUp works in exponents there
        elif isinstance(widget, W.IntSlider):
            widget.add_class("clr-int")
    return widgets


def grid(children: list[W.Widget], min_width: int, fill: str = "auto-fill") -> W.GridBox:
    """A grid that puts as many columns of ``min_width`` pixels side by side as fit, in
    reading order left to right, then down (``fill="auto-fit"``: the children share the whole
    width when they are fewer than the columns that fit)."""
    return W.GridBox(
        children,
        layout=W.Layout(
            grid_template_columns=f"repeat({fill}, minmax({min_width}px, 1fr))",
            grid_gap="0px 16px",
            width="100%",
        ),
    )


def mode_help(mode: str) -> str:
    return f'<div class="clr-mode-help">{html.escape(MODE_HELP[mode])}</div>'


def texts(p: Picture, heading: str, momentum_line: str) -> tuple[str, str, str]:
    """The summary (its numbers with classes the browser tests read), the formula and the code,
    as HTML."""
    more = html.escape(p.notes).replace("\n", "<br>")
    momentum = f"<br>{html.escape(momentum_line)}" if momentum_line else ""
    summary = (
        '<div class="clr-numbers">'
        f'lr at iteration 0: <span class="clr-first-lr">{fmt(p.lr[0])}</span>; '
        f'at the last iteration, <span class="clr-last-iteration">{p.lr.size - 1}</span>: '
        f'<b><span class="clr-last-lr">{fmt(p.lr[-1])}</span></b><br>{p.peak_prefix}: '
        f'<span class="clr-peak-lr">{fmt(p.lr.max())}</span>{more}{momentum}</div>'
    )
    formula = f"<div><b>{heading}</b><pre>{html.escape(p.formula)}</pre></div>"
    code = f"<div><b>Use these settings</b><pre>{html.escape(p.code)}</pre></div>"
    return summary, formula, code


def style_sheet(projector: bool) -> str:
    """The explorer's CSS: nothing wider than its place (the figure shrinks with its column,
    code wraps), no resize handle (ipympl's top canvas, which only draws it and zoom boxes),
    and the projector's type for the back row."""
    sheet = """
.clr-policy-explorer { width: 100%; max-width: 100%; box-sizing: border-box; }
.clr-policy-explorer canvas { max-width: 100%; }
.clr-policy-explorer .clr-figure { max-width: 100%; overflow: hidden; }
.clr-policy-explorer .jupyter-matplotlib-canvas-div canvas + canvas {
    display: none !important; }
.clr-policy-explorer pre { white-space: pre-wrap; word-break: normal; overflow-wrap: anywhere;
    font-family: monospace;
    line-height: 1.35; margin: 2px 0 8px; user-select: all; }
.clr-policy-explorer .clr-mode-help { color: #444; margin: 2px 0 6px 4px; }
.clr-policy-explorer .clr-numbers { line-height: 1.45; }
"""
    if projector:
        sheet += """
.clr-policy-explorer.clr-projector { --jp-widgets-font-size: 20px;
    --jp-widgets-inline-height: 38px; --jp-widgets-inline-label-width: 150px;
    --jp-widgets-slider-handle-size: 22px; font-size: 20px; }
.clr-projector .widget-label, .clr-projector .widget-readout, .clr-projector select,
.clr-projector .widget-html-content, .clr-projector button, .clr-projector pre,
.clr-projector .widget-checkbox label { font-size: 20px !important; line-height: 1.35; }
.clr-projector .widget-readout { min-width: 90px; }
.jp-RenderedMarkdown p, .jp-RenderedMarkdown li { font-size: 20px; line-height: 1.45; }
"""
    return f"<style>{sheet}</style>"


# Runs once when the panel is shown (an image that fails to load); finds its own panel. No //
# comments: it is joined into one line. PageUp/PageDown move a tenth of the slider's range
# (noUiSlider's own is five steps), typed into the readout as a person would type it. The
# figure takes no Tab stops: it has no keyboard use here, and Tab goes on to the next control.
# JupyterLab's shortcuts stay out of the controls (their keys stop at the panel, and Lumino's
# data-lm-suppress-shortcuts): its ArrowDown would move to the next cell instead of the next
# mode in the dropdown.
_PROBE = """(function (img) {
  var box = img.closest('.clr-policy-explorer'); if (!box) return;
  box.setAttribute('data-lm-suppress-shortcuts', 'true');
  var keys = ['ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'PageUp', 'PageDown', 'Home',
              'End', 'Enter', ' '];
  box.addEventListener('keydown', function (e) {
    var t = e.target;
    var own = t.matches && t.matches('select, input, [contenteditable], .noUi-handle');
    if (own && keys.indexOf(e.key) >= 0) e.stopPropagation();
  });
  var input = box.querySelector('.clr-size input'); if (!input) return;
  var last = '', timer = null;
  function report() {
    var size = Math.round(box.clientWidth) + ' ' + Math.round(window.innerHeight);
    if (size === last || box.clientWidth < 50) return;
    last = size; input.value = size;
    input.dispatchEvent(new Event('input', {bubbles: true}));
    input.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}));
    input.dispatchEvent(new Event('change', {bubbles: true}));
  }
  box.addEventListener('keydown', function (e) {
    if (e.key !== 'PageUp' && e.key !== 'PageDown') return;
    var target = e.target.closest && e.target.closest('.noUi-target');
    var slider = target && target.closest('.widget-slider');
    var readout = slider && slider.querySelector('.widget-readout');
    if (!target || !target.noUiSlider || !readout) return;
    e.preventDefault(); e.stopPropagation();
    var r = target.noUiSlider.options.range, v = Number(target.noUiSlider.get());
    var move = (e.key === 'PageUp' ? 0.1 : -0.1) * (r.max - r.min);
    var next = Math.min(r.max, Math.max(r.min, v + move));
    var value = slider.closest('.clr-log') ? Math.pow(10, next) : next;
    var whole = slider.closest('.clr-int');
    readout.textContent = whole ? String(Math.round(value)) : value.toPrecision(4);
    var enter = {key: 'Enter', keyCode: 13, which: 13, bubbles: true};
    readout.dispatchEvent(new KeyboardEvent('keydown', enter));
  }, true);
  new ResizeObserver(function () { clearTimeout(timer); timer = setTimeout(report, 150); })
    .observe(box);
  function untab() {
    box.querySelectorAll('.clr-figure [tabindex], .clr-figure canvas').forEach(function (el) {
      if (el.getAttribute('tabindex') !== '-1') el.setAttribute('tabindex', '-1');
    });
  }
  new MutationObserver(untab).observe(box, {childList: true, subtree: true});
  untab();
  report();
})(this)"""


def size_probe() -> tuple[W.Text, W.HTML]:
    """The hidden text widget that receives ``"width height"`` from the browser, and the HTML
    that measures it there."""
    size = W.Text(value="", continuous_update=False, layout=W.Layout(display="none"))
    size.add_class("clr-size")
    script = html.escape(" ".join(_PROBE.split()), quote=True)
    probe = W.HTML(f'<img src="" alt="" style="display:none" onerror="{script}">')
    probe.add_class("clr-probe")
    return size, probe
