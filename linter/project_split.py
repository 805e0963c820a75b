"""The project phase in several processes.

Each rule's project-wide check reads the index and builds what it needs in memos of its own, so the checks
can run side by side. Once every file is in the index, the workers are forked: they inherit it, and send back
only each check's outcome and the project files it read (the report counts them as checked). This process
runs checks too. The checks are dealt one at a time, the workers taking them from the front of the list and
this process from the back, so that two long checks rarely end up in one process.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from linter.processes import stop_workers, worker_started

# What the forked workers take their checks from: (index, rules, timeout, run_check, the free checks' bounds).
_SHARED: tuple | None = None


def run_split(project, rules: list, timeout: float | None, processes: int, run_check: Callable) -> list | None:
    """`run_check(project, rule, timeout)` of each rule, in the order of `rules`, in up to `processes`
    processes; the workers' notices are added to `project.notices`. None where processes cannot be forked."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_all_start_methods, get_context

    if "fork" not in get_all_start_methods():
        return None
    context = get_context("fork")
    bounds = context.Array("i", [0, len(rules)])  # the first free check, and one past the last
    global _SHARED
    _SHARED = (project, rules, timeout, run_check, bounds)
    workers = min(processes, len(rules)) - 1
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=worker_started, initargs=(os.getpid(),))
    outcomes: list = [None] * len(rules)
    try:
        futures = [pool.submit(_checks_from_the_front) for _ in range(workers)]  # forks the workers
        while (index := _take(bounds, from_the_back=True)) is not None:
            outcomes[index] = run_check(project, rules[index], timeout)
        for future in futures:
            done, sources = future.result()
            for index, outcome in done:
                outcomes[index] = outcome
                project.notices.extend(outcome[2])
            project.add_sources_read(sources)
    except BaseException:  # SIGTERM, Ctrl-C, a worker killed: no worker outlives the run
        stop_workers(pool)
        raise
    finally:
        _SHARED = None
    pool.shutdown()
    return outcomes


def _checks_from_the_front() -> tuple[list[tuple[int, tuple]], dict]:
    """In a worker: run checks until none is left; their outcomes by index, and the project files read."""
    project, rules, timeout, run_check, bounds = _SHARED
    read_before = set(project.sources_read())
    done = []
    while (index := _take(bounds, from_the_back=False)) is not None:
        done.append((index, run_check(project, rules[index], timeout)))
    sources = {path: source for path, source in project.sources_read().items() if path not in read_before}
    return done, sources


def _take(bounds, from_the_back: bool) -> int | None:
    """The index of a check no process has taken yet, now taken; None when every one is."""
    with bounds.get_lock():
        first, end = bounds[0], bounds[1]
        if first >= end:
            return None
        if from_the_back:
            bounds[1] = end - 1
            return end - 1
        bounds[0] = first + 1
        return first
