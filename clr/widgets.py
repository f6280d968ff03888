"""The policy explorer: sliders that redraw a cyclical learning-rate curve live.

Importing this module imports matplotlib, ipywidgets and ipympl (not Keras).

    >>> from clr.widgets import policy_explorer
    >>> policy_explorer(mode="triangular2")          # displays itself in a notebook

Every control is an attribute (``explorer.base_lr.value = 0.002`` moves the slider and
redraws), and carries a stable CSS class (``clr-base-lr``, ...) for browser tests.
"""

from __future__ import annotations

import base64
import html
import io
import math
from typing import Any

import ipywidgets as W
import matplotlib
import numpy as np
from matplotlib.figure import Figure

from ._describe import call_code, one_cycle_formula, policy_code, policy_formula
from ._describe import fmt as _fmt
from ._one_cycle import CyclicMomentumPolicy, OneCycleMomentumPolicy, OneCyclePolicy, phase_ends
from ._policies import EXP_MODES, MODES, CyclicPolicy
from ._scales import ExpScale, SineScale


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

__all__ = ["PolicyExplorer", "policy_explorer", "BoundsPicker", "CUSTOM_MODES"]

# Custom scale functions offered next to the built-in modes: label -> (value, default gamma).
README_ITERATION_GAMMA = 5**-1e-4  # the original README's 1/5**(x*1e-4) is gamma**x with this
CUSTOM_MODES = {
    "custom: sine on cycle (seed)": "sine_cycle",
    "custom: gamma**x on iterations (seed: 1/5**(x*1e-4))": "exp_iterations",
}
_GAMMA_MODES = {
    "exp_range": 0.99994,
    "exp_range_bounds": 0.99994,
    "exp_iterations": round(README_ITERATION_GAMMA, 6),
}
# Voila's page styles <pre> as prose: say what a code block needs.
_PRE = (
    "white-space:pre; font-family:monospace; overflow-x:auto; line-height:1.35; margin:2px 0 8px;"
)
_COLOURS = {
    "triangular": "tab:blue",
    "triangular2": "tab:orange",
    "exp_range": "tab:green",
    "exp_range_bounds": "tab:olive",
}
ONE_CYCLE = "one_cycle (1cycle, Smith's later policy)"
_MOMENTA = {"cyclic": (0.8, 0.9), "one_cycle": (0.85, 0.95)}  # (base, max), PyTorch's defaults
# Every control that redraws, in the order they are built.
_CONTROLS = (
    "mode",
    "base_lr",
    "max_lr",
    "step_size",
    "gamma",
    "iterations",
    "asymmetric",
    "step_size_down",
    "compare",
    "pct_start",
    "div_factor",
    "final_div_factor",
    "three_phase",
    "anneal_strategy",
    "cycle_momentum",
    "base_momentum",
    "max_momentum",
)


def _round_sig(x: float, digits: int = 4) -> float:
    """Round to significant digits, so the readout, the curve and the code use one number."""
    return float(f"{x:.{digits}g}") if x > 0 else x


def _nice_top(peak: float) -> float:
    """The rate axis' top: the first of 1, 1.2, 1.5, 2, 2.5, 3, 3.5, 4, 5, 6, 7, 8, 9 (x 10**k) at
    least 4 % above the peak. A small move of ``max_lr`` keeps the axes, so only the curves
    repaint, and the peak never touches the frame."""
    want = max(peak, 1e-12) * 1.04
    decade = 10.0 ** math.floor(math.log10(want))
    for level in (1, 1.2, 1.5, 2, 2.5, 3, 3.5, 4, 5, 6, 7, 8, 9, 10):
        if level * decade >= want * (1 - 1e-9):
            return level * decade
    return 10 * decade


def _live_figure(figsize: tuple[float, float]) -> Figure:
    """A matplotlib figure on its own ipympl canvas widget (pyplot's backend untouched)."""
    figure = Figure(figsize=figsize, dpi=90, layout="constrained")
    canvas = Canvas(figure)
    FigureManager(canvas, 0)
    canvas.header_visible = canvas.footer_visible = canvas.toolbar_visible = canvas.resizable = (
        False
    )
    canvas.add_class("clr-figure")
    return figure


class _Blitter:
    """Repaints only the artists that change on a cached picture of everything else.

    Text (tick labels, titles, the legend) is most of what a full matplotlib draw costs, and a
    slider press that keeps the axes changes none of it. ``artists`` are marked animated: a full
    draw (``canvas.draw()``, also when the browser asks for one) paints the rest, keeps it as the
    background and paints them on top; :meth:`repaint` with an unchanged ``axes_key`` restores
    the background, paints them and sends the difference. Both paths send the image at once,
    with no round trip through the browser; ipywidgets already sends a slider's next value
    only when the kernel has handled the last one. ``savefig`` paints animated artists itself.
    """

    def __init__(self, figure: Figure, artists: list) -> None:
        self.figure, self.artists = figure, artists
        for artist in artists:
            artist.set_animated(True)
        self._background = None
        self._axes_key: Any = None
        figure.canvas.mpl_connect("draw_event", self._on_draw)

    def _on_draw(self, event: Any) -> None:
        if event.canvas is not self.figure.canvas or event.canvas.is_saving():
            return
        self._background = event.canvas.copy_from_bbox(self.figure.bbox)
        self._paint_artists()

    def _paint_artists(self) -> None:
        for artist in self.artists:
            self.figure.draw_artist(artist)

    def repaint(self, axes_key: Any) -> None:
        """Send the figure; ``axes_key`` holds all that the background shows (limits, titles,
        legend): a new one draws everything, the same one only the artists."""
        canvas = self.figure.canvas
        if canvas.syncing_data_url:
            # No browser has shown the canvas yet (ipympl's flag): an image sent now would reach
            # a model with no view (JupyterLab then never shows the figure). The browser asks
            # for a full draw when it shows the canvas.
            canvas.draw_idle()
            return
        # The size in pixels too: a browser with another pixel ratio changes the figure's dpi.
        axes_key = (axes_key, tuple(self.figure.bbox.bounds))
        if axes_key != self._axes_key or self._background is None:
            self._axes_key = axes_key
            canvas.draw()
        else:
            canvas.restore_region(self._background)
            self._paint_artists()
            canvas.blit(self.figure.bbox)


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


class PolicyExplorer:
    """Controls, one live figure (the rate, and the momentum under it), the formula and the code
    for a cyclical policy or for 1cycle.

    Attributes (widgets): ``mode``, ``base_lr``, ``max_lr`` (log sliders), ``step_size``,
    ``gamma``, ``iterations`` (for 1cycle: its ``total_steps``), ``asymmetric`` and
    ``step_size_down``, ``compare``; 1cycle's ``pct_start``, ``div_factor``,
    ``final_div_factor``, ``three_phase``, ``anneal_strategy``; ``cycle_momentum``,
    ``base_momentum``, ``max_momentum``; and ``figure``, ``message``, ``summary``, ``formula``,
    ``code``. ``policy`` is the policy drawn now (the last valid one), ``lr`` its curve and
    ``momentum`` the momentum beside it.
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
        modes = [(m, m) for m in MODES] + list(CUSTOM_MODES.items()) + [(ONE_CYCLE, "one_cycle")]
        if mode not in dict(modes).values():
            raise ValueError(
                f"`mode` must be one of {[v for _, v in modes]}. Received: mode={mode!r}"
            )
        if gamma is None:
            gamma = _GAMMA_MODES.get(mode, 1.0)
        style = {"description_width": "125px"}
        # Wide sliders: six decades of a log slider in 114 px made a 40 px drag a factor of 100.
        wide = W.Layout(width="460px")
        common = dict(continuous_update=False, style=style, layout=wide)

        def log_slider(value: float, name: str, low: float, high: float) -> W.FloatLogSlider:
            return W.FloatLogSlider(
                value=value,
                base=10,
                min=low,
                max=high,
                step=0.01,
                description=name,
                readout_format=".4",
                **common,
            )

        self.mode = W.Dropdown(options=modes, value=mode, description="mode", style=style)
        self.base_lr = log_slider(base_lr, "base_lr", -6, 0)
        self.max_lr = log_slider(max_lr, "max_lr", -6, 0)
        self.step_size = W.IntSlider(
            value=step_size, min=1, max=20_000, description="step_size", **common
        )
        # 1e-5 per key press: 0.99994 -> 0.99984 in ten presses, the range that matters.
        self.gamma = W.FloatSlider(
            value=gamma,
            min=0.99,
            max=1.0,
            step=1e-5,
            description="gamma",
            readout_format=".6",
            **common,
        )
        self.iterations = W.IntSlider(
            value=iterations, min=100, max=100_000, step=100, description="iterations", **common
        )
        self.asymmetric = W.Checkbox(
            value=step_size_down is not None,
            description="asymmetric cycle (step_size_down)",
            indent=False,
        )
        self.step_size_down = W.IntSlider(
            value=step_size_down or step_size,
            min=1,
            max=20_000,
            description="step_size_down",
            **common,
        )
        self.compare = W.Checkbox(
            value=compare, description="compare the three built-in policies", indent=False
        )
        # 1cycle (PyTorch's OneCycleLR defaults)
        self.pct_start = W.FloatSlider(
            value=0.3,
            min=0.05,
            max=0.5,
            step=0.01,
            description="pct_start",
            readout_format=".2f",
            **common,
        )
        self.div_factor = log_slider(25.0, "div_factor", 0, 3)
        self.final_div_factor = log_slider(1e4, "final_div_factor", 0, 6)
        self.three_phase = W.Checkbox(
            value=False, description="three phases (the papers' layout)", indent=False
        )
        self.anneal_strategy = W.Dropdown(
            options=["cos", "linear"], value="cos", description="anneal", style=style
        )
        # momentum, opposite to the rate: each policy's usual range (PyTorch's defaults)
        momenta = _MOMENTA["one_cycle" if mode == "one_cycle" else "cyclic"]
        self.cycle_momentum = W.Checkbox(value=False, description="cyclical momentum", indent=False)
        self.base_momentum, self.max_momentum = (
            W.FloatSlider(
                value=value,
                min=0.0,
                max=1.0,
                step=0.005,
                description=name,
                readout_format=".3f",
                **common,
            )
            for value, name in zip(momenta, ("base_momentum", "max_momentum"))
        )
        self.message = W.HTML()
        self.summary = W.HTML()
        self.formula = W.HTML()
        self.code = W.HTML()
        for name in (*_CONTROLS, "message", "summary", "formula", "code"):
            getattr(self, name).add_class("clr-" + name.replace("_", "-"))

        self.figure, self._ax, self._ax_m = self._build_figure()
        # Constrained layout is half of a redraw. Lay the figure out only when what decides the
        # layout (title, legend entries, the momentum panel's title) changes, not per key press.
        self._layout = self.figure.get_layout_engine()
        self.figure.set_layout_engine("none")
        self._layout_key: tuple | None = None
        self._legend_labels: tuple | None = None
        self.policy: Any = None
        self.lr: np.ndarray | None = None
        self.momentum: np.ndarray | None = None
        self._moved: W.Widget | None = None
        self._cyclic_group = W.VBox(
            [
                self.base_lr,
                self.step_size,
                self.gamma,
                self.asymmetric,
                self.step_size_down,
                self.compare,
            ]
        )
        self._one_cycle_group = W.VBox(
            [
                self.pct_start,
                self.div_factor,
                self.final_div_factor,
                self.three_phase,
                self.anneal_strategy,
            ]
        )
        self._update()
        for name in _CONTROLS:
            getattr(self, name).observe(self._on_change, names="value")

        controls = W.VBox(
            [
                self.mode,
                self.max_lr,
                self.iterations,
                self._cyclic_group,
                self._one_cycle_group,
                self.cycle_momentum,
                self.base_momentum,
                self.max_momentum,
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

    # -- display -------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return _live_and_static(
            self.widget,
            self.figure,
            (self.summary, self.formula, self.code),
            f"PolicyExplorer({self.policy!r})",
            **kwargs,
        )

    def _build_figure(self):
        figure = _live_figure(figsize=(7.6, 4.6))
        ax, ax_m = figure.subplots(2, 1, sharex=True, height_ratios=[3, 1.2])
        ax.set(ylabel="learning rate")
        ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
        ax_m.set(xlabel="training iteration (batch)", ylabel="momentum")
        self._compare_lines = {
            m: ax.plot([], [], lw=1.0, alpha=0.55, color=c, label=f"{m} (compare)")[0]
            for m, c in _COLOURS.items()
        }
        (self._line,) = ax.plot([], [], lw=1.6, color="black", label="this policy")
        (self._bounds,) = ax.plot(
            [],
            [],
            color="0.6",
            lw=0.8,
            ls=":",
            transform=ax.get_xaxis_transform(),
            label="cycle boundary",
        )
        (self._peaks,) = ax.plot(
            [], [], ls="none", marker="v", color="tab:red", ms=6, label="max_lr reached"
        )
        (self._last,) = ax.plot([], [], ls="none", marker="o", color="black", ms=5)
        self._last_text = ax.annotate(
            "", xy=(0, 0), xytext=(-6, 8), textcoords="offset points", ha="right", fontsize=9
        )
        (self._momentum_line,) = ax_m.plot([], [], lw=1.4, color="tab:purple")
        self._blitter = _Blitter(
            figure,
            [
                *self._compare_lines.values(),
                self._line,
                self._bounds,
                self._peaks,
                self._last,
                self._last_text,
                self._momentum_line,
            ],
        )
        return figure, ax, ax_m

    # -- updating ------------------------------------------------------------------------
    def _on_change(self, change: dict) -> None:
        self._moved = change["owner"]
        if change["owner"] is self.mode:
            if change["new"] in _GAMMA_MODES and self.gamma.value == 1.0:
                self.gamma.value = _GAMMA_MODES[change["new"]]  # triggers its own update
                return
            # Each policy's usual momenta (PyTorch's defaults), unless the person chose others.
            want, other = _MOMENTA["one_cycle"], _MOMENTA["cyclic"]
            if change["new"] != "one_cycle":
                want, other = other, want
            if (self.base_momentum.value, self.max_momentum.value) == other:
                self.base_momentum.value, self.max_momentum.value = want
        self._update()

    def settings(self) -> dict[str, Any]:
        """The policy arguments the controls describe now (rates rounded as their readouts)."""
        mode = self.mode.value
        if mode == "one_cycle":
            return dict(
                max_lr=_round_sig(self.max_lr.value),
                total_steps=int(self.iterations.value),
                pct_start=round(float(self.pct_start.value), 2),
                anneal_strategy=self.anneal_strategy.value,
                div_factor=_round_sig(self.div_factor.value),
                final_div_factor=_round_sig(self.final_div_factor.value),
                three_phase=bool(self.three_phase.value),
            )
        kwargs: dict[str, Any] = dict(
            base_lr=_round_sig(self.base_lr.value),
            max_lr=_round_sig(self.max_lr.value),
            step_size=int(self.step_size.value),
            step_size_down=int(self.step_size_down.value) if self.asymmetric.value else None,
        )
        gamma = round(float(self.gamma.value), 6)
        if mode == "sine_cycle":
            kwargs.update(scale_fn=SineScale(), scale_mode="cycle")
        elif mode == "exp_iterations":
            kwargs.update(scale_fn=ExpScale(gamma), scale_mode="iterations")
        else:
            kwargs.update(mode=mode, gamma=gamma if mode in EXP_MODES else 1.0)
        return kwargs

    def _momenta(self) -> dict[str, float]:
        return dict(
            base_momentum=round(float(self.base_momentum.value), 3),
            max_momentum=round(float(self.max_momentum.value), 3),
        )

    def _policies(self) -> tuple[Any, Any]:
        """The rate's policy and the momentum's (None: constant momentum) the controls describe."""
        settings = self.settings()
        if self.mode.value == "one_cycle":
            policy = OneCyclePolicy(**settings)
            keep = ("total_steps", "pct_start", "anneal_strategy", "three_phase")
            return policy, OneCycleMomentumPolicy(
                **{k: settings[k] for k in keep}, **self._momenta()
            )
        policy = CyclicPolicy(**settings)
        if not self.cycle_momentum.value:
            return policy, None
        cycle = {k: v for k, v in settings.items() if k not in ("base_lr", "max_lr")}
        return policy, CyclicMomentumPolicy(**self._momenta(), **cycle)

    def _update(self) -> None:
        one_cycle = self.mode.value == "one_cycle"
        self._cyclic_group.layout.display = "none" if one_cycle else ""
        self._one_cycle_group.layout.display = "" if one_cycle else "none"
        self.cycle_momentum.layout.display = "none" if one_cycle else ""
        self.iterations.description = "total_steps" if one_cycle else "iterations"
        self.gamma.disabled = self.mode.value not in _GAMMA_MODES
        self.step_size_down.disabled = not self.asymmetric.value
        shows_momentum = one_cycle or self.cycle_momentum.value
        self.base_momentum.disabled = not shows_momentum
        try:
            policy, momentum_policy = self._policies()
            it = np.arange(int(self.iterations.value))
            lr = policy(it)
            momentum = momentum_policy(it) if momentum_policy is not None else None
        except (ValueError, TypeError) as err:
            # Keep the last valid curve; say what is wrong next to the controls, naming the
            # control that was moved when the check names its partner.
            message = str(err)
            if self._moved is self.base_lr and "`max_lr` must be >= `base_lr`" in message:
                message = (
                    f"`base_lr` must be <= `max_lr` ({_fmt(_round_sig(self.max_lr.value))}). "
                    f"Received: base_lr={_fmt(_round_sig(self.base_lr.value))}"
                )
            if (
                self._moved is self.base_momentum
                and "`max_momentum` must be >= `base_momentum`" in message
            ):
                message = (
                    f"`base_momentum` must be <= `max_momentum` ({self.max_momentum.value:.3f}). "
                    f"Received: base_momentum={self.base_momentum.value:.3f}"
                )
            self.message.value = (
                f'<div style="color:#b00020"><b>Not drawn:</b> {html.escape(message)}</div>'
            )
            return
        self.policy, self.lr, self.momentum = policy, lr, momentum
        self.message.value = ""
        if one_cycle:
            self._draw_one_cycle(policy, momentum_policy, lr, momentum)
        else:
            self._draw_cyclic(policy, momentum_policy, lr, momentum)

    def _draw_momentum(self, n: int, momentum: np.ndarray | None) -> None:
        it = np.arange(n)
        if momentum is None:
            constant = round(float(self.max_momentum.value), 3)
            self._momentum_line.set_data(it, np.full(n, constant))
            self._ax_m.set_title(
                f"momentum: constant {constant:g} (tick 'cyclical momentum' to cycle it)",
                fontsize=9,
                y=1.0,
            )
        else:
            self._momentum_line.set_data(it, momentum)
            self._ax_m.set_title("momentum, moving against the rate", fontsize=9, y=1.0)
        low, high = float(self.base_momentum.value), float(self.max_momentum.value)
        pad = max(0.02, 0.1 * (high - low))
        self._ax_m.set_ylim(min(low, high) - pad, max(low, high) + pad)

    def _finish(self, n: int, lr: np.ndarray, title: str, handles: list) -> None:
        self._last.set_data([n - 1], [lr[-1]])
        self._last_text.xy = (n - 1, lr[-1])
        self._last_text.set_text(f"lr({n - 1:,}) = {lr[-1]:.6g}")
        self._ax.set_xlim(0, n)
        self._ax.set_ylim(0, _nice_top(float(lr.max())))
        # An explicit y spares matplotlib placing the title around the tick labels on every
        # full draw (a sixth of it); nothing sits above these axes.
        self._ax.set_title(title, y=1.0)
        labels = tuple(h.get_label() for h in handles)
        if labels != self._legend_labels:
            # Beside the plot, so that it never hides a marker.
            self._ax.legend(
                handles=handles,
                loc="upper left",
                bbox_to_anchor=(1.01, 1),
                borderaxespad=0,
                fontsize=8,
            )
            self._legend_labels = labels
        key = (title, labels, self._ax_m.get_title(), self._ax.get_ylim()[1] < 1e-2)
        if key != self._layout_key:
            self._layout.execute(self.figure)
            self._layout_key = key
        self._blitter.repaint(
            (key, self._ax.get_xlim(), self._ax.get_ylim(), self._ax_m.get_ylim())
        )

    def _draw_cyclic(
        self, policy: CyclicPolicy, momentum_policy: Any, lr: np.ndarray, momentum: Any
    ) -> None:
        n = lr.size
        it = np.arange(n)
        self._line.set_data(it, lr)
        for mode, line in self._compare_lines.items():
            if self.compare.value:
                gamma = policy.gamma if policy.mode in EXP_MODES else _GAMMA_MODES["exp_range"]
                line.set_data(
                    it,
                    CyclicPolicy(
                        policy.base_lr,
                        policy.max_lr,
                        policy.step_size,
                        mode,
                        gamma if mode in EXP_MODES else 1.0,
                        step_size_down=policy.step_size_down,
                    )(it),
                )
            else:
                line.set_data([], [])
        period = policy.period
        starts = np.arange(period, n, period)
        if starts.size <= 200:  # beyond that the lines are a grey wash
            self._bounds.set_data(np.repeat(starts, 3), np.tile([0.0, 1.0, np.nan], starts.size))
        else:
            self._bounds.set_data([], [])
        peaks = np.arange(policy.step_size, n, period)
        peaks = peaks[np.isclose(policy(peaks), policy.max_lr, rtol=1e-9)] if peaks.size else peaks
        self._peaks.set_data(peaks, np.full(peaks.size, policy.max_lr))
        self._peaks.set_label("max_lr reached")
        self._draw_momentum(n, momentum)
        label = {v: k for k, v in CUSTOM_MODES.items()}.get(self.mode.value, self.mode.value)
        shown = [
            a
            for a in (self._line, *self._compare_lines.values(), self._bounds, self._peaks)
            if len(a.get_xdata())
        ]
        self._finish(n, lr, label, shown)

        cycles = n / period
        self._set_summary(
            lr,
            f'highest lr: <span class="clr-peak-lr">{_fmt(lr.max())}</span>, '
            f"max_lr reached {peaks.size} time{'s' if peaks.size != 1 else ''}<br>"
            f"cycles shown: {cycles:.3g} (period {_fmt(period)} iterations)",
        )
        formula = html.escape(policy_formula(policy))
        self.formula.value = (
            f'<div style="font-size:12px"><b>Formula</b><pre style="{_PRE}">{formula}</pre></div>'
        )
        lines = [policy_code(policy, "CyclicLR"), policy_code(policy, "CyclicalLearningRate")]
        imports = "import clr\nfrom clr.keras import CyclicLR, CyclicalLearningRate\n"
        if momentum_policy is not None:
            imports += "import clr.keras as ck\n"
            lines.append(
                "momentum="
                + call_code(momentum_policy, "ck.CyclicalMomentum")
                + "   # in ck.SGD(...)"
            )
        self._set_code(imports + "\n".join(lines))

    def _draw_one_cycle(
        self, policy: OneCyclePolicy, momentum_policy: Any, lr: np.ndarray, momentum: np.ndarray
    ) -> None:
        n = lr.size
        it = np.arange(n)
        self._line.set_data(it, lr)
        for line in self._compare_lines.values():
            line.set_data([], [])
        ends = phase_ends(policy.total_steps, policy.pct_start, policy.three_phase)[:-1]
        self._bounds.set_data(np.repeat(ends, 3), np.tile([0.0, 1.0, np.nan], len(ends)))
        self._bounds.set_label("phase boundary")
        peak = int(np.argmax(lr))
        self._peaks.set_data([peak], [lr[peak]])
        self._peaks.set_label("max_lr")
        self._draw_momentum(n, momentum)
        layout = (
            "three phases (the papers')" if policy.three_phase else "two phases (PyTorch's default)"
        )
        self._finish(n, lr, f"1cycle, {layout}", [self._line, self._bounds, self._peaks])
        self._set_summary(
            lr,
            f'peak: <span class="clr-peak-lr">{_fmt(lr.max())}</span> at iteration {peak:,}; '
            f"momentum {momentum[peak]:.3g} there, {momentum[0]:.3g} at the start",
        )
        formula = html.escape(one_cycle_formula(policy))
        self.formula.value = (
            f'<div style="font-size:12px"><b>Phases</b><pre style="{_PRE}">{formula}</pre></div>'
        )
        code = (
            "import clr.keras as ck\n"
            "optimizer = ck.SGD(\n"
            f"    learning_rate={call_code(policy, 'ck.OneCycle')},\n"
            f"    momentum={call_code(momentum_policy, 'ck.OneCycleMomentum')},\n)"
        )
        self._set_code(code)

    def _set_summary(self, lr: np.ndarray, more: str) -> None:
        """The numbers a reader checks first (the browser tests read them by their classes)."""
        self.summary.value = (
            '<div style="font-size:13px">'
            f'lr at iteration 0: <span class="clr-first-lr">{_fmt(lr[0])}</span><br>'
            f'lr at the last iteration, <span class="clr-last-iteration">{lr.size - 1}</span>: '
            f'<b><span class="clr-last-lr">{_fmt(lr[-1])}</span></b><br>{more}</div>'
        )

    def _set_code(self, code: str) -> None:
        self.code.value = (
            '<div style="font-size:12px"><b>Use these settings</b>'
            f'<pre style="{_PRE} user-select:all">{html.escape(code)}</pre></div>'
        )


def policy_explorer(**initial: Any) -> PolicyExplorer:
    """A :class:`PolicyExplorer` with ``initial`` settings; it displays itself in a notebook."""
    return PolicyExplorer(**initial)


class BoundsPicker:
    """An LR range test's plot with two sliders that place ``base_lr`` and ``max_lr`` on it.

    Starts at the paper's accuracy rule (or the loss rules when there is no accuracy) and
    writes the ``CyclicLR`` line for the chosen bounds, the paper's CIFAR-10 bounds beside it.
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
        suggestions = result.suggest()
        by_name = {s.name: s.lr for s in suggestions}
        base_lr = base_lr or by_name.get("base_lr") or by_name.get("minimum/10") or result.start_lr
        max_lr = max_lr or by_name.get("max_lr") or by_name.get("valley") or result.end_lr
        low, high = float(result.lr[0]), float(result.lr[-1])
        self.step_size = step_size

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
        ax = self.figure.add_subplot()
        result.plot(ax=ax, suggestions=suggestions)
        self._span = ax.axvspan(
            base_lr, max_lr, color="gold", alpha=0.25, zorder=0, label="chosen range"
        )
        self._ax = ax
        self.bounds: tuple[float, float] = (base_lr, max_lr)
        self._update()
        self.base_lr.observe(lambda _: self._update(), names="value")
        self.max_lr.observe(lambda _: self._update(), names="value")
        self.widget = W.VBox(
            [W.HBox([self.base_lr, self.max_lr]), self.message, self.figure.canvas, self.code]
        )
        self.widget.add_class("clr-bounds-picker")

    def _update(self) -> None:
        base, top = _round_sig(self.base_lr.value), _round_sig(self.max_lr.value)
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
        self._ax.set_title(f"chosen: base_lr {_fmt(base)}, max_lr {_fmt(top)}")
        self.figure.canvas.draw_idle()
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
