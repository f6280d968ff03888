"""The command line: ``python -m clr.experiments POLICY|range_test [options]``.

Errors a person can fix (a missing file, bad data, files of another run, a full disk) print one
line and exit with status 2; ``--traceback`` shows the whole story. Ctrl-C and SIGTERM stop a
run at once with one line saying what is saved, and exit with 130 and 143 (128 + the signal),
as a shell expects; the same command resumes.
"""

from __future__ import annotations

import argparse
import functools
import math
import os
import signal
import sys

from .protocol import ABLATIONS, OPTIMIZERS, POLICIES, PRESETS, RUNNABLE, TABLE3_POLICIES

__all__ = ["main"]

_DESCRIPTION = (
    "Train the paper's CIFAR-10 network (Caffe's cifar10_full) with one learning-rate policy of "
    "Smith's Table 1, resumably: run the same command again to continue, or to do nothing if it is "
    "done."
)


def _int_at_least(low: int):
    """An argparse type: an integer >= ``low``, or argparse's one-line error saying so."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}, got {value}")
        return value

    return parse


_positive_int, _seed = _int_at_least(1), _int_at_least(0)


def _share(low_inclusive: bool):
    """An argparse type: a finite number > 0 (or >= 0), as Ray counts CPUs and GPUs."""
    bound = ">= 0" if low_inclusive else "> 0"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number {bound}, got {text!r}") from None
        if not math.isfinite(value) or value < 0 or (value == 0 and not low_inclusive):
            raise argparse.ArgumentTypeError(f"must be a number {bound}, got {text}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m clr.experiments",
        description=_DESCRIPTION,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "policy_name",
        metavar="POLICY",
        choices=(*RUNNABLE, "range_test", "grid"),
        help=f"a policy to train (Table 1: {', '.join(POLICIES)}; the ablations: "
        f"{', '.join(ABLATIONS)}; with --optimizer, Table 3's {', '.join(TABLE3_POLICIES)}); "
        "range_test for Smith's LR range test; "
        "or grid for policies x seeds x optimizers on Ray (see the grid options)",
    )
    parser.add_argument(
        "--preset", choices=tuple(PRESETS), default="quick", help="the protocol's scale"
    )
    parser.add_argument(
        "--data",
        default=None,
        help="CIFAR-10 as .npz, .tar.gz or folder, or 'synthetic' "
        "(none: $CLR_CIFAR10, else Keras' download)",
    )
    parser.add_argument(
        "--out", default="runs", help="results folder (files go to OUT/PRESET/seedN/)"
    )
    parser.add_argument(
        "--seed", type=_seed, default=0, help="seeds the weights, the batch order and the subsets"
    )
    parser.add_argument(
        "--stop-after",
        type=_positive_int,
        default=None,
        help="stop, resumably, after this many iterations (default: run to the end)",
    )
    parser.add_argument(
        "--optimizer",
        choices=tuple(OPTIMIZERS),
        default="sgd",
        help="the optimizer, with the paper's Table 3 bounds (other than sgd: fixed, triangular)",
    )
    grid = parser.add_argument_group("grid (POLICY = grid, on Ray Tune; needs clr[grid])")
    grid.add_argument(
        "--policies", nargs="+", choices=RUNNABLE, metavar="POLICY", help="the grid's policies"
    )
    grid.add_argument("--seeds", nargs="+", type=_seed, default=[0], help="the grid's seeds")
    grid.add_argument(
        "--optimizers",
        nargs="+",
        choices=tuple(OPTIMIZERS),
        default=["sgd"],
        help="the grid's optimizers",
    )
    grid.add_argument(
        "--address", default=None, help="a Ray cluster to join (default: start one on this machine)"
    )
    grid.add_argument(
        "--cpus-per-trial", type=_share(False), default=2, help="CPUs each trial asks Ray for"
    )
    grid.add_argument(
        "--gpus-per-trial", type=_share(True), default=0, help="GPUs each trial asks Ray for"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--traceback", action="store_true", help="show the full traceback of an error"
    )
    return parser


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the main thread is, like Ctrl-C's KeyboardInterrupt."""

    signum = signal.SIGTERM


def _terminate(signum: int, frame: object) -> None:
    raise _Terminated()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.policy_name == "grid" and not args.policies:
        parser.error("grid needs --policies (and takes --seeds, --optimizers, --address)")
    if args.policy_name != "grid" and args.policies:
        parser.error("--policies belongs to grid; give one POLICY to run one policy")
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return _main(args)
    except KeyboardInterrupt as interrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not interrupt this
        signum = getattr(interrupt, "signum", signal.SIGINT)
        message = str(interrupt) or (
            f"interrupted by {signal.Signals(signum).name} before training started; run the same "
            "command to start again"
        )
        print(f"python -m clr.experiments: {message}", file=sys.stderr, flush=True)
        return 128 + int(signum)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _exit_at_once(stderr: int, signum: int, frame: object) -> None:
    """While Keras and TensorFlow import: some of their imports catch every exception, a
    KeyboardInterrupt included, so an interrupt raised there could be swallowed. Nothing is
    written yet, so stop at once, with the one line, on the real ``stderr`` (the import mutes
    file descriptor 2)."""
    name = signal.Signals(signum).name
    line = f"python -m clr.experiments: interrupted by {name} while starting; nothing was written\n"
    os.write(stderr, line.encode())
    os._exit(128 + signum)


def _main(args: argparse.Namespace) -> int:
    from .data import DataError
    from .range_test import run_range_test
    from .runner import RunError, import_keras_quietly, run_experiment

    stop = functools.partial(_exit_at_once, os.dup(2))
    handlers = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        import_keras_quietly()
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)

    verbose = 0 if args.quiet else 1
    try:
        if args.policy_name == "grid":
            from .grid import run_grid

            summary = run_grid(
                args.policies,
                args.seeds,
                args.optimizers,
                args.preset,
                args.data,
                args.out,
                address=args.address,
                cpus_per_trial=args.cpus_per_trial,
                gpus_per_trial=args.gpus_per_trial,
            )
            print(f"grid: {len(summary)} trials complete in {args.out}")
            return 0
        if args.policy_name == "range_test":
            path = run_range_test(args.preset, args.data, args.out, args.seed, verbose=verbose)
        else:
            path = run_experiment(
                args.policy_name,
                args.preset,
                args.data,
                args.out,
                args.seed,
                verbose=verbose,
                stop_after=args.stop_after,
                optimizer_name=args.optimizer,
            )
    except (DataError, RunError, OSError, ValueError) as err:
        if args.traceback:
            raise
        text = str(err).splitlines()[0] if str(err) else type(err).__name__
        print(f"python -m clr.experiments: error: {text}", file=sys.stderr)
        return 2
    print(f"results: {path}")
    return 0
