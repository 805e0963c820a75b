"""GraphQL resolvers: the arguments a client passes to a field.

- resolver maps (Apollo Server, GraphQL Yoga, Mercurius): `{ Query: { posts: (parent, args, ctx) => … } }`
  (also methods, and `Mutation`/`Subscription`): the second parameter;
- field builders (Pothos, Nexus): `t.field({ args: {…}, resolve: (root, args, ctx) => … })`,
  `t.list.field('posts', { args, resolve })`; Pothos's Prisma plugin (`t.prismaField`, `t.prismaConnection`)
  passes the arguments third, after the query;
- type-graphql and `@nestjs/graphql` decorators are read with the NestJS ones (`linter.frameworks.nestjs`).
"""

from __future__ import annotations

from linter.js.expressions import callee, key_text, object_keys, property_name
from linter.syntax import Node

_ROOT_TYPES = frozenset({"Query", "Mutation", "Subscription"})
_PRISMA_FIELDS = frozenset({"prismaField", "prismaConnection", "prismaObjectField"})


def arguments_position(fn: Node) -> int | None:
    """The position of the parameter that receives a resolver's GraphQL arguments, or None when `fn` is not
    a resolver."""
    holder, key = _holder_of(fn)
    if holder is None:
        return None
    if key == "resolve" and "args" in object_keys(holder):
        call = holder.parent.parent if holder.parent is not None and holder.parent.type == "arguments" else None
        builder = property_name(callee(call)) if call is not None else None
        return 2 if builder in _PRISMA_FIELDS else 1
    root = holder.parent
    if root is not None and root.type == "pair" and key_text(root.child_by_field_name("key")) in _ROOT_TYPES:
        return 1
    return None


def _holder_of(fn: Node) -> tuple[Node | None, str | None]:
    """The object literal `fn` is an entry of, and its key."""
    if fn.type == "method_definition":
        parent = fn.parent
        return (parent, key_text(fn.child_by_field_name("name"))) if parent is not None and parent.type == "object" else (None, None)
    parent = fn.parent
    if parent is not None and parent.type == "pair" and parent.parent is not None and parent.parent.type == "object":
        return parent.parent, key_text(parent.child_by_field_name("key"))
    return None, None
