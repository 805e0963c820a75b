"""Path classifications shared by rules: test files, one-shot scripts; checking a glob from a config."""

from __future__ import annotations

import re
import warnings

from linter import lazy_re

_TEST_FILE = lazy_re.compile(r"(^|/)[^/]*\.(test|spec|e2e|cy)\.[cm]?[jt]sx?$")
_TEST_RUNNER_FILE = lazy_re.compile(
    r"(^|/)((playwright|jest|vitest|cypress|karma)\.(config|setup)[^/]*|setupTests[^/]*|[^/]*test-environment[^/]*)"
    r"\.[cm]?[jt]sx?$"
)
_TEST_FOLDER = lazy_re.compile(r"(^|/)(__tests__|__mocks__|test|tests|e2e|cypress|playwright|integration-tests)/")
# `integration/` at the root of the repository or of a workspace package holds an integration suite; deeper
# in the source tree it is application code (`app/api/shopify/integration/webhook/route.ts`, `src/integration/`).
_INTEGRATION_SUITE = lazy_re.compile(r"^((apps|packages|libs|services)/[^/]+/)?integration/")


def is_test_path(path: str) -> bool:
    """Test code: `*.test.*`, `*.spec.*`, test-runner configs and setup files (`jest.setup.js`,
    `playwright.config.ts`), and anything under `__tests__/`, `test/`, `tests/`, `e2e/`, `integration-tests/`…, or
    under an `integration/` folder at the root of the repository or of a workspace package (`apps/web/integration/`)."""
    return bool(
        _TEST_FILE.search(path) or _TEST_RUNNER_FILE.search(path) or _TEST_FOLDER.search(path) or _INTEGRATION_SUITE.match(path)
    )


_TEST_SUPPORT_FOLDER = lazy_re.compile(r"(^|/)(testing|test-?utils?|testutils|test-?helpers?|[\w.-]*-test-utils?)/", re.I)


def is_test_support_path(path: str) -> bool:
    """Code that only tests run, kept outside test folders: `libs/testing/src/…`, `packages/x-test-utils/src/…`."""
    return is_test_path(path) or bool(_TEST_SUPPORT_FOLDER.search(path))


def check_glob(pattern: str) -> None:
    """Raise ValueError when `pattern` is not a gitignore-style glob, as written or anchored in a folder."""
    import pathspec  # here: a run whose configs hold no glob does not import it

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # re's FutureWarning for `[[`: valid today
            pathspec.GitIgnoreSpec.from_lines([pattern, "folder/" + pattern.lstrip("/")])
    except (ValueError, re.error) as error:
        raise ValueError(f"{pattern!r} is not a valid glob") from error
