"""`loadlint` with the rules idle: how long a run takes for the engine's own work alone.

    python -m tests.idle_rules check ARGS...

Every file is read, gated by the rules' needles and packages, parsed and read for imports and suppression
comments, and the project index is built, as in a real run; but no rule's query is matched, no check runs per
file or project-wide, and no flow summary is kept. The benchmark times it beside the cold run: what is left
between the two is the rules' work, which a target for the whole run has to leave room for. Not collected
by pytest; never used by loadlint itself.
"""

from __future__ import annotations

import linter.analysis
import linter.flow.file_flow
import linter.project_cache
from linter.cli import run_command


def _idle(module, name: str, stand_in) -> None:
    if not callable(getattr(module, name, None)):  # renamed: a silent stand-in would time the real run
        raise SystemExit(f"tests.idle_rules: {module.__name__}.{name} is gone; update the stand-ins")
    setattr(module, name, stand_in)


def _no_project_check(project, rule, timeout):
    return [], False


if __name__ == "__main__":  # imported, it changes nothing
    _idle(linter.analysis, "_run_rules", lambda *args, **kwargs: None)
    _idle(linter.flow.file_flow, "kept_summary", lambda *args, **kwargs: None)
    _idle(linter.project_cache, "_check", _no_project_check)
    run_command()
