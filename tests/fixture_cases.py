"""Fixture cases and their inline expectations.

A case is a file directly inside `fixtures/<family>/<rule-name>/` (a one-file project) or a folder there
(a mini repository, linted as one project). The demo app `fixtures/demo` is a case too. Annotations sit on the
line(s) before the code they describe, in comments: `// ruleid: <id>` (must be flagged), `// ok: <id>`
(a look-alike that must stay quiet), `// todoruleid: <id>` (a known miss), `// todook: <id>` (a known false
positive). `{/* ruleid: <id> */}` works inside JSX.

The non-JavaScript files rules read (`linter.files.kinds`) take the same annotations as full-line comments of
their own syntax: `// ruleid: <id>` (or `///`) in `.prisma` files, `# ruleid: <id>` in Dockerfiles, shell
scripts, Procfiles, YAML, TOML and `.env` files. JSON has no comments: a folder case lists what it expects in
JSON files (package.json scripts, railway.json) in a sidecar `expected.txt` at its root, one
`<path>:<line> <kind>: <rule-id>` per line (`package.json:6 ruleid: prisma/db-push-in-deploy`; `#` starts a
comment there).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from linter.analysis import decode_source
from linter.discovery import is_source
from linter.engine import RunOptions, run
from linter.files.kinds import line_comment_markers, project_file_kind
from linter.positions import LineIndex
from linter.syntax import LANGUAGE_BY_SUFFIX, parse, walk

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
DEMO = FIXTURES / "demo"
# Every JavaScript and TypeScript file of the fixtures, sorted.
FIXTURE_SOURCES = sorted(p for p in FIXTURES.rglob("*") if p.suffix in LANGUAGE_BY_SUFFIX and p.is_file())
KINDS = ("ruleid", "ok", "todoruleid", "todook")
_ANNOTATION = re.compile(r"^\s*(?P<kind>todoruleid|todook|ruleid|ok)\s*:\s*(?P<ids>[\w/\-]+(?:\s*,\s*[\w/\-]+)*)\s*$")
SIDECAR = "expected.txt"
_SIDECAR_LINE = re.compile(r"^(?P<path>\S+):(?P<line>\d+)\s+(?P<annotation>.*)$")


@dataclass
class Expectations:
    by_kind: dict[str, set[tuple[str, int, str]]] = field(default_factory=lambda: {k: set() for k in KINDS})

    def add(self, kind: str, path: str, line: int, rule_id: str) -> None:
        self.by_kind[kind].add((path, line, rule_id))


def case_dirs() -> list[Path]:
    cases = []
    for rule_dir in sorted(FIXTURES.glob("*/*")):
        if rule_dir.is_dir() and rule_dir.parent.name != "demo":
            cases.extend(sorted(p for p in rule_dir.iterdir() if p.is_dir() or _lintable(p)))
    demo = FIXTURES / "demo"
    if demo.is_dir():
        cases.append(demo)
    return cases


def _lintable(path: Path) -> bool:
    return is_source(path) or project_file_kind(path.name) is not None


def case_id(case: Path) -> str:
    return case.relative_to(FIXTURES).as_posix()


def _comment_text(comment: str) -> str:
    if comment.startswith("//"):
        return comment[2:]
    return comment.removeprefix("/*").removesuffix("*/")


def annotations(case_root: Path) -> Expectations:
    """Read every annotation of the files under `case_root` (paths relative to it)."""
    expected = Expectations()
    files = [case_root] if case_root.is_file() else sorted(p for p in case_root.rglob("*") if _lintable(p))
    base = case_root.parent if case_root.is_file() else case_root
    for path in files:
        source, _ = decode_source(path.read_bytes())
        if source is None:
            continue
        lines = LineIndex(source)
        if is_source(path):
            annotated_lines = _comment_annotations(source, lines, LANGUAGE_BY_SUFFIX[path.suffix])
        else:
            annotated_lines = _line_comment_annotations(lines, line_comment_markers(project_file_kind(path.name)))
        rel = path.relative_to(base).as_posix()
        for line, items in annotated_lines.items():
            target = line + 1
            while target in annotated_lines or (target <= lines.line_count and not lines.line_bytes(target).strip()):
                target += 1
            for kind, rule_id in items:
                expected.add(kind, rel, target, rule_id)
    if case_root.is_dir() and (case_root / SIDECAR).is_file():
        _sidecar_annotations(case_root / SIDECAR, expected)
    return expected


def _add_annotation(annotated_lines: dict[int, list[tuple[str, str]]], line: int, match: re.Match) -> None:
    for rule_id in re.split(r"\s*,\s*", match.group("ids")):
        annotated_lines.setdefault(line, []).append((match.group("kind"), rule_id))


def _comment_annotations(source: bytes, lines: LineIndex, language: str) -> dict[int, list[tuple[str, str]]]:
    annotated_lines: dict[int, list[tuple[str, str]]] = {}
    for node in walk(parse(source, language).root_node):
        if node.type != "comment":
            continue
        match = _ANNOTATION.match(_comment_text(node.text.decode("utf-8", "replace")))
        if match:
            _add_annotation(annotated_lines, lines.line_of(node.start_byte), match)
    return annotated_lines


def _line_comment_annotations(lines: LineIndex, markers: tuple[str, ...]) -> dict[int, list[tuple[str, str]]]:
    """Annotations written as full-line comments (`# ruleid: …`, `// ruleid: …`) of a file without a tree."""
    annotated_lines: dict[int, list[tuple[str, str]]] = {}
    for line in range(1, lines.line_count + 1):
        text = lines.line_bytes(line).decode("utf-8", "replace").strip()
        marker = next((m for m in markers if text.startswith(m)), None)
        if marker is None:
            continue
        match = _ANNOTATION.match(text.lstrip(marker[0]))
        if match:
            _add_annotation(annotated_lines, line, match)
    return annotated_lines


def _sidecar_annotations(sidecar: Path, expected: Expectations) -> None:
    for number, raw in enumerate(sidecar.read_text(encoding="utf-8").splitlines(), 1):
        raw = raw.split("#", 1)[0].strip()
        if not raw:
            continue
        entry = _SIDECAR_LINE.match(raw)
        match = _ANNOTATION.match(entry.group("annotation")) if entry else None
        if match is None:
            raise ValueError(f"{sidecar}:{number}: expected `<path>:<line> <kind>: <rule-id>`, got {raw!r}")
        for rule_id in re.split(r"\s*,\s*", match.group("ids")):
            expected.add(match.group("kind"), entry.group("path"), int(entry.group("line")), rule_id)


def lint_case(case: Path, tmp_path: Path, **options) -> tuple[set[tuple[str, int, str]], object]:
    """Copy the case into `tmp_path` (so nothing around it is indexed) and lint it with every rule."""
    target = tmp_path / case.name
    if case.is_dir():
        shutil.copytree(case, target)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(case, target)
    result = run(RunOptions(paths=[target], jobs=1, **options))
    found = {(f.path, f.span.start_line, f.rule_id) for f in result.report.active_findings}
    return found, result


def compare(expected: Expectations, found: set[tuple[str, int, str]]) -> list[str]:
    """Every way `found` differs from the annotations, in the ast-grep test vocabulary."""
    k = expected.by_kind
    problems = []
    problems += [f"Missing (ruleid, not flagged): {x}" for x in sorted(k["ruleid"] - found)]
    problems += [f"Noisy (flagged, not annotated ruleid): {x}" for x in sorted(found - k["ruleid"] - k["todook"])]
    problems += [f"Noisy (annotated ok): {x}" for x in sorted(k["ok"] & found)]
    problems += [f"todoruleid now flagged, promote to ruleid: {x}" for x in sorted(k["todoruleid"] & found)]
    problems += [f"todook now quiet, promote to ok: {x}" for x in sorted(k["todook"] - found)]
    return problems


def described_matches(matches) -> list:
    """A query's matches as comparable data: each pattern index with its captures' byte ranges, by name."""
    return [
        (index, sorted((name, [n.byte_range for n in nodes]) for name, nodes in captures.items()))
        for index, captures in matches
    ]
