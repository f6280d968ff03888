"""The comparison as a grid on Ray Tune: policies x seeds x optimizers, one trial each.

    python -m clr.experiments grid --policies fixed triangular2 --seeds 0 1 2 --preset paper \
        [--optimizers sgd nesterov ...] [--data PATH] [--out results] [--address ADDRESS]

Each trial runs :func:`clr.cifar10.runner.run_experiment`, which writes the same CSV,
provenance and checkpoint as a single run, in the same layout, and resumes from its own
checkpoint. So:

- a trial whose worker dies is restarted by Ray (``FailureConfig``) and continues from its
  last checkpoint; its CSV keeps every evaluation once;
- killing the whole command and running it again continues the grid; finished runs are left
  alone (the runner sees they are complete and trains nothing).

Without ``--address`` the command starts a local Ray cluster of its own (dashboard off, usage
statistics off, every server listening on 127.0.0.1 only, Ray's token authentication on) and
stops it at the end; with one, it joins that cluster.
Every trial asks for ``--cpus-per-trial`` CPUs (and ``--gpus-per-trial`` GPUs).

On a cluster, ``--out`` must be storage every node sees at the same path (a shared file
system): the runs' files are written there, and Ray Tune's own records go to
``OUT/ray_results`` (its ``storage_path``). Without shared storage each trial writes on the
node that ran it, and a trial restarted on another node finds no checkpoint and starts over.

Importing this module does not import Ray; :func:`run_grid` does.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import time
from pathlib import Path
from typing import Any

from .._checks import check_choice, check_int, check_number
from .protocol import ALL_POLICIES, OPTIMIZERS, PRESETS, RUNNABLE, TABLE3_POLICIES

__all__ = ["grid_trials", "run_grid"]

# A test hook: the first attempt of each trial kills its own worker after this many iterations
# (os._exit, as a crashed worker would), to check that Ray restarts it and nothing is lost.
_DIE_AFTER = "CLR_GRID_TEST_DIE_AFTER"


def grid_trials(
    policies: list[str], seeds: list[int], optimizers: list[str]
) -> list[dict[str, Any]]:
    """Every (policy, seed, optimizer) of the grid, checked; other optimizers than SGD run only
    the rows of the paper's Table 3 (``protocol.TABLE3_POLICIES``: fixed, triangular and
    triangular_70k), SGD every Table 1 policy and ablation."""
    if not policies or not seeds or not optimizers:
        raise ValueError(
            "A grid needs at least one policy, one seed and one optimizer. Received: "
            f"policies={policies!r}, seeds={seeds!r}, optimizers={optimizers!r}"
        )
    for name in policies:
        check_choice("policies", name, RUNNABLE)
    for name in optimizers:
        check_choice("optimizers", name, tuple(OPTIMIZERS))
    seeds = [check_int("seeds", seed, low=0) for seed in seeds]
    trials = []
    for optimizer_name, policy_name, seed in itertools.product(optimizers, policies, seeds):
        if (optimizer_name != "sgd" and policy_name not in TABLE3_POLICIES) or (
            optimizer_name == "sgd" and policy_name not in ALL_POLICIES
        ):
            continue
        trials.append({"policy_name": policy_name, "seed": seed, "optimizer_name": optimizer_name})
    if not trials:
        raise ValueError(
            f"No trial left: optimizers other than sgd run only {TABLE3_POLICIES}, and sgd "
            f"runs none of {tuple(p for p in TABLE3_POLICIES if p not in ALL_POLICIES)}. Received: "
            f"policies={policies!r}, optimizers={optimizers!r}"
        )
    return trials


def _trial(space: dict[str, Any]) -> None:
    """One Ray Tune trial: the resumable runner, with a line of progress per evaluation."""
    from ray import tune

    config = {**space["trial"], **{k: v for k, v in space.items() if k != "trial"}}
    from .runner import run_experiment

    name = f"{config['policy_name']} seed {config['seed']} {config['optimizer_name']}"
    started = time.monotonic()
    first: dict[str, float] = {}

    def progress(row: dict[str, Any]) -> None:
        first.setdefault("iteration", row["iteration"])
        done = row["iteration"] - first["iteration"]
        rate = done / max(time.monotonic() - started, 1e-9)
        eta = (row["total"] - row["iteration"]) / rate if rate > 0 else float("nan")
        eta_text = "?" if eta != eta else time.strftime("%H:%M:%S", time.gmtime(eta))
        print(
            f"grid | {name}: iteration {int(row['iteration']):,} of {row['total']:,}, "
            f"test accuracy {100 * row['test_accuracy']:.1f} %, ETA {eta_text}",
            flush=True,
        )
        tune.report(
            {"iteration": int(row["iteration"]), "test_accuracy": float(row["test_accuracy"])}
        )

    kwargs = dict(
        policy_name=config["policy_name"],
        preset=config["preset"],
        source=config["data"],
        out=config["out"],
        seed=config["seed"],
        optimizer_name=config["optimizer_name"],
        verbose=0,
        on_evaluation=progress,
    )
    die_after = os.environ.get(_DIE_AFTER)
    marker = (
        Path(config["out"])
        / f".died-{config['policy_name']}-{config['seed']}-{config['optimizer_name']}"
    )
    if die_after and not marker.exists():
        run_experiment(**kwargs, stop_after=int(die_after))
        marker.touch()
        os._exit(1)
    path = run_experiment(**kwargs)
    print(f"grid | {name}: complete, {path}", flush=True)


@contextlib.contextmanager
def _loopback_node() -> Any:
    """A local cluster whose servers listen on 127.0.0.1 only.

    Ray turns a node address of 127.0.0.1 into the machine's reachable address (so that other
    nodes could join) and then listens on all interfaces (measured with Ray 2.60:
    ``services.resolve_ip_for_localhost``). A one-machine grid wants no other node, so the
    address is kept as given while the cluster starts; GCS, raylet, workers and agents then
    bind to loopback (tests/test_servers.py checks every listening socket).
    """
    import ray._private.services as services

    resolve = services.resolve_ip_for_localhost
    services.resolve_ip_for_localhost = lambda host: host
    try:
        yield
    finally:
        services.resolve_ip_for_localhost = resolve


def run_grid(
    policies: list[str],
    seeds: list[int],
    optimizers: list[str] | None = None,
    preset: str = "paper",
    source: str | None = None,
    out: str | os.PathLike = "runs",
    address: str | None = None,
    cpus_per_trial: float = 2,
    gpus_per_trial: float = 0,
    max_failures: int = 3,
) -> list[dict[str, Any]]:
    """Run every (policy, seed, optimizer) as a Ray Tune trial; return each trial's config and
    its last reported result. See the module docstring for resuming, faults and storage."""
    optimizers = optimizers or ["sgd"]
    check_choice("preset", preset, tuple(PRESETS))
    # Ray would queue a trial that asks for more than the cluster has, and wait for ever.
    cpus_per_trial = check_number("cpus_per_trial", cpus_per_trial, low=0.0, high=1024.0)
    gpus_per_trial = check_number(
        "gpus_per_trial", gpus_per_trial, low=0.0, low_inclusive=True, high=1024.0
    )
    max_failures = check_int("max_failures", max_failures, low=0)
    trials = grid_trials(policies, seeds, optimizers)
    out = Path(out).resolve()  # every worker resolves the same path
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no reports to the internet
    import ray
    from ray import tune

    if address is None:
        with _loopback_node():
            ray.init(
                include_dashboard=False,
                _node_ip_address="127.0.0.1",
                num_cpus=max(os.cpu_count() or 1, math.ceil(cpus_per_trial)),
                object_store_memory=200 * 1024**2,  # the trials pass no data through Ray
                log_to_driver=True,
                configure_logging=False,
            )
    else:
        ray.init(address=address, log_to_driver=True)
    try:
        gpus = ray.cluster_resources().get("GPU", 0)
        if address is None and gpus_per_trial > gpus:
            raise ValueError(
                f"`gpus_per_trial` must be at most the {gpus:g} GPUs this machine has (a trial "
                f"would wait for ever). Received: gpus_per_trial={gpus_per_trial:g}"
            )
        source_path = source if source in (None, "synthetic") else str(Path(source).resolve())
        space = {
            "trial": tune.grid_search(trials),
            "preset": preset,
            "data": source_path,
            "out": str(out),
        }
        trainable = tune.with_resources(_trial, {"cpu": cpus_per_trial, "gpu": gpus_per_trial})
        tuner = tune.Tuner(
            trainable,
            param_space=space,
            run_config=tune.RunConfig(
                name=f"grid-{preset}",
                storage_path=str(out / "ray_results"),
                failure_config=tune.FailureConfig(max_failures=max_failures),
                verbose=0,
            ),
        )
        results = tuner.fit()
        summary = []
        for result in results:
            summary.append(
                {
                    **result.config["trial"],
                    "metrics": dict(result.metrics or {}),
                    "error": result.error,
                }
            )
        failed = [s for s in summary if s["error"] is not None]
        if failed:
            raise RuntimeError(
                f"{len(failed)} of {len(summary)} trials failed after {max_failures} restarts: "
                + "; ".join(
                    f"{s['policy_name']} seed {s['seed']} {s['optimizer_name']}: {s['error']}"
                    for s in failed
                )
            )
        return summary
    finally:
        ray.shutdown()
