"""Fixture cases and their inline expectations.

A case is a file directly inside `fixtures/<family>/<rule-name>/` (a one-file project) or a folder there
(a mini repository, linted as one project). The demo app `fixtures/demo` is a case too. Annotations sit on the
line(s) before the code they describe, in comments: `// ruleid: <id>` (must be flagged), `// ok: <id>`
(a look-alike that must stay quiet), `// todoruleid: <id>` (a known miss), `// todook: <id>` (a known false
positive). `{/* ruleid: <id> */}` works inside JSX.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from linter.analysis import decode_source
from linter.discovery import is_source
from linter.engine import RunOptions, run
from linter.positions import LineIndex
from linter.syntax import LANGUAGE_BY_SUFFIX, parse, walk

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
KINDS = ("ruleid", "ok", "todoruleid", "todook")
_ANNOTATION = re.compile(r"^\s*(?P<kind>todoruleid|todook|ruleid|ok)\s*:\s*(?P<ids>[\w/\-]+(?:\s*,\s*[\w/\-]+)*)\s*$")


@dataclass
class Expectations:
    by_kind: dict[str, set[tuple[str, int, str]]] = field(default_factory=lambda: {k: set() for k in KINDS})

    def add(self, kind: str, path: str, line: int, rule_id: str) -> None:
        self.by_kind[kind].add((path, line, rule_id))


def case_dirs() -> list[Path]:
    cases = []
    for rule_dir in sorted(FIXTURES.glob("*/*")):
        if rule_dir.is_dir() and rule_dir.parent.name != "demo":
            cases.extend(sorted(p for p in rule_dir.iterdir() if p.is_dir() or is_source(p)))
    demo = FIXTURES / "demo"
    if demo.is_dir():
        cases.append(demo)
    return cases


def case_id(case: Path) -> str:
    return case.relative_to(FIXTURES).as_posix()


def _comment_text(comment: str) -> str:
    if comment.startswith("//"):
        return comment[2:]
    return comment.removeprefix("/*").removesuffix("*/")


def annotations(case_root: Path) -> Expectations:
    """Read every annotation of the files under `case_root` (paths relative to it)."""
    expected = Expectations()
    files = [case_root] if case_root.is_file() else sorted(p for p in case_root.rglob("*") if is_source(p))
    base = case_root.parent if case_root.is_file() else case_root
    for path in files:
        source, _ = decode_source(path.read_bytes())
        if source is None:
            continue
        lines = LineIndex(source)
        tree = parse(source, LANGUAGE_BY_SUFFIX[path.suffix])
        annotated_lines: dict[int, list[tuple[str, str]]] = {}
        for node in walk(tree.root_node):
            if node.type != "comment":
                continue
            match = _ANNOTATION.match(_comment_text(node.text.decode("utf-8", "replace")))
            if match:
                line = lines.line_of(node.start_byte)
                for rule_id in re.split(r"\s*,\s*", match.group("ids")):
                    annotated_lines.setdefault(line, []).append((match.group("kind"), rule_id))
        rel = path.relative_to(base).as_posix()
        for line, items in annotated_lines.items():
            target = line + 1
            while target in annotated_lines or (target <= lines.line_count and not lines.line_bytes(target).strip()):
                target += 1
            for kind, rule_id in items:
                expected.add(kind, rel, target, rule_id)
    return expected


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
