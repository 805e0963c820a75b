"""Time limits for the steps of a run (the analysis of one file, finding the files, one rule's project-wide
check), so that one pathological input cannot stall a whole run.

Rules are Python and can be slow on input nobody foresaw (a 20,000-term `a || b || …` chain, thousands of
nested handlers); Semgrep bounds the same risk with a per-file timeout. The limit is enforced with SIGALRM,
where there is one to use: POSIX, the main thread (a worker process's too), and no interval timer already
running (a test harness's, say). Elsewhere `check()` between steps is all there is.

A process has one interval timer, and every deadline shares it (`_Alarm`): it is armed for the earliest end
of the deadlines in force, and only moved when a deadline ends sooner than it is set for. A deadline that
closes leaves it as it is: an alarm with no deadline past its end re-arms it for the next end, or does
nothing. So the analysis of a file, one of thousands under the same limit, costs no system call (setting
and restoring the signal handler and the timer for each file took 30 µs).

Native code cannot be interrupted by the alarm, which takes effect when it returns:
- parsing is cancelled through tree-sitter's progress callback (`linter.syntax.parse(should_stop=…)`);
- query matching has no usable cancellation: in py-tree-sitter 0.26.1 `QueryCursor.matches(…, progress_callback)`
  keeps a pointer to options that live on the stack of the call that set them, and crashes the interpreter
  (checked: a segmentation fault on a 100-line file). Its time is bounded instead by what it is given:
  files over the size limit are not read, and trees too deep to match in bounded time are not queried
  (`linter.syntax.too_deep`).
"""

from __future__ import annotations

import atexit
import os
import signal
import threading
import time
from contextlib import contextmanager

try:  # signal.getsignal without the enum conversion it adds (6 µs a call, for a handler that is a function)
    from _signal import getsignal as _getsignal
except ImportError:  # pragma: no cover - not CPython
    _getsignal = signal.getsignal


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

    def elapsed(self) -> float:
        """Seconds since the block began: the true time taken, which native code can make longer than the limit."""
        return time.monotonic() - self.started

    def expired(self) -> bool:
        return self._end is not None and time.monotonic() >= self._end

    def remaining(self) -> float | None:
        """Seconds left (None: no limit in force)."""
        return self._end - time.monotonic() if self._end is not None else None

    def check(self) -> None:
        """Raise OutOfTime if the time is up (for where the alarm is not available, or was swallowed)."""
        if self.expired():
            raise OutOfTime

    def __enter__(self) -> "Deadline":
        self.started = time.monotonic()
        if self.seconds is None:
            return self
        self._end = self.started + self.seconds
        self._alarm = _ALARM.watch(self)
        return self

    def __exit__(self, *exc_info) -> bool:
        self._end = None
        if self._alarm:
            _ALARM.unwatch(self)  # from here on an alarm does not concern it
            self._alarm = False
        return False


@contextmanager
def paused():
    """The deadlines the alarm watches stop counting inside the block, and go on after it as if it took no time:
    for work done on behalf of a step that has limits of its own (the files a project-wide check asks for,
    each analysed under its own deadline, as in a run that analyses every file before the checks)."""
    alarm = _ALARM
    held = list(alarm.watched) if alarm.pid == os.getpid() else []
    for deadline in held:
        alarm.unwatch(deadline)
    started = time.monotonic()
    try:
        yield
    finally:
        spent = time.monotonic() - started
        for deadline in held:
            if deadline._end is not None:
                deadline._end += spent
                deadline.started += spent
                alarm.watch(deadline)


class _Alarm:
    """The process's interval timer (ITIMER_REAL) and SIGALRM handler, shared by the deadlines in force."""

    def __init__(self) -> None:
        self.pid: int | None = None  # the process the state below is of (a forked child has no timer)
        self.watched: list[Deadline] = []
        self.armed_until: float | None = None  # when the timer goes off (monotonic clock); None: not armed
        self.previous_handler: object = None  # restored when the timer goes off with no deadline to watch
        self.disarm_registered = False  # `disarm` is registered to run as the interpreter exits

    def watch(self, deadline: Deadline) -> bool:
        """Let the alarm raise OutOfTime at `deadline`'s end; False where it cannot (no SIGALRM, another thread,
        another timer running)."""
        if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
            return False
        if self.pid != os.getpid():
            self.pid, self.watched, self.armed_until = os.getpid(), [], None
        if _getsignal(signal.SIGALRM) is not _on_alarm:
            if signal.getitimer(signal.ITIMER_REAL) != (0.0, 0.0):
                return False  # someone else's timer
            self.previous_handler = signal.signal(signal.SIGALRM, _on_alarm)
            self.armed_until = None
            if not self.disarm_registered:
                atexit.register(self.disarm)
                self.disarm_registered = True
        self.watched.append(deadline)
        if self.armed_until is None or deadline._end < self.armed_until:
            self._arm(deadline._end)
        return True

    def unwatch(self, deadline: Deadline) -> None:
        if self.pid == os.getpid() and deadline in self.watched:
            self.watched.remove(deadline)

    def went_off(self) -> None:
        self.armed_until = None
        if self.pid != os.getpid() or not self.watched:
            # Nothing to watch: the handler goes back to what it was; the next deadline sets it again.
            previous = self.previous_handler
            signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)
            return
        now = time.monotonic()
        pending = [watched._end for watched in self.watched if now < watched._end]
        if pending:
            self._arm(min(pending))  # for the deadlines still running
        if len(pending) < len(self.watched):
            raise OutOfTime

    def disarm(self) -> None:
        """Stop the timer a closed deadline left running: going off while the interpreter shuts down, where no
        Python handler runs, its signal would kill the process and lose the exit status."""
        if self.pid == os.getpid() and _getsignal(signal.SIGALRM) is _on_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            self.armed_until = None
            previous = self.previous_handler
            signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)

    def _arm(self, until: float) -> None:
        self.armed_until = until
        # 0 would disarm the timer; a microsecond makes it go off at once.
        signal.setitimer(signal.ITIMER_REAL, max(until - time.monotonic(), 1e-6))


_ALARM = _Alarm()


def _on_alarm(signum, frame) -> None:
    _ALARM.went_off()
