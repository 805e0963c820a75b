"""Custom rules are Python: only the person running loadlint chooses them (`--rules-dir`, or the config's
`rules-dir` with `--trust-config-rules`). A config file of the linted tree, perhaps a stranger's pull request,
must not make loadlint import anything, and no rules folder's committed bytecode is ever used.

Every payload writes a marker file outside the project; each test asserts it is not written.
"""

from __future__ import annotations

import importlib.util
import json
import py_compile
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from linter.cli import main
from tests.project_builder import TEST_RULES, write_files

IGNORED = "key 'rules-dir' ignored: rules from a config file are loaded only with --trust-config-rules"


def payload(marker: Path) -> str:
    return f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n"


@pytest.fixture
def marker(tmp_path) -> Path:
    return tmp_path / "marker"


@pytest.fixture
def project(tmp_path) -> Path:
    """A repository: its root is the folder holding `.git`."""
    return write_files(tmp_path / "project", {".git/HEAD": "ref: refs/heads/main\n", "src/a.js": "export const a = 1;\n"})


def check(*args) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check", *map(str, args), "--no-color"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def plant(project: Path, marker: Path, config_file: str, config: str, rules_folder: Path) -> None:
    write_files(rules_folder, {"x/evil.py": payload(marker)})
    write_files(project, {config_file: config})


@pytest.mark.parametrize(
    "config_file, config, rules_folder, target",
    [
        (".loadlint.toml", 'rules-dir = "evil"\n', "project/evil", "project"),
        ("loadlint.toml", 'rules-dir = "evil"\n', "project/evil", "project/src/a.js"),  # a pre-commit run
        (".loadlint.toml", 'rules-dir = "../outside"\n', "outside", "project"),
        (".loadlint.toml", "rules-dir = {absolute}\n", "outside", "project"),
        ("package.json", '{{"name": "app", "loadlint": {{"rules-dir": "evil"}}}}\n', "project/evil", "project/src"),
    ],
    ids=["folder-run", "single-file-run", "dot-dot", "absolute-path", "package-json-key"],
)
def test_a_rules_dir_in_the_linted_config_is_not_imported(tmp_path, project, marker, config_file, config, rules_folder, target):
    outside = tmp_path / "outside"
    plant(project, marker, config_file, config.format(absolute=json.dumps(str(outside))), tmp_path / rules_folder)
    exit_code, output = check(tmp_path / target)
    assert not marker.exists()
    assert exit_code == 0, output
    # the notice's line and its wrapped continuation, as one line
    assert f"warning: {config_file}: {IGNORED}" in output.replace("\n  ", " ").splitlines()


def test_an_empty_rules_dir_is_a_config_error_and_imports_nothing(project, marker):
    # `rules-dir = ""` used to import the repository's own `*/*.py`.
    write_files(project, {".loadlint.toml": 'rules-dir = ""\n', "scripts/setup.py": payload(marker)})
    for trust in ([], ["--trust-config-rules"]):
        outcome = check(project, *trust)
        assert not marker.exists()
        assert outcome == (2, "loadlint: error: .loadlint.toml: key 'rules-dir': must name a folder\n")


def test_the_trust_flag_loads_the_config_rules(project, marker):
    """The flag works, so the tests above would see the payload run if loadlint still imported it."""
    plant(project, marker, ".loadlint.toml", 'rules-dir = "evil"\n', project / "evil")
    assert check(project, "--trust-config-rules") == (0, "No problems found; 1 file checked.\n")
    assert marker.read_text() == "ran"


def test_a_config_selecting_its_own_untrusted_rules_says_why_they_are_unknown(project):
    shutil.copytree(TEST_RULES, project / "lint-rules")
    write_files(project, {".loadlint.toml": 'rules-dir = "lint-rules"\nselect = ["testing"]\n'})
    exit_code, output = check(project)
    assert exit_code == 2
    assert output == (
        "loadlint: error: .loadlint.toml: key 'select': unknown rule or family 'testing' "
        "(its rules-dir is loaded only with --trust-config-rules)\n"
    )


def test_the_rules_dir_option_wins_over_the_config_key_without_a_notice(project, marker):
    plant(project, marker, ".loadlint.toml", 'rules-dir = "evil"\n', project / "evil")
    write_files(project, {"src/a.js": "new MarkerClient();\n"})
    exit_code, output = check(project, "--rules-dir", TEST_RULES, "--select", "testing", "--trust-config-rules")
    assert (exit_code, IGNORED in output) == (1, False)
    assert "testing/marker-client" in output
    assert not marker.exists()


RULE_SOURCE = (TEST_RULES / "testing" / "marker_client.py").read_text(encoding="utf-8")


def plant_unchecked_pyc(module: Path, source: str, scratch: Path) -> Path:
    """Compile `source` into the `__pycache__` entry of `module` as an unchecked-hash .pyc: Python's import
    system then uses it without looking at `module` at all."""
    scratch.write_text(source, encoding="utf-8")
    cached = Path(importlib.util.cache_from_source(str(module)))
    py_compile.compile(
        str(scratch), cfile=str(cached), doraise=True, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
    )
    return cached


@pytest.mark.parametrize("chosen_by", ["--rules-dir", "--trust-config-rules"])
def test_rules_load_from_source_never_from_a_committed_pyc(tmp_path, project, marker, chosen_by):
    """Even a rules folder the user chose may sit in the checkout (`--rules-dir tools/rules` in CI), where a pull
    request can add a .pyc whose code differs from its .py."""
    rules = project / "tools" / "rules"
    module = write_files(rules, {"testing/marker_client.py": RULE_SOURCE}) / "testing" / "marker_client.py"
    pyc = plant_unchecked_pyc(module, payload(marker) + RULE_SOURCE.replace("testing/marker-client", "testing/evil"), tmp_path / "evil.py")
    write_files(project, {"src/a.js": "new MarkerClient();\n", ".loadlint.toml": 'rules-dir = "tools/rules"\n'})
    before = sorted(rules.rglob("*"))
    option = ["--rules-dir", rules] if chosen_by == "--rules-dir" else ["--trust-config-rules"]
    exit_code, output = check(project, *option, "--select", "testing", "--format", "json", "--no-cache")
    assert not marker.exists()
    assert exit_code == 1, output
    assert [f["rule_id"] for f in json.loads(output)["findings"]] == ["testing/marker-client"]
    assert sorted(rules.rglob("*")) == before  # no __pycache__ written either
    assert pyc in before
