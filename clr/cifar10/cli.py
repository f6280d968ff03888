"""The command line: ``python -m clr.experiments POLICY|range_test [options]``.

Errors a person can fix (a missing file, bad data, files of another run) print one line and
exit with status 2; ``--traceback`` shows the whole story.
"""

from __future__ import annotations

import argparse
import os
import sys

from .protocol import POLICIES, PRESETS

__all__ = ["main"]

_DESCRIPTION = (
    "Train the paper's CIFAR-10 network (Caffe's cifar10_full) with one learning-rate policy of "
    "Smith's Table 1, resumably: run the same command again to continue, or to do nothing if it is "
    "done."
)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m clr.experiments",
        description=_DESCRIPTION,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "policy_name",
        metavar="POLICY",
        choices=(*POLICIES, "range_test"),
        help=f"a policy to train ({', '.join(POLICIES)}), or range_test for Smith's LR range test",
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
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--traceback", action="store_true", help="show the full traceback of an error"
    )
    return parser


def _import_keras_quietly() -> None:
    """Load Keras (and TensorFlow) with C-level stderr muted: TensorFlow 2.21 prints its oneDNN
    notice and absl's start-up warning whatever TF_CPP_MIN_LOG_LEVEL says. An import error
    still raises, with its message, once stderr is back."""
    if "keras" in sys.modules:
        return
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        import keras  # noqa: F401

        keras.ops.zeros(1)  # the first op starts the runtime, which logs too
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _import_keras_quietly()
    from .data import DataError
    from .runner import RunError, run_experiment, run_range_test

    verbose = 0 if args.quiet else 1
    try:
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
            )
    except (DataError, RunError, FileNotFoundError) as err:
        if args.traceback:
            raise
        print(f"python -m clr.experiments: error: {err}", file=sys.stderr)
        return 2
    print(f"results: {path}")
    return 0
