"""The root of a run: the repository (or package) a path belongs to. Light to import: `loadlint check` finds the
root before it knows whether it will lint itself or ask a running server (`linter.check_client`)."""

from __future__ import annotations

from pathlib import Path


def find_root(start: Path) -> Path:
    """The repository root above `start` (the folder holding `.git`), else the nearest package, else `start`."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    for folder in (start, *start.parents):
        if (folder / "package.json").is_file():
            return folder
    return start
