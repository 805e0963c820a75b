"""JSON Web Tokens as the code issues them: which call signs a token and how long the token lives.

Signing: jsonwebtoken `sign(payload, key, options)`, hono `sign(payload, key)` (lifetime only in `exp`), jose
`new SignJWT(payload)…setExpirationTime(…).sign(key)`, and the defaults and per-call options of `@nestjs/jwt`
(`JwtModule.register({ signOptions })`, `jwtService.sign(payload, options)`) and `@fastify/jwt`
(`register(fastifyJwt, { sign })`, `fastify.jwt.sign(payload, options)`, `reply.jwtSign(payload, options)`).

A lifetime is "none" (the token never expires), a number of seconds, or unknown (read from the environment,
a parameter, another file: whatever the code alone does not fix).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from linter import lazy_re
from linter.js.static_values import const_initializer, constant_value
from linter.js.expressions import arguments_of, callee, member_object, object_keys, outermost, property_name, unwrap
from linter.js.functions import FUNCTION_TYPES, enclosing_function
from linter.js.object_literals import UNKNOWN, Lookup, option, options_object
from linter.js.imports import require_specifier, string_value
from linter.js.references import resolve_imported
from linter.js.units import jose_seconds, ms_seconds
from linter.lazy_dataclasses import dataclass
from linter.syntax import Node, text, walk

if TYPE_CHECKING:
    from linter.context import FileContext

NEST_SERVICE_METHODS = frozenset({"sign", "signAsync"})
FASTIFY_REPLY_METHODS = frozenset({"jwtSign"})
FASTIFY_JWT_MODULES = ("@fastify/jwt", "fastify-jwt")
# Time sources whose value is in seconds once divided by 1000 (or read with moment/dayjs `.unix()`).
_NOW_SECONDS = lazy_re.compile(r"/\s*1000\b|\.unix\(\)|getUnixTime|epochSeconds|nowSeconds|NumericDate", re.I)
_NOW_MILLISECONDS = lazy_re.compile(r"Date\.now\(\)|\.getTime\(\)|\.valueOf\(\)|performance\.now\(\)")
# Payload claims through which an app tracks a token's age itself (`expiresAt: addHours(now, 24)`, `createdAt`)
# and checks it after verifying.
_OWN_TIME_CLAIM = lazy_re.compile(
    r"^(expires?(_?at|_?in|_?on)?|expir(y|ation|ation_?date|es_?at)|valid_?(until|to|till)|ttl|created_?at|"
    r"issued_?at|iat|timestamp|ts|not_?after)$",
    re.I,
)


@dataclass(frozen=True)
class Lifetime:
    """How long a token lives: `state` is "none", "seconds", "milliseconds-exp" (an `exp` claim set from a
    millisecond clock, so decades away) or "unknown"; `node` is where the code sets it."""

    state: str
    seconds: float | None = None
    node: Node | None = None


NO_EXPIRY = Lifetime("none")
UNKNOWN_LIFETIME = Lifetime("unknown")


@dataclass(frozen=True)
class SignCall:
    library: str  # "jsonwebtoken", "hono/jwt", "jose", "@nestjs/jwt", "@fastify/jwt"
    call: Node
    payload: Node | None
    lifetime: Lifetime
    # Whether the library's configured defaults may add a lifetime this call does not show
    # (`JwtModule.register({ signOptions })`, `register(fastifyJwt, { sign })`).
    has_defaults: bool = False


# --- signing -------------------------------------------------------------------------------------------------


def sign_call(call: Node, file: "FileContext") -> SignCall | None:
    """The token `call` (a `call_expression`) signs, for a jsonwebtoken, hono, NestJS or Fastify sign call."""
    function = callee(call)
    imported = resolve_imported(function, file)
    arguments = arguments_of(call)
    payload = arguments[0] if arguments else None
    if imported is not None and imported.path == ("sign",) and imported.module in ("jsonwebtoken", "hono/jwt"):
        if imported.module == "hono/jwt":
            return SignCall("hono/jwt", call, payload, payload_lifetime(payload, file))
        options = arguments[2] if len(arguments) > 2 and unwrap(arguments[2]).type not in FUNCTION_TYPES else None
        return SignCall("jsonwebtoken", call, payload, jsonwebtoken_lifetime(payload, options, file))
    if function is None or function.type != "member_expression":
        return None
    method = property_name(function)
    library = _service_library(function, method, file)
    if library is None:
        return None
    options = arguments[1] if len(arguments) > 1 else None
    return SignCall(library, call, payload, jsonwebtoken_lifetime(payload, options, file), has_defaults=True)


def _service_library(function: Node, method: str | None, file: "FileContext") -> str | None:
    """"@nestjs/jwt" for `this.jwtService.sign`, "@fastify/jwt" for `fastify.jwt.sign` / `reply.jwtSign`."""
    owner = member_object(function)
    if method in NEST_SERVICE_METHODS and is_nest_jwt_service(owner, file):
        return "@nestjs/jwt"
    if not file.depends_on(FASTIFY_JWT_MODULES):
        return None
    if method in FASTIFY_REPLY_METHODS:
        return "@fastify/jwt"
    if method == "sign" and owner is not None and property_name(owner) == "jwt":
        return "@fastify/jwt"
    return None


def is_nest_jwt_service(owner: Node | None, file: "FileContext") -> bool:
    """`this.jwtService` / `jwtService`: a name this file gives a `JwtService` of `@nestjs/jwt`."""
    return owner is not None and bool(_nest_service_names(file).intersection((property_name(owner) or text(owner),)))


def _nest_service_names(file: "FileContext") -> frozenset[str]:
    """Names this file gives a `JwtService` from `@nestjs/jwt` (constructor parameters, properties)."""

    def collect() -> frozenset[str]:
        bindings = file.import_bindings
        binding = next((b for b in bindings if b.module == "@nestjs/jwt" and b.imported == "JwtService"), None)
        if binding is None:
            return frozenset()
        pattern = re.compile(rb"([\w$]+)\??\s*:\s*" + re.escape(binding.local.encode()) + rb"\b")
        return frozenset(match.group(1).decode() for match in pattern.finditer(file.source))

    return file.memo("js.jwt.nest-services", collect)


def jsonwebtoken_lifetime(payload: Node | None, options: Node | None, file: "FileContext") -> Lifetime:
    """The lifetime of `sign(payload, key, options)`: `expiresIn` in the options (seconds, or an `ms` string),
    else the payload's `exp` claim."""
    found = options_object(options, file.source)
    if found.unknown:
        return UNKNOWN_LIFETIME
    if found.state == "object":
        expires_in = option(found.node, "expiresIn")
        if expires_in.unknown:
            return UNKNOWN_LIFETIME
        if not expires_in.absent:
            return expires_in_lifetime(expires_in.node)
    return payload_lifetime(payload, file)


def expires_in_lifetime(value: Node | None) -> Lifetime:
    """An `expiresIn` value: a number of seconds or an `ms` string (`'7d'`; digits alone are milliseconds)."""
    evaluated = constant_value(value)
    if isinstance(evaluated, (int, float)) and not isinstance(evaluated, bool):
        return Lifetime("seconds", float(evaluated), value)
    if isinstance(evaluated, str):
        seconds = ms_seconds(evaluated)
        if seconds is not None:
            return Lifetime("seconds", seconds, value)
    return Lifetime("unknown", node=value)


def payload_lifetime(payload: Node | None, file: "FileContext") -> Lifetime:
    """The lifetime the payload's own `exp` claim gives: NO_EXPIRY for an object literal without one (and for a
    string payload, which cannot carry one); unknown when the payload carries a time the app checks itself
    (`expiresAt`, `createdAt`, `iat`)."""
    node = unwrap(payload)
    if node is not None and node.type in ("string", "template_string"):
        return NO_EXPIRY
    found = options_object(payload, file.source)
    if found.state != "object" or any(_OWN_TIME_CLAIM.match(key) for key in object_keys(found.node) if key != "exp"):
        return UNKNOWN_LIFETIME
    exp = option(found.node, "exp")
    if exp.absent:
        return NO_EXPIRY
    if exp.unknown:
        return UNKNOWN_LIFETIME
    return exp_claim_lifetime(exp.node)


def exp_claim_lifetime(value: Node | None) -> Lifetime:
    """An `exp` claim written as `now + N`: N seconds when `now` is in seconds, "milliseconds-exp" when it is
    `Date.now()` (the claim is read as seconds, so the token outlives everyone)."""
    node = unwrap(value)
    if node is None or node.type != "binary_expression" or text(node.child_by_field_name("operator")) != "+":
        return Lifetime("unknown", node=value)
    left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
    for clock, amount in ((left, right), (right, left)):
        seconds = constant_value(amount)
        if not isinstance(seconds, (int, float)) or constant_value(clock) is not None:
            continue
        clock = unwrap(clock)
        if clock is not None and clock.type == "identifier":  # `const now = Math.floor(Date.now() / 1000)`
            clock = const_initializer(clock) or clock
        clock_text = text(clock)
        if _NOW_SECONDS.search(clock_text):
            return Lifetime("seconds", float(seconds), value)
        if _NOW_MILLISECONDS.search(clock_text):
            return Lifetime("milliseconds-exp", float(seconds), value)
    return Lifetime("unknown", node=value)


def milliseconds_issued_at(payload: Node | None) -> Node | None:
    """The value of an `iat` claim read from a millisecond clock (`iat: Date.now()`, `iat: now.getTime()`, or a
    `const` set to one), which JWT readers take as seconds."""
    node = unwrap(payload)
    if node is None or node.type != "object":
        return None
    issued = option(node, "iat")
    if issued.state != "value" or issued.node is None:
        return None
    value = unwrap(issued.node)
    if value is not None and value.type == "identifier":
        value = const_initializer(value) or value
    clock = text(value)
    if _NOW_MILLISECONDS.search(clock) and not _NOW_SECONDS.search(clock):
        return issued.node
    return None


def jose_sign_chain(new: Node, file: "FileContext") -> SignCall | None:
    """`new SignJWT(payload).setProtectedHeader(…).setExpirationTime('2h').sign(key)` with SignJWT from jose:
    the whole chain up to `.sign(…)`. None when it is not SignJWT or the chain is not written in one expression
    (the builder kept in a variable and finished elsewhere)."""
    imported = resolve_imported(callee(new), file)
    if imported is None or imported.module != "jose" or imported.path != ("SignJWT",):
        return None
    arguments = arguments_of(new)
    payload = arguments[0] if arguments else None
    lifetime = payload_lifetime(payload, file) if payload is not None else NO_EXPIRY
    current = outermost(new)
    while True:
        member = current.parent
        if member is None or member.type != "member_expression" or member.child_by_field_name("object") != current:
            return None
        call = member.parent
        if call is None or call.type != "call_expression" or call.child_by_field_name("function") != member:
            return None
        method = property_name(member)
        if method == "setExpirationTime":
            method_arguments = arguments_of(call)
            lifetime = _jose_expiration(method_arguments[0] if method_arguments else None)
        elif method == "sign":
            return SignCall("jose", call, payload, lifetime)
        current = outermost(call)


def _jose_expiration(value: Node | None) -> Lifetime:
    """`setExpirationTime('2h')` is relative; a number or a Date is an absolute time."""
    evaluated = constant_value(value)
    if isinstance(evaluated, str):
        seconds = jose_seconds(evaluated)
        if seconds is not None:
            return Lifetime("seconds", seconds, value)
    if value is not None and unwrap(value).type == "binary_expression":
        return exp_claim_lifetime(value)
    return Lifetime("unknown", node=value)


def configured_sign_options(call: Node, file: "FileContext") -> tuple[str, Node] | None:
    """(library, the default sign options object) for `JwtModule.register({ signOptions })`, the object a
    `registerAsync({ useFactory })` factory returns, or `fastify.register(fastifyJwt, { sign })`."""
    found = sign_defaults(call, file)
    if found is None or found[1].state != "value":
        return None
    return found[0], found[1].node


def default_expiry(call: Node, file: "FileContext") -> tuple[str, str] | None:
    """(library, "set" / "absent" / "unknown"): whether a JwtModule or @fastify/jwt registration gives the tokens
    its services sign a default `expiresIn`; None when `call` registers neither."""
    found = sign_defaults(call, file)
    if found is None:
        return None
    library, options = found
    if options.absent:
        return library, "absent"
    node = unwrap(options.node) if options.state == "value" else None
    if node is None or node.type != "object":
        return library, "unknown"
    expires_in = option(node, "expiresIn")
    return library, "absent" if expires_in.absent else "unknown" if expires_in.unknown else "set"


def sign_defaults(call: Node, file: "FileContext") -> tuple[str, Lookup] | None:
    """(library, the default sign options: a value, ABSENT or UNKNOWN) of a `JwtModule.register()` /
    `registerAsync()` or a `fastify.register()` of `@fastify/jwt`; None for any other call."""
    function = callee(call)
    if function is None or function.type != "member_expression":
        return None
    method = property_name(function)
    arguments = arguments_of(call)
    if method in ("register", "registerAsync") and arguments:
        owner = resolve_imported(member_object(function), file)
        if owner is not None and owner.module == "@nestjs/jwt" and owner.path == ("JwtModule",):
            return "@nestjs/jwt", _nest_defaults(method, arguments[0], file)
    if method == "register" and len(arguments) > 1 and _is_fastify_jwt_plugin(arguments[0], file):
        config = options_object(arguments[1], file.source)
        return "@fastify/jwt", option(config.node, "sign") if config.state == "object" else UNKNOWN
    return None


def _is_fastify_jwt_plugin(node: Node, file: "FileContext") -> bool:
    """`fastifyJwt` imported from `@fastify/jwt`, `require('@fastify/jwt')` or `import('@fastify/jwt')`."""
    plugin = resolve_imported(node, file)
    if plugin is not None:
        return plugin.module in FASTIFY_JWT_MODULES and plugin.path in ((), ("fastifyJwt",), ("default",))
    node = unwrap(node)
    specifier = require_specifier(node)
    if specifier is None and node is not None and node.type == "call_expression":
        function = node.child_by_field_name("function")
        arguments = arguments_of(node)
        if function is not None and function.type == "import" and len(arguments) == 1:
            specifier = string_value(arguments[0])
    return specifier in FASTIFY_JWT_MODULES


def _nest_defaults(method: str, argument: Node, file: "FileContext") -> Lookup:
    config = options_object(argument, file.source)
    if config.state == "object" and method == "registerAsync":
        config = factory_result(option(config.node, "useFactory"))
    return option(config.node, "signOptions") if config.state == "object" else UNKNOWN


def factory_result(factory: Lookup) -> Lookup:
    """The object literal a `useFactory: (config) => ({ … })` (or `{ return { … } }`) returns."""
    if factory.state != "value":
        return UNKNOWN
    fn = unwrap(factory.node)
    if fn is None or fn.type not in FUNCTION_TYPES:
        return UNKNOWN
    body = fn.child_by_field_name("body")
    if body is not None and body.type != "statement_block":
        return options_object(body, b"")
    returns = [n for n in walk(body) if n.type == "return_statement" and enclosing_function(n) == fn] if body else []
    if len(returns) != 1 or not returns[0].named_children:
        return UNKNOWN
    return options_object(returns[0].named_children[0], b"")
