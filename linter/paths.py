"""Path classifications shared by rules: test files, one-shot scripts."""

from __future__ import annotations

import re

_TEST_FILE = re.compile(r"(^|/)[^/]*\.(test|spec|e2e|cy)\.[cm]?[jt]sx?$")
_TEST_FOLDER = re.compile(r"(^|/)(__tests__|__mocks__|test|tests|e2e|cypress|playwright)/")


def is_test_path(path: str) -> bool:
    """Test code: `*.test.*`, `*.spec.*`, and anything under `__tests__/`, `test/`, `tests/`, `e2e/`…"""
    return bool(_TEST_FILE.search(path) or _TEST_FOLDER.search(path))
