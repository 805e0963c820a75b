"""Finds rules by walking a rule folder: `<family>/<module>.py`, one `Rule` subclass per module.

No list of rules is kept by hand. The built-in pack lives in the repository's `rules/` folder and is
installed as `linter/rules`; a user's own folder (`--rules-dir`, or config `rules-dir` with `--trust-config-rules`)
is loaded the same way, but from its `.py` sources only: it may sit in the checkout being linted, where a
committed `__pycache__/*.pyc` must not run (an unchecked-hash one is used whatever its `.py` says).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import re
import sys
from functools import lru_cache
from importlib.machinery import SourceFileLoader
from pathlib import Path

import linter
from linter.rule import Rule

RULE_ID = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*/[a-z][a-z0-9]*(-[a-z0-9]+)*$")


class RuleLoadError(Exception):
    pass


def builtin_rules_dir() -> Path:
    package_dir = Path(linter.__file__).resolve().parent
    installed = package_dir / "rules"
    return installed if installed.is_dir() else package_dir.parent / "rules"


@lru_cache(maxsize=None)
def builtin_rules() -> tuple[type[Rule], ...]:
    """The built-in pack, imported as the package `linter.rules` (its helpers import each other by that name)."""
    found: dict[str, type[Rule]] = {}
    for module_path in sorted(builtin_rules_dir().glob("*/*.py")):
        if module_path.name.startswith("_"):
            continue
        module = importlib.import_module(f"linter.rules.{module_path.parent.name}.{module_path.stem}")
        _collect_rules(module, module_path, found)
    return tuple(found[rule_id] for rule_id in sorted(found))


class LazyRule:
    """A built-in rule known by the name of its module (`rules/<family>/<name>.py` holds the rule
    `<family>/<name with dashes>`) and imported when first used: a run does not import the rules it does not
    enable. Stands in for the rule's class where a run chooses and builds rules: its id, its options, a new
    instance."""

    def __init__(self, rule_id: str, module_name: str, module_path: Path) -> None:
        self.id = rule_id
        self._module_name = module_name
        self._module_path = module_path
        self._class: type[Rule] | None = None

    def load(self) -> type[Rule]:
        if self._class is None:
            found: dict[str, type[Rule]] = {}
            _collect_rules(importlib.import_module(self._module_name), self._module_path, found)
            if list(found) != [self.id]:
                raise RuleLoadError(f"{self._module_path}: defines {sorted(found)}, not the rule its name says ({self.id})")
            self._class = found[self.id]
        return self._class

    @property
    def Options(self):  # noqa: N802 (the class attribute it stands for)
        return self.load().Options

    def __call__(self, options) -> Rule:
        return self.load()(options)


@lru_cache(maxsize=None)
def lazy_builtin_rules() -> tuple[LazyRule, ...]:
    """The built-in pack, by id, none imported yet (`builtin_rules` imports them all)."""
    found = []
    for module_path in builtin_rules_dir().glob("*/*.py"):
        if module_path.name.startswith("_"):
            continue
        family, name = module_path.parent.name, module_path.stem
        found.append(LazyRule(f"{family}/{name.replace('_', '-')}", f"linter.rules.{family}.{name}", module_path))
    return tuple(sorted(found, key=lambda rule: rule.id))


def load_rules_dir(folder: Path, package_name: str | None = None) -> tuple[type[Rule], ...]:
    """Every rule class defined in `folder/<family>/<module>.py`, sorted by id."""
    if not folder.is_dir():
        raise RuleLoadError(f"rules folder {folder} does not exist")
    # A user's rules folder lives in the work tree being linted: leave no __pycache__ there (a pre-commit hook
    # must not change the checkout). The built-in pack may cache its bytecode as usual.
    keep_bytecode = package_name is not None
    if package_name is None:
        package_name = "loadlint_rules_" + hashlib.sha1(str(folder.resolve()).encode()).hexdigest()[:10]
    found: dict[str, type[Rule]] = {}
    for module_path in sorted(folder.glob("*/*.py")):
        if module_path.name.startswith("_"):
            continue
        module = _load_module(module_path, f"{package_name}.{module_path.parent.name}.{module_path.stem}", keep_bytecode)
        _collect_rules(module, module_path, found)
    return tuple(found[rule_id] for rule_id in sorted(found))


def _collect_rules(module, module_path: Path, found: dict[str, type[Rule]]) -> None:
    for candidate in vars(module).values():
        if not _is_rule_class(candidate, module.__name__):
            continue
        if not RULE_ID.match(getattr(candidate, "id", "")):
            raise RuleLoadError(f"{module_path}: rule id {getattr(candidate, 'id', None)!r} is not 'family/kebab-name'")
        if candidate.id in found:
            raise RuleLoadError(f"{module_path}: rule id {candidate.id} is defined twice")
        found[candidate.id] = candidate


def _is_rule_class(candidate: object, module_name: str) -> bool:
    return (
        isinstance(candidate, type)
        and issubclass(candidate, Rule)
        and candidate.__module__ == module_name
        and "id" in vars(candidate)
    )


class _SourceOnlyLoader(SourceFileLoader):
    """Compiles the module from its `.py` file every time: no `__pycache__` is read or written."""

    def get_code(self, fullname):
        return self.source_to_code(self.get_data(self.path), self.path)


def _load_module(path: Path, name: str, keep_bytecode: bool):
    if name in sys.modules:
        return sys.modules[name]
    loader = None if keep_bytecode else _SourceOnlyLoader(name, str(path))
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    if spec is None or spec.loader is None:
        raise RuleLoadError(f"{path}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # a broken user rule must become one clear line, not a traceback
        del sys.modules[name]
        raise RuleLoadError(f"{path}: {type(error).__name__}: {error}") from error
    return module
