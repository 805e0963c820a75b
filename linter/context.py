"""What a rule sees of one file while it checks it."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Callable, Iterable, TypeVar

from linter.js.imports import ImportBinding, ModuleReference, collect_bindings, collect_references
from linter.model import Finding, Fix, Level, Location
from linter.paths import is_test_path
from linter.positions import LineIndex
from linter.rule import Fact
from linter.syntax import Node, Tree

if TYPE_CHECKING:
    from linter.project import Package
    from linter.rule import Rule

T = TypeVar("T")


def packages_depend_on(packages: "list[Package]", names: Iterable[str]) -> bool:
    """Whether a file of these packages (its nearest manifests) may use one of the packages `names`: true
    too when no manifest is around it."""
    names = tuple(names)
    return not packages or any(p.depends_on(names) for p in packages)


class FileContext:
    def __init__(
        self, path: str, source: bytes, language: str, tree: Tree, packages: "list[Package]" = ()
    ) -> None:
        self.path = path
        self.source = source
        self.language = language
        self.tree = tree
        self.packages = list(packages)
        self._memo: dict[object, object] = {}
        self._lasting: dict[object, object] = {}
        self.rule_instance = ""  # the instance of the rule being run (`Rule.instance`): flow state is kept per instance

    @property
    def root(self) -> Node:
        return self.tree.root_node

    @cached_property
    def lines(self) -> LineIndex:
        return LineIndex(self.source)

    @cached_property
    def is_test(self) -> bool:
        return is_test_path(self.path)

    @cached_property
    def import_bindings(self) -> list[ImportBinding]:
        return collect_bindings(self.root, self.source)

    @cached_property
    def module_references(self) -> list[ModuleReference]:
        return collect_references(self.root, self.source)

    @cached_property
    def _binding_by_local(self) -> dict[str, ImportBinding]:
        return {b.local: b for b in self.import_bindings}

    def binding(self, local: str) -> ImportBinding | None:
        """What `local` was imported as in this file, if it was imported at all."""
        return self._binding_by_local.get(local)

    def memo(self, key: object, compute: Callable[[], T]) -> T:
        """`compute()` once per file and key: where shared helpers keep the per-file indexes they build."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]  # type: ignore[return-value]

    def lasting(self, key: object, compute: Callable[[], T]) -> T:
        """`memo` for what depends on the file alone (its path, text and packages), never on the project or on
        what a rule did with it: the editor's server keeps it when it hands the file to its next project phase."""
        if key not in self._lasting:
            self._lasting[key] = compute()
        return self._lasting[key]  # type: ignore[return-value]

    def lasting_kept(self, key: object) -> object | None:
        """What `lasting` keeps for `key`, or None when nothing asked for it yet."""
        return self._lasting.get(key)

    def renew(self) -> None:
        """Forget what `memo` kept, not what `lasting` did: the file, unchanged, serves another project phase."""
        self._memo.clear()

    def release(self) -> None:
        """Forget what helpers kept of the file (some of it refers back to the file): its tree can go now,
        not at the next garbage collection."""
        self._memo.clear()
        self._lasting.clear()

    def depends_on(self, names: Iterable[str]) -> bool:
        return packages_depend_on(self.packages, names)

    def location(self, node: Node, message: str | None = None) -> Location:
        return Location(path=self.path, span=self.lines.span(node.start_byte, node.end_byte), message=message)

    def report(
        self,
        rule: "Rule",
        node: Node,
        message: str,
        related: Iterable[Location] = (),
        code_flow: Iterable[Location] = (),
        level: "Level | None" = None,
        fixes: Iterable["Fix"] = (),
    ) -> Finding:
        return rule.finding(self.location(node), message, related=related, code_flow=code_flow, level=level, fixes=fixes)

    def fact(self, rule: "Rule", kind: str, node: Node, **data) -> Fact:
        span = self.lines.span(node.start_byte, node.end_byte)
        return Fact(rule_id=rule.id, kind=kind, path=self.path, span=span, data=data)
