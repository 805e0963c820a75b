"""`schema_keys`: the top-level keys what a zod schema parses can carry (nestjs-zod DTOs in mass-assignment)."""

from __future__ import annotations

import pytest

from linter.frameworks.validation_schemas import schema_keys
from linter.syntax import parse, walk

HEADER = "import { z } from 'zod';\nimport { Generated } from '@acme/generated';\n"


def _keys(declarations: str):
    tree = parse((HEADER + declarations).encode(), "typescript")
    last = [n for n in walk(tree.root_node) if n.type == "variable_declarator"][-1]
    return schema_keys(last.child_by_field_name("value"), None)


@pytest.mark.parametrize(
    "source, keys, open_, removed",
    [
        ("const s = z.object({ name: z.string(), bio: z.string() });", {"name", "bio"}, False, set()),
        ("const base = z.object({ name: z.string(), role: z.string() });\nconst s = base.pick({ name: true }).partial();", {"name"}, False, set()),
        ("const base = z.object({ name: z.string(), role: z.string() });\nconst s = base.omit({ role: true }).strict();", {"name"}, False, set()),
        ("const s = z.object({ name: z.string() }).extend({ plan: z.string() });", {"name", "plan"}, False, set()),
        ("const a = z.object({ name: z.string() });\nconst s = a.merge(z.object({ tier: z.number() }));", {"name", "tier"}, False, set()),
        ("const a = z.object({ name: z.string() });\nconst s = z.object({ ...a.shape, bio: z.string() });", {"name", "bio"}, False, set()),
        ("const s = z.union([z.object({ a: z.string() }), z.object({ b: z.string() })]);", {"a", "b"}, False, set()),
        ("const s = z.object({ name: z.string() }).passthrough();", None, True, set()),
        ("const s = z.record(z.string(), z.string());", None, True, set()),
        ("const s = Generated.pick({ name: true });", {"name"}, False, set()),
        ("const s = Generated.omit({ role: true });", None, False, {"role"}),
        ("const s = Generated.omit({ role: true }).extend({ role: z.literal('USER') });", None, False, set()),
        ("const s = z.object({ name: z.string() }).transform((v) => ({ ...v, role: 'x' }));", None, False, set()),
    ],
)
def test_schema_keys(source, keys, open_, removed):
    found = _keys(source)
    assert (set(found.keys) if found.keys is not None else None, found.open, set(found.removed)) == (keys, open_, removed)
