"""A secret falls back to a value written in the code when its environment variable is unset.

## Why is this bad?
`process.env.JWT_SECRET || 'dev-secret'` keeps the app running when the variable is missing from a deployment,
signing tokens and session cookies with a key that anyone who can read the repository (or guess a common
default) knows: they can mint a token for any user or forge a webhook. The same holds for a secret passed as a
literal straight to `jsonwebtoken`, `jose`, `express-jwt`, `passport-jwt`, `express-session`, `cookie-session`,
`cookie-parser`, NextAuth/Auth.js, iron-session, `@fastify/jwt`, `@nestjs/jwt` (`JwtModule.register()`,
`registerAsync()` factories, `jwtService.sign()`), `hono/jwt` or `node:crypto` (`createHmac`, ciphers).

The rule reports:
- a hard-coded fallback for a setting whose name says it is a secret (`*_SECRET`, `*_PASSWORD`, `*_TOKEN`,
  `API_KEY`, `PRIVATE_KEY`, `SALT`, `PEPPER`, `SIGNING_KEY`, …) or for any setting used as a library's secret:
  `||`, `??`, a ternary on the setting, a destructuring default, `||=`, `if (!process.env.X) process.env.X = '…'`,
  `configService.get('X', '…')`, and schema defaults (`X: z.string().default('…')`, envalid `default:`).
  Settings are read through `process.env`, `import.meta.env`, aliases and validated copies of them, names
  destructured from them, same-file config objects, and config objects imported from a local config module;
- a literal (or `new TextEncoder().encode('…')`, `Buffer.from('…')`, an array of them) that reaches a library's
  secret, or the fallback of a secret setting, wherever it is written;
- an empty fallback (`process.env.X ?? ''`) that reaches `node:crypto`'s `createHmac`, which accepts an empty key:
  when `X` is unset anyone can compute a valid signature;
- `` `${process.env.X}` `` passed as a library's secret: when `X` is unset the secret is the string `'undefined'`.

It follows the value backward from where it is used, on the value-flow engine (`linter.flow`, with the spec in
`_secret_flow.py`): through constants, parameter and destructuring defaults, object literals (`config.jwt.secret`)
and properties set on them (`opts.secretOrKey = '…'`), class fields (`this.secret`), helpers of the same file, and
across modules: a name imported from another module (a named or default export, `module.exports`, through
re-exporting barrels, tsconfig aliases and workspace packages) is resolved by the module graph to the module that
writes its value, and followed there.

It stays quiet for names about a secret rather than the secret (`*_EXPIRES_IN`, `*_TTL`, `*_ALGORITHM`,
`SALT_ROUNDS`, `TOKEN_COOKIE_NAME`), names bundled into browser code (`NEXT_PUBLIC_*`, `VITE_*`, …) and public
keys; for fallbacks that fail (`|| requireEnv('X')`, `?? (() => { throw … })()`) or read another variable; for an
empty fallback anywhere but an HMAC key (the JWT, session and cipher libraries refuse one), a word for "none"
(`'not-required'`), a file path or a URL; for envalid's `devDefault` and a
`NODE_ENV !== 'production' ? 'dev' : process.env.X` switch, which still need `NODE_ENV` set in every deployment;
for the app's own credential at another service, which that service refuses when it is wrong, so nothing is
exposed: handed straight to that service's client (`new Stripe(process.env.STRIPE_SECRET_KEY || 'sk_test')`,
`{ apiKey: … }`, `{ auth: { pass: … } }`), or named as a login at a database, cache, broker or mail server
(`DATABASE_PASSWORD || 'postgres'`, `REDIS_PASSWORD || 'password'`, `SMTP_PASS`), an OAuth client secret
(`GOOGLE_CLIENT_SECRET`), or a vendor's credential whose fallback says it is a stand-in
(`TWITTER_API_KEY: str({ default: 'dummyApiKey' })`, `TWITTER_BEARER_TOKEN || 'test'`), or kept in a group of
settings that says where the service is (`storage: { bucket: { endPoint, accessKey, secretKey } }`,
`{ baseUrl, apiKey }`, a request signer's `{ region, accessKeyId, secretAccessKey = '' }` whose key only
reaches an HMAC of the app's outgoing request) — unless that value is used as a secret of the app's own
(signing, verifying, a session); for a setting whose only secret word is a salt (`ROLLOUT_SALT`: a salt only
makes equal inputs hash apart; one that keys an HMAC or a key derivation is still reported there); for a
setting of a NestJS configuration factory (`export default () => ({…})`, `registerAs('auth', …)`) that its
importers only list in `ConfigModule.forRoot({ load })`, when no key read in the project
(`configService.get('auth.jwt')`, a dotted key string) reaches its key path, or every read that does is handed
straight to another service's client (`new Resend(configService.get('mail.apiKey'))`); for a fallback
sent as a header of the app's own outgoing request (the receiver is reported where it compares it); for
test files; and for
seed scripts (`prisma/seed.ts`, `seeds/`, `seeder/`), whose values are demo data, except an administrator's
password (`ADMIN_PASSWORD || '…'`): a deployment seeded with the script signs in with it.

It also stays quiet where the value never reaches a running app:
- a module written to be imported (it exports something) that nothing loads, in a package whose scripts or
  `main` name its entry: a helper left behind after a migration, or `knexfile.js`, which only the knex command
  loads for migrations. A module is taken as loaded when a framework could load it by its path (Next.js routes,
  `*.config.*` files, entry names such as `server` or `index` at the package's top, files its scripts name, a
  `#!` line, a serverless `handler`), when its package depends on a route autoloader, a file-routed framework or
  a serverless platform, when another package of the repository depends on it, when one of its files
  `require`s a computed path, or when an import the linter could not resolve ends in the module's name;
- a setting's fallback in a one-shot command (a file a package script other than the server's runs, or one
  with a `#!` line or `require.main === module` that starts no server) and in modules only such commands load,
  when it reaches no library's secret: a command accepts no request, so a credential it sends elsewhere is
  refused there when wrong;
- a setting's fallback a module exports under a name no other file mentions (nor the module itself, past the
  declaration), with no use found, when other modules do import that module: nothing reads the value;
- a value whose only use is `@fastify/cookie`'s `secret` when no file of the project signs or unsigns a cookie
  (`signed: true` in a cookie's options, `signCookie()`, `unsignCookie()`, `signedCookies`): the plugin uses
  its secret for nothing else. cookie-parser's secret is still reported, since it hands the secret to other
  middleware as `req.secret`; session plugins sign their cookie with theirs.
A written prefix joined to another value (`createHmac('sha256', 'AWS4' + secretKey)`, a signing scheme's fixed
prefix) is judged by that other value; two written halves are one hard-coded value.

The finding sits on the hard-coded value. The places that use it, in its module or in others, are related
locations, and its SARIF code flow goes from the value through every module to the first of them;
`loadlint-ignore` on the value's line silences it.

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
from dataclasses import field, replace
from functools import lru_cache
from typing import Iterator

from linter import lazy_re
from linter.frameworks import ANY_FRAMEWORK, EXPRESS, FASTIFY, HONO, NESTJS, NEXTAUTH
from linter.flow.file_flow import file_flow
from linter.flow.modules import unmentioned
from linter.flow.project import hop_locations
from linter.js.exports import export_table
from linter.js.expressions import WRAPPERS, arguments_of, callee, key_text, outermost, property_name, unwrap
from linter.js.functions import FUNCTION_TYPES
from linter.fixes import helper_insertion, replace_node, source_digest
from linter.lazy_dataclasses import dataclass
from linter.model import Finding, Fix, Level, Location, Precision, Span
from linter.rule import Fact, Rule, facts_of, held_finding
from linter.syntax import Node, compile_query, has_node_type, text, walk

from ._config_keys import factory_key, key_unused
from ._env import config_getter_key, env_aliases, is_env_object, may_declare_an_alias, setting_name
from ._module_use import COMMAND_MARKERS, names_an_entry, never_loaded, runs_in_commands_only
from ._secret_flow import (
    EMPTY,
    HARD_CODED_SECRETS,
    Hop,
    ImportedUse,
    SecretUse,
    SourceRecord,
    UseRecord,
    fallback_setting,
    follow_import,
    holder_name,
    imported_callee,
    is_imported,
    is_source,
    refused_when_empty,
    steps_of,
)
from ._secrets import (
    JOSE_BUILDER_METHODS,
    SECRET_ARGUMENTS,
    SECRET_OPTION_NAMES,
    SINK_MODULES,
    OPTION_SINKS,
    client_credential,
    connection_login,
    is_outbound_credential,
    is_secret_name,
    literal_text,
    may_hold_a_secret_name,
    may_name_a_secret_at,
    names_a_secret_library,
    secret_word_spans,
    name_tokens,
    only_a_salt,
    options_consumer,
    secret_sink,
    stringified_setting,
)

_FALLBACK_OPERATORS = ("||", "??")
_FUNCTIONS = frozenset(
    {"function_declaration", "function_expression", "function", "arrow_function", "method_definition",
     "generator_function_declaration", "generator_function"}
)  # fmt: skip
# Schema types whose default is a choice, a date or an address, never a secret.
_NOT_SECRET_SCHEMAS = frozenset({"enum", "nativeEnum", "literal", "boolean", "number", "datetime", "date", "url", "email", "uuid", "ip"})
# Option keys that take a secret, and `default:` (a schema's default for a setting).
_PAIR_KEYS = SECRET_OPTION_NAMES | {"default"}
# Functions whose arguments may be a secret or a setting's default, by the name they are called with; a
# literal argument is looked at in any call (an import may be renamed).
_CALLS = frozenset({path[-1] for _, path in SECRET_ARGUMENTS if path} | set(JOSE_BUILDER_METHODS.values()) | {"get", "default"})
# Values that are never a secret, whatever their position.
_NOT_VALUES = frozenset(
    {"number", "true", "false", "null", "undefined", "regex", "object", "arrow_function", "function_expression",
     "function", "class", "jsx_element", "jsx_self_closing_element", "comment"}
)  # fmt: skip
# Seed scripts fill a database with demo rows (accounts, API keys): their values are fixtures, except the
# password of an administrator account a deployment may be provisioned with.
_SEED_SCRIPT = lazy_re.compile(r"(^|/)(seeds?|seeders?)(/|([.-][^/]*)?\.[cm]?[jt]sx?$)|\.seeds?\.[cm]?[jt]sx?$", re.IGNORECASE)

_SCRIPTS_FOLDER = lazy_re.compile(r"(^|/)(scripts?|bin|cli|tools|commands)/")

_PASSWORD_WORDS = frozenset({"PASSWORD", "PASSWD", "PASS", "PWD", "PASSPHRASE"})
_ACCOUNT_OWNERS = frozenset({"ADMIN", "ADMINISTRATOR", "ROOT", "SUPERUSER", "SUPERADMIN", "OWNER"})


@lru_cache(maxsize=None)
def _uses_query(language: str, sinks: bool) -> str:
    """The nodes around every place a value may be used as a secret: the fallback positions `_fallback_of`
    reads and the positions `secret_sink` reads. One node a pattern, never a parent pattern with a child: a
    parent's pattern stays pending in every subtree it holds, which costs the nesting depth squared (a
    10,000-term `a || b || …` chain took a minute); `_uses_in` picks the use out of each node in Python.

    Without `sinks` (the file names no library that takes a secret, so `secret_sink` finds none), the only uses
    are fallbacks: of an object's properties, only a schema's `default:` can hold one; of the arguments of
    calls, only those of a getter or a `.default()` (`_getter_arguments`). Both are found by name (`@name`,
    from which `_default_pair` climbs to the property and `_called_by_name` to the call) instead of every
    property and every call of the file."""
    keys = " ".join(f'"{key}"' for key in sorted(_PAIR_KEYS))
    if sinks:
        others = ["(pair) @around", "(arguments) @around", f"((shorthand_property_identifier) @use (#any-of? @use {keys}))"]
    else:
        others = [_GETTER_NAMES]
    return "\n".join([*(f"({kind}) @around" for kind in _FALLBACK_HOLDERS if has_node_type(language, kind)), *others])


# The names `_uses_query` finds getters and schema defaults by.
_GETTER_NAMES = """((property_identifier) @name (#any-of? @name "get" "default"))
((string_fragment) @name (#any-of? @name "get" "default"))"""


@lru_cache(maxsize=None)
def _near_words_query(language: str) -> str:
    """The nodes around a secret word that `_FileScan._near_secret_words` looks at: the fallbacks and calls
    that hold one, the properties (and destructured properties) whose key may, and the declarators of locals
    that may stand for a setting."""
    holders = [f"({kind}) @around" for kind in _FALLBACK_HOLDERS if has_node_type(language, kind)]
    return "\n".join([*holders, "(call_expression) @call", "(pair) @pair", "(pair_pattern) @pair_pattern", "(variable_declarator) @declarator"])


# Where a fallback (or a default) sits: the field of the node that holds it.
_FALLBACK_HOLDERS = {
    "binary_expression": ("right",),
    "ternary_expression": ("consequence", "alternative"),
    "augmented_assignment_expression": ("right",),
    "assignment_expression": ("right",),
    "object_assignment_pattern": ("right",),
    "assignment_pattern": ("right",),
}
_COOKIE = lazy_re.compile(r"(?i)cookie")
_SIGNING_ONLY_COOKIE_SINK = "@fastify/cookie "
_SIGNED_COOKIE = lazy_re.compile(rb"\bsigned\s*:\s*(true|!0)\b|\b(un)?signCookie\b|\bsignedCookies?\b")
_STRINGS = ("string", "template_string")
_MEMBERS = frozenset({"member_expression", "subscript_expression"})
# Fallbacks that name their setting in their own text (`X || 'dev'`, a ternary's other branch, an assignment's
# left), or through a local that stands for it (`env_aliases`).
_NAMING_THEIR_SETTING = frozenset({"binary_expression", "ternary_expression", "augmented_assignment_expression", "assignment_expression"})
_ENV_READ = lazy_re.compile(rb"(process|import\.meta|Bun|Deno)\.env\b")


def _uses_in(around: Node) -> Iterator[Node]:
    """The values `around` (a node `_uses_query` matched) may use as a secret."""
    kind = around.type
    if kind in _FALLBACK_HOLDERS:
        if kind == "binary_expression":
            # An operator is a token whose type is its text (a missing one has the type and no text).
            operator = around.child_by_field_name("operator")
            if operator is None or operator.type not in _FALLBACK_OPERATORS or operator.is_missing:
                return
        for field_name in _FALLBACK_HOLDERS[kind]:
            value = around.child_by_field_name(field_name)
            if value is not None:
                yield value
    elif kind == "pair":
        key = around.child_by_field_name("key")
        value = around.child_by_field_name("value")
        if key is not None and value is not None and key.type in ("property_identifier", "string") and key_text(key) in _PAIR_KEYS:
            yield value
    elif kind == "arguments":
        arguments = [argument for argument in around.named_children if argument.type != "comment"]
        if all(argument.type in _STRINGS for argument in arguments):  # no call needs looking at (most: `f()`)
            yield from arguments
            return
        call = around.parent
        function = call.child_by_field_name("function") if call is not None and call.type == "call_expression" else None
        name = property_name(function) if function is not None and function.type == "member_expression" else text(function)
        named = function is not None and function.type in ("member_expression", "identifier") and name in _CALLS
        cookie = function is not None and function.type == "identifier" and _COOKIE.search(name or "") is not None
        for argument in arguments:
            if named or cookie or argument.type in _STRINGS:
                yield argument


def _getter_arguments(call: Node) -> Iterator[Node]:
    """`_uses_in` the arguments of `call` in a file where no library takes a secret: of the arguments of calls,
    only those of `config.get(key, default)` and a schema's `.default(value)` may be a fallback (`_fallback_of`)."""
    if property_name(callee(call)) in ("get", "default"):
        arguments = call.child_by_field_name("arguments")
        if arguments is not None and arguments.type == "arguments":
            yield from _uses_in(arguments)


# What lies between a method's name and its call (`callee` looks through parentheses and an `await`).
_CALLEE_PARTS = _MEMBERS | WRAPPERS | {"string", "template_string", "await_expression"}


def _called_by_name(name: Node) -> Node | None:
    """The call `name` (the `get` of `config.get`, the `'get'` of `config['get']`) may be the method of."""
    node = name.parent
    while node is not None and node.type in _CALLEE_PARTS:
        node = node.parent
    return node if node is not None and node.type == "call_expression" else None



def _default_pair(key: Node) -> Iterator[Node]:
    """The value of the `default:` property whose key (or the text of whose quoted key) is `key`."""
    if key.type == "string_fragment":
        key = key.parent
    pair = key.parent if key is not None else None
    if pair is not None and pair.type == "pair" and pair.child_by_field_name("key") == key:
        yield from _uses_in(pair)


# Options objects passed by name (`new JwtStrategy(opts, verify)`), looked for in files that import a library
# taking one (or one of its subpaths).
_OPTION_MODULES = frozenset(sink.module for sink in OPTION_SINKS)
_OPTION_SUBPATHS = tuple(sorted(f"{module}/" for module in _OPTION_MODULES))
_OPTIONS_QUERY = "(arguments (identifier) @options)"


class SecretFallback(Rule):
    id = "auth/secret-fallback"
    project_reports_at = frozenset({"held", "source"})
    project_reports_imported_by = frozenset({"imported"})  # the module holding the value
    name = "SecretFallback"
    level = Level.ERROR
    precision = Precision.HIGH
    security_severity = "7.5"
    tags = ("security", "auth", "external/cwe/cwe-798", "external/cwe/cwe-1188")
    frameworks = (ANY_FRAMEWORK, EXPRESS, NEXTAUTH, NESTJS, FASTIFY, HONO)
    needles = (b"env", b"onfig", b"jwt", b"jsonwebtoken", b"jose", b"session", b"cookie", b"auth", b"crypto")
    # One match per file: its uses of secrets are read together, so that a value used in several places is one
    # finding (`_uses_query` finds them).
    query = "(program) @program"

    def may_report_in(self, source):
        # Every use names a secret setting (whose name is in the file) or a library that takes a secret
        # (whose module the file imports by name).
        return SINK_MODULES.any_in(source) or may_hold_a_secret_name(source.lower())

    def check(self, match, file):
        if file.is_test:
            return
        yield from _FileScan(self, file).run()

    def check_project(self, project):
        """Uses whose value another module holds, joined with what those modules keep of their hard-coded values;
        and the findings of modules that may not run in the app, released when they do."""
        for fact in facts_of(project, self, "held"):
            finding = held_finding(fact)
            kept = fact.data.get("sink", True) or fact.data.get("account", True)
            config_key = fact.data.get("config_key")
            if config_key is not None and key_unused(project, fact.path, config_key):
                continue
            if fact.data.get("cookie_secret", False) and not _signs_cookies(project):
                continue
            runs = fact.data.get("direct", False) or _runs(project, fact.path, kept)
            if finding is not None and finding.path in project.reported_paths and runs:
                yield finding
        groups: dict[tuple[str, tuple], _Group] = {}
        reported = {(fact.path, _where(fact.span)) for fact in facts_of(project, self, "reported")}
        for fact in facts_of(project, self, "source"):
            record = SourceRecord.from_data(fact.data["source"])
            group = groups.setdefault((fact.path, _where(fact.span)), _Group(fact.path, fact.span, record.empty, record.holder))
            group.setting, group.fixes = record.setting, record.fixes
            if record.direct is not None:
                group.direct = _Use(fact.path, record.direct.span, record.direct.use, ())
            group.uses.extend(_Use(fact.path, u.span, u.use, (Hop(fact.path, u.steps),)) for u in record.uses)
        followed: dict[tuple, object] = {}
        for fact in facts_of(project, self, "imported"):
            imported = ImportedUse.from_data(fact.data["use"])
            key = (fact.path, imported.callee)
            if key not in followed:
                followed[key] = follow_import(project, fact.path, imported.callee, skip=lambda file: file.is_test)
            source = followed[key]
            if source is None or (source.path, _where(source.span)) in reported:
                continue
            if source.empty and not imported.use.use.empty_key:
                continue
            group = groups.setdefault((source.path, _where(source.span)), _Group(source.path, source.span, source.empty, source.holder))
            group.setting = group.setting or source.setting
            hops = (*source.hops, Hop(fact.path, imported.use.steps))
            group.uses.append(_Use(fact.path, imported.use.span, imported.use.use, hops))
        unread = _unread_names(project, [g for g in groups.values() if _read_by_name_only(g) and project.importers_of(g.path)])
        for key in sorted(groups):
            group = groups[key]
            if (group.path, _exported_name(group.holder)) in unread:
                continue
            if _cookie_secret_only(group) and not _signs_cookies(project):
                continue
            finding = group.finding(self)
            kept = group.has_sink or _provisions_an_account(group.setting)
            if finding is not None and finding.path in project.reported_paths and _runs(project, group.path, kept):
                yield finding


def _read_by_name_only(group: "_Group") -> bool:
    """A setting's fallback the module exports and no use of which was found: only the name it is exported
    under can tell whether anything reads it."""
    return not group.uses and not group.has_sink and _exported_name(group.holder) is not None


def _exported_name(holder: str | None) -> str | None:
    """`resetSecret` for `module.exports.resetSecret`, the name itself for a constant or a property."""
    name = holder.rsplit(".", 1)[-1] if holder else None
    return name if name and re.fullmatch(r"[A-Za-z_$][\w$]*", name) else None


def _unread_names(project, groups: list["_Group"]) -> set[tuple[str, str]]:
    """(module, exported name) of the `groups` (of modules that other modules import) whose name no other file
    of the project mentions, and their own module only where it declares it: nothing reads the value (`export
    const tokenKey = … || 'secret'` that every importer leaves alone)."""
    return unmentioned(project, {(g.path, _exported_name(g.holder)) for g in groups})


def _runs(project, path: str, kept_in_commands: bool) -> bool:
    """Whether a hard-coded value of the module at `path` is worth reporting where the module runs: never for a
    module nothing loads; in one-shot commands (and modules only they load) only when it reaches a library's
    secret or sets a password (`ADMIN_PASSWORD || '…'` for the account a bootstrap command creates), since a
    command accepts no request: a credential it sends elsewhere is refused there when wrong."""
    if never_loaded(project, path):
        return False
    return kept_in_commands or not runs_in_commands_only(project, path)


def _provisions_an_account(setting: str | None) -> bool:
    """A password, or any secret of an administrator's account: a command that reads it creates or resets a
    login the server then accepts."""
    tokens = set(name_tokens(setting)) if setting else set()
    return bool(tokens & (_ACCOUNT_OWNERS | _PASSWORD_WORDS))


def _held(
    rule: Rule,
    file,
    finding: Finding,
    sink: bool,
    account: bool,
    config_key: str | None = None,
    direct: bool = False,
    cookie_secret: bool = False,
) -> Fact:
    """A finding in a module that may not run in the app, or that only a cookie plugin uses: the project phase
    knows whether anything loads the module, or signs a cookie. Its fixes are stamped with the text they were
    made for, as the engine does for the file phase's findings."""
    digest = source_digest(file.source)
    finding = finding.model_copy(update={"fixes": tuple(fix.model_copy(update={"source_digest": digest}) for fix in finding.fixes)})
    data = {"finding": finding.model_dump(mode="json"), "sink": sink, "account": account}
    if config_key is not None:
        data.update(config_key=config_key)
    if direct:
        data.update(direct=True)  # held only for the key or the cookie signing, reported wherever it is
    if cookie_secret:
        data.update(cookie_secret=True)
    return Fact(rule_id=rule.id, kind="held", path=file.path, span=finding.span, data=data)


def _cookie_secret_only(group: "_Group") -> bool:
    """Every library the value was found keying is the cookie plugin whose secret only signs the cookies the
    app asks it to (`@fastify/cookie`): when nothing signs or unsigns one, the secret protects nothing.
    (cookie-parser is left out: it hands its secret to other middleware as `req.secret`.)"""
    uses = (*group.uses, *((group.direct,) if group.direct else ()))
    sinks = [u.use.sink for u in uses if u.use.sink is not None]
    return bool(sinks) and all(sink.startswith(_SIGNING_ONLY_COOKIE_SINK) for sink in sinks)


def _signs_cookies(project) -> bool:
    """Whether some file of the project signs or unsigns a cookie: `signed: true` in a cookie's options,
    `signCookie()`/`unsignCookie()`, `signedCookies`."""
    return project.memo(("auth.signs-cookies",), lambda: _scan_for_signed_cookies(project))


def _scan_for_signed_cookies(project) -> bool:
    for path in project.files:
        source = project.read_js_source(path)
        if source is not None and _SIGNED_COOKIE.search(source) is not None:
            return True
    return False


def _seeded_fixture(use: SecretUse, path: str) -> bool:
    """A seed script's value: demo data, unless it is an administrator's password (`ADMIN_PASSWORD || '…'`),
    which a deployment seeded with the script would log in with."""
    if _SEED_SCRIPT.search(path) is None:
        return False
    return use.setting is None or not _ACCOUNT_OWNERS.intersection(name_tokens(use.setting))


def _where(span: Span) -> tuple:
    return (span.start_line, span.start_column, span.end_line, span.end_column)


# --- one file ----------------------------------------------------------------------------------------------


@dataclass
class _Found:
    """A hard-coded value of the file and the places in the file that use it as a secret."""

    source: Node
    empty: bool
    uses: list[tuple[Node, SecretUse, tuple]] = field(default_factory=list)  # (use, how, steps)


class _FileScan:
    def __init__(self, rule: Rule, file) -> None:
        self.rule = rule
        self.file = file
        self.flows = file_flow(file, HARD_CODED_SECRETS)

    def run(self) -> Iterator:
        found: dict[tuple[int, int], _Found] = {}
        uses, options = self._candidates()
        for node in uses:
            stringified = stringified_setting(node, self.file)
            if stringified is not None:
                sink = secret_sink(node, self.file)
                if sink is not None:
                    yield self.file.report(self.rule, node, _stringified_message(stringified, sink.label))
                continue
            use = secret_use(node, self.file)
            if use is not None and (_seeded_fixture(use, self.file.path) or _sent_as_a_request_header(node, use)):
                continue
            if use is not None and use.empty_key and refused_when_empty(node):
                use = replace(use, empty_key=False)  # `if (!secret) throw …` before it: never an empty key
            if use is not None:
                yield from self._follow(node, use, self.flows.trace(node), found)
        for node in options if not _SEED_SCRIPT.search(self.file.path) else ():
            # An options object passed by name (`new JwtStrategy(opts, verify)`): its secret options are uses.
            consumer = options_consumer(node, self.file)
            for key in sorted(consumer.keys) if consumer is not None else ():
                use = SecretUse(sink=f"{consumer.module} `{key}`")
                yield from self._follow(node, use, self.flows.tracer.trace_path(node, (key,)), found)
        for key in sorted(found):
            yield from self._source(found[key])

    def _follow(self, node: Node, use: SecretUse, flow, found: dict) -> Iterator:
        """Keep what `flow`, the value `node` uses as a secret, starts at: a hard-coded value of this file, or a
        name imported from another module (a fact for the project phase)."""
        if is_imported(flow):
            imported = imported_callee(flow)
            if imported is not None:
                record = ImportedUse(UseRecord(self._span(node), use, steps_of(flow, self.file)), imported)
                yield self.file.fact(self.rule, "imported", node, use=record.to_data())
        elif is_source(flow):
            empty = flow.input.origin == EMPTY
            if empty and not use.empty_key:
                return
            source = flow.steps[0].node
            if _signs_for_a_service(source, use):
                return
            entry = found.setdefault((source.start_byte, source.end_byte), _Found(source, empty))
            entry.uses.append((node, use, steps_of(flow, self.file)))

    def _candidates(self) -> tuple[list[Node], list[Node]]:
        """The values in a position that uses them as a secret, and the options objects passed by name to a
        library that takes a secret option (only in a file that imports one)."""
        language, root = self.file.language, self.file.root
        uses: dict[tuple[int, int], Node] = {}
        options: list[Node] = []
        # A value is used as a library's secret only in a file that names one of those libraries.
        sinks = names_a_secret_library(self.file)
        if sinks and any(b.module in _OPTION_MODULES or b.module.startswith(_OPTION_SUBPATHS) for b in self.file.import_bindings):
            options = compile_query(_OPTIONS_QUERY, language).captures(root).get("options", [])
        if sinks:
            captures = compile_query(_uses_query(language, True), language).captures(root)
            found = [*captures.get("use", ()), *(use for around in captures.get("around", ()) for use in _uses_in(around))]
        else:
            found = self._fallbacks()
        for node in found:
            value = unwrap(node)
            if value is None or value.type in _NOT_VALUES or (value.type in _MEMBERS and _ENV_READ.match(value.text)):
                continue  # an environment read is no value written in the code
            node = outermost(node)
            uses.setdefault((node.start_byte, node.end_byte), node)
        return [uses[key] for key in sorted(uses)], sorted(options, key=lambda node: node.start_byte)

    def _fallbacks(self) -> list[Node]:
        """In a file that names no library taking a secret, the values that may be the fallback of a setting
        named as a secret, the only uses there: `is_secret_name` needs a secret word in the name, which is
        written in the fallback (`X || 'dev'`) or its property (`X: z.string().default('dev')`), unless a
        local stands for the setting. So only the nodes around the secret words are looked at where no local
        may, and the whole file elsewhere."""
        near = self._near_secret_words()
        if near is None:
            language = self.file.language
            captures = compile_query(_uses_query(language, False), language).captures(self.file.root)
            holders, calls, names = captures.get("around", []), [], captures.get("name", [])
        else:
            holders, calls, names = near
        found = [use for holder in holders for use in _uses_in(holder)]
        found += [use for call in [*calls, *filter(None, map(_called_by_name, names))] for use in _getter_arguments(call)]
        found += [use for key in names if key.text == b"default" for use in _default_pair(key)]
        return found

    def _near_secret_words(self) -> tuple[list[Node], list[Node], list[Node]] | None:
        """`_fallbacks`' holders, calls and names, from the nodes around the file's secret words (a query
        matches only the nodes over `secret_word_spans`): the fallbacks that hold a secret word, the calls
        around one (`config.get('JWT_SECRET', …)`), the destructuring defaults and the names of the getters
        and schema defaults under a property whose key holds one. None where a local may stand for a setting
        named as a secret (its declarator holds the name), and where the words sit so deep that the nodes
        around them outnumber the file's (every word of a chain `A_SECRET || B_SECRET || …` is under all of it)."""
        language, root = self.file.language, self.file.root
        query = compile_query(_near_words_query(language), language)
        found: dict[str, dict[int, Node]] = {"around": {}, "call": {}, "pair": {}, "pair_pattern": {}, "declarator": {}}
        budget = root.descendant_count
        for span in secret_word_spans(self.file):
            matches = query.matches(root, span)
            budget -= len(matches)
            if budget < 0:
                return None
            for _, captures in matches:
                for capture, nodes in captures.items():
                    found[capture].update((node.id, node) for node in nodes)
        if any(map(may_declare_an_alias, found["declarator"].values())) and self._aliases_may_name_a_secret():
            return None
        holders = [h for h in found["around"].values() if h.type not in _NAMING_THEIR_SETTING or self._may_name_a_secret(h)]
        holders += filter(None, (pattern.child_by_field_name("value") for pattern in found["pair_pattern"].values()))
        names_query = compile_query(_GETTER_NAMES, language)
        names = [
            name
            for pair in found["pair"].values()
            if self._may_name_a_secret(pair.child_by_field_name("key")) and pair.child_by_field_name("value") is not None
            for name in names_query.captures(pair.child_by_field_name("value")).get("name", [])
        ]
        return holders, list(found["call"].values()), names

    def _may_name_a_secret(self, node: Node | None) -> bool:
        return node is not None and may_name_a_secret_at(self.file, node.start_byte, node.end_byte)

    def _aliases_may_name_a_secret(self) -> bool:
        """Whether a local of the file may stand for a setting named as a secret: one destructured or copied
        from the environment, or a config object whose text may name one (`env_aliases`)."""
        aliases = env_aliases(self.file)
        return any(may_hold_a_secret_name(name.lower().encode()) for name in aliases.env_vars.values()) or any(
            may_name_a_secret_at(self.file, value.start_byte, value.end_byte) for value in aliases.config_objects.values()
        )

    def _source(self, found: _Found) -> Iterator:
        file, source = self.file, found.source
        direct = _direct_use(found)
        others = [
            _Use(file.path, self._span(node), use, (Hop(file.path, steps),))
            for node, use, steps in found.uses
            if not _encloses(node, source)
        ]
        fixes = _fail_fast_fix(source, file) if direct is not None else ()
        setting = fallback_setting(source, file)
        if _other_modules_may_read(source, file):
            record = SourceRecord(
                found.empty,
                holder_name(source),
                UseRecord(self._span(direct[0]), direct[1]) if direct is not None else None,
                tuple(UseRecord(u.span, u.use, u.hops[0].steps) for u in others),
                fixes,
                setting,
            )
            yield file.fact(self.rule, "source", source, source=record.to_data())
            return
        group = _Group(file.path, self._span(source), found.empty, holder_name(source), setting, fixes)
        group.direct = _Use(file.path, self._span(direct[0]), direct[1], ()) if direct is not None else None
        group.uses = others
        finding = group.finding(self.rule)
        if finding is not None:
            # A setting of a configuration factory: the project knows whether anything reads its key.
            key = factory_key(source) if not group.has_sink else None
            cookie = _cookie_secret_only(group)
            if _may_be_a_command(file) or (names_an_entry(file.packages[0] if file.packages else None) and _exports_something(file)):
                sink = group.has_sink or any(secret_sink(node, file) is not None for node, _, _ in found.uses)
                account = any(_provisions_an_account(use.setting) for _, use, _ in found.uses) or _provisions_an_account(setting)
                yield _held(self.rule, file, finding, sink, account, config_key=key, cookie_secret=cookie)
            elif key is not None or cookie:
                yield _held(self.rule, file, finding, True, True, config_key=key, direct=True, cookie_secret=cookie)
            else:
                yield finding
            yield file.fact(self.rule, "reported", source)

    def _span(self, node: Node) -> Span:
        return self.file.lines.span(node.start_byte, node.end_byte)


def _sent_as_a_request_header(node: Node, use: SecretUse) -> bool:
    """A setting's fallback written as a header of a request the app sends (`fetch(url, { headers: { 'x-cron-key':
    process.env.CRON_SECRET || 'dev' } })`): the receiver decides what the value opens, and is reported where it
    compares it."""
    while node.parent is not None and node.parent.type in ("binary_expression", "parenthesized_expression"):
        node = node.parent
    pair = node.parent
    if use.sink is not None or pair is None or pair.type != "pair" or pair.child_by_field_name("value") != node:
        return False
    headers = pair.parent.parent if pair.parent is not None and pair.parent.type == "object" else None
    if headers is None or headers.type != "pair" or key_text(headers.child_by_field_name("key")) != "headers":
        return False
    options = headers.parent
    return options is not None and options.type == "object" and options.parent is not None and options.parent.type == "arguments"


def _signs_for_a_service(source: Node, use: SecretUse) -> bool:
    """A value kept as the credential of a connection to another service (`{ region, accessKeyId,
    secretAccessKey = '' }`) that reaches only an HMAC: the app signs its own requests to that service
    (SigV4-style), and only the service checks the signature; a wrong key makes the call fail."""
    if connection_login(source) is None:
        return False
    return use.sink is None or use.sink.endswith("createHmac()")


def _encloses(node: Node, inner: Node) -> bool:
    return node.start_byte <= inner.start_byte and inner.end_byte <= node.end_byte


def _direct_use(found: _Found) -> tuple[Node, SecretUse] | None:
    """The use the hard-coded value is itself (or the smallest one around it: `secret: process.env.X || 'dev'`)."""
    around = [(node, use) for node, use, _ in found.uses if _encloses(node, found.source)]
    return min(around, key=lambda pair: pair[0].end_byte - pair[0].start_byte) if around else None


def _other_modules_may_read(value: Node, file) -> bool:
    """Whether `value` sits in a value the module exports (`export const config = {…}`, `module.exports = {…}`,
    a top-level constant it exports by name), not inside a function: other modules may read it, so the project
    phase reports it, with their uses."""
    node = value
    while node.parent is not None and node.parent.type != "program":
        if node.type in FUNCTION_TYPES and node.type != "method_definition":
            return False
        node = node.parent
    if node.type == "export_statement":
        return True
    if node.type == "expression_statement" and node.named_children and node.named_children[0].type == "assignment_expression":
        left = text(node.named_children[0].child_by_field_name("left"))
        return left in ("module.exports", "exports") or left.startswith(("module.exports.", "exports."))
    table = file.memo("flow.exports", lambda: export_table(file.root))
    exported = {local.split(".", 1)[0] for local in table.names.values()} | set(table.instances)
    if table.module_object is not None:
        exported.add(table.module_object)
    return bool(exported & _declared_names(node))


def _may_be_a_command(file) -> bool:
    """A file that may run as a one-shot command: marked as one, or in a folder of scripts."""
    return file.source.startswith(b"#!") or any(m in file.source for m in COMMAND_MARKERS) or _SCRIPTS_FOLDER.search(file.path) is not None


def _exports_something(file) -> bool:
    """A module written to be imported; one that exports nothing is run (an entry, a script)."""
    table = file.memo("flow.exports", lambda: export_table(file.root))
    return bool(table.names or table.re_exports or table.module_object is not None)


def _declared_names(statement: Node) -> set[str]:
    if statement.type in ("lexical_declaration", "variable_declaration"):
        names = set()
        for declarator in statement.named_children:
            name = declarator.child_by_field_name("name") if declarator.type == "variable_declarator" else None
            if name is not None:
                names.update(text(n) for n in walk(name) if n.type in ("identifier", "shorthand_property_identifier_pattern"))
        return names
    name = statement.child_by_field_name("name")
    return {text(name)} if name is not None else set()


# --- findings ----------------------------------------------------------------------------------------------


@dataclass
class _Use:
    path: str
    span: Span
    use: SecretUse
    hops: tuple[Hop, ...]  # the value's steps from its source (in every file) to the use


@dataclass
class _Group:
    """A hard-coded value and every use of it found: one finding, on the value."""

    path: str
    span: Span
    empty: bool
    holder: str | None
    setting: str | None = None  # the setting the value is the fallback of, if any
    fixes: tuple[Fix, ...] = ()
    direct: _Use | None = None
    uses: list[_Use] = field(default_factory=list)

    @property
    def has_sink(self) -> bool:
        """A use as a library's secret was found, not only the fallback of a setting named like a secret."""
        return any(u.use.sink is not None for u in (*self.uses, *((self.direct,) if self.direct else ())))

    def finding(self, rule: Rule) -> Finding | None:
        uses = sorted({(u.path, _where(u.span)): u for u in self.uses}.values(), key=lambda u: (u.path, _where(u.span)))
        first = self.direct or (uses[0] if uses else None)
        if first is None:
            return None
        where = first.path if first.path != self.path else None
        if self.empty:
            message = _empty_message(first.use, self.setting, where)
        elif self.direct is not None:
            message = _message(first.use)
        elif self.setting is not None and first.use.sink is not None:
            message = _taken_fallback_message(self.setting, first.use.sink, where)
        else:
            message = _message(first.use, constant=self.holder or "a constant", where=where)
        related = [Location(path=u.path, span=u.span, message=f"used here as {u.use.label}") for u in uses]
        code_flow = []
        if uses:
            shown = uses[0]
            code_flow = hop_locations(shown.hops)
            code_flow.append(Location(path=shown.path, span=shown.span, message=f"used as {shown.use.label}"))
        location = Location(path=self.path, span=self.span)
        return rule.finding(location, message, related=related, code_flow=code_flow, fixes=self.fixes)


def _message(use: SecretUse, constant: str | None = None, where: str | None = None) -> str:
    value = f"the hard-coded value of `{constant}`" if constant else "a hard-coded value"
    place = f" in {where}" if where else ""
    if use.setting is not None:
        return f"{use.setting}{place} falls back to {value} when unset; fail at startup instead of running with a secret from the source."
    secret = f"the hard-coded secret in `{constant}`" if constant else "a hard-coded secret"
    return f"{use.sink}{place} gets {secret}; read it from the environment and fail at startup when it is missing."


def _taken_fallback_message(setting: str, sink: str, where: str | None) -> str:
    place = f" in {where}" if where else ""
    return (
        f"{setting} falls back to a hard-coded value when unset, and {sink}{place} takes it as its secret; fail at "
        "startup instead of running with a secret from the source."
    )


def _empty_message(use: SecretUse, setting: str | None, where: str | None) -> str:
    unset = f"when {setting} is unset" if setting else "here"
    place = f" in {where}" if where else ""
    return (
        f"{use.sink}{place} gets an empty key {unset}, and it accepts one: anyone can compute a valid signature; "
        "fail at startup when the secret is missing."
    )


def secret_use(value: Node, file) -> SecretUse | None:
    """How `value` is used as a secret: as the fallback of a secret setting (not the app's own login at another
    service), or as a library's secret."""
    value = outermost(value)
    sink = secret_sink(value, file)
    setting = _fallback_of(value, file)
    if setting is not None and sink is None and (only_a_salt(setting) or connection_login(value) is not None):
        return None
    if setting is not None and (sink is not None or not is_outbound_credential(setting, _written_text(value))):
        return SecretUse(setting=setting)
    return SecretUse(sink=sink.label, empty_key=sink.empty_key) if sink is not None else None


def _written_text(value: Node) -> str | None:
    """The text of the value written as the fallback: the literal itself, or the written branch of a ternary
    fallback (`X || (IS_CI ? 'dummy' : readKey())`)."""
    written = literal_text(value)
    node = unwrap(value)
    if written is None and node is not None and node.type == "ternary_expression":
        branches = (node.child_by_field_name("consequence"), node.child_by_field_name("alternative"))
        written = next((t for t in map(literal_text, branches) if t is not None), None)
    return written


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


