"""A run in several processes reports what a run in one does: the files are dealt to the workers largest
first, and the project-wide checks are shared by the processes (`linter.project_split`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from linter import engine
from linter.config import ConfigError
from linter.engine import PARALLEL_MIN_FILES, RunOptions, _chunks_largest_first, run
from linter.processes import run_forked_while
from tests.process_state import running
from tests.project_builder import write_files

REPO = Path(__file__).resolve().parent.parent
MANY_FILES = {f"src/m{i:03}.js": f"export const value{i} = {i};\n" for i in range(PARALLEL_MIN_FILES + 16)}


def _project_rule(family: str, name: str, body: str, pause: float = 0.5) -> str:
    return (
        '"""A project-wide check for the tests."""\n'
        "import os, time\n"
        "from linter.model import Level, Precision\n"
        "from linter.rule import Rule\n"
        "class ProjectRule(Rule):\n"
        f"    id = '{family}/{name}'\n"
        "    name = 'Project rule'\n    level = Level.ERROR\n    precision = Precision.HIGH\n"
        "    query = ''\n"
        "    def check_project(self, project):\n"
        "        with open(os.environ['LOADLINT_TEST_PIDS'], 'a') as pids:\n"
        "            pids.write(f'{self.id} {os.getpid()}\\n')\n"
        f"        time.sleep({pause})  # long enough for a worker to start and take a check\n"
        f"{body}"
    )


READS_A_PROJECT_FILE = """        source = project.read_source('railway.json')
        yield self.finding(project.location('railway.json', 0, len(source)), 'read by a check alone')
"""
FINDS_IN_EVERY_FILE = """        for path in project.files[::7]:
            yield self.finding(project.location(path, 0, 0), f'{path} seen')
"""
FAILS = "        raise ValueError('bad day')\n"


@pytest.fixture
def split_project(tmp_path, monkeypatch):
    rules = {
        # First in the rules' order: the worker takes it (this process takes checks from the back).
        "split/a_reads_a_project_file.py": _project_rule("split", "a-reads-a-project-file", READS_A_PROJECT_FILE),
        "split/finds_in_every_file.py": _project_rule("split", "finds-in-every-file", FINDS_IN_EVERY_FILE),
        "split/fails.py": _project_rule("split", "fails", FAILS),
        "split/says_nothing.py": _project_rule("split", "says-nothing", "        return ()\n"),
    }
    write_files(tmp_path / "rules", rules)
    project = write_files(tmp_path / "project", {".git/HEAD": "x", "railway.json": '{"build": {}}\n', **MANY_FILES})
    monkeypatch.setenv("LOADLINT_TEST_PIDS", str(tmp_path / "pids"))
    return project, tmp_path / "rules", tmp_path / "pids"


def _run(project: Path, rules: Path, jobs: int):
    options = RunOptions(paths=[project], jobs=jobs, rules_dir=rules, select=["split"], use_cache=False)
    return run(options).report


def test_project_checks_run_in_two_processes_and_report_as_in_one(split_project):
    project, rules, pids = split_project
    alone = _run(project, rules, jobs=1)
    assert len({line.split()[1] for line in pids.read_text().splitlines()}) == 1
    pids.unlink()
    shared = _run(project, rules, jobs=2)
    checks_by_process = {}
    for line in pids.read_text().splitlines():
        rule_id, pid = line.split()
        checks_by_process.setdefault(pid, []).append(rule_id)
    assert len(checks_by_process) == 2, checks_by_process  # this process and a worker
    assert sorted(rule for checks in checks_by_process.values() for rule in checks) == [
        "split/a-reads-a-project-file", "split/fails", "split/finds-in-every-file", "split/says-nothing"
    ]
    assert "split/a-reads-a-project-file" not in checks_by_process[str(os.getpid())]
    assert shared.model_dump() == alone.model_dump()
    assert shared.files_checked == len(MANY_FILES) + 1  # the project file a check in a worker read counts
    assert [n.message for n in shared.notices] == ["internal error in rule split/fails: ValueError: bad day"]
    assert len(shared.findings) == 1 + len(list(MANY_FILES)[::7])


def test_files_go_to_workers_largest_first_in_shrinking_batches():
    work = [(Path(f"f{i}.js"),) for i in range(1000)]
    sizes = {Path(f"f{i}.js"): (i * 7919) % 1000 for i in range(1000)}
    chunks = _chunks_largest_first(work, sizes, jobs=2)
    taken = [index for chunk in chunks for index in chunk]
    assert sorted(taken) == list(range(1000))
    taken_sizes = [sizes[work[index][0]] for index in taken]
    assert taken_sizes == sorted(taken_sizes, reverse=True)
    lengths = [len(chunk) for chunk in chunks]
    assert lengths == sorted(lengths, reverse=True) and lengths[0] == 1000 // 16 and lengths[-1] <= 8


SLOW_CHECK = """        with open(os.environ['LOADLINT_TEST_PIDS'] + '.started', 'a') as started:
            started.write('x')
        time.sleep(30)
        return ()
"""


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="lists child processes through /proc")
def test_sigterm_in_the_project_phase_ends_the_run_and_its_worker(tmp_path):
    write_files(tmp_path / "rules", {f"slow/check_{n}.py": _project_rule("slow", f"check-{n}", SLOW_CHECK, pause=0) for n in (1, 2)})
    project = write_files(tmp_path / "project", MANY_FILES)
    pids = tmp_path / "pids"
    command = [sys.executable, "-m", "linter", "check", "--no-cache", "-j", "2", "--rules-dir", str(tmp_path / "rules")]
    command += ["--select", "slow", str(project)]
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "LOADLINT_TEST_PIDS": str(pids)}
    run_ = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    started = Path(f"{pids}.started")
    try:
        until = time.monotonic() + 60
        while (not started.exists() or len(started.read_text()) < 2) and run_.poll() is None and time.monotonic() < until:
            time.sleep(0.02)
        assert started.exists() and len(started.read_text()) == 2, "both checks did not start"
        in_checks = {int(line.split()[1]) for line in pids.read_text().splitlines()}
        assert run_.pid in in_checks and len(in_checks) == 2
        run_.send_signal(signal.SIGTERM)
        _, stderr = run_.communicate(timeout=20)
        assert run_.returncode == 143, stderr
        assert "Traceback" not in stderr.decode()
        worker = (in_checks - {run_.pid}).pop()
        until = time.monotonic() + 5
        while running(worker) and time.monotonic() < until:
            time.sleep(0.05)
        assert not running(worker), "the worker outlived the run"
    finally:
        if run_.poll() is None:
            os.killpg(run_.pid, signal.SIGKILL)
        run_.wait(timeout=10)


NESTED_CONFIGS = {
    ".git/HEAD": "x",
    # The run's own config and a nested one both name a rules folder: only a config other than the run's (the
    # object it read first) gets a notice, so a copy of the run's config from the child would get one too.
    ".loadlint.toml": 'rules-dir = "rules"\n[levels]\n"split/finds-in-every-file" = "warning"\n',
    "apps/web/.loadlint.toml": 'rules-dir = "rules"\nexclude = ["gen/"]\n',
    "apps/web/src/page.js": "export const page = 1;\n",
    "apps/web/gen/bundle.js": "export const bundle = 1;\n",
    **MANY_FILES,
}


def test_a_run_in_two_processes_finds_the_files_in_a_child_and_keeps_the_configs_it_read(split_project, monkeypatch):
    project, rules, _ = split_project
    write_files(project, NESTED_CONFIGS)
    forked = []

    def recorded(work, meanwhile):
        forked.append(work)
        return run_forked_while(work, meanwhile)

    monkeypatch.setattr(engine, "run_forked_while", recorded)
    alone = _run(project, rules, jobs=1)
    assert not forked
    shared = _run(project, rules, jobs=2)
    assert len(forked) == 1
    assert shared.model_dump() == alone.model_dump()
    ignored = [n.message.split(":")[0] for n in shared.notices if "key 'rules-dir' ignored" in n.message]
    assert ignored == ["apps/web/.loadlint.toml"]  # not the run's own config: the run still holds it as such
    assert "apps/web/gen/bundle.js" not in {f.path for f in shared.findings} | {n.path for n in shared.notices}


def test_a_broken_nested_config_stops_a_run_in_two_processes_as_in_one(split_project):
    project, rules, _ = split_project
    write_files(project, {"apps/web/.loadlint.toml": "colour = 'red'\n", "apps/web/a.js": "x();\n"})
    for jobs in (1, 2):
        with pytest.raises(ConfigError, match=r"^apps/web/.loadlint.toml: key 'colour': unknown key$"):
            _run(project, rules, jobs=jobs)


def test_the_forked_work_answers_while_this_process_gets_ready():
    steps_run = []

    def steps():
        time.sleep(0.5)
        yield
        steps_run.append(1)
        yield

    answered, answer = run_forked_while(lambda: ("files", os.getpid()), steps())
    assert answered and answer[0] == "files" and answer[1] != os.getpid()
    assert steps_run == []  # the answer was there after the first step: no step after it ran


def test_forked_work_that_fails_gives_no_answer():
    def fails():
        raise ValueError("bad config")

    assert run_forked_while(fails, []) == (False, None)
    assert run_forked_while(lambda: (lambda: "not picklable"), []) == (False, None)


def test_an_interrupt_while_the_forked_work_runs_ends_the_child(tmp_path):
    started = tmp_path / "child"

    def slow():
        started.write_text(str(os.getpid()))
        time.sleep(30)

    def interrupted():
        until = time.monotonic() + 20
        while not started.exists() and time.monotonic() < until:
            time.sleep(0.01)
        raise KeyboardInterrupt
        yield

    with pytest.raises(KeyboardInterrupt):
        run_forked_while(slow, interrupted())
    assert not running(int(started.read_text()))


def _file_rule(name: str, body: str) -> str:
    return (
        '"""A per-file rule for the tests."""\n'
        "import multiprocessing, os, signal\n"
        "from linter.model import Level, Precision\n"
        "from linter.rule import Rule\n"
        "class FileRule(Rule):\n"
        f"    id = 'files/{name}'\n"
        "    name = 'File rule'\n    level = Level.ERROR\n    precision = Precision.HIGH\n"
        "    query = '(program) @p'\n"
        "    def check(self, match, file):\n"
        f"{body}"
    )


RECORDS_ITS_PROCESS = """        with open(os.environ['LOADLINT_TEST_PIDS'], 'a') as pids:
            pids.write(f'{file.path} {os.getpid()}\\n')
        if os.environ.get('LOADLINT_TEST_WAIT_FOR_WORKER') and multiprocessing.parent_process() is None:
            import time  # on a loaded machine the parent could take every batch before the worker starts
            until = time.monotonic() + 5
            while time.monotonic() < until:
                with open(os.environ['LOADLINT_TEST_PIDS']) as pids:
                    if len({line.split()[1] for line in pids.read().splitlines()}) > 1:
                        break
                time.sleep(0.01)
        yield self.finding(file.location(match['p']), 'seen')
"""
KILLS_A_WORKER = """        if multiprocessing.parent_process() is not None:
            os.kill(os.getpid(), signal.SIGKILL)
        return ()
"""


def test_this_process_analyses_files_beside_its_workers_and_reports_as_one(tmp_path, monkeypatch):
    rules = write_files(tmp_path / "rules", {"files/records.py": _file_rule("records", RECORDS_ITS_PROCESS)})
    project = write_files(tmp_path / "project", {".git/HEAD": "x", **MANY_FILES})
    pids = tmp_path / "pids"
    monkeypatch.setenv("LOADLINT_TEST_PIDS", str(pids))
    options = {"paths": [project], "rules_dir": rules, "select": ["files"], "use_cache": False}
    alone = run(RunOptions(jobs=1, **options)).report
    pids.unlink()
    monkeypatch.setenv("LOADLINT_TEST_WAIT_FOR_WORKER", "1")
    shared = run(RunOptions(jobs=2, **options)).report
    by_process: dict[str, list[str]] = {}
    for line in pids.read_text().splitlines():
        path, pid = line.split()
        by_process.setdefault(pid, []).append(path)
    assert len(by_process) == 2 and str(os.getpid()) in by_process, by_process.keys()  # this one and one worker
    assert sorted(path for paths in by_process.values() for path in paths) == sorted(MANY_FILES)
    assert shared.model_dump() == alone.model_dump()
    assert len(shared.findings) == len(MANY_FILES)


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="lists child processes through /proc")
def test_a_worker_killed_ends_the_run_with_one_line(tmp_path):
    write_files(tmp_path / "rules", {"files/kills.py": _file_rule("kills", KILLS_A_WORKER)})
    project = write_files(tmp_path / "project", MANY_FILES)
    command = [sys.executable, "-m", "linter", "check", "--no-cache", "-j", "2", "--rules-dir", str(tmp_path / "rules")]
    command += ["--select", "files", str(project)]
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("loadlint: error: internal error: BrokenProcessPool"), done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1


def test_the_files_are_found_in_a_child_only_when_every_file_is_likely_analysed(split_project, monkeypatch):
    project, rules, _ = split_project
    forked = []

    def recorded(work, meanwhile):
        forked.append(work)
        return run_forked_while(work, meanwhile)

    monkeypatch.setattr(engine, "run_forked_while", recorded)
    options = {"paths": [project], "rules_dir": rules, "select": ["split"]}
    first = run(RunOptions(jobs=2, **options)).report  # no results kept for the root yet
    assert len(forked) == 1
    again = run(RunOptions(jobs=2, **options)).report  # from the cache: few files, if any, are analysed
    assert len(forked) == 1 and again.model_dump() == first.model_dump()
    run(RunOptions(jobs=1, use_cache=False, **options))
    run(RunOptions(jobs=2, stdin=engine.StdinSource(project / "src/m000.js", b"x();\n"), **options))
    assert len(forked) == 1
