"""Two directives for clr's documentation site.

``{clr-picture}`` draws a policy or schedule at build time from the package's own numpy
formula, with the settings written under it::

    ```{clr-picture} clr.CyclicPolicy(0.001, 0.006, 2000, mode="triangular2")
    :iterations: 12000
    ```

The argument is evaluated with ``clr`` and ``np`` in scope; a policy (anything callable) is
called on ``np.arange(iterations)``, an array is drawn as it is. ``:ylabel:`` names the
axis (``learning rate`` by default), ``:keras:`` the Keras line that runs the same formula.

``{clr-cli-help}`` is ``python -m clr.experiments --help``, from the parser itself.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from docutils import nodes  # noqa: E402
from docutils.parsers.rst import directives  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402
from sphinx.util.docutils import SphinxDirective  # noqa: E402

import clr  # noqa: E402


def _draw(expression: str, iterations: int, ylabel: str, path: Path) -> None:
    it = np.arange(iterations)
    value = eval(expression, {"clr": clr, "np": np, "it": it})  # the page's own text
    y = np.asarray(value(it) if callable(value) else value, dtype=float)
    fig, ax = plt.subplots(figsize=(6.4, 2.4), dpi=100, layout="constrained")
    ax.plot(it, y, color="tab:blue", lw=1.4)
    ax.set(xlabel="iteration (batch)", ylabel=ylabel, xlim=(0, iterations - 1))
    ax.grid(alpha=0.3)
    # rates written out (0.006, not 6 under a "1e-3"), as the explorer writes them
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.6g}"))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


class PictureDirective(SphinxDirective):
    required_arguments = 1
    final_argument_whitespace = True
    option_spec = {
        "iterations": directives.positive_int,
        "ylabel": directives.unchanged,
        "keras": directives.unchanged,
    }

    def run(self) -> list[nodes.Node]:
        expression = self.arguments[0]
        iterations = self.options.get("iterations", 12_000)
        ylabel = self.options.get("ylabel", "learning rate")
        key = hashlib.sha256(f"{expression}|{iterations}|{ylabel}".encode()).hexdigest()[:16]
        path = Path(self.env.srcdir) / "_generated" / "pictures" / f"{key}.png"
        try:
            _draw(expression, iterations, ylabel, path)
        except Exception as error:  # a page's mistake: said on the page's line, the build fails
            raise self.error(f"{expression}: {type(error).__name__}: {error}") from error
        self.env.note_dependency(__file__)
        # the image's path from this page's folder, as Sphinx resolves it
        rel = "/" + path.relative_to(self.env.srcdir).as_posix()
        image = nodes.image(uri=rel, alt=f"{ylabel} of {expression} over {iterations:,} iterations")
        figure = nodes.figure("", image, classes=["clr-picture"])
        caption = nodes.caption("", "")
        caption += nodes.literal(expression, expression)
        caption += nodes.Text(f", iterations 0 to {iterations - 1:,}")
        if "keras" in self.options:
            caption += nodes.Text("; in Keras: ")
            caption += nodes.literal(self.options["keras"], self.options["keras"])
        figure += caption
        return [figure]


class CliHelpDirective(SphinxDirective):
    def run(self) -> list[nodes.Node]:
        from clr.cifar10.cli import build_parser

        self.env.note_dependency(__file__)
        # argparse wraps at the terminal's width: the page's is fixed
        previous = os.environ.get("COLUMNS")
        os.environ["COLUMNS"] = "96"
        try:
            text = build_parser().format_help()
        finally:
            if previous is None:
                del os.environ["COLUMNS"]
            else:
                os.environ["COLUMNS"] = previous
        block = nodes.literal_block(text, text)
        block["language"] = "text"
        return [block]


def setup(app):
    app.add_directive("clr-picture", PictureDirective)
    app.add_directive("clr-cli-help", CliHelpDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
