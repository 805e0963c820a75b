"""`linter.lazy_re.compile`: a pattern compiled at its first use, which then answers as `re.compile` would have
made it; and no module of the linter or its rules compiles a pattern when it is imported."""

from __future__ import annotations

import ast
import copy
import json
import pickle
import re
import subprocess
import sys

import pytest

from linter import lazy_re
from tests.fixture_cases import REPO

CASES = [
    (r"(?P<word>[a-z]+)(\d*)", re.I, "Hello world42 and MORE7", "<\\g<word>>"),
    (rb"(?P<key>\w+)\s*=\s*(\S+)", 0, b"a = 1\nbb= 22\n c =3", b"\\2"),
]


@pytest.mark.parametrize(("pattern", "flags", "text", "template"), CASES)
def test_a_pattern_is_compiled_at_its_first_use_and_then_answers_as_the_compiled_one(pattern, flags, text, template):
    lazy, eager = lazy_re.compile(pattern, flags), re.compile(pattern, flags)
    assert "_pattern" not in vars(lazy) and lazy.pattern == eager.pattern

    assert lazy.search(text, 1).span() == eager.search(text, 1).span()

    assert vars(lazy)["_pattern"] is eager  # `re` keeps the pattern it compiled: the same object
    assert vars(lazy)["search"].__self__ is eager  # kept: later calls go straight to the compiled pattern
    assert lazy.match(text).groups() == eager.match(text).groups()
    assert lazy.fullmatch(text) is None and eager.fullmatch(text) is None
    assert [m.span() for m in lazy.finditer(text)] == [m.span() for m in eager.finditer(text)]
    assert lazy.findall(text) == eager.findall(text)
    assert lazy.sub(template, text) == eager.sub(template, text)
    assert lazy.subn(template, text, count=1) == eager.subn(template, text, count=1)
    assert lazy.split(text, 1) == eager.split(text, 1)
    assert (lazy.flags, lazy.groups, lazy.groupindex) == (eager.flags, eager.groups, eager.groupindex)
    assert repr(lazy) == repr(eager)


@pytest.mark.parametrize("method", ["search", "match", "fullmatch", "finditer", "findall", "sub", "subn", "split"])
def test_each_method_compiles_the_pattern_on_a_first_call(method):
    lazy = lazy_re.compile(r"(b)")
    arguments = ("x", "abc") if method in ("sub", "subn") else ("abc",)
    result = getattr(lazy, method)(*arguments)
    eager_result = getattr(re.compile(r"(b)"), method)(*arguments)
    if method in ("search", "match", "fullmatch"):
        result, eager_result = result and result.span(), eager_result and eager_result.span()
    elif method == "finditer":
        result, eager_result = [m.span() for m in result], [m.span() for m in eager_result]
    assert result == eager_result
    assert vars(lazy)[method].__self__ is vars(lazy)["_pattern"]


def test_a_pattern_pickles_copies_and_compares_by_its_text_and_flags():
    lazy = lazy_re.compile(r"a+b", re.M)
    not_compiled = pickle.loads(pickle.dumps(lazy))
    lazy.search("aab")
    compiled = pickle.loads(pickle.dumps(lazy))
    for twin in (not_compiled, compiled):
        assert twin == lazy and hash(twin) == hash(lazy) and twin.search("xaab").group() == "aab"
    assert copy.copy(lazy) is lazy and copy.deepcopy({"p": lazy})["p"] is lazy
    assert lazy != lazy_re.compile(r"a+b") and lazy != lazy_re.compile(r"a+c", re.M)
    with pytest.raises(re.error):
        lazy_re.compile(r"(unclosed").search("x")


# In a fresh interpreter: every pattern the linter's and its rules' modules make when imported, and how many of
# them importing compiled.
_EVERY_PATTERN = """
import importlib, json, pkgutil
from linter import lazy_re
made = []
make = lazy_re.LazyPattern.__init__
def recording(self, *args):
    make(self, *args)
    made.append(self)
lazy_re.LazyPattern.__init__ = recording
import linter
rules = importlib.import_module("linter.rules")
for info in [*pkgutil.walk_packages(linter.__path__, "linter."), *pkgutil.walk_packages(rules.__path__, "linter.rules.")]:
    if info.name != "linter.__main__":
        importlib.import_module(info.name)
compiled_at_import = sum("_pattern" in vars(pattern) for pattern in made)
broken = []
for pattern in made:
    try:
        pattern.groups
    except Exception as error:
        broken.append(f"{pattern.pattern!r}: {error}")
print(json.dumps({"made": len(made), "compiled_at_import": compiled_at_import, "broken": broken}))
"""


def test_every_pattern_the_linter_holds_compiles_and_none_is_compiled_at_import():
    """A broken pattern would otherwise show only at its first use, in a run that happens to need it."""
    done = subprocess.run([sys.executable, "-c", _EVERY_PATTERN], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["made"] > 200  # the walk reached the rules' helpers too
    assert (found["compiled_at_import"], found["broken"]) == (0, [])


def _compiled_at_import(tree: ast.Module) -> list[int]:
    """The lines of the `re.compile` calls that run when the module is imported: outside function bodies."""
    lines = []

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            for default in [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]:
                visit(default, in_function)
            for decorator in getattr(node, "decorator_list", []):
                visit(decorator, in_function)
            for part in node.body if isinstance(node.body, list) else [node.body]:
                visit(part, True)
            return
        function = getattr(node, "func", None)
        if not in_function and isinstance(function, ast.Attribute) and function.attr == "compile":
            if isinstance(function.value, ast.Name) and function.value.id == "re":
                lines.append(node.lineno)
        for child in ast.iter_child_nodes(node):
            visit(child, in_function)

    visit(tree, False)
    return lines


def test_no_module_of_the_linter_or_its_rules_compiles_a_pattern_when_imported():
    sources = [*(REPO / "linter").rglob("*.py"), *(REPO / "rules").rglob("*.py")]
    eager = [f"{path.relative_to(REPO)}:{line}" for path in sources for line in _compiled_at_import(ast.parse(path.read_text()))]
    assert len(sources) > 150 and eager == []


def test_the_scan_finds_what_runs_at_import():
    source = (
        "import re\nA = re.compile('a')\nclass B:\n    c = [re.compile(x) for x in 'bc']\n"
        "def f(d=re.compile('d')):\n    return re.compile('e')\ng = lambda: re.compile('g')\n"
    )
    assert _compiled_at_import(ast.parse(source)) == [2, 4, 5]
