"""Every output format rendered from the one sample report, compared with golden files.

Regenerate the golden files with `LOADLINT_UPDATE_GOLDEN=1 pytest tests/test_formatters.py`, then review the diff.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from linter.formatters import FORMATS, render
from linter.formatters.github import escape_data, escape_property, finding_command, notice_command
from linter.formatters.sarif import relative_uri, root_uri
from linter.formatters.text import utf16_column_to_index
from linter.model import Finding, Level, Notice, Report, Span
from tests.sample_report import sample_report
from tests.sarif_schema import assert_valid_sarif

GOLDEN_DIR = Path(__file__).parent / "golden"
GOLDEN_EXTENSIONS = {"text": "txt", "json": "json", "sarif": "sarif", "github": "github"}
STABLE_ROOT_URI = "file:///SRCROOT/"


@pytest.fixture
def report(tmp_path: Path) -> Report:
    return sample_report(tmp_path / "my app")


def rendered(report: Report, fmt: str, **options: bool) -> str:
    out = io.StringIO()
    render(report, fmt, out, **options)
    return out.getvalue()


def one_finding_report(root: Path, message: str, span: Span | None = None, level: Level = Level.ERROR) -> Report:
    span = span or Span(start_line=1, start_column=1, end_line=1, end_column=2)
    finding = Finding(rule_id="x/y", message=message, path="a.js", span=span, level=level)
    return Report(root=str(root), tool_version="1", rules=(), findings=(finding,), files_checked=1)


def sarif_of(report: Report, **options: bool) -> dict:
    log = json.loads(rendered(report, "sarif", **options))
    assert_valid_sarif(log)
    return log


def without_tmp_root(text: str, report: Report) -> str:
    return text.replace(root_uri(report.root), STABLE_ROOT_URI)


def assert_matches_golden(actual: str, name: str) -> None:
    golden = GOLDEN_DIR / name
    if os.environ.get("LOADLINT_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(actual.encode("utf-8"))
        return
    assert golden.exists(), f"{golden} is missing; run with LOADLINT_UPDATE_GOLDEN=1 to create it"
    assert actual == golden.read_bytes().decode("utf-8")


@pytest.mark.parametrize("fmt", FORMATS)
def test_format_matches_golden_file(report, fmt):
    output = without_tmp_root(rendered(report, fmt), report)
    assert str(report.root) not in output
    assert_matches_golden(output, f"report.{GOLDEN_EXTENSIONS[fmt]}")


@pytest.mark.parametrize("fmt", FORMATS)
def test_output_ignores_finding_order_and_is_byte_stable(report, fmt):
    shuffled = report.model_copy(update={"findings": report.findings[::-1], "notices": report.notices[::-1]})
    assert rendered(report, fmt) == rendered(shuffled, fmt) == rendered(report, fmt)


def test_unknown_format_is_rejected(report):
    with pytest.raises(ValueError, match="unknown output format 'xml'"):
        rendered(report, "xml")


# --- SARIF -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("include_suppressed", [False, True])
@pytest.mark.parametrize("category", [None, "loadlint", "monorepo/web/"])
def test_every_sarif_variant_is_schema_valid(tmp_path, include_suppressed, category):
    sarif_of(sample_report(tmp_path, category=category), include_suppressed=include_suppressed)


def test_sarif_driver_describes_tool_and_every_rule(report):
    driver = sarif_of(report)["runs"][0]["tool"]["driver"]
    assert driver["name"] == "loadlint"
    assert driver["version"] == driver["semanticVersion"] == report.tool_version
    # No public home yet (linter.PROJECT_URL): no URL may point at a project that is not ours.
    assert "informationUri" not in driver
    assert [rule["id"] for rule in driver["rules"]] == [rule.id for rule in report.rules]
    for descriptor, rule in zip(driver["rules"], report.rules):
        assert descriptor["shortDescription"]["text"] == rule.summary
        assert descriptor["help"] == {"text": rule.docs, "markdown": rule.docs}
        assert descriptor["helpUri"] == rule.help_uri
        assert descriptor["defaultConfiguration"]["level"] == rule.level.value
        assert descriptor["properties"]["tags"] == list(rule.tags)
        assert descriptor["properties"]["precision"] == rule.precision.value
        assert descriptor["properties"].get("security-severity") == rule.security_severity


def test_sarif_keeps_explicit_default_level_and_drops_unset_fields(report):
    results = sarif_of(report)["runs"][0]["results"]
    warning = next(r for r in results if r["ruleId"] == "prisma/client-outside-singleton")
    assert warning["level"] == "warning"
    assert not {"kind", "rank", "guid", "baselineState"} & warning.keys()
    region = warning["locations"][0]["physicalLocation"]["region"]
    assert set(region) == {"startLine", "startColumn", "endLine", "endColumn"}


def test_sarif_rule_index_points_at_the_rule(report):
    run = sarif_of(report, include_suppressed=True)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert run["results"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_sarif_automation_details_only_with_a_category(tmp_path):
    assert "automationDetails" not in sarif_of(sample_report(tmp_path))["runs"][0]
    with_category = sarif_of(sample_report(tmp_path, category="loadlint"))["runs"][0]
    assert with_category["automationDetails"] == {"id": "loadlint/"}
    already_slashed = sarif_of(sample_report(tmp_path, category="web/"))["runs"][0]
    assert already_slashed["automationDetails"] == {"id": "web/"}


def test_sarif_run_level_fields(report):
    run = sarif_of(report)["runs"][0]
    assert run["columnKind"] == "utf16CodeUnits"
    base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base.startswith("file:///") and base.endswith("/my%20app/")
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is True
    with_path, without_path = invocation["toolExecutionNotifications"]
    assert "locations" not in with_path
    assert without_path["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": "src/legacy/upload.js",
        "uriBaseId": "%SRCROOT%",
    }


def test_sarif_leaves_suppressed_findings_out_unless_asked(report):
    def secret_results(log: dict) -> list[dict]:
        return [r for r in log["runs"][0]["results"] if r["ruleId"] == "auth/hardcoded-secret"]

    assert secret_results(sarif_of(report)) == []
    (suppressed,) = secret_results(sarif_of(report, include_suppressed=True))
    assert suppressed["suppressions"] == [
        {"kind": "inSource", "justification": "token of the local mock payment server"}
    ]
    assert all("suppressions" not in r for r in sarif_of(report)["runs"][0]["results"])


def test_sarif_locations_related_code_flow_and_fingerprints(report):
    results = {
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: result
        for result in sarif_of(report)["runs"][0]["results"]
    }
    db = results["src/lib/db.ts"]
    assert db["relatedLocations"][0]["id"] == 1
    assert db["relatedLocations"][0]["message"] == {"text": "the shared client"}
    assert db["partialFingerprints"]["primaryLocationLineHash"].endswith(":1")
    assert "codeFlows" not in db

    route = results["src/app/api/users/route.ts"]
    steps = route["codeFlows"][0]["threadFlows"][0]["locations"]
    assert [s["location"]["message"]["text"] for s in steps] == [
        'the query parameter "limit"',
        "stored in limit",
        "used as the page size",
    ]
    assert route["locations"][0]["physicalLocation"]["region"]["startColumn"] == 72

    assert "partialFingerprints" not in results["scripts/backfill.ts"]


def test_sarif_uris_are_percent_encoded_but_keep_slashes(tmp_path):
    encoded = "src/app/(auth)/%C3%BCber%20uns/%5Bid%5D/route.ts"
    assert relative_uri("src/app/(auth)/über uns/[id]/route.ts") == encoded
    assert relative_uri("node_modules/@prisma/client/100%.js") == "node_modules/@prisma/client/100%25.js"
    uri = root_uri(str(tmp_path / "Über mich"))
    assert uri.startswith("file:///") and uri.endswith("/%C3%9Cber%20mich/")


# --- JSON --------------------------------------------------------------------------------------------------


def test_json_shape_and_suppressed_findings(report):
    default = json.loads(rendered(report, "json"))
    assert list(default) == ["findings", "notices", "summary", "version"]
    assert all(f["suppressed"] is False for f in default["findings"])
    assert default["summary"] == {
        "cors/wildcard-origin": 1,
        "express/missing-helmet": 1,
        "pagination/unbounded-take": 1,
        "prisma/client-outside-singleton": 2,
    }
    with_suppressed = json.loads(rendered(report, "json", include_suppressed=True))
    (secret,) = [f for f in with_suppressed["findings"] if f["suppressed"]]
    assert secret["rule_id"] == "auth/hardcoded-secret"
    assert secret["suppression_reason"] == "token of the local mock payment server"
    assert with_suppressed["summary"] == default["summary"]


def test_json_ends_with_newline_and_keeps_non_ascii(tmp_path):
    output = rendered(one_finding_report(tmp_path, "Größe 🚀"), "json")
    assert output.endswith("}\n") and "Größe 🚀" in output


# --- GitHub ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "data", "prop"),
    [
        ("plain", "plain", "plain"),
        ("100%", "100%25", "100%25"),
        ("a\r\nb", "a%0D%0Ab", "a%0D%0Ab"),
        ("a:b,c", "a:b,c", "a%3Ab%2Cc"),
        ("%0A", "%250A", "%250A"),
    ],
)
def test_github_escaping(raw, data, prop):
    assert escape_data(raw) == data
    assert escape_property(raw) == prop


def test_github_command_escapes_properties_and_message():
    finding = Finding(
        rule_id="cors/wildcard-origin",
        message="Line one\nline two: 50% done",
        path="src/a,b:c.ts",
        span=Span(start_line=2, start_column=3, end_line=4, end_column=5),
        level=Level.WARNING,
    )
    assert finding_command(finding) == (
        "::warning file=src/a%2Cb%3Ac.ts,line=2,col=3,endLine=4,endColumn=5,title=cors/wildcard-origin"
        "::Line one%0Aline two: 50%25 done"
    )


def test_github_notices_with_and_without_path():
    assert notice_command(Notice(message="no package.json")) == "::warning::no package.json"
    assert notice_command(Notice(message="skipped", path="a b.js")) == "::warning file=a b.js::skipped"


def test_github_never_annotates_suppressed_findings(report):
    for include_suppressed in (False, True):
        assert "auth/hardcoded-secret" not in rendered(report, "github", include_suppressed=include_suppressed)


# --- text --------------------------------------------------------------------------------------------------


def test_text_plain_has_no_ansi_codes_and_colour_has(report):
    assert "\x1b" not in rendered(report, "text")
    assert "\x1b" not in rendered(report, "text", include_suppressed=True)
    assert "\x1b[" in rendered(report, "text", color=True)


def test_text_marks_suppressed_findings_without_counting_them(report):
    default = rendered(report, "text")
    with_suppressed = rendered(report, "text", include_suppressed=True)
    assert "auth/hardcoded-secret" not in default
    assert "(suppressed: token of the local mock payment server)" in with_suppressed
    assert default.splitlines()[-1] == with_suppressed.splitlines()[-1]
    assert default.splitlines()[-1] == "Found 5 problems (2 errors, 2 warnings, 1 note) in 12 files."


def test_text_never_wraps_long_lines(tmp_path):
    message = " ".join(["word"] * 80)
    first_line = rendered(one_finding_report(tmp_path, message), "text").splitlines()[0]
    assert first_line == f"a.js:1:1  x/y  {message}"


def test_text_underlines_under_tabs_and_wide_characters(tmp_path):
    (tmp_path / "a.js").write_text("\tconst 名前 = 😀 + eval(x);\n", encoding="utf-8")
    column = len("\tconst 名前 = 😀 + ".encode("utf-16-le")) // 2 + 1
    span = Span(start_line=1, start_column=column, end_line=1, end_column=column + len("eval(x)"))
    _, code, underline, *_ = rendered(one_finding_report(tmp_path, "m", span), "text").splitlines()
    assert code.endswith("|     const 名前 = 😀 + eval(x);")
    assert underline.index("^") == code.index("eval") + len("名前😀")
    assert underline.count("^") == len("eval(x)")


def test_text_without_problems_and_with_one_file(tmp_path):
    report = Report(root=str(tmp_path), tool_version="1", rules=(), findings=(), files_checked=1)
    assert rendered(report, "text") == "No problems found in 1 file.\n"


def test_utf16_column_to_index():
    assert utf16_column_to_index("😀ab", 1) == 0
    assert utf16_column_to_index("😀ab", 3) == 1
    assert utf16_column_to_index("😀ab", 4) == 2
    assert utf16_column_to_index("😀ab", 99) == 3


def test_builtin_rules_point_at_no_url_until_the_project_has_a_home():
    from linter import PROJECT_URL
    from linter.registry import builtin_rules

    assert PROJECT_URL is None
    assert all(rule.info().help_uri is None for rule in builtin_rules())
