"""How a run notices Ctrl-C and SIGTERM: the exception a stopped run raises, and the recorder
that stops it at the next batch even when a library dropped the interrupt's exception. The
training loop that calls it lives in ``runner``; the command line's exit codes in ``cli``.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["RunInterrupted", "SignalNoticed", "NoticeInterrupts"]


class RunInterrupted(KeyboardInterrupt):
    """A run stopped by Ctrl-C or SIGTERM; its files hold every evaluation up to
    ``saved_iteration``, and the same command resumes it. ``signum`` is the signal."""

    def __init__(self, message: str, signum: int, saved_iteration: int) -> None:
        super().__init__(message)
        self.signum, self.saved_iteration = signum, saved_iteration


class SignalNoticed(KeyboardInterrupt):
    """A SIGINT or SIGTERM whose handler's exception was dropped, acted on between batches."""

    def __init__(self, signum: int) -> None:
        super().__init__()
        self.signum = signum


class NoticeInterrupts:
    """Records SIGINT and SIGTERM as they arrive, then calls their handler as before.

    Python runs a handler at whatever bytecode the main thread is at; an exception it raises
    inside a ``__del__`` (a tf.data iterator's, a zip file's) or a library's blanket ``except``
    is printed and dropped, and the run would go on to its end. The loop calls :meth:`check`
    after every batch, so such an interrupt still stops it there. Handlers that are not Python
    functions are left alone: an ignored SIGINT (``nohup``) stays ignored.
    """

    def __init__(self) -> None:
        self.received: list[int] = []
        self._previous: dict[int, Callable[..., Any]] = {}

    def __enter__(self) -> NoticeInterrupts:
        if threading.current_thread() is threading.main_thread():  # the only one that may set them
            for signum in (signal.SIGINT, signal.SIGTERM):
                handler = signal.getsignal(signum)
                if callable(handler):
                    self._previous[signum] = handler
                    signal.signal(signum, self._record)
        return self

    def _record(self, signum: int, frame: Any) -> None:
        self.received.append(signum)
        self._previous[signum](signum, frame)

    def check(self) -> None:
        if self.received:
            raise SignalNoticed(self.received[0])

    def __exit__(self, *exc_info: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
