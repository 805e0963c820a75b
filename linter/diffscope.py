"""`--diff REF`: keep only the findings on lines changed since REF, for pull-request runs.

"Changed" means added or modified in the work tree compared with the merge base of REF and HEAD (what a pull
request shows), uncommitted and untracked files included. A finding counts when any line of its span changed.

CI checkouts are often shallow. When the merge base is not in the clone, the diff is taken against REF itself
(changes made on REF since the branch point then count too); when REF itself is missing from a shallow clone,
every finding is kept. Either way a notice says so and how to fetch enough history.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from linter import lazy_re
from linter.lazy_dataclasses import dataclass
from linter.model import Level, Notice, Report

_HUNK = lazy_re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_FETCH_HINT = "fetch more history (actions/checkout with `fetch-depth: 0`, or `git fetch origin <branch>`)"
ALL_LINES = None  # an untracked file: every line is new


class DiffError(Exception):
    """`--diff` cannot work here (not a git repository, an unknown ref): exit 2."""


@dataclass(frozen=True)
class ChangedLines:
    """Changed lines per repository-relative path (ALL_LINES for a new file), or `None`: keep everything."""

    by_path: dict[str, frozenset[int] | None] | None
    notices: tuple[str, ...] = ()


def changed_lines(root: Path, ref: str) -> ChangedLines:
    """What changed in the work tree at `root` since the merge base of `ref` and HEAD."""
    if ref.startswith("-"):
        raise DiffError(f"--diff takes a git revision, not {ref!r}")
    toplevel = _git(root, "rev-parse", "--show-toplevel")
    if toplevel is None:
        raise DiffError(f"--diff needs a git repository, and {root} is not in one")
    top = Path(toplevel.strip())
    shallow = (_git(top, "rev-parse", "--is-shallow-repository") or "").strip() == "true"
    target = _git(top, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if target is None:
        if not shallow:
            raise DiffError(f"--diff: unknown revision {ref!r}")
        return ChangedLines(None, (f"--diff: {ref} is not in this shallow clone, so every finding is reported; {_FETCH_HINT}",))
    notices: list[str] = []
    base = _git(top, "merge-base", target.strip(), "HEAD")
    if base is None:
        why = "this shallow clone does not reach a" if shallow else "there is no"
        notices.append(
            f"--diff: {why} common ancestor of {ref} and HEAD, so lines are compared with {ref} itself and its "
            f"own recent changes count as changed too" + (f"; {_FETCH_HINT}" if shallow else "")
        )
        base = target
    diff = _git(
        top, "-c", "core.quotePath=off", "diff", "--unified=0", "--no-color", "--no-ext-diff", "--no-textconv",
        "--find-renames", "--src-prefix=a/", "--dst-prefix=b/", base.strip(), "--",
    )
    if diff is None:
        raise DiffError(f"--diff: git diff against {ref} failed")
    by_top = parse_unified_diff(diff)
    untracked = _git(top, "ls-files", "--others", "--exclude-standard", "-z") or ""
    by_top.update({name: ALL_LINES for name in untracked.split("\0") if name})
    return ChangedLines(_relative_to(by_top, top, root), tuple(notices))


def parse_unified_diff(diff: str) -> dict[str, frozenset[int] | None]:
    """The added or modified lines of each file of a `git diff --unified=0` (new-side line numbers)."""
    changed: dict[str, set[int]] = {}
    current: set[int] | None = None
    for line in diff.splitlines():
        if line.startswith("+++ "):
            # git ends the name with a tab when it holds a space, and quotes it when it holds a tab
            name = _unquote(line[4:].removesuffix("\t"))
            current = changed.setdefault(name[2:], set()) if name.startswith("b/") else None
        elif line.startswith("@@") and current is not None:
            hunk = _HUNK.match(line)
            if hunk:
                start, count = int(hunk.group(1)), int(hunk.group(2) if hunk.group(2) is not None else 1)
                current.update(range(start, start + count))
    return {name: frozenset(lines) for name, lines in changed.items()}


def _unquote(name: str) -> str:
    """Undo git's C-style quoting of a path with special characters (`"b/tab\\there.js"`)."""
    if not (name.startswith('"') and name.endswith('"')):
        return name
    raw = name[1:-1].encode("utf-8").decode("unicode_escape")
    return raw.encode("latin-1").decode("utf-8", "replace")


def _relative_to(by_top: dict[str, frozenset[int] | None], top: Path, root: Path) -> dict[str, frozenset[int] | None]:
    """Re-key git's toplevel-relative paths to the run's root (the same folder, unless the root is below it)."""
    resolved_root = root.resolve()
    result = {}
    for name, lines in by_top.items():
        absolute = (top / name).resolve()
        if absolute == resolved_root or resolved_root in absolute.parents:
            result[absolute.relative_to(resolved_root).as_posix()] = lines
    return result


def keep_changed(report: Report, changed: ChangedLines) -> Report:
    """The report with only findings on changed lines, plus the notices of the diff itself."""
    notices = (*report.notices, *(Notice(message=text, level=Level.NOTE) for text in changed.notices))
    if changed.by_path is None:
        return report.model_copy(update={"notices": tuple(sorted(set(notices), key=lambda n: n.sort_key))})
    kept = []
    for finding in report.findings:
        if finding.path not in changed.by_path:
            continue
        lines = changed.by_path[finding.path]
        span = range(finding.span.start_line, finding.span.end_line + 1)
        if lines is ALL_LINES or any(line in lines for line in span):
            kept.append(finding)
    left_out = sum(1 for finding in report.findings if not finding.suppressed) - sum(1 for f in kept if not f.suppressed)
    return report.model_copy(
        update={
            "findings": tuple(kept),
            "notices": tuple(sorted(set(notices), key=lambda n: n.sort_key)),
            "outside_diff": report.outside_diff + left_out,
        }
    )


def _git(cwd: Path, *args: str) -> str | None:
    """stdout of a git command, or None when it fails or git is missing."""
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, encoding="utf-8", errors="surrogateescape", timeout=120
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None
