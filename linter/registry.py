"""Finds rules by walking a rule folder: `<family>/<module>.py`, one `Rule` subclass per module.

No list of rules is kept by hand. The built-in pack lives in the repository's `rules/` folder and is
installed as `linter/rules`; a user's own folder (`--rules-dir`, or config `rules-dir` with `--trust-config-rules`)
is loaded the same way, but from its `.py` sources only: it may sit in the checkout being linted, where a
committed `__pycache__/*.pyc` must not run (an unchecked-hash one is used whatever its `.py` says).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from functools import lru_cache
from importlib.machinery import SourceFileLoader
from pathlib import Path

from linter import lazy_re
import linter
from linter.model import Level, RuleInfo
from linter.rule import Rule

RULE_ID = lazy_re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*/[a-z][a-z0-9]*(-[a-z0-9]+)*$")


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

    def default_instance(self) -> "Rule":
        """The rule with its default options, imported when first used (`DeferredRule`) unless it is already."""
        if self._class is not None:
            return self._class()
        return DeferredRule(self)  # type: ignore[return-value]

    @property
    def module_path(self) -> Path:
        return self._module_path


class DeferredRule:
    """A built-in rule with its default options, not imported yet: its id and instance are known, and what the
    results cache recorded of the rule (`known`, see `linter.cache.rule_facts`). It turns into the rule itself
    (its class, its state) when anything else of it is first used, so a warm run whose files and project-wide
    checks all come from the cache imports no rule at all."""

    instance = ""

    def __init__(self, lazy: LazyRule) -> None:
        self.id = lazy.id
        self._lazy = lazy
        self.known: dict | None = None

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        become_rule(self)
        return getattr(self, name)


def become_rule(rule) -> Rule:
    """`rule` itself, made the rule it stands for when it is a `DeferredRule`."""
    if type(rule) is DeferredRule:
        cls = rule._lazy.load()
        rule.__dict__.clear()
        rule.__class__ = cls
        cls.__init__(rule)
    return rule


def rule_class(rule) -> type[Rule]:
    """The class of a rule instance (a `DeferredRule` is imported)."""
    return type(become_rule(rule))


def has_project_check(rule) -> bool:
    """Whether the rule has a project-wide check."""
    if type(rule) is DeferredRule and rule.known is not None:
        return rule.known["project"]
    return rule_class(rule).check_project is not Rule.check_project


def flow_spec_name(rule) -> str | None:
    """The name of the rule's flow spec, or None."""
    if type(rule) is DeferredRule and rule.known is not None:
        return rule.known["flow"]
    spec = become_rule(rule).flow_spec
    return spec.name if spec is not None else None


def rule_info(rule, level: Level | None = None) -> RuleInfo:
    """The rule's metadata (`Rule.info`), with `level` when given."""
    if type(rule) is DeferredRule and rule.known is not None:
        try:
            info = RuleInfo.model_validate(rule.known["info"])
            return info if level is None else info.model_copy(update={"level": level, "other_levels": ()})
        except Exception:  # not what the cache wrote: ask the rule
            rule.known = None
    return rule_class(rule).info(level)


def default_level(rule) -> Level:
    """The level of the rule's findings, unless a config sets another."""
    if type(rule) is DeferredRule and rule.known is not None:
        try:
            return Level(rule.known["info"]["level"])
        except Exception:  # not what the cache wrote: ask the rule
            rule.known = None
    return rule_class(rule).level


def rule_gate(rule) -> tuple[bool, tuple[bytes, ...], tuple[str, ...], bool]:
    """What tells, before parsing, whether the rule applies to a file (`linter.analysis.RulePlan.gates`):
    whether it has a query, its needles, the packages it requires, and whether it has a project-wide check.
    A `DeferredRule` answers from what the cache recorded, without being imported."""
    if type(rule) is DeferredRule and rule.known is not None:
        gate = rule.known["gate"]
        needles = tuple(needle.encode("latin-1") for needle in gate["needles"])
        return gate["query"], needles, tuple(gate["requires"]), rule.known["project"]
    cls = rule_class(rule)
    return bool(cls.query.strip()), tuple(cls.needles), tuple(cls.requires), cls.check_project is not Rule.check_project


def pack_folder(rule) -> Path:
    """The folder of the rule pack the rule comes from."""
    if type(rule) is DeferredRule:
        return rule._lazy.module_path.resolve().parent.parent
    return Path(inspect.getfile(type(rule))).resolve().parent.parent


def rule_facts(rule) -> dict | None:
    """What the results cache records of a rule for runs that do not import it (`DeferredRule.known`): None for
    a rule not imported."""
    if type(rule) is DeferredRule:
        return rule.known
    cls = type(rule)
    spec = cls.flow_spec
    return {
        "project": cls.check_project is not Rule.check_project,
        "flow": spec.name if spec is not None else None,
        "info": cls.info().model_dump(mode="json"),
        # bytes as the code points of the same numbers: JSON holds them, and they come back exactly
        "gate": {"query": bool(cls.query.strip()), "needles": [n.decode("latin-1") for n in cls.needles], "requires": list(cls.requires)},
    }


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
        import hashlib  # here: only a run with a rules folder names its package

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
