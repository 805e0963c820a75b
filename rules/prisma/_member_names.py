"""A cheap test of a file's bytes for a rule whose query captures a property name read with `.` or `?.`."""

from __future__ import annotations

import re

# What may stand between the dot and the name: whitespace and comments.
_GAP = rb"(?:\s|/\*.{0,200}?\*/|//[^\n]*\n)*"


def member_name_pattern(names) -> re.Pattern[bytes]:
    """Matches `.name` (`?.name`, `.\n  name`) for any of `names`, not a longer name that starts with one."""
    alternatives = b"|".join(re.escape(name.encode()) for name in sorted(names, key=lambda n: (-len(n), n)))
    return re.compile(rb"\." + _GAP + rb"(?:" + alternatives + rb")(?![\w$])", re.DOTALL)
