"""What a Prisma list query asks of the database, read from its arguments as written: which model, which fields
`where` pins to one value, and which field `orderBy` sorts by.

    prisma.lead.findMany({ where: { userId, deletedAt: null }, orderBy: { createdAt: 'desc' } })
    → ListQuery(model="lead", equal_fields=("userId", "deletedAt"), order_field="createdAt", ...)

Only literal arguments are read; a `where` or `orderBy` built elsewhere (`where: filters`) says nothing.
"""

from __future__ import annotations


from linter.js.expressions import arguments_of, callee, key_text, member_object, object_keys, property_name, unwrap
from linter.js.imports import string_value
from linter.lazy_dataclasses import dataclass
from linter.syntax import Node, text

LOGICAL_KEYS = frozenset({"AND", "OR", "NOT"})
SORT_DIRECTIONS = frozenset({"asc", "desc"})
PAGE_KEYS = frozenset({"take", "skip", "cursor"})


@dataclass(frozen=True)
class ListQuery:
    model: str  # the client accessor: `lead` in `prisma.lead.findMany()`
    equal_fields: tuple[str, ...]  # `where` keys compared to one value, in source order
    null_fields: tuple[str, ...]  # those of them compared to `null` (`deletedAt: null`)
    order_field: str  # the first `orderBy` field
    open_where: bool  # `where` has a spread or a computed key: more conditions may apply
    paginated: bool  # it asks for one page: `take`, `skip` or `cursor`


def list_query(call: Node) -> ListQuery | None:
    """The shape of `<client>.<model>.findMany({ where: {...}, orderBy: {...} })`, or None when the call is not
    one, or its `where` pins nothing, or its `orderBy` names no plain field."""
    function = callee(call)
    if property_name(function) != "findMany":
        return None
    accessor = member_object(function)
    if accessor is None or accessor.type not in ("member_expression", "subscript_expression"):
        return None
    model = property_name(accessor)
    arguments = arguments_of(call)
    options = unwrap(arguments[0]) if len(arguments) == 1 else None
    if not model or options is None or options.type != "object":
        return None
    entries = object_keys(options)
    where = unwrap(entries.get("where"))
    order = _order_field(unwrap(entries.get("orderBy")))
    if where is None or where.type != "object" or order is None:
        return None
    equal_fields = tuple(name for name, value in _conditions(where) if _is_equality(value))
    if not equal_fields:
        return None
    open_where = any(c.type in ("spread_element", "computed_property_name") for c in _entries(where))
    null_fields = tuple(name for name, value in _conditions(where) if name in equal_fields and text(value) == "null")
    paginated = bool(PAGE_KEYS & set(entries))
    return ListQuery(model, equal_fields, null_fields, order, open_where, paginated)


def _entries(obj: Node) -> list[Node]:
    found = []
    for child in obj.named_children:
        if child.type == "pair" and child.child_by_field_name("key").type == "computed_property_name":
            found.append(child.child_by_field_name("key"))
        else:
            found.append(child)
    return found


def _conditions(where: Node) -> list[tuple[str, Node]]:
    return [(name, value) for name, value in object_keys(where).items() if name not in LOGICAL_KEYS]


def _is_equality(value: Node) -> bool:
    """`userId`, `userId: id`, `deletedAt: null`, `userId: { equals: id }`; not `{ in: [...] }` or `{ gt: x }`."""
    if value.type == "shorthand_property_identifier":
        return True
    value = unwrap(value)
    if value is None:
        return False
    if value.type == "object":
        return set(object_keys(value)) == {"equals"}
    return value.type not in ("array", "undefined") and text(value) != "undefined"


def _order_field(order: Node | None) -> str | None:
    """`{ createdAt: 'desc' }`, `[{ createdAt: 'desc' }, ...]`, `{ createdAt: { sort: 'desc' } }` → createdAt."""
    if order is not None and order.type == "array":
        items = [c for c in order.named_children if c.type != "comment"]
        order = unwrap(items[0]) if items else None
    if order is None or order.type != "object":
        return None
    pairs = [c for c in order.named_children if c.type != "comment"]
    if not pairs or pairs[0].type != "pair":
        return None
    key = pairs[0].child_by_field_name("key")
    value = unwrap(pairs[0].child_by_field_name("value"))
    if key is None or key.type == "computed_property_name" or value is None:
        return None
    if value.type == "object":
        value = unwrap(object_keys(value).get("sort"))
    direction = string_value(value) if value is not None else None
    if direction not in SORT_DIRECTIONS and not _is_direction_variable(value):
        return None
    return key_text(key) or None


def _is_direction_variable(value: Node | None) -> bool:
    """`orderBy: { createdAt: sortOrder }`: a direction chosen at run time still sorts by the field."""
    return value is not None and value.type in ("identifier", "member_expression", "ternary_expression")
