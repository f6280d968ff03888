"""``python -m clr.experiments``: the CIFAR-10 comparison's command line (``clr.cifar10.cli``)."""

import sys

if __name__ == "__main__":
    try:
        from .cifar10.cli import main
    except KeyboardInterrupt:  # Ctrl-C while starting: one line, the shell's exit status
        print("python -m clr.experiments: interrupted while starting", file=sys.stderr)
        sys.exit(130)
    sys.exit(main())
else:
    from .cifar10.cli import main  # noqa: F401
