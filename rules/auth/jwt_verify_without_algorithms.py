"""A JWT is verified without an `algorithms` list, so the token itself chooses how it is checked.

## Why is this bad?
A JSON Web Token names its own signing algorithm in its header. Unless the verifier pins the algorithms it
accepts, an attacker picks: the classic attacks are `alg: none` (no signature at all) and algorithm confusion,
where a token signed with HMAC using the server's *public* RSA key as the secret passes a verifier that was
meant to check RSA signatures. jsonwebtoken 9 derives a default from the key type and refuses `none` without a
key, but that protection depends on the library version and on what kind of key reaches `verify()` at run time
(a key fetched from a JWKS endpoint, a PEM read from an environment variable). Older jsonwebtoken
(CVE-2015-9235, CVE-2022-23540/23541), express-jwt before 6 (CVE-2020-15084) and passport-jwt pass the
token's choice straight through. Naming the one algorithm the app issues closes the door whatever the key.

The rule reports:
- jsonwebtoken `verify(token, key)` and `verify(token, key, callback)`, and `verify(token, key, options)` with
  an options object that has no `algorithms`;
- passport-jwt `new Strategy(options, verify)` (and NestJS `super(options)` in a
  `PassportStrategy(Strategy)` class) whose options have no `algorithms`;
- express-jwt `expressjwt(options)` / `jwt(options)` without `algorithms`;
- `@nestjs/jwt` `jwtService.verify(token)` / `verifyAsync(token, options)` (jsonwebtoken underneath) with no
  `algorithms` in its options, when every `JwtModule.register()` / `registerAsync()` of its package is written
  out and none sets `verifyOptions: { algorithms }`.

Options the code does not show (a parameter, an object from another file, one built with a spread) are left
alone, and so are test files. jose's `jwtVerify()` is not reported: it never accepts `none` and ties each key
to the algorithms of its type; nor are hono's `verify()` and `jwt()` (HS256 unless told otherwise) or
`@fastify/jwt`, whose fast-jwt verifier derives the algorithms it accepts from the key.

## Example
```js
const jwt = require('jsonwebtoken');

function authenticate(req, res, next) {
  try {
    req.user = jwt.verify(req.headers.authorization.slice(7), process.env.JWT_SECRET);
    next();
  } catch {
    res.status(401).end();
  }
}
```

## Use instead
```js
const jwt = require('jsonwebtoken');

function authenticate(req, res, next) {
  try {
    req.user = jwt.verify(req.headers.authorization.slice(7), process.env.JWT_SECRET, { algorithms: ['HS256'] });
    next();
  } catch {
    res.status(401).end();
  }
}
```

## References
- [RFC 8725 §3.1: Perform algorithm verification](https://www.rfc-editor.org/rfc/rfc8725#section-3.1)
- [jsonwebtoken: `verify` options](https://github.com/auth0/node-jsonwebtoken#jwtverifytoken-secretorpublickey-options-callback)
- [OWASP JSON Web Token Cheat Sheet for Java: none hashing algorithm](https://cheatsheetseries.owasp.org/cheatsheets/JSON_Web_Token_for_Java_Cheat_Sheet.html)
- [CWE-347: Improper Verification of Cryptographic Signature](https://cwe.mitre.org/data/definitions/347.html)
- [CWE-327: Use of a Broken or Risky Cryptographic Algorithm](https://cwe.mitre.org/data/definitions/327.html)
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterator

from linter.frameworks import ANY_FRAMEWORK, EXPRESS, NESTJS
from linter.context import FileContext
from linter.rules.auth._jwt_verification import VerifyCall, nest_module_verify_options, nest_verify_call, verify_call
from linter.js.object_literals import option
from linter.model import Finding, Level, Precision
from linter.paths import is_test_support_path
from linter.project import ProjectIndex
from linter.rule import Fact, Match, Rule, facts_of
from linter.syntax import Node

_ADD_TO_OPTIONS = "add `algorithms: ['HS256']` (the algorithm you sign with) to its options"
_WHAT = {
    "jsonwebtoken": ("`jwt.verify()`", "pass `{ algorithms: ['HS256'] }` (the algorithm you sign with)"),
    "passport-jwt": ("This passport-jwt strategy", _ADD_TO_OPTIONS),
    "express-jwt": ("This express-jwt middleware", _ADD_TO_OPTIONS),
    "@nestjs/jwt": (
        "`jwtService.verify()`",
        "pass `{ algorithms: ['HS256'] }` (the algorithm you sign with), or set `verifyOptions: { algorithms: "
        "['HS256'] }` in `JwtModule.register()`",
    ),
}
NEST_VERIFY, NEST_MODULE = "nest-verify", "nest-module"


class JwtVerifyWithoutAlgorithms(Rule):
    id = "auth/jwt-verify-without-algorithms"
    project_reports_at = frozenset({NEST_VERIFY})
    name = "JwtVerifyWithoutAlgorithms"
    level = Level.WARNING
    precision = Precision.HIGH
    security_severity = "5.9"
    tags = ("security", "auth", "jwt", "external/cwe/cwe-347", "external/cwe/cwe-327")
    frameworks = (ANY_FRAMEWORK, EXPRESS, NESTJS)
    requires = ("jsonwebtoken", "passport-jwt", "express-jwt", "@nestjs/jwt")
    needles = (b"jsonwebtoken", b"passport-jwt", b"express-jwt", b"@nestjs/jwt")
    query = """
(call_expression function: (member_expression) @function (#match? @function "\\.(verify|verifyAsync|register|registerAsync)$")) @call
(call_expression function: [(identifier) (super)] @function) @call
(new_expression constructor: (_) @constructor) @call
"""

    def check(self, match: Match, file: FileContext) -> Iterator[Finding | Fact]:
        if is_test_support_path(file.path):
            return
        call = match["call"]
        verify = verify_call(call, file)
        if verify is None and b"@nestjs/jwt" in file.source:
            yield from self._nest_facts(call, file)
            return
        if verify is None or not _lacks_algorithms(verify):
            return
        subject, advice = _WHAT[verify.library]
        yield file.report(self, verify.node, _message(subject, advice))

    def _nest_facts(self, call: Node, file: FileContext) -> Iterator[Fact]:
        """A `jwtService.verify()` with no `algorithms` of its own, and what each `JwtModule` registration of the
        file says of `verifyOptions.algorithms` (the defaults every `verify()` of its services gets)."""
        verify = nest_verify_call(call, file)
        if verify is not None:
            if _lacks_algorithms(verify):
                yield file.fact(self, NEST_VERIFY, call)
            return
        options = nest_module_verify_options(call, file)
        if options is None:
            return
        if options.state == "object":
            pinned = option(options.node, "algorithms")
            pins = None if pinned.unknown else not pinned.absent
        else:
            pins = False if options.absent else None
        yield file.fact(self, NEST_MODULE, call, pins=pins)

    def check_project(self, project: ProjectIndex) -> Iterator[Finding]:
        """`jwtService.verify()` calls of a package whose `JwtModule` registrations are all known and none sets
        `verifyOptions.algorithms`: nothing pins the algorithm."""
        modules: dict[str, list[Fact]] = defaultdict(list)
        calls: list[Fact] = []
        for fact in facts_of(project, self):
            if fact.kind == NEST_MODULE:
                modules[_package_key(project, fact.path)].append(fact)
            elif fact.kind == NEST_VERIFY:
                calls.append(fact)
        subject, advice = _WHAT["@nestjs/jwt"]
        for fact in calls:
            registrations = modules.get(_package_key(project, fact.path), [])
            if not registrations or any(r.data["pins"] is not False for r in registrations):
                continue  # a registration pins the algorithms, or says what it does where this rule cannot see
            related = [r.location("registers JwtModule with no `verifyOptions.algorithms`") for r in registrations[:3]]
            yield self.finding(fact.location(), _message(subject, advice), related=related)


def _message(subject: str, advice: str) -> str:
    return (
        f"{subject} gets no `algorithms` list, so the token's own header chooses the algorithm it is checked "
        f"with (the opening for `alg: none` and RSA/HMAC confusion); {advice}."
    )


def _package_key(project: ProjectIndex, path: str) -> str:
    package = project.package_of(path)
    return package.dir if package is not None else ""


def _lacks_algorithms(verify: VerifyCall) -> bool:
    if verify.options.absent:
        return True
    if verify.options.state != "object":
        return False
    return option(verify.options.node, "algorithms").absent
