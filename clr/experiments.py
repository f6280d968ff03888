"""``python -m clr.experiments``: the CIFAR-10 comparison's command line (``clr.cifar10.cli``)."""

import sys

from .cifar10.cli import main

if __name__ == "__main__":
    sys.exit(main())
