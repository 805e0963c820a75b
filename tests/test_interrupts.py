"""SIGTERM and Ctrl-C end a run, and every worker process it started, with the conventional exit code."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from linter.engine import PARALLEL_MIN_FILES
from linter.processes import stop_workers
from tests.process_state import running
from tests.project_builder import write_files

REPO = Path(__file__).resolve().parent.parent
# Each file takes a while, so that the run is still in its workers when the signal comes.
SLOW_RULE = '''"""Takes its time."""
import time
from linter.model import Level, Precision
from linter.rule import Rule
class Slow(Rule):
    id = "slow/per-file"
    name = "Slow"
    level = Level.ERROR
    precision = Precision.HIGH
    query = "(program) @p"
    def check(self, match, file):
        time.sleep(0.05)
        return ()
'''


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.update(int(child) for child in (task / "children").read_text().split())
        except OSError:
            pass
    return found


def _is_loadlint(pid: int) -> bool:
    try:
        return b"linter" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="lists child processes through /proc")
@pytest.mark.parametrize(
    "signum, to_group, exit_code",
    [(signal.SIGTERM, False, 143), (signal.SIGINT, True, 130)],
    ids=["sigterm-to-loadlint", "ctrl-c-to-the-process-group"],
)
def test_signal_ends_the_run_and_every_worker(tmp_path, signum, to_group, exit_code):
    project = tmp_path / "project"
    write_files(project, {f"src/m{i:03}.js": "run();\n" for i in range(4 * PARALLEL_MIN_FILES)})
    write_files(tmp_path / "rules", {"slow/per_file.py": SLOW_RULE})
    # Three processes: the run itself, which takes files too, and two workers.
    command = [sys.executable, "-m", "linter", "check", "--no-cache", "-j", "3"]
    command += ["--rules-dir", str(tmp_path / "rules"), "--select", "slow", str(project)]
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    run = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    workers: set[int] = set()
    try:
        started = time.monotonic()
        while len(workers) < 2 and run.poll() is None and time.monotonic() - started < 60:
            workers = _children(run.pid)
            time.sleep(0.02)
        assert len(workers) == 2, "the run did not start two workers"
        time.sleep(0.3)  # into the work
        assert run.poll() is None, "the run ended before the signal"
        if to_group:
            os.killpg(run.pid, signum)
        else:
            run.send_signal(signum)
        _, stderr = run.communicate(timeout=20)
        assert run.returncode == exit_code, stderr
        assert "Traceback" not in stderr.decode()
        until = time.monotonic() + 5
        while any(running(pid) for pid in workers) and time.monotonic() < until:
            time.sleep(0.05)
        assert not [pid for pid in workers if running(pid)], "a worker outlived the run"
    finally:
        for pid in [run.pid, *workers]:
            if running(pid) and _is_loadlint(pid):
                os.kill(pid, signal.SIGKILL)
        run.wait(timeout=10)


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="the pools fork their workers")
def test_stopping_the_workers_ends_the_pool_s_thread_before_the_run_ends():
    """Else Python 3.11's exit handler may wake that thread through a pipe it is closing: a traceback."""
    pool = ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("fork"))
    futures = [pool.submit(_sleep, 30) for _ in range(4)]
    while not any(future.running() for future in futures):
        time.sleep(0.01)
    manager = pool._executor_manager_thread
    assert manager is not None and manager.is_alive()

    stop_workers(pool)

    assert not manager.is_alive()
