"""`import clr` must stay light: numpy only, so the slider notebook starts fast."""

import subprocess
import sys


def test_import_clr_does_not_import_keras_or_tensorflow():
    code = (
        "import sys, clr\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in {'keras', 'tensorflow', 'jax', 'torch', 'matplotlib'})\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
