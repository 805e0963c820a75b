"""Secrets: which setting names hold one (and which of those are the app's own credential at another
service), which values are written in the code, and which library parameters take one (jsonwebtoken, jose,
express-jwt, passport-jwt, express-session, cookie-session, cookie-parser, NextAuth, iron-session,
@fastify/jwt, @nestjs/jwt, hono/jwt, node:crypto)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import ahocorasick_rs

from linter import lazy_re
from linter.lazy_dataclasses import dataclass
from linter.rules.auth._env import setting_name
from linter.js.expressions import (
    arguments_of,
    callee,
    key_text,
    member_object,
    object_keys,
    outermost,
    property_name,
    unwrap,
)
from linter.js.imports import string_value
from linter.js.references import imports_module, resolve_imported
from linter.needles import NeedleSet, occurs_within
from linter.syntax import Node, text, walk

if TYPE_CHECKING:
    from linter.context import FileContext

# --- names ---------------------------------------------------------------------------------------------------

_SECRET_PARTS = ("SECRET", "PASSWORD", "PASSWD", "PASSPHRASE", "APIKEY", "PRIVATEKEY", "AUTHTOKEN")
_SECRET_TOKENS = frozenset({"TOKEN", "PASS", "PWD", "SALT", "PEPPER", "SIGNING", "HMAC", "CREDENTIAL", "CREDENTIALS"})
# `KEY` alone is too common (`CACHE_KEY`, `STORAGE_KEY`); it is a secret after one of these.
_KEY_QUALIFIERS = frozenset(
    {
        "API", "PRIVATE", "SECRET", "SIGNING", "SIGN", "SIGNATURE", "ENCRYPTION", "ENCRYPT", "CRYPTO", "CIPHER",
        "AES", "HMAC", "JWT", "JWE", "JWS", "SESSION", "COOKIE", "MASTER", "ACCESS", "AUTH", "APP", "ADMIN",
        "SERVICE", "WEBHOOK", "LICENSE",
    }
)  # fmt: skip
# After its last secret word a secret's name may only say which one it is (`JWT_SECRET_REFRESH`,
# `SESSION_SECRET_OLD`, `PRIVATE_KEY_PEM`); any other word makes the name about the secret, not the secret:
# `JWT_SECRET_EXPIRES_IN`, `SALT_ROUNDS`, `TOKEN_COOKIE_NAME`, `OPENAI_TOKEN_CALC_CONCURRENCY`.
_NAMING_THE_SECRET = frozenset(
    {
        "KEY", "KEYS", "SECRET", "SECRETS", "TOKEN", "VALUE", "BASE", "B", "BASE64", "HEX", "RAW", "PEM", "DER", "JWK",
        "HASH", "CURRENT", "OLD", "NEW", "PREVIOUS", "PREV", "NEXT", "PRIMARY", "SECONDARY", "ADMIN",
        "APP", "CLIENT", "SERVER", "SERVICE", "REFRESH", "ACCESS", "LIVE", "PROD", "PRODUCTION", "TEST", "DEV",
        "DEVELOPMENT", "STAGING", "V",
    }
)  # fmt: skip
# Counts and switches about secrets: `MAX_TOKENS`, `ALLOW_INSECURE_DEFAULT_SECRETS`, `REQUIRE_API_KEY`.
_NEVER_A_SECRET = frozenset({"MAX", "MIN", "NUM", "COUNT", "ALLOW", "ENABLE", "DISABLE", "SKIP", "IS", "HAS", "USE", "REQUIRE"})
_PUBLIC_TOKENS = frozenset({"PUBLIC", "PUBLISHABLE"})
# Bundlers ship these to the browser, so their values are public whatever they are called.
_CLIENT_PREFIXES = ("NEXT_PUBLIC_", "VITE_", "REACT_APP_", "EXPO_PUBLIC_", "NUXT_PUBLIC_", "GATSBY_", "PUBLIC_")
_PATH_OR_URL = lazy_re.compile(r"^(\.{1,2}/|~/|/[\w.-]+/|[a-z][a-z0-9+.-]*://)|\.(json|txt|pem|key|crt|cer|cert|der|p12|pfx|jks|env|ya?ml)$")
_NO_VALUE = frozenset(
    {"none", "null", "undefined", "unused", "unset", "not-set", "not-required", "placeholder", "skipped", "disabled", "n/a", "missing"}
)
# How a fetch request carries cookies (`credentials: config.CREDENTIALS ?? 'include'`), not a credential.
_FETCH_CREDENTIALS_MODES = frozenset({"include", "omit", "same-origin"})
# A public key or certificate verifies; it is meant to be known.
_PUBLIC_PEM = lazy_re.compile(r"-----BEGIN (RSA )?(PUBLIC KEY|CERTIFICATE)-----")
_NO_VALUE_WORDS = ("unconfigured", "not-configured", "not-set", "not-required")
_WORDS = lazy_re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def name_tokens(name: str) -> list[str]:
    """`jwtSecretKey` and `JWT_SECRET_KEY` both give `['JWT', 'SECRET', 'KEY']`."""
    return [word.upper() for word in _WORDS.findall(name)]


def is_secret_name(name: str) -> bool:
    """Whether a setting called `name` (`JWT_SECRET`, `sessionSecret`, `config.jwt.secret`) holds a secret."""
    if name.upper().startswith(_CLIENT_PREFIXES):
        return False
    tokens = name_tokens(name)
    if _PUBLIC_TOKENS.intersection(tokens) or _NEVER_A_SECRET.intersection(tokens):
        return False
    last_secret = -1
    for index, token in enumerate(tokens):
        if token in _SECRET_TOKENS or any(part in token for part in _SECRET_PARTS):
            last_secret = index
        elif token in ("KEY", "KEYS") and index and tokens[index - 1] != "SITE":
            if _KEY_QUALIFIERS.intersection(tokens[:index]):
                last_secret = index
    if last_secret < 0:
        return False
    return all(token in _NAMING_THE_SECRET or token.isdigit() for token in tokens[last_secret + 1 :])


# Services the app logs in to: a datastore, a broker, a mail or directory server. With a password word
# (`REDIS_PASSWORD`, `SMTP_PASS`) the setting is the app's login there.
_SERVICE_WORDS = frozenset(
    {
        "DATABASE", "DB", "POSTGRES", "POSTGRESQL", "PG", "MYSQL", "MARIADB", "MSSQL", "MONGO", "MONGODB", "REDIS",
        "VALKEY", "MEMCACHED", "RABBITMQ", "RABBIT", "AMQP", "KAFKA", "NATS", "QUEUE", "BROKER", "ELASTIC",
        "ELASTICSEARCH", "OPENSEARCH", "CLICKHOUSE", "MINIO", "SMTP", "MAIL", "EMAIL", "IMAP", "LDAP", "FTP", "SFTP",
    }
)  # fmt: skip
_LOGIN_WORDS = frozenset({"PASSWORD", "PASS", "PASSWD", "PWD"})
# Words of a secret the app itself signs, verifies or encrypts with: never the app's login elsewhere.
_OWN_SECRET_WORDS = frozenset(
    {
        "JWT", "JWE", "JWS", "SESSION", "COOKIE", "CSRF", "XSRF", "WEBHOOK", "HOOK", "SIGNING", "SIGN", "SIGNATURE",
        "HMAC", "ENCRYPTION", "ENCRYPT", "CRYPTO", "CIPHER", "AES", "MASTER", "ADMIN", "APP", "SERVER", "INTERNAL",
        "PREVIEW", "CRON", "PEPPER", "SALT",
    }
)  # fmt: skip
# Words that name no other service: the first word of a setting called after a vendor is none of these.
_GENERIC_WORDS = frozenset({"API", "CONFIG", "CONF", "CFG", "SETTINGS", "ENV", "AUTH", "USER", "ROOT", "DEFAULT", "LOCAL"})
# A value that says it stands in for a credential not configured: `'dummyApiKey'`, `'your-api-key'`, `'test'`.
# A run of the alphabet or of the digits (`'abcdefghijklmnop'`, `'123456789012'`) stands in too.
_STAND_IN = lazy_re.compile(r"^(dummy|placeholder|fake|sample|example|your[\W_]|x{3,}$|test$|abcdefgh|0?12345678)", re.IGNORECASE)


def is_outbound_credential(name: str, value: str | None = None) -> bool:
    """Whether the setting `name` holds the app's own credential at another service, with which it logs in
    rather than signs or verifies: its password at a datastore, broker or mail server (`DATABASE_PASSWORD`,
    `REDIS_PASSWORD`, `SMTP_PASS`; not `EMAIL_VERIFICATION_SECRET`), an OAuth client secret (`GOOGLE_CLIENT_SECRET`), or, when the `value` it
    falls back to says it is a stand-in (`'dummyApiKey'`), a vendor's API credential (`TWITTER_API_KEY`). A
    wrong one fails to log in and opens nothing."""
    tokens = name_tokens(name)
    if _OWN_SECRET_WORDS.intersection(tokens):
        return False
    if _SERVICE_WORDS.intersection(tokens) and _LOGIN_WORDS.intersection(tokens):
        return True
    if any("AUTH" in token for token in tokens):  # `AUTH_SECRET`, `NEXTAUTH_SECRET`, `BETTER_AUTH_SECRET`
        return False
    if "CLIENT" in tokens and "SECRET" in tokens[tokens.index("CLIENT") :]:
        return True
    return bool(value and _STAND_IN.match(value) and tokens and _names_a_vendor(tokens[0]))


def _names_a_vendor(word: str) -> bool:
    if word in _GENERIC_WORDS or word in _SECRET_TOKENS or word in _KEY_QUALIFIERS or word in _NAMING_THE_SECRET:
        return False
    return not any(part in word for part in _SECRET_PARTS)


def may_hold_a_secret_name(lowered: bytes) -> bool:
    """False when no name in this lower-cased source text can be a secret's (`is_secret_name`): none holds a
    secret word, and none has a `key` after a qualifier."""
    if _SECRET_WORD_SET.any_in(lowered):
        return True
    return b"key" in lowered and any(qualifier in lowered for qualifier in _KEY_QUALIFIER_WORDS)


_SECRET_WORDS = tuple(sorted({w.lower().encode() for w in (*_SECRET_PARTS, *_SECRET_TOKENS)}))
_SECRET_WORD_SET = NeedleSet(_SECRET_WORDS)
_KEY_QUALIFIER_WORDS = tuple(sorted(q.lower().encode() for q in _KEY_QUALIFIERS))


def may_name_a_secret_at(file: "FileContext", start: int, end: int) -> bool:
    """`may_hold_a_secret_name` of the file's bytes `start`..`end`, from the places its words occur in the file,
    found once: a file has thousands of expressions to ask about, some of them nested thousands deep."""
    secret_words, keys, qualifiers = file.lasting("auth.secret-words-at", lambda: _secret_words_at(file.source))
    if occurs_within(secret_words, start, end):
        return True
    return occurs_within(keys, start, end) and occurs_within(qualifiers, start, end)


def secret_word_spans(file: "FileContext") -> list[tuple[int, int]]:
    """Byte ranges of the file, in order, that hold every secret word and every `key` in it: a name that
    `is_secret_name` accepts holds one. Words a short line apart share a range."""
    secret_words, keys, _ = file.lasting("auth.secret-words-at", lambda: _secret_words_at(file.source))
    spans: list[tuple[int, int]] = []
    for start, end in sorted([*zip(*secret_words), *zip(*keys)]):
        if spans and start <= spans[-1][1] + _SPAN_GAP:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((start, end))
    return spans


_SPAN_GAP = 64


# The words `may_hold_a_secret_name` looks for, each with the lists it goes in: secret words, `key`, qualifiers.
_WORD_LISTS = {
    word: tuple(index for index, words in enumerate((_SECRET_WORDS, (b"key",), _KEY_QUALIFIER_WORDS)) if word in words)
    for word in sorted({*_SECRET_WORDS, b"key", *_KEY_QUALIFIER_WORDS})
}
_WORD_FINDER = ahocorasick_rs.BytesAhoCorasick(list(_WORD_LISTS))
_LISTED_WORDS = list(_WORD_LISTS.values())


def _secret_words_at(source: bytes) -> list[tuple[list[int], list[int]]]:
    """Where each kind of word occurs in the lower-cased `source`, overlaps included: (starts, ends) by start."""
    found: list[list[tuple[int, int]]] = [[], [], []]
    for word, start, end in _WORD_FINDER.find_matches_as_indexes(source.lower(), overlapping=True):
        for kind in _LISTED_WORDS[word]:
            found[kind].append((start, end))
    places = []
    for spans in found:
        spans.sort()
        places.append(([start for start, _ in spans], [end for _, end in spans]))
    return places


# --- values --------------------------------------------------------------------------------------------------


def literal_text(node: Node | None) -> str | None:
    """The text of a string or template literal that could be a secret, else None: blank text, a file path
    (`'./keys/private.pem'`: the secret is read from it), a URL, a word for "none" and a public key are not. A template
    counts by its own text; one that calls something (`${randomBytes(32)}`) or reads the environment
    (`${process.env.JWT_SECRET}`) is not hard-coded."""
    node = unwrap(node)
    if node is None:
        return None
    if node.type == "template_string":
        for part in node.named_children:
            if part.type == "template_substitution" and (
                "env" in text(part) or any(n.type == "call_expression" for n in walk(part))
            ):
                return None
        value = "".join(text(c) for c in node.named_children if c.type in ("string_fragment", "escape_sequence"))
    else:
        value = string_value(node) if node.type == "string" else None
    if value is None or not value.strip() or _PATH_OR_URL.search(value) or _means_no_value(value):
        return None
    if value in _FETCH_CREDENTIALS_MODES:
        return None
    return None if _PUBLIC_PEM.search(value) else value


def _means_no_value(value: str) -> bool:
    """`'not-required'`, `'none'`, `'stripe-unconfigured'`: a placeholder that says there is no secret."""
    normalized = re.sub(r"[\s_-]+", "-", value.strip().lower())
    return normalized in _NO_VALUE or any(word in normalized for word in _NO_VALUE_WORDS)


def stringified_setting(node: Node, file: "FileContext") -> str | None:
    """`"JWT_SECRET"` for `` `${process.env.JWT_SECRET}` ``: a template that turns an unset variable into the
    string `'undefined'`."""
    node = unwrap(node)
    if node is None or node.type != "template_string":
        return None
    parts = [c for c in node.named_children if c.type != "comment"]
    if len(parts) != 1 or parts[0].type != "template_substitution" or not parts[0].named_children:
        return None
    return setting_name(parts[0].named_children[0], file)


def is_hard_coded(node: Node | None) -> bool:
    """A value written in the code that could be a secret: a literal (`literal_text`), the bytes of one
    (`Buffer.from('…')`, `new TextEncoder().encode('…')`), or an array whose first element is one (`['new',
    'old']`: keys in rotation)."""
    node = unwrap(node)
    if node is not None and node.type == "array":
        elements = [c for c in node.named_children if c.type != "comment"]
        node = unwrap(elements[0]) if elements else None
    if node is not None and node.type == "call_expression" and is_encoding(node):
        arguments = arguments_of(node)
        node = unwrap(arguments[0]) if arguments else None
    return literal_text(node) is not None


def is_empty_string(node: Node | None) -> bool:
    """`''`, `""` or an empty template."""
    node = unwrap(node)
    if node is None or node.type not in ("string", "template_string"):
        return False
    return not any(child.type != "comment" for child in node.named_children)


def is_encoding(node: Node | None) -> bool:
    """`new TextEncoder().encode(x)` or `Buffer.from(x)`: a key made of bytes of `x`."""
    node = unwrap(node)
    if node is None or node.type != "call_expression":
        return False
    function = callee(node)
    if function is None or function.type != "member_expression":
        return False
    owner = member_object(function)
    method = property_name(function)
    if method == "from":
        return text(owner) == "Buffer"
    return method == "encode" and owner is not None and owner.type == "new_expression" and text(callee(owner)) == "TextEncoder"


# --- sinks ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sink:
    """A library parameter that takes a secret: `label` names it ("jsonwebtoken sign()", "express-session
    `secret`"); `empty_key` when the library accepts an empty one (node:crypto's HMAC), so that an empty
    fallback is a key anyone knows."""

    label: str
    empty_key: bool = False


# (module, export path) → index of the argument that is a secret or key.
SECRET_ARGUMENTS: dict[tuple[str, tuple[str, ...]], int] = {
    ("jsonwebtoken", ("sign",)): 1,
    ("jsonwebtoken", ("verify",)): 1,
    ("jose", ("jwtVerify",)): 1,
    ("jose", ("jwtDecrypt",)): 1,
    ("hono/jwt", ("sign",)): 1,
    ("hono/jwt", ("verify",)): 1,
    ("cookie-parser", ()): 0,
    ("crypto", ("createSecretKey",)): 0,
    ("crypto", ("createHmac",)): 1,
    ("crypto", ("createCipheriv",)): 1,
    ("crypto", ("createDecipheriv",)): 1,
    ("crypto", ("scryptSync",)): 0,
    ("crypto", ("pbkdf2Sync",)): 0,
}
# Parameters that take an empty key without complaint (JWT, session and cipher libraries refuse one).
EMPTY_KEY_ARGUMENTS = frozenset({("crypto", ("createHmac",))})
# jose builders: `new SignJWT(claims).setProtectedHeader(…).sign(key)`.
JOSE_BUILDER_METHODS = {"SignJWT": "sign", "EncryptJWT": "encrypt", "CompactSign": "sign", "CompactEncrypt": "encrypt"}


@dataclass(frozen=True)
class OptionSink:
    module: str
    keys: frozenset[str]  # option names that hold a secret
    siblings: frozenset[str]  # option names that mark an options object of this module held in a variable


OPTION_SINKS = tuple(
    OptionSink(module, frozenset(keys.split()), frozenset(siblings.split()))
    for module, keys, siblings in (
        ("express-session", "secret", "resave saveUninitialized store cookie rolling genid unset"),
        ("cookie-session", "secret keys", "maxAge signed overwrite httpOnly sameSite"),
        ("express-jwt", "secret", "algorithms credentialsRequired requestProperty isRevoked getToken"),
        ("passport-jwt", "secretOrKey", "jwtFromRequest ignoreExpiration passReqToCallback jsonWebTokenOptions"),
        ("next-auth", "secret", "providers callbacks adapter pages events"),
        ("@auth/core", "secret", "providers callbacks adapter pages events"),
        ("iron-session", "password", "cookieName cookieOptions"),
        ("next-iron-session", "password", "cookieName cookieOptions"),
        ("@fastify/jwt", "secret", "sign verify decode formatUser messages"),
        ("fastify-jwt", "secret", "sign verify decode formatUser messages"),
        ("@fastify/session", "secret", "cookieName saveUninitialized store rolling"),
        ("@fastify/secure-session", "secret key", "cookieName salt"),
        ("@fastify/cookie", "secret", "parseOptions hook"),
        ("@nestjs/jwt", "secret privateKey secretOrPrivateKey", "signOptions verifyOptions expiresIn"),
        ("hono/jwt", "secret", "alg"),
    )
)

SECRET_OPTION_NAMES = frozenset().union(*(sink.keys for sink in OPTION_SINKS))
# The modules of the sinks above: a file imports one by writing its name.
SINK_MODULES = NeedleSet({m.encode() for m, _ in SECRET_ARGUMENTS} | {sink.module.encode() for sink in OPTION_SINKS})


def names_a_secret_library(file: "FileContext") -> bool:
    """Whether the file names a module that takes a secret: where it names none, `secret_sink` finds nothing."""
    return file.lasting("auth.names-a-secret-library", lambda: SINK_MODULES.any_in(file.source))


def secret_sink(node: Node, file: "FileContext") -> Sink | None:
    """What takes `node` as a secret, e.g. "jsonwebtoken sign()" or "express-session `secret`", or None.
    `node` is an expression (or a shorthand `{ secret }`) in the position a library reads its secret from."""
    if not names_a_secret_library(file):
        return None
    node = _taken_as(outermost(node))
    parent = node.parent
    if parent is None:
        return None
    if parent.type == "arguments" and parent.parent is not None:
        return _argument_sink(parent.parent, arguments_of(parent.parent).index(node), file)
    if node.type == "shorthand_property_identifier" and parent.type == "object":
        return _option_sink(parent, text(node), file)
    if parent.type == "pair" and parent.child_by_field_name("value") == node:
        return _option_sink(parent.parent, key_text(parent.child_by_field_name("key")), file)
    return None


def _taken_as(node: Node) -> Node:
    """The outermost expression that may evaluate to `node`: through arrays (`secret: ['a', 'b']`), fallbacks
    (`secret || 'dev'`: the library takes the fallback when `secret` is unset) and ternary branches."""
    while node.parent is not None:
        parent = node.parent
        if parent.type == "array":
            node = outermost(parent)
        elif parent.type == "binary_expression" and parent.child_by_field_name("right") == node:
            if text(parent.child_by_field_name("operator")) not in ("||", "??"):
                break
            node = outermost(parent)
        elif parent.type == "ternary_expression" and parent.child_by_field_name("condition") != node:
            node = outermost(parent)
        else:
            break
    return node


def _argument_sink(call: Node, index: int, file: "FileContext") -> Sink | None:
    function = callee(call)
    imported = resolve_imported(function, file)
    if imported is not None and SECRET_ARGUMENTS.get((imported.module, imported.path)) == index:
        label = f"{' '.join((imported.module, *imported.path[-1:]))}()"
        return Sink(label, (imported.module, imported.path) in EMPTY_KEY_ARGUMENTS)
    if index == 0 and function is not None and function.type == "member_expression":
        builder = _builder_class(function, file)
        if builder is not None and JOSE_BUILDER_METHODS.get(builder) == property_name(function):
            return Sink(f"jose {builder}.{property_name(function)}()")
    return None


def _builder_class(method: Node, file: "FileContext") -> str | None:
    """`SignJWT` for `new SignJWT(…).setIssuer(…).sign`, when `SignJWT` comes from jose."""
    node = member_object(method)
    while node is not None and node.type == "call_expression":
        function = callee(node)
        if function is None or function.type != "member_expression":
            return None
        node = member_object(function)
    if node is None or node.type != "new_expression":
        return None
    imported = resolve_imported(callee(node), file)
    if imported is None or imported.module != "jose" or len(imported.path) != 1:
        return None
    return imported.path[0]


def _option_sink(obj: Node | None, key: str, file: "FileContext") -> Sink | None:
    if obj is None or obj.type != "object" or key not in SECRET_OPTION_NAMES:
        return None
    sink = options_consumer(obj, file)
    if sink is None or key not in sink.keys:
        return None
    return Sink(f"{sink.module} `{key}`")


def options_consumer(obj: Node, file: "FileContext") -> OptionSink | None:
    """The library an options object is for: passed straight to one of its exports (or to
    `fastify.register(plugin, options)`), else held in a variable with one of its distinctive options
    in a file that imports it."""
    holder = outermost(obj)
    if holder.parent is not None and holder.parent.type == "arguments" and holder.parent.parent is not None:
        call = holder.parent.parent
        imported = resolve_imported(callee(call), file)
        arguments = arguments_of(call)
        if imported is None and property_name(callee(call)) == "register" and len(arguments) > 1:
            imported = resolve_imported(arguments[0], file)
        if imported is not None:
            return next((sink for sink in OPTION_SINKS if imported.is_from(sink.module)), None)
    keys = object_keys(obj)
    for sink in OPTION_SINKS:
        if sink.siblings.intersection(keys) and imports_module(file, sink.module):
            return sink
    return None


# Options through which an app presents its own credentials to another service.
CLIENT_CREDENTIAL_OPTIONS = frozenset(
    {
        "apiKey", "apiSecret", "apiToken", "clientSecret", "secretKey", "accessKey", "accessKeyId", "secretAccessKey",
        "authKey", "authSecret", "authToken", "accessToken", "token", "auth", "pass", "password",
    }
)  # fmt: skip
_LOCAL_MODULE = lazy_re.compile(r"^(\.|/|@/|~/|#|src/)")


def client_credential(node: Node, file: "FileContext") -> str | None:
    """The package whose client `node` is handed to as the app's own credential for another service:
    `new Stripe(node)`, `new OpenAI({ apiKey: node })`, `createTransport({ auth: { pass: node } })`.
    None for the secret sinks above and for local modules."""
    node = outermost(node)
    option = None
    while node.parent is not None and node.parent.type == "pair" and node.parent.child_by_field_name("value") == node:
        key = node.parent.child_by_field_name("key")
        option = option or key_text(key)
        node = outermost(node.parent.parent)
    parent = node.parent
    if parent is None or parent.type != "arguments" or parent.parent is None:
        return None
    call = parent.parent
    if option is None and call.type != "new_expression":
        return None
    if option is not None and option not in CLIENT_CREDENTIAL_OPTIONS:
        return None
    imported = resolve_imported(callee(call), file)
    if imported is None or _LOCAL_MODULE.match(imported.module):
        return None
    if any(imported.is_from(sink.module) and option in sink.keys for sink in OPTION_SINKS):
        return None
    return imported.module


# Keys that say where a service is: a group of settings (or a destructured parameter) holding one of them next
# to a credential describes the app's connection to that service (`{ endPoint, accessKey, secretKey }` for an object
# store, `{ baseUrl, apiKey }` for an API, `{ region, accessKeyId, secretAccessKey }` for a request signer).
_ADDRESS_KEYS = frozenset(
    {
        "endpoint", "endPoint", "host", "hostname", "url", "uri", "baseUrl", "baseURL", "server", "region",
        "bucket", "apiUrl", "apiBase", "apiHost",
    }
)  # fmt: skip


def connection_login(value: Node) -> str | None:
    """The option `value` is the credential of (`secretKey`) when it sits in the settings of a connection to
    another service: under a key an app presents its credential through (`CLIENT_CREDENTIAL_OPTIONS`) in an
    object or destructuring pattern that also says where the service is. The service checks that credential;
    a wrong default only makes the call fail. None anywhere else."""
    node = outermost(value)
    while node.parent is not None and node.parent.type in ("binary_expression", "ternary_expression"):
        node = outermost(node.parent)
    parent = node.parent
    if parent is None:
        return None
    if parent.type == "pair" and parent.child_by_field_name("value") == node:
        key, holder = key_text(parent.child_by_field_name("key")), parent.parent
    elif parent.type == "object_assignment_pattern" and parent.child_by_field_name("right") == node:
        key, holder = text(parent.child_by_field_name("left")), parent.parent
    elif parent.type == "assignment_pattern" and parent.parent is not None and parent.parent.type == "pair_pattern":
        key, holder = key_text(parent.parent.child_by_field_name("key")), parent.parent.parent
    else:
        return None
    if key not in CLIENT_CREDENTIAL_OPTIONS or holder is None or holder.type not in ("object", "object_pattern"):
        return None
    # One service's settings sit in a group of their own (`storage: { bucket: {…} }`, a destructured
    # parameter); a module's flat list of settings (`module.exports = { port, apiKey }`) may hold the app's
    # own keys next to its address.
    if holder.type == "object" and (outermost(holder).parent is None or outermost(holder).parent.type != "pair"):
        return None
    return key if _ADDRESS_KEYS.intersection(_entry_keys(holder)) else None


def _entry_keys(holder: Node) -> set[str]:
    keys = set()
    for entry in holder.named_children:
        if entry.type in ("shorthand_property_identifier", "shorthand_property_identifier_pattern"):
            keys.add(text(entry))
        elif entry.type in ("pair", "pair_pattern"):
            keys.add(key_text(entry.child_by_field_name("key")))
        elif entry.type == "object_assignment_pattern":
            keys.add(text(entry.child_by_field_name("left")))
    return keys


def only_a_salt(name: str) -> bool:
    """A setting whose only secret word is `SALT` (`PTC_ROLLOUT_SALT`, `ptc.rolloutSalt`). A salt is not a
    secret (a pepper is): it only makes equal inputs hash apart, and one that buckets users for a rollout
    must merely be stable. Used as a key (an HMAC, a key derivation, a cipher) it is still reported there,
    through that library's secret."""
    tokens = name_tokens(name)
    secret_words = [t for t in tokens if t in _SECRET_TOKENS or any(part in t for part in _SECRET_PARTS)]
    return bool(secret_words) and set(secret_words) == {"SALT"}
