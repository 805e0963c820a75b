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


def analysed_paths(monkeypatch) -> list[str]:
    """The paths `engine.analyze_file` is called for, from now on (in a run that stays in this process)."""
    import linter.engine as engine

    seen: list[str] = []
    real = engine.analyze_file

    def counting(path, rel, *rest):
        seen.append(rel)
        return real(path, rel, *rest)

    monkeypatch.setattr(engine, "analyze_file", counting)
    return seen


def lint(paths, **options):
    """Run with the test rules only (plus the suppression rules), one process."""
    options.setdefault("rules_dir", TEST_RULES)
    options.setdefault("select", ["testing", "loadlint"])
    options.setdefault("jobs", 1)
    return run(RunOptions(paths=[Path(p) for p in paths], **options))


def found(result) -> set[tuple[str, int, str]]:
    return {(f.path, f.span.start_line, f.rule_id) for f in result.report.active_findings}


def cache_entries(path: Path) -> dict[str, list]:
    """The entries of the results cache database at `path`, as `edit_cache_entries` shows them."""
    entries = {}
    edit_cache_entries(path, lambda data: entries.update(data["entries"]), write=False)
    return entries


def edit_cache_entries(path: Path, change, write: bool = True) -> None:
    """Let `change` edit the results cache database at `path` as plain data, `{"entries": {path: [content digest,
    packages digest, with_findings, result, stat]}}`, and write back what it made of it (as whoever can write the
    cache folder could). Kept outcomes of project-wide checks are dropped: they were made from the old entries."""
    import json
    import sqlite3

    from linter.cache import _joined, _split

    db = sqlite3.connect(path, isolation_level=None)
    try:
        query = "SELECT path, content, around, with_findings, stat, parsed, report, result FROM files"
        entries = {}
        for rel, content, around, with_findings, stat, parsed, report, result in db.execute(query).fetchall():
            result = _joined(json.loads(result), parsed == 1, json.loads(report) if report is not None else None)
            entries[rel] = [content, around, with_findings == 1, result, stat]
        data = {"entries": entries}
        change(data)
        if not write:
            return
        db.execute("BEGIN")
        for rel, (content, around, with_findings, result, stat) in data["entries"].items():
            parsed, report, rest = _split(result)
            report = json.dumps(report) if report is not None else None
            db.execute(
                "UPDATE files SET content = ?, around = ?, with_findings = ?, parsed = ?, report = ?, result = ?, "
                "stat = ? WHERE path = ?",
                (content, around, int(with_findings), int(parsed), report, json.dumps(rest), stat, rel),
            )
        db.execute("DELETE FROM project")
        db.execute("COMMIT")
    finally:
        db.close()
    if write:
        path.chmod(0o600)
