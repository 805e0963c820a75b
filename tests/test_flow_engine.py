"""The value-flow engine's contract: export tables and function keys, the cached summary, the join's bounds, and
what a cross-file finding carries (both ends, a code flow through every file, suppression at its location)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from linter.engine import RunOptions, run
from linter.flow.callees import Callee
from linter.formatters.sarif import sarif_log
from linter.flow.summary import FlowStep, FlowSummary, Origin, SchemaRef, SinkRecord
from linter.frameworks.request_inputs import Input
from linter.js.exports import export_table, function_key
from linter.js.functions import FUNCTION_TYPES
from linter.model import Span
from linter.syntax import parse, walk
from tests.project_builder import write_files
from tests.sarif_schema import assert_valid_sarif

PACKAGE = '{"name": "shop", "private": true, "dependencies": {"@prisma/client": "5.22.0", "express": "4.21.0"}}'
ROUTE = """const express = require('express');
const orders = require('./orders');

const router = express.Router();

router.get('/orders', async (req, res) => {
  res.json(await orders.list(Number(req.query.limit) || 20));
});

module.exports = router;
"""
SERVICE = """const { prisma } = require('./db');

async function list(limit) {
  return prisma.order.findMany({ take: limit });
}

module.exports = { list };
"""
DB = "const { PrismaClient } = require('@prisma/client');\nmodule.exports = { prisma: new PrismaClient() };\n"


def _lint(root: Path, **options):
    return run(RunOptions(paths=[root], select=["pagination"], jobs=1, use_cache=False, **options))


@pytest.fixture
def shop(tmp_path):
    return write_files(
        tmp_path / "shop",
        {".git/HEAD": "ref: refs/heads/main\n", "package.json": PACKAGE, "src/routes.js": ROUTE, "src/orders.js": SERVICE, "src/db.js": DB},
    )


# --- export tables and function keys -----------------------------------------------------------------------


def _keys(source: str) -> list[str | None]:
    tree = parse(source.encode(), "typescript")
    return [function_key(n) for n in walk(tree.root_node) if n.type in FUNCTION_TYPES and n.is_named]


def test_function_keys_name_what_other_modules_reach():
    source = """
export function list(a) {}
export const get = async (a) => {};
export default class Leads { async page(q) {} }
const helpers = { find(a) {}, other: (b) => {} };
function outer() { return () => 1; }
exports.more = function (z) {};
"""
    assert _keys(source) == ["list", "get", "Leads.page", "helpers.find", "helpers.other", "outer", None, "<exports>.more"]


def test_export_table_maps_exported_names_to_local_keys():
    source = """
import { x } from './x';
export { list as findOrders };
export * from './barrel';
export { a as b } from './c';
const service = new OrderService();
const helpers = { paginate };
module.exports = { run: () => 1, helpers };
"""
    table = export_table(parse(source.encode(), "typescript").root_node)
    assert table.names == {"findOrders": "list", "run": "<exports>.run", "helpers": "helpers"}
    assert [(r.name, r.module, r.imported) for r in table.re_exports] == [("*", "./barrel", "*"), ("b", "./c", "a")]
    assert table.local_of("service.list") == "OrderService.list"
    assert table.local_of("helpers.paginate") == "paginate"
    assert type(table).from_data(json.loads(json.dumps(table.to_data()))) == table


# --- the cached summary --------------------------------------------------------------------------------------


def _span(line: int) -> Span:
    return Span(start_line=line, start_column=1, end_line=line, end_column=5)


def test_a_summary_survives_the_cache_and_refuses_what_it_did_not_write():
    origin = Origin(
        call=Callee("./paging", "default", ("size",)),
        arguments=((0, Origin(input=Input("params", "the query string"), steps=(FlowStep(_span(3), "x"),))),),
        path=("limit",),
        checks=(SchemaRef("./schemas", "listQuery", "limit", ("querystring",)), SchemaRef("./checks", "*", "", ("isRead",), guard=True)),
        handler="list",
    )
    summary = FlowSummary("page-size", [SinkRecord(_span(9), "Prisma `take`", origin)])
    data = json.loads(json.dumps(summary.to_data()))
    assert FlowSummary.from_data(data) == summary
    data[1][0][2][0] = 7  # a handler key that is not text
    with pytest.raises(TypeError):
        FlowSummary.from_data(data)
    data = json.loads(json.dumps(summary.to_data()))
    data[1][0][2][6][1][4] = "yes"  # a guard flag that is not a boolean
    with pytest.raises(TypeError):
        FlowSummary.from_data(data)


# --- local definitions -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("assignment", "values"),
    [
        ("limit = req.query.n;", ["req.query.n"]),  # a plain assignment in the use's block replaces the value
        ("limit\n    = req.query.n;", ["req.query.n"]),
        ("limit /* the caller's */ = req.query.n;", ["req.query.n"]),
        ("if (ok) limit = req.query.n;", ["20", "req.query.n"]),
        ("limit ??= req.query.n;", ["20", "req.query.n"]),
        ("limit += req.query.n;", ["20", "req.query.n"]),
        ("if (ok) limit ||= req.query.n;", ["20", "req.query.n"]),
        ("other = limit == req.query.n; total = limit <= 3;", ["20"]),
        ("const f = limit => limit; obj.limit = req.query.n;", ["20"]),
    ],
)
def test_the_definitions_before_a_use_include_every_form_of_assignment(assignment, values):
    """`definitions_before` finds the assignments between a declaration and a use (the text is tested before the
    tree is walked: a form the test missed would lose the definition)."""
    from linter.js.bindings import declaration_of, definitions_before

    source = f"function handler(req) {{\n  let limit = 20;\n  {assignment}\n  return limit;\n}}\n".encode()
    tree = parse(source, "typescript")
    use = [n for n in walk(tree.root_node) if n.type == "identifier" and n.text == b"limit"][-1]
    assert [d.value.text.decode() for d in definitions_before(declaration_of(use), use)] == values


# The test of the text before the walk, as one pattern per name wrote it: `_assigns` must say what it says.
def _assigns_as_one_pattern(between: bytes, name: bytes) -> bool:
    operator = rb"(?:/|(?:[-+*%&|^]|\*\*|<<|>>>?|&&|\|\||\?\?)?=(?![=>]))"
    return re.search(rb"(?<![\w$])" + re.escape(name) + rb"\s*" + operator, between) is not None


@settings(max_examples=400, deadline=None)
@example(pieces=["$a", "="], name="a")
@example(pieces=["ba", " ", "="], name="a")
@example(pieces=["é", "a", "="], name="a")
@example(pieces=["a", "\n", ">", ">", ">", "="], name="a")
@example(pieces=["a", "=>"], name="a")
@example(pieces=["a", "a", "="], name="a")
@given(
    pieces=st.lists(st.sampled_from(["a", "ab", "$", "$a", "_", "a1", "é", " ", "\n", "\t", "=", "==", "=>", "/", "*", "**", "<", ">", ">>", "|", "&", "?", "+", "-", "%", "^", ".", "(", ";"]), max_size=12),
    name=st.sampled_from(["a", "ab", "$a", "a1", "é"]),
)
def test_the_text_test_for_an_assignment_says_what_a_pattern_per_name_says(pieces, name):
    from linter.js.bindings import _assigns

    between, wanted = "".join(pieces).encode(), name.encode()
    assert _assigns(between, wanted) == _assigns_as_one_pattern(between, wanted)


# --- cross-file findings -------------------------------------------------------------------------------------


def test_a_cross_file_finding_names_both_ends_and_flows_through_both_files(shop):
    report = _lint(shop).report
    (finding,) = report.active_findings
    assert (finding.path, finding.span.start_line) == ("src/orders.js", 4)
    assert "src/routes.js" in finding.message and "`limit`" in finding.message
    assert {step.path for step in finding.code_flow} == {"src/routes.js", "src/orders.js"}
    assert finding.code_flow[0].path == "src/routes.js" and finding.code_flow[-1].path == "src/orders.js"
    log = sarif_log(report)
    assert_valid_sarif(log)
    locations = log["runs"][0]["results"][0]["codeFlows"][0]["threadFlows"][0]["locations"]
    assert {loc["location"]["physicalLocation"]["artifactLocation"]["uri"] for loc in locations} == {"src/routes.js", "src/orders.js"}


def test_a_cross_file_finding_is_suppressed_at_its_location(shop):
    service = shop / "src/orders.js"
    service.write_text(
        SERVICE.replace(
            "  return prisma.order.findMany",
            "  // loadlint-ignore pagination/uncapped-limit -- the gateway caps limit at 50\n  return prisma.order.findMany",
        )
    )
    result = _lint(shop)
    assert result.report.active_findings == ()
    (suppressed,) = [f for f in result.report.findings if f.suppressed]
    assert suppressed.suppression_reason == "the gateway caps limit at 50"


def test_a_cap_in_the_caller_leaves_no_finding(shop):
    (shop / "src/routes.js").write_text(ROUTE.replace("Number(req.query.limit) || 20", "Math.min(Number(req.query.limit) || 20, 100)"))
    assert _lint(shop).report.active_findings == ()


def test_a_finding_across_files_is_reported_only_when_its_sink_file_is(shop):
    assert _lint_paths(shop, shop / "src/routes.js") == []
    assert _lint_paths(shop, shop / "src/orders.js") == [("src/orders.js", 4)]


def _lint_paths(root: Path, *paths: Path):
    result = run(RunOptions(paths=list(paths), select=["pagination"], jobs=1, use_cache=False))
    return [(f.path, f.span.start_line) for f in result.report.active_findings]


def test_long_call_chains_and_cycles_end(tmp_path):
    """A page size handed through 40 modules in a ring ends within the join's bounds, without error."""
    files = {".git/HEAD": "x", "package.json": PACKAGE, "src/db.js": DB}
    count = 40
    for index in range(count):
        following = (index + 1) % count
        files[f"src/m{index}.js"] = (
            f"const {{ step{following} }} = require('./m{following}');\n"
            f"const {{ prisma }} = require('./db');\n"
            f"function step{index}(limit) {{\n"
            f"  if (typeof limit === 'number') return prisma.item.findMany({{ take: limit }});\n"
            f"  return step{following}(limit);\n"
            f"}}\n"
            f"module.exports = {{ step{index} }};\n"
        )
    files["src/route.js"] = "const { step0 } = require('./m0');\nmodule.exports = (req, res) => step0(req.query.limit);\n"
    root = write_files(tmp_path / "ring", files)
    result = _lint(root)
    assert not result.incomplete
    # Only the modules within the hop bound of the route are reached: the join stops, the run goes on.
    assert 0 < len(result.report.active_findings) < count


def test_the_join_finds_the_calls_under_every_name_a_caller_gives_the_function(shop):
    """The join resolves only the calls whose callee names the function (`may_name`): as an import renamed
    locally, as a member of a namespace import or of the module object; calls of other functions do not count."""
    from linter.flow.callees import Callee
    from linter.flow.callees import may_name

    (shop / "src/renamed.js").write_text(
        "import { list as fetchOrders } from './orders';\nexport const a = (req, res) => fetchOrders(Number(req.query.n));\n"
    )
    (shop / "src/namespace.js").write_text(
        "import * as svc from './orders';\nexport const b = (req, res) => svc.list(req.query.size);\n"
    )
    (shop / "src/other.js").write_text(
        "const { count } = require('./orders');\nexport const c = (req, res) => count(req.query.size);\n"
    )
    report = _lint(shop).report
    assert [(f.path, f.span.start_line) for f in report.active_findings] == [("src/orders.js", 4)] * 3
    assert sorted(f.code_flow[0].path for f in report.active_findings) == ["src/namespace.js", "src/renamed.js", "src/routes.js"]
    names = frozenset({"list"})
    assert may_name(Callee("./orders", "list"), names) and may_name(Callee("./orders", "*", ("list",)), names)
    assert not may_name(Callee("./orders", "count"), names) and not may_name(Callee("./orders", "*", ("count",)), names)
    assert may_name(Callee("./orders", "default", ("count",)), None)


CALL_FORMS = """import { list, count as tally } from './orders';
import * as svc from './orders';
import OrderService, { Presenter } from './service';
const presenter = new Presenter();
const other = new /* the old one */ Presenter;
function local(a) { return list(a); }
export class Controller {
  constructor(private readonly orders: OrderService) {}
  run(req) {
    list(req.query.a);
    tally(req.query.b);
    svc.list(req.query.c);
    svc
      .list(req.query.d);
    svc?.list?.(req.query.e);
    svc!.list<number>(req.query.f);
    svc /* ( */ .list(req.query.g);
    svc.list`tagged ${req.query.h}`;
    svc.count(req.query.i);
    presenter.list(req.query.j);
    other.show(req.query.k);
    this.orders.list(req.query.l);
    OrderService.list(req.query.m);
    local(req.query.n);
    return [list, svc.list];
  }
}
"""


@pytest.mark.parametrize("names", [{"list"}, {"count"}, {"show"}, {"local"}, {"Presenter"}, {"OrderService", "list"}, {"absent"}])
def test_the_calls_searched_for_a_name_are_the_calls_out_that_name_it(names):
    """`calls_naming` looks in the tree only where a call naming one of the names may start: every call form
    (chains over lines, optional and non-null calls, type arguments, comments, tagged templates, instances,
    injected services, local functions) gives what filtering every call out gives."""
    from linter.context import FileContext
    from linter.flow.callees import may_name
    from linter.flow.file_flow import FileFlow
    from linter.flow.spec import RequestValueSpec

    source = CALL_FORMS.encode()
    wanted = frozenset(names)

    def calls(search):
        file = FileContext("src/controller.ts", source, "typescript", parse(source, "typescript"))
        found = search(FileFlow(file, RequestValueSpec()))
        return [(call.start_byte, target) for call, target in found]

    everything = calls(lambda flow: flow.calls_out())
    assert len(everything) >= 14
    expected = [(at, target) for at, target in everything if may_name(target, wanted)]
    assert calls(lambda flow: flow.calls_naming(wanted)) == expected
    assert calls(lambda flow: flow.calls_out() and flow.calls_naming(wanted)) == expected  # from every call, found first
    assert expected or names == {"absent"}


def test_the_join_parses_only_the_importers_that_may_call_the_function(shop, monkeypatch):
    """Importers of the service that never write the function's name (nor a barrel's name for it) are not
    parsed; a caller through a barrel that renames it still is, and its flow still found."""
    from linter.flow import modules

    for index in range(3):
        (shop / f"src/count{index}.js").write_text("const orders = require('./orders');\nmodule.exports = () => orders.count();\n")
    (shop / "src/index.js").write_text("export { list as listOrders } from './orders';\n")
    (shop / "src/renamed.js").write_text(
        "import { listOrders } from './index';\nexport const handler = (req, res) => listOrders(Number(req.query.size));\n"
    )
    opened = []
    original = modules.ModuleGraph._open
    monkeypatch.setattr(modules.ModuleGraph, "_open", lambda self, path: opened.append(path) or original(self, path))
    report = _lint(shop).report
    assert [(f.path, f.span.start_line) for f in report.active_findings] == [("src/orders.js", 4)] * 2
    assert sorted(f.code_flow[0].path for f in report.active_findings) == ["src/renamed.js", "src/routes.js"]
    assert "src/renamed.js" in opened and not any(path.startswith("src/count") for path in opened)
