"""What each Prisma query of a file asks of the database, kept as plain data for the project phase, where the
schema says which keys are foreign keys and which are relations.

    prisma.post.findMany({ where: { author: { id } }, include: { comments: true }, orderBy: { createdAt: 'desc' } })
    → PrismaQuery(model="post", operation="findMany", where={"author": {"id": {}}},
                  reads={"comments": {}}, order_by={"createdAt": {}}, ...)

The arguments are kept as key trees: each object becomes a dict of its keys, each value the tree of what it
holds (`{}` for a plain value), arrays and the branches of a ternary merged. Objects built in a variable of
the file (`const where = {}; if (ownerId) where.ownerId = ownerId`), spread into the argument, or returned by a
function of the file are read too; what the file cannot show becomes the key `...`.

Recognised: `<client>.<model>.<operation>(…)` for every model operation (`prisma.user`, `ctx.db.user`,
`this.prisma.user`, `tx.user`), a delegate typed as one model (`repo: PrismaClient['product']`), the fluent
relation calls after a single-record query (`findUnique(…).posts()`), objects declared with a Prisma type
(`const where: Prisma.PostWhereInput = …`), and Pothos relation fields (`t.relation('posts')` in
`builder.prismaObject('User', …)`).
"""

from __future__ import annotations

import re
from typing import Iterator

from linter import lazy_re
from linter.context import FileContext
from linter.js.bindings import function_declared_as, returned_values
from linter.js.functions import FUNCTION_TYPES
from linter.js.expressions import arguments_of, callee, key_text, member_object, object_keys, property_name, unwrap
from linter.js.imports import string_value
from linter.lazy_dataclasses import dataclass
from linter.syntax import Node, descendants_of_types, node_at, node_fact, text

Tree = dict  # str -> Tree
UNKNOWN = "..."  # a part of an object the file does not show (a spread of a parameter, a computed key)

READ_OPERATIONS = frozenset(
    {"findMany", "findFirst", "findFirstOrThrow", "findUnique", "findUniqueOrThrow", "count", "aggregate", "groupBy"}
)
WRITE_OPERATIONS = frozenset(
    {"create", "createMany", "createManyAndReturn", "update", "updateMany", "updateManyAndReturn", "upsert",
     "delete", "deleteMany"}
)  # fmt: skip
OPERATIONS = READ_OPERATIONS | WRITE_OPERATIONS
CREATE_OPERATIONS = frozenset({"create", "createMany", "createManyAndReturn"})
# Keys whose value is itself a part of a query (a filter, a relation read, a nested write), not a field's value.
STRUCTURAL_KEYS = frozenset(
    {"where", "data", "include", "select", "orderBy", "_count", "AND", "OR", "NOT", "some", "every", "none", "is",
     "isNot", "deleteMany", "updateMany", "set", "disconnect", "delete", "update", "upsert"}
)  # fmt: skip
# Names other objects also have (a Map's `delete`, a store's `update`): a Prisma call only with Prisma's arguments.
COMMON_NAMES = frozenset({"create", "update", "delete", "upsert", "count", "aggregate", "groupBy", "findFirst"})
ARGUMENT_KEYS = frozenset({"where", "data", "select", "include", "orderBy", "take", "skip", "cursor", "distinct", "by"})
# Operations returning one record, after which a relation can be read fluently: `findUnique(…).posts()`.
SINGLE_RECORD = frozenset(
    {"findUnique", "findUniqueOrThrow", "findFirst", "findFirstOrThrow", "create", "update", "upsert", "delete"}
)
NOT_RELATIONS = frozenset({"then", "catch", "finally"})
POTHOS_FIELDS = frozenset({"relation", "relationCount", "relatedConnection"})
POTHOS_OBJECTS = frozenset({"prismaObject", "prismaNode", "prismaInterface", "prismaObjectField", "prismaObjectFields"})
# `Prisma.PostWhereInput`, `Prisma.PostFindManyArgs`: the model, and which argument the object is.
_PRISMA_TYPE = lazy_re.compile(
    r"\bPrisma\.([A-Z]\w*?)(WhereInput|WhereUniqueInput|FindManyArgs|FindFirstArgs|FindUniqueArgs|CountArgs|"
    r"DeleteManyArgs|UpdateManyArgs|Include|Select|OrderByWithRelationInput)\b"
)
_PRISMA_TYPE_BYTES = lazy_re.compile(_PRISMA_TYPE.pattern.encode())
_OPERATION_CALL = lazy_re.compile(
    rb"\.\s*(find(?:Many|First|Unique)(?:OrThrow)?|count|aggregate|groupBy|create(?:Many(?:AndReturn)?)?|"
    rb"update(?:Many(?:AndReturn)?)?|upsert|delete(?:Many)?|relation(?:Count)?|relatedConnection)\s*(?:<|\()"
)
_TYPE_ROLES = {"WhereInput": "where", "WhereUniqueInput": "where", "Include": "reads", "Select": "reads",
               "OrderByWithRelationInput": "order_by"}  # fmt: skip
# `repo: PrismaClient['product']`, `users: Prisma.UserDelegate`: a name standing for one model's delegate. The
# type is found first, then the name written before it on the same line.
_DELEGATE_TYPE = lazy_re.compile(rb"Client\s*\[\s*['\"]([A-Za-z_]\w*)['\"]\s*\]|\bPrisma\.([A-Z]\w*)Delegate\b")
_TYPED_NAME = lazy_re.compile(rb"([A-Za-z_$][\w$]*)\??\s*:\s*(?:Readonly<\s*)?[\w.]*$")
_OPAQUE_VALUES = frozenset(
    {"identifier", "shorthand_property_identifier", "member_expression", "subscript_expression", "call_expression",
     "await_expression"}
)  # fmt: skip
_LEAF_VALUES = frozenset({"string", "number", "true", "false", "null", "template_string", "regex"})
# Initializers that hold a plain value: a variable set to one is not followed any further.
_PLAIN_VALUES = frozenset(
    {"member_expression", "subscript_expression", "string", "template_string", "number", "true", "false", "null",
     "undefined", "new_expression", "arrow_function", "function_expression", "regex", "unary_expression"}
)  # fmt: skip
MAX_DEPTH = 10
_END = 1 << 62  # "to the end of the scope"
MAX_KEYS = 2000  # per query: a giant literal (a generated `select`) is cut, not walked whole


@dataclass(frozen=True)
class PrismaQuery:
    """One query as written. `model` is the client accessor (`post` in `prisma.post`) or, when `typed`, the
    model's name from a type or a Pothos object (`Post`)."""

    model: str
    typed: bool
    operation: str  # a model operation, "fluent" (`findUnique(…).posts()`), "relation" (a GraphQL field), "object"
    where: Tree | None  # None: no filter at all
    order_by: Tree
    reads: Tree  # include / select / _count and fluent relation reads
    data: Tree

    def to_data(self) -> dict:
        return {
            "model": self.model,
            "typed": self.typed,
            "operation": self.operation,
            "where": self.where,
            "order_by": self.order_by,
            "reads": self.reads,
            "data": self.data,
        }

    @classmethod
    def from_data(cls, data: dict) -> "PrismaQuery":
        where = data["where"]
        trees = [data["order_by"], data["reads"], data["data"]] + ([where] if where is not None else [])
        if not isinstance(data["model"], str) or not isinstance(data["operation"], str) or not all(
            isinstance(tree, dict) for tree in trees
        ):
            raise TypeError("not a Prisma query record")
        return cls(data["model"], bool(data["typed"]), data["operation"], where, data["order_by"], data["reads"],
                   data["data"])  # fmt: skip


def query_sites(file: FileContext) -> Iterator[tuple[str, Node]]:
    """("call", the call) for each call of a model operation or Pothos relation field, ("typed", the declarator)
    for each variable declared with a Prisma type; found by name in the bytes, then in the tree."""
    root = file.root
    for hit in _OPERATION_CALL.finditer(file.source):
        name = node_at(root, hit.start(1), hit.end(1))
        member = name.parent if name is not None and name.type == "property_identifier" else None
        call = member.parent if member is not None and member.type == "member_expression" else None
        if call is not None and call.type == "call_expression" and call.child_by_field_name("function") == member:
            yield "call", call
    if file.language == "javascript" or b"Prisma." not in file.source:  # the regular expression's `\b` scans slowly
        return
    for hit in _PRISMA_TYPE_BYTES.finditer(file.source):
        node = node_at(root, hit.start(), hit.end())
        while node is not None and node.type not in ("type_annotation", "program"):
            node = node.parent
        declarator = node.parent if node is not None and node.type == "type_annotation" else None
        if declarator is not None and declarator.type == "variable_declarator":
            yield "typed", declarator


def prisma_queries(call: Node, file: FileContext) -> list[tuple[Node, PrismaQuery]]:
    """The queries a matched call makes: the call itself and any fluent relation read after it; each with the
    node to point at."""
    function = callee(call)
    if function is None or function.type != "member_expression":
        return []
    method = property_name(function)
    if method in POTHOS_FIELDS:
        found = _pothos_field(call, method)
        return [found] if found is not None else []
    if method not in OPERATIONS:
        return []
    model = _model_accessor(member_object(function), file)
    if model is None:
        return []
    arguments = arguments_of(call)
    budget = _Budget()
    options = _options_tree(arguments[0], budget, method) if arguments else {}
    if arguments and not options and unwrap(arguments[0]).type != "object":
        options = {UNKNOWN: {}}  # arguments built where this file cannot see
    if method in COMMON_NAMES and not ARGUMENT_KEYS.intersection(options):
        return []
    anchor = function.child_by_field_name("property") or call
    query = _query_of(model, False, method, options)
    found = [(anchor, query)]
    if method in SINGLE_RECORD:
        fluent = _fluent_reads(call, budget)
        if fluent:
            found.append((anchor, PrismaQuery(model, False, "fluent", None, {}, fluent, {})))
    return found


def says_nothing(query: PrismaQuery) -> bool:
    """A read by primary key (or by arguments the file does not show) with no relation read or sort: no
    foreign key can be involved, so the project phase need not see it."""
    if query.operation not in READ_OPERATIONS or query.reads or query.order_by:
        return False
    return query.where is None or set(query.where) <= {"id", UNKNOWN}


def typed_object(declarator: Node, file: FileContext) -> PrismaQuery | None:
    """`const where: Prisma.PostWhereInput = {…}` (then `where.x = …`): a part of a query built before the
    query, maybe in another module than the call that runs it."""
    annotation = declarator.child_by_field_name("type")
    match = _PRISMA_TYPE.search(text(annotation)) if annotation is not None else None
    if match is None:
        return None
    name = declarator.child_by_field_name("name")
    if name is None or name.type != "identifier":
        return None
    scope = declarator.parent
    while scope is not None and scope.type not in FUNCTION_TYPES and scope.type != "program":
        scope = scope.parent
    if scope is None:
        return None
    tree = _declared_tree(declarator, scope, text(name), _END, _Budget(), 0)
    role = _TYPE_ROLES.get(match.group(2))
    if role is None:
        return _query_of(match.group(1), True, "object", tree)
    empty: Tree = {}
    return PrismaQuery(
        match.group(1), True, "object", tree if role == "where" else None,
        tree if role == "order_by" else empty, tree if role == "reads" else empty, empty,
    )  # fmt: skip


def _query_of(model: str, typed: bool, operation: str, options: Tree) -> PrismaQuery:
    reads: Tree = {}
    _merge(reads, options.get("include", {}))
    _merge(reads, options.get("select", {}))
    where = options.get("where")
    if operation in ("findUnique", "findUniqueOrThrow", "update", "upsert", "delete") and where is None:
        where = {UNKNOWN: {}}
    if UNKNOWN in options and where is None:
        where = {UNKNOWN: {}}
    return PrismaQuery(model, typed, operation, where, options.get("orderBy", {}), reads, options.get("data", {}))


def _model_accessor(receiver: Node | None, file: FileContext) -> str | None:
    """`user` for `prisma.user` / `ctx.db.user` / `this.prisma['user']`; the model a typed delegate stands for."""
    receiver = unwrap(receiver)
    if receiver is None:
        return None
    if receiver.type in ("member_expression", "subscript_expression"):
        name = property_name(receiver)
    elif receiver.type == "identifier":
        name = text(receiver)
        delegate = _delegates(file).get(name)
        return delegate
    else:
        return None
    if not name or name.startswith("$") or not name.isidentifier():
        return None
    return _delegates(file).get(name, name)


def _delegates(file: FileContext) -> dict[str, str]:
    def collect() -> dict[str, str]:
        found: dict[str, str] = {}
        source = file.source
        if b"Client" not in source and b"Delegate" not in source:
            return found
        for match in _DELEGATE_TYPE.finditer(source):
            line_start = source.rfind(b"\n", 0, match.start()) + 1
            named = _TYPED_NAME.search(source, line_start, match.start())
            if named is None:
                continue
            model = (match.group(1) or match.group(2)).decode()
            found[named.group(1).decode()] = model[:1].lower() + model[1:]
        return found

    return file.memo("prisma.delegates", collect)


def _fluent_reads(call: Node, budget: "_Budget") -> Tree:
    """`findUnique(…).posts({ where })` → {"posts": {"where": …}}; `.author().posts()` nests."""
    reads: Tree = {}
    level = reads
    current = call
    while True:
        member = current.parent
        if member is None or member.type != "member_expression" or member.child_by_field_name("object") != current:
            return reads
        outer = member.parent
        name = property_name(member)
        if outer is None or outer.type != "call_expression" or outer.child_by_field_name("function") != member:
            return reads
        if not name or name in NOT_RELATIONS or name.startswith("$"):
            return reads
        arguments = arguments_of(outer)
        inner = _tree(arguments[0], budget, 1) if arguments else {}
        level[name] = inner
        level = inner.setdefault("include", {}) if isinstance(inner, dict) else {}
        current = outer


def _pothos_field(call: Node, method: str) -> tuple[Node, PrismaQuery] | None:
    """`t.relation('posts')` inside `builder.prismaObject('User', { fields: (t) => ({ … }) })`."""
    arguments = arguments_of(call)
    relation = string_value(arguments[0]) if arguments else None
    if not relation:
        return None
    node = call.parent
    while node is not None:
        if node.type == "call_expression" and property_name(callee(node)) in POTHOS_OBJECTS:
            owner = arguments_of(node)
            model = string_value(owner[0]) if owner else None
            if not model:
                return None
            reads = {"_count": {"select": {relation: {}}}} if method == "relationCount" else {relation: {}}
            return call, PrismaQuery(model, True, "relation", None, {}, reads, {})
        node = node.parent
    return None


# --- key trees ------------------------------------------------------------------------------------------------


class _Budget:
    def __init__(self) -> None:
        self.keys = 0
        self.seen: set[tuple[int, int]] = set()


def _merge(into: Tree, tree: Tree) -> Tree:
    for key, sub in tree.items():
        if key in into:
            _merge(into[key], sub)
        else:
            into[key] = sub
    return into


def _tree(node: Node | None, budget: _Budget, depth: int) -> Tree:
    """The keys `node` holds, as far as this file shows them."""
    node = unwrap(node)
    if node is None or depth > MAX_DEPTH or budget.keys > MAX_KEYS:
        return {}
    kind = node.type
    if kind == "object":
        return _object_tree(node, budget, depth)
    if kind == "array":
        tree: Tree = {}
        for item in node.named_children:
            if item.type == "spread_element":
                item = item.named_children[0] if item.named_children else None
            _merge(tree, _tree(item, budget, depth))
        return tree
    if kind == "ternary_expression":
        tree = _tree(node.child_by_field_name("consequence"), budget, depth)
        return _merge(tree, _tree(node.child_by_field_name("alternative"), budget, depth))
    if kind == "binary_expression" and text(node.child_by_field_name("operator")) in ("&&", "||", "??"):
        tree = _tree(node.child_by_field_name("right"), budget, depth)
        if text(node.child_by_field_name("operator")) != "&&":
            _merge(tree, _tree(node.child_by_field_name("left"), budget, depth))
        return tree
    if kind in ("identifier", "shorthand_property_identifier"):
        return _variable_tree(node, budget, depth)
    if kind == "call_expression":
        return _returned_tree(node, budget, depth)
    if kind == "await_expression" and node.named_children:
        return _tree(node.named_children[0], budget, depth)
    return {}


def _options_tree(node: Node, budget: _Budget, operation: str) -> Tree:
    """The tree of a query's arguments. Of what a write sends, only the keys matter (a changed referenced key,
    a nested write on a relation: `data: { posts: { deleteMany: … } }`), two levels deep; the rows a `create`
    writes say nothing about lookups."""
    node = unwrap(node)
    if node is None or node.type != "object" or operation in READ_OPERATIONS:
        return _tree(node, budget, 0)
    skip = ("data",) if operation in CREATE_OPERATIONS else ()
    tree = _object_tree(node, budget, 0, skip=skip + ("data",))
    if not skip:
        data = object_keys(node).get("data")
        if data is not None:
            tree["data"] = _data_keys(data, budget)
    return tree


def _data_keys(node: Node, budget: _Budget) -> Tree:
    """`{ email, posts: { deleteMany: {} } }` → {"email": {}, "posts": {"deleteMany": {}}}."""
    value = unwrap(node)
    if value is None:
        return {}
    if value.type != "object":
        return _tree(value, budget, MAX_DEPTH - 1)  # `data: input`, `data: { ...input }`: its keys, not deeper
    tree: Tree = {}
    for name, inner in object_keys(value).items():
        inner = unwrap(inner)
        tree[name] = {key: {} for key in object_keys(inner)} if inner is not None and inner.type == "object" else {}
    if any(child.type == "spread_element" for child in value.named_children):
        tree[UNKNOWN] = {}
    return tree


def _object_tree(node: Node, budget: _Budget, depth: int, skip: tuple[str, ...] = ()) -> Tree:
    tree: Tree = {}
    budget.keys += node.named_child_count
    for child in node.named_children:
        kind = child.type
        if kind == "pair":
            key = child.child_by_field_name("key")
            if key is None or key.type == "computed_property_name":
                tree[UNKNOWN] = {}
                continue
            value = unwrap(child.child_by_field_name("value"))
            if value is None or value.type == "undefined":
                continue
            name = key_text(key)
            if name and name not in skip:
                _put(tree, name, _value_tree(name, value, budget, depth + 1))
        elif kind == "shorthand_property_identifier":
            name = text(child)
            if name not in skip:
                _put(tree, name, _value_tree(name, child, budget, depth + 1))
        elif kind == "spread_element":
            inner = child.named_children[0] if child.named_children else None
            _merge(tree, _tree(inner, budget, depth) or {UNKNOWN: {}})
    return tree


def _put(tree: Tree, key: str, sub: Tree) -> None:
    if key in tree:
        _merge(tree[key], sub)
    else:
        tree[key] = sub


def _value_tree(key: str, value: Node, budget: _Budget, depth: int) -> Tree:
    """The tree of a property's value; `{"...": {}}` for a name or call whose object the file does not show
    (`where: filters`, `{ userId }` from a parameter), as opposed to a literal (`{}`, `'active'`, `null`).
    Names and calls are followed only under the keys whose value has a structure the project phase reads
    (`where`, `include`, `AND`, `some`, …): under a field, `userId: id` is a value whatever `id` holds."""
    kind = value.type
    if kind in _LEAF_VALUES:
        return {}
    opaque = kind in _OPAQUE_VALUES
    if opaque and key not in STRUCTURAL_KEYS:
        return {UNKNOWN: {}}
    tree = _tree(value, budget, depth)
    return {UNKNOWN: {}} if opaque and not tree else tree


def _variable_tree(use: Node, budget: _Budget, depth: int) -> Tree:
    """The object a local variable holds at `use`."""
    found = _declaration(use)
    if found is None:
        return {}
    declarator, scope = found
    return _declared_tree(declarator, scope, text(use), use.start_byte, budget, depth)


def _declared_tree(declarator: Node, scope: Node, name: str, until: int, budget: _Budget, depth: int) -> Tree:
    """The keys a declared variable holds before `until`: its initializer, its reassignments and the properties
    set on it (`where.ownerId = ownerId`, `Object.assign(where, {…})`)."""
    initial = unwrap(declarator.child_by_field_name("value"))
    if initial is not None and initial.type in _PLAIN_VALUES:
        return {}  # `const userId = session.user.id`: a value, not an object to look into
    key = (declarator.start_byte, declarator.end_byte)
    if key in budget.seen:
        return {}
    budget.seen.add(key)
    tree: Tree = _tree(initial, budget, depth) if initial is not None else {}
    for assigned_key, value in _writes(scope, name, declarator.end_byte, until):
        budget.keys += 1
        if assigned_key == "=":
            _merge(tree, _tree(value, budget, depth))  # `where = { ...where, userId }`
        elif assigned_key is None:
            _merge(tree, _tree(value, budget, depth) or {UNKNOWN: {}})
        else:
            _put(tree, assigned_key, _tree(value, budget, depth + 1))
    budget.seen.discard(key)
    return tree


def _declaration(use: Node) -> tuple[Node, Node] | None:
    """(the `const`/`let`/`var` declarator, its function or program) of the name `use`: the last one before
    the use in the innermost function that declares it; None for a parameter, an import or a global. Blocks
    are not told apart: a name declared twice in one function is rare in the code that builds a query."""
    name = text(use)
    scope = use.parent
    while scope is not None:
        if scope.type in FUNCTION_TYPES:
            parameters = scope.child_by_field_name("parameters") or scope.child_by_field_name("parameter")
            listed = text(parameters)
            if name in listed and re.search(rf"(?<![\w$]){re.escape(name)}(?![\w$])", listed):
                return None
        if scope.type in FUNCTION_TYPES or scope.type == "program":
            declared = [d for d in node_fact(scope, "prisma.declarators", _declarators).get(name, ())
                        if d.start_byte < use.start_byte]  # fmt: skip
            if declared:
                return declared[-1], scope
        scope = scope.parent
    return None


def _declarators(scope: Node) -> dict[str, list[Node]]:
    """The declarators of plain names (`const where = …`) whose innermost function (or program) is `scope`."""
    table: dict[str, list[Node]] = {}
    for declarator in descendants_of_types(scope, ("variable_declarator",)):
        name = declarator.child_by_field_name("name")
        if name is None or name.type != "identifier":
            continue
        owner = declarator.parent
        while owner is not None and owner.type not in FUNCTION_TYPES and owner.type != "program":
            owner = owner.parent
        if owner == scope:
            table.setdefault(text(name), []).append(declarator)
    return table


def _writes(scope: Node, name: str, after: int, before: int) -> list[tuple[str | None, Node]]:
    """What `scope` writes to the variable `name` between two offsets, nested functions included:
    `name = value` → ("=", value); `name.key = value` → (key, value); `Object.assign(name, value)` →
    (None, value)."""
    writes = node_fact(scope, "prisma.writes", _writes_by_name).get(name, ())
    return [(key, value) for start, key, value in writes if after <= start < before]


def _writes_by_name(scope: Node) -> dict[str, list[tuple[int, str | None, Node]]]:
    """Every write of `scope` to a name or a name's property, by the name, found in one pass."""
    found: dict[str, list[tuple[int, str | None, Node]]] = {}
    for node in descendants_of_types(scope, ("assignment_expression", "call_expression")):
        if node.type == "assignment_expression":
            left = unwrap(node.child_by_field_name("left"))
            value = node.child_by_field_name("right")
            if left is None or value is None:
                continue
            if left.type == "identifier":
                found.setdefault(text(left), []).append((node.start_byte, "=", value))
            elif left.type in ("member_expression", "subscript_expression"):
                owner = member_object(left)
                if owner is not None and owner.type == "identifier":
                    found.setdefault(text(owner), []).append((node.start_byte, property_name(left) or UNKNOWN, value))
        elif property_name(callee(node)) == "assign" and text(callee(node)) == "Object.assign":
            arguments = arguments_of(node)
            target = unwrap(arguments[0]) if arguments else None
            if target is not None and target.type == "identifier":
                for argument in arguments[1:]:
                    found.setdefault(text(target), []).append((node.start_byte, None, argument))
    return found


def _returned_tree(call: Node, budget: _Budget, depth: int) -> Tree:
    """What a function of this file returns: `where: buildWhere(input)`."""
    function = callee(call)
    if function is None or function.type != "identifier":
        return {}
    declared = function_declared_as(function)
    if declared is None:
        return {}
    key = (declared.start_byte, declared.end_byte)
    if key in budget.seen:
        return {}
    budget.seen.add(key)
    tree: Tree = {}
    for value in returned_values(declared):
        _merge(tree, _tree(value, budget, depth + 1))
    budget.seen.discard(key)
    return tree


def _program(node: Node) -> Node:
    while node.parent is not None:
        node = node.parent
    return node

