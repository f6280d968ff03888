"""The paper's CIFAR-10 comparison (Smith 2017, Table 1), one job per module.

- ``protocol``: Table 1, the presets and each policy's schedule (numpy).
- ``data``: CIFAR-10 from Keras, a local file or a synthetic stand-in, checked (numpy).
- ``models``: Caffe's ``cifar10_full`` in Keras (imports Keras).
- ``runner``: one resumable run, trained through ``clr.keras`` (imports Keras when it runs).
- ``results``: the files' layout, the curves and the tables over seeds (numpy).
- ``plots``: the comparison's figures (matplotlib).
- ``cli``: ``python -m clr.experiments``.

Importing this package loads numpy only.
"""

from .protocol import PAPER_TABLE1, POLICIES, PRESETS, Protocol, policy_schedule

__all__ = ["PAPER_TABLE1", "POLICIES", "PRESETS", "Protocol", "policy_schedule"]
