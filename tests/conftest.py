import os

# Quiet TensorFlow's C++ logging in tests and in the notebook kernels nbval starts.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def toy_range_test(loss=None):
    """A linear sweep whose accuracy rises from 0.002 to 0.008 (a known answer for the checks);
    the loss mirrors the accuracy unless given."""
    import numpy as np

    import clr
    from clr.range_test import smooth_losses

    lr = np.linspace(0.0001, 0.02, 400)
    acc = np.interp(lr, [0, 0.002, 0.008, 0.02], [0.1, 0.1, 0.7, 0.7])
    loss = 2.3 - acc if loss is None else loss(lr)
    return clr.RangeTestResult(
        lr,
        loss,
        smooth_losses(loss, 0.0),
        acc,
        np.array([], int),
        np.array([]),
        None,
        "linear",
        0.0001,
        0.02,
        400,
    )


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def dist(tmp_path_factory):
    """The wheel and sdist, built once per test session (tests/package_support.py)."""
    from package_support import build

    return build(tmp_path_factory.mktemp("dist"))
