"""`import clr` must stay light: numpy only, so the slider notebook starts fast. So must the numpy
parts of the CIFAR-10 comparison (its protocol, results and command-line parsing)."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "modules",
    [
        "clr",
        "clr.cifar10, clr.cifar10.protocol, clr.cifar10.results, clr.cifar10.data, clr.experiments",
    ],
)
def test_import_does_not_import_keras_or_tensorflow(modules):
    code = (
        f"import sys, {modules}\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in {'keras', 'tensorflow', "
        "'jax', 'torch', 'matplotlib', 'ray'})\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
