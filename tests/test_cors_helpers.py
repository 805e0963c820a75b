"""The CORS helpers under the rules: allowlist bypasses, environment conditions, and origin path analysis."""

from __future__ import annotations

import pytest

from linter.js.deployment_checks import development_when_true
from linter.rules.cors._origin_allowlists import bypass, matches_any_origin, string_check_bypass
from linter.rules.cors._origin_names import OriginNames
from linter.rules.cors._origin_paths import allows
from linter.syntax import parse, text, walk


@pytest.mark.parametrize(
    ("pattern", "origin"),
    [
        (r"example\.com", "https://example.com.evil.io"),
        (r"^https:\/\/.*example\.com", "https://example.com.evil.io"),
        (r"^https:\/\/.*example\.com$", "https://evilexample.com"),
        (r"example\.com$", "https://evilexample.com"),
        (r"^https:\/\/app.example\.com$", "https://appxexample.com"),
        (r"localhost", "https://localhost.evil.io"),
    ],
)
def test_leaky_regexes_name_an_origin_that_passes(pattern, origin):
    found = bypass(pattern, "")
    assert found is not None and found.origin == origin


@pytest.mark.parametrize(
    "pattern",
    [
        r"^https:\/\/(www\.)?example\.com$",
        r"\.example\.com$",
        r"^https:\/\/([a-z0-9-]+\.)*example\.com$",
        r"^https?:\/\/localhost(:\d+)?$",
        r"^https:\/\/example.com$",  # the dot only lets in `examplexcom`, which nobody can register
        r"^capacitor:\/\/localhost",
        r".*",
    ],
)
def test_tight_regexes_pass_no_foreign_origin(pattern):
    assert bypass(pattern, "i") is None


def test_match_everything_regexes():
    assert matches_any_origin(".*", "") and matches_any_origin("^.+$", "")
    assert not matches_any_origin(r"\.example\.com$", "")


@pytest.mark.parametrize(
    ("method", "value", "origin"),
    [
        ("startsWith", "http://localhost", "http://localhost.evil.io"),
        ("includes", ".vercel.app", "https://evil.vercel.app.evil.io"),
        ("endsWith", "example.com", "https://evilexample.com"),
        ("startsWith", "http://localhost:", None),
        ("startsWith", "https://app.example.com/", None),
        ("endsWith", ".example.com", None),
    ],
)
def test_string_checks(method, value, origin):
    found = string_check_bypass(method, value)
    assert (found.origin if found else None) == origin


def _expression(source: str, language: str = "javascript"):
    tree = parse(source.encode(), language)
    return tree.root_node.named_children[0].named_children[0]


@pytest.mark.parametrize(
    ("condition", "development"),
    [
        ("process.env.NODE_ENV !== 'production'", True),
        ("process.env.NODE_ENV === 'production'", False),
        ("nodeEnv === 'development'", True),
        ("isDev", True),
        ("config.isProduction", False),
        ("app.get('env') === 'development'", True),
        ("process.env.CORS_STRICT === 'true'", None),
        ("req.path === '/health'", None),
    ],
)
def test_development_conditions(condition, development):
    assert development_when_true(_expression(condition)) is development


def _unchecked_allows(source: str) -> list[str]:
    """The `cb(null, …)` calls that a path reaches with an unchecked origin, in the first function."""
    tree = parse(source.encode(), "javascript")
    fn = next(n for n in walk(tree.root_node) if n.type in ("function_declaration", "arrow_function"))
    names = OriginNames(["origin"]).learn(fn.child_by_field_name("body"))

    def sink_value(node):
        if node.type == "call_expression" and text(node.child_by_field_name("function")) == "cb":
            arguments = node.child_by_field_name("arguments").named_children
            return arguments[1] if len(arguments) == 2 and arguments[0].type == "null" else None
        return None

    reached = allows(fn, names, sink_value)
    return [text(r.sink) for r in reached if any(s.unchecked for s in r.states)]


def test_log_and_allow_is_reached_unchecked():
    source = """function check(origin, cb) {
  if (!origin || allowed.includes(origin)) return cb(null, true);
  console.warn(origin);
  return cb(null, origin);
}"""
    assert _unchecked_allows(source) == ["cb(null, origin)"]


def test_allows_behind_checks_and_in_development_are_not():
    source = """function check(origin, cb) {
  if (process.env.NODE_ENV !== 'production') return cb(null, true);
  const host = new URL(origin).hostname;
  if (allowed.indexOf(origin) === -1 && !host.endsWith('.example.com')) return cb(new Error('no'));
  cb(null, origin);
}"""
    assert _unchecked_allows(source) == []


def test_a_result_that_is_the_test_is_checked():
    assert _unchecked_allows("const f = (origin, cb) => cb(null, !origin || list.includes(origin));") == []
    assert _unchecked_allows("const f = (origin, cb) => cb(null, origin || true);") == ["cb(null, origin || true)"]
