"""http/missing-timeout beyond the fixtures: the unsafe fixes it offers, its messages and its SARIF."""

from __future__ import annotations

from click.testing import CliRunner

from linter.cli import main
from linter.engine import RunOptions, run
from linter.formatters.sarif import sarif_log
from tests.project_builder import write_files
from tests.sarif_schema import assert_valid_sarif

RULE = "http/missing-timeout"
PACKAGE = '{"name": "api", "dependencies": {"express": "^4.19.0", "axios": "^1.7.0", "got": "^14.0.0", "undici": "^6.0.0"}}'
CLIENTS = """\
const axios = require('axios');
const got = require('got');
const { request } = require('undici');

async function sync(id) {
  await axios.get('https://crm.example.com/v1/contacts');
  await axios.post('https://crm.example.com/v1/contacts', { id });
  await axios({ url: 'https://crm.example.com/v1/deals', method: 'get' });
  await got('https://rates.example.com/latest');
  await request('https://geo.example.org/lookup');
  await fetch('https://api.github.com/zen', { headers: { accept: 'text/plain' } });
  await fetch('https://api.github.com/octocat', {
    headers: { accept: 'text/plain' },
  });
  await fetch('https://api.github.com/emojis', { timeout: 3000 });
}

const billing = axios.create({ baseURL: 'https://billing.example.com' });

module.exports = { sync, billing };
"""
FIXED = """\
const axios = require('axios');
const got = require('got');
const { request } = require('undici');

async function sync(id) {
  await axios.get('https://crm.example.com/v1/contacts', { timeout: 10_000 });
  await axios.post('https://crm.example.com/v1/contacts', { id }, { timeout: 10_000 });
  await axios({ timeout: 10_000, url: 'https://crm.example.com/v1/deals', method: 'get' });
  await got('https://rates.example.com/latest', { timeout: { request: 10_000 } });
  await request('https://geo.example.org/lookup', { headersTimeout: 10_000, bodyTimeout: 10_000 });
  await fetch('https://api.github.com/zen', { signal: AbortSignal.timeout(10_000), headers: { accept: 'text/plain' } });
  await fetch('https://api.github.com/octocat', {
    signal: AbortSignal.timeout(10_000),
    headers: { accept: 'text/plain' },
  });
  await fetch('https://api.github.com/emojis', { signal: AbortSignal.timeout(3000) });
}

const billing = axios.create({ timeout: 10_000, baseURL: 'https://billing.example.com' });

module.exports = { sync, billing };
"""


def _app(tmp_path):
    return write_files(tmp_path / "app", {"package.json": PACKAGE, "src/clients.js": CLIENTS})


def _check(*args):
    return CliRunner().invoke(main, ["check", *map(str, args), "--select", RULE, "--no-cache"], catch_exceptions=False)


def test_every_finding_is_on_the_call_and_names_the_host(tmp_path):
    report = run(RunOptions(paths=[_app(tmp_path)], jobs=1, select=[RULE])).report
    lines = {f.span.start_line: f.message for f in report.active_findings}
    assert sorted(lines) == [6, 7, 8, 9, 10, 11, 12, 15, 18]
    assert "axios request to `crm.example.com` has no timeout" in lines[6]
    assert "got request to `rates.example.com`" in lines[9]
    assert "undici request to `geo.example.org`" in lines[10]
    assert "`fetch` to `api.github.com` has no timeout" in lines[11]
    assert lines[15].startswith("`timeout` is not an option of the standard `fetch` and is ignored")
    assert "This axios instance has no timeout" in lines[18]


def test_the_fixes_are_unsafe_and_add_the_option_each_client_reads(tmp_path):
    app = _app(tmp_path)
    safe_only = _check(app, "--fix")
    assert "fixed 0 findings" in safe_only.stderr and "9 more fixes with --unsafe-fixes" in safe_only.stderr
    _check(app, "--fix", "--unsafe-fixes")
    assert (app / "src/clients.js").read_text() == FIXED
    assert _check(app).exit_code == 0


def test_sarif_tags_the_cwe_and_carries_the_unsafe_fix(tmp_path):
    report = run(RunOptions(paths=[_app(tmp_path)], jobs=1, select=[RULE])).report
    log = sarif_log(report)
    assert_valid_sarif(log)
    (rule,) = log["runs"][0]["tool"]["driver"]["rules"]
    assert rule["id"] == RULE and "external/cwe/cwe-1088" in rule["properties"]["tags"]
    assert rule["defaultConfiguration"]["level"] == "warning"
    results = log["runs"][0]["results"]
    assert len(results) == 9 and all(r["fixes"][0]["properties"] == {"safe": False} for r in results)
    inserted = [
        replacement["insertedContent"]["text"]
        for result in results
        for change in result["fixes"][0]["artifactChanges"]
        for replacement in change["replacements"]
    ]
    assert sorted(inserted)[:3] == [", { headersTimeout: 10_000, bodyTimeout: 10_000 }", ", { timeout: 10_000 }", ", { timeout: 10_000 }"]
