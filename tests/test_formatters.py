"""Every output format rendered from the one sample report, compared with golden files.

Regenerate the golden files with `LOADLINT_UPDATE_GOLDEN=1 pytest tests/test_formatters.py`, then review the diff.
"""

from __future__ import annotations

import io
import json
import os
import xml.etree.ElementTree as ET
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
GOLDEN_EXTENSIONS = {
    "text": "txt",
    "concise": "concise.txt",
    "json": "json",
    "sarif": "sarif",
    "github": "github",
    "gitlab": "gitlab.json",
    "junit": "junit.xml",
}
STABLE_ROOT_URI = "file:///SRCROOT/"


@pytest.fixture
def report(tmp_path: Path) -> Report:
    return sample_report(tmp_path / "my app")


def rendered(report: Report, fmt: str, **options) -> str:
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


def test_statistics_match_golden_files(report):
    assert_matches_golden(rendered(report, "text", statistics=True), "report.statistics.txt")
    assert_matches_golden(rendered(report, "json", statistics=True), "report.statistics.json")
    assert rendered(report, "concise", statistics=True) == rendered(report, "text", statistics=True)
    with pytest.raises(ValueError, match="--statistics prints in text, concise, json, not sarif"):
        rendered(report, "sarif", statistics=True)


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


def test_text_names_the_level_of_every_finding_in_words(report):
    headlines = [line for line in rendered(report, "text").splitlines() if line.startswith(("src/", "scripts/"))]
    assert headlines == [
        "scripts/backfill.ts:4:16: warning prisma/client-outside-singleton",
        "src/app/api/users/route.ts:6:72: error pagination/unbounded-take",
        "src/lib/db.ts:3:19: warning prisma/client-outside-singleton",
        "src/server.js:4:13: note express/missing-helmet",
        "src/server.js:6:3: error cors/wildcard-origin",
    ]


def test_text_marks_suppressed_findings_without_counting_them(report):
    default = rendered(report, "text")
    with_suppressed = rendered(report, "text", include_suppressed=True)
    assert "auth/hardcoded-secret" not in default
    assert (
        "src/server.js:13:20: error auth/hardcoded-secret  (suppressed: token of the local mock payment server)"
        in with_suppressed
    )
    summary = "Found 5 problems (2 errors, 2 warnings, 1 note) in 4 files; 12 files checked.\nNot counted: 1 suppressed in the source.\n"
    assert default.endswith("\n\n" + summary) and with_suppressed.endswith("\n\n" + summary)


def test_text_wraps_messages_at_the_width_with_an_indent(tmp_path):
    message = "word " * 30 + "src/a/very/long/path/that/is/never/broken/" + "x" * 60 + " end."
    lines = rendered(one_finding_report(tmp_path, message), "text").splitlines()
    assert lines[0] == "a.js:1:1: error x/y"
    body = lines[1 : lines.index("", 1)]
    assert [line[:7] for line in body] == ["  word "] * 2 + ["  src/a"] + ["  end."[:7]]
    assert all(len(line) <= 80 for line in body[:2]) and len(body[2]) > 80  # a word is never split
    assert " ".join(line.strip() for line in body) == message.strip()
    narrow = rendered(one_finding_report(tmp_path, message), "text", width=40).splitlines()
    assert all(len(line) <= 40 for line in narrow if line.startswith("  word"))


def test_text_never_breaks_paths_or_code_lines(tmp_path):
    long_line = "const x = " + " + ".join(["value"] * 30) + ";"
    (tmp_path / "a.js").write_text(long_line + "\n", encoding="utf-8")
    span = Span(start_line=1, start_column=1, end_line=1, end_column=6)
    lines = rendered(one_finding_report(tmp_path, "m", span), "text", width=40).splitlines()
    assert lines[2] == f"  1 | {long_line}"


def test_text_underlines_under_tabs_and_wide_characters(tmp_path):
    (tmp_path / "a.js").write_text("\tconst 名前 = 😀 + eval(x);\n", encoding="utf-8")
    column = len("\tconst 名前 = 😀 + ".encode("utf-16-le")) // 2 + 1
    span = Span(start_line=1, start_column=column, end_line=1, end_column=column + len("eval(x)"))
    _, _, code, underline, *_ = rendered(one_finding_report(tmp_path, "m", span), "text").splitlines()
    assert code.endswith("|     const 名前 = 😀 + eval(x);")
    assert underline.index("^") == code.index("eval") + len("名前😀")
    assert underline.count("^") == len("eval(x)")


def test_text_without_problems_and_with_one_file(tmp_path):
    report = Report(root=str(tmp_path), tool_version="1", rules=(), findings=(), files_checked=1)
    assert rendered(report, "text") == "No problems found; 1 file checked.\n"


def test_quiet_text_concise_and_github_print_the_findings_only(report):
    for fmt in ("text", "concise", "github"):
        quiet = rendered(report, fmt, quiet=True)
        assert "upload.js" not in quiet and "problems" not in quiet and "  2  prisma" not in quiet
        assert quiet.count("prisma/client-outside-singleton") == 2
        assert quiet == rendered(report.model_copy(update={"notices": ()}), fmt, quiet=True)
    assert rendered(report, "text", quiet=True).endswith("    | ...\n\n")
    for fmt in ("json", "sarif", "gitlab", "junit"):  # whole documents, whatever -q says
        assert rendered(report, fmt, quiet=True) == rendered(report, fmt)


# --- concise -----------------------------------------------------------------------------------------------


def test_concise_is_one_line_per_finding_notice_and_summary(report):
    lines = rendered(report, "concise").splitlines()
    assert lines[1] == (
        'src/app/api/users/route.ts:6:72: error pagination/unbounded-take The page size comes from the "limit" '
        "query parameter without a cap; clamp it with Math.min."
    )
    assert len(lines) == 5 + 2 + 1
    assert lines[5] == "warning: No package.json found above scripts/; rules gated on dependencies were skipped there."
    assert lines[-1].startswith("Found 5 problems")
    assert "\x1b" not in "".join(lines) and "\x1b[" in rendered(report, "concise", color=True)
    suppressed = rendered(report, "concise", include_suppressed=True)
    assert "error auth/hardcoded-secret MOCK_TOKEN holds a literal secret; read it from an environment variable. (suppressed: token" in suppressed


# --- GitLab ------------------------------------------------------------------------------------------------


def test_gitlab_issues_carry_the_fields_gitlab_reads(report):
    issues = json.loads(rendered(report, "gitlab", include_suppressed=True))
    assert len(issues) == 5  # never the suppressed one
    for issue in issues:
        assert set(issue) == {"description", "check_name", "fingerprint", "severity", "location"}
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert isinstance(issue["location"]["lines"]["begin"], int)
    by_path = {issue["location"]["path"]: issue for issue in issues}
    assert by_path["src/lib/db.ts"]["check_name"] == "prisma/client-outside-singleton"
    assert by_path["src/lib/db.ts"]["severity"] == "minor"
    assert by_path["src/app/api/users/route.ts"]["severity"] == "major"
    assert len({issue["fingerprint"] for issue in issues}) == len(issues)


def test_gitlab_fingerprints_are_unique_and_survive_code_moving(tmp_path):
    def issues(lines: list[int], hashes: list[str]) -> list[dict]:
        findings = tuple(
            Finding(rule_id="x/y", message="m", path="a.js", level=Level.WARNING, fingerprint=line_hash,
                    span=Span(start_line=line, start_column=1, end_line=line, end_column=2))
            for line, line_hash in zip(lines, hashes)
        )
        report = Report(root=str(tmp_path), tool_version="1", rules=(), findings=findings, files_checked=1)
        return json.loads(rendered(report, "gitlab"))

    before = [issue["fingerprint"] for issue in issues([3, 9], ["aaaa:1", "aaaa:1"])]
    moved = [issue["fingerprint"] for issue in issues([13, 19], ["aaaa:1", "aaaa:1"])]
    edited = [issue["fingerprint"] for issue in issues([3, 9], ["bbbb:1", "aaaa:1"])]
    assert len(set(before)) == 2 and moved == before
    assert edited[0] not in before and edited[1] == before[0]


# --- JUnit -------------------------------------------------------------------------------------------------


def test_junit_has_a_suite_per_file_and_a_failure_per_finding(report):
    root = ET.fromstring(rendered(report, "junit", include_suppressed=True))
    assert root.tag == "testsuites" and root.get("tests") == "7" and root.get("failures") == "5"
    assert root.get("errors") == "0" and root.get("skipped") == "1"
    suites = {suite.get("name"): suite for suite in root.findall("testsuite")}
    assert list(suites) == ["loadlint", "scripts/backfill.ts", "src/app/api/users/route.ts", "src/lib/db.ts", "src/server.js"]
    (case,) = suites["src/lib/db.ts"].findall("testcase")
    assert case.attrib == {
        "name": "prisma/client-outside-singleton at 3:19",
        "classname": "src/lib/db.ts",
        "file": "src/lib/db.ts",
        "line": "3",
    }
    failure = case.find("failure")
    assert failure.get("type") == "warning" and failure.get("message").startswith("PrismaClient is instantiated")
    assert failure.text.splitlines()[1] == "  related: src/lib/prisma.ts:5:49 the shared client"
    assert "No package.json found above scripts/" in suites["loadlint"].find("system-out").text
    assert suites["loadlint"].find("testcase/error") is None


def test_junit_of_a_clean_run_is_one_passing_test_and_of_an_incomplete_one_an_error(tmp_path):
    clean = Report(root=str(tmp_path), tool_version="1", rules=(), findings=(), files_checked=3)
    root = ET.fromstring(rendered(clean, "junit"))
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("1", "0", "0")
    broken = clean.model_copy(update={"incomplete": True, "notices": (Notice(message="rule x/y failed", path="a.js"),)})
    root = ET.fromstring(rendered(broken, "junit"))
    assert root.get("errors") == "1"
    assert root.find("testsuite/testcase/error").text == "warning: a.js: rule x/y failed"


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
