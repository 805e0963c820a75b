"""Every step of a run is bounded in time, and a step that runs out says so truthfully: which step, which rule,
how long it really took. Input too deep for tree-sitter's queries is skipped with a notice, never reported clean."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest

from linter.deadline import Deadline, OutOfTime
from linter.registry import builtin_rules
from linter.syntax import compile_query, parse
from tests.project_builder import write_files
from tests.test_bad_input import MARKER, _rule, lint

# Nodes deeper than this are invisible to tree-sitter's queries (the root is at depth 0).
QUERY_MAX_DEPTH = 65_535
SLOW_NOTICE = re.compile(
    r"skipped: linting stopped after (?P<took>\d+\.\d) s \(limit (?P<limit>[\d.]+) s\) while (?P<doing>[^;]+)"
    r"(; the slowest rule was (?P<rule>\S+) \((?P<rule_took>\d+\.\d) s\))?"
    r"; exclude the file if it is generated, or raise --timeout"
)


@pytest.fixture
def project(tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    return folder


def _lint_rules(project, *args, select: str):
    return lint(project, project, "--no-cache", *args, rules=["--select", select])


# --- native query time ---------------------------------------------------------------------------------------

NESTINGS = {
    "parentheses": "x =\n" + "(\n" * 16_000 + "'dev'\n" + ")\n" * 16_000,
    "or-chain": "x = a\n" + "|| b\n" * 16_000 + "|| 'dev';\n",
    "calls": "x =\n" + "f(1,\n" * 8_000 + "'dev'\n" + ")\n" * 8_000,
    "ternaries": "x =\n" + "a ?\n" * 8_000 + "'dev'\n" + ": c\n" * 8_000,
}


@pytest.mark.parametrize("shape", NESTINGS)
def test_secret_fallback_query_is_linear_in_nesting(shape):
    # Patterns pending in every enclosing `(`, call, `?:` or `||` made it quadratic: 6 s here, minutes for more.
    tree = parse(NESTINGS[shape].encode(), "javascript")
    (rule,) = [cls() for cls in builtin_rules() if cls.id == "auth/secret-fallback"]
    query = compile_query(rule.query_for("javascript"), "javascript")
    started = time.monotonic()
    query.matches(tree.root_node)
    assert time.monotonic() - started < 1


SQL_HANDLER = """const express = require('express');
const knex = require('./knex');
const router = express.Router();
router.get('/leads', async (req, res) => {
  const { rows } = await knex.raw('SELECT id FROM leads ORDER BY id LIMIT ' + req.query.limit);
  res.json(rows);
});
"""
LINEAR_IN_TIME = {
    "secret-fallback-or-chain": (
        "auth/secret-fallback",
        "const jwt = require('jsonwebtoken');\nconst s = process.env.JWT_SECRET\n" + "|| process.env.A\n" * 10_000 + "|| 'dev';\n",
    ),
    # A predicate that read the whole left operand at every `+` of a chain: 13 s.
    "uncapped-limit-plus-chain": ("pagination/uncapped-limit", SQL_HANDLER + "x = 'a'\n" + "+ b\n" * 12_000 + ";\n"),
}


@pytest.mark.parametrize("case", LINEAR_IN_TIME)
def test_rule_on_a_long_chain_finishes_in_time(project, case):
    rule, source = LINEAR_IN_TIME[case]
    write_files(project, {"package.json": '{"dependencies": {"jsonwebtoken": "9", "express": "4"}}', "chain.js": source})
    outcome = _lint_rules(project, "--timeout", "3", select=rule)
    assert outcome.notices == {}
    assert {f[3] for f in outcome.findings} == {rule}


def test_out_of_time_notice_tells_the_true_time_and_the_slow_rule(tmp_path, project):
    # A query that is quadratic in nesting (native code: the alarm cannot stop it) on 8,000 nested parentheses:
    # it takes over a second, far past the limit, and the notice says so.
    rules = tmp_path / "rules"
    _rule(rules, "slow", "query", "    def check(self, match, file):\n        return ()\n",
          query="(parenthesized_expression (number) @n)")  # fmt: skip
    write_files(project, {"deep.js": "x =\n" + "(\n" * 8_000 + "1\n" + ")\n" * 8_000, "good.js": MARKER})
    started = time.monotonic()
    outcome = lint(project, project, "--timeout", "0.2", rules=["--rules-dir", rules, "--select", "slow"])
    took = time.monotonic() - started
    notice = SLOW_NOTICE.fullmatch(outcome.notices["deep.js"])
    assert notice is not None, outcome.notices
    assert notice["limit"] == "0.2"
    assert notice["doing"] == "matching the query of slow/query"
    assert notice["rule"] == "slow/query"
    assert 0.4 < float(notice["took"]) < took + 0.1  # the time it really took, not the limit
    assert float(notice["rule_took"]) <= float(notice["took"]) + 0.1
    assert outcome.exit_code == 2


def test_parsing_is_cancelled_at_the_time_limit(project):
    # 1.2 MB of `a<` lines take the TypeScript parser seconds; the parse stops at the limit.
    write_files(project, {"slow.ts": "a<\n" * 400_000, "good.js": MARKER})
    outcome = lint(project, project, "--no-cache", "--timeout", "0.3")
    notice = SLOW_NOTICE.fullmatch(outcome.notices["slow.ts"])
    assert notice is not None, outcome.notices
    assert notice["doing"] == "parsing"
    assert notice["rule"] is None  # no rule ran
    assert float(notice["took"]) < 1.5
    assert outcome.findings == {("good.js", 1, 1, "testing/marker-client")}
    assert outcome.exit_code == 2


def test_only_a_parse_that_could_outlast_the_time_left_is_cancellable(tmp_path, monkeypatch):
    # The cancellable parse costs a second parse; a file the parser reads within the time left even at a
    # small fraction of its slowest speed does without it.
    import linter.analysis as analysis
    from linter.analysis import RulePlan, analyze_file

    asked = []
    real = analysis.parse
    monkeypatch.setattr(analysis, "parse", lambda source, language, should_stop=None: asked.append(should_stop) or real(source, language, should_stop))
    from linter.registry import builtin_rules

    path = tmp_path / "a.ts"
    path.write_text("const a = 1;\n" * 1000 + "prisma.user.findMany();\n")  # a rule looks at it: it is parsed
    plan = RulePlan([rule() for rule in builtin_rules() if rule.id == "prisma/unbounded-find-many"], frozenset())
    for limit in (60.0, 0.5, None):
        assert analyze_file(path, "a.ts", plan, [], True, time_limit=limit).parsed
    assert [stop is not None for stop in asked] == [False, True, False]


def test_parse_after_a_cancelled_parse_starts_afresh():
    from linter.syntax import ParseCancelled

    with pytest.raises(ParseCancelled):
        parse(b"a<\n" * 400_000, "typescript", should_stop=lambda: True)
    tree = parse(b"const a = 1;\n", "typescript", should_stop=lambda: False)
    assert str(tree.root_node) == str(parse(b"const a = 1;\n", "typescript").root_node)
    assert not tree.root_node.has_error


# --- one interval timer for every deadline --------------------------------------------------------------------


def _busy(seconds: float) -> None:
    """Python work (the alarm interrupts Python code) for `seconds`."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_deadlines_in_a_row_share_one_timer(monkeypatch):
    # The analysis of each of thousands of files is under the same limit: the timer set for the first is kept.
    import signal

    calls = []
    real = signal.setitimer
    monkeypatch.setattr(signal, "setitimer", lambda *args: calls.append(args) or real(*args))
    with Deadline(30):
        pass
    for _ in range(50):
        with Deadline(60):
            pass
    assert len(calls) <= 1
    assert 0 < signal.getitimer(signal.ITIMER_REAL)[0] <= 60


def test_a_shorter_deadline_after_longer_ones_still_stops_its_block():
    for _ in range(3):
        with Deadline(60):
            pass
    started = time.monotonic()
    with pytest.raises(OutOfTime):
        with Deadline(0.2):
            _busy(3)
    assert time.monotonic() - started < 1.5


def test_an_alarm_for_an_ended_deadline_stops_nothing():
    with Deadline(0.05):
        pass
    _busy(0.15)  # the timer set for it goes off here: ignored
    with Deadline(0.1):
        pass
    with Deadline(5):
        _busy(0.2)  # goes off for the 0.1 s deadline, which has ended: this one runs on


def test_a_timer_left_running_does_not_kill_the_process_as_it_exits():
    # A deadline that closed long before its end leaves the timer running; one going off during the
    # interpreter's shutdown (here: a slow finalizer) would kill the process with SIGALRM.
    script = (
        "import time\n"
        "from linter.deadline import Deadline\n"
        "with Deadline(0.2):\n"
        "    pass\n"
        "class SlowToFinalize:\n"
        "    def __del__(self):\n"
        "        started = time.monotonic()\n"
        "        while time.monotonic() - started < 0.5:\n"
        "            pass\n"
        "kept = SlowToFinalize()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr


def test_nested_deadlines_each_stop_at_their_own_end():
    started = time.monotonic()
    with pytest.raises(OutOfTime):
        with Deadline(0.6):
            with pytest.raises(OutOfTime):
                with Deadline(0.1):
                    _busy(3)
            assert time.monotonic() - started < 0.5
            _busy(3)  # the outer deadline's alarm is still set
    assert time.monotonic() - started < 1.5


# --- the other steps -----------------------------------------------------------------------------------------


# Each `**/a*` becomes a regex part that can match any run of folders: matching a path 26 folders deep
# backtracks for seconds (10 such files: 44 s).
BACKTRACKING_GLOB = "/".join(["**/a*"] * 10) + "/z"
DEEP_FOLDER = "/".join(["a"] * 26)


def test_pathological_gitignore_stops_discovery_with_a_notice(project):
    write_files(project, {".gitignore": BACKTRACKING_GLOB + "\n", **{f"{DEEP_FOLDER}/f{i}.js": MARKER for i in range(10)}})
    started = time.monotonic()
    outcome = lint(project, project, "--no-cache", "--timeout", "0.5")
    assert time.monotonic() - started < 5
    (message,) = outcome.notices.values()
    assert re.fullmatch(
        r"finding the files stopped after \d+\.\d s \(limit 0\.5 s\) while matching (a/)+a against the patterns of "
        r"\.gitignore; nothing was linted \(raise --timeout for a repository that large\)",
        message,
    ), message
    assert outcome.findings == set()
    assert outcome.exit_code == 2


def test_pathological_exclude_glob_stops_discovery_with_a_notice(project):
    files = {f"{DEEP_FOLDER}/f{i}.js": MARKER for i in range(10)}
    write_files(project, {".loadlint.toml": f'exclude = ["{BACKTRACKING_GLOB}"]\n', **files})
    outcome = lint(project, project, "--no-cache", "--timeout", "0.5")
    assert re.fullmatch(
        r"finding the files stopped after \d+\.\d s \(limit 0\.5 s\) while matching the paths against `exclude`; "
        r"nothing was linted \(raise --timeout for a repository that large\)",
        outcome.notices[""],
    ), outcome.notices
    assert outcome.exit_code == 2


def test_pathological_per_file_ignores_glob_is_stopped_with_a_notice(project):
    files = {f"{DEEP_FOLDER}/f{i}.js": MARKER for i in range(10)}
    write_files(project, {".loadlint.toml": f'[per-file-ignores]\n"{BACKTRACKING_GLOB}" = ["testing"]\n', **files})
    outcome = lint(project, project, "--no-cache", "--timeout", "0.5")
    assert re.fullmatch(
        r"applying per-file-ignores stopped after \d+\.\d s \(limit 0\.5 s\); nothing was ignored",
        outcome.notices[""],
    ), outcome.notices
    assert len(outcome.findings) == 10
    assert outcome.exit_code == 2


def test_slow_project_wide_check_is_stopped(tmp_path, project):
    rules = tmp_path / "rules"
    body = "    def check_project(self, project):\n        time.sleep(3)\n        return ()\n"
    _rule(rules, "slow", "project", body)
    write_files(project, {"a.js": MARKER})
    started = time.monotonic()
    outcome = lint(project, project, "--timeout", "0.3", rules=["--rules-dir", rules, "--select", "slow"])
    assert time.monotonic() - started < 2.5
    assert re.fullmatch(
        r"the project-wide check of rule slow/project stopped after 0\.\d s \(limit 0\.3 s\); raise --timeout",
        outcome.notices[""],
    ), outcome.notices
    assert outcome.exit_code == 2


# --- trees too deep to query ---------------------------------------------------------------------------------


def test_queries_do_not_see_nodes_deeper_than_65535_levels():
    """The fact behind QUERY_MAX_DEPTH: tree-sitter's query cursor keeps depths in 16 bits. `n` arrays put the
    identifier `marker` at depth n + 3 (the root is at depth 0)."""

    def sees_marker(arrays: int) -> bool:
        tree = parse(b"x = " + b"[" * arrays + b"marker" + b"]" * arrays + b";\n", "javascript")
        return bool(compile_query('((identifier) @id (#eq? @id "marker"))', "javascript").captures(tree.root_node))

    assert sees_marker(QUERY_MAX_DEPTH - 3)
    assert not sees_marker(QUERY_MAX_DEPTH - 2)


def test_too_deep_is_cheap_on_real_shapes_and_catches_deep_ones():
    from linter.syntax import QUERY_MAX_DEPTH as limit_in_code, too_deep

    assert limit_in_code == QUERY_MAX_DEPTH
    shallow = parse(b"function f() { return [1, { a: (2) }]; }\n" * 2_000, "javascript")
    assert too_deep(shallow.root_node) is None
    deep = parse(b"x = " + b"[" * 70_000 + b"1" + b"]" * 70_000 + b";\n", "javascript")
    limit = too_deep(deep.root_node)
    assert limit is not None and limit < QUERY_MAX_DEPTH


def test_file_deeper_than_queries_see_is_skipped_not_clean(project):
    # Below 65,535 levels the queries find nothing: no finding, no notice, exit 0. It is skipped instead.
    depth = QUERY_MAX_DEPTH + 5_000
    deep = "x =\n" + "[\n" * depth + MARKER.rstrip(";\n") + "\n]" * depth + ";\n"
    write_files(project, {"deep.js": deep, "good.js": MARKER})
    outcome = lint(project, project, "--no-cache")
    assert re.fullmatch(
        r"skipped: nested more than [\d,]+ levels deep in [\d,]+ syntax nodes, too deep to match rules in bounded "
        r"time; exclude the file if it is generated",
        outcome.notices["deep.js"],
    ), outcome.notices
    assert outcome.findings == {("good.js", 1, 1, "testing/marker-client")}
    assert outcome.exit_code == 2


# --- a generous default, met by real shapes ------------------------------------------------------------------


def test_bundle_that_reassigns_the_same_names_is_fast(project):
    """A bundle assigns one-letter names thousands of times; following each value to the server it may hold
    was exponential in the number of assignments (a real 1 MB bundle: 32 s), so a file's fate under the time
    limit depended on the machine."""
    functions = "".join(f"function a{i}() {{ e = t; t = n; n = e; }}\n" for i in range(100))
    write_files(project, {"bundle.js": "var e, t, n;\n" + functions + "e.listen(3000);\n"})
    outcome = _lint_rules(project, "--timeout", "2", select="express/no-graceful-shutdown")
    assert outcome.notices == {}


def test_default_time_limit_is_far_above_what_real_files_need():
    from linter.engine import DEFAULT_FILE_TIMEOUT

    # The slowest of 31,000 real files takes 0.5 s, a 2 MB bundle (the size limit) 2.3 s.
    assert DEFAULT_FILE_TIMEOUT >= 60
