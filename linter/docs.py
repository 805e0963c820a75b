"""Regenerates the rule table in README.md from the rules themselves: `python -m linter.docs [--check]`."""

from __future__ import annotations

import sys
from pathlib import Path

from linter.registry import builtin_rules

START, END = "<!-- rules:start -->", "<!-- rules:end -->"
FRAMEWORKS_START, FRAMEWORKS_END = "<!-- frameworks:start -->", "<!-- frameworks:end -->"
FRAMEWORK_FREE = "any (no framework changes what it reads)"


def rule_table() -> str:
    rows = ["| id | level | precision | what it finds |", "|---|---|---|---|"]
    for rule in builtin_rules():
        rows.append(f"| `{rule.id}` | {level_text(rule)} | {rule.precision.value} | {rule.summary()} |")
    return "\n".join(rows)


def framework_table() -> str:
    rows = ["| id | frameworks it understands |", "|---|---|"]
    for rule in builtin_rules():
        rows.append(f"| `{rule.id}` | {frameworks_text(rule) or 'not declared'} |")
    return "\n".join(rows)


def frameworks_text(rule) -> str | None:
    """"Express, NestJS, Fastify" for a rule's declared frameworks; None when the rule declares none (a custom
    rule)."""
    if rule.frameworks is None:
        return None
    return ", ".join(rule.frameworks) if rule.frameworks else FRAMEWORK_FREE


def level_text(rule) -> str:
    """The rule's level, and the findings it reports at another: "warning; notes for …"."""
    others = sorted(rule.other_levels.items(), key=lambda item: -item[0].rank)
    return "; ".join([rule.level.value, *(f"{level.value}s for {what}" for level, what in others)])


def with_table(readme: str) -> str:
    readme = _with_block(readme, START, END, rule_table())
    return _with_block(readme, FRAMEWORKS_START, FRAMEWORKS_END, framework_table())


def _with_block(readme: str, start: str, end: str, block: str) -> str:
    before, rest = readme.split(start, 1)
    _, after = rest.split(end, 1)
    return f"{before}{start}\n{block}\n{end}{after}"


def main(argv: list[str]) -> int:
    readme_path = Path(__file__).resolve().parent.parent / "README.md"
    current = readme_path.read_text(encoding="utf-8")
    updated = with_table(current)
    if "--check" in argv:
        if updated != current:
            print("README.md's rule tables are out of date: run `python -m linter.docs`", file=sys.stderr)
            return 1
        return 0
    readme_path.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
