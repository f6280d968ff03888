"""The policy explorer in parts a reader can find by name:

- :mod:`clr.explorer.settings`: the controls' values as plain data, and what they draw
  (numpy only);
- :mod:`clr.explorer.view`: the figure, its artists and the repaint-only path (matplotlib, no
  widgets);
- ``clr.widgets``: the panel that wires ipywidgets to both.
"""

from .settings import CUSTOM_MODES, MODE_LABELS, ONE_CYCLE, ExplorerSettings, Picture

__all__ = ["ExplorerSettings", "Picture", "MODE_LABELS", "ONE_CYCLE", "CUSTOM_MODES"]
