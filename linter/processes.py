"""Ending a run from outside: SIGTERM or SIGINT ends loadlint and every worker process it started.

Workers are forked, so each holds both ends of the pipes it reads work from: left alone after the parent
died, a worker waits for work forever, holding its memory. So the parent turns SIGTERM into an exception
(`Terminated`, as SIGINT is KeyboardInterrupt) that stops the workers on its way out, and each worker
ignores SIGINT (a Ctrl-C reaches the whole process group: the parent stops them) and, on Linux, asks the
kernel to kill it when the parent dies however it dies. A child forked for one piece of work while the parent
goes on with another (`run_forked_while`) starts as a worker does, and is killed if the parent is interrupted.
"""

from __future__ import annotations

import contextlib
import gc
import os
import select
import signal
import sys
from typing import Callable, Iterable

EXIT_TERMINATED = 128 + signal.SIGTERM  # as shells report a command ended by SIGTERM
_PR_SET_PDEATHSIG = 1  # linux/prctl.h
STOP_GRACE_SECONDS = 2.0  # how long a worker may take to end on SIGTERM before it is killed


class Terminated(BaseException):
    """SIGTERM arrived. A BaseException, like KeyboardInterrupt, so that no `except Exception` stops it."""


def raise_on_sigterm() -> Callable[[], None]:
    """From now on SIGTERM raises Terminated in this process (a forked child that inherits the handler before
    it sets its own just exits). Returns what puts the previous handler back."""
    owner = os.getpid()

    def on_sigterm(signum, frame) -> None:
        if os.getpid() != owner:
            os._exit(EXIT_TERMINATED)
        raise Terminated

    try:
        previous = signal.signal(signal.SIGTERM, on_sigterm)
    except ValueError:  # not the main thread: SIGTERM stays as it is
        return lambda: None
    return lambda: signal.signal(signal.SIGTERM, previous)


def worker_started(parent: int) -> None:
    """The initializer of a worker process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):  # no libc to load: the parent still stops its workers itself
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def stop_workers(pool) -> None:
    """End the worker processes of a ProcessPoolExecutor now, dropping the work still queued (as Python 3.14's
    `terminate_workers()` does; before it, the pool has no public way to reach its processes)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)  # shutting down forgets it
    # Not `cancel_futures`: the pool's own thread marks the queued work failed once the workers are gone, and
    # fails with a traceback on work that is already cancelled.
    pool.shutdown(wait=False)
    for process in processes:
        with contextlib.suppress(Exception):
            process.terminate()
    for process in processes:
        with contextlib.suppress(Exception):
            process.join(STOP_GRACE_SECONDS)
            if process.is_alive():
                process.kill()
                process.join()
    # The pool's thread closes the pipe it is woken through once its workers are gone. At exit, Python 3.11 wakes
    # it through that pipe without the pool's lock, and loses the race now and then: a traceback ("Bad file
    # descriptor") after the run. So the thread ends first.
    if manager is not None:
        with contextlib.suppress(Exception):
            manager.join(STOP_GRACE_SECONDS)


def run_forked_while(work: Callable[[], object], meanwhile: Iterable[object]) -> tuple[bool, object]:
    """`work()` in a forked child process while this process iterates over `meanwhile` (each step of it done by
    the iteration) until the child answers: (True, what `work` returned, pickled across), or (False, None) when
    the child gave no answer (`work` raised, the child was killed, the answer does not pickle). The caller then
    does the work itself, and meets any error `work` met in the order the run would have met it."""
    import pickle  # here: a run that forks no child does not import it

    parent = os.getpid()
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child ends in os._exit, out of coverage's sight
        code = 1
        try:
            os.close(read_end)
            gc.freeze()  # the parent's objects: the collector would walk (and copy) them for nothing
            worker_started(parent)
            answer = pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL)
            with open(write_end, "wb") as pipe:
                pipe.write(answer)
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    try:
        for _ in meanwhile:
            if select.select([read_end], [], [], 0)[0]:  # the answer is coming (or the child is gone)
                break
        with open(read_end, "rb", closefd=False) as pipe:
            answer = pipe.read()
        status = os.waitpid(child, 0)[1]
        child = None
        if status != 0 or not answer:
            return False, None
        try:
            return True, pickle.loads(answer)
        except Exception:
            return False, None
    finally:
        os.close(read_end)
        if child is not None:  # interrupted: the child ends with the run
            with contextlib.suppress(OSError):
                os.kill(child, signal.SIGKILL)
                os.waitpid(child, 0)
