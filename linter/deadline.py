"""A time limit for the analysis of one file, so that one pathological file cannot stall a whole run.

Rules are Python and can be slow on input nobody foresaw (a 20,000-term `a || b || …` chain, thousands of
nested handlers); Semgrep bounds the same risk with a per-file timeout. The limit is enforced with SIGALRM,
where there is one to use: POSIX, the main thread (a worker process's too), and no interval timer already
running (a test harness's, say). Elsewhere `check()` between rule matches is all there is.

Native code (parsing, tree-sitter query matching) cannot be interrupted: the alarm takes effect when it
returns. tree-sitter's own cancellation (a query progress callback) is not used: in py-tree-sitter 0.26.1 it
crashes the interpreter.
"""

from __future__ import annotations

import signal
import threading
import time


class OutOfTime(BaseException):
    """Raised in the analysis of a file whose time is up. A BaseException, so that a rule's own
    `except Exception` cannot swallow it."""


class Deadline:
    """`with Deadline(seconds):` raises OutOfTime inside the block once `seconds` have passed (None: never)."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds if seconds and seconds > 0 else None
        self._end: float | None = None
        self._alarm = False
        self._armed = False
        self._previous_handler: object = None

    def check(self) -> None:
        """Raise OutOfTime if the time is up (for where the alarm is not available, or was swallowed)."""
        if self._end is not None and time.monotonic() >= self._end:
            raise OutOfTime

    def __enter__(self) -> "Deadline":
        if self.seconds is None:
            return self
        self._end = time.monotonic() + self.seconds
        self._alarm = _alarm_available()
        if self._alarm:
            self._previous_handler = signal.signal(signal.SIGALRM, self._on_alarm)
            self._armed = True
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc_info) -> bool:
        self._end = None
        if not self._alarm:
            return False
        try:
            self._armed = False  # from here on a late alarm is ignored
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous_handler)
            self._alarm = False
        return False

    def _on_alarm(self, signum, frame) -> None:
        if self._armed:
            raise OutOfTime


def _alarm_available() -> bool:
    return (
        hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    )
