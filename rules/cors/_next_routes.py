"""Next.js routes that answer every visitor alike, so a credentialed CORS response set by hand leaks nothing.

The Next.js counterpart of `_public_routes`: a pages-router API route (`pages/api/**`) or an app-router route
handler file (`app/**/route.ts`) is public when nothing in the file reads a credential and nothing that wraps
its handlers may.

- The file: it mentions no cookie, session, user, `Authorization` header, principal or passport; it calls
  nothing named like an authentication or token helper (`auth()`, `getToken`, `verifyJwt`, `headers()`); and it
  hands the request (`req`, `request`, a parameter typed as one, or its headers or cookies) to no function
  outside the file, which could read its cookies. The whole file is judged, so every method of an app-router
  route counts (a preflight `OPTIONS` answers for the `GET` beside it).
- What wraps the exported handlers: `export default withX(handler)` names a wrapper, and
  `export default createRoute().GET({ auth: false }).handler(fn).toNextApiHandler()` a builder (the function
  that starts the chain) with options set to `false`. A wrapper written in the file is judged with it; one
  imported from another module of the project is judged in the project phase (`wrappers_read_credentials`):
  a wrapper must read no credential itself, and a builder may read one only under an `if` that tests one of the
  options the route sets to `false` (`if (method.auth) session = await getServerSession(...)`), in its own
  code or in the functions of its module it calls. A wrapper from a package, or any export this cannot read,
  may read credentials: the route is not public.
- The app's middleware (`middleware.ts`): when it reads a credential, it may let only signed-in visitors through
  to the route, whose answer is then theirs (`middleware_reads_credentials`, in the project phase).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterator

from linter import lazy_re
from linter.flow.callees import Callee
from linter.frameworks.nextjs import HTTP_METHODS, is_app_route, is_next_middleware, is_pages_api
from linter.js.expressions import arguments_of, callee, member_chain, object_keys, property_name, unwrap
from linter.js.functions import FUNCTION_TYPES
from linter.syntax import Node, same_node, text, walk

if TYPE_CHECKING:
    from linter.context import FileContext
    from linter.flow.modules import ModuleGraph
    from linter.project import ProjectIndex

# Words of code that reads a credential (case-insensitive): `req.cookies`, `getServerSession`, `currentUser`.
_CREDENTIAL_WORDS = lazy_re.compile(rb"(?i)cookie|session|user|authoriz|principal|passport")
# Names of calls that may read one without those words: `auth()`, `getToken(req)`, `verifyJwt`, `headers()`.
_CREDENTIAL_CALLS = lazy_re.compile(r"(?i)auth|token|jwt|identity|login|guard|protect|permission|^headers$")
_REQUEST_TYPES = lazy_re.compile(r"\b(?:Next)?(?:Api)?Request\b|\bIncomingMessage\b")
_REQUEST_NAMES = frozenset({"req", "request"})
_REQUEST_PARTS = frozenset({"headers", "cookies"})
_CREDENTIAL_MEMBERS = frozenset({"cookies", "session"})
MAX_WRAPPER_FUNCTIONS = 12  # functions of a builder's module followed from the builder


def public_next_route(file: "FileContext") -> list[list] | None:
    """For a Next.js route file that reads no credential itself: the imported wrappers and builders of its
    exported handlers (`[module, name, [options set to false]]`), still to be judged in the project phase;
    None when the file is no route, may read a credential, or exports a handler this cannot follow."""

    def compute() -> list[list] | None:
        if not (is_pages_api(file.path) or is_app_route(file.path)):
            return None
        if _CREDENTIAL_WORDS.search(_code(file)) or _reads_credentials(file.root, file, _top_functions(file)):
            return None
        exported = _exported_handlers(file)
        if not exported:
            return None
        wrappers: list[list] = []
        for expression in exported:
            found = _wrappers(expression, file, 0)
            if found is None:
                return None
            wrappers.extend(found)
        return wrappers

    return file.memo("rules.cors.public-next-route", compute)


def wrappers_read_credentials(graph: "ModuleGraph", path: str, wrappers: list) -> bool:
    """Whether one of the imported `wrappers` of the route at `path` may read a credential (see the module
    docstring); one this cannot find or read may."""
    for entry in wrappers:
        try:
            module, name, off = str(entry[0]), str(entry[1]), frozenset(str(o) for o in entry[2])
        except (IndexError, TypeError):
            return True
        target = graph.resolve(path, Callee(module, name))
        file = graph.file(target[0]) if target is not None else None
        if file is None:
            return True
        fn = _definitions(file).get(target[1])
        if fn is None or _function_reads(fn, file, off, set()):
            return True
    return False


def middleware_reads_credentials(project: "ProjectIndex", path: str) -> bool:
    """Whether a Next.js middleware file of the package of `path` mentions a credential."""
    package = project.package_of(path)
    if package is None:
        return True

    def compute() -> bool:
        for other in sorted(project.files):
            if not is_next_middleware(other) or project.package_of(other) is not package:
                continue
            source = project.read_js_source(other)
            if source is None or _CREDENTIAL_WORDS.search(source) or re.search(rb"(?i)auth|token|jwt", source):
                return True
        return False

    return project.memo(("rules.cors.next-middleware-credentials", package.dir), compute)


# --- the route file --------------------------------------------------------------------------------------------


def _exported_handlers(file: "FileContext") -> list[Node]:
    """The expressions a route exports as handlers: the default export of a pages-router route, the
    `GET`/`POST`/... exports of an app-router one."""
    found: list[Node] = []
    pages = is_pages_api(file.path)
    for statement in file.root.named_children:
        if statement.type != "export_statement":
            continue
        declaration = statement.child_by_field_name("declaration")
        value = statement.child_by_field_name("value")
        if pages and value is not None and any(c.type == "default" for c in statement.children):
            found.append(value)
        elif pages and declaration is not None and any(c.type == "default" for c in statement.children):
            found.append(declaration)
        elif not pages and declaration is not None:
            if declaration.type == "function_declaration" and text(declaration.child_by_field_name("name")) in HTTP_METHODS:
                found.append(declaration)
            elif declaration.type == "lexical_declaration":
                for declarator in declaration.named_children:
                    name = declarator.child_by_field_name("name")
                    value = declarator.child_by_field_name("value")
                    if text(name) in HTTP_METHODS and value is not None:
                        found.append(value)
        elif not pages and any(c.type == "export_clause" for c in statement.children):
            return []  # `export { handler as GET }`: not followed
    return found


def _wrappers(expression: Node | None, file: "FileContext", depth: int) -> list[list] | None:
    """The imported wrappers and builders around an exported handler; None when one cannot be judged or one
    written in the file may read a credential."""
    expression = unwrap(expression)
    if expression is None or depth > 4:
        return None
    if expression.type in FUNCTION_TYPES or expression.type == "function_declaration":
        return []
    if expression.type == "identifier":
        value = _top_functions(file).get(text(expression)) or _top_values(file).get(text(expression))
        return _wrappers(value, file, depth + 1) if value is not None else None
    if expression.type != "call_expression":
        return None
    root, options, handlers = _chain(expression)
    if root is None:
        return None
    name = text(root)
    found: list[list] = []
    local = _top_functions(file).get(name)
    binding = file.binding(name)
    if local is not None:
        if _function_reads(local, file, frozenset(options), set()):
            return None
    elif binding is not None:  # judged in the project phase; one from a package cannot be read there
        found.append([binding.module, binding.imported, sorted(options)])
    else:
        return None
    for handler in handlers:
        inner = _wrappers(handler, file, depth + 1)
        if inner is None:
            return None
        found.extend(inner)
    return found


def _chain(call: Node) -> tuple[Node | None, set[str], list[Node]]:
    """For `withX(handler)` or `builder().GET({ auth: false }).handler(fn).done()`: the identifier that starts
    it, the option keys set to `false` along it, and the functions or names handed to it."""
    options: set[str] = set()
    handlers: list[Node] = []
    current: Node | None = call
    while current is not None and current.type == "call_expression":
        for argument in map(unwrap, arguments_of(current)):
            if argument is None:
                continue
            if argument.type == "object":
                options.update(key for key, value in object_keys(argument).items() if unwrap(value).type == "false")
            elif argument.type in FUNCTION_TYPES or argument.type in ("identifier", "call_expression"):
                handlers.append(argument)
        function = callee(current)
        if function is not None and function.type == "identifier":
            return function, options, handlers
        if function is None or function.type != "member_expression":
            return None, options, handlers
        current = unwrap(function.child_by_field_name("object"))
    return None, options, handlers


# --- reading credentials ---------------------------------------------------------------------------------------


def _function_reads(fn: Node, file: "FileContext", off: frozenset[str], seen: set[int]) -> bool:
    """Whether `fn`, or a function of its module it calls, reads a credential other than under an `if` that
    tests one of the options `off` (which the route sets to `false`)."""
    if fn.start_byte in seen:
        return False
    seen.add(fn.start_byte)
    if len(seen) > MAX_WRAPPER_FUNCTIONS:
        return True
    functions = _top_functions(file)
    if not off and _CREDENTIAL_WORDS.search(_code(file)[fn.start_byte : fn.end_byte]):
        return True
    for site in _credential_sites(fn, file, functions):
        if not _gated(site, fn, off):
            return True
    for node in walk(fn):
        if node.type != "call_expression" or _gated(node, fn, off):
            continue
        function = callee(node)
        called = functions.get(text(function)) if function is not None and function.type == "identifier" else None
        if called is not None and _function_reads(called, file, off, seen):
            return True
    return False


def _reads_credentials(scope: Node, file: "FileContext", local_functions: dict[str, Node]) -> bool:
    return next(_credential_sites(scope, file, local_functions), None) is not None


def _credential_sites(scope: Node, file: "FileContext", local_functions: dict[str, Node]) -> Iterator[Node]:
    """The calls and reads in `scope` that may read a credential: a call named like an authentication helper,
    a call outside `local_functions` and the values of `scope` that is handed the request, its headers or its
    cookies, a read of `.cookies` or `.session`."""
    requests = _request_names(scope)
    locals_ = _local_names(scope)
    for node in walk(scope):
        if node.type in ("member_expression", "subscript_expression") and property_name(node) in _CREDENTIAL_MEMBERS:
            yield node
        if node.type not in ("call_expression", "new_expression"):
            continue
        function = callee(node)
        if function is None:
            continue
        root, members = member_chain(function)
        names = [text(root)] + members if root is not None and root.type == "identifier" else members
        if any(_CREDENTIAL_CALLS.search(name) for name in names[-1:]) or _CREDENTIAL_WORDS.search(".".join(names).encode()):
            yield node
            continue
        if root is not None and root.type == "identifier" and (text(root) in local_functions or text(root) in locals_):
            continue
        if any(_hands_request(argument, requests) for argument in arguments_of(node)):
            yield node


def _hands_request(argument: Node, requests: set[str]) -> bool:
    argument = unwrap(argument)
    if argument is None:
        return False
    if argument.type == "identifier":
        return text(argument) in requests
    if argument.type == "member_expression":
        root, members = member_chain(argument)
        return root is not None and text(root) in requests and len(members) == 1 and members[0] in _REQUEST_PARTS
    if argument.type == "object":
        return any(_hands_request(value, requests) for value in object_keys(argument).values())
    if argument.type == "shorthand_property_identifier":
        return text(argument) in requests
    return False


def _request_names(scope: Node) -> set[str]:
    """`req`, `request`, and parameters typed as a request."""
    names = set(_REQUEST_NAMES)
    for node in walk(scope):
        if node.type in ("required_parameter", "optional_parameter"):
            pattern = node.child_by_field_name("pattern")
            annotation = node.child_by_field_name("type")
            if pattern is not None and pattern.type == "identifier" and annotation is not None:
                if _REQUEST_TYPES.search(text(annotation)):
                    names.add(text(pattern))
    return names


def _local_names(scope: Node) -> set[str]:
    """Parameters and variables declared inside the functions of `scope` (the wrapped handler `handler`, the
    response `res`): calling them is no call into other code."""
    names: set[str] = set()
    for node in walk(scope):
        if node.type in ("required_parameter", "optional_parameter"):
            pattern = node.child_by_field_name("pattern")
            if pattern is not None and pattern.type == "identifier":
                names.add(text(pattern))
        elif node.type in FUNCTION_TYPES:
            parameter = node.child_by_field_name("parameter")
            if parameter is not None and parameter.type == "identifier":
                names.add(text(parameter))
            parameters = node.child_by_field_name("parameters")
            for child in parameters.named_children if parameters is not None else ():
                if child.type == "identifier":
                    names.add(text(child))
        elif node.type == "variable_declarator" and _inside_function(node, scope):
            name = node.child_by_field_name("name")
            if name is not None and name.type == "identifier":
                names.add(text(name))
    return names


def _inside_function(node: Node, scope: Node) -> bool:
    current = node.parent
    while current is not None:
        if current.type in FUNCTION_TYPES or current.type == "function_declaration":
            return True
        if same_node(current, scope):
            return False
        current = current.parent
    return False


def _gated(node: Node, fn: Node, off: frozenset[str]) -> bool:
    """`node` runs only when an option the route sets to `false` is truthy: inside the consequence of
    `if (spec.auth)` (or `if (auth && …)`)."""
    if not off:
        return False
    current = node
    while current is not None and not same_node(current, fn):
        parent = current.parent
        if parent is not None and parent.type == "if_statement" and same_node(parent.child_by_field_name("consequence"), current):
            if _tests_option(parent.child_by_field_name("condition"), off):
                return True
        current = parent
    return False


def _tests_option(condition: Node | None, off: frozenset[str]) -> bool:
    condition = unwrap(condition)
    if condition is None:
        return False
    if condition.type == "identifier":
        return text(condition) in off
    if condition.type == "member_expression":
        return property_name(condition) in off
    if condition.type == "binary_expression" and text(condition.child_by_field_name("operator")) == "&&":
        return _tests_option(condition.child_by_field_name("left"), off) or _tests_option(
            condition.child_by_field_name("right"), off
        )
    return False


def _code(file: "FileContext") -> bytes:
    """The file's bytes with its comments and the values of its CORS headers blanked out (offsets kept): a
    route that lets pages send an `Authorization` header names it there, and reads it elsewhere if it does."""

    def blank() -> bytes:
        code = bytearray(file.source)
        for node in walk(file.root):
            if node.type == "comment" or _cors_header_value(node):
                code[node.start_byte : node.end_byte] = b" " * (node.end_byte - node.start_byte)
        return bytes(code)

    return file.memo("rules.cors.next-code", blank)


def _cors_header_value(node: Node) -> bool:
    """A string set as the value of an `Access-Control-*` header: `res.setHeader('Access-Control-Allow-Headers',
    'authorization, content-type')`, `{ 'Access-Control-Allow-Headers': '…' }`."""
    if node.type not in ("string", "template_string") or node.parent is None:
        return False
    holder = node.parent
    if holder.type == "pair":
        name = holder.child_by_field_name("key")
        return same_node(holder.child_by_field_name("value"), node) and _is_cors_header(name)
    if holder.type == "arguments":
        arguments = [c for c in holder.named_children if c.type != "comment"]
        return len(arguments) == 2 and same_node(arguments[1], node) and _is_cors_header(arguments[0])
    return False


def _is_cors_header(name: Node | None) -> bool:
    return name is not None and name.type == "string" and text(name).strip("'\"").lower().startswith("access-control-")


# --- the file's own functions ----------------------------------------------------------------------------------


def _top_functions(file: "FileContext") -> dict[str, Node]:
    """Name → function declared at the top of the module (`function f`, `const f = () => …`), exported or not."""

    def collect() -> dict[str, Node]:
        found: dict[str, Node] = {}
        for statement in file.root.named_children:
            if statement.type == "export_statement":
                statement = statement.child_by_field_name("declaration") or statement
            if statement.type == "function_declaration":
                found[text(statement.child_by_field_name("name"))] = statement
            elif statement.type in ("lexical_declaration", "variable_declaration"):
                for declarator in statement.named_children:
                    name, value = declarator.child_by_field_name("name"), unwrap(declarator.child_by_field_name("value"))
                    if name is not None and value is not None and value.type in FUNCTION_TYPES:
                        found[text(name)] = value
        return found

    return file.memo("rules.cors.next-top-functions", collect)


def _top_values(file: "FileContext") -> dict[str, Node]:
    """Name → value of the other top-level `const`s (`const handler = withX(async (req, res) => …)`)."""
    found: dict[str, Node] = {}
    for statement in file.root.named_children:
        if statement.type in ("lexical_declaration", "variable_declaration"):
            for declarator in statement.named_children:
                name, value = declarator.child_by_field_name("name"), declarator.child_by_field_name("value")
                if name is not None and name.type == "identifier" and value is not None:
                    found[text(name)] = value
    return found


def _definitions(file: "FileContext") -> dict[str, Node]:
    """A module's local key (`linter.js.exports`: a name, `<default>`) → the function it names."""
    functions = dict(_top_functions(file))
    for statement in file.root.named_children:
        if statement.type == "export_statement" and any(c.type == "default" for c in statement.children):
            value = unwrap(statement.child_by_field_name("declaration") or statement.child_by_field_name("value"))
            if value is not None and (value.type in FUNCTION_TYPES or value.type == "function_declaration"):
                functions["<default>"] = value
            elif value is not None and value.type == "identifier" and text(value) in functions:
                functions["<default>"] = functions[text(value)]
    return functions

