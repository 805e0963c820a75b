"""Checks that run a whole statement through a SQL parser and let only reads pass: the barrier of a SQL
console, where the client writes the statement itself.

The parser is one of `SQL_PARSER_PACKAGES`, imported by the module, and the check is one of:

- its statement type tested against a read (`tree.type === 'select'`, `ast.type !== 'select'` before leaving),
  the tested value being what the parser made of the statement (`const tree = parser.astify(sql)`);
- node-sql-parser's `whiteListCheck(sql, ['select::(.*)::(.*)'], …)`, whose list names only reads (it throws on
  anything else);
- a call of a function whose body does one of these (`if (!isSingleSelect(sql)) return res.status(400)…`): one of
  the same module is read here, one of another module in the project phase (`guard_calls`, `checks_statements`).

A parse alone (a syntax check), a denylist of statement types (`type === 'drop'` before leaving) and a list that
names writes are not checks: the statement still does what its author wrote.
"""

from __future__ import annotations

from linter.js.bindings import declaration_of, function_declared_as
from linter.js.expressions import arguments_of, callee, member_chain, member_object, property_name, unwrap
from linter.js.functions import FUNCTION_TYPES
from linter.js.guards import checked_at, checks_on_the_way
from linter.js.imports import require_specifier, string_value
from linter.syntax import Node, text, walk

from ._sql_allowlists import value_name

SQL_PARSER_PACKAGES = frozenset({"node-sql-parser", "pgsql-ast-parser", "sql-parser-cst", "@florajs/sql-parser"})
_PARSE_METHODS = frozenset({"astify", "parse", "parseFirst"})
_LIST_CHECK = "whiteListCheck"
_READ_STATEMENTS = frozenset({"select", "select_stmt"})
_BLOCKS = frozenset({"statement_block", "program", "switch_case", "switch_default"})
_MAX_DEPTH = 32


def statement_checked_at(use: Node) -> bool:
    """Whether the statement at `use` has passed a parser check of the module that lets only reads through."""
    name = value_name(use)
    if name is None:
        return False
    return checked_at(use, name, _leaves_reads, value_name) or _listed_before(use, name)


def guard_calls(use: Node) -> list[Node]:
    """The calls a check on the way to `use` makes with the value (`if (!isSingleSelect(sql)) throw …`) to
    functions this module does not declare: what those do is asked of their own modules."""
    name = value_name(use)
    if name is None:
        return []

    def passes_call(condition: Node | None, name: str, when_true: bool) -> bool:
        call = _call_passing(condition, name, when_true)
        return call is not None and function_declared_as(callee(call)) is None

    checks = checks_on_the_way(use, name, passes_call, value_name)
    return [call for condition, held in checks if (call := _call_passing(condition, name, held)) is not None]


def checks_statements(function: Node) -> bool:
    """Whether `function` (of a module that imports a SQL parser) checks a statement's type with the parser:
    a statement type tested against a read, or a `whiteListCheck` whose list names only reads."""
    if not imports_sql_parser(function):
        return False
    for node in walk(function):
        if node.type == "call_expression" and _lists_only_reads(node):
            return True
        if node.type == "binary_expression" and _tests_read_type(node, None) is not None:
            return True
    return False


def imports_sql_parser(node: Node) -> bool:
    """Whether the module around `node` imports or requires one of `SQL_PARSER_PACKAGES`."""
    root = node
    while root.parent is not None:
        root = root.parent
    for statement in root.named_children:
        if statement.type == "import_statement":
            if string_value(statement.child_by_field_name("source")) in SQL_PARSER_PACKAGES:
                return True
        elif statement.type in ("lexical_declaration", "variable_declaration"):
            for declarator in statement.named_children:
                value = unwrap(declarator.child_by_field_name("value")) if declarator.type == "variable_declarator" else None
                while value is not None and value.type == "member_expression":  # `require('node-sql-parser').Parser`
                    value = unwrap(member_object(value))
                if value is not None and value.type == "call_expression" and require_specifier(value) in SQL_PARSER_PACKAGES:
                    return True
    return False


def _leaves_reads(condition: Node | None, name: str, when_true: bool, depth: int = 0) -> bool:
    """`condition` being `when_true` leaves the statement named `name` a read, as its parser or a function of
    this module says."""
    condition = unwrap(condition)
    if condition is None or depth > _MAX_DEPTH:
        return False
    if condition.type == "unary_expression" and text(condition.child_by_field_name("operator")) == "!":
        return _leaves_reads(condition.child_by_field_name("argument"), name, not when_true, depth + 1)
    if condition.type == "call_expression":
        if not when_true or not any(value_name(a) == name for a in arguments_of(condition)):
            return False
        function = function_declared_as(callee(condition)) if callee(condition) is not None else None
        return function is not None and checks_statements(function)
    if condition.type != "binary_expression":
        return False
    operator = text(condition.child_by_field_name("operator"))
    left, right = condition.child_by_field_name("left"), condition.child_by_field_name("right")
    if operator in ("&&", "||"):
        if (operator == "&&") != when_true:  # both sides hold
            return _leaves_reads(left, name, when_true, depth + 1) and _leaves_reads(right, name, when_true, depth + 1)
        return _leaves_reads(left, name, when_true, depth + 1) or _leaves_reads(right, name, when_true, depth + 1)
    equal = _tests_read_type(condition, name)
    return equal is not None and equal == when_true


def _tests_read_type(comparison: Node, name: str | None) -> bool | None:
    """For `tree.type === 'select'` (or `!==`), where `tree` is what a parser made of the statement `name` (of
    any statement, for None): whether the test is an equality; None for anything else."""
    operator = text(comparison.child_by_field_name("operator"))
    if operator not in ("===", "==", "!==", "!="):
        return None
    left, right = unwrap(comparison.child_by_field_name("left")), unwrap(comparison.child_by_field_name("right"))
    for side, other in ((left, right), (right, left)):
        if other is None or other.type != "string" or (string_value(other) or "").lower() not in _READ_STATEMENTS:
            continue
        if side is not None and side.type == "member_expression" and property_name(side) == "type" and _parsed(side, name):
            return operator in ("===", "==") if imports_sql_parser(comparison) else None
    return None


def _parsed(member: Node, name: str | None) -> bool:
    """Whether the object `member` reads from is what a parser call made (of the statement `name`)."""
    root, _ = member_chain(member_object(member))
    if root is None or root.type != "identifier":
        return False
    binding = declaration_of(root)
    if binding is None or binding.kind != "variable" or binding.declarator is None:
        return False
    value = unwrap(binding.declarator.child_by_field_name("value"))
    if value is not None and value.type == "await_expression" and value.named_children:
        value = unwrap(value.named_children[0])
    if value is None or value.type != "call_expression":
        return False
    function = callee(value)
    method = property_name(function) if function is not None and function.type == "member_expression" else text(function)
    if method not in _PARSE_METHODS or (function is not None and function.type == "member_expression" and text(member_object(function)) == "JSON"):
        return False
    arguments = arguments_of(value)
    return name is None or (bool(arguments) and value_name(arguments[0]) == name)


def _lists_only_reads(call: Node, name: str | None = None) -> bool:
    """`parser.whiteListCheck(sql, ['select::(.*)::(.*)'], …)` (of the statement `name`, unless None), its list
    written in the call or bound to a name, every entry a read."""
    function = callee(call)
    if function is None or function.type != "member_expression" or property_name(function) != _LIST_CHECK:
        return False
    arguments = arguments_of(call)
    if len(arguments) < 2 or (name is not None and value_name(arguments[0]) != name):
        return False
    listed = unwrap(arguments[1])
    if listed is not None and listed.type == "identifier":
        binding = declaration_of(listed)
        declarator = binding.declarator if binding is not None and binding.kind == "variable" and not binding.path else None
        listed = unwrap(declarator.child_by_field_name("value")) if declarator is not None else None
    if listed is None or listed.type != "array" or not listed.named_children:
        return False
    entries = [string_value(unwrap(entry)) for entry in listed.named_children]
    only_reads = all(entry is not None and entry.split("::", 1)[0].lower() in _READ_STATEMENTS for entry in entries)
    return only_reads and imports_sql_parser(call)


def _listed_before(use: Node, name: str) -> bool:
    """A `whiteListCheck` of the statement that names only reads, as a statement before `use` in a block around
    it (within its function): it throws on anything else."""
    current = use
    while current.parent is not None and current.type not in FUNCTION_TYPES:
        parent = current.parent
        if parent.type in _BLOCKS:
            for statement in parent.named_children:
                if statement.start_byte >= current.start_byte:
                    break
                expression = unwrap(statement.named_children[0]) if statement.type == "expression_statement" and statement.named_children else None
                if expression is not None and expression.type == "await_expression" and expression.named_children:
                    expression = unwrap(expression.named_children[0])
                if expression is not None and expression.type == "call_expression" and _lists_only_reads(expression, name):
                    return True
        current = parent
    return False


def _call_passing(condition: Node | None, name: str, when_true: bool) -> Node | None:
    """The call `f(…, name, …)` that `condition` being `when_true` says returned true (`f(sql)` true, `!f(sql)`
    false), or None."""
    condition = unwrap(condition)
    while condition is not None and condition.type == "unary_expression" and text(condition.child_by_field_name("operator")) == "!":
        condition, when_true = unwrap(condition.child_by_field_name("argument")), not when_true
    if condition is None or condition.type != "call_expression" or not when_true:
        return None
    if not any(value_name(a) == name for a in arguments_of(condition)):
        return None
    return condition
