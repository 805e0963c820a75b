"""Calls of services that cost money or can be abused per request, recognised by the package they come from.

- AI: the `openai` client (`new OpenAI()`, `new AzureOpenAI()`, v3's `new OpenAIApi()`) and its
  `chat.completions.create`, `responses.create`, `images.generate`, …; the `@anthropic-ai/sdk` client's
  `messages.create`; the Vercel AI SDK's `generateText`, `streamText`, `generateObject`, `streamObject`;
- email: a nodemailer transport's `sendMail`, Resend's `emails.send`, `@sendgrid/mail`'s `send`, a Mailgun
  client's `messages.create`, a Postmark client's `sendEmail`;
- SMS: a Twilio client's `messages.create`;
- uploads: busboy parsing a request; multer middleware on a route (`upload.single('file')`, see `upload_of`).

A client is known by where its value comes from: a `new`/call of the package's export (through a local
binding, a class field or a typed constructor parameter), or, when it is imported from another module of the
project (`import { openai } from '@/lib/openai'`), by what that module binds it to; `pending` then names the
import, which the project phase resolves (`confirm_import`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ahocorasick_rs

from linter.flow.callees import Callee
from linter.js.bindings import declaration_of
from linter.js.exports import local_value
from linter.js.expressions import WRAPPERS, callee, member_chain, property_name, unwrap
from linter.js.functions import CLASS_FIELD_TYPES
from linter.js.imports import require_specifier
from linter.lazy_dataclasses import dataclass
from linter.needles import NeedleSet
from linter.syntax import Node, descendants_of_types, text

if TYPE_CHECKING:
    from linter.context import FileContext
    from linter.flow.modules import ModuleGraph

AI, EMAIL, SMS, UPLOAD = "AI", "email", "SMS", "upload"
MAX_DEPTH = 4

# package → (service kind, display name, method paths on its client)
_CLIENT_METHODS: dict[str, tuple[str, str, frozenset[tuple[str, ...]]]] = {
    "openai": (AI, "OpenAI", frozenset({
        ("chat", "completions", "create"), ("chat", "completions", "parse"), ("chat", "completions", "stream"),
        ("beta", "chat", "completions", "parse"), ("beta", "chat", "completions", "stream"),
        ("completions", "create"), ("responses", "create"), ("responses", "stream"),
        ("images", "generate"), ("images", "edit"), ("images", "createVariation"),
        ("audio", "speech", "create"), ("audio", "transcriptions", "create"), ("audio", "translations", "create"),
        ("embeddings", "create"), ("createChatCompletion",), ("createCompletion",), ("createImage",),
    })),
    "@anthropic-ai/sdk": (AI, "Anthropic", frozenset({
        ("messages", "create"), ("messages", "stream"), ("completions", "create"),
        ("beta", "messages", "create"), ("beta", "messages", "stream"),
    })),
    "nodemailer": (EMAIL, "nodemailer", frozenset({("sendMail",)})),
    "resend": (EMAIL, "Resend", frozenset({("emails", "send"), ("batch", "send")})),
    "@sendgrid/mail": (EMAIL, "SendGrid", frozenset({("send",), ("sendMultiple",)})),
    "mailgun.js": (EMAIL, "Mailgun", frozenset({("messages", "create")})),
    "postmark": (EMAIL, "Postmark", frozenset({("sendEmail",), ("sendEmailWithTemplate",), ("sendEmailBatch",)})),
    "twilio": (SMS, "Twilio", frozenset({("messages", "create"), ("calls", "create")})),
}
# Functions a package exports that are themselves the expensive call.
_FUNCTIONS: dict[str, tuple[str, str, frozenset[str]]] = {
    "ai": (AI, "the AI SDK", frozenset({"generateText", "streamText", "generateObject", "streamObject"})),
    "busboy": (UPLOAD, "busboy", frozenset({""})),
}
UPLOAD_PACKAGES = frozenset({"multer"})
_MULTER_METHODS = frozenset({"single", "array", "fields", "any"})
SDK_PACKAGES = frozenset(_CLIENT_METHODS) | frozenset(_FUNCTIONS) | UPLOAD_PACKAGES
# Method names a call on an imported client may end with: the cheap test before resolving anything.
_LAST_METHODS = frozenset(path[-1] for _, _, paths in _CLIENT_METHODS.values() for path in paths)
# Every method path of every client: a call whose callee ends with none of them is no client's expensive call.
_METHOD_PATHS = frozenset(path for _, _, paths in _CLIENT_METHODS.values() for path in paths)
# How a file names a package whose functions (or module object) are expensive, when it imports one (`_names_sdk_function`).
_FUNCTION_SPECIFIERS = NeedleSet(f"{quote}{module}{quote}".encode() for module in (*sorted(_FUNCTIONS), "@sendgrid/mail") for quote in "'\"`")
# A callee's last member is named in the file's bytes as it is (`property_name` decodes no escapes).
_LAST_METHOD_NAMES = NeedleSet(method.encode() for method in _LAST_METHODS)


@dataclass(frozen=True)
class ExpensiveCall:
    node: Node  # the call (or, for uploads, the multer middleware expression)
    kind: str  # AI, EMAIL, SMS or UPLOAD
    label: str  # "OpenAI `openai.chat.completions.create()`"
    pending: Callee | None = None  # the client is imported from this module: confirm it there
    methods: tuple[str, ...] = ()  # for a pending client: the method path called on it


def expensive_calls(file: "FileContext") -> list[ExpensiveCall]:
    """The calls of the file that may be expensive: confirmed here, or pending on an import."""
    return file.lasting("ratelimit.expensive-calls", lambda: list(_find(file)))


def _find(file: "FileContext"):
    # A file that imports no package of expensive functions (whose name is then in it, quoted) calls none: of
    # its calls, only a client's method can be expensive, named by the last member of the callee.
    functions = _FUNCTION_SPECIFIERS.any_in(file.source)
    if not functions and not _LAST_METHOD_NAMES.any_in(file.source):
        return
    calls = descendants_of_types(file.root, ("call_expression", "new_expression")) if functions else _method_calls(file)
    for call in calls:
        found = classify_call(call, file)
        if found is not None:
            yield found


# The last methods, found anywhere in the bytes (overlaps included): `_method_calls` keeps those written as a
# whole name (`.create(`, `['send'](`), between characters that cannot be part of one.
_LAST_METHOD_FINDER = ahocorasick_rs.BytesAhoCorasick(sorted(method.encode() for method in _LAST_METHODS))
_NAME_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$")
# What lies between a callee's last member and the call: the member (or subscript and its string), the
# wrappers `callee` unwraps and an `await` the TypeScript grammar reads as the function.
_CALLEE_PARTS = frozenset(
    {"property_identifier", "string_fragment", "string", "template_string", "member_expression", "subscript_expression",
     "await_expression"}
) | WRAPPERS  # fmt: skip


def _method_calls(file: "FileContext") -> list[Node]:
    """The calls whose callee ends with a member named as one of `_LAST_METHODS`, in document order: found from
    where the file's bytes name one (`property_name` decodes no escapes), climbing to the call whose function
    holds it, instead of reading every call of the file."""
    root, source, calls = file.root, file.source, {}
    for _, start, end in _LAST_METHOD_FINDER.find_matches_as_indexes(source, overlapping=True):
        if (start and source[start - 1] in _NAME_BYTES) or (end < len(source) and source[end] in _NAME_BYTES):
            continue
        node = root.named_descendant_for_byte_range(start, end)
        while node is not None and node.type in _CALLEE_PARTS:
            node = node.parent
        if node is not None and node.type == "call_expression" and property_name(callee(node)) in _LAST_METHODS:
            calls[node.byte_range] = node
    return [calls[span] for span in sorted(calls, key=lambda span: (span[0], -span[1]))]


def classify_call(call: Node, file: "FileContext") -> ExpensiveCall | None:
    function = callee(call)
    if function is None:
        return None
    root, members = member_chain(function)
    if root is None:
        return None
    if _names_sdk_function(root, file):
        return _sdk_function_call(call, function, root, members, file)
    if call.type != "call_expression" or not members or members[-1] not in _LAST_METHODS:
        return None
    for split in range(len(members) - 1, -1, -1):
        receiver_members, methods = tuple(members[:split]), tuple(members[split:])
        if methods not in _METHOD_PATHS:  # `JSON.parse()`: no client has the method, whatever the receiver
            continue
        client = client_package(root, receiver_members, file)
        if client is None:
            continue
        if isinstance(client, Callee):
            if any(methods in paths for _, _, paths in _CLIENT_METHODS.values()):
                return ExpensiveCall(call, "", _short(text(function)) + "()", pending=client, methods=methods)
            continue
        kind, name, paths = _CLIENT_METHODS[client]
        if methods in paths:
            return ExpensiveCall(call, kind, f"{name} `{_short(text(function))}()`")
    return None


def _names_sdk_function(root: Node, file: "FileContext") -> bool:
    """A cheap first test: the call starts at a name bound by an import of a package whose functions (or
    module object) are expensive, or at `require(...)` of one."""
    if root.type == "identifier":
        binding = file.binding(text(root))
        return binding is not None and (binding.module in _FUNCTIONS or binding.module == "@sendgrid/mail")
    return root.type == "call_expression" and require_specifier(root) in _FUNCTIONS


def _sdk_function_call(call: Node, function: Node, root: Node, members: list[str], file: "FileContext") -> ExpensiveCall | None:
    """`generateText(...)`, `ai.generateText(...)`, `busboy({ headers })`, `sgMail.send(...)`."""
    origin = _imported_from(root, file)
    if origin is None:
        return None
    package, path = origin
    full = (*path, *members)
    if package in _FUNCTIONS:
        kind, name, functions = _FUNCTIONS[package]
        if len(full) <= 1 and (full[-1] if full else "") in functions:
            return ExpensiveCall(call, kind, f"{name} `{_short(text(function))}()`")
        return None
    kind, name, methods = _CLIENT_METHODS[package]
    if not path and tuple(members) in methods:  # the module object is the client: `sgMail.send()`
        return ExpensiveCall(call, kind, f"{name} `{_short(text(function))}()`")
    return None


def client_package(root: Node, members: tuple[str, ...], file: "FileContext", depth: int = 0) -> str | Callee | None:
    """The SDK package whose client `root.members` holds, a `Callee` when it is imported from a module of
    the project, or None."""
    if depth > MAX_DEPTH:
        return None
    if root.type == "this" and members:
        value = field_value(root, members[0])
        return package_of_value(value, file, depth + 1) if value is not None and len(members) == 1 else None
    if members:  # `clients.openai.chat…`: only a binding that is the client itself
        return None
    if root.type != "identifier":
        return None
    declaration = declaration_of(root)
    imported = declaration is None or (declaration.kind == "opaque" and declaration.function is None)
    binding = file.binding(text(root)) if imported else None
    if binding is not None:
        # An SDK's own module object is not a client; a binding imported from anywhere else may hold one.
        return None if binding.module in SDK_PACKAGES else Callee(binding.module, binding.imported)
    if declaration is None or declaration.path or declaration.declarator is None:
        return None
    if declaration.kind == "param":
        return _type_package(declaration.declarator.child_by_field_name("type"), file)
    if declaration.kind != "variable":
        return None
    return package_of_value(declaration.declarator.child_by_field_name("value"), file, depth + 1)


def package_of_value(value: Node | None, file: "FileContext", depth: int = 0) -> str | Callee | None:
    """The SDK package a client value is made by: `new OpenAI()`, `nodemailer.createTransport()`,
    `twilio(sid, token)`, `new Mailgun(FormData).client({...})`, `require('twilio')(sid, token)`."""
    value = unwrap(value)
    if value is not None and value.type == "await_expression" and value.named_children:
        value = unwrap(value.named_children[0])
    if value is None or depth > MAX_DEPTH:
        return None
    if value.type == "identifier":
        return client_package(value, (), file, depth + 1)
    if value.type in ("type_annotation", "type_identifier"):
        return _type_package(value, file)
    if value.type not in ("new_expression", "call_expression"):
        return None
    function = callee(value)
    specifier = require_specifier(function) if function is not None else None
    if specifier is not None:
        return specifier if specifier in _CLIENT_METHODS else None
    root, _ = member_chain(function)
    if root is None:
        return None
    if root.type in ("new_expression", "call_expression"):
        return package_of_value(root, file, depth + 1)
    origin = _imported_from(root, file)
    if origin is not None:
        return origin[0] if origin[0] in _CLIENT_METHODS else None
    return None


def _imported_from(root: Node, file: "FileContext") -> tuple[str, tuple[str, ...]] | None:
    """(package, imported path) for an identifier bound by an import of an npm package (not shadowed)."""
    if root.type == "call_expression":
        specifier = require_specifier(root)
        return (specifier, ()) if specifier is not None and _is_package(specifier) else None
    if root.type != "identifier":
        return None
    binding = file.binding(text(root))
    if binding is None or not _is_package(binding.module):
        return None
    declaration = declaration_of(root)
    if declaration is not None and declaration.kind != "opaque" and declaration.function is not None:
        return None  # a local of the same name
    module = binding.module.removeprefix("node:")
    return module, () if binding.imported in ("*", "default") else (binding.imported,)


def _is_package(specifier: str) -> bool:
    return not specifier.startswith((".", "/", "@/", "~/", "#"))


def _type_package(annotation: Node | None, file: "FileContext") -> str | None:
    if annotation is None:
        return None
    named = annotation.named_children[0] if annotation.type == "type_annotation" and annotation.named_children else annotation
    if named.type not in ("type_identifier", "nested_type_identifier"):
        return None
    head = text(named).split(".", 1)[0]
    binding = file.binding(head)
    return binding.module if binding is not None and binding.module in _CLIENT_METHODS else None


def field_value(this: Node, name: str) -> Node | None:
    """What `this.name` holds: a class field's initializer, a constructor assignment, or, for a typed
    parameter property (`constructor(private readonly openai: OpenAI)`), its type annotation."""
    body = this.parent
    while body is not None and body.type != "class_body":
        body = body.parent
    if body is None:
        return None
    for member in body.named_children:
        if member.type in CLASS_FIELD_TYPES:
            field = member.child_by_field_name("name") or member.child_by_field_name("property")
            if field is not None and text(field) == name:
                return member.child_by_field_name("value") or member.child_by_field_name("type")
        elif member.type == "method_definition" and text(member.child_by_field_name("name")) == "constructor":
            parameters = member.child_by_field_name("parameters")
            for param in parameters.named_children if parameters is not None else ():
                pattern = param.child_by_field_name("pattern")
                if pattern is not None and text(pattern) == name and param.child_by_field_name("type") is not None:
                    if any(c.type in ("accessibility_modifier", "readonly") for c in param.children):
                        return param.child_by_field_name("type")
            for assignment in descendants_of_types(member, ("assignment_expression",)):
                left = assignment.child_by_field_name("left")
                if left is not None and left.type == "member_expression" and text(left) == f"this.{name}":
                    return assignment.child_by_field_name("right")
    return None


def upload_of(argument: Node, file: "FileContext") -> ExpensiveCall | None:
    """multer middleware passed to a route: `upload.single('file')`, `multer(opts).array('photos')`, with
    `upload` made here or imported from a module of the project (pending)."""
    node = unwrap(argument)
    if node is None or node.type != "call_expression":
        return None
    function = callee(node)
    if function is None or function.type != "member_expression" or property_name(function) not in _MULTER_METHODS:
        return None
    root, members = member_chain(function)
    if root is None or len(members) != 1:
        return None
    label = f"multer `{_short(text(function))}()`"
    if root.type == "call_expression":
        origin = _imported_from(callee(root), file) if callee(root) is not None else None
        return ExpensiveCall(node, UPLOAD, label) if origin is not None and origin[0] in UPLOAD_PACKAGES else None
    if root.type != "identifier":
        return None
    binding = file.binding(text(root))
    if binding is not None:
        if _is_package(binding.module):
            return None
        return ExpensiveCall(node, UPLOAD, label, pending=Callee(binding.module, binding.imported), methods=(members[0],))
    declaration = declaration_of(root)
    if declaration is None or declaration.kind != "variable" or declaration.declarator is None:
        return None
    value = unwrap(declaration.declarator.child_by_field_name("value"))
    if value is None or value.type != "call_expression":
        return None
    inner = callee(value)
    origin = _imported_from(inner, file) if inner is not None and inner.type in ("identifier", "call_expression") else None
    return ExpensiveCall(node, UPLOAD, label) if origin is not None and origin[0] in UPLOAD_PACKAGES else None


def confirm_import(graph: "ModuleGraph", path: str, pending: Callee, methods: tuple[str, ...], depth: int = 0) -> tuple[str, str] | None:
    """(kind, service name) when the client `pending` names (imported in `path`) is made by an SDK package
    there and `methods` is one of its expensive methods; None otherwise."""
    if depth > MAX_DEPTH:
        return None
    target = graph.resolve(path, pending)
    file = graph.file(target[0]) if target is not None else None
    if file is None:
        return None
    found = local_value(file.root, _instance_binding(graph, file.path, target[1], pending.name))
    if found is None or found[1]:
        return None
    node = found[0]
    value = node
    if node.type == "identifier" and node.parent is not None and node.parent.type == "variable_declarator":
        value = node.parent.child_by_field_name("value")
    package = package_of_value(value, file)
    if isinstance(package, Callee):
        return confirm_import(graph, file.path, package, methods, depth + 1)
    if package in UPLOAD_PACKAGES or (package is None and _multer_value(value, file)):
        return (UPLOAD, "multer") if methods and methods[0] in _MULTER_METHODS else None
    if package in _CLIENT_METHODS:
        kind, name, paths = _CLIENT_METHODS[package]
        return (kind, name) if methods in paths else None
    return None


def _instance_binding(graph: "ModuleGraph", path: str, key: str, name: str) -> str:
    """The binding behind a resolved key: the export table names `const openai = new OpenAI()` by its class
    (so that method calls reach the class), and the binding is what is wanted here."""
    table = graph.exports(path)
    if table is None or key not in table.instances.values():
        return key
    local = table.names.get(name)
    if local is not None and table.instances.get(local) == key:
        return local
    return next(binding for binding, class_name in sorted(table.instances.items()) if class_name == key)


def _multer_value(value: Node | None, file: "FileContext") -> bool:
    value = unwrap(value)
    if value is None or value.type != "call_expression":
        return False
    inner = callee(value)
    origin = _imported_from(inner, file) if inner is not None and inner.type in ("identifier", "call_expression") else None
    return origin is not None and origin[0] in UPLOAD_PACKAGES


def _short(source: str) -> str:
    source = " ".join(source.split())
    return source if len(source) <= 48 else source[:45] + "…"
