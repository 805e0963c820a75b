"""`loadlint rules` and `loadlint explain`: custom rules (--rules-dir, or the config's rules-dir with
--trust-config-rules), a family, and the nearest id on a typo."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from linter.cli import main
from tests.project_builder import TEST_RULES, write_files


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A repository with its own rules folder named by its config."""
    write_files(tmp_path, {".git/HEAD": "ref: refs/heads/main\n", ".loadlint.toml": 'rules-dir = "lint-rules"\n'})
    shutil.copytree(TEST_RULES, tmp_path / "lint-rules")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_rules_lists_the_rules_of_a_rules_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    listing = invoke("rules", "--rules-dir", TEST_RULES)
    assert listing.exit_code == 0
    assert "testing/marker-client" in listing.stdout and "auth/secret-fallback" in listing.stdout
    ids = [rule["id"] for rule in json.loads(invoke("rules", "--format", "json", "--rules-dir", TEST_RULES).stdout)]
    assert "testing/marker-note" in ids and ids == sorted(ids)
    assert "testing/marker-client" not in invoke("rules").stdout


def test_the_configs_rules_folder_only_with_trust(repo):
    untrusted = invoke("rules")
    assert untrusted.exit_code == 0 and "testing/marker-client" not in untrusted.stdout
    assert untrusted.stderr == (
        "loadlint: .loadlint.toml: key 'rules-dir' ignored: rules from a config file are loaded only with "
        "--trust-config-rules\n"
    )
    trusted = invoke("rules", "--trust-config-rules")
    assert trusted.exit_code == 0 and "testing/marker-client" in trusted.stdout and trusted.stderr == ""
    explained = invoke("explain", "testing/marker-client", "--trust-config-rules")
    assert explained.exit_code == 0
    assert explained.stdout.startswith("testing/marker-client  (error, precision high)\n")
    assert "Flags new MarkerClient()" in explained.stdout
    assert invoke("explain", "testing/marker-client").exit_code == 2


def test_explain_a_custom_rule_from_rules_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("explain", "testing/marker-note", "--rules-dir", TEST_RULES)
    assert result.exit_code == 0 and result.stdout.startswith("testing/marker-note  (note, precision high)\n")


def test_explain_a_family_lists_its_rules_with_summaries():
    result = invoke("explain", "auth")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "auth: 3 rules"
    flat = " ".join(result.stdout.split())
    for rule_id, summary in [
        ("auth/jwt-no-expiry", "An access token signed without an expiry"),
        ("auth/jwt-verify-without-algorithms", "A JWT is verified without an `algorithms` list"),
        ("auth/secret-fallback", "A secret falls back to a value written in the code"),
    ]:
        assert rule_id in flat and summary in flat
    assert invoke("explain", "auth/").stdout == result.stdout
    assert "testing/marker-client" in invoke("explain", "testing", "--rules-dir", TEST_RULES).stdout


@pytest.mark.parametrize(
    ("asked", "suggested"),
    [
        ("auth/secret-fallbak", "did you mean auth/secret-fallback?"),
        ("prisma/missing-relation-indexes", "did you mean prisma/missing-relation-index?"),
        ("auht", "did you mean auth?"),
        ("nope/nope", "`loadlint rules` lists them"),
    ],
)
def test_an_unknown_rule_suggests_the_nearest_id(asked, suggested):
    result = invoke("explain", asked)
    assert result.exit_code == 2
    assert result.stderr == f"loadlint: error: unknown rule '{asked}'; {suggested}\n"


def test_a_broken_config_or_rules_folder_is_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path, {".loadlint.toml": "selec = 1\n"})
    result = invoke("rules")
    assert result.exit_code == 2 and result.stderr == "loadlint: error: .loadlint.toml: key 'selec': unknown key\n"
    write_files(tmp_path, {".loadlint.toml": "", "bad/x/y.py": "raise ValueError('no')\n"})
    result = invoke("explain", "auth", "--rules-dir", tmp_path / "bad")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "ValueError: no" in result.stderr
