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
- express-jwt `expressjwt(options)` / `jwt(options)` without `algorithms`.

Options the code does not show (a parameter, an object from another file, one built with a spread) are left
alone, and so are test files. jose's `jwtVerify()` is not reported: it never accepts `none` and ties each key
to the algorithms of its type.

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

from typing import Iterator

from linter.frameworks import ANY_FRAMEWORK, EXPRESS, NESTJS
from linter.context import FileContext
from linter.rules.auth._jwt_verification import VerifyCall, verify_call
from linter.js.object_literals import option
from linter.model import Finding, Level, Precision
from linter.paths import is_test_support_path
from linter.rule import Match, Rule

_ADD_TO_OPTIONS = "add `algorithms: ['HS256']` (the algorithm you sign with) to its options"
_WHAT = {
    "jsonwebtoken": ("`jwt.verify()`", "pass `{ algorithms: ['HS256'] }` (the algorithm you sign with)"),
    "passport-jwt": ("This passport-jwt strategy", _ADD_TO_OPTIONS),
    "express-jwt": ("This express-jwt middleware", _ADD_TO_OPTIONS),
}


class JwtVerifyWithoutAlgorithms(Rule):
    id = "auth/jwt-verify-without-algorithms"
    name = "JwtVerifyWithoutAlgorithms"
    level = Level.WARNING
    precision = Precision.HIGH
    security_severity = "5.9"
    tags = ("security", "auth", "jwt", "external/cwe/cwe-347", "external/cwe/cwe-327")
    frameworks = (ANY_FRAMEWORK, EXPRESS, NESTJS)
    requires = ("jsonwebtoken", "passport-jwt", "express-jwt")
    needles = (b"jsonwebtoken", b"passport-jwt", b"express-jwt")
    query = """
(call_expression function: (member_expression) @function (#match? @function "\\\\.verify$")) @call
(call_expression function: [(identifier) (super)] @function) @call
(new_expression constructor: (_) @constructor) @call
"""

    def check(self, match: Match, file: FileContext) -> Iterator[Finding]:
        if is_test_support_path(file.path):
            return
        verify = verify_call(match["call"], file)
        if verify is None or not _lacks_algorithms(verify):
            return
        subject, advice = _WHAT[verify.library]
        yield file.report(
            self,
            verify.node,
            f"{subject} gets no `algorithms` list, so the token's own header chooses the algorithm it is checked "
            f"with (the opening for `alg: none` and RSA/HMAC confusion); {advice}.",
        )


def _lacks_algorithms(verify: VerifyCall) -> bool:
    if verify.options.absent:
        return True
    if verify.options.state != "object":
        return False
    return option(verify.options.node, "algorithms").absent
