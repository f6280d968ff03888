"""Models saved before `clr.keras` became a package (clr 0.2.0, one module clr/keras.py, files
in tests/data/ made by tests/data/make_saved_before_keras_package.py) still load: the same
classes, schedules that give the same values, the optimizer's step count and the weights, and
training continues from them."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest

import clr.keras as ck

DATA = Path(__file__).resolve().parent / "data"
RECORD = json.loads((DATA / "saved_before_keras_package.json").read_text())
STEPS = RECORD["steps"]


def _values(schedule) -> list[float]:
    return [float(keras.ops.convert_to_numpy(schedule(step))) for step in STEPS]


def test_sgd_with_cyclical_rate_and_momentum_loads():
    model = keras.saving.load_model(DATA / "saved_before_keras_package.keras")
    optimizer = model.optimizer
    assert type(optimizer) is ck.SGD and optimizer.nesterov
    assert isinstance(ck.learning_rate_schedule(optimizer), ck.CyclicalLearningRate)
    assert isinstance(optimizer.momentum, ck.CyclicalMomentum)
    assert optimizer.lr_multipliers == {"out/bias": 2.0}
    np.testing.assert_allclose(
        _values(ck.learning_rate_schedule(optimizer)), RECORD["sgd"]["lr"], rtol=1e-6
    )
    np.testing.assert_allclose(_values(optimizer.momentum), RECORD["sgd"]["momentum"], rtol=1e-6)
    assert int(keras.ops.convert_to_numpy(optimizer.iterations)) == RECORD["sgd"]["iterations"]
    for got, saved in zip(model.get_weights(), RECORD["sgd"]["weights"]):
        np.testing.assert_allclose(got, saved, rtol=1e-6)
    x = np.ones((8, 3), "float32")
    model.fit(x, x.sum(axis=1, keepdims=True), verbose=0)  # and it trains on
    assert int(keras.ops.convert_to_numpy(optimizer.iterations)) == RECORD["sgd"]["iterations"] + 1


def test_adam_with_a_composed_schedule_and_one_cycle_beta_1_loads():
    model = keras.saving.load_model(DATA / "saved_before_keras_package_adam.keras")
    optimizer = model.optimizer
    assert type(optimizer) is ck.Adam
    assert isinstance(ck.learning_rate_schedule(optimizer), ck.PolicySchedule)
    assert isinstance(optimizer._beta_1, ck.OneCycleMomentum)
    np.testing.assert_allclose(
        _values(ck.learning_rate_schedule(optimizer)), RECORD["adam"]["lr"], rtol=1e-6
    )
    np.testing.assert_allclose(_values(optimizer._beta_1), RECORD["adam"]["beta_1"], rtol=1e-6)
    for got, saved in zip(model.get_weights(), RECORD["adam"]["weights"]):
        np.testing.assert_allclose(got, saved, rtol=1e-6)


@pytest.mark.parametrize("name", ["saved_before_keras_package.keras"])
def test_the_saved_config_names_the_classes_by_their_registered_names(name):
    import zipfile

    config = zipfile.ZipFile(DATA / name).read("config.json").decode()
    assert '"registered_name": "clr>SGD"' in config
    assert '"registered_name": "clr>CyclicalLearningRate"' in config
