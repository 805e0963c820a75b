"""Settings a configuration factory returns and the app reads back by key (`ConfigService.get('auth.jwt.secret')`).

A NestJS config factory (`export default () => ({ auth: { jwt: { secret: … } } })`, or `registerAs('auth',
() => ({ … }))`) handed to `ConfigModule.forRoot({ load: [factory] })` is only ever read through
`configService.get('<key path>')`. The file that writes a fallback cannot see its uses; the project can: a key
path no read reaches (the whole path, or an object above it) is never used, and one whose every read is handed
straight to another service's client (`new Resend(configService.get('email.resendApiKey'))`) is the app's login
there, which that service checks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from linter import lazy_re
from linter.js.expressions import arguments_of, callee, key_text, outermost, property_name, unwrap
from linter.js.imports import string_value
from linter.paths import is_test_path
from linter.syntax import Node, text, walk

from ._env import config_getter_key
from ._secrets import client_credential

if TYPE_CHECKING:
    from linter.project import ProjectIndex

_FUNCTIONS = ("arrow_function", "function_expression", "function", "function_declaration")
# A key read through any call on a configuration object or helper: `configService.get<string>('a.b')`,
# `config.getOrThrow('a.b')`, `@Config.string('a.b', '')`. A template key counts by its written start.
_KEY_READ = lazy_re.compile(rb"""(?i)config[\w$.?]*\s*(?:<[^<>()]*>)?\s*\(\s*(?:'([\w.\-]+)'|"([\w.\-]+)"|`([\w.\-]*)(?:`|\$\{))""")


def factory_key(value: Node) -> str | None:
    """The key path (`auth.jwt.secret`) of `value` in the object a configuration factory returns: the module's
    default export or a `registerAs('auth', …)` factory. None anywhere else."""
    node = outermost(value)
    while node.parent is not None and node.parent.type in ("binary_expression", "ternary_expression"):
        node = outermost(node.parent)
    path: list[str] = []
    while node.parent is not None and node.parent.type == "pair" and node.parent.child_by_field_name("value") == node:
        path.append(key_text(node.parent.child_by_field_name("key")))
        node = outermost(node.parent.parent)
    if not path or unwrap(node) is None or unwrap(node).type != "object":
        return None
    function = _returned_by(node)
    if function is None:
        return None
    holder = outermost(function).parent
    if holder is not None and holder.type == "export_statement" and any(c.type == "default" for c in holder.children):
        return ".".join(reversed(path))
    if holder is not None and holder.type == "arguments" and _calls_register_as(holder.parent):
        arguments = arguments_of(holder.parent)
        namespace = string_value(unwrap(arguments[0])) if arguments else None
        if namespace and len(arguments) > 1 and outermost(arguments[1]) == outermost(function):
            return ".".join((namespace, *reversed(path)))
    return None


def _calls_register_as(call: Node | None) -> bool:
    """`registerAs(…)` or `config.registerAs(…)` (@nestjs/config)."""
    function = callee(call) if call is not None and call.type == "call_expression" else None
    if function is None:
        return False
    name = property_name(function) if function.type == "member_expression" else text(function)
    return name == "registerAs"


def _returned_by(obj: Node) -> Node | None:
    """The function whose body is `obj` (`() => ({ … })`) or that returns it (`return { … }`)."""
    obj = outermost(obj)
    parent = obj.parent
    if parent is not None and parent.type in _FUNCTIONS and parent.child_by_field_name("body") == obj:
        return parent
    if parent is not None and parent.type == "return_statement":
        node = parent.parent
        while node is not None and node.type not in _FUNCTIONS:
            if node.type in ("method_definition", "class_body", "program"):
                return None
            node = node.parent
        return node
    return None


def key_unused(project: "ProjectIndex", path: str, key: str) -> bool:
    """Whether nothing can use the setting at `key` of the factory in the module at `path`: every module that
    imports the factory only lists it in a `load: [...]` array, and no key read in the project reaches `key`
    (itself or an object above it), or every read that does is handed to another service's client."""
    importers = project.importers_of(path)
    if not importers or not all(_only_loaded(project, importer, path) for importer in importers):
        return False
    reads = project.memo("auth/secret-fallback:config-key-reads", lambda: _key_reads(project))
    readers = [other for other, found in reads.items() if other != path and any(_reaches(read, key) for read in found)]
    return all(_all_handed_to_clients(project, reader, key, reads[reader]) for reader in readers)


def _key_reads(project: "ProjectIndex") -> dict[str, list[str]]:
    """Every key each file but tests may read: through a call on a configuration object or helper, or kept in a
    dotted string (`const key = 'session.secret'`) that may reach a getter through a variable."""
    reads = {}
    for path in project.files:
        source = project.read_js_source(path) if not is_test_path(path) else None
        if not source:
            continue
        found = [(m.group(1) or m.group(2) or m.group(3) or b"").decode() for m in _KEY_READ.finditer(source)]
        found += [m.group(1).decode() for m in _DOTTED_STRING.finditer(source)]
        if found:
            reads[path] = found
    return reads


# A dotted string anywhere (`const key = 'session.secret'`) may be a key read through a variable.
_DOTTED_STRING = lazy_re.compile(rb"""['"`]([A-Za-z_$][\w$\-]*(?:\.[\w$\-]+)+)['"`]""")


def _reaches(read: str, key: str) -> bool:
    """A read of `read` returns the setting at `key`: the same path, an object above it, or a template whose
    written start could still become it (`auth.${provider}`; an empty start could be any key)."""
    if read.endswith(".") or not read:
        return key.startswith(read)
    return key == read or key.startswith(read + ".")


def _only_loaded(project: "ProjectIndex", importer: str, factory_path: str) -> bool:
    """The importer mentions what it imports from the factory's module only in `load: [...]` arrays."""
    file = project.parsed_file(importer)
    if file is None:
        return False
    locals_ = {b.local for b in file.import_bindings if project.resolve(importer, b.module) == factory_path}
    if not locals_:
        return False
    for node in walk(file.root):
        if node.type == "identifier" and text(node) in locals_ and not _in_import(node) and not _in_load_array(node):
            return False
    return True


def _in_import(node: Node) -> bool:
    while node is not None:
        if node.type == "import_statement":
            return True
        node = node.parent
    return False


def _in_load_array(node: Node) -> bool:
    array = node.parent
    if array is None or array.type != "array":
        return False
    pair = array.parent
    return pair is not None and pair.type == "pair" and key_text(pair.child_by_field_name("key")) == "load"


def _all_handed_to_clients(project: "ProjectIndex", reader: str, key: str, texts: list[str]) -> bool:
    """Every read of `key` in `reader` is a getter call (`configService.get('email.resendApiKey')`) handed
    straight to another service's client; a read seen only in the text (a helper taking the key, a template, a
    string kept in a variable) is one whose use is unknown."""
    file = project.parsed_file(reader)
    if file is None:
        return False
    expected = 0
    for node in walk(file.root):
        if node.type == "call_expression":
            read = config_getter_key(node)
            if read is not None and _reaches(read, key):
                if client_credential(node, file) is None:
                    return False
                expected += 2 if "." in read else 1  # the getter, and the dotted string it is written with
    return expected > 0 and sum(1 for read in texts if _reaches(read, key)) == expected
