"""An access token signed without an expiry, or with one longer than the allowed maximum (24 hours by default).

## Why is this bad?
A JSON Web Token is checked by its signature alone: the server keeps no record of it, so logging out, changing
the password or blocking the account does not stop a token that was already issued. The only thing that ends a
stolen token (from a log, a browser extension, an XSS bug, a shared laptop) is its `exp` claim. A token signed
without one works forever; one that lives 30 days gives whoever copied it 30 days. Keep access tokens short
(minutes to hours) and renew them with a refresh token that the server can revoke.

The rule reports:
- jsonwebtoken `sign(payload, key)` with no `expiresIn` option and no `exp` in the payload, hono's
  `sign(payload, key)` with no `exp`, and jose `new SignJWT(payload)…sign(key)` without `setExpirationTime()`;
- `jwtService.sign(payload)` of `@nestjs/jwt` and `reply.jwtSign(payload)` / `fastify.jwt.sign(payload)` of
  `@fastify/jwt` (registered as an import, `require()` or `import()`) with no `expiresIn` and no `exp`, when
  every `JwtModule` registration (or plugin registration) of the package is written out and none sets a default
  `expiresIn`;
- a lifetime longer than `max-expiry` (default `24h`) in any of those, in `JwtModule.register({ signOptions })`
  and `jwtService.sign(payload, { expiresIn })` of `@nestjs/jwt`, and in the `sign` options of `@fastify/jwt`.
  Lifetimes are read as the libraries read them: `expiresIn: 3600` is seconds, `'7d'`, `'24h'`, `'2 days'` use
  the `ms` format (a string of digits alone is milliseconds), `60 * 60 * 24 * 30` is worked out, and so are
  constants of the same file;
- an `exp` claim computed from `Date.now()` without dividing by 1000: `exp` is in seconds, so such a token
  expires tens of thousands of years from now;
- an `iat` claim set from `Date.now()`, whatever the token is for: jsonwebtoken computes `exp` from it, so
  `expiresIn: '15m'` lands thousands of years away, and `maxAge` checks never fail;
- a refresh token signed with no expiry at all (its lifetime, however long, is not judged).

It stays quiet when the code does not fix the lifetime (`expiresIn: process.env.JWT_EXPIRES_IN`, a fallback
such as `process.env.JWT_EXPIRES_IN || '7d'`, a parameter, an options object from another file or built with a
spread): the deployment or the caller decides. A NestJS or Fastify call without a lifetime is left alone (the
module's defaults may set one), and so is a token without `exp` when the payload carries a time the app checks
itself (`expiresAt`, `createdAt`, `iat`) or the same file verifies with jsonwebtoken's `maxAge`. A NestJS
module's default lifetime is reported only when the module (or a provider or controller it imports) signs an
access token that relies on it.

Only tokens that keep a user signed in are judged, by what the token grants and where it goes before any name:
a payload that names no user (`{ trackId }`, `{ documentId, exp }`) grants what it names; a token put into a
URL (`` `${origin}/stream/${token}` ``, `?token=`, `url.searchParams.set('sig', …)`) is a link to one thing,
such as a file to download for a day or two; a token for an account anyone may use (`{ sub: DEMO_USER_ID }`)
protects nothing. Then by the names around it: the variable or property it goes to, a `type`/`purpose` in the
payload, the `case 'refresh':` it is issued in, the function or class issuing it (a refresh token, an
invitation, an email verification or password reset link, an unsubscribe link, an API key, an OAuth `state`).
Test code is skipped.

## Example
```js
const jwt = require('jsonwebtoken');

function issueToken(user) {
  return jwt.sign({ sub: user.id, role: user.role }, process.env.JWT_SECRET);
}

function issueSessionToken(user) {
  return jwt.sign({ sub: user.id }, process.env.JWT_SECRET, { expiresIn: '30d' });
}
```

## Use instead
```js
const jwt = require('jsonwebtoken');

function issueToken(user) {
  return jwt.sign({ sub: user.id, role: user.role }, process.env.JWT_SECRET, { expiresIn: '15m' });
}

function issueRefreshToken(user) {
  // Long-lived, but checked against the database on every use so that it can be revoked.
  return jwt.sign({ sub: user.id, type: 'refresh' }, process.env.JWT_REFRESH_SECRET, { expiresIn: '30d' });
}
```

## Options
- `max-expiry` (default `"24h"`): the longest lifetime allowed for an access token, in the `ms` format
  (`"15m"`, `"12h"`, `"7d"`) or as a number of seconds.

```toml
[rules."auth/jwt-no-expiry"]
max-expiry = "1h"
```

## References
- [RFC 8725: JSON Web Token Best Current Practices](https://www.rfc-editor.org/rfc/rfc8725)
- [OWASP JSON Web Token Cheat Sheet for Java: token sidejacking and revocation](https://cheatsheetseries.owasp.org/cheatsheets/JSON_Web_Token_for_Java_Cheat_Sheet.html)
- [CWE-613: Insufficient Session Expiration](https://cwe.mitre.org/data/definitions/613.html)
- [jsonwebtoken: `expiresIn`](https://github.com/auth0/node-jsonwebtoken#usage)
- [jose: `SignJWT.setExpirationTime`](https://github.com/panva/jose/blob/main/docs/jwt/sign/classes/SignJWT.md)
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterator

from linter import lazy_re
from linter.frameworks import ANY_FRAMEWORK, FASTIFY, HONO, NESTJS
from linter.context import FileContext
from linter.rules.auth._jwt_signing import (
    Lifetime,
    SignCall,
    configured_sign_options,
    default_expiry,
    expires_in_lifetime,
    jose_sign_chain,
    milliseconds_issued_at,
    sign_call,
)
from linter.rules.auth._jwt_verification import verifies_with_max_age
from linter.js.object_literals import option
from linter.rules.auth._token_purpose import REFRESH_WORDS, token_purpose
from linter.js.expressions import arguments_of, object_keys, unwrap
from linter.js.imports import string_value
from linter.rules.auth._secrets import name_tokens
from linter.js.units import describe_seconds, ms_seconds
from linter.model import Finding, Level, Precision
from linter.paths import is_test_support_path
from linter.project import ProjectIndex
from linter.rule import Fact, LazyOptions, Match, Rule, facts_of

# What the query matches: a call of one of these names (a whole identifier), or a constructor named `…SignJWT`.
# A file without one (`signedUrl`, `getSignedUploadUrl`, `design` only) has no match.
_QUERIED_NAME = lazy_re.compile(rb"(?<![\w$])(?:sign|signAsync|jwtSign|register|registerAsync)(?![\w$])|SignJWT")

_MESSAGES_NONE = {
    "jsonwebtoken": "gets no `expiresIn` option and its payload no `exp` claim",
    "hono/jwt": "gets a payload without an `exp` claim",
    "jose": "has no `setExpirationTime()` and its payload no `exp` claim",
}


# `max-expiry` unless a config sets it (read without building the options, a pydantic model).
DEFAULT_MAX_EXPIRY = "24h"


class JwtNoExpiry(Rule):
    id = "auth/jwt-no-expiry"
    project_reports_at = frozenset({"module-default", "service-signs"})
    name = "JwtNoExpiry"
    level = Level.WARNING
    precision = Precision.HIGH
    security_severity = "5.4"
    tags = ("security", "auth", "jwt", "external/cwe/cwe-613")
    frameworks = (ANY_FRAMEWORK, NESTJS, FASTIFY, HONO)
    requires = ("jsonwebtoken", "jose", "hono", "@nestjs/jwt", "@fastify/jwt", "fastify-jwt")
    needles = (b"sign", b"Sign", b"JwtModule", b"fastify-jwt", b"fastify/jwt")
    query_anchors = (b"sign", b"Sign", b"register")
    query = """
(call_expression
  function: (identifier) @function
  (#any-of? @function "sign" "signAsync" "jwtSign" "register" "registerAsync")) @call
(call_expression
  function: (member_expression property: (property_identifier) @method) @function
  (#any-of? @method "sign" "signAsync" "jwtSign" "register" "registerAsync")
  (#match? @function "\\\\.(sign|signAsync|jwtSign|register|registerAsync)$")) @call
(new_expression constructor: (_) @constructor (#match? @constructor "SignJWT$")) @new
"""
    Options = LazyOptions("._jwt_no_expiry_options", "JwtNoExpiryOptions")

    def may_report_in(self, source: bytes) -> bool:
        return _QUERIED_NAME.search(source) is not None

    def check(self, match: Match, file: FileContext) -> Iterator[Finding | Fact]:
        if is_test_support_path(file.path):
            return
        new = match.get("new")
        if new is not None:
            sign = jose_sign_chain(new, file)
        else:
            yield from self._check_defaults(match["call"], file)
            sign = sign_call(match["call"], file)
        if sign is None:
            return
        issued_at = milliseconds_issued_at(sign.payload)
        if issued_at is not None:
            yield file.report(
                self,
                issued_at,
                "`iat` is set from a millisecond clock but JWT readers take it as seconds, so every time computed "
                "from it is wrong: jsonwebtoken adds `expiresIn` to it, putting `exp` thousands of years away, and "
                "`maxAge` checks never fail; use `Math.floor(Date.now() / 1000)` or leave `iat` to the library.",
            )
        purpose = token_purpose(sign.call, sign.payload)
        if purpose == "other":
            return
        if sign.library == "@nestjs/jwt" and sign.lifetime.state == "none" and purpose == "access":
            yield file.fact(self, "module-signs", sign.call)  # the module's default lifetime applies here
        if sign.has_defaults and sign.lifetime.state == "none" and not verifies_with_max_age(file):
            # Whether a registration gives it a lifetime is known once the project is.
            yield file.fact(self, "service-signs", sign.call, library=sign.library, refresh=purpose == "refresh")
        finding = self._judge(sign, file, refresh=purpose == "refresh")
        if finding is not None:
            yield finding

    def _judge(self, sign: SignCall, file: FileContext, refresh: bool = False) -> Finding | None:
        lifetime = sign.lifetime
        if lifetime.state == "none" and not sign.has_defaults and not verifies_with_max_age(file):
            if refresh:
                return file.report(
                    self,
                    sign.call,
                    f"This refresh token never expires: {_call_name(sign)} {_MESSAGES_NONE[sign.library]}, so a "
                    "stolen one mints new access tokens forever, long after a password change; give it a lifetime "
                    "(`expiresIn: '30d'`) and replace it on every use.",
                )
            return file.report(
                self,
                sign.call,
                f"This token never expires: {_call_name(sign)} {_MESSAGES_NONE[sign.library]}, so a leaked token "
                "works forever; give it a short lifetime (`expiresIn: '15m'` … `'24h'`) and renew it.",
            )
        if refresh:
            return None  # a refresh token lives for weeks on purpose: its maximum is not this rule's
        if lifetime.state == "milliseconds-exp" and lifetime.node is not None:
            return file.report(
                self,
                lifetime.node,
                "`exp` is computed from `Date.now()` in milliseconds but JWT readers take it as seconds, so this "
                "token expires thousands of years from now; use `Math.floor(Date.now() / 1000) + seconds`.",
            )
        return self._too_long(lifetime, file, sign=sign)

    def _too_long(
        self, lifetime: Lifetime, file: FileContext, where: str = "This access token", sign: SignCall | None = None
    ) -> Finding | None:
        if lifetime.state != "seconds" or lifetime.node is None:
            return None
        maximum = ms_seconds(DEFAULT_MAX_EXPIRY) if self.default_options else self.options.max_seconds
        if lifetime.seconds is None or lifetime.seconds <= maximum:
            return None
        # A lifetime kept in a constant is reported once, where it is written, with the first call that uses it.
        reported = file.memo((self.id, "reported"), set)
        key = (lifetime.node.start_byte, lifetime.node.end_byte)
        if key in reported:
            return None
        reported.add(key)
        outside = sign is not None and not (sign.call.start_byte <= key[0] < sign.call.end_byte)
        related = [file.location(sign.call, "signed here")] if outside else []
        return file.report(
            self,
            lifetime.node,
            f"{where} lives {describe_seconds(lifetime.seconds)}, longer than the {describe_seconds(maximum)} "
            "allowed (`max-expiry`), and a stolen one stays valid that long; keep access tokens short-lived and "
            "renew them with a refresh token the server can revoke.",
            related=related,
        )

    def _check_defaults(self, call, file: FileContext) -> Iterator[Finding | Fact]:
        expiry = default_expiry(call, file)
        if expiry is not None:
            yield file.fact(self, "registration", call, library=expiry[0], expiry=expiry[1])
        configured = configured_sign_options(call, file)
        if configured is None:
            return
        library, sign_options = configured
        expires_in = option(sign_options, "expiresIn")
        if expires_in.state != "value":
            return
        if library == "@fastify/jwt" and _refresh_namespace(call):
            return  # a namespace for refresh tokens, which live for weeks on purpose
        owner = "module" if library == "@nestjs/jwt" else "plugin"
        where = f"Every token this {owner} signs by default"
        finding = self._too_long(expires_in_lifetime(expires_in.node), file, where)
        if finding is None:
            return
        if library != "@nestjs/jwt":
            yield finding
            return
        # A Nest module's default applies to what its providers sign: judged once the project is known.
        yield file.fact(self, "module-default", expires_in.node, message=finding.message)

    def check_project(self, project: ProjectIndex) -> Iterator[Finding]:
        """A module's default lifetime is reported where the module (or a file it imports: its providers and
        controllers) signs an access token that relies on it; a module that signs nothing sets a default for
        nothing."""
        signing = {fact.path for fact in facts_of(project, self, "module-signs")}
        for fact in facts_of(project, self, "module-default"):
            files = {fact.path} | {target for _, target in project.imports.get(fact.path, ()) if target is not None}
            if files & signing:
                yield self.finding(fact.location(), fact.data["message"])
        yield from self._signed_forever(project)

    def _signed_forever(self, project: ProjectIndex) -> Iterator[Finding]:
        """`jwtService.sign(payload)` / `reply.jwtSign(payload)` with no `expiresIn`, in a package whose every
        registration of that library is written out and sets no default `expiresIn` either."""
        registrations: dict[tuple[str, str], list[Fact]] = defaultdict(list)
        for fact in facts_of(project, self, "registration"):
            registrations[(_package_key(project, fact.path), fact.data["library"])].append(fact)
        for fact in facts_of(project, self, "service-signs"):
            library = fact.data["library"]
            found = registrations.get((_package_key(project, fact.path), library), [])
            if not found or any(r.data["expiry"] != "absent" for r in found):
                continue  # a registration sets a default lifetime, or says what it sets where this rule cannot see
            call = "`jwtService.sign()`" if library == "@nestjs/jwt" else "this @fastify/jwt sign"
            registered = "`JwtModule` registration" if library == "@nestjs/jwt" else "registration of the plugin"
            token = "refresh token" if fact.data["refresh"] else "token"
            advice = (
                "give it a lifetime (`expiresIn: '30d'`) and replace it on every use"
                if fact.data["refresh"]
                else "give it a short lifetime (`expiresIn: '15m'` … `'24h'`) and renew it"
            )
            related = [r.location("sets no default `expiresIn`") for r in found[:3]]
            yield self.finding(
                fact.location(),
                f"This {token} never expires: {call} gets no `expiresIn`, and no {registered} of this package "
                f"sets a default one, so a leaked token works forever; {advice}.",
                related=related,
            )


def _refresh_namespace(call) -> bool:
    """`fastify.register(fastifyJwt, { namespace: 'refresh', jwtSign: 'refreshSign', … })`: a plugin instance
    whose namespace or sign method is named for refresh tokens."""
    arguments = arguments_of(call)
    config = unwrap(arguments[1]) if len(arguments) > 1 else None
    if config is None or config.type != "object":
        return False
    for key in ("namespace", "jwtSign"):
        value = string_value(unwrap(object_keys(config).get(key)))
        if value is not None and REFRESH_WORDS.intersection(name_tokens(value)):
            return True
    return False


def _package_key(project: ProjectIndex, path: str) -> str:
    package = project.package_of(path)
    return package.dir if package is not None else ""


def _call_name(sign: SignCall) -> str:
    return {"jsonwebtoken": "`jwt.sign()`", "hono/jwt": "hono's `sign()`", "jose": "`new SignJWT()`"}.get(
        sign.library, "`sign()`"
    )
