"""The comparison's figures (matplotlib). Each takes ``ax=None`` and returns what it drew."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from .protocol import PAPER_TABLE1, policy_schedule

__all__ = [
    "plot_accuracy",
    "plot_lr",
    "plot_seed_bands",
    "plot_seed_comparison",
    "plot_dose_response",
    "COLOURS",
]

COLOURS = {
    "fixed": "black",
    "triangular": "tab:blue",
    "triangular2": "tab:orange",
    "exp_range": "tab:green",
    "exp": "tab:purple",
    "decay": "tab:brown",
    "one_cycle": "tab:red",
}


def plot_accuracy(
    results: dict[str, dict[str, np.ndarray]],
    scale: float = 1.0,
    paper: bool = True,
    ax: Any = None,
) -> Any:
    """Test accuracy against iterations (in the paper's units) per policy, with the paper's
    Table 1 points beside ours."""
    ax = ax or plt.gca()
    for policy, r in results.items():
        colour = COLOURS.get(policy)
        ax.plot(
            r["iteration"] / scale, 100 * r["test_accuracy"], color=colour, label=f"{policy} (ours)"
        )
        if paper and policy in PAPER_TABLE1:
            iterations, accuracy = PAPER_TABLE1[policy]
            ax.plot(
                [iterations],
                [accuracy],
                marker="*",
                ms=13,
                ls="none",
                color=colour,
                markeredgecolor="white",
                label=f"{policy} (paper, Table 1)",
            )
    ax.set(xlabel="training iteration (paper's units; batch 100)", ylabel="test accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(
        fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0
    )  # beside the data, not on it
    return ax


def plot_lr(policies: list[str], scale: float = 1.0, ax: Any = None) -> Any:
    """Each policy's learning rate against iterations (paper's units), log scale."""
    ax = ax or plt.gca()
    for policy in policies:
        schedule, total, _ = policy_schedule(policy, scale)
        it = np.arange(total)
        ax.plot(it / scale, schedule(it), color=COLOURS.get(policy), label=policy, lw=1.2)
    ax.set(
        xlabel="training iteration (paper's units; batch 100)", ylabel="learning rate", yscale="log"
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)
    return ax


def plot_seed_bands(
    runs: dict[str, dict[int, dict[str, np.ndarray]]],
    scale: float = 1.0,
    paper: bool = True,
    ax: Any = None,
) -> Any:
    """Per policy, the mean test accuracy over seeds (line) and the range from the lowest to
    the highest seed (band), at the iterations every seed has reached; the paper's Table 1
    points as stars."""
    ax = ax or plt.gca()
    for policy_name, by_seed in runs.items():
        colour = COLOURS.get(policy_name)
        n = min(len(r["iteration"]) for r in by_seed.values())
        iterations = next(iter(by_seed.values()))["iteration"][:n] / scale
        accuracy = 100 * np.stack([r["test_accuracy"][:n] for r in by_seed.values()])
        label = f"{policy_name} (mean of {len(by_seed)} seed{'s' if len(by_seed) > 1 else ''})"
        ax.plot(iterations, accuracy.mean(0), color=colour, label=label, lw=1.4)
        if len(by_seed) > 1:
            ax.fill_between(
                iterations, accuracy.min(0), accuracy.max(0), color=colour, alpha=0.2, lw=0
            )
        if paper and policy_name in PAPER_TABLE1:
            it, acc = PAPER_TABLE1[policy_name]
            ax.plot(
                [it], [acc], marker="*", ms=13, ls="none", color=colour, markeredgecolor="white"
            )
    ax.set(xlabel="training iteration (paper's units; batch 100)", ylabel="test accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(
        fontsize=8,
        loc="upper left",
        bbox_to_anchor=(1.01, 1),
        borderaxespad=0,
        title="band: lowest to highest seed\nstars: paper, Table 1",
        title_fontsize=8,
    )
    return ax


def plot_seed_comparison(
    runs: dict[str, dict[int, dict[str, np.ndarray]]],
    scale: float = 1.0,
    accuracy_range: tuple[float, float] = (70.0, 83.0),
    title: str = "Test accuracy over seeds",
) -> Any:
    """The comparison's figure: accuracy bands over seeds (``plot_seed_bands``) on an axis
    that shows where the policies part (``accuracy_range``, in %), each policy's rate under it
    on the same iteration axis. Returns the figure."""
    fig, (ax_acc, ax_lr) = plt.subplots(
        2, 1, figsize=(10, 7), sharex=True, height_ratios=[2, 1], layout="constrained"
    )
    plot_seed_bands(runs, scale=scale, ax=ax_acc)
    ax_acc.set_ylim(*accuracy_range)
    ax_acc.set(title=title, xlabel="")  # the shared axis is labelled once, under the rate
    plot_lr(list(runs), scale=scale, ax=ax_lr)
    ax_lr.set_title("learning rate (log scale: the triangles' straight sides curve)", fontsize=9)
    return fig


def plot_dose_response(
    points: list[dict[str, Any]],
    fit: dict[str, Any] | None,
    ax: Any = None,
    by_seed: dict[str, Any] | None = None,
):
    """The data-quality dose-response: each seed's gap (triangular2 after 25,000 iterations
    minus fixed after 70,000, in points) against each copy's estimated distortion from the
    original CIFAR-10 (mean squared error per pixel value), the straight line through them
    carried back to the original (distortion 0) with its 95 % interval, and the paper's tie.

    ``fit`` is the pooled line and ``by_seed`` the line with a term per seed (both from
    :func:`clr.cifar10.ablations.fit_dose_response`); either may be None. The per-seed line is
    drawn through the mean of the seeds' intercepts, and its interval a little to the right of
    the original so the two intervals stay apart."""
    ax = ax or plt.gca()
    for k, p in enumerate(points):
        ax.plot(
            [p["mse"]] * len(p["gaps"]),
            p["gaps"],
            "o",
            color=f"C{k}",
            alpha=0.6,
            ms=5,
            label=f"{p['label']} (PSNR {p['psnr_db']:.1f} dB): each seed",
        )
        ax.plot(p["mse"], np.mean(p["gaps"]), "_", color=f"C{k}", ms=18, mew=2)
    x_max = max((p["mse"] for p in points), default=1.0) * 1.05
    x = np.linspace(0, x_max, 50)
    lines = [
        (fit, "--", "0.3", "pooled line", 0.0),
        (by_seed, ":", "tab:purple", "line with a term per seed", 0.015),
    ]
    for line, style, colour, name, offset in lines:
        if line is None:
            continue
        ax.plot(
            x,
            line["intercept"] + line["slope"] * x,
            style,
            color=colour,
            label=f"{name}; at the original: {line['intercept']:+.1f} points",
        )
        if line["low"] is not None:
            ax.errorbar(
                [offset * x_max],
                [line["intercept"]],
                yerr=[[line["intercept"] - line["low"]], [line["high"] - line["intercept"]]],
                fmt="s",
                color=colour,
                capsize=4,
                label=f"{name}: 95 % interval at the original (no distortion)",
            )
    ax.axhline(0.0, color="tab:red", lw=1, label="the paper: a tie (81.4 and 81.4 %)")
    ax.set(
        xlabel="distortion from the original CIFAR-10 (mean squared error per pixel value, "
        "estimated)",
        ylabel="triangular2 minus fixed (points)",
        title="The gap against the data's quality",
    )
    ax.set_xlim(left=-5)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return ax
