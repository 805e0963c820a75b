"""The fields of a Prisma model that a client must not set: who the row belongs to, what its user may do,
what they have paid for or hold, and what the app has verified about them.

Read from the schema, by the field's name (its words, camelCase or snake_case) and, for enum fields, by what
the enum holds:

- privileges: `role`, `roles`, `roleId`, `isAdmin`, `admin`, `superuser`, `isStaff`, `isModerator`,
  `permissions`, `privileges`, `accessLevel`, `userType`, `accountType`;
- ownership: `userId`, `ownerId`, `authorId`, `creatorId`, `createdById`, `createdBy`, `tenantId`,
  `organizationId`, `orgId`, `workspaceId`, `teamId`, `accountId`;
- money and quotas: `balance` (and `*Balance`), `credits`, `points`, `coins`;
- plans: `plan`, `planId`, `tier`, `subscriptionStatus`/`Tier`/`Plan`/`Id`, `isPremium`, `isPro`, `isPaid`,
  `stripeCustomerId`, `stripeSubscriptionId`, `stripePriceId`, `trialEndsAt`;
- verification and moderation: `emailVerified`, `phoneVerified`, `isVerified`, `verified`, `verifiedAt`,
  `isApproved`, `approved`, `isBanned`, `banned`, `isSuspended`;
- any enum field with a `@default` whose enum looks like a privilege: its name says role, permission, plan,
  tier, level or access, or its values include ADMIN, OWNER, MODERATOR, STAFF, PRO, PREMIUM or ENTERPRISE
  (`role Role @default(USER)`, `plan Plan @default(FREE)`).

`@id`, `@updatedAt` and list relation fields are never counted: a client cannot usefully set them.

A key to another model named with a privilege word (`staffId`, `adminId`: the scalar of a relation, or named
after a model of the schema) is judged by the model it points at: a role or permission model (`roleId` → `Role`)
is a privilege, an account (a model with a password, a unique email, or sessions or sign-in accounts: `adminId`
→ `Admin`)
is an owner, and anything else is a choice among rows (`Appointment.staffId` → a `Staff` list of the salon's
stylists) that grants nothing.
"""

from __future__ import annotations

from linter import lazy_re
from linter.lazy_dataclasses import dataclass

from ._project_schemas import Model, PrismaSchema, relation_fields

_WORDS = lazy_re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_PRIVILEGE_WORDS = frozenset({"role", "roles", "admin", "superadmin", "superuser", "staff", "moderator", "permission",
                              "permissions", "privilege", "privileges"})  # fmt: skip
_OWNER_FIELDS = frozenset({
    ("user", "id"), ("owner", "id"), ("author", "id"), ("creator", "id"), ("created", "by"), ("created", "by", "id"),
    ("tenant", "id"), ("organization", "id"), ("organisation", "id"), ("org", "id"), ("owner",), ("workspace", "id"),
    ("team", "id"), ("account", "id"),
})  # fmt: skip
_EXACT_FIELDS = {
    ("access", "level"): "privileges", ("user", "type"): "privileges", ("account", "type"): "privileges",
    ("credits",): "a balance", ("credit",): "a balance", ("points",): "a balance", ("coins",): "a balance",
    ("plan",): "a plan", ("plan", "id"): "a plan", ("tier",): "a plan", ("is", "premium"): "a plan",
    ("premium",): "a plan", ("is", "pro"): "a plan", ("is", "paid"): "a plan", ("paid",): "a plan",
    ("trial", "ends", "at"): "a plan", ("verified",): "a verification", ("is", "verified"): "a verification",
    ("verified", "at"): "a verification", ("is", "approved"): "a verification", ("approved",): "a verification",
    ("is", "banned"): "a moderation status", ("banned",): "a moderation status",
    ("is", "suspended"): "a moderation status", ("suspended",): "a moderation status",
}  # fmt: skip
_FREE_TEXT_TYPES = frozenset({"String", "Json"})
_SUBSCRIPTION_PARTS = frozenset({"status", "tier", "plan", "id", "level"})
_STRIPE_PARTS = frozenset({"customer", "subscription", "price"})
_PRIVILEGE_ENUM_NAME = lazy_re.compile(r"(?i)role|permission|privilege|plan|tier|level|access|usertype|accounttype")
_PRIVILEGE_ENUM_VALUES = frozenset({"ADMIN", "SUPERADMIN", "SUPER_ADMIN", "OWNER", "MODERATOR", "STAFF", "PRO",
                                    "PREMIUM", "ENTERPRISE", "ROOT"})  # fmt: skip


@dataclass(frozen=True)
class PrivilegedField:
    name: str
    why: str  # "a role", "the owner", …
    start: int  # byte offsets in the schema file
    end: int
    free_text: bool = False  # a privilege by its name only, holding any text (`role String`): see `_field_checks`


def words(name: str) -> tuple[str, ...]:
    return tuple(w.lower() for part in name.split("_") for w in _WORDS.findall(part))


def privileged_fields(schema: PrismaSchema, model: Model) -> list[PrivilegedField]:
    """The fields of `model` that a client must not set, in schema order."""
    enums = {block.name: block for f in schema.files for block in f.blocks if block.kind == "enum"}
    referenced = {scalar: relation.type for relation, scalars in relation_fields(model.block) for scalar in scalars}
    found = []
    for field in model.block.fields:
        if field.attribute("id") is not None or field.attribute("updatedAt") is not None:
            continue
        if field.type in schema.model_names:
            continue  # the relation's scalar key is what a client would set
        why = _why_by_name(field.name)
        if why == "privileges" and words(field.name)[-1:] == ("id",):
            why = _why_by_target(schema, referenced.get(field.name) or _model_named(schema, words(field.name)[:-1]), why)
        if why is None and field.type in enums and field.attribute("default") is not None:
            why = _why_by_enum(enums[field.type])
        if why is not None:
            free_text = why == "privileges" and field.type in _FREE_TEXT_TYPES
            found.append(PrivilegedField(field.name, why, field.start, field.end, free_text))
    return found


def relation_keys(model: Model) -> dict[str, tuple[str, ...]]:
    """Relation field name → the scalar keys it sets (`author` → (`authorId`,)): writing the relation sets them."""
    return {relation.name: scalars for relation, scalars in relation_fields(model.block)}


def _why_by_name(name: str) -> str | None:
    parts = words(name)
    if not parts:
        return None
    if _PRIVILEGE_WORDS & set(parts) and (parts[-1] in _PRIVILEGE_WORDS or parts[-1] == "id" or parts[0] == "is"):
        return "privileges"
    if parts in _OWNER_FIELDS:
        return "ownership"
    if "balance" in parts:
        return "a balance"
    if parts in _EXACT_FIELDS:
        return _EXACT_FIELDS[parts]
    if parts[0] == "subscription" and len(parts) > 1 and parts[-1] in _SUBSCRIPTION_PARTS:
        return "a plan"
    if parts[0] == "stripe" and _STRIPE_PARTS & set(parts):
        return "a plan"
    if "verified" in parts:
        return "a verification"
    return None


def _model_named(schema: PrismaSchema, parts: tuple[str, ...]) -> str | None:
    """The model whose name is `parts` (`("staff",)` → `Staff`), or None."""
    wanted = "".join(parts)
    return next((name for name in sorted(schema.model_names) if name.lower() == wanted), None)


def _why_by_target(schema: PrismaSchema, target: str | None, why: str) -> str | None:
    """A privilege-named key by the model it points at: a role model's key is a privilege, an account's is its
    owner, any other model's grants nothing. `why` when the model is unknown."""
    if target is None:
        return why
    if _PRIVILEGE_WORDS & set(words(target)) - {"staff", "admin", "superadmin", "superuser", "moderator"}:
        return "privileges"  # `Role`, `Permission`, `StaffRole`
    block = next((b for f in schema.files for b in f.blocks if b.kind == "model" and b.name == target), None)
    if block is None:
        return why
    return "ownership" if _is_account(block) else None


def _is_account(block) -> bool:
    """A model people sign in as: it holds a password, a unique email, or NextAuth-style sessions and accounts."""
    for field in block.fields:
        parts = set(words(field.name))
        if "password" in parts or "passwd" in parts or field.type in ("Session", "Account") and field.is_list:
            return True
        if parts == {"email"} and field.attribute("unique") is not None:
            return True
    return False


def _why_by_enum(enum) -> str | None:
    values = {field.name.upper() for field in enum.fields}
    if _PRIVILEGE_ENUM_NAME.search(enum.name) or values & _PRIVILEGE_ENUM_VALUES:
        return "privileges"
    return None
