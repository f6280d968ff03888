"""The LR range test on the user's data pipeline (issue 21): arrays, tf.data.Dataset,
keras.utils.PyDataset, a generator and a PyTorch DataLoader give the same result for the same
batches, on whichever Keras backend runs the tests (make test: TensorFlow, JAX and torch). A
finite pipeline shorter than the sweep, an infinite one without its length, and targets given
twice are errors that say so.
"""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import clr  # noqa: E402
from clr._pipelines import training_batches  # noqa: E402

N_BATCHES, BATCH = 12, 16


def data(n=N_BATCHES * BATCH, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5, 0.0]) > 0).astype("int32")
    return x, y


def model():
    keras.utils.set_random_seed(1)
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                          keras.layers.Dense(2)])  # fmt: skip
    m.compile(keras.optimizers.SGD(0.01, momentum=0.9),
              keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])  # fmt: skip
    return m


def the_batches():
    """The batches the array path sweeps, in its order: what every pipeline below yields."""
    x, y = data()
    batches = training_batches(x, y, batch_size=BATCH, iterations=N_BATCHES, epochs=None, seed=0)
    return [(bx, by) for bx, by, _ in batches]


class Batches(keras.utils.PyDataset):
    def __init__(self, batches, infinite=False):
        super().__init__()
        self.batches, self.infinite = batches, infinite

    def __len__(self):
        return len(self.batches)

    @property
    def num_batches(self):
        return None if self.infinite else len(self.batches)

    def __getitem__(self, i):
        return self.batches[i % len(self.batches)]


def tf_dataset(batches, repeat=False):
    tf = pytest.importorskip("tensorflow")
    xs = np.stack([b[0] for b in batches])
    ys = np.stack([b[1] for b in batches])
    dataset = tf.data.Dataset.from_tensor_slices((xs, ys))
    return dataset.repeat() if repeat else dataset


def data_loader(batches):
    torch = pytest.importorskip("torch")

    class Source(torch.utils.data.Dataset):
        def __len__(self):
            return len(batches)

        def __getitem__(self, i):
            return torch.as_tensor(batches[i][0]), torch.as_tensor(batches[i][1])

    return torch.utils.data.DataLoader(Source(), batch_size=None, shuffle=False)


PIPELINES = {
    "tf.data": tf_dataset,
    "PyDataset": Batches,
    "generator": lambda batches: (b for b in batches),
    "DataLoader": data_loader,
}


def sweep(x, y=None, **kwargs):
    m = model()
    before = [keras.ops.convert_to_numpy(v) for v in m.weights]
    result = clr.lr_range_test(m, x, y, start_lr=1e-3, end_lr=0.5, verbose=0, stop_factor=None,
                               **kwargs)  # fmt: skip
    after = [keras.ops.convert_to_numpy(v) for v in m.weights]
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)  # put back bit for bit
    return result


@pytest.fixture(scope="module")
def on_arrays():
    x, y = data()
    return sweep(x, y, batch_size=BATCH, iterations=N_BATCHES)


@pytest.mark.parametrize("kind", list(PIPELINES))
def test_each_pipeline_gives_the_arrays_result_for_the_same_batches(kind, on_arrays):
    result = sweep(PIPELINES[kind](the_batches()), iterations=N_BATCHES)
    np.testing.assert_allclose(result.loss, on_arrays.loss, rtol=1e-6)
    np.testing.assert_allclose(result.accuracy, on_arrays.accuracy)
    np.testing.assert_array_equal(result.lr, on_arrays.lr)


@pytest.mark.parametrize("kind", ["tf.data", "PyDataset", "DataLoader"])
def test_epochs_read_a_reiterable_pipeline_again(kind):
    batches = the_batches()
    twice = sweep(PIPELINES[kind](batches), epochs=2)
    assert twice.planned_iterations == 2 * N_BATCHES and len(twice.loss) == 2 * N_BATCHES
    as_arrays = sweep(PIPELINES["generator"](batches + batches), iterations=2 * N_BATCHES)
    np.testing.assert_allclose(twice.loss, as_arrays.loss, rtol=1e-6)


@pytest.mark.parametrize("kind", ["tf.data", "PyDataset", "DataLoader"])
def test_a_finite_pipeline_shorter_than_the_sweep_says_so(kind):
    with pytest.raises(ValueError, match=r"has 12 batches, fewer than the sweep's 20 iterations: "
                                         r"pass epochs=1\.67"):  # fmt: skip
        sweep(PIPELINES[kind](the_batches()), iterations=20)


def test_a_generator_that_runs_out_says_so_and_still_restores():
    with pytest.raises(ValueError, match=r"ran out after 12 batches, before the sweep's 20"):
        sweep(PIPELINES["generator"](the_batches()), iterations=20)
    with pytest.raises(ValueError, match=r"no known length: give the sweep's length as"):
        sweep(PIPELINES["generator"](the_batches()), epochs=1)


@pytest.mark.parametrize("make", [lambda b: tf_dataset(b, repeat=True), lambda b: Batches(b, True)],
                         ids=["tf.data repeat", "PyDataset infinite"])  # fmt: skip
def test_an_infinite_pipeline_needs_the_sweeps_length(make):
    with pytest.raises(ValueError, match=r"has no end: give the sweep's length as `iterations`"):
        sweep(make(the_batches()), epochs=1)
    result = sweep(make(the_batches()), iterations=30)
    assert len(result.loss) == 30


def test_targets_twice_and_batch_size_with_a_pipeline_are_refused():
    x, y = data()
    with pytest.raises(ValueError, match=r"`y` and `sample_weight` must be None when `x` is a"):
        sweep(Batches(the_batches()), y, iterations=N_BATCHES)
    with pytest.raises(ValueError, match=r"`batch_size` must be None when `x` is a PyDataset"):
        sweep(Batches(the_batches()), iterations=N_BATCHES, batch_size=16)
    with pytest.raises(
        ValueError, match=r"Each batch of `x` \(iterator\) must be \(x,\), \(x, y\)"
    ):
        sweep((b + b for b in the_batches()), iterations=N_BATCHES)


@pytest.mark.parametrize("kind", list(PIPELINES))
def test_validation_data_from_a_pipeline(kind, on_arrays):
    x, y = data()
    x_val, y_val = data(64, seed=5)
    arrays = sweep(x, y, batch_size=BATCH, iterations=N_BATCHES, validation_data=(x_val, y_val),
                   eval_every=4)  # fmt: skip
    val_batches = [(x_val[k : k + 16], y_val[k : k + 16]) for k in range(0, 64, 16)]
    piped = sweep(x, y, batch_size=BATCH, iterations=N_BATCHES,
                  validation_data=PIPELINES[kind](val_batches), eval_every=4)  # fmt: skip
    np.testing.assert_array_equal(piped.val_iterations, arrays.val_iterations)
    np.testing.assert_allclose(piped.val_loss, arrays.val_loss, rtol=1e-5)
    np.testing.assert_allclose(piped.val_accuracy, arrays.val_accuracy)


def test_endless_validation_needs_its_steps():
    x, y = data()
    endless = Batches(the_batches(), infinite=True)
    with pytest.raises(ValueError, match=r"`validation_data` has no end: give `validation_steps`"):
        sweep(x, y, batch_size=BATCH, iterations=N_BATCHES, validation_data=endless)
    result = sweep(x, y, batch_size=BATCH, iterations=N_BATCHES, validation_data=endless,
                   validation_steps=3)  # fmt: skip
    assert len(result.val_loss) > 0


ARRAY_MISTAKES = {
    # Each escaped before as an IndexError from numpy, or a Keras error about another argument.
    "y shorter than x": (
        lambda x, y: dict(y=y[:10]),
        r"`y` must hold one entry per example of `x` \(192\). Received: 10",
    ),
    "sample_weight short": (
        lambda x, y: dict(sample_weight=np.ones(3)),
        r"`sample_weight` must hold one entry per example",
    ),
    "no examples": (lambda x, y: dict(x=x[:0], y=y[:0]), r"`x` holds no examples"),
    "a path": (
        lambda x, y: dict(x="train.npz", y=None),
        r"`x` must be an array .* Received: x of type str",
    ),
    "nested lists": (
        lambda x, y: dict(x=x.tolist()),
        r"`x` must be an array .*np\.asarray on a Python list",
    ),
    "inputs of two lengths": (
        lambda x, y: dict(x={"a": x, "b": x[:5]}),
        r"The arrays of `x` must hold as many examples each: \[5, 192\]",
    ),
    "validation of two lengths": (
        lambda x, y: dict(validation_data=(x, y[:5])),
        r"`validation_data\[1\]` must hold one entry per example",
    ),
    "a sweep that fills the memory": (
        lambda x, y: dict(iterations=10**12),
        r"`iterations` must be an integer in \[10, 10000000\]",
    ),
    "features the model does not take": (
        lambda x, y: dict(x=np.ones((192, 7), "float32")),
        r"The model cannot train on the first batch of `x` \(x \(16, 7\), y \(16,\)\): ",
    ),
}


@pytest.mark.parametrize("mistake", list(ARRAY_MISTAKES))
def test_array_mistakes_are_named_and_the_model_is_untouched(mistake):
    change, message = ARRAY_MISTAKES[mistake]
    x, y = data()
    kwargs = {"x": x, "y": y, "iterations": N_BATCHES, "batch_size": BATCH, **change(x, y)}
    m = model()
    before = [keras.ops.convert_to_numpy(v) for v in m.weights]
    with pytest.raises((ValueError, TypeError), match=message) as info:
        clr.lr_range_test(m, start_lr=1e-3, end_lr=0.5, verbose=0, **kwargs)
    assert "\n" not in str(info.value)
    for a, b in zip(before, [keras.ops.convert_to_numpy(v) for v in m.weights]):
        np.testing.assert_array_equal(a, b)
