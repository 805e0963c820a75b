"""A secret falls back to a value written in the code when its environment variable is unset.

## Why is this bad?
`process.env.JWT_SECRET || 'dev-secret'` keeps the app running when the variable is missing from a deployment,
signing tokens and session cookies with a key that anyone who can read the repository (or guess a common
default) knows: they can mint a token for any user or forge a webhook. The same holds for a secret passed as a
literal straight to `jsonwebtoken`, `jose`, `express-jwt`, `passport-jwt`, `express-session`, `cookie-session`,
`cookie-parser`, NextAuth, iron-session, `@fastify/jwt`, `@nestjs/jwt` or `node:crypto` (`createHmac`, ciphers).

The rule reports:
- a hard-coded fallback for a setting whose name says it is a secret (`*_SECRET`, `*_PASSWORD`, `*_TOKEN`,
  `API_KEY`, `PRIVATE_KEY`, `SALT`, `PEPPER`, `SIGNING_KEY`, …) or for any setting used as a library's secret:
  `||`, `??`, a ternary on the setting, a destructuring default, `||=`, `if (!process.env.X) process.env.X = '…'`,
  `configService.get('X', '…')`, and schema defaults (`X: z.string().default('…')`, envalid `default:`).
  Settings are read through `process.env`, `import.meta.env`, aliases and validated copies of them, names
  destructured from them, same-file config objects, and config objects imported from a local config module;
- a literal (or `new TextEncoder().encode('…')`, `Buffer.from('…')`) passed as a library's secret, directly or
  through a constant or a parameter default of the same file;
- `` `${process.env.X}` `` passed as a library's secret: when `X` is unset the secret is the string `'undefined'`.

It stays quiet for names about a secret rather than the secret (`*_EXPIRES_IN`, `*_TTL`, `*_ALGORITHM`,
`SALT_ROUNDS`, `TOKEN_COOKIE_NAME`), names bundled into browser code (`NEXT_PUBLIC_*`, `VITE_*`, …) and public
keys; for fallbacks that fail (`|| requireEnv('X')`, `?? (() => { throw … })()`) or read another variable; for an
empty fallback (`|| ''`: not a secret from the source, and the JWT and session libraries refuse it),
a word for "none" (`'not-required'`), a file path or a URL; for envalid's `devDefault` and a
`NODE_ENV !== 'production' ? 'dev' : process.env.X` switch, which still need `NODE_ENV` set in every deployment;
for the app's own credential for another service handed straight to that service's client
(`new Stripe(process.env.STRIPE_SECRET_KEY || 'sk_test')`, `{ apiKey: … }`, `{ auth: { pass: … } }`): the
service rejects a placeholder, so nothing is exposed; and for test files.

The finding sits on the hard-coded value; when a constant holds it, the places that use the constant are
related locations.

## Example
```js
const jwt = require('jsonwebtoken');

const secret = process.env.JWT_SECRET || 'development-secret-change-in-production';

function issueToken(user) {
  return jwt.sign({ sub: user.id }, secret, { expiresIn: '1h' });
}
```

## Use instead
```js
const jwt = require('jsonwebtoken');

const secret = process.env.JWT_SECRET;
if (!secret) {
  throw new Error('JWT_SECRET is not set');
}

function issueToken(user) {
  return jwt.sign({ sub: user.id }, secret, { expiresIn: '1h' });
}
```

## References
- [CWE-798: Use of Hard-coded Credentials](https://cwe.mitre.org/data/definitions/798.html)
- [CWE-1188: Initialization of a Resource with an Insecure Default](https://cwe.mitre.org/data/definitions/1188.html)
- [OWASP Secrets Management Cheat Sheet](https://cheatsheetseries.owasp.org/cheatsheets/Secrets_Management_Cheat_Sheet.html)
- [OWASP Top 10 A07:2021 Identification and Authentication Failures](https://owasp.org/Top10/A07_2021-Identification_and_Authentication_Failures/)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from linter.rules.auth._env import config_getter_key, is_env_object, setting_name
from linter.js.expressions import WRAPPERS, arguments_of, callee, key_text, outermost, property_name, unwrap
from linter.rules.auth._secrets import (
    OPTION_SINKS,
    SECRET_ARGUMENTS,
    SECRET_OPTION_NAMES,
    client_credential,
    hard_coded_value,
    is_secret_name,
    may_hold_a_secret_name,
    secret_sink,
    stringified_setting,
)
from linter.fixes import helper_insertion, replace_node
from linter.model import Fix, Level, Precision
from linter.rule import Rule
from linter.syntax import Node, node_at, text, walk

_FALLBACK_OPERATORS = ("||", "??")
_FUNCTIONS = frozenset(
    {"function_declaration", "function_expression", "function", "arrow_function", "method_definition",
     "generator_function_declaration", "generator_function"}
)  # fmt: skip
_SCOPES = frozenset({"statement_block", "program", "class_body", "switch_case"})
# Schema types whose default is a choice, a date or an address, never a secret.
_NOT_SECRET_SCHEMAS = frozenset({"enum", "nativeEnum", "literal", "boolean", "number", "datetime", "date", "url", "email", "uuid", "ip"})
# Where a literal (with its wrappers) must sit for `check` to report anything: what `hard_coded_value` climbs
# through (arrays, `Buffer.from('…')` arguments), what `_fallback_of`, `_schema_default`, `secret_sink` and `_holder`
# look at. Most strings (JSX attributes, imports, type literals, object values) sit elsewhere and are skipped
# before the costly helpers. Keep in step with those functions.
_VALUE_PARENTS = frozenset(
    {"array", "arguments", "ternary_expression", "augmented_assignment_expression", "assignment_expression",
     "object_assignment_pattern", "assignment_pattern", "variable_declarator", "required_parameter",
     "optional_parameter"}
)  # fmt: skip
# A literal in a pair matters only under these keys (`_schema_default`'s `default:`, `secret_sink`'s options).
_PAIR_KEYS = SECRET_OPTION_NAMES | {"default"}
_SINK_MODULES = tuple(sorted({m.encode() for m, _ in SECRET_ARGUMENTS} | {sink.module.encode() for sink in OPTION_SINKS}))


@dataclass(frozen=True)
class SecretUse:
    setting: str | None = None  # the secret setting a value stands in for, e.g. "JWT_SECRET"
    sink: str | None = None  # the library parameter that takes a value, e.g. "jsonwebtoken sign()"


class SecretFallback(Rule):
    id = "auth/secret-fallback"
    name = "SecretFallback"
    level = Level.ERROR
    precision = Precision.HIGH
    security_severity = "7.5"
    tags = ("security", "auth", "external/cwe/cwe-798", "external/cwe/cwe-1188")
    needles = (b"env", b"onfig", b"jwt", b"jsonwebtoken", b"jose", b"session", b"cookie", b"auth", b"crypto")
    # Every literal; `_may_matter` keeps those in a place `check` looks at. A pattern naming the parent would
    # hand Python fewer literals, but tree-sitter keeps such a pattern pending in every `(`, `[`, call and `||`
    # around a node: its work grows with nesting squared (20,000 nested parentheses took minutes).
    query = "[(string) (template_string)] @value"

    def may_report_in(self, source):
        # Every report names a secret setting (whose name is in the file) or a library that takes a secret
        # (whose module the file imports by name).
        return any(module in source for module in _SINK_MODULES) or may_hold_a_secret_name(source.lower())

    def check(self, match, file):
        if file.is_test:
            return
        literal = match["value"]
        if not _may_matter(literal):
            return
        stringified = stringified_setting(literal, file)
        if stringified is not None:
            sink = secret_sink(literal, file)
            if sink is not None:
                yield file.report(self, literal, _stringified_message(stringified, sink))
            return
        value = hard_coded_value(literal)
        if value is None:
            return
        use = secret_use(value, file)
        if use is not None:
            yield file.report(self, value, _message(use), fixes=_fail_fast_fix(value, file))
            return
        holder = _holder(value)
        if holder is None:
            return
        name, scope = holder
        uses = [(node, use) for node in _references(name, scope, value, file) if (use := secret_use(node, file))]
        if uses:
            related = [file.location(node, "used here") for node, _ in uses]
            yield file.report(self, value, _message(uses[0][1], constant=name), related=related)


def _may_matter(literal: Node) -> bool:
    """False when `literal` sits where `check` cannot report it (a cheap test on its parent only)."""
    # `outermost`, asking each node for its parent once: tree-sitter finds a parent by descending from the
    # root, and the query hands every literal of the file to this test.
    value, parent = literal, literal.parent
    while parent is not None and parent.type in WRAPPERS:
        value, parent = parent, parent.parent
    if parent is None:
        return False
    kind = parent.type
    if kind in _VALUE_PARENTS:
        return True
    if kind == "pair":
        return key_text(parent.child_by_field_name("key")) in _PAIR_KEYS
    if kind == "binary_expression":  # only as the fallback of `||` or `??`
        return parent.child_by_field_name("right") == value and text(parent.child_by_field_name("operator")) in _FALLBACK_OPERATORS
    return False


def _message(use: SecretUse, constant: str | None = None) -> str:
    value = f"the hard-coded value of `{constant}`" if constant else "a hard-coded value"
    if use.setting is not None:
        return f"{use.setting} falls back to {value} when unset; fail at startup instead of running with a secret from the source."
    secret = f"the hard-coded secret in `{constant}`" if constant else "a hard-coded secret"
    return f"{use.sink} gets {secret}; read it from the environment and fail at startup when it is missing."


_REQUIRE_ENV = {
    "javascript": "function requireEnv(name) {\n  const value = process.env[name];\n"
    "  if (!value) throw new Error(`${name} must be set`);\n  return value;\n}\n",
    "typescript": "function requireEnv(name: string): string {\n  const value = process.env[name];\n"
    "  if (!value) throw new Error(`${name} must be set`);\n  return value;\n}\n",
}


def _fail_fast_fix(value: Node, file) -> tuple[Fix, ...]:
    """`process.env.X || 'dev'` becomes `requireEnv('X')`, with the helper added once per file. Unsafe: the
    app now stops where it used to run with the fallback."""
    fallback = outermost(value).parent
    if fallback is None or fallback.type != "binary_expression" or text(fallback.child_by_field_name("operator")) not in _FALLBACK_OPERATORS:
        return ()
    read = unwrap(fallback.child_by_field_name("left"))
    if read is None or read.type not in ("member_expression", "subscript_expression") or text(read.child_by_field_name("object")) != "process.env":
        return ()
    name = setting_name(read, file)
    if not name or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        return ()
    helper = helper_insertion(file, "requireEnv", _REQUIRE_ENV["javascript" if file.language == "javascript" else "typescript"])
    if helper is None:
        return ()
    edits = (replace_node(file, fallback, f"requireEnv('{name}')"), *helper)
    return (Fix(description=f"Read {name} with requireEnv(), which throws when it is unset", edits=edits, safe=False),)


def _stringified_message(setting: str, sink: str) -> str:
    return (
        f"{setting} is interpolated into a string, so when it is unset {sink} gets the secret 'undefined'; "
        "pass it as is and fail at startup when it is missing."
    )


def secret_use(value: Node, file) -> SecretUse | None:
    """How `value` is used as a secret: as the fallback of a secret setting, or as a library's secret."""
    value = outermost(value)
    setting = _fallback_of(value, file)
    if setting is not None:
        return SecretUse(setting=setting)
    sink = secret_sink(value, file)
    return SecretUse(sink=sink) if sink is not None else None


def _fallback_of(value: Node, file) -> str | None:
    """The secret setting `value` stands in for when that setting is unset, if any."""
    parent = value.parent
    if parent is None:
        return None
    kind = parent.type
    if kind == "binary_expression" and parent.child_by_field_name("right") == value:
        if text(parent.child_by_field_name("operator")) not in _FALLBACK_OPERATORS:
            return None
        names = [setting_name(n, file) for n in _alternatives(parent.child_by_field_name("left"))]
        return _secret_among(names, parent, file)
    if kind == "ternary_expression" and value != parent.child_by_field_name("condition"):
        branches = (parent.child_by_field_name("consequence"), parent.child_by_field_name("alternative"))
        other = branches[1] if branches[0] == value else branches[0]
        name = setting_name(other, file)
        if name is None or not _mentions(parent.child_by_field_name("condition"), name, file):
            return None
        return _secret_among([name], parent, file)
    if kind == "augmented_assignment_expression" and parent.child_by_field_name("right") == value:
        if text(parent.child_by_field_name("operator")) not in ("||=", "??="):
            return None
        return _secret_among([setting_name(parent.child_by_field_name("left"), file)], parent, file)
    if kind == "assignment_expression" and parent.child_by_field_name("right") == value:
        name = setting_name(parent.child_by_field_name("left"), file)
        if name is None or not any(_mentions(c, name, file) for c in _enclosing_if_conditions(parent)):
            return None
        return _secret_among([name], parent, file)
    if kind in ("object_assignment_pattern", "assignment_pattern") and parent.child_by_field_name("right") == value:
        return _destructuring_default(parent, file)
    if kind == "arguments" and parent.parent is not None and parent.parent.type == "call_expression":
        # `configService.get('JWT_SECRET', 'dev')`: the second argument is the default.
        call = parent.parent
        key = config_getter_key(call)
        arguments = arguments_of(call)
        if key is not None and len(arguments) > 1 and arguments[1] == value:
            return _secret_among([key], call, file)
    return _schema_default(value)


def _schema_default(value: Node) -> str | None:
    """`JWT_SECRET: z.string().default('dev')` (zod, joi, yup) or `JWT_SECRET: str({ default: 'dev' })`
    (envalid; its `devDefault` applies only outside production and is not flagged)."""
    parent = value.parent
    if parent.type == "arguments" and parent.parent.type == "call_expression":
        call = parent.parent
        if property_name(callee(call)) != "default":
            return None
    elif parent.type == "pair" and key_text(parent.child_by_field_name("key")) == "default":
        holder = outermost(parent.parent).parent
        if holder is None or holder.type != "arguments" or holder.parent.type != "call_expression":
            return None
        call = holder.parent
    else:
        return None
    methods = set()
    node = outermost(call)  # the whole chain: `z.string().min(32).default('dev').describe('…')`
    while node.parent is not None and node.parent.type == "member_expression" and node.parent.parent.type == "call_expression":
        node = outermost(node.parent.parent)
    for link in walk(node):
        if link.type == "call_expression":
            methods.add(property_name(callee(link)))
    if methods & _NOT_SECRET_SCHEMAS:
        return None
    pair = node.parent
    if pair is None or pair.type != "pair" or pair.child_by_field_name("value") != node:
        return None
    key = key_text(pair.child_by_field_name("key"))
    return key if key and is_secret_name(key) else None


def _alternatives(node: Node | None) -> Iterator[Node]:
    """The operands of `a || b ?? c` left of the fallback, in order."""
    stack = [node]
    while stack:
        node = unwrap(stack.pop())
        if node is None:
            continue
        if node.type == "binary_expression" and text(node.child_by_field_name("operator")) in _FALLBACK_OPERATORS:
            stack.append(node.child_by_field_name("right"))
            stack.append(node.child_by_field_name("left"))
        else:
            yield node


def _secret_among(names: list[str | None], expression: Node, file) -> str | None:
    """The first secret setting among `names`; any of them when the whole expression is a library's secret.
    None when the expression is the app's credential for another service, handed straight to that service's
    client (`new Stripe(process.env.STRIPE_SECRET_KEY || 'sk_test')`): the service rejects a placeholder, so
    nothing is exposed."""
    names = [n for n in names if n is not None]
    if not names:
        return None
    expression = outermost(expression)
    if secret_sink(expression, file) is not None:
        return next((n for n in names if is_secret_name(n)), names[0])
    secret = next((n for n in names if is_secret_name(n)), None)
    if secret is None or client_credential(expression, file) is not None:
        return None
    return secret


def _mentions(condition: Node | None, name: str, file) -> bool:
    """Whether `condition` reads the setting `name` (`process.env.X ? … : …`, `!secret`, `typeof x === …`)."""
    return condition is not None and any(
        n.type in ("member_expression", "subscript_expression", "identifier", "call_expression")
        and setting_name(n, file) == name
        for n in walk(condition)
    )


def _enclosing_if_conditions(node: Node) -> Iterator[Node]:
    """Conditions of the `if` statements around `node`, up to the enclosing function."""
    while node.parent is not None and node.type not in _FUNCTIONS:
        parent = node.parent
        if parent.type == "if_statement" and parent.child_by_field_name("consequence") == node:
            condition = parent.child_by_field_name("condition")
            if condition is not None:
                yield condition
        node = parent


def _destructuring_default(default: Node, file) -> str | None:
    """`const { JWT_SECRET = 'dev' } = process.env` or `const { JWT_SECRET: secret = 'dev' } = process.env`."""
    if default.type == "object_assignment_pattern":
        pattern, key = default.parent, default.child_by_field_name("left")
    elif default.parent is not None and default.parent.type == "pair_pattern":
        pattern, key = default.parent.parent, default.parent.child_by_field_name("key")
    else:
        return None
    declarator = pattern.parent if pattern is not None else None
    if declarator is None or declarator.type != "variable_declarator" or key is None:
        return None
    if declarator.child_by_field_name("name") != pattern or not is_env_object(declarator.child_by_field_name("value"), file):
        return None
    name = key_text(key)
    return name if is_secret_name(name) else None


def _holder(value: Node) -> tuple[str, Node] | None:
    """(`X`, the scope `X` is visible in) for `const X = value` or a parameter default `function f(X = value)`."""
    parent = value.parent
    if parent is None:
        return None
    if parent.type == "variable_declarator" and parent.child_by_field_name("value") == value:
        name = parent.child_by_field_name("name")
        scope = parent
        while scope is not None and scope.type not in _SCOPES:
            scope = scope.parent
    elif parent.type in ("assignment_pattern", "required_parameter", "optional_parameter"):
        if parent.type == "assignment_pattern":
            name, default = parent.child_by_field_name("left"), parent.child_by_field_name("right")
        else:
            name, default = parent.child_by_field_name("pattern"), parent.child_by_field_name("value")
        if default != value or parent.parent is None or parent.parent.type != "formal_parameters":
            return None
        scope = parent.parent.parent
    else:
        return None
    if name is None or name.type != "identifier" or scope is None:
        return None
    return text(name), scope


def _references(name: str, scope: Node, value: Node, file) -> Iterator[Node]:
    """Identifiers named `name` in `scope` after `value` (a cheap byte search, then the node at each hit)."""
    pattern = re.compile(rb"(?<![\w$])" + re.escape(name.encode()) + rb"(?![\w$])")
    for hit in pattern.finditer(file.source, value.end_byte, scope.end_byte):
        node = node_at(file.root, hit.start(), hit.end())
        if node is not None and node.type in ("identifier", "shorthand_property_identifier") and text(node) == name:
            yield node
