"""pagination/uncapped-limit and prisma/unbounded-find-many beyond the fixtures: the code flow of a finding, its
SARIF, worker processes, and the value-flow helpers they are built on."""

from __future__ import annotations

from pathlib import Path

from linter.context import FileContext
from linter.engine import RunOptions, run
from linter.formatters.sarif import sarif_log
from linter.flow.tracer import Tracer
from linter.rules.pagination._page_size import PAGE_SIZE
from linter.rules.pagination._caps import bounds, canonical
from linter.model import Level
from linter.syntax import parse, text, walk
from tests.sarif_schema import assert_valid_sarif

RULE = "pagination/uncapped-limit"

LEADS_ROUTE = """\
const express = require('express');
const { prisma } = require('../lib/prisma');

const router = express.Router();

router.get('/leads', async (req, res) => {
  const { limit } = req.query;
  const take = parseInt(limit) || 100;
  const leads = await prisma.lead.findMany({
    where: { ownerId: req.user.id },
    take,
  });
  res.json({ leads });
});

module.exports = router;
"""


def _report(tmp_path: Path, source: str = LEADS_ROUTE, name: str = "leads.js", jobs: int = 1):
    (tmp_path / "package.json").write_text('{"name": "api", "dependencies": {"express": "^4.19.0"}}')
    (tmp_path / name).write_text(source)
    return run(RunOptions(paths=[tmp_path], jobs=jobs)).report


def test_code_flow_runs_from_the_request_to_the_take(tmp_path):
    report = _report(tmp_path)
    (finding,) = [f for f in report.active_findings if f.rule_id == RULE]
    assert (finding.path, finding.span.start_line, finding.level) == ("leads.js", 11, Level.WARNING)
    assert "`limit`" in finding.message and "Math.min(parsed, 100)" in finding.message
    steps = [(step.span.start_line, step.span.start_column, step.message) for step in finding.code_flow]
    assert steps == [
        (7, 11, "`limit` comes from the query string"),
        (8, 16, "`parseInt()` keeps any size"),
        (8, 16, "`|| 100` is only a default"),
        (8, 9, "assigned to `take`"),
        (11, 5, "sets Prisma `take` in `findMany()`"),
    ]
    (source,) = finding.related
    assert (source.span.start_line, source.span.start_column) == (7, 11)


def test_sarif_has_the_code_flow_and_validates(tmp_path):
    report = _report(tmp_path)
    log = sarif_log(report)
    assert_valid_sarif(log)
    (result,) = [r for r in log["runs"][0]["results"] if r["ruleId"] == RULE]
    (flow,) = result["codeFlows"]
    (thread,) = flow["threadFlows"]
    locations = [step["location"] for step in thread["locations"]]
    assert [loc["physicalLocation"]["region"]["startLine"] for loc in locations] == [7, 8, 8, 8, 11]
    assert locations[0]["message"]["text"] == "`limit` comes from the query string"
    assert all(loc["physicalLocation"]["artifactLocation"]["uri"] == "leads.js" for loc in locations)
    rule = next(r for r in log["runs"][0]["tool"]["driver"]["rules"] if r["id"] == RULE)
    assert rule["properties"]["security-severity"] == "5.3"
    assert "external/cwe/cwe-770" in rule["properties"]["tags"]


def test_worker_processes_find_the_same(tmp_path):
    files = {f"routes/r{i}.js": LEADS_ROUTE for i in range(70)}
    (tmp_path / "package.json").write_text('{"name": "api"}')
    for name, source in files.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(source)
    serial = run(RunOptions(paths=[tmp_path], jobs=1)).report
    parallel = run(RunOptions(paths=[tmp_path], jobs=2)).report

    def key(report):
        return sorted((f.path, f.span.start_line, f.code_flow) for f in report.active_findings if f.rule_id == RULE)

    assert len(key(serial)) == 70
    assert key(serial) == key(parallel)


def test_unbounded_find_many_is_a_note_naming_the_page_parameter(tmp_path):
    source = LEADS_ROUTE.replace("const { limit } = req.query;", "const { page } = req.query;").replace(
        "  const take = parseInt(limit) || 100;\n", ""
    ).replace("    take,\n", "    skip: Number(page) * 20,\n")
    report = _report(tmp_path, source)
    (finding,) = report.active_findings
    assert finding.rule_id == "prisma/unbounded-find-many" and finding.level is Level.NOTE
    assert "`page`" in finding.message
    assert [r.span.start_line for r in finding.related] == [7]


def _file(source: str, name: str = "x.ts") -> FileContext:
    language = "typescript" if name.endswith(".ts") else "javascript"
    return FileContext(name, source.encode(), language, parse(source.encode(), language))


def _node(file: FileContext, kind: str, source_text: str):
    return next(n for n in walk(file.root) if n.type == kind and text(n) == source_text)


def test_trace_reports_the_parameter_and_its_origin():
    file = _file(
        "export async function GET(request: Request) {\n"
        "  const url = new URL(request.url);\n"
        "  const size = Number(url.searchParams.get('size') ?? 10) + 1;\n"
        "  return size;\n"
        "}\n"
    )
    flow = Tracer(file, PAGE_SIZE).trace(_node(file, "identifier", "size"))
    assert flow is not None and flow.is_value
    assert (flow.input.param, flow.input.origin) == ("size", "the query string")


def test_trace_stops_at_values_the_client_does_not_control():
    file = _file(
        "function list(req, res) {\n"
        "  const fromEnv = parseInt(process.env.PAGE_SIZE || '300');\n"
        "  const fromConstant = 50;\n"
        "  const id = req.params.id.length;\n"
        "  return [fromEnv, fromConstant, id];\n"
        "}\n",
        "x.js",
    )
    tracer = Tracer(file, PAGE_SIZE)
    array = next(n for n in walk(file.root) if n.type == "array")
    assert [tracer.trace(item) for item in array.named_children] == [None, None, None]


def test_bounds_reads_which_side_of_a_comparison_is_small():
    file = _file("if (a > 100 || isNaN(a)) {}\nif (100 >= b && b > 0) {}\nif (c < 1) {}\n")
    first, second, third = [n.child_by_field_name("condition") for n in walk(file.root) if n.type == "if_statement"]
    assert bounds(first, "a", when_true=False) and not bounds(first, "a", when_true=True)
    assert bounds(second, "b", when_true=True)
    assert not bounds(third, "c", when_true=False)


def test_canonical_names_a_value_through_conversions():
    file = _file("f(Number(req.query['limit']), +limit, req.query.limit);")
    call = next(n for n in walk(file.root) if n.type == "call_expression" and text(n).startswith("f("))
    names = [canonical(argument) for argument in call.child_by_field_name("arguments").named_children]
    assert names == ["req.query.limit", "limit", "req.query.limit"]
