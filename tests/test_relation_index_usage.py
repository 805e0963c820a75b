"""prisma/missing-relation-index beyond the fixtures: how each finding says what uses the key, the
`for-all-relations` option, a schema linted without code, the query records each file leaves (what they
read of a call), and runs with a cache, in worker processes and pre-commit style."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from linter.context import FileContext
from linter.engine import RunOptions, run
from linter.model import Level
from linter.rules.prisma._query_facts import UNKNOWN, prisma_queries, query_sites, says_nothing, typed_object
from linter.syntax import parse
from tests.fixture_cases import FIXTURES

RULE = "prisma/missing-relation-index"
CASES = FIXTURES / "prisma" / "missing-relation-index"


def _copy(case: str, tmp_path: Path) -> Path:
    target = tmp_path / case
    shutil.copytree(CASES / case, target)
    return target


def _findings(paths: list[Path], **options):
    report = run(RunOptions(paths=paths, jobs=options.pop("jobs", 1), **options)).report
    return sorted((f for f in report.active_findings if f.rule_id == RULE), key=lambda f: (f.path, f.span.start_line))


def test_a_finding_names_the_use_and_points_at_it(tmp_path):
    repo = _copy("usage", tmp_path)
    by_line = {f.span.start_line: f for f in _findings([repo])}
    opener = by_line[53]
    assert opener.level is Level.WARNING
    assert "filters `Ticket` by `openerId` (src/routes/tickets.js:7)" in opener.message
    assert "@@index([openerId])" in opener.message
    assert [(r.path, r.span.start_line, r.message) for r in opener.related] == [
        ("prisma/schema.prisma", 50, "relation `opener`"),
        ("src/routes/tickets.js", 7, "uses the key here"),
    ]
    cascade = by_line[200]
    assert "deletes `Customer` rows, which cascades to `Conversation` (src/routes/customers.js:9)" in cascade.message
    assert "each delete scans the `Message` table" in cascade.message


def test_unused_keys_are_silent_by_default_and_notes_with_the_option(tmp_path):
    repo = _copy("usage", tmp_path)
    default = {f.span.start_line for f in _findings([repo])}
    (repo / ".loadlint.toml").write_text('[rules."prisma/missing-relation-index"]\nfor-all-relations = true\n')
    everything = {f.span.start_line: f for f in _findings([repo])}
    # Ticket.deskId, Reply.authorId, Audit.actorId, Macro.deskId, DeskPlan.planId, Tag.planId.
    assert set(everything) - default == {61, 90, 142, 151, 167, 177}
    assert all(everything[line].level is Level.NOTE for line in set(everything) - default)
    assert all(everything[line].level is Level.WARNING for line in default)
    assert "no query of the project filters or sorts by it" in everything[151].message


def test_a_schema_without_code_reports_every_unindexed_key(tmp_path):
    shutil.copy(CASES / "schema-only.prisma", tmp_path / "schema.prisma")
    (finding,) = _findings([tmp_path])
    assert finding.level is Level.WARNING
    assert "whether a query uses the key could not be checked" in finding.message


def test_raw_sql_and_client_hooks_alone_do_not_count_as_code_that_queries_the_schema(tmp_path):
    # A migration runner that cleans its own bookkeeping table in SQL, and a client hook: neither says which
    # keys the code looks up, so the schema is still judged as linted without its code.
    shutil.copy(CASES / "schema-only.prisma", tmp_path / "schema.prisma")
    (tmp_path / "migrate.ts").write_text(
        "export async function forget(db: any, name: string) {\n"
        "  await db.$executeRaw`DELETE FROM _applied_steps WHERE name = ${name}`;\n"
        "}\n"
        "export const soften = (db: any) => db.$use((params: any, next: any) => {\n"
        "  if (params.action === 'delete') { params.action = 'update'; params.args.data = { hidden: true }; }\n"
        "  return next(params);\n"
        "});\n"
    )
    (finding,) = _findings([tmp_path])
    assert "whether a query uses the key could not be checked" in finding.message


def test_pre_commit_on_the_schema_still_reads_the_package_code(tmp_path):
    repo = _copy("usage", tmp_path)
    whole = [(f.path, f.span.start_line) for f in _findings([repo])]
    schema_only = [(f.path, f.span.start_line) for f in _findings([repo / "prisma" / "schema.prisma"])]
    assert schema_only == whole and len(whole) == 14


def test_cached_and_parallel_runs_give_the_same_findings(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    repo = _copy("usage", tmp_path)
    first = [(f.path, f.span.start_line, f.message) for f in _findings([repo], use_cache=True)]
    warm = [(f.path, f.span.start_line, f.message) for f in _findings([repo], use_cache=True)]
    parallel = [(f.path, f.span.start_line, f.message) for f in _findings([repo], jobs=2)]
    assert first == warm == parallel and first


# --- the query records of one file ---------------------------------------------------------------------------


def _queries(source: str, language: str = "typescript"):
    code = source.encode()
    file = FileContext("src/x.ts", code, language, parse(code, language))
    found = []
    for kind, node in query_sites(file):
        if kind == "typed":
            found.append(typed_object(node, file))
        else:
            found.extend(query for _, query in prisma_queries(node, file))
    return found


def test_where_objects_built_in_the_file_are_read():
    (query,) = _queries(
        """
        async function list(ownerId: string, q: string) {
          const where: any = { archived: false };
          if (ownerId) where.ownerId = ownerId;
          Object.assign(where, search(q));
          return db.product.findMany({ where, orderBy: { createdAt: 'desc' } });
        }
        function search(q) { return q ? { OR: [{ name: q }, { sku: q }] } : {}; }
        """
    )
    assert query.model == "product" and query.operation == "findMany"
    assert set(query.where) == {"archived", "ownerId", "OR"} and set(query.where["OR"]) == {"name", "sku"}
    assert query.order_by == {"createdAt": {}}


def test_relation_reads_nested_writes_and_fluent_calls():
    include, update, unique, fluent = _queries(
        """
        await ctx.db.team.findMany({ include: { members: { include: { user: true } }, _count: { select: { invites: true } } } });
        await this.prisma.user.update({ where: { id }, data: { handle, tokens: { deleteMany: {} } } });
        await prisma.user.findUnique({ where: { id } }).posts({ where: { published: true } });
        """
    )
    assert include.model == "team" and set(include.reads) == {"members", "_count"}
    assert include.reads["members"] == {"include": {"user": {}}}
    assert update.data == {"handle": {}, "tokens": {"deleteMany": {}}}
    assert unique.operation == "findUnique" and says_nothing(unique)
    assert fluent.operation == "fluent" and fluent.reads == {"posts": {"where": {"published": {}}, "include": {}}}


def test_typed_delegates_and_prisma_types_name_the_model():
    call, typed = _queries(
        """
        class Repo {
          constructor(private readonly orders: PrismaClient['order']) {}
          list(customerId: string) {
            const filter: Prisma.OrderWhereInput = { customerId };
            return this.orders.findMany({ where: { customerId } });
          }
        }
        """
    )
    assert call.model == "order" and not call.typed
    assert typed.model == "Order" and typed.typed and typed.where == {"customerId": {UNKNOWN: {}}}


def test_pothos_relation_fields_are_reads_of_the_parent_side():
    books, count = _queries(
        """
        builder.prismaObject('Author', { fields: (t) => ({ books: t.relation('books'), n: t.relationCount('fans') }) });
        """
    )
    assert (books.model, books.typed, books.reads) == ("Author", True, {"books": {}})
    assert count.reads == {"_count": {"select": {"fans": {}}}}


@pytest.mark.parametrize(
    "source",
    [
        "cache.session.delete(key);",
        "this.sessions.delete(id);",
        "store.user.update(user);",
        "counters.page.count();",
    ],
)
def test_look_alike_method_calls_are_not_queries(source):
    assert _queries(source) == []


def test_emptying_a_table_has_no_filter():
    emptied, filtered = _queries(
        "await prisma.tag.deleteMany(); await prisma.tag.deleteMany({ where: { planId } });", "javascript"
    )
    assert emptied.where is None and filtered.where == {"planId": {UNKNOWN: {}}}
