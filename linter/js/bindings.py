"""Where a local name gets its value: the declaration a use refers to and the assignments that reach it.

Syntactic and per function: `declaration_of(use)` finds the parameter or `const`/`let`/`var` that a use of an
identifier refers to (the innermost function or block that declares it); `definitions_before(binding, use)`
lists the values the name may hold at the use, in source order: the initializer, later assignments, with a
plain assignment in a block around the use replacing what came before it (`limit = Math.min(limit, 100)`).
Destructuring is kept as a property path (`const { query: { limit = 50 } } = req` gives `limit` the path
`("query", "limit")` from `req`, with the default `50`; `const { id, ...rest } = req.body` gives `rest` the path
of the object it is the rest of, its element being the `rest_pattern`). Loops are read once, in source order.
`property_writes(binding, prop, use)` lists what a local object's property was set to before a use
(`opts.secretOrKey = …`); `member_values(klass, name)` what a class's property may hold (`this.secret`,
`Config.secret`): a field's initializer, the constructor's `this.secret = …`, a getter's returns.
"""

from __future__ import annotations

from linter import lazy_re
from linter.js.expressions import unwrap
from linter.js.functions import FUNCTION_TYPES, function_body
from linter.lazy_dataclasses import dataclass
from linter.syntax import Node, node_fact, text

SCOPE_BLOCKS = frozenset({"statement_block", "program", "switch_body", "class_body"})
# Declarations whose value cannot be followed: loop variables, caught errors, functions, classes, imports.
_OPAQUE_PARENTS = frozenset({"for_in_statement", "catch_clause", "import_specifier", "import_clause", "namespace_import"})
# Expressions and types declare no name outside the functions and classes they hold (scopes of their own): the
# walk for declarations skips them, unless the parser met an error inside.
_DECLARES_NOTHING = frozenset({
    "expression_statement", "return_statement", "throw_statement", "arguments", "object", "array", "string",
    "template_string", "jsx_element", "jsx_self_closing_element", "decorator", "type_annotation",
    "type_alias_declaration", "interface_declaration", "enum_declaration",
})  # fmt: skip


_SCOPES = FUNCTION_TYPES | SCOPE_BLOCKS
_NAMING_PARENTS = _OPAQUE_PARENTS | {"class_declaration", "import_statement"}
_IMPORT_PARTS = frozenset({"import_statement", "import_clause", "import_specifier", "namespace_import"})
# Nodes the walk has nothing to look for in (no children it could visit).
_LEAVES = frozenset({"identifier", "comment", "property_identifier", "type_identifier", "statement_identifier"})


@dataclass(frozen=True)
class Binding:
    """A declared local name. `kind` is "param" (of `function`), "variable" or "opaque" (not followable)."""

    name: str
    kind: str
    declarator: Node | None = None  # the `variable_declarator` (variables) or the parameter node (params)
    function: Node | None = None  # the function declaring it; None at module level
    index: int = -1  # position of the parameter
    path: tuple[str, ...] = ()  # properties destructured on the way to the name
    default: Node | None = None  # a destructuring or parameter default
    pattern: Node | None = None  # the identifier or pattern element that binds the name


@dataclass(frozen=True)
class Definition:
    """One value a name may hold: `value` (then `path` destructured from it), set at `anchor`."""

    value: Node
    anchor: Node
    path: tuple[str, ...] = ()
    default: Node | None = None


def declaration_of(use: Node) -> Binding | None:
    """The declaration the identifier `use` refers to, or None (a global, an import or something unknown)."""
    name = text(use)
    scope = use.parent
    while scope is not None:
        if scope.type in FUNCTION_TYPES:
            found = _parameter(scope, name)
            if found is not None:
                return found
        if scope.type in SCOPE_BLOCKS or scope.type in FUNCTION_TYPES:
            found = _declared_in(scope, name)
            if found is not None:
                return found
        scope = scope.parent
    return None


def initial_value(name: Node) -> Node | None:
    """What the plain variable `name` (an identifier) is declared with, an `await` taken off: `x` of
    `const n = x` and of `const n = await x`; None for a parameter, a destructured name or no value."""
    binding = declaration_of(name)
    if binding is None or binding.kind != "variable" or binding.declarator is None or binding.path:
        return None
    value = unwrap(binding.declarator.child_by_field_name("value"))
    if value is not None and value.type == "await_expression" and value.named_children:
        value = unwrap(value.named_children[0])
    return value


def _parameter(fn: Node, name: str) -> Binding | None:
    params = fn.child_by_field_name("parameters") or fn.child_by_field_name("parameter")
    if params is None:
        return None
    if params.type == "identifier":
        return Binding(name, "param", params, fn, 0, pattern=params) if text(params) == name else None
    index = 0
    for param in params.named_children:
        if param.type == "comment":
            continue
        pattern, default = param, None
        if param.type in ("required_parameter", "optional_parameter"):
            pattern = param.child_by_field_name("pattern") or param
            default = param.child_by_field_name("value")
        if pattern.type == "assignment_pattern":
            pattern, default = pattern.child_by_field_name("left"), pattern.child_by_field_name("right")
        found = _in_pattern(pattern, name, ())
        if found is not None:
            element, path, inner_default = found
            return Binding(name, "param", param, fn, index, path, inner_default or (default if not path else None), element)
        index += 1
    return None


def _declared_in(scope: Node, name: str) -> Binding | None:
    """A `const`/`let`/`var` of `name` directly in `scope` (not in a nested function or block)."""
    return node_fact(scope, "declared-names", _declarations)(name)


def _declarations(scope: Node):
    """Every name `scope` declares, found in one walk: a lookup by name for `_declared_in`."""
    table: dict[str, Binding] = {}
    # The walk enters no function: every variable it finds belongs to the function `scope` is or is in.
    function: list[Node | None] = []
    stack = list(scope.named_children)
    while stack:
        node = stack.pop()
        kind = node.type
        if kind in _LEAVES:
            continue
        if kind in _SCOPES:
            if kind in ("function_declaration", "generator_function_declaration"):
                name = text(node.child_by_field_name("name"))
                if name:
                    table.setdefault(name, Binding(name, "opaque", node))
            continue
        if (kind in _DECLARES_NOTHING or kind.endswith("_expression")) and not node.has_error:
            continue
        if kind == "variable_declarator":
            pattern = node.child_by_field_name("name")
            for name, element, path, default in _pattern_bindings(pattern, ()) if pattern is not None else ():
                if name in table:
                    continue
                declaration = node.parent
                holder = declaration.parent if declaration is not None else None
                if holder is not None and holder.type in _OPAQUE_PARENTS:
                    table[name] = Binding(name, "opaque", node)
                else:
                    if not function:
                        function.append(scope if scope.type in FUNCTION_TYPES else _function_of(scope))
                    table[name] = Binding(name, "variable", node, function[0], -1, path, default, element)
            continue
        if kind in _IMPORT_PARTS:  # `_binding_names` of these are their identifiers: one look at the children
            for child in node.named_children:
                if child.type != "identifier":
                    stack.append(child)
                elif (name := text(child)) not in table:
                    table[name] = Binding(name, "opaque", node)
            continue
        if kind in _NAMING_PARENTS:
            for found in _binding_names(node):
                if found.type == "identifier" and (name := text(found)) not in table:
                    table[name] = Binding(name, "opaque", node)
        stack.extend(node.named_children)
    return table.get


def _pattern_bindings(pattern: Node, path: tuple[str, ...]):
    """(name, element, path, default) of every name a binding pattern binds, as `_in_pattern` finds them."""
    if pattern.type == "identifier":
        yield text(pattern), pattern, path, None
        return
    if pattern.type != "object_pattern":
        return
    for part in pattern.named_children:
        if part.type == "shorthand_property_identifier_pattern":
            yield text(part), part, path + (text(part),), None
        elif part.type == "object_assignment_pattern":
            left = part.child_by_field_name("left")
            if left is not None:
                yield text(left), left, path + (text(left),), part.child_by_field_name("right")
        elif part.type == "pair_pattern":
            key = _key_text(part.child_by_field_name("key"))
            value = part.child_by_field_name("value")
            if key is None or value is None:
                continue
            default = None
            if value.type == "assignment_pattern":
                value, default = value.child_by_field_name("left"), value.child_by_field_name("right")
            for name, element, inner_path, inner_default in _pattern_bindings(value, path + (key,)):
                yield name, element, inner_path, inner_default or default
        elif part.type == "rest_pattern":
            rest = _rest_name(part)
            if rest is not None:
                yield text(rest), part, path, None


def _binding_names(node: Node) -> list[Node]:
    if node.type == "for_in_statement":
        left = node.child_by_field_name("left")
        return [n for n in _pattern_identifiers(left)] if left is not None else []
    if node.type == "catch_clause":
        param = node.child_by_field_name("parameter")
        return list(_pattern_identifiers(param)) if param is not None else []
    if node.type == "class_declaration":
        name = node.child_by_field_name("name")
        return [name] if name is not None else []
    return [n for n in node.named_children if n.type == "identifier"]


def _pattern_identifiers(pattern: Node):
    stack = [pattern]
    while stack:
        node = stack.pop()
        if node.type in ("identifier", "shorthand_property_identifier_pattern"):
            yield node
        stack.extend(node.named_children)


def _in_pattern(pattern: Node, name: str, path: tuple[str, ...]) -> tuple[Node, tuple[str, ...], Node | None] | None:
    """(the element binding `name`, the property path to it, its default) inside a binding pattern."""
    if pattern.type == "identifier":
        return (pattern, path, None) if text(pattern) == name else None
    if pattern.type == "object_pattern":
        for part in pattern.named_children:
            if part.type == "shorthand_property_identifier_pattern" and text(part) == name:
                return part, path + (name,), None
            if part.type == "object_assignment_pattern":
                left = part.child_by_field_name("left")
                if left is not None and text(left) == name:
                    return left, path + (name,), part.child_by_field_name("right")
            if part.type == "pair_pattern":
                key = _key_text(part.child_by_field_name("key"))
                value = part.child_by_field_name("value")
                if key is None or value is None:
                    continue
                default = None
                if value.type == "assignment_pattern":
                    value, default = value.child_by_field_name("left"), value.child_by_field_name("right")
                found = _in_pattern(value, name, path + (key,))
                if found is not None:
                    element, inner_path, inner_default = found
                    return element, inner_path, inner_default or default
            if part.type == "rest_pattern" and text(_rest_name(part)) == name:
                return part, path, None
    return None


def _rest_name(rest: Node) -> Node | None:
    """The name `...rest` binds in an object pattern: the object's other properties."""
    inner = rest.named_children[0] if rest.named_children else None
    return inner if inner is not None and inner.type == "identifier" else None


def _key_text(key: Node | None) -> str | None:
    if key is None:
        return None
    if key.type == "string":
        return "".join(text(c) for c in key.named_children)
    if key.type in ("property_identifier", "identifier"):
        return text(key)
    return None


def _function_of(node: Node) -> Node | None:
    current = node.parent
    while current is not None and current.type not in FUNCTION_TYPES:
        current = current.parent
    return current


def definitions_before(binding: Binding, use: Node) -> list[Definition]:
    """The values `binding` may hold at `use`: its initializer and the assignments before `use`.

    A plain assignment in a block that also holds `use` replaces the definitions before it; one inside an `if`
    (or any block not around `use`) adds to them."""
    if binding.kind != "variable" or binding.declarator is None:
        return []
    definitions: list[Definition] = []
    value = binding.declarator.child_by_field_name("value")
    if value is not None:
        definitions.append(Definition(value, binding.pattern or binding.declarator, binding.path, binding.default))
    scope = binding.function or _program(binding.declarator)
    for node in _assignments(scope, binding.name, binding.declarator.end_byte, use.start_byte):
        right = node.child_by_field_name("right")
        if right is None:
            continue
        if node.type == "assignment_expression":
            if _encloses_use(node, use):
                definitions = []
            definitions.append(Definition(right, node))
        elif text(node.child_by_field_name("operator")) in ("||=", "??=", "+="):
            # `+=` appends: the name holds what it held and what is added (`sql += ` AND …``).
            definitions.append(Definition(right, node))
    return definitions


def _program(node: Node) -> Node:
    while node.parent is not None:
        node = node.parent
    return node


def _assignments(scope: Node, name: str, after: int, before: int) -> list[Node]:
    """`name = …` and `name op= …` in `scope` between two byte offsets, outside nested functions."""
    if not _may_assign(scope, name, after, before):
        return []
    found = []
    stack = list(scope.named_children)
    while stack:
        node = stack.pop()
        if node.end_byte <= after or node.start_byte >= before:
            continue
        if node.type in FUNCTION_TYPES:
            continue
        if node.type in ("assignment_expression", "augmented_assignment_expression"):
            left = node.child_by_field_name("left")
            # `limit = parseInt(limit)` is a definition for the uses after it; the `limit` inside reads the one before.
            if left is not None and left.type == "identifier" and text(left) == name and node.start_byte >= after and node.end_byte <= before:
                found.append(node)
        stack.extend(node.named_children)
    return sorted(found, key=lambda n: n.start_byte)


def _may_assign(scope: Node, name: str, after: int, before: int) -> bool:
    """Whether the text of `scope` between two byte offsets may assign `name`: the name followed by an
    assignment operator, or by a comment (which may hide one). A test on the bytes before the walk."""
    start, end = max(after, scope.start_byte), min(before, scope.end_byte)
    if start >= end:
        return False
    text_between = scope.text[start - scope.start_byte : end - scope.start_byte]
    return _assigns(text_between, name.encode())


# What follows a name that may be assigned: an assignment operator, or a comment (`/`), after any spaces.
_ASSIGNMENT_AFTER = lazy_re.compile(rb"\s*(?:/|(?:[-+*%&|^]|\*\*|<<|>>>?|&&|\|\||\?\?)?=(?![=>]))")
_NAME_BYTES = frozenset(b"$_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _assigns(between: bytes, name: bytes) -> bool:
    """Whether `name` occurs in `between` as a whole name followed by `_ASSIGNMENT_AFTER`: found with `find`
    and one pattern for every name, not a pattern per name (compiling one costs far more than the search)."""
    at = between.find(name)
    while at != -1:
        if (at == 0 or between[at - 1] not in _NAME_BYTES) and _ASSIGNMENT_AFTER.match(between, at + len(name)):
            return True
        at = between.find(name, at + 1)
    return False


def property_writes(binding: Binding, prop: str, use: Node) -> list[Node]:
    """The values `name.prop = value` gives the property of the object a variable holds, in its scope before
    `use` (outside nested functions), latest first."""
    if binding.kind != "variable" or binding.declarator is None:
        return []
    scope = binding.function or _program(binding.declarator)
    found = []
    stack = list(scope.named_children)
    while stack:
        node = stack.pop()
        if node.end_byte <= binding.declarator.end_byte or node.start_byte >= use.start_byte or node.type in FUNCTION_TYPES:
            continue
        if node.type == "assignment_expression":
            left = node.child_by_field_name("left")
            if left is not None and left.type == "member_expression":
                target, name = left.child_by_field_name("object"), left.child_by_field_name("property")
                if target is not None and text(target) == binding.name and name is not None and text(name) == prop:
                    found.append(node.child_by_field_name("right"))
        stack.extend(node.named_children)
    return sorted((n for n in found if n is not None), key=lambda n: -n.start_byte)


def _encloses_use(assignment: Node, use: Node) -> bool:
    """The assignment runs whenever `use` is reached: its statement's block is a block around `use`."""
    statement = assignment
    while statement.parent is not None and statement.parent.type not in SCOPE_BLOCKS:
        if statement.parent.type in ("if_statement", "ternary_expression", "binary_expression", "switch_case",
                                     "catch_clause", "for_statement", "while_statement", "do_statement",
                                     "for_in_statement", "else_clause", "try_statement"):
            return False
        statement = statement.parent
    block = statement.parent
    return block is not None and block.start_byte <= use.start_byte < block.end_byte


def function_declared_as(name: Node) -> Node | None:
    """The function a name refers to when this file declares it: `function f() {}`, `const f = () => …`."""
    binding = declaration_of(name)
    if binding is None or binding.declarator is None:
        return None
    if binding.kind == "opaque" and binding.declarator.type in ("function_declaration", "generator_function_declaration"):
        return binding.declarator
    if binding.kind == "variable" and not binding.path:
        value = unwrap(binding.declarator.child_by_field_name("value"))
        if value is not None and value.type in FUNCTION_TYPES:
            return value
    return None


def returned_values(fn: Node) -> list[Node]:
    """The expressions `fn` returns (its body, for an arrow with an expression body), in source order."""
    body = function_body(fn)
    if body is None:
        return []
    if body.type != "statement_block":
        return [body]
    values = []
    stack = [body]
    while stack:
        node = stack.pop()
        if node.type == "return_statement" and node.named_children:
            values.append(node.named_children[0])
            continue
        if node.type not in FUNCTION_TYPES:
            stack.extend(node.named_children)
    return sorted(values, key=lambda n: n.start_byte)


_CLASS_TYPES = frozenset({"class_declaration", "abstract_class_declaration", "class"})
_FIELD_TYPES = frozenset({"field_definition", "public_field_definition"})


def class_around(this: Node) -> Node | None:
    """The class whose instance `this` is: the class of the method, field or arrow function around it (a
    `function` has a `this` of its own)."""
    current = this.parent
    while current is not None:
        if current.type == "class_body":
            return current.parent if current.parent is not None and current.parent.type in _CLASS_TYPES else None
        if current.type in FUNCTION_TYPES and current.type not in ("method_definition", "arrow_function"):
            return None
        current = current.parent
    return None


def class_named(use: Node) -> Node | None:
    """The class a name refers to when this file declares it (`class Config {}` for `Config`)."""
    binding = declaration_of(use)
    if binding is None or binding.kind != "opaque" or binding.declarator is None:
        return None
    return binding.declarator if binding.declarator.type in _CLASS_TYPES else None


def member_values(klass: Node, name: str) -> list[Node]:
    """The values property `name` of a class (or of its instances) may hold, in source order: a field's
    initializer, what its constructor assigns to `this.name`, and what a getter of that name returns."""
    body = klass.child_by_field_name("body")
    values: list[Node] = []
    for member in body.named_children if body is not None else ():
        if member.type in _FIELD_TYPES:
            key = member.child_by_field_name("name") or member.child_by_field_name("property")
            value = member.child_by_field_name("value")
            if key is not None and text(key) == name and value is not None:
                values.append(value)
        elif member.type == "method_definition":
            method = text(member.child_by_field_name("name"))
            if method == "constructor":
                values.extend(_this_assignments(member, name))
            elif method == name and any(child.type == "get" for child in member.children):
                values.extend(returned_values(member))
    return values


def _this_assignments(constructor: Node, name: str) -> list[Node]:
    """`this.name = value` in a constructor (outside functions it holds): the values."""
    found = []
    body = function_body(constructor)
    stack = list(body.named_children) if body is not None else []
    while stack:
        node = stack.pop()
        if node.type in FUNCTION_TYPES:
            continue
        if node.type == "assignment_expression":
            left = node.child_by_field_name("left")
            right = node.child_by_field_name("right")
            if left is not None and left.type == "member_expression" and right is not None:
                target = left.child_by_field_name("object")
                prop = left.child_by_field_name("property")
                if target is not None and target.type == "this" and prop is not None and text(prop) == name:
                    found.append(right)
        stack.extend(node.named_children)
    return sorted(found, key=lambda n: n.start_byte)
