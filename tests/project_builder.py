"""Builds small throwaway projects on disk for engine and CLI tests."""

from __future__ import annotations

from pathlib import Path

from linter.engine import RunOptions, run

TEST_RULES = Path(__file__).parent / "data" / "rules"


def write_files(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def lint(paths, **options):
    """Run with the test rules only (plus the suppression rules), one process."""
    options.setdefault("rules_dir", TEST_RULES)
    options.setdefault("select", ["testing", "loadlint"])
    options.setdefault("jobs", 1)
    return run(RunOptions(paths=[Path(p) for p in paths], **options))


def found(result) -> set[tuple[str, int, str]]:
    return {(f.path, f.span.start_line, f.rule_id) for f in result.report.active_findings}
