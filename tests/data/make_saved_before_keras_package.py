"""Made tests/data/saved_before_keras_package*.keras at commit 553f59d, where clr/keras.py was one
module (kept to show how; the files, not this script, are what the test reads)."""

import json

import keras
import numpy as np

import clr
import clr.keras as ck

keras.utils.set_random_seed(0)
phases = clr.Join(
    (clr.CyclicPolicy(0.001, 0.005, 4, mode="triangular2"), clr.Constant(0.0002)), (8,)
)
inputs = keras.Input((3,))
hidden = keras.layers.Dense(4, name="hidden")(inputs)
outputs = keras.layers.Dense(1, name="out")(hidden)
model = keras.Model(inputs, outputs)
optimizer = ck.SGD(
    learning_rate=ck.CyclicalLearningRate(0.001, 0.006, 5, mode="exp_range", gamma=0.99),
    momentum=ck.CyclicalMomentum(0.85, 0.95, 5),
    nesterov=True,
    lr_multipliers={"out/bias": 2.0},
)
model.compile(optimizer, "mse")
x = np.random.default_rng(0).normal(size=(40, 3)).astype("float32")
y = x.sum(axis=1, keepdims=True)
model.fit(x, y, batch_size=8, epochs=1, verbose=0)
model.save("tests/data/saved_before_keras_package.keras")
second = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, name="d")])
second.compile(
    ck.Adam(learning_rate=ck.PolicySchedule(phases), beta_1=ck.OneCycleMomentum(20)), "mse"
)
second.fit(x, y, batch_size=8, epochs=1, verbose=0)
second.save("tests/data/saved_before_keras_package_adam.keras")
steps = [0, 3, 7, 12, 19]
record = {
    "keras": keras.__version__,
    "clr": clr.__version__,
    "sgd": {
        "iterations": int(optimizer.iterations.numpy()),
        "lr": [float(optimizer._learning_rate(s)) for s in steps],
        "momentum": [float(optimizer.momentum(s)) for s in steps],
        "weights": [w.tolist() for w in model.get_weights()],
    },
    "adam": {
        "iterations": int(second.optimizer.iterations.numpy()),
        "lr": [float(second.optimizer._learning_rate(s)) for s in steps],
        "beta_1": [float(second.optimizer._beta_1(s)) for s in steps],
        "weights": [w.tolist() for w in second.get_weights()],
    },
    "steps": steps,
}
json.dump(record, open("tests/data/saved_before_keras_package.json", "w"), indent=1)
print(record["sgd"]["lr"], record["adam"]["beta_1"])
