"""The options of `prisma/missing-relation-index` (a pydantic model, imported only when a run reads or checks them)."""

from __future__ import annotations

from pydantic import StrictBool

from linter.rule_options import RuleOptions


class MissingRelationIndexOptions(RuleOptions):
    # Report every unindexed foreign key, as a note when no query of the project uses it (prisma-lint's
    # `forAllRelations`).
    for_all_relations: StrictBool = False
