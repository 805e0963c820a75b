"""Where a handler tells Stripe events apart: the expressions it compares with a Stripe event type.

Stripe names its event types `<object>.<change>` (`checkout.session.completed`, `invoice.paid`,
`customer.subscription.deleted`). Only the families no other billing or auth provider shares are taken as
Stripe's: Polar, Paddle and Clerk also send `customer.created` or `subscription.created`, never
`checkout.session.*` or `invoice.*`.

`compared_expressions(fragment)` gives, for the text of such a string, the expressions the code compares it
with: the discriminant of a `switch` that has it as a case, the other side of `===`/`!==`, and the argument
of `.includes()`/`.has()` on an array or `Set` that holds it (in place, or through a `const` of the file).
"""

from __future__ import annotations

from linter import lazy_re
from linter.js.bindings import declaration_of
from linter.js.expressions import arguments_of, callee, member_object, outermost, property_name, unwrap
from linter.syntax import Node, descendants_of_types, text

STRIPE_EVENT_TYPE = lazy_re.compile(
    r"^(checkout\.session|customer\.subscription|invoice|invoiceitem|payment_intent|charge|setup_intent"
    r"|payment_method|subscription_schedule|billing_portal\.session|customer\.source)\.[a-z_.]+$"
)
# The same, as a tree-sitter regex (no non-capturing groups there).
STRIPE_EVENT_QUERY_PATTERN = (
    "^(checkout\\\\.session|customer\\\\.subscription|invoice|invoiceitem|payment_intent|charge|setup_intent"
    "|payment_method|subscription_schedule|billing_portal\\\\.session|customer\\\\.source)\\\\.[a-z_.]+$"
)
_EQUALITY = frozenset({"===", "==", "!==", "!="})
_MEMBERSHIP = frozenset({"includes", "has", "indexOf"})
MAX_USES = 20


def compared_expressions(fragment: Node) -> list[Node]:
    """The expressions a Stripe event type string (`fragment`, the string's text node) is compared with."""
    literal = fragment.parent
    if literal is None or literal.type != "string" or not STRIPE_EVENT_TYPE.match(text(fragment)):
        return []
    holder = outermost(literal)
    parent = holder.parent
    if parent is None:
        return []
    if parent.type == "switch_case" and parent.child_by_field_name("value") == holder:
        switch = parent.parent.parent if parent.parent is not None else None
        value = unwrap(switch.child_by_field_name("value")) if switch is not None else None
        return [value] if value is not None else []
    if parent.type == "binary_expression" and text(parent.child_by_field_name("operator")) in _EQUALITY:
        left, right = parent.child_by_field_name("left"), parent.child_by_field_name("right")
        other = unwrap(right if left == holder else left)
        return [other] if other is not None else []
    if parent.type == "array" and parent.named_children and parent.named_children[0] == holder:
        return _membership_tests(parent)
    return []


def _membership_tests(array: Node) -> list[Node]:
    """`[...].includes(x)`, or `x` tested against a `const` holding the array or `new Set([...])`."""
    holder = outermost(array)
    parent = holder.parent
    if parent is not None and parent.type == "member_expression" and property_name(parent) in _MEMBERSHIP:
        call = parent.parent
        if call is not None and call.type == "call_expression" and arguments_of(call):
            return [unwrap(arguments_of(call)[0])]
        return []
    if parent is not None and parent.type == "arguments" and parent.parent is not None:
        made = parent.parent
        if made.type != "new_expression" or text(callee(made)) != "Set":
            return []
        holder = outermost(made)
        parent = holder.parent
    if parent is None or parent.type != "variable_declarator" or parent.child_by_field_name("value") != holder:
        return []
    name = parent.child_by_field_name("name")
    if name is None or name.type != "identifier":
        return []
    found = []
    program = _program(parent)
    for use in descendants_of_types(program, ("identifier",)):
        if text(use) != text(name) or use == name:
            continue
        member = use.parent
        if member is None or member.type != "member_expression" or member_object(member) != use:
            continue
        if property_name(member) not in _MEMBERSHIP or member.parent is None or member.parent.type != "call_expression":
            continue
        binding = declaration_of(use)
        if binding is None or binding.declarator != parent or not arguments_of(member.parent):
            continue
        found.append(unwrap(arguments_of(member.parent)[0]))
        if len(found) >= MAX_USES:
            break
    return found


def _program(node: Node) -> Node:
    while node.parent is not None:
        node = node.parent
    return node
