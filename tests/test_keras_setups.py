"""The rate each step applies is the rate promised, in the Keras set-ups people train with
(issue 37), read from the weights by tests/keras_probe.py on whichever backend runs the suite
(`make test` runs this file on TensorFlow, JAX and PyTorch).

The rule: every clr schedule, the callback and clr's optimizers count one thing, the updates
the optimizer applies (``optimizer.iterations``); update *i* trains with ``schedule(i)``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import keras
import keras_probe as probe
import numpy as np
import pytest

import clr
import clr.keras as ck

RATE = dict(base_lr=0.01, max_lr=0.05, step_size=3)
MOMENTUM = dict(base_momentum=0.8, max_momentum=0.95, step_size=3)
# float32 weights near 0.3 hold about 3e-8; recovering a rate from two differences loses more.
TOL = dict(rtol=2e-4, atol=1e-6)


def cyclic(n: int) -> np.ndarray:
    return clr.cyclic_lr(np.arange(n), **RATE)


def cyclic_momentum(n: int) -> np.ndarray:
    return clr.cyclic_momentum(np.arange(n), **MOMENTUM)


# -- gradient accumulation --------------------------------------------------------------------


def test_under_gradient_accumulation_rate_and_momentum_count_updates():
    probe.needs("gradient_accumulation_steps")
    optimizer = ck.SGD(ck.CyclicalLearningRate(**RATE), momentum=ck.CyclicalMomentum(**MOMENTUM),
                       gradient_accumulation_steps=2)  # fmt: skip
    net = probe.model(optimizer)
    probe.kick(net)
    got = probe.applied(probe.fit(net, *probe.data(16)).weights)
    assert got["skipped"] == 8  # one batch of each pair applies nothing
    np.testing.assert_allclose(got["lr"], cyclic(8), **TOL)
    np.testing.assert_allclose(got["momentum"], cyclic_momentum(8), **TOL)


def test_one_cycle_and_its_momentum_stay_in_step_under_accumulation():
    probe.needs("gradient_accumulation_steps")
    optimizer = ck.SGD(ck.OneCycle(0.05, 10), momentum=ck.OneCycleMomentum(10),
                       gradient_accumulation_steps=3)  # fmt: skip
    net = probe.model(optimizer)
    probe.kick(net)
    got = probe.applied(probe.fit(net, *probe.data(30)).weights)
    np.testing.assert_allclose(got["lr"], clr.one_cycle(np.arange(10), 0.05, 10), **TOL)
    np.testing.assert_allclose(got["momentum"], clr.one_cycle_momentum(np.arange(10), 10), **TOL)


def test_adam_beta_1_schedule_counts_updates_under_accumulation():
    probe.needs("gradient_accumulation_steps")
    optimizer = ck.Adam(ck.CyclicalLearningRate(**RATE), beta_1=ck.CyclicalMomentum(**MOMENTUM),
                        gradient_accumulation_steps=2)  # fmt: skip
    net = probe.model(optimizer)
    first_moments = []

    class Moments(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            # self.model, not `optimizer`: on JAX reading it syncs the state into the variables
            moment = keras.ops.convert_to_numpy(self.model.optimizer._momentums[0])
            first_moments.append(float(moment[0, 0]))

    probe.fit(net, *probe.data(12), callbacks=[Moments()])
    m = np.array(first_moments[1::2], dtype=np.float64)  # after each update; the gradient is 1
    beta_1 = (1 - m) / (1 - np.concatenate([[0.0], m[:-1]]))  # m_i = b_i m_(i-1) + (1 - b_i)
    np.testing.assert_allclose(beta_1, cyclic_momentum(6), rtol=2e-4)


def test_keras_own_optimizer_evaluates_a_schedule_at_the_micro_batch_count():
    """Keras' rule, documented in the README's table: use clr's optimizers to count updates."""
    probe.needs("gradient_accumulation_steps")
    optimizer = keras.optimizers.SGD(ck.CyclicalLearningRate(**RATE), gradient_accumulation_steps=2)
    got = probe.applied(probe.fit(probe.model(optimizer), *probe.data(12)).weights, momentum=False)
    np.testing.assert_allclose(got["lr"], clr.cyclic_lr(2 * np.arange(6) + 1, **RATE), **TOL)


def test_the_callback_gives_each_update_one_rate_under_accumulation():
    probe.needs("gradient_accumulation_steps")
    callback = ck.CyclicLR(**RATE)
    net = probe.model(keras.optimizers.SGD(0.0, gradient_accumulation_steps=2))
    got = probe.applied(probe.fit(net, *probe.data(14), callbacks=[callback]).weights, False)
    np.testing.assert_allclose(got["lr"], cyclic(7), **TOL)
    assert callback.history["iterations"] == list(range(7))  # one entry per update
    np.testing.assert_allclose(callback.history["lr"], cyclic(7), **TOL)
    assert callback.batches_without_update == 7


def test_the_range_test_applies_each_recorded_rate_for_a_whole_update():
    """With x = [1, 0] the loss is the first weight, so each recorded loss falls by exactly the
    rate recorded one update earlier, if that rate was applied for a whole update."""
    probe.needs("gradient_accumulation_steps")
    net = probe.model(keras.optimizers.SGD(0.0, gradient_accumulation_steps=2))
    x, y = probe.data(40)
    result = clr.lr_range_test(net, x, y, start_lr=0.001, end_lr=0.01, iterations=20,
                               batch_size=probe.BATCH, smoothing=0.0, stop_factor=None)  # fmt: skip
    assert len(result.lr) == 20  # one rate per update, each on two batches
    np.testing.assert_allclose(-np.diff(result.loss), result.lr[:-1], rtol=1e-4)
    assert np.all(net.get_weights()[0] == 0.0)  # and the model is put back


# -- mixed precision: a skipped update ---------------------------------------------------------


@pytest.mark.parametrize("api", ["schedule", "callback"])
def test_a_skipped_update_does_not_advance_the_cycle(api):
    """LossScaleOptimizer skips the update of a batch whose gradient overflows (batch 3 here):
    it applies nothing, and the schedule and the callback both give the next update the rate
    the skipped one would have had."""
    if not hasattr(keras.optimizers, "LossScaleOptimizer"):
        pytest.skip(f"Keras {keras.__version__} has no LossScaleOptimizer")
    if api == "schedule":
        inner, callbacks = ck.SGD(ck.CyclicalLearningRate(**RATE)), []
    else:
        callback = ck.CyclicLR(**RATE)
        inner, callbacks = keras.optimizers.SGD(0.0), [callback]
    net = probe.model(keras.optimizers.LossScaleOptimizer(inner))
    recorder = probe.fit(net, *probe.data(9, bad=(3,)), callbacks=callbacks)
    got = probe.applied(recorder.weights, momentum=False)
    assert got["skipped"] == 1
    np.testing.assert_allclose(got["lr"], cyclic(8), **TOL)
    # the updates counted by the optimizer that applies them (before Keras 3.3 the wrapper's own
    # `iterations` stayed at 0)
    assert int(keras.ops.convert_to_numpy(net.optimizer.inner_optimizer.iterations)) == 8
    if api == "callback":
        assert callback.history["iterations"] == list(range(8))  # none for the skipped batch
        np.testing.assert_allclose(callback.history["lr"], cyclic(8), **TOL)
        assert callback.batches_without_update == 1


# -- steps_per_execution and XLA ---------------------------------------------------------------


@pytest.mark.parametrize("setting", [{"steps_per_execution": 3}, {"jit_compile": True}])
def test_steps_per_execution_and_jit_compile_apply_the_schedule_every_step(setting):
    if keras.backend.backend() == "torch":
        pytest.skip("Keras' torch backend takes neither (steps_per_execution must be 1; no XLA)")
    optimizer = ck.SGD(ck.CyclicalLearningRate(**RATE), momentum=ck.CyclicalMomentum(**MOMENTUM))
    net = probe.model(optimizer, **setting)
    probe.kick(net)
    x, y = probe.data(9)
    net.fit(x, y, batch_size=probe.BATCH, shuffle=False, verbose=0)
    # Per step is not observable with steps_per_execution; the weights' end point is exact.
    lr, m = cyclic(9), cyclic_momentum(9)
    w, v = np.zeros(2), np.array([0.0, 1.0])
    for i in range(9):
        v = m[i] * v - lr[i] * np.array([1.0, 0.0])
        w = w + v
    np.testing.assert_allclose(net.get_weights()[0].ravel(), w, rtol=1e-4)


# -- resuming with the callback ----------------------------------------------------------------


class _Interrupt(keras.callbacks.Callback):
    """Raises at batch ``at`` of epoch ``epoch``, once (a crash mid-epoch)."""

    def __init__(self, epoch: int, at: int) -> None:
        super().__init__()
        self.epoch, self.at, self.fired, self._current = epoch, at, False, 0

    def on_epoch_begin(self, epoch, logs=None):
        self._current = epoch

    def on_train_batch_end(self, batch, logs=None):
        if not self.fired and self._current == self.epoch and batch == self.at:
            self.fired = True
            raise RuntimeError("interrupted")


def _straight(epochs: int = 3) -> np.ndarray:
    net = probe.model(keras.optimizers.SGD(0.0, momentum=0.9))
    net.fit(*probe.data(5), batch_size=probe.BATCH, epochs=epochs, shuffle=False, verbose=0,
            callbacks=[ck.CyclicLR(**RATE)])  # fmt: skip
    return net.get_weights()[0]


def test_backup_and_restore_continues_the_cycle_weight_for_weight(tmp_path):
    x, y = probe.data(5)
    net = probe.model(keras.optimizers.SGD(0.0, momentum=0.9))
    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
    with pytest.raises(RuntimeError, match="interrupted"):
        net.fit(x, y, batch_size=probe.BATCH, epochs=3, shuffle=False, verbose=0,
                callbacks=[ck.CyclicLR(**RATE), backup, _Interrupt(epoch=1, at=2)])  # fmt: skip
    # Run again, as after a crash: a new callback, the same backup.
    net.fit(x, y, batch_size=probe.BATCH, epochs=3, shuffle=False, verbose=0,
            callbacks=[ck.CyclicLR(**RATE), backup])  # fmt: skip
    np.testing.assert_allclose(net.get_weights()[0], _straight(), rtol=1e-6)


def test_load_model_and_initial_epoch_continue_the_cycle(tmp_path):
    x, y = probe.data(5)
    net = probe.model(keras.optimizers.SGD(0.0, momentum=0.9))
    net.fit(x, y, batch_size=probe.BATCH, epochs=1, shuffle=False, verbose=0,
            callbacks=[ck.CyclicLR(**RATE)])  # fmt: skip
    net.save(tmp_path / "after_1.keras")
    again = keras.saving.load_model(tmp_path / "after_1.keras", custom_objects={"loss": probe.loss})
    callback = ck.CyclicLR(**RATE)
    again.fit(x, y, batch_size=probe.BATCH, epochs=3, initial_epoch=1, shuffle=False, verbose=0,
              callbacks=[callback])  # fmt: skip
    np.testing.assert_allclose(again.get_weights()[0], _straight(), rtol=1e-6)
    assert callback.history["iterations"] == list(range(5, 15))


_NEW_PROCESS = """
import sys, json, keras, numpy as np
sys.path.insert(0, sys.argv[2])
import keras_probe as probe, clr.keras as ck
net = keras.saving.load_model(sys.argv[1], custom_objects={"loss": probe.loss})
rate = json.loads(sys.argv[3])
net.fit(*probe.data(5), batch_size=probe.BATCH, epochs=3, initial_epoch=1, shuffle=False,
        verbose=0, callbacks=[ck.CyclicLR(**rate)])
print(json.dumps(net.get_weights()[0].ravel().tolist()))
"""


def test_a_new_process_continues_the_cycle(tmp_path):
    net = probe.model(keras.optimizers.SGD(0.0, momentum=0.9))
    net.fit(*probe.data(5), batch_size=probe.BATCH, epochs=1, shuffle=False, verbose=0,
            callbacks=[ck.CyclicLR(**RATE)])  # fmt: skip
    net.save(tmp_path / "after_1.keras")
    done = subprocess.run(
        [sys.executable, "-c", _NEW_PROCESS, str(tmp_path / "after_1.keras"),
         str(Path(__file__).parent), json.dumps(RATE)],
        capture_output=True, text=True, timeout=300, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    weights = json.loads(done.stdout.strip().splitlines()[-1])
    np.testing.assert_allclose(weights, _straight().ravel(), rtol=1e-6)


def test_where_it_cannot_know_one_warning_says_so(tmp_path):
    """Weights alone (no optimizer state) and fit resumed at epoch 1: the cycle starts at
    base_lr, and says so."""
    x, y = probe.data(5)
    net = probe.model(keras.optimizers.SGD(0.0, momentum=0.9))
    net.fit(x, y, batch_size=probe.BATCH, epochs=1, shuffle=False, verbose=0)
    fresh = probe.model(keras.optimizers.SGD(0.0, momentum=0.9))
    fresh.set_weights(net.get_weights())
    with pytest.warns(UserWarning, match=r"fit starts at epoch 1 but the optimizer has taken no"):
        fresh.fit(x, y, batch_size=probe.BATCH, epochs=2, initial_epoch=1, verbose=0,
                  callbacks=[ck.CyclicLR(**RATE)])  # fmt: skip
    # A new optimizer after a reset that began later: the cycle restarts, said once.
    callback = ck.CyclicLR(**RATE)
    net.fit(x, y, batch_size=probe.BATCH, epochs=1, verbose=0, callbacks=[callback])
    callback.reset()
    net.fit(x, y, batch_size=probe.BATCH, epochs=1, verbose=0, callbacks=[callback])
    net.compile(keras.optimizers.SGD(0.0), loss=probe.loss)
    with pytest.warns(UserWarning, match=r"fewer than the 10 at which this cycle began"):
        net.fit(x, y, batch_size=probe.BATCH, epochs=1, verbose=0, callbacks=[callback])
    assert callback.clr_iterations == 5


# -- other rate callbacks ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "other",
    [
        keras.callbacks.ReduceLROnPlateau(monitor="loss", patience=0, factor=0.5),
        keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5),
    ],
    ids=["ReduceLROnPlateau", "LearningRateScheduler"],
)
def test_another_rate_callback_is_named_at_the_start(other):
    net = probe.model(keras.optimizers.SGD(0.0))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net.fit(*probe.data(2), batch_size=probe.BATCH, epochs=2, verbose=0,
                callbacks=[ck.CyclicLR(**RATE), other])  # fmt: skip
    name = type(other).__name__
    named = [str(w.message) for w in caught if f"CyclicLR and {name} both set" in str(w.message)]
    assert len(named) == 1, [str(w.message) for w in caught]


def test_a_rate_set_by_something_else_is_noticed_once():
    class Halve(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.optimizer.learning_rate = 1e-5

    net = probe.model(keras.optimizers.SGD(0.0))
    with pytest.warns(UserWarning, match=r"Something other than CyclicLR set the learning rate"):
        net.fit(*probe.data(2), batch_size=probe.BATCH, epochs=3, verbose=0,
                callbacks=[ck.CyclicLR(**RATE), Halve()])  # fmt: skip


# -- data parallel -----------------------------------------------------------------------------

_DATA_PARALLEL = """
import sys, json
sys.path.insert(0, sys.argv[1])
import jax, keras, numpy as np
import keras_probe as probe, clr.keras as ck
rate, momentum = json.loads(sys.argv[2]), json.loads(sys.argv[3])

def run(use_callback):
    if use_callback:
        net, callbacks = probe.model(keras.optimizers.SGD(0.0, momentum=0.9)), [ck.CyclicLR(**rate)]
    else:
        net, callbacks = probe.model(ck.SGD(ck.CyclicalLearningRate(**rate),
                                            momentum=ck.CyclicalMomentum(**momentum))), []
    probe.kick(net)
    got = probe.applied(probe.fit(net, *probe.data(8), callbacks=callbacks).weights)
    return {k: np.asarray(v).tolist() for k, v in got.items()}

single = [run(False), run(True)]
keras.distribution.set_distribution(keras.distribution.DataParallel(devices=jax.devices()))
parallel = [run(False), run(True)]
print(json.dumps({"devices": len(jax.devices()), "single": single, "parallel": parallel}))
"""


def test_data_parallel_on_two_devices_applies_what_one_device_does():
    if keras.backend.backend() != "jax":
        pytest.skip("keras.distribution.DataParallel runs on JAX")
    env = dict(
        os.environ, KERAS_BACKEND="jax", XLA_FLAGS="--xla_force_host_platform_device_count=2"
    )
    done = subprocess.run(
        [sys.executable, "-c", _DATA_PARALLEL, str(Path(__file__).parent), json.dumps(RATE),
         json.dumps(MOMENTUM)], capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["devices"] == 2
    for single, parallel in zip(out["single"], out["parallel"]):
        np.testing.assert_allclose(parallel["lr"], single["lr"], rtol=1e-6)
        np.testing.assert_allclose(parallel["lr"], cyclic(8), **TOL)
    np.testing.assert_allclose(out["parallel"][0]["momentum"], cyclic_momentum(8), **TOL)
