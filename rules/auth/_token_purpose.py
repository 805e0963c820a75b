"""What a signed token is for: an access token that keeps a user signed in, a refresh token, or something else
(a signed link to one file, an invitation, a password reset link, an API key, a shared demo account).

Judged first by what the token grants and where it goes: a payload that names no user (`{ fileId, exp }`)
grants what it names, not a session; a token put into a URL (`${origin}/stream/${token}`, `?token=`,
`url.searchParams.set('token', …)`) is a link to one thing; a token for an account whose identity is public
(`{ sub: demoUserId }`) keeps nobody's session. Then by the names around the call."""

from __future__ import annotations

from linter import lazy_re
from linter.js.bindings import initial_value
from linter.js.expressions import key_text, outermost, property_name, unwrap
from linter.js.functions import FUNCTION_TYPES, enclosing_function, function_name
from linter.rules.auth._secrets import name_tokens
from linter.syntax import Node, text, walk

# Tokens named for a job other than keeping someone signed in: refresh tokens, one-off links, API keys. Their
# lifetimes follow other rules (a refresh token lives for weeks, an unsubscribe link forever).
OTHER_PURPOSE_WORDS = frozenset(
    {
        "INVITE", "INVITATION", "VERIFY", "VERIFICATION", "RESET", "UNSUBSCRIBE", "CONFIRM",
        "CONFIRMATION", "MAGIC", "SHARE", "SHARING", "DOWNLOAD", "UPLOAD", "PREVIEW", "EMBED", "STATE",
        "NONCE", "ACTIVATION", "ACTIVATE", "LINK", "API", "APIKEY", "WEBHOOK", "SIGNED", "URL", "FILE", "ATTACHMENT",
        "REMEMBER", "PERSISTENT", "SECRET", "OTP", "PIN", "CALLBACK", "OAUTH", "PRESIGN", "PRESIGNED", "INSTALL",
        "INSTALLATION", "LICENSE", "SERVICE", "INTERNAL", "WORKER", "DEVICE", "OFFLINE", "EMAIL",
    }
)  # fmt: skip
ACCESS_WORDS = frozenset({"ACCESS", "AUTH", "SESSION", "LOGIN", "SIGNIN", "BEARER"})
REFRESH_WORDS = frozenset({"REFRESH"})
# Words of a claim that names who the token is for (`sub`, `userId`, `accountId`, `email`).
PRINCIPAL_WORDS = frozenset(
    {"USER", "UID", "ACCOUNT", "MEMBER", "EMAIL", "USERNAME", "LOGIN", "SESSION", "SUB", "SUBJECT", "PRINCIPAL",
     "ROLE", "ROLES", "CUSTOMER", "CLIENT", "PROFILE", "PERSON", "OWNER", "ADMIN", "AGENT", "EMPLOYEE", "PLAYER"}
)  # fmt: skip
TIME_AND_ISSUER_CLAIMS = frozenset({"exp", "iat", "nbf", "iss", "aud", "jti", "type", "typ", "purpose", "kind"})
# An account whose identity is public: a demo, guest or anonymous user anyone may sign in as.
SHARED_ACCOUNT_WORDS = frozenset({"DEMO", "GUEST", "ANONYMOUS", "ANON", "PUBLIC", "PLAYGROUND", "SANDBOX"})
_URL_TEXT = lazy_re.compile(r"/|\?|=|&")


def token_purpose(call: Node, payload: Node | None) -> str:
    """"access", "refresh" or "other" for the token a sign call issues.

    First what it grants and where it goes (see the module). Then the names around it, most telling first:
    where the token goes (`refreshToken = …`), the branch it is issued in (`case 'refresh':`,
    `if (type === 'refresh')`), what its payload says it is (`type: 'refresh'`, `purpose: INVITE_PURPOSE`), the
    function and the class that issue it (`RefreshTokenService`). A name that says "access" wins over one that
    says something else (`refreshAccessToken()` issues an access token); a token nothing names is an access
    token."""
    if (
        _grants_no_user(payload)
        or _goes_into_a_link(call)
        or _shared_account(payload)
        or _held_to_one_resource(call, payload)
    ):
        return "other"
    groups = (
        _holder_words(call), _branch_words(call), _payload_words(payload), _function_words(call), _class_words(call)
    )  # fmt: skip
    for words in groups:
        if ACCESS_WORDS.intersection(words):
            return "access"
        if REFRESH_WORDS.intersection(words):
            return "refresh"
        if OTHER_PURPOSE_WORDS.intersection(words):
            return "other"
    return "access"


def _written_claims(payload: Node | None) -> list[tuple[str, str]] | None:
    """(key, the value's text) of a payload written out in full, leaving out time and issuer claims; None for a
    spread, a computed key or a payload built elsewhere (a `const` declared with the object is read)."""
    node = unwrap(payload)
    if node is not None and node.type == "identifier":
        node = initial_value(node)
    if node is None or node.type != "object" or not node.named_children:
        return None
    claims: list[tuple[str, str]] = []
    for child in node.named_children:
        if child.type == "pair" and child.child_by_field_name("key").type in ("property_identifier", "string"):
            claims.append((key_text(child.child_by_field_name("key")), text(child.child_by_field_name("value"))))
        elif child.type == "shorthand_property_identifier":
            claims.append((text(child), text(child)))
        elif child.type != "comment":
            return None
    return [(key, value) for key, value in claims if key not in TIME_AND_ISSUER_CLAIMS]


def _grants_no_user(payload: Node | None) -> bool:
    """A payload written out in full that names no user (`{ fileId, exp }`, `{ documentId: doc.id }`): the token
    grants what it names."""
    named = _written_claims(payload)
    if named is None:
        return False
    # A claim names a user by its key (`sub`, `userId`) or by its value (`external_id: userId`).
    return bool(named) and not any(
        _names_a_principal(key) or PRINCIPAL_WORDS.intersection(name_tokens(value)) for key, value in named
    )


def _held_to_one_resource(call: Node, payload: Node | None) -> bool:
    """The payload names a thing besides the user (`{ song, userid }`), and a function of the same module that
    verifies tokens compares that claim with something (`if (decoded.song !== id)`): the token opens that one
    thing for that user, as a signed link does, and keeps no session."""
    claims = _written_claims(payload) or []
    resource_keys = {key for key, _ in claims if not _names_a_principal(key)}
    if not resource_keys:
        return False
    root = call
    while root.parent is not None:
        root = root.parent
    verifiers = {enclosing_function(n) for n in walk(root) if n.type == "call_expression" and _is_verify_call(n)}
    return any(
        _compares_claim(node, resource_keys) for fn in verifiers if fn is not None for node in walk(fn)
    )


def _is_verify_call(call: Node) -> bool:
    return property_name(call.child_by_field_name("function")) in ("verify", "jwtVerify")


def _compares_claim(node: Node, claim_keys: set[str]) -> bool:
    if node.type != "binary_expression" or text(node.child_by_field_name("operator")) not in ("===", "!==", "==", "!="):
        return False
    for side in (node.child_by_field_name("left"), node.child_by_field_name("right")):
        side = unwrap(side)
        name = text(side) if side is not None and side.type == "identifier" else property_name(side)
        if name in claim_keys:
            return True
    return False


def _names_a_principal(key: str) -> bool:
    words = name_tokens(key)
    return bool(PRINCIPAL_WORDS.intersection(words)) or key in ("id", "_id", "sub")


def _goes_into_a_link(call: Node) -> bool:
    """The token becomes part of a URL: in a template or a concatenation with a path or a query
    (`` `${origin}/download/${token}` ``, `'?token=' + token`), or a URL's search parameter, directly or through
    the `const` it is kept in."""
    uses = [outermost(call)]
    holder = _holder_name(call)
    fn = enclosing_function(call)
    if holder is not None and fn is not None:
        uses.extend(n for n in walk(fn) if n.type in ("identifier", "shorthand_property_identifier") and text(n) == holder)
    return any(_in_a_url(use) for use in uses)


def _in_a_url(node: Node) -> bool:
    parent = node.parent
    while parent is not None and parent.type in ("template_substitution", "parenthesized_expression", "await_expression"):
        node, parent = parent, parent.parent
    if parent is None:
        return False
    if parent.type == "template_string":
        literal = "".join(text(c) for c in parent.children if c.type == "string_fragment")
        return bool(_URL_TEXT.search(literal))
    if parent.type == "binary_expression" and text(parent.child_by_field_name("operator")) == "+":
        other = parent.child_by_field_name("left" if parent.child_by_field_name("right") == node else "right")
        return other is not None and other.type in ("string", "template_string") and bool(_URL_TEXT.search(text(other)))
    if parent.type == "arguments" and parent.parent is not None:
        function = parent.parent.child_by_field_name("function")
        return property_name(function) in ("set", "append") and "searchParams" in text(function)
    return False


def _shared_account(payload: Node | None) -> bool:
    """The payload's user is an account anyone may use: `{ sub: demoUserId }`, `{ id: GUEST_USER_ID }`."""
    node = unwrap(payload)
    if node is None or node.type != "object":
        return False
    for child in node.named_children:
        if child.type == "pair" and _names_a_principal(key_text(child.child_by_field_name("key"))):
            value = child.child_by_field_name("value")
            if value is not None and SHARED_ACCOUNT_WORDS.intersection(name_tokens(text(value))):
                return True
    return False


def _holder_name(call: Node) -> str | None:
    node = outermost(call)
    while node.parent is not None and node.parent.type in ("await_expression", "parenthesized_expression"):
        node = node.parent
    parent = node.parent
    if parent is not None and parent.type == "variable_declarator":
        name = parent.child_by_field_name("name")
        return text(name) if name is not None and name.type == "identifier" else None
    return None


def _holder_words(call: Node) -> list[str]:
    node = outermost(call)
    while node.parent is not None and node.parent.type in ("await_expression", "parenthesized_expression"):
        node = node.parent
    parent = node.parent
    name = None
    if parent is not None and parent.type == "variable_declarator":
        name = parent.child_by_field_name("name")
    elif parent is not None and parent.type == "assignment_expression":
        name = parent.child_by_field_name("left")
    elif parent is not None and parent.type == "pair":
        name = parent.child_by_field_name("key")
    return name_tokens(text(name)) if name is not None else []


def _branch_words(call: Node) -> list[str]:
    """Words of the string labels of the `case` / `if (x === '…')` branches around the call, in its function."""
    words: list[str] = []
    node = call
    while node.parent is not None and node.type not in FUNCTION_TYPES:
        parent = node.parent
        if parent.type == "switch_case":
            words.extend(name_tokens(text(parent.child_by_field_name("value"))))
        elif parent.type == "if_statement" and parent.child_by_field_name("consequence") == node:
            condition = parent.child_by_field_name("condition")
            words.extend(w for n in walk(condition) if n.type == "string" for w in name_tokens(text(n)))
        node = parent
    return words


def _payload_words(payload: Node | None) -> list[str]:
    """Words of the payload's literal values and constants: `type: 'refresh'`, `purpose: tokenTypes.RESET`."""
    node = unwrap(payload)
    if node is None or node.type != "object":
        return []
    words: list[str] = []
    for pair in node.named_children:
        value = unwrap(pair.child_by_field_name("value")) if pair.type == "pair" else None
        if value is None:
            continue
        if value.type == "string":
            words.extend(name_tokens(text(value)))
        elif value.type == "identifier" and text(value).isupper():
            words.extend(name_tokens(text(value)))
        elif value.type == "member_expression" and (property_name(value) or "").isupper():
            words.extend(name_tokens(property_name(value)))
    return words


def _function_words(call: Node) -> list[str]:
    fn = enclosing_function(call)
    while fn is not None:
        name = function_name(fn)
        if name:
            return name_tokens(name)
        fn = enclosing_function(fn)
    return []


def _class_words(call: Node) -> list[str]:
    node = call.parent
    while node is not None and node.type not in ("class_declaration", "class", "abstract_class_declaration"):
        node = node.parent
    name = node.child_by_field_name("name") if node is not None else None
    return name_tokens(text(name)) if name is not None else []
