"""Plotting helpers for the notebooks (matplotlib). Each takes ``ax=None`` and returns what it drew."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from .protocol import PAPER_TABLE1, policy_schedule

__all__ = ["plot_accuracy", "plot_lr"]

COLOURS = {"fixed": "black", "triangular": "tab:blue", "triangular2": "tab:orange", "exp_range": "tab:green", "exp": "tab:purple", "decay": "tab:brown"}


def plot_accuracy(results: dict[str, dict[str, np.ndarray]], scale: float = 1.0, paper: bool = True, ax: Any = None) -> Any:
    """Test accuracy against iterations (in the paper's units) per policy, with the paper's
    Table 1 points beside ours."""
    ax = ax or plt.gca()
    for policy, r in results.items():
        colour = COLOURS.get(policy)
        ax.plot(r["iteration"] / scale, 100 * r["test_accuracy"], color=colour, label=f"{policy} (ours)")
        if paper and policy in PAPER_TABLE1:
            iterations, accuracy = PAPER_TABLE1[policy]
            ax.plot([iterations], [accuracy], marker="*", ms=13, ls="none", color=colour, markeredgecolor="white", label=f"{policy} (paper, Table 1)")
    ax.set(xlabel="training iteration (paper's units; batch 100)", ylabel="test accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    return ax


def plot_lr(policies: list[str], scale: float = 1.0, ax: Any = None) -> Any:
    """Each policy's learning rate against iterations (paper's units), log scale."""
    ax = ax or plt.gca()
    for policy in policies:
        schedule, total, _ = policy_schedule(policy, scale)
        it = np.arange(total)
        ax.plot(it / scale, schedule(it), color=COLOURS.get(policy), label=policy, lw=1.2)
    ax.set(xlabel="training iteration (paper's units; batch 100)", ylabel="learning rate", yscale="log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=3)
    return ax
