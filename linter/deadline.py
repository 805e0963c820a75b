"""Time limits for the steps of a run (the analysis of one file, finding the files, one rule's project-wide
check), so that one pathological input cannot stall a whole run.

Rules are Python and can be slow on input nobody foresaw (a 20,000-term `a || b || …` chain, thousands of
nested handlers); Semgrep bounds the same risk with a per-file timeout. The limit is enforced with SIGALRM,
where there is one to use: POSIX, the main thread (a worker process's too), and no interval timer already
running (a test harness's, say). Elsewhere `check()` between steps is all there is.

Native code cannot be interrupted by the alarm, which takes effect when it returns:
- parsing is cancelled through tree-sitter's progress callback (`linter.syntax.parse(should_stop=…)`);
- query matching has no usable cancellation: in py-tree-sitter 0.26.1 `QueryCursor.matches(…, progress_callback)`
  keeps a pointer to options that live on the stack of the call that set them, and crashes the interpreter
  (checked: a segmentation fault on a 100-line file). Its time is bounded instead by what it is given:
  files over the size limit are not read, and trees too deep to match in bounded time are not queried
  (`linter.syntax.too_deep`).
"""

from __future__ import annotations

import signal
import threading
import time


class OutOfTime(BaseException):
    """Raised in a step whose time is up. A BaseException, so that a rule's own `except Exception` cannot
    swallow it. `doing`, when set, says what the step was doing (finding the files: which .gitignore)."""

    def __init__(self, doing: str | None = None) -> None:
        super().__init__(doing)
        self.doing = doing


class Deadline:
    """`with Deadline(seconds):` raises OutOfTime inside the block once `seconds` have passed (None: never)."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds if seconds and seconds > 0 else None
        self.started = time.monotonic()
        self._end: float | None = None
        self._alarm = False
        self._armed = False
        self._previous_handler: object = None

    def elapsed(self) -> float:
        """Seconds since the block began: the true time taken, which native code can make longer than the limit."""
        return time.monotonic() - self.started

    def expired(self) -> bool:
        return self._end is not None and time.monotonic() >= self._end

    def check(self) -> None:
        """Raise OutOfTime if the time is up (for where the alarm is not available, or was swallowed)."""
        if self.expired():
            raise OutOfTime

    def __enter__(self) -> "Deadline":
        self.started = time.monotonic()
        if self.seconds is None:
            return self
        self._end = self.started + self.seconds
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
