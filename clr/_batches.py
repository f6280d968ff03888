"""Which examples each training iteration sees: seeded, a function of the iteration alone, so
a resumed run sees exactly the batches an uninterrupted one would. numpy only."""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["epoch_order", "batch_indices"]


@functools.lru_cache(maxsize=4)  # one epoch's order, reused for all its batches
def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The order of the ``n`` examples in ``epoch``, from ``seed``."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def batch_indices(
    iteration: int, n: int, batch_size: int, seed: int, reshuffle: bool = True
) -> np.ndarray:
    """The examples of ``iteration``: full batches in the order of the epoch (a partial last
    batch is dropped), a new order every epoch, or with ``reshuffle=False`` one order repeated
    every epoch, as Caffe reads its database (that order is epoch 1's)."""
    epoch, b = divmod(iteration, n // batch_size)
    return epoch_order(seed, epoch if reshuffle else 1, n)[b * batch_size : (b + 1) * batch_size]
