"""The training batches of an LR range test, from whatever ``model.fit`` accepts.

In-memory arrays (numpy, or a dict/list of them for several inputs) are batched here, in a
seeded order, a new one each epoch. A pipeline brings its own batches, in its own order:
``tf.data.Dataset``, ``keras.utils.PyDataset``, a PyTorch ``DataLoader``, or a Python
generator/iterator of ``(x, y)`` or ``(x, y, sample_weight)``. Each batch is handed over as
numpy arrays, so every backend trains on the same numbers whatever the source.

How long a sweep can be:

- arrays: any number of iterations (epochs follow each other);
- a finite pipeline (its length known): one pass, or ``epochs`` passes for one that can be
  iterated again (a Dataset, PyDataset or DataLoader); asking for more iterations than that is
  an error that says so;
- a generator: one pass; running out before the sweep ends is an error that says so;
- an infinite pipeline (``dataset.repeat()``, an endless generator): ``iterations`` must be
  given.

Imports nothing heavy: TensorFlow, torch and Keras are recognised by their types' modules.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from ._batches import batch_indices
from ._checks import check_int, check_number

__all__ = ["Batches", "training_batches", "validation_arrays"]

Batch = tuple[Any, Any, Any]  # x, y, sample_weight (numpy, or nested structures of numpy)


def _module(obj: Any) -> str:
    return type(obj).__module__ or ""


def _kind(x: Any) -> str:
    """``"arrays"``, ``"tf.data"``, ``"PyDataset"``, ``"DataLoader"`` or ``"iterator"``."""
    if _module(x).startswith("tensorflow") and hasattr(x, "cardinality"):
        return "tf.data"
    if any(c.__name__ == "PyDataset" for c in type(x).__mro__):
        return "PyDataset"
    if _module(x).startswith("torch.utils.data") or any(
        c.__name__ == "DataLoader" and c.__module__.startswith("torch") for c in type(x).__mro__
    ):
        return "DataLoader"
    if inspect.isgenerator(x) or (hasattr(x, "__next__") and hasattr(x, "__iter__")):
        return "iterator"
    return "arrays"


def _to_numpy(value: Any) -> Any:
    """A batch's arrays (TensorFlow, torch, JAX or numpy, possibly nested) as numpy."""
    if value is None:
        return None
    if isinstance(value, dict):
        return {k: _to_numpy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_numpy(v) for v in value)
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu()
    return np.asarray(value)


def _unpack(batch: Any, where: str) -> Batch:
    """``(x, y, sample_weight)`` from a batch as Keras reads one: a tuple of 1 to 3 items, or x
    alone."""
    if isinstance(batch, list):
        batch = tuple(batch)
    if not isinstance(batch, tuple):
        return _to_numpy(batch), None, None
    if not 1 <= len(batch) <= 3:
        raise ValueError(
            f"Each batch of {where} must be (x,), (x, y) or (x, y, sample_weight); one has "
            f"{len(batch)} items."
        )
    x, y, w = (*batch, None, None)[:3]
    return _to_numpy(x), _to_numpy(y), _to_numpy(w)


def _length(x: Any, kind: str) -> float | None:
    """Batches per pass: an int, ``math.inf``, or None when unknown."""
    if kind == "tf.data":
        n = int(x.cardinality())
        return math.inf if n == -1 else (None if n < 0 else n)
    if kind == "PyDataset":
        n = getattr(x, "num_batches", None)
        if n is None and hasattr(type(x), "num_batches"):
            return math.inf  # Keras' PyDataset: num_batches None means infinite
        return len(x) if n is None else n
    if kind == "DataLoader":
        try:
            return len(x)
        except TypeError:  # an IterableDataset without __len__
            return None
    return None


# The sweep keeps a few numbers per iteration; beyond this a typo would fill the memory.
MAX_SWEEP = 10_000_000


def _examples(name: str, value: Any) -> int:
    """Examples in an array, or in every array of a dict/list/tuple of them (one count for
    all); plain Python lists of numbers are refused, as Keras would read them as many inputs."""
    if isinstance(value, dict) and value:
        counts = {_examples(f"{name}[{k!r}]", v) for k, v in value.items()}
    elif isinstance(value, (list, tuple)) and value and all(hasattr(v, "shape") for v in value):
        counts = {_examples(f"{name}[{k}]", v) for k, v in enumerate(value)}
    elif hasattr(value, "shape") and hasattr(value, "__len__") and len(value.shape) >= 1:
        return int(value.shape[0])
    else:
        raise TypeError(
            f"`{name}` must be an array (numpy or a tensor, with one entry per example), a dict "
            "or list of them for a model of several inputs; or, for `x`, a tf.data.Dataset, a "
            "keras.utils.PyDataset, a PyTorch DataLoader or a generator of batches. Received: "
            f"{name} of type {type(value).__name__}"
            + (" (use np.asarray on a Python list)" if isinstance(value, list) else "")
        )
    if len(counts) != 1:
        raise ValueError(
            f"The arrays of `{name}` must hold as many examples each: {sorted(counts)}."
        )
    return counts.pop()


def _take(x: Any, idx: np.ndarray) -> Any:
    if x is None:
        return None
    if isinstance(x, dict):
        return {k: _take(v, idx) for k, v in x.items()}
    if isinstance(x, (list, tuple)) and x and not np.isscalar(x[0]):
        return type(x)(_take(v, idx) for v in x)
    return np.asarray(x)[idx]


class Batches:
    """The sweep's batches: ``len(batches)`` iterations, iterated once, each ``(x, y, w)``."""

    def __init__(
        self,
        x: Any,
        y: Any = None,
        *,
        batch_size: int | None,
        iterations: int | None,
        epochs: float | None,
        seed: int,
        sample_weight: Any = None,
    ) -> None:
        self.kind = _kind(x)
        self.x, self.y, self.sample_weight, self.seed = x, y, sample_weight, seed
        if (iterations is None) == (epochs is None):
            raise ValueError(
                "Give exactly one of `iterations` and `epochs`. Received: "
                f"iterations={iterations!r}, epochs={epochs!r}"
            )
        if epochs is not None:
            epochs = check_number("epochs", epochs, low=0.0)
        if self.kind == "arrays":
            n = _examples("x", x)
            if n == 0:
                raise ValueError("`x` holds no examples.")
            for name, value in (("y", y), ("sample_weight", sample_weight)):
                if value is not None and _examples(name, value) != n:
                    raise ValueError(
                        f"`{name}` must hold one entry per example of `x` ({n:,}). Received: "
                        f"{_examples(name, value):,}"
                    )
            self.batch_size = check_int("batch_size", 32 if batch_size is None else batch_size,
                                        low=1, high=max(n, 1))  # fmt: skip
            self.length = n // self.batch_size
            if epochs is not None:
                iterations = round(epochs * self.length)
            self.iterations = check_int("iterations", iterations, low=10, high=MAX_SWEEP)
            return
        where = f"`x` ({self.kind})"
        if y is not None or sample_weight is not None:
            raise ValueError(
                f"`y` and `sample_weight` must be None when `x` is a {self.kind}: its batches "
                "carry the targets."
            )
        if batch_size is not None:
            raise ValueError(
                f"`batch_size` must be None when `x` is a {self.kind}: it makes its own batches. "
                f"Received: batch_size={batch_size!r}"
            )
        self.batch_size = None
        self.length = _length(x, self.kind)
        if epochs is not None:
            if self.length is None or self.length == math.inf:
                raise ValueError(
                    f"{where} has {'no end' if self.length == math.inf else 'no known length'}: "
                    "give the sweep's length as `iterations`, not `epochs`."
                )
            iterations = round(epochs * self.length)
        elif self.length == math.inf or self.length is None:
            pass
        elif iterations is not None and iterations > self.length:
            raise ValueError(
                f"{where} has {self.length:,} batches, fewer than the sweep's "
                f"{iterations:,} iterations: pass epochs={iterations / self.length:.3g} to go "
                f"through it more than once, repeat it, or sweep fewer iterations."
            )
        self.iterations = check_int("iterations", iterations, low=10, high=MAX_SWEEP)
        self.where = where

    def __len__(self) -> int:
        return self.iterations

    def __iter__(self) -> Iterator[Batch]:
        if self.kind == "arrays":
            n = _examples("x", self.x)
            for i in range(self.iterations):
                idx = batch_indices(i, n, self.batch_size, self.seed)
                yield (_take(self.x, idx), _take(self.y, idx), _take(self.sample_weight, idx))
            return
        done = 0
        finite = self.length is not None and self.length != math.inf
        passes = math.ceil(self.iterations / self.length) if finite else 1
        for _ in range(passes):
            for batch in _one_pass(self.x, self.kind, self.length):
                yield _unpack(batch, self.where)
                done += 1
                if done == self.iterations:
                    return
            if self.kind == "PyDataset" and hasattr(self.x, "on_epoch_end"):
                self.x.on_epoch_end()
        raise ValueError(
            f"{self.where} ran out after {done:,} batches, before the sweep's "
            f"{self.iterations:,} iterations: give a longer pipeline, or iterations={done}."
        )


def _one_pass(x: Any, kind: str, length: float | None) -> Iterator[Any]:
    """One pass over a pipeline's batches, as ``model.fit`` would read them."""
    if kind == "PyDataset":
        i = 0
        while length is None or length == math.inf or i < length:
            yield x[i]
            i += 1
        return
    yield from x  # tf.data (eager), DataLoader, generator


def training_batches(x: Any, y: Any = None, **kwargs: Any) -> Batches:
    """The sweep's training batches (see the module docstring)."""
    return Batches(x, y, **kwargs)


def validation_arrays(validation_data: Any, steps: int | None) -> tuple[Any, Any, Any]:
    """Validation data as in-memory arrays ``(x, y, sample_weight)``, read once: a tuple of
    arrays as it is; a pipeline's batches (``steps`` of them, or all of a finite one)
    concatenated."""
    if isinstance(validation_data, (tuple, list)) and _kind(validation_data) == "arrays":
        if not 2 <= len(validation_data) <= 3:
            raise ValueError(
                "`validation_data` must be (x_val, y_val), (x_val, y_val, sample_weight) or a "
                f"pipeline. Received a tuple of {len(validation_data)} items."
            )
        x, y, w = (*validation_data, None)[:3]
        n = _examples("validation_data[0]", x)
        for k, value in ((1, y), (2, w)):
            if value is not None and _examples(f"validation_data[{k}]", value) != n:
                raise ValueError(
                    f"`validation_data[{k}]` must hold one entry per example of "
                    f"`validation_data[0]` ({n:,}). Received: "
                    f"{_examples(f'validation_data[{k}]', value):,}"
                )
        return _to_numpy(x), _to_numpy(y), _to_numpy(w)
    kind = _kind(validation_data)
    if kind == "arrays":
        raise TypeError(
            "`validation_data` must be (x_val, y_val) arrays, a tf.data.Dataset, a PyDataset, a "
            f"DataLoader or a generator. Received: {type(validation_data).__name__}"
        )
    if steps is not None:
        steps = check_int("validation_steps", steps, low=1)
    length = _length(validation_data, kind)
    if steps is None and length == math.inf:
        raise ValueError(
            "`validation_data` has no end: give `validation_steps`, the batches to evaluate."
        )
    where = f"`validation_data` ({kind})"
    parts = []
    for k, batch in enumerate(_one_pass(validation_data, kind, length)):
        if steps is not None and k == steps:
            break
        parts.append(_unpack(batch, where))
    if not parts:
        raise ValueError(f"{where} yielded no batch.")
    if steps is not None and len(parts) < steps:
        raise ValueError(f"{where} ran out after {len(parts)} batches; validation_steps={steps}.")

    def concat(values: list[Any]) -> Any:
        if values[0] is None:
            return None
        if isinstance(values[0], dict):
            return {k: concat([v[k] for v in values]) for k in values[0]}
        if isinstance(values[0], (list, tuple)):
            return type(values[0])(concat(list(v)) for v in zip(*values))
        return np.concatenate(values)

    return tuple(concat([p[i] for p in parts]) for i in range(3))  # type: ignore[return-value]
