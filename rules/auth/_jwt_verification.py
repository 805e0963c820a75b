"""JSON Web Tokens as the code verifies them: jsonwebtoken `verify()`, passport-jwt strategies (plain and
NestJS `PassportStrategy(Strategy)` classes), express-jwt and `@nestjs/jwt`'s `JwtService.verify()` (with the
`verifyOptions` of the `JwtModule` registrations), with the options object each gets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from linter.js.expressions import arguments_of, callee, member_object, property_name, unwrap
from linter.js.functions import FUNCTION_TYPES
from linter.js.object_literals import ABSENT, UNKNOWN, Lookup, option, options_object
from linter.lazy_dataclasses import dataclass
from linter.rules.auth._jwt_signing import factory_result, is_nest_jwt_service
from linter.js.references import resolve_imported
from linter.syntax import Node, walk

if TYPE_CHECKING:
    from linter.context import FileContext


@dataclass(frozen=True)
class VerifyCall:
    library: str  # "jsonwebtoken", "passport-jwt", "express-jwt", "@nestjs/jwt"
    node: Node  # the call (or `new`, or `super(…)`) to report
    options: Lookup  # the options object: "object", ABSENT or UNKNOWN


def verify_call(call: Node, file: "FileContext") -> VerifyCall | None:
    """jsonwebtoken `verify(token, key, options?, callback?)`, passport-jwt `new Strategy(options, verify)`
    (and NestJS `super(options)` in a `PassportStrategy(Strategy)` class), express-jwt `expressjwt(options)`."""
    function = callee(call)
    arguments = arguments_of(call)
    if call.type == "call_expression" and function is not None and function.type == "super":
        if _extends_passport_jwt(call, file):
            return VerifyCall("passport-jwt", call, options_object(arguments[0] if arguments else None, file.source))
        return None
    imported = resolve_imported(function, file)
    if imported is None:
        return None
    if imported.module == "jsonwebtoken" and imported.path == ("verify",) and call.type == "call_expression":
        if len(arguments) < 2:
            return None
        third = unwrap(arguments[2]) if len(arguments) > 2 else None
        options = ABSENT if third is None or third.type in FUNCTION_TYPES else options_object(third, file.source)
        return VerifyCall("jsonwebtoken", call, options)
    if imported.module == "passport-jwt" and imported.path == ("Strategy",) and call.type == "new_expression":
        return VerifyCall("passport-jwt", call, options_object(arguments[0] if arguments else None, file.source))
    if imported.module == "express-jwt" and imported.path in ((), ("expressjwt",), ("expressJwt",)):
        if call.type == "call_expression" and arguments:
            return VerifyCall("express-jwt", call, options_object(arguments[0], file.source))
    return None


def verifies_with_max_age(file: "FileContext") -> bool:
    """Whether this file verifies tokens with jsonwebtoken's `maxAge` option, which bounds a token's age by its
    `iat` claim whatever its `exp` says."""

    def scan() -> bool:
        if b"maxAge" not in file.source:
            return False
        for node in walk(file.root):
            if node.type != "call_expression" or b"verify" not in node.text[:200]:
                continue
            verify = verify_call(node, file)
            if verify is None or verify.options.state != "object":
                continue
            if not option(verify.options.node, "maxAge").absent:
                return True
        return False

    return file.memo("js.jwt.verifies-with-max-age", scan)


def _extends_passport_jwt(super_call: Node, file: "FileContext") -> bool:
    """`super(…)` in the constructor of `class X extends PassportStrategy(Strategy)`, Strategy from passport-jwt."""
    node = super_call.parent
    while node is not None and node.type not in ("class_declaration", "class", "abstract_class_declaration"):
        node = node.parent
    if node is None:
        return False
    heritage = next((c for c in node.named_children if c.type == "class_heritage"), None)
    if heritage is None:
        return False
    for part in walk(heritage):
        if part.type == "identifier":
            imported = resolve_imported(part, file)
            if imported is not None and imported.module == "passport-jwt" and imported.path == ("Strategy",):
                return True
    return False


NEST_VERIFY_METHODS = frozenset({"verify", "verifyAsync"})


def nest_verify_call(call: Node, file: "FileContext") -> VerifyCall | None:
    """`this.jwtService.verify(token, options?)` / `verifyAsync` of `@nestjs/jwt`: jsonwebtoken's `verify()` with
    the options given here on top of the `verifyOptions` of the `JwtModule` registration."""
    function = callee(call)
    if call.type != "call_expression" or function is None or function.type != "member_expression":
        return None
    if property_name(function) not in NEST_VERIFY_METHODS or not is_nest_jwt_service(member_object(function), file):
        return None
    arguments = arguments_of(call)
    if not arguments:
        return None
    return VerifyCall("@nestjs/jwt", call, options_object(arguments[1] if len(arguments) > 1 else None, file.source))


def nest_module_verify_options(call: Node, file: "FileContext") -> Lookup | None:
    """The `verifyOptions` of `JwtModule.register({...})` (or of the object a `registerAsync` factory returns):
    "object", ABSENT or UNKNOWN; None when `call` registers no JwtModule."""
    function = callee(call)
    if call.type != "call_expression" or function is None or function.type != "member_expression":
        return None
    method = property_name(function)
    owner = resolve_imported(member_object(function), file) if method in ("register", "registerAsync") else None
    if owner is None or owner.module != "@nestjs/jwt" or owner.path != ("JwtModule",):
        return None
    arguments = arguments_of(call)
    config = options_object(arguments[0] if arguments else None, file.source)
    if config.state == "object" and method == "registerAsync":
        config = factory_result(option(config.node, "useFactory"))
    if config.state != "object":
        return UNKNOWN
    return option(config.node, "verifyOptions")
