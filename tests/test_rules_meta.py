"""Every built-in rule: metadata, docs skeleton, docs examples that behave, fixtures with both kinds of case."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from linter.engine import RunOptions, run
from linter.model import Level, Precision
from linter.registry import builtin_rules, builtin_rules_dir
from linter.syntax import LANGUAGES, compile_query
from tests.fixture_cases import FIXTURES, annotations

RULES = builtin_rules()
HEADINGS = ["## Why is this bad?", "## Example", "## Use instead", "## References"]
# A fence may name the file its code is linted as: ```json package.json
FENCE = re.compile(r"```(?P<lang>[a-z]*)(?:[ \t]+(?P<file>[\w./-]+))?\n(?P<code>.*?)```", re.S)
SUFFIX_BY_FENCE = {"js": ".js", "javascript": ".js", "jsx": ".jsx", "ts": ".ts", "typescript": ".ts", "tsx": ".tsx"}
FILE_BY_FENCE = {"prisma": "schema.prisma", "dockerfile": "Dockerfile", "dotenv": ".env.example", "sh": "start.sh"}


def ids(rules):
    return [r.id for r in rules]


def test_rules_are_discovered():
    assert len(RULES) >= 3
    assert len(set(ids(RULES))) == len(RULES)


@pytest.mark.parametrize("rule", RULES, ids=ids(RULES))
def test_metadata(rule):
    family, name = rule.id.split("/")
    module_file = builtin_rules_dir() / family / (name.replace("-", "_") + ".py")
    assert module_file.is_file(), f"{rule.id} must live in {module_file}"
    assert re.fullmatch(r"[A-Z][A-Za-z0-9]+", rule.name)
    assert isinstance(rule.level, Level) and isinstance(rule.precision, Precision)
    assert 0 < len(rule.tags) <= 10 and len(set(rule.tags)) == len(rule.tags)
    if "security" in rule.tags:
        assert rule.security_severity is not None and 0 < float(rule.security_severity) <= 10
        assert any(t.startswith("external/cwe/cwe-") for t in rule.tags)
    else:
        assert rule.security_severity is None


@pytest.mark.parametrize("rule", RULES, ids=ids(RULES))
def test_docs_skeleton(rule):
    docs = rule.docs()
    summary = docs.splitlines()[0]
    assert summary.endswith(".") and not summary.startswith("#")
    positions = [docs.find(h) for h in HEADINGS]
    assert all(p > 0 for p in positions), f"missing headings: {[h for h, p in zip(HEADINGS, positions) if p < 0]}"
    assert positions == sorted(positions), "headings out of order"


def _first_code_block(docs: str, heading: str) -> tuple[str, str]:
    """The file name to lint the first code block under `heading` as, and its code."""
    section = docs.split(heading, 1)[1].split("\n## ", 1)[0]
    match = FENCE.search(section)
    assert match, f"no code block under {heading}"
    lang = match.group("lang") or "js"
    name = match.group("file") or FILE_BY_FENCE.get(lang) or f"example{SUFFIX_BY_FENCE[lang]}"
    return name, match.group("code")


def _rule_findings(rule, code: str, name: str, folder: Path) -> list:
    folder.mkdir()
    source = folder / name
    source.write_text(code, encoding="utf-8")
    report = run(RunOptions(paths=[source], jobs=1)).report
    return [f for f in report.active_findings if f.rule_id == rule.id]


@pytest.mark.parametrize("rule", RULES, ids=ids(RULES))
def test_example_is_flagged_and_use_instead_is_not(rule, tmp_path):
    name, bad = _first_code_block(rule.docs(), "## Example")
    assert _rule_findings(rule, bad, name, tmp_path / "bad"), "the Example is not flagged"
    name, good = _first_code_block(rule.docs(), "## Use instead")
    assert not _rule_findings(rule, good, name, tmp_path / "good"), "the Use instead code is flagged"


@pytest.mark.parametrize("rule", RULES, ids=ids(RULES))
def test_fixtures_have_positives_and_look_alikes(rule):
    family, name = rule.id.split("/")
    folder = FIXTURES / family / name
    assert folder.is_dir(), f"{rule.id} has no fixtures folder {folder}"
    kinds: dict[str, int] = {}
    for case in folder.iterdir():
        for kind, items in annotations(case).by_kind.items():
            kinds[kind] = kinds.get(kind, 0) + sum(1 for (_, _, rule_id) in items if rule_id == rule.id)
    assert kinds.get("ruleid", 0) >= 1, f"{rule.id}: no `ruleid` case"
    assert kinds.get("ok", 0) >= 1, f"{rule.id}: no `ok` look-alike"


# Rules other branches are reworking right now; each declares its frameworks with that work, and leaves this set then.
FRAMEWORKS_PENDING: set[str] = set()


@pytest.mark.parametrize("rule", RULES, ids=ids(RULES))
def test_rule_declares_its_frameworks(rule):
    from linter.frameworks import FRAMEWORK_NAMES

    declared = rule.__dict__.get("frameworks")
    if rule.id in FRAMEWORKS_PENDING:
        assert declared is None, f"{rule.id} declares its frameworks now: take it out of FRAMEWORKS_PENDING"
        return
    assert isinstance(declared, tuple), f"{rule.id} must declare `frameworks` on its class (`()` for none)"
    assert all(name in FRAMEWORK_NAMES for name in declared), f"unknown framework names in {declared}"
    assert len(set(declared)) == len(declared)


def test_readme_rule_table_is_up_to_date():
    from linter.docs import main

    assert main(["--check"]) == 0, "run `python -m linter.docs`"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("rule", builtin_rules(), ids=lambda r: r.id)
def test_query_compiles_for_every_language(rule, language):
    # A run compiles the built-in queries only for the files that need them, so a broken one must fail here.
    compile_query(rule().query_for(language), language)
