"""stripe/webhook-unverified beyond the fixtures: its SARIF (CWE, code flows across modules) and its messages."""

from __future__ import annotations

import shutil

from linter.engine import RunOptions, run
from linter.formatters.sarif import sarif_log
from tests.fixture_cases import FIXTURES
from tests.sarif_schema import assert_valid_sarif

RULE = "stripe/webhook-unverified"
NEXT_APP = FIXTURES / "stripe" / "webhook-unverified" / "next-app"


def _report(tmp_path, case=NEXT_APP):
    root = tmp_path / case.name
    shutil.copytree(case, root)
    (root / ".git").mkdir()
    return run(RunOptions(paths=[root], jobs=1, select=[RULE])).report


def _result_at(log, uri):
    (result,) = [r for r in log["runs"][0]["results"] if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == uri]
    return result


def test_sarif_tags_the_cwe_and_rates_the_severity(tmp_path):
    log = sarif_log(_report(tmp_path))
    assert_valid_sarif(log)
    (rule,) = log["runs"][0]["tool"]["driver"]["rules"]
    assert rule["id"] == RULE and rule["defaultConfiguration"]["level"] == "error"
    assert "external/cwe/cwe-345" in rule["properties"]["tags"] and rule["properties"]["security-severity"] == "8.1"


def test_an_unverified_body_passed_to_another_module_has_a_code_flow_through_both(tmp_path):
    log = sarif_log(_report(tmp_path))
    result = _result_at(log, "lib/stripe-events.ts")
    assert result["message"]["text"].startswith("The webhook handler in app/api/stripe/events/route.ts passes the request body")
    (flow,) = result["codeFlows"]
    steps = [
        (step["location"]["physicalLocation"]["artifactLocation"]["uri"], step["location"]["physicalLocation"]["region"]["startLine"], step["location"]["message"]["text"])
        for step in flow["threadFlows"][0]["locations"]
    ]
    assert steps == [
        ("app/api/stripe/events/route.ts", 4, "parsed by `.json()`"),
        ("app/api/stripe/events/route.ts", 5, "passed to `handleStripeEvent()`"),
        ("lib/stripe-events.ts", 3, "`event` is a parameter of `handleStripeEvent()`"),
    ]


def test_a_json_parser_in_the_mounting_module_is_named_as_the_cause(tmp_path):
    report = _report(tmp_path, FIXTURES / "stripe" / "webhook-unverified" / "json-before-mount")
    (finding,) = report.active_findings
    assert (finding.path, finding.span.start_line) == ("src/routes/stripe.js", 12)
    assert finding.message.startswith("A JSON body parser (src/server.js:9) runs before this webhook route")
    assert [(r.path, r.span.start_line, r.message) for r in finding.related] == [("src/server.js", 9, "parses the body first")]
