"""What a signed token is for, by the names around the call that issues it: an access token that keeps a user
signed in, or something else (a refresh token, an invitation, a password reset link, an API key)."""

from __future__ import annotations

from linter.js.expressions import outermost, property_name, unwrap
from linter.js.functions import FUNCTION_TYPES, enclosing_function, function_name
from linter.rules.auth._secrets import name_tokens
from linter.syntax import Node, text, walk

# Tokens named for a job other than keeping someone signed in: refresh tokens, one-off links, API keys. Their
# lifetimes follow other rules (a refresh token lives for weeks, an unsubscribe link forever).
OTHER_PURPOSE_WORDS = frozenset(
    {
        "REFRESH", "INVITE", "INVITATION", "VERIFY", "VERIFICATION", "RESET", "UNSUBSCRIBE", "CONFIRM",
        "CONFIRMATION", "MAGIC", "SHARE", "SHARING", "DOWNLOAD", "UPLOAD", "PREVIEW", "EMBED", "STATE",
        "NONCE", "ACTIVATION", "ACTIVATE", "LINK", "API", "APIKEY", "WEBHOOK", "SIGNED", "URL", "FILE", "ATTACHMENT",
        "REMEMBER", "PERSISTENT", "SECRET", "OTP", "PIN", "CALLBACK", "OAUTH", "PRESIGN", "PRESIGNED", "INSTALL",
        "INSTALLATION", "LICENSE", "SERVICE", "INTERNAL", "WORKER", "DEVICE", "OFFLINE", "EMAIL",
    }
)  # fmt: skip
ACCESS_WORDS = frozenset({"ACCESS", "AUTH", "SESSION", "LOGIN", "SIGNIN", "BEARER"})


def token_purpose(call: Node, payload: Node | None) -> str:
    """"access" or "other" for the token a sign call issues, from the names around it, most telling first:
    where the token goes (`refreshToken = …`), the branch it is issued in (`case 'refresh':`,
    `if (type === 'refresh')`), what its payload says it is (`type: 'refresh'`, `purpose: INVITE_PURPOSE`), the
    function and the class that issue it (`RefreshTokenService`). A name that says "access" wins over one that
    says something else (`refreshAccessToken()` issues an access token); a token nothing names is an access
    token."""
    groups = (
        _holder_words(call), _branch_words(call), _payload_words(payload), _function_words(call), _class_words(call)
    )  # fmt: skip
    for words in groups:
        if ACCESS_WORDS.intersection(words):
            return "access"
        if OTHER_PURPOSE_WORDS.intersection(words):
            return "other"
    return "access"


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
