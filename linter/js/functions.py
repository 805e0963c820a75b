"""The functions around a node: which function encloses it, its name and parameters, and whether the module
exports it. The structural questions `scopes` and `singletons` build on.
"""

from __future__ import annotations

from linter.syntax import Node, node_fact, text, walk

FUNCTION_TYPES = frozenset(
    {
        "function_declaration",
        "function_expression",
        "function",
        "arrow_function",
        "method_definition",
        "generator_function_declaration",
        "generator_function",
    }
)
CLASS_FIELD_TYPES = frozenset({"field_definition", "public_field_definition"})
EXPRESSION_WRAPPERS = frozenset(
    {
        "parenthesized_expression",
        "await_expression",
        "as_expression",
        "satisfies_expression",
        "non_null_expression",
        "type_assertion",
    }
)
TYPE_CONTEXTS = frozenset(
    {"type_query", "type_annotation", "type_alias_declaration", "type_arguments", "interface_declaration"}
)
# A value reference: `x`, and `{ x }` in an object literal (`module.exports = { prisma }`).
REFERENCE_TYPES = frozenset({"identifier", "shorthand_property_identifier"})


def enclosing_function(node: Node) -> Node | None:
    """The nearest function (or per-instance class field initializer) around `node`, else None."""
    current = node.parent
    while current is not None:
        if current.type in FUNCTION_TYPES:
            return current
        if current.type in CLASS_FIELD_TYPES and not is_static(current):
            return current
        current = current.parent
    return None


def function_chain(fn: Node) -> list[Node]:
    """`fn` and every function around it, innermost first."""
    chain = []
    current: Node | None = fn
    while current is not None:
        chain.append(current)
        current = enclosing_function(current)
    return chain


def function_body(fn: Node) -> Node | None:
    return fn.child_by_field_name("body") or fn.child_by_field_name("value")


def function_name(fn: Node) -> str | None:
    """The name `fn` is known by in its file: declaration name, `const name = () => ...`, method name."""
    name = fn.child_by_field_name("name")
    if name is not None:
        return text(name)
    holder = value_holder(fn)
    if holder is not None and holder.type == "variable_declarator":
        target = holder.child_by_field_name("name")
        if target is not None and target.type == "identifier":
            return text(target)
    if holder is not None and holder.type == "assignment_expression":
        left = holder.child_by_field_name("left")
        if left is not None and left.type == "identifier":
            return text(left)
    if fn.parent is not None and fn.parent.type == "pair":
        key = fn.parent.child_by_field_name("key")
        return text(key) if key is not None else None
    return None


def parameter_names(fn: Node) -> list[str]:
    """Names of the plain identifier parameters of `fn`, in order ('' for destructured ones)."""
    params = fn.child_by_field_name("parameters") or fn.child_by_field_name("parameter")
    if params is None:
        return []
    if params.type == "identifier":
        return [text(params)]
    names = []
    for param in params.named_children:
        if param.type in ("required_parameter", "optional_parameter"):
            param = param.child_by_field_name("pattern") or param
        if param.type == "assignment_pattern":
            param = param.child_by_field_name("left") or param
        names.append(text(param) if param.type == "identifier" else "")
    return names


def class_of(fn: Node) -> Node | None:
    """The class a constructor, method or field belongs to."""
    current = fn.parent
    while current is not None and current.type != "class_body":
        if current.type in FUNCTION_TYPES:
            return None
        current = current.parent
    if current is None or current.parent is None:
        return None
    return current.parent if current.parent.type in ("class_declaration", "class", "abstract_class_declaration") else None


def is_static(node: Node) -> bool:
    return any(child.type == "static" for child in node.children)


def value_holder(fn: Node) -> Node | None:
    """The declarator, assignment or export that `fn` is the value of, looking through wrapper calls
    (`export const GET = withAuth(async (req) => ...)`) and parentheses."""
    current = fn
    while current.parent is not None:
        parent = current.parent
        if parent.type in EXPRESSION_WRAPPERS:
            current = parent
        elif parent.type == "arguments" and parent.parent is not None and parent.parent.type == "call_expression":
            current = parent.parent
        else:
            break
    parent = current.parent
    if parent is None:
        return None
    if parent.type == "variable_declarator" and parent.child_by_field_name("value") == current:
        return parent
    if parent.type == "assignment_expression" and parent.child_by_field_name("right") == current:
        return parent
    if parent.type == "export_statement":
        return parent
    return None


def exported_name(fn: Node, root: Node) -> str | None:
    """The name `fn` is exported under ('default' for a default export), or None."""
    holder = value_holder(fn)
    container = fn.parent if fn.type in ("function_declaration", "generator_function_declaration") else None
    if container is not None and container.type == "export_statement":
        return "default" if _is_default_export(container) else function_name(fn)
    if holder is not None and holder.type == "export_statement":
        return "default"
    if holder is not None and holder.type == "variable_declarator":
        declaration = holder.parent
        if declaration is not None and declaration.parent is not None and declaration.parent.type == "export_statement":
            return function_name(fn)
    if holder is not None and holder.type == "assignment_expression":
        left = text(holder.child_by_field_name("left"))
        if left in ("module.exports", "exports.default", "module.exports.default"):
            return "default"
        if left.startswith(("module.exports.", "exports.")):
            return left.rsplit(".", 1)[1]
    name = function_name(fn)
    if name is None or enclosing_function(fn) is not None:
        return None
    return _exported_alias(name, root)


def _is_default_export(statement: Node) -> bool:
    return any(child.type == "default" for child in statement.children)


def _exported_alias(name: str, root: Node) -> str | None:
    """How a module-level `name` is exported later in the file: `export default name`,
    `export default wrap(name)`, `export { name as GET }`, `module.exports = name`."""
    for statement in root.named_children:
        if statement.type == "export_statement":
            clause = next((c for c in statement.named_children if c.type == "export_clause"), None)
            if clause is not None:
                for spec in clause.named_children:
                    if text(spec.child_by_field_name("name")) == name:
                        alias = spec.child_by_field_name("alias")
                        return text(alias) if alias is not None else name
                continue
            value = statement.child_by_field_name("value")
            if _is_default_export(statement) and value is not None and _mentions(value, name):
                return "default"
        elif statement.type == "expression_statement" and statement.named_children:
            expr = statement.named_children[0]
            if expr.type != "assignment_expression":
                continue
            left = text(expr.child_by_field_name("left"))
            right = expr.child_by_field_name("right")
            if left == "module.exports" and right is not None and right.type == "identifier" and text(right) == name:
                return "default"
            if left.startswith(("module.exports.", "exports.")) and right is not None and text(right) == name:
                return left.rsplit(".", 1)[1]
    return None


def _mentions(node: Node, name: str) -> bool:
    return any(n.type in REFERENCE_TYPES and text(n) == name for n in walk(node))


def is_exported(fn: Node, root: Node) -> bool:
    """True when other modules can call `fn` (or construct its class)."""
    if exported_name(fn, root) is not None:
        return True
    name = function_name(fn)
    if name is None:
        return False
    return exports_mention(root, {name}, called_ok=True)


def exports_mention(root: Node, names: set[str], called_ok: bool = False) -> bool:
    """True when an export (`export ...`, `module.exports = ...`, `exports.x = ...`) mentions one of `names`;
    with `called_ok`, mentions that only call the name (`export const client = create()`) do not count."""
    mentioned, not_only_called = node_fact(root, "export-mentions", _export_mentions)
    return not (not_only_called if called_ok else mentioned).isdisjoint(names)


def _export_mentions(root: Node) -> tuple[frozenset[str], frozenset[str]]:
    """The names the exports of the module under `root` mention (outside functions and types), in one walk: all
    of them, and those mentioned other than as the function of a call."""
    mentioned: set[str] = set()
    not_only_called: set[str] = set()
    for statement in root.named_children:
        exported = None
        if statement.type == "export_statement":
            exported = statement
        elif statement.type == "expression_statement" and statement.named_children:
            expr = statement.named_children[0]
            if expr.type == "assignment_expression" and text(expr.child_by_field_name("left")).startswith(
                ("module.exports", "exports.")
            ):
                exported = expr.child_by_field_name("right")
        for node in walk_outside_functions(exported) if exported is not None else ():
            if node.type in REFERENCE_TYPES and not in_type_context(node):
                mentioned.add(text(node))
                if not is_callee(node):
                    not_only_called.add(text(node))
    return frozenset(mentioned), frozenset(not_only_called)


def is_callee(node: Node) -> bool:
    parent = node.parent
    if parent is None:
        return False
    if parent.type == "call_expression":
        return parent.child_by_field_name("function") == node
    if parent.type == "new_expression":
        return parent.child_by_field_name("constructor") == node
    return False


def in_type_context(node: Node) -> bool:
    current = node.parent
    while current is not None and current.type not in FUNCTION_TYPES and not current.type.endswith("statement"):
        if current.type in TYPE_CONTEXTS:
            return True
        current = current.parent
    return False


def walk_outside_functions(node: Node):
    """`walk`, without entering function bodies: `export const find = () => prisma.user.findMany()` uses
    `prisma`, it does not export it."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if current.type in FUNCTION_TYPES:
            continue
        stack.extend(reversed(current.children))


def is_commonjs_export(target: Node | None) -> bool:
    """`module.exports`, `module.exports.x`, `exports.x`."""
    if target is None:
        return False
    source = text(target)
    return source == "module.exports" or source.startswith(("module.exports.", "exports."))


def module_statement(node: Node) -> Node:
    """The top-level statement of the program that holds `node`."""
    current = node
    while current.parent is not None and current.parent.type != "program":
        current = current.parent
    return current
