"""``python -m clr.cifar10``: the same command line as ``python -m clr.experiments`` (which
lives in ``cli``)."""

import sys

from .cli import main

sys.exit(main())
