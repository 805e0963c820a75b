"""Times loadlint against the tree-sitter parse floor on one directory and prints the ratios.

    python -m tests.benchmark PATH [--repeat 5] [--jobs 2] [--changed 5] [--server-only]

The floor is reading and parsing every file loadlint would lint, nothing else (in this process, and split over
`--jobs` forked processes). loadlint is timed end to end as a subprocess (interpreter start included):
a cold run without the cache in one process and with `--jobs` workers (each also with the rules idle,
`tests.idle_rules`: the engine's own work, and what the targets leave the rules), a warm re-run from the cache, a
pre-commit style run on `--changed` files (unchanged, then just edited: in a copy of the tree, since nothing
under PATH is written; each also with a `loadlint server --serve-checks` of the tree up, which answers them)
against its own floor (a fresh interpreter parsing and querying those files), and `--version`. Each time is
the median of `--repeat` runs.

`loadlint server` is timed as an editor sees it, on a copy of the tree made a git root as a checkout is: the
time from opening a file to its complete diagnostics (those `loadlint check` reports for it), with no results
cache (cold; at most 3 runs) and with the cache a first session left (warm), and from a change of the open
file to its diagnostics on the warm server. For a typical file (the median size) and for a file with a
finding of a rule that checks the whole project (when there is one).
The peak memory is the largest resident set of the one-process cold run. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from linter.cache import SETTLED_NS
from linter.config import Config
from linter.discovery import ALWAYS_SKIPPED_DIRS, discover
from linter.engine import find_root
from linter.syntax import LANGUAGE_BY_SUFFIX, parse

# The targets, as ratios to the floors measured in the same run.
TARGETS = {
    "cold, 1 process": ("floor, 1 process", 2.0),
    "cold, N processes": ("floor, N processes", 1.8),
    "warm (cache)": ("cold, 1 process", 0.15),
}
# The cold runs with the rules idle (`tests.idle_rules`): the engine's own work, which the targets above must
# leave room for the rules' beside.
IDLE_RUNS = {cold: f"{cold}, rules idle" for cold in ("cold, 1 process", "cold, N processes")}
PRECOMMIT_FLOOR = "floor, pre-commit"  # starting Python, parsing and querying the pre-commit run's files
PRECOMMIT_TARGETS = {"warm": 4.0, "edited": 5.0}  # as ratios to that floor
PRECOMMIT_NO_CACHE_TARGET_S = 1.0
SERVER_EDIT_TARGET_S = 0.3
VERSION_TARGET_S = 0.15
PEAK_MEMORY_TARGET_MB = 300
SPREADS: dict[str, list[float]] = {}  # every time a median was taken of, for the measurements that show their spread


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmark", description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement; the median is reported")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes for the parallel runs")
    parser.add_argument("--changed", type=int, default=5, help="files in the pre-commit style run")
    parser.add_argument("--server-only", action="store_true", help="time `loadlint server` alone")
    parser.add_argument("--precommit-only", action="store_true", help="time the pre-commit style runs alone")
    args = parser.parse_args(argv)

    target = args.path.resolve()
    sources = discover(find_root(target), [target], Config().max_file_size).sources
    if not sources:
        print(f"no JavaScript or TypeScript files under {target}", file=sys.stderr)
        return 2
    total_bytes = sum(p.stat().st_size for p in sources)
    print(f"{target}: {len(sources)} files, {total_bytes / 1e6:.1f} MB; {os.cpu_count()} cores, --jobs {args.jobs}")

    times: dict[str, float] = {}
    if args.server_only:
        _print(_server_times(target, sources, args.repeat))
        return 0
    full = not args.precommit_only
    if full:
        times["floor, 1 process"] = _median(args.repeat, lambda: _parse_all(sources))
        times["floor, N processes"] = _median(args.repeat, lambda: _parse_in_pool(sources, args.jobs))
    peak_kb = 0

    with tempfile.TemporaryDirectory(prefix="loadlint-bench-") as cache_home:
        env = {**os.environ, "XDG_CACHE_HOME": cache_home}
        check = ["check", "--format", "json", "--exit-zero"]
        lint = [sys.executable, "-m", "linter", *check]
        if full:
            cold, peak_kb = _run_many(args.repeat, [*lint, "--no-cache", "-j", "1", str(target)], env)
            times["cold, 1 process"] = cold
            jobs = str(args.jobs)
            times["cold, N processes"], _ = _run_many(args.repeat, [*lint, "--no-cache", "-j", jobs, str(target)], env)
            idle = [sys.executable, "-m", "tests.idle_rules", *check, "--no-cache"]
            times[IDLE_RUNS["cold, 1 process"]], _ = _run_many(args.repeat, [*idle, "-j", "1", str(target)], env)
            times[IDLE_RUNS["cold, N processes"]], _ = _run_many(args.repeat, [*idle, "-j", jobs, str(target)], env)
        _run([*lint, str(target)], env)  # fills the cache
        if full:
            times["warm (cache)"], _ = _run_many(args.repeat, [*lint, str(target)], env)
        changed = [str(p) for p in _spread(sources, args.changed)]
        times[PRECOMMIT_FLOOR], _ = _run_many(args.repeat, [sys.executable, "-c", _PRECOMMIT_FLOOR_SCRIPT, *changed], env)
        _run([*lint, *changed], env)  # its root may not be the full run's (no .git): fill that cache too
        times[f"pre-commit, {len(changed)} files, warm"], _ = _run_many(args.repeat, [*lint, *changed], env)
        with _check_server(find_root(target), env, [*lint, *changed]) as served_env:
            if served_env is not None:
                times[f"pre-commit, {len(changed)} files, warm, server up"], _ = _run_many(args.repeat, [*lint, *changed], served_env)
        times[f"pre-commit, {len(changed)} files, no cache"], _ = _run_many(args.repeat, [*lint, "--no-cache", *changed], env)
        edited = _edited_run(target, [Path(p) for p in changed], lint, env, args.repeat)
        if edited is not None:
            times[f"pre-commit, {len(changed)} files edited"], served = edited
            if served is not None:
                times[f"pre-commit, {len(changed)} files edited, server up"] = served
        if full:
            times["--version"], _ = _run_many(args.repeat, [sys.executable, "-m", "linter", "--version"], env)
    if full:
        times.update(_server_times(target, sources, args.repeat))
    width = _print(times)
    if not full:
        return 0
    _print_room_for_rules(times)
    peak_mb = peak_kb / 1024
    verdict = "ok" if peak_mb <= PEAK_MEMORY_TARGET_MB else "MISSED"
    print(f"  {'peak memory, cold, 1 process':<{width}}  {peak_mb:7.0f} MB  (target <= {PEAK_MEMORY_TARGET_MB} MB)  {verdict}")
    return 0


def _print(times: dict[str, float]) -> int:
    """One line per time, with its target; the width of the names."""
    width = max(map(len, times), default=0)
    for name, seconds in times.items():
        line = f"  {name:<{width}}  {seconds:7.3f} s"
        if seconds in _SPREADS:
            line += " [{:.3f}-{:.3f}, cpu {:.3f} s]".format(*_SPREADS[seconds])
        if name in TARGETS:
            base, limit = TARGETS[name]
            ratio = seconds / times[base]
            line += f"   {ratio:5.2f} x {base:<18} (target <= {limit})  {'ok' if ratio <= limit else 'MISSED'}"
        elif name in IDLE_RUNS.values():
            base = TARGETS[name.removesuffix(", rules idle")][0]
            line += f"   {seconds / times[base]:5.2f} x {base:<18} (the engine alone)"
        elif name.startswith("pre-commit") and "no cache" not in name and PRECOMMIT_FLOOR in times:
            limit = PRECOMMIT_TARGETS["edited" if "edited" in name else "warm"]
            ratio = seconds / times[PRECOMMIT_FLOOR]
            line += f"   {ratio:5.2f} x {PRECOMMIT_FLOOR:<18} (target <= {limit})  {'ok' if ratio <= limit else 'MISSED'}"
        elif name.startswith("pre-commit") and name.endswith("no cache"):
            verdict = "ok" if seconds <= PRECOMMIT_NO_CACHE_TARGET_S else "MISSED"
            line += f"   (target <= {PRECOMMIT_NO_CACHE_TARGET_S} s)  {verdict}"
        elif name.startswith("server") and name.endswith("after an edit"):
            line += f"   (target <= {SERVER_EDIT_TARGET_S} s)  {'ok' if seconds <= SERVER_EDIT_TARGET_S else 'MISSED'}"
        elif name == "--version":
            line += f"   (target <= {VERSION_TARGET_S} s)  {'ok' if seconds <= VERSION_TARGET_S else 'MISSED'}"
        if name in SPREADS and len(SPREADS[name]) >= 4:
            quartiles = statistics.quantiles(SPREADS[name], n=4)
            line += f"   [quartiles {quartiles[0]:.3f}-{quartiles[2]:.3f}, range {min(SPREADS[name]):.3f}-{max(SPREADS[name]):.3f}, {len(SPREADS[name])} runs]"
        print(line)
    return width


def _print_room_for_rules(times: dict[str, float]) -> None:
    """For each cold run: the time its rules take (the run less the run with the rules idle), and the time the
    target leaves them (the target's time less the run with the rules idle)."""
    for cold, idle in IDLE_RUNS.items():
        if cold not in times or idle not in times:
            continue
        base, limit = TARGETS[cold]
        taken, left = times[cold] - times[idle], limit * times[base] - times[idle]
        print(f"  {cold}: the rules take {taken:.3f} s; the target leaves them {left:.3f} s ({left / taken:.0%} of that)")


# The pre-commit floor: a fresh interpreter that parses the named files and runs one query over each.
_PRECOMMIT_FLOOR_SCRIPT = """
import sys
import tree_sitter as ts, tree_sitter_javascript as js, tree_sitter_typescript as typescript
grammars = {".ts": typescript.language_typescript, ".mts": typescript.language_typescript,
            ".cts": typescript.language_typescript, ".tsx": typescript.language_tsx}
for name in sys.argv[1:]:
    language = ts.Language(grammars.get(name[name.rfind("."):], js.language)())
    tree = ts.Parser(language).parse(open(name, "rb").read())
    ts.QueryCursor(ts.Query(language, "(call_expression) @call")).matches(tree.root_node)
"""


def _median(repeat: int, measure) -> float:
    return statistics.median(measure() for _ in range(repeat))


def _parse_all(sources: list[Path]) -> float:
    started = time.perf_counter()
    for path in sources:
        _parse_one(path)
    return time.perf_counter() - started


def _parse_one(path: Path) -> None:
    parse(path.read_bytes(), LANGUAGE_BY_SUFFIX[path.suffix])


def _parse_in_pool(sources: list[Path], jobs: int) -> float:
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("fork")) as pool:
        for _ in pool.map(_parse_one, sources, chunksize=max(1, len(sources) // (jobs * 8))):
            pass
    return time.perf_counter() - started


def _run(command: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall time and peak resident set (KB, the largest of the process and its workers) of one run."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    _CPU_SECONDS.append(usage.ru_utime + usage.ru_stime)
    stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
    if env.get("LOADLINT_SERVER_DEBUG"):
        _SERVED.append("server: answered" in stderr)
    if process.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} exited {process.returncode}: {stderr.strip()}")
    return elapsed, usage.ru_maxrss


# A median -> the fastest and slowest of its runs, and their median CPU time (user and system, with workers):
# on a loaded machine the CPU time says more than the wall time.
_SPREADS: dict[float, tuple[float, float, float]] = {}
_CPU_SECONDS: list[float] = []  # of every run so far
_SERVED: list[bool] = []  # whether each run with a server up was answered by it


def _run_many(repeat: int, command: list[str], env: dict[str, str]) -> tuple[float, int]:
    runs = [_run(command, env) for _ in range(repeat)]
    return _median_of([t for t, _ in runs], _CPU_SECONDS[-repeat:]), max(kb for _, kb in runs)


def _median_of(seconds: list[float], cpu_seconds: list[float]) -> float:
    median = statistics.median(seconds)
    _SPREADS[median] = (min(seconds), max(seconds), statistics.median(cpu_seconds))
    return median


def _edited_run(target: Path, changed: list[Path], lint: list[str], env: dict[str, str], repeat: int) -> tuple[float, float] | None:
    """A pre-commit run as a hook sees it: the cache holds the rest of the repository, and the named files were
    just edited. On a copy of the tree (the benchmark writes nothing under PATH), made a git root as a checkout
    is; without and with a server up (the times, None when the tree cannot be copied or no server answers)."""
    with tempfile.TemporaryDirectory(prefix="loadlint-bench-tree-") as work:
        copy = Path(work) / target.name
        try:
            shutil.copytree(target, copy, symlinks=True, ignore=shutil.ignore_patterns(*ALWAYS_SKIPPED_DIRS))
        except (OSError, shutil.Error):
            return None
        (copy / ".git").mkdir(exist_ok=True)
        files = [copy / p.relative_to(target) for p in changed]
        command = [*lint, *map(str, files)]
        _run([*lint, str(copy)], env)  # fills the cache
        time.sleep(SETTLED_NS / 1e9 + 0.1)  # until the copy counts as settled, as a checkout does
        _run(command, env)  # keeps what a run keeps only of settled files and folders
        seconds = []
        for edit in range(repeat):
            for file in files:
                with file.open("a", encoding="utf-8") as out:
                    out.write(f"\n// edited {edit}\n")
            seconds.append(_run(command, env)[0])
        alone = _median_of(seconds, _CPU_SECONDS[-repeat:])
        with _check_server(copy, env, command) as served_env:
            if served_env is None:
                return alone, None
            seconds = []
            for edit in range(repeat):
                for file in files:
                    with file.open("a", encoding="utf-8") as out:
                        out.write(f"\n// edited with a server up {edit}\n")
                seconds.append(_run(command, served_env)[0])
            return alone, _median_of(seconds, _CPU_SECONDS[-repeat:])


@contextlib.contextmanager
def _check_server(root: Path, env: dict[str, str], command: list[str]):
    """A `loadlint server --serve-checks` of `root`, up and warm, and the environment `command` finds it in
    (with LOADLINT_SERVER_DEBUG, whose line `_run` checks); None when it does not answer `command`."""
    from tests.stdio_client import StdioClient

    with tempfile.TemporaryDirectory(prefix="ll-", dir="/tmp") as runtime:
        os.chmod(runtime, 0o700)
        served_env = {**env, "XDG_RUNTIME_DIR": runtime, "LOADLINT_SERVER_DEBUG": "1"}
        server = StdioClient(["server", "--serve-checks"], served_env, framed=True)
        try:
            server.request("initialize", {"processId": os.getpid(), "rootUri": root.as_uri(), "capabilities": {}}, timeout=600)
            server.notify("initialized", {})
            for _ in range(20):  # its first answers load the rules: they may come after the run lints alone
                done = subprocess.run(command, env=served_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                if "server: answered" in done.stderr:
                    break
            else:
                yield None
                return
            _SERVED.clear()
            cpu_before = _cpu_seconds(server.process.pid)
            yield served_env
            cpu_after = _cpu_seconds(server.process.pid)
            if _SERVED and not all(_SERVED):
                print(f"  (of {len(_SERVED)} runs with the server up, {_SERVED.count(False)} were not answered by it)")
            if _SERVED and cpu_before is not None and cpu_after is not None:
                # The CPU times above are the client's alone: what the server spent answering comes on top.
                print(f"  (the server's CPU time per answered run: {(cpu_after - cpu_before) / len(_SERVED):.3f} s)")
        finally:
            try:
                server.request("shutdown", timeout=60)
                server.notify("exit")
            except (OSError, TimeoutError, EOFError, RuntimeError):
                pass
            server.close()


def _server_times(target: Path, sources: list[Path], repeat: int) -> dict[str, float]:
    """Open-to-diagnostics and edit-to-diagnostics times of `loadlint server` (see the module's docstring)."""
    import json

    from linter.registry import builtin_rules
    from linter.rule import Rule
    from tests.stdio_client import StdioClient

    project_rules = {rule.id for rule in builtin_rules() if rule.check_project is not Rule.check_project}
    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="loadlint-bench-server-") as work:
        copy = Path(work) / target.name
        try:
            shutil.copytree(target, copy, symlinks=True, ignore=shutil.ignore_patterns(*ALWAYS_SKIPPED_DIRS))
        except (OSError, shutil.Error):
            return times
        (copy / ".git").mkdir(exist_ok=True)
        env = {**os.environ, "XDG_CACHE_HOME": str(Path(work) / "cache")}
        lint = [sys.executable, "-m", "linter", "check", "--format", "json", "--exit-zero", "--no-cache", str(copy)]
        report = json.loads(subprocess.run(lint, env=env, capture_output=True, check=True, text=True).stdout)
        expected: dict[str, list] = {}
        for finding in report["findings"]:
            if not finding.get("suppressed"):
                expected.setdefault(finding["path"], []).append((finding["rule_id"], finding["span"]["start_line"] - 1))
        by_size = sorted(sources, key=lambda p: p.stat().st_size)
        files = {"typical file": copy / by_size[len(by_size) // 2].relative_to(target)}
        cross = sorted(p for p, found in expected.items() if any(r in project_rules for r, _ in found) and Path(p).suffix != ".prisma")
        if cross:
            files["file with a project-wide finding"] = copy / cross[0]
        for label, file in files.items():
            want = sorted(expected.get(file.relative_to(copy).as_posix(), []))
            cold = []
            for _ in range(min(repeat, 3)):
                shutil.rmtree(env["XDG_CACHE_HOME"], ignore_errors=True)
                cold.append(_server_session(StdioClient, env, copy, file, want, edits=0)[0])
            warm, edits, cpu = _server_session(StdioClient, env, copy, file, want, edits=max(repeat, 5) * 2)
            times[f"server, open {label}, cold"] = statistics.median(cold)
            times[f"server, open {label}, warm"] = warm
            times[f"server, {label}, after an edit"] = statistics.median(edits)
            SPREADS[f"server, {label}, after an edit"] = edits
            if cpu:  # what the edit costs the server itself, whatever else the machine runs
                times[f"server, {label}, CPU of an edit"] = statistics.median(cpu)
                SPREADS[f"server, {label}, CPU of an edit"] = cpu
    return times


def _server_session(client_class, env: dict, root: Path, file: Path, want: list, edits: int) -> tuple[float, list[float], list[float]]:
    """One server: the time from opening `file` to its complete diagnostics `want` ((rule, line) pairs), then
    the time of each edit (a few lines added or removed at the top) to its diagnostics, and the CPU time the
    server process spent on each (empty where /proc cannot tell)."""
    server = client_class(["server"], env, framed=True)
    try:
        server.request("initialize", {"processId": os.getpid(), "rootUri": root.as_uri(), "capabilities": {}})
        server.notify("initialized", {})
        text, uri = file.read_text(encoding="utf-8", errors="replace"), file.as_uri()
        started = time.perf_counter()
        server.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "typescript", "version": 1, "text": text}})
        while sorted((d["code"], d["range"]["start"]["line"]) for d in server.diagnostics(uri, timeout=600)) != want:
            pass
        opened = time.perf_counter() - started
        seconds, cpu = [], []
        for version in range(2, edits + 2):
            started, cpu_before = time.perf_counter(), _cpu_seconds(server.process.pid)
            changed = "\n" * (version % 3) + text
            server.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": changed}]})
            server.diagnostics(uri, timeout=60, version=version)
            seconds.append(time.perf_counter() - started)
            cpu_after = _cpu_seconds(server.process.pid)
            if cpu_before is not None and cpu_after is not None:
                cpu.append(cpu_after - cpu_before)
        server.request("shutdown")
        server.notify("exit")
        return opened, seconds, cpu
    finally:
        server.close()


def _cpu_seconds(pid: int) -> float | None:
    """The user and system CPU time of a running process, from /proc (Linux); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _spread(sources: list[Path], count: int) -> list[Path]:
    """`count` files spread evenly over the sorted list, so that they fall in different folders and packages."""
    step = max(1, len(sources) // max(1, count))
    return sources[::step][:count]


if __name__ == "__main__":
    sys.exit(main())
