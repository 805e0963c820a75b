"""Prisma clients that NestJS builds: a `PrismaService` (a class that extends `PrismaClient`, or a Nest-built class
that creates one in a field or its constructor) is built once per `@Module()` that lists it in `providers`, so
two listings are two clients, each with its own connection pool; and a `new PrismaService()` written by hand
beside the one Nest builds is one more.

Per file, `client-outside-singleton` keeps: the client classes (`CLIENT_CLASS`), each `providers` entry
(`PROVIDER`), and each `new X()` of an imported class (`IMPORTED_NEW`) with the fact it would be if `X` is a
client class. The project phase (`nest_clients`) resolves the names across modules (`linter.flow.modules`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import field
from typing import TYPE_CHECKING, Callable

from linter.context import FileContext
from linter.entries import entries_of
from linter.flow.callees import Callee
from linter.flow.modules import module_graph
from linter.frameworks.nestjs import DEFAULT_SCOPE, REQUEST_SCOPE, built_class_scope, module_providers
from linter.js.functions import CLASS_FIELD_TYPES, class_of, enclosing_function
from linter.lazy_dataclasses import dataclass
from linter.model import Finding
from linter.rule import Fact
from linter.syntax import Node, text

if TYPE_CHECKING:
    from linter.project import ProjectIndex
    from linter.rule import Rule

CLIENT_CLASS, PROVIDER, IMPORTED_NEW = "client-class", "nest-provider", "imported-new"
# The kind of an IMPORTED_NEW built in a provider's `useFactory`: the provider listing stands for it.
PROVIDER_FACTORY = "provider-factory"
REQUEST_SCOPED_PHRASE = "on every request in this request-scoped NestJS provider"
TRANSIENT_PHRASE = "for every class this transient NestJS provider is injected into"
MAX_RELATED = 5


def nest_built_class(new: Node, file: FileContext) -> tuple[Node, str] | None:
    """(class, scope) when `new` runs in a field initializer or the constructor of a class Nest builds."""
    fn = enclosing_function(new)
    if fn is None:
        return None
    if fn.type not in CLASS_FIELD_TYPES:
        name = fn.child_by_field_name("name") if fn.type == "method_definition" else None
        if name is None or text(name) != "constructor":
            return None
    cls = class_of(fn)
    scope = built_class_scope(cls, file) if cls is not None else None
    return (cls, scope) if scope is not None else None


def scope_phrase(scope: str) -> str | None:
    """How often a client of a Nest-built class of this scope is made, or None: once per module listing."""
    if scope == DEFAULT_SCOPE:
        return None
    return REQUEST_SCOPED_PHRASE if scope == REQUEST_SCOPE else TRANSIENT_PHRASE


def imported_class(constructor: Node, file: FileContext) -> Callee | None:
    """The import `new X()` builds, when `X` is an imported name (a class of another module may extend
    PrismaClient)."""
    if constructor.type != "identifier":
        return None
    binding = file.binding(text(constructor))
    return Callee(binding.module, binding.imported) if binding is not None else None


def provider_facts(rule: "Rule", file: FileContext) -> list[Fact]:
    """A PROVIDER fact for each class a `@Module()` of the file lists in its providers."""
    facts = []
    for listing in module_providers(file):
        binding = file.binding(listing.name)
        callee = Callee(binding.module, binding.imported) if binding is not None else Callee("", listing.name)
        facts.append(
            file.fact(
                rule,
                PROVIDER,
                listing.node,
                callee=callee.to_data(),
                name=listing.name,
                module_class=listing.module_class,
                is_global=listing.is_global,
                exported=listing.exported,
            )
        )
    return facts


@dataclass
class NestClients:
    promoted: list[Fact] = field(default_factory=list)  # hand-built clients of classes Nest does not provide
    findings: list[Finding] = field(default_factory=list)


def nest_clients(
    project: "ProjectIndex",
    rule: "Rule",
    by_kind: dict[str, list[Fact]],
    apart: Callable[[str], bool],
    package_key: Callable[[str], str],
) -> NestClients:
    """The findings about Nest-built clients, and the IMPORTED_NEW facts that turned out to build a client of a
    class Nest does not provide, as the facts the rule keeps for a `new PrismaClient()` (module, per call,
    factory). `apart(path)`: the file runs apart from the server (a command, a one-shot script)."""
    result = NestClients()
    classes: dict[tuple[str, str], bool] = {(fact.path, fact.data["name"]): fact.data["wraps"] for fact in by_kind[CLIENT_CLASS]}
    if not classes:
        return result
    graph = module_graph(project)
    class_paths = sorted({path for path, _ in classes})

    def target(fact: Fact) -> tuple[str, str] | None:
        callee = Callee.from_data(fact.data["callee"])
        if not callee.module:
            return fact.path, callee.name
        module = project.resolve(fact.path, callee.module)
        if module is None or not any(graph.leads_to(module, path) for path in class_paths):
            return None  # it cannot name one of the classes: no module is parsed to learn what it names
        found = graph.resolve(fact.path, callee)
        return found if found in classes else None

    listings: dict[tuple[str, str, str], list[Fact]] = defaultdict(list)
    for fact in by_kind[PROVIDER]:
        built = target(fact)
        if built is not None and built in classes:
            listings[(package_key(fact.path), *built)].append(fact)

    for fact in by_kind[IMPORTED_NEW]:
        built = target(fact)
        if built is None or apart(fact.path):
            continue
        entries = entries_of(project, fact.path)
        provided = [
            f for f in listings.get((package_key(fact.path), *built), ()) if entries & entries_of(project, f.path)
        ]
        kind = fact.data["builds"]
        if not provided:
            update = {"kind": "module" if kind == PROVIDER_FACTORY else kind, "data": fact.data["data"]}
            result.promoted.append(fact.model_copy(update=update))
        elif kind != PROVIDER_FACTORY:
            result.findings.append(_hand_built(rule, fact, provided, _what(classes[built])))

    reported: set[tuple[str, int, int]] = set()
    for key, facts in sorted(listings.items()):
        by_entry: dict[str, list[Fact]] = defaultdict(list)
        for fact in facts:
            if not apart(fact.path):
                for entry in entries_of(project, fact.path):
                    by_entry[entry].append(fact)
        for _, loaded in sorted(by_entry.items()):
            owners = {(f.path, f.data["module_class"]) for f in loaded}
            if len(owners) < 2:
                continue  # one listing in the process that entry starts (apps of a monorepo run apart)
            kept = min(loaded, key=lambda f: (not f.data["exported"], not f.data["is_global"], f.path, f.span.start_line))
            for fact in sorted(loaded, key=lambda f: (f.path, f.span.start_line)):
                where = (fact.path, fact.span.start_line, fact.span.start_column)
                if (fact.path, fact.data["module_class"]) == (kept.path, kept.data["module_class"]) or where in reported:
                    continue
                reported.add(where)
                result.findings.append(_second_listing(rule, fact, kept, len(owners), _what(classes[key[1:]])))
    return result


def _what(wraps: bool) -> str:
    return "holds a PrismaClient" if wraps else "is a PrismaClient"


def _second_listing(rule: "Rule", fact: Fact, kept: Fact, owners: int, what: str) -> Finding:
    name, module_class = fact.data["name"], fact.data["module_class"]
    where = f"`{kept.data['module_class']}` ({kept.path})"
    if kept.data["exported"] and kept.data["is_global"]:
        advice = f"inject it from {where}, which is global and exports it"
    elif kept.data["exported"]:
        advice = f"import {where}, which provides and exports it, instead"
    else:
        advice = (
            "provide it in one module that exports it (a `@Global()` PrismaModule), list it nowhere else, and "
            "import that module here instead"
        )
    message = (
        f"`{name}` {what}, and {owners} modules list it in their providers: Nest builds one instance, "
        f"with its own connection pool, for each, so `{module_class}` opens another pool; remove it from these "
        f"providers and {advice}."
    )
    related = [kept.location(f"`{kept.data['module_class']}` provides `{name}` too")]
    return rule.finding(fact.location(), message, related=related)


def _hand_built(rule: "Rule", fact: Fact, provided: list[Fact], what: str) -> Finding:
    listing = min(provided, key=lambda f: (not f.data["exported"], f.path, f.span.start_line))
    name = listing.data["name"]
    message = (
        f"This builds a `{name}` by hand (it {what}, with its own connection pool) beside the one Nest builds for "
        f"`{listing.data['module_class']}` ({listing.path}); inject `{name}` (or take it with "
        f"`app.get({name})`) instead."
    )
    related = [listing.location(f"`{listing.data['module_class']}` provides `{name}`")]
    return rule.finding(fact.location(), message, related=related)
