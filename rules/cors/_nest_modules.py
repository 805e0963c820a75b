"""NestJS apps whose module tree declares no controller, where a CORS policy exposes nothing.

A queue consumer written with Nest often boots with `NestFactory.create(AppModule)` and `app.listen(port)`
only so that its platform sees an open port; with no controller anywhere in its modules, every request gets a
404, so `enableCors({ origin: true, credentials: true })` lets no website read anything.

`nest_root_module(file)` names, in the file phase, the root module of the file's `NestFactory.create(…)` calls
when they all create the app from one module and the file adds no route of its own (no `app.use(…)`, static
assets, Swagger or router module). `serves_no_nest_routes(project, path, root)` answers in the project phase:
it follows `imports` from that module through the project's files (re-exports and tsconfig aliases included)
and says yes only when every module it reaches is a `@Module({ … })` class that lists no controllers and
builds none dynamically, and every module from outside the project is one of `_ROUTELESS_PACKAGES` (whose
modules serve no HTTP routes). A module it cannot find, read or name means it may serve routes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from linter import lazy_re
from linter.flow.callees import Callee
from linter.flow.modules import module_graph
from linter.frameworks.nestjs import CLASS_TYPES, module_options
from linter.js.expressions import arguments_of, callee, member_object, object_keys, unwrap
from linter.js.imports import package_name
from linter.syntax import Node, descendants_of_types, text, walk

if TYPE_CHECKING:
    from linter.context import FileContext
    from linter.project import ProjectIndex

# Packages whose Nest modules register no controller: configuration, scheduling, queues, databases, clients.
_ROUTELESS_PACKAGES = frozenset(
    {"@nestjs/config", "@nestjs/schedule", "@nestjs/event-emitter", "@nestjs/bull", "@nestjs/bullmq",
     "@nestjs/microservices", "@nestjs/typeorm", "@nestjs/mongoose", "@nestjs/sequelize", "@nestjs/jwt",
     "@nestjs/axios", "@nestjs/cache-manager", "@nestjs/cqrs", "@nestjs/throttler", "@nestjs/common"}
)  # fmt: skip
# What a bootstrap file writes when it serves something besides its modules' controllers.
_SERVES_BY_HAND = lazy_re.compile(
    rb"\.(?:use|useStaticAssets|setBaseViewsDir|getHttpAdapter|getHttpServer|register)\s*\(|SwaggerModule|RouterModule"
)
MAX_MODULES = 300  # modules followed from one root


def nest_root_module(file: "FileContext") -> Callee | None:
    """The module every `NestFactory.create(Module, …)` of the file starts from, when the file adds no route."""
    if b"NestFactory" not in file.source or _SERVES_BY_HAND.search(file.source):
        return None
    binding = file.binding("NestFactory")
    if binding is None or binding.module != "@nestjs/core":
        return None
    roots = set()
    for node in walk(file.root):
        if node.type != "call_expression":
            continue
        function = callee(node)
        if function is None or text(function) != "NestFactory.create":
            continue
        arguments = arguments_of(node)
        root = unwrap(arguments[0]) if arguments else None
        if root is None or root.type != "identifier":
            return None
        roots.add(_named(text(root), file))
    return roots.pop() if len(roots) == 1 else None


def serves_no_nest_routes(project: "ProjectIndex", path: str, root: Callee) -> bool:
    """No module reachable from `root` (imported in `path`) declares a controller (see the module)."""
    graph = module_graph(project)
    pending = [(path, root)]
    seen: set[tuple[str, str]] = set()
    while pending:
        from_path, module = pending.pop()
        found = graph.resolve(from_path, module)
        if found is None:
            external = module.module and project.resolve(from_path, module.module) is None
            if external and package_name(module.module) in _ROUTELESS_PACKAGES:
                continue
            return False
        if found in seen:
            continue
        seen.add(found)
        file = graph.file(found[0])
        if len(seen) > MAX_MODULES or file is None:
            return False
        imports = _routeless_module_imports(file, found[1])
        if imports is None:
            return False
        pending.extend((file.path, imported) for imported in imports)
    return True


def _routeless_module_imports(file: "FileContext", name: str) -> list[Callee] | None:
    """The modules `@Module({ imports })` of class `name` lists, when it declares no controllers; else None."""
    cls = next((c for c in descendants_of_types(file.root, CLASS_TYPES) if _class_name(c) == name), None)
    if cls is None or b"controllers" in (file.source[cls.start_byte : cls.end_byte]):
        return None  # `controllers` in the body: a dynamic module (`forRoot()`) may add some
    options = module_options(cls, file)
    if options is None:
        return None
    keys = object_keys(options)
    if "controllers" in keys:
        controllers = unwrap(keys["controllers"])
        if controllers is None or controllers.type != "array" or controllers.named_children:
            return None
    listed = unwrap(keys.get("imports"))
    if listed is None:
        return []
    if listed.type != "array":
        return None
    imports = []
    for entry in listed.named_children:
        imported = _module_named(unwrap(entry))
        if imported is None:
            return None
        imports.append(_named(imported, file))
    return imports


def _module_named(entry: Node | None) -> str | None:
    """`Module`, `Module.forRoot(…)`, `forwardRef(() => Module)`: the module's name."""
    if entry is None:
        return None
    if entry.type == "identifier":
        return text(entry)
    if entry.type != "call_expression":
        return None
    function = callee(entry)
    if function is not None and function.type == "identifier" and text(function) == "forwardRef":
        arguments = arguments_of(entry)
        body = arguments[0].child_by_field_name("body") if arguments and arguments[0].type == "arrow_function" else None
        return _module_named(unwrap(body))
    owner = unwrap(member_object(function)) if function is not None and function.type == "member_expression" else None
    return text(owner) if owner is not None and owner.type == "identifier" else None


def _named(local: str, file: "FileContext") -> Callee:
    binding = file.binding(local)
    return Callee(binding.module, binding.imported) if binding is not None else Callee("", local)


def _class_name(cls: Node) -> str | None:
    name = cls.child_by_field_name("name")
    return text(name) if name is not None else None

