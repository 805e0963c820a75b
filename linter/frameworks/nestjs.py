"""NestJS (and type-graphql, whose decorators NestJS's GraphQL module shares): what a decorated handler
parameter receives, and the schema that checks it; and the classes Nest builds, where and how often.

- `@Query('limit') limit`, `@Param('id') id`, `@Body('size') size`, `@Headers('x-page-size') size`: one value;
  pipes such as `ParseIntPipe` keep its size;
- `@Query() query: ListDto` (also `@Body()`, `@Param()`): a bag, checked by the class-validator DTO class
  (`@Max` bounds a field) — in the controller's file or imported; an interface or a type alias checks nothing;
- `@Query(new ZodValidationPipe(schema)) query`: a bag checked by that schema;
- `@Body() dto: NoteDto` where `class NoteDto extends createZodDto(schema)` (nestjs-zod): a bag checked by
  `schema` when a `ZodValidationPipe` applies (`zod_dto_schema`, `zod_piped_handler`; the app-wide pipe,
  `APP_PIPE` or `useGlobalPipes`, is the caller's to find), and not checked at all when none does;
- GraphQL: `@Args('take') take`, `@Arg('take') take` (one argument), `@Args() args: PaginationArgs` (an
  `@ArgsType()` class: `@Max` bounds a field).

Nest builds the classes a `@Module({ providers })` lists (and `@Injectable()`, `@Controller()` classes) once per
module that lists them, or per request / per injection with a request or transient scope; `module_providers`,
`built_class_scope`, `provider_factory` and `shutdown_hook` say which, where and how often.
"""

from __future__ import annotations


from linter.frameworks.origins import GRAPHQL_ARGUMENTS, QUERY_STRING, REQUEST_BODY, REQUEST_HEADERS, ROUTE_PARAMETERS
from linter.js.expressions import arguments_of, callee, key_text, object_keys, property_name, unwrap
from linter.js.imports import string_value
from linter.lazy_dataclasses import dataclass
from linter.syntax import Node, descendants_of_types, text

_DECORATOR_ORIGINS = {
    "Query": QUERY_STRING,
    "Body": REQUEST_BODY,
    "Param": ROUTE_PARAMETERS,
    "Headers": REQUEST_HEADERS,
    "Args": GRAPHQL_ARGUMENTS,
    "Arg": GRAPHQL_ARGUMENTS,
}
_SCHEMA_PIPES = frozenset({"ZodValidationPipe", "ZodPipe", "JoiValidationPipe", "YupValidationPipe"})
ZOD_PIPE = "ZodValidationPipe"
# Packages whose `createZodDto(schema)` makes a DTO class that their `ZodValidationPipe` parses the bag with.
ZOD_DTO_MODULES = frozenset({"nestjs-zod", "@anatine/zod-nestjs", "@abitia/zod-dto", "nestjs-zod2"})


@dataclass(frozen=True)
class DecoratedParameter:
    origin: str
    key: str | None  # `@Query('limit')`: one value; None: the whole bag
    schema: Node | None  # a schema a pipe checks the bag with
    dto: str | None  # the type the bag is declared with (`query: ListDto`): a DTO class when it is one


def decorated_parameter(param: Node) -> DecoratedParameter | None:
    """What a NestJS (or type-graphql) parameter decorator hands the parameter, if it has one."""
    for child in param.children:
        if child.type != "decorator" or not child.named_children:
            continue
        call = child.named_children[0]
        if call.type != "call_expression":
            continue
        origin = _DECORATOR_ORIGINS.get(text(callee(call)))
        if origin is None:
            continue
        arguments = arguments_of(call)
        key = string_value(arguments[0]) if arguments else None
        schema = next((s for a in arguments if (s := _pipe_schema(a)) is not None), None)
        return DecoratedParameter(origin, key, schema, None if key is not None else dto_type_name(param))
    return None


def _pipe_schema(argument: Node) -> Node | None:
    node = unwrap(argument)
    if node is None or node.type != "new_expression" or text(callee(node)) not in _SCHEMA_PIPES:
        return None
    arguments = arguments_of(node)
    return arguments[0] if arguments else None


def dto_type_name(param: Node) -> str | None:
    """`ListDto` for `@Query() query: ListDto`: the class a NestJS pipe validates the bag with."""
    annotation = param.child_by_field_name("type") if param.type in ("required_parameter", "optional_parameter") else None
    named = annotation.named_children[0] if annotation is not None and annotation.named_children else None
    return text(named) if named is not None and named.type == "type_identifier" else None


def zod_dto_schema(cls: Node, file) -> Node | None:
    """`schema` of `class NoteDto extends createZodDto(schema) {}`, `createZodDto` imported from nestjs-zod (or
    a package with the same API)."""
    heritage = next((c for c in cls.children if c.type == "class_heritage"), None)
    extends = next((c for c in heritage.named_children if c.type == "extends_clause"), None) if heritage is not None else None
    value = unwrap(extends.child_by_field_name("value")) if extends is not None else None
    if value is None or value.type != "call_expression":
        return None
    function = callee(value)
    binding = file.binding(text(function)) if function is not None and function.type == "identifier" else None
    if binding is None or binding.module not in ZOD_DTO_MODULES or binding.imported != "createZodDto":
        return None
    arguments = arguments_of(value)
    return arguments[0] if arguments else None


def zod_pipe(node: Node | None) -> bool:
    """`ZodValidationPipe` or `new ZodValidationPipe()` with no schema of its own: the pipe that parses a bag with
    the schema of its `createZodDto` class."""
    node = unwrap(node)
    if node is not None and node.type == "new_expression":
        if arguments_of(node):
            return False
        node = callee(node)
    return node is not None and node.type == "identifier" and text(node) == ZOD_PIPE


def handler_decorators(param: Node) -> list[Node]:
    """The decorators that apply to a handler parameter: its own, its method's and its controller class's."""
    decorators = [child for child in param.children if child.type == "decorator"]
    method = param.parent.parent if param.parent is not None else None
    if method is not None and method.type == "method_definition":
        sibling = method.prev_named_sibling
        while sibling is not None and sibling.type in ("decorator", "comment"):
            if sibling.type == "decorator":
                decorators.append(sibling)
            sibling = sibling.prev_named_sibling
        klass = method.parent.parent if method.parent is not None else None
        if klass is not None:
            decorators.extend(child for child in klass.children if child.type == "decorator")
            if klass.parent is not None and klass.parent.type == "export_statement":
                decorators.extend(child for child in klass.parent.children if child.type == "decorator")
    return decorators


def zod_piped_handler(param: Node) -> bool:
    """A `ZodValidationPipe` given to the parameter (`@Body(ZodValidationPipe)`), or with `@UsePipes()` to its
    method or its controller class."""
    for decorator in handler_decorators(param):
        call = decorator.named_children[0] if decorator.named_children else None
        if call is None or call.type != "call_expression":
            continue
        name = text(callee(call))
        if (name == "UsePipes" or name in _DECORATOR_ORIGINS) and any(zod_pipe(a) for a in arguments_of(call)):
            return True
    return False


def declares_type_only(root: Node, name: str) -> bool:
    """Whether the module declares `name` as an interface or a type alias and not as a class: a type the
    compiler erases, so Nest's `ValidationPipe` sees a plain `Object` and validates nothing (an
    `@Query() query: ListQuery` typed so is as unchecked as an inline object type). A value of the same name
    (zod's `const Input = z.object(…)` beside `type Input = z.infer<typeof Input>`) is a schema: not type only."""
    type_only = False
    for statement in root.named_children:
        declaration = statement.child_by_field_name("declaration") if statement.type == "export_statement" else statement
        if declaration is not None and declaration.type in ("lexical_declaration", "variable_declaration"):
            if any(text(d.child_by_field_name("name")) == name for d in declaration.named_children if d.type == "variable_declarator"):
                return False
            continue
        declared = declaration.child_by_field_name("name") if declaration is not None else None
        if declared is None or text(declared) != name:
            continue
        if declaration.type in CLASS_TYPES:
            return False
        type_only = type_only or declaration.type in ("interface_declaration", "type_alias_declaration")
    return type_only


# --- classes Nest builds: modules, providers, lifecycles ------------------------------------------------------

NEST_COMMON = "@nestjs/common"
# Class decorators that make Nest build the class: once per module that lists it, unless a scope says otherwise.
BUILT_CLASS_DECORATORS = {
    NEST_COMMON: frozenset({"Injectable", "Controller"}),
    "@nestjs/graphql": frozenset({"Resolver"}),
    "@nestjs/websockets": frozenset({"WebSocketGateway"}),
}
REQUEST_SCOPE, TRANSIENT_SCOPE, DEFAULT_SCOPE = "request", "transient", "default"
# Methods Nest calls on providers when the app closes: they run on SIGTERM only after `app.enableShutdownHooks()`.
SHUTDOWN_HOOKS = frozenset({"onModuleDestroy", "beforeApplicationShutdown", "onApplicationShutdown"})
CLASS_TYPES = ("class_declaration", "class", "abstract_class_declaration")


def class_decorators(cls: Node) -> list[Node]:
    """The decorator expressions of a class, written before `class` or before `export class`."""
    decorators = [child for child in cls.children if child.type == "decorator"]
    parent = cls.parent
    if parent is not None and parent.type == "export_statement":
        decorators = [child for child in parent.children if child.type == "decorator"] + decorators
    return [d.named_children[0] for d in decorators if d.named_children]


def nest_decorator(cls: Node, file, names: dict[str, frozenset[str]]) -> tuple[str, Node] | None:
    """(name, expression) of the first decorator of `cls` that `names` lists (module → imported names)."""
    for expression in class_decorators(cls):
        function = expression.child_by_field_name("function") if expression.type == "call_expression" else expression
        if function is None or function.type != "identifier":
            continue
        binding = file.binding(text(function))
        if binding is not None and binding.imported in names.get(binding.module, ()):
            return binding.imported, expression
    return None


def built_class_scope(cls: Node, file) -> str | None:
    """How often Nest builds `cls`: DEFAULT_SCOPE (once per module that lists it), REQUEST_SCOPE or
    TRANSIENT_SCOPE (`@Injectable({ scope: Scope.REQUEST })`); None when Nest does not build it."""
    found = nest_decorator(cls, file, BUILT_CLASS_DECORATORS)
    if found is None:
        return None
    _, expression = found
    arguments = arguments_of(expression) if expression.type == "call_expression" else []
    options = unwrap(arguments[0]) if arguments else None
    scope = object_keys(options).get("scope") if options is not None and options.type == "object" else None
    scope_text = text(scope) if scope is not None else ""
    if scope_text.endswith("REQUEST"):
        return REQUEST_SCOPE
    if scope_text.endswith("TRANSIENT"):
        return TRANSIENT_SCOPE
    return DEFAULT_SCOPE


@dataclass(frozen=True)
class ProviderListing:
    """A class a `@Module({ providers })` makes Nest build: `PrismaService`, or `{ provide: PrismaService,
    useClass: … }` / `useFactory: …` (a `useValue` or `useExisting` provider builds nothing)."""

    name: str  # the class as the module's file names it
    node: Node  # the entry of `providers`
    module_class: str  # the module that lists it: `UsersModule`
    is_global: bool  # `@Global()` (or `global: true` of a dynamic module)
    exported: bool  # the module also exports it


def module_providers(file) -> list[ProviderListing]:
    """The classes each `@Module()` of the file lists in its `providers`."""
    listings = []
    for cls in descendants_of_types(file.root, CLASS_TYPES):
        options = module_options(cls, file)
        if options is None:
            continue
        keys = object_keys(options)
        is_global = nest_decorator(cls, file, {NEST_COMMON: frozenset({"Global"})}) is not None
        exported = {name for entry in _array_entries(keys.get("exports")) if (name := _provided_name(entry))}
        name_node = cls.child_by_field_name("name")
        module_class = text(name_node) if name_node is not None else "this module"
        for entry in _array_entries(keys.get("providers")):
            built = _built_class(entry)
            if built is not None:
                listings.append(ProviderListing(built, entry, module_class, is_global, built in exported))
    return listings


def module_options(cls: Node, file) -> Node | None:
    """The options object of the `@Module({ … })` decorating `cls` (`Module` of @nestjs/common), or None."""
    found = nest_decorator(cls, file, {NEST_COMMON: frozenset({"Module"})})
    if found is None or found[1].type != "call_expression":
        return None
    arguments = arguments_of(found[1])
    options = unwrap(arguments[0]) if arguments else None
    return options if options is not None and options.type == "object" else None


def _array_entries(node: Node | None) -> list[Node]:
    node = unwrap(node)
    if node is None or node.type != "array":
        return []
    return [unwrap(entry) for entry in node.named_children if entry.type != "comment"]


def _provided_name(entry: Node | None) -> str | None:
    """`PrismaService` for `PrismaService` and for `{ provide: PrismaService, … }`."""
    if entry is None:
        return None
    if entry.type == "identifier":
        return text(entry)
    if entry.type == "object":
        provide = unwrap(object_keys(entry).get("provide"))
        if provide is not None and provide.type == "identifier":
            return text(provide)
    return None


def _built_class(entry: Node | None) -> str | None:
    """The class Nest builds for a provider entry, or None when it builds none it can name."""
    if entry is None:
        return None
    if entry.type == "identifier":
        return text(entry)
    if entry.type != "object":
        return None
    keys = object_keys(entry)
    use_class = unwrap(keys.get("useClass"))
    if use_class is not None:
        return text(use_class) if use_class.type == "identifier" else None
    if "useFactory" in keys:
        return _provided_name(entry)
    return None


def provider_factory(node: Node) -> bool:
    """`node` runs in the `useFactory` of a provider object (`{ provide: PrismaService, useFactory: () => … }`):
    Nest calls it once per module that lists the provider."""
    current = node.parent
    while current is not None:
        if current.type == "pair" and key_text(current.child_by_field_name("key")) == "useFactory":
            holder = current.parent
            return holder is not None and holder.type == "object" and "provide" in object_keys(holder)
        current = current.parent
    return False


def shutdown_hook(cls: Node) -> Node | None:
    """The name of the shutdown hook a class defines (`onModuleDestroy`, `beforeApplicationShutdown`,
    `onApplicationShutdown`), which Nest calls on SIGTERM only after `app.enableShutdownHooks()`."""
    body = cls.child_by_field_name("body")
    for member in body.named_children if body is not None else ():
        name = member.child_by_field_name("name") if member.type == "method_definition" else None
        if name is not None and text(name) in SHUTDOWN_HOOKS:
            return name
    return None


def method_decorators(method: Node) -> list[tuple[str, Node]]:
    """(name, decorator call or identifier) of the decorators right before a class member."""
    found = []
    sibling = method.prev_named_sibling
    while sibling is not None and sibling.type in ("decorator", "comment"):
        if sibling.type == "decorator":
            found.append(named_decorator(sibling))
        sibling = sibling.prev_named_sibling
    found.extend(named_decorator(child) for child in method.children if child.type == "decorator")
    return [d for d in found if d is not None]


def named_decorator(decorator: Node) -> tuple[str, Node] | None:
    """(name, decorator call or identifier) of a decorator: `("UseGuards", UseGuards(AuthGuard))`."""
    expression = decorator.named_children[0] if decorator.named_children else None
    if expression is None:
        return None
    if expression.type == "call_expression":
        function = callee(expression)
        name = property_name(function) if function is not None and function.type == "member_expression" else text(function)
        return (name or "", expression)
    return (property_name(expression) or text(expression), expression)
