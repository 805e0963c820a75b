"""prisma/raw-query-injection and prisma/mass-assignment beyond the fixtures: code flows across files, SARIF,
the SQL fix, the cache and worker processes, and the helpers that read SQL templates, schemas and models."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from linter.cli import main
from linter.context import FileContext
from linter.engine import RunOptions, run
from linter.formatters.sarif import sarif_log
from linter.rules.prisma._privileged_fields import privileged_fields
from linter.rules.prisma._project_schemas import PrismaSchema, _datasource
from linter.rules.prisma._request_bags import keeps_unknown_keys
from linter.rules.prisma._schema_parser import parse_schema
from linter.rules.prisma._sql_fixes import _parameterized
from linter.syntax import parse, text, walk
from tests.project_builder import write_files
from tests.sarif_schema import assert_valid_sarif

SQL = "prisma/raw-query-injection"
MASS = "prisma/mass-assignment"
PACKAGE = '{"name": "api", "dependencies": {"express": "^4.21.0", "@prisma/client": "^5.22.0", "pg": "^8.13.0"}}'
SCHEMA = """datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model User {
  id            String  @id @default(cuid())
  email         String  @unique
  name          String?
  role          Role    @default(MEMBER)
  emailVerified Boolean @default(false)
}

enum Role {
  MEMBER
  ADMIN
}
"""
ROUTES = """const express = require('express');
const users = require('../services/users');

const router = express.Router();

router.get('/users', async (req, res) => {
  res.json(await users.search(req.query.term));
});

router.patch('/users/:id', async (req, res) => {
  res.json(await users.update(req.params.id, req.body));
});

module.exports = router;
"""
SERVICE = """const { prisma } = require('../prisma');

async function search(term) {
  return prisma.$queryRawUnsafe(`SELECT id FROM "User" WHERE name = '${term}'`);
}

async function update(id, changes) {
  return prisma.user.update({ where: { id }, data: changes });
}

module.exports = { search, update };
"""


@pytest.fixture
def layered(tmp_path: Path) -> Path:
    return write_files(tmp_path / "app", {
        "package.json": PACKAGE,
        "prisma/schema.prisma": SCHEMA,
        "src/prisma.js": "const { PrismaClient } = require('@prisma/client');\nmodule.exports = { prisma: new PrismaClient() };\n",
        "src/routes/users.js": ROUTES,
        "src/services/users.js": SERVICE,
    })  # fmt: skip


def _findings(root: Path, rule: str, jobs: int = 1, use_cache: bool = False):
    report = run(RunOptions(paths=[root], jobs=jobs, use_cache=use_cache)).report
    return [f for f in report.active_findings if f.rule_id == rule], report


def test_sql_built_in_one_module_from_a_value_of_another_names_both_ends(layered):
    (finding,), _ = _findings(layered, SQL)
    assert (finding.path, finding.span.start_line) == ("src/services/users.js", 4)
    assert "`term` from the query string in src/routes/users.js" in finding.message
    assert "`$queryRaw` tagged template" in finding.message
    steps = [(step.path, step.span.start_line, step.message) for step in finding.code_flow]
    assert steps == [
        ("src/routes/users.js", 7, "`term` comes from the query string"),
        ("src/routes/users.js", 7, "passed to `users.search()`"),
        ("src/services/users.js", 3, "`term` is a parameter of `search()`"),
        ("src/services/users.js", 4, "runs as SQL in `$queryRawUnsafe()`"),
    ]


def test_the_body_passed_to_another_module_is_a_mass_assignment_with_the_schema_fields_related(layered):
    (finding,), _ = _findings(layered, MASS)
    assert (finding.path, finding.span.start_line) == ("src/services/users.js", 8)
    assert "The request body in src/routes/users.js" in finding.message
    assert "`role` and `emailVerified` of `User`" in finding.message
    related = [(r.path, r.span.start_line, r.message) for r in finding.related]
    assert related[1:] == [("prisma/schema.prisma", 10, "`role`: privileges"), ("prisma/schema.prisma", 11, "`emailVerified`: a verification")]
    assert [step.path for step in finding.code_flow] == ["src/routes/users.js", "src/services/users.js", "src/services/users.js"]


def test_sarif_of_both_rules_has_code_flows_and_validates(layered):
    _, report = _findings(layered, SQL)
    log = sarif_log(report)
    assert_valid_sarif(log)
    results = {r["ruleId"]: r for r in log["runs"][0]["results"] if r["ruleId"] in (SQL, MASS)}
    assert set(results) == {SQL, MASS}
    for result in results.values():
        (flow,) = result["codeFlows"]
        uris = {step["location"]["physicalLocation"]["artifactLocation"]["uri"] for step in flow["threadFlows"][0]["locations"]}
        assert uris == {"src/routes/users.js", "src/services/users.js"}
    rules = {r["id"]: r for r in log["runs"][0]["tool"]["driver"]["rules"]}
    assert "external/cwe/cwe-89" in rules[SQL]["properties"]["tags"]
    assert "external/cwe/cwe-915" in rules[MASS]["properties"]["tags"]


def test_a_sink_fed_from_two_routes_is_one_finding(layered):
    routes = layered / "src/routes/users.js"
    routes.write_text(routes.read_text().replace(
        "module.exports = router;",
        "router.get('/people', async (req, res) => {\n  res.json(await users.search(req.query.q));\n});\n\nmodule.exports = router;",
    ))  # fmt: skip
    (finding,), _ = _findings(layered, SQL)
    assert (finding.path, finding.span.start_line) == ("src/services/users.js", 4)


def test_a_query_helper_called_with_built_sql_is_reported_where_the_sql_is_built(tmp_path):
    root = write_files(tmp_path / "app", {
        "package.json": PACKAGE,
        "src/db.js": "const { Pool } = require('pg');\nconst pool = new Pool();\n"
                     "async function query(text, values) {\n  return (await pool.query(text, values)).rows;\n}\n"
                     "module.exports = { query };\n",
        "src/routes.js": "const db = require('./db');\nmodule.exports = (app) => app.get('/x', async (req, res) => {\n"
                         "  res.json(await db.query(`SELECT * FROM t WHERE id = ${req.query.id}`));\n});\n",
    })  # fmt: skip
    findings, _ = _findings(root, SQL)
    assert [(f.path, f.span.start_line) for f in findings] == [("src/routes.js", 3)]


def test_worker_processes_and_a_warm_cache_find_the_same(tmp_path):
    files = {"package.json": PACKAGE, "prisma/schema.prisma": SCHEMA}
    for index in range(40):
        files[f"src/routes/r{index}.js"] = (
            "const { prisma } = require('../prisma');\n"
            f"module.exports = (app) => app.post('/u{index}', async (req, res) => {{\n"
            "  await prisma.$executeRawUnsafe(`DELETE FROM t WHERE id = '${req.body.id}'`);\n"
            "  res.json(await prisma.user.create({ data: req.body }));\n});\n"
        )
    root = write_files(tmp_path / "app", files)

    def key(findings):
        return sorted((f.rule_id, f.path, f.span.start_line, f.message, f.code_flow, f.related) for f in findings)

    serial = [f for rule in (SQL, MASS) for f in _findings(root, rule)[0]]
    parallel = [f for rule in (SQL, MASS) for f in _findings(root, rule, jobs=2)[0]]
    assert len(serial) == 80 and key(serial) == key(parallel)
    cold = [f for f in run(RunOptions(paths=[root], jobs=1)).report.active_findings if f.rule_id in (SQL, MASS)]
    warm = [f for f in run(RunOptions(paths=[root], jobs=1)).report.active_findings if f.rule_id in (SQL, MASS)]
    assert key(cold) == key(serial) == key(warm)


def test_unsafe_fix_sends_values_as_parameters_and_a_second_run_has_nothing_left(tmp_path):
    root = write_files(tmp_path / "app", {
        "package.json": PACKAGE,
        "src/a.ts": "import { prisma } from './prisma';\nimport { Pool } from 'pg';\nconst pool = new Pool();\n"
                    "export async function find(req: any) {\n"
                    "  const name = String(req.query.name);\n"
                    "  await prisma.$queryRawUnsafe(`SELECT id FROM \"User\" WHERE name LIKE '%${name}%' AND id = ${req.query.id}`);\n"
                    "  await pool.query(`SELECT id FROM users WHERE email = '${req.query.email}' LIMIT ${req.query.n}`);\n"
                    "  await pool.query(`SELECT id FROM users ORDER BY ${req.query.sort}`);\n"
                    "}\n",
    })  # fmt: skip
    select = ["--select", SQL]
    safe_only = CliRunner().invoke(main, ["check", str(root), "--fix", *select], catch_exceptions=False)
    assert "fixed 0 findings" in safe_only.stderr
    CliRunner().invoke(main, ["check", str(root), "--fix", "--unsafe-fixes", *select], catch_exceptions=False)
    fixed = (root / "src/a.ts").read_text()
    assert "prisma.$queryRaw`SELECT id FROM \"User\" WHERE name LIKE ${`%${name}%`} AND id = ${req.query.id}`;" in fixed
    assert "pool.query(`SELECT id FROM users WHERE email = $1 LIMIT $2`, [req.query.email, req.query.n]);" in fixed
    assert "ORDER BY ${req.query.sort}`);" in fixed  # a column name cannot be a parameter: no fix
    again = CliRunner().invoke(main, ["check", str(root), "--format", "concise", *select], catch_exceptions=False)
    assert again.output.count(SQL) == 1 and ":8:" in again.output


def _template(source: str):
    tree = parse(source.encode(), "javascript")
    return next(n for n in walk(tree.root_node) if n.type == "template_string")


@pytest.mark.parametrize(
    "source, style, expected",
    [
        ("`a = '${x}' AND b > ${y}`", "dollar", ("`a = $1 AND b > $2`", ["x", "y"])),
        ("`name ILIKE '%${q}%'`", "question", ("`name ILIKE ?`", ["`%${q}%`"])),
        ("`name = '${q}' AND kind = 'plain'`", "tagged", ("`name = ${q} AND kind = 'plain'`", ["q"])),
        ("`id IN (${ids})`", "dollar", None),
        ("`ORDER BY ${column}`", "dollar", None),
        ("`FROM \"${table}\"`", "tagged", None),
        ("`name = 'O''${q}'`", "tagged", None),
        ("`name = '${q}`", "tagged", None),
    ],
)
def test_templates_are_parameterized_only_where_every_value_is_a_value(source, style, expected):
    assert _parameterized(_template(source), style) == expected


def _schema(source: str) -> PrismaSchema:
    parsed = parse_schema("schema.prisma", source.encode())
    return PrismaSchema("schema.prisma", [parsed], _datasource(parsed))


def test_privileged_fields_come_from_names_and_privilege_like_enums_with_defaults():
    schema = _schema(SCHEMA.replace("model User {", "model User {\n  plan   Tier @default(BASIC)\n  kind   Kind @default(A)\n  label  Kind\n  ownerId String\n  owner User? @relation(\"o\", fields: [ownerId], references: [id])")
                     + "\nenum Tier {\n  BASIC\n  PREMIUM\n}\n\nenum Kind {\n  A\n  B\n}\n")  # fmt: skip
    found = {f.name: f.why for f in privileged_fields(schema, schema.model("User"))}
    assert found == {"plan": "a plan", "ownerId": "ownership", "role": "privileges", "emailVerified": "a verification"}


KEYS_SCHEMA = """datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model Staff {
  id   String @id
  name String
}

model Admin {
  id       String @id
  password String
}

model Nurse {
  id    String @id
  email String @unique
}

model Role {
  id String @id
}

model Booking {
  id           String @id
  staffId      String
  adminId      String
  nurse        Nurse  @relation(fields: [nurseStaffId], references: [id])
  nurseStaffId String
  roleId       String
  moderatorId  String
}
"""


def test_a_privilege_named_key_is_judged_by_the_model_it_points_at():
    schema = _schema(KEYS_SCHEMA)
    found = {f.name: f.why for f in privileged_fields(schema, schema.model("Booking"))}
    # `staffId` names `Staff`, a list of names: a choice that grants nothing. `adminId` names `Admin`, an account
    # (a password): its owner. `nurseStaffId` is the key of a relation to an account (a unique email): an owner.
    # `roleId` names `Role`: a privilege. `moderatorId` names no model: judged by its name, as before.
    assert found == {"adminId": "ownership", "nurseStaffId": "ownership", "roleId": "privileges", "moderatorId": "privileges"}


def _expression(source: str, language: str = "typescript") -> tuple[FileContext, object]:
    file = FileContext("x.ts", source.encode(), language, parse(source.encode(), language))
    declarator = [n for n in walk(file.root) if n.type == "variable_declarator"][-1]
    return file, declarator.child_by_field_name("name")


@pytest.mark.parametrize(
    "source, keeps",
    [
        ("import { z } from 'zod';\nconst s = z.object({ name: z.string() });", False),
        ("import { z } from 'zod';\nconst s = z.object({ name: z.string() }).passthrough();", True),
        ("import { z } from 'zod';\nconst s = z.object({ name: z.string() }).catchall(z.string());", True),
        ("import { z } from 'zod';\nconst s = z.record(z.string(), z.unknown());", True),
        ("import Joi from 'joi';\nconst s = Joi.object({ name: Joi.string() });", False),
        ("import Joi from 'joi';\nconst s = Joi.object({ name: Joi.string() }).unknown();", True),
        ("import * as yup from 'yup';\nconst s = yup.object({ name: yup.string() });", True),
        ("import * as yup from 'yup';\nconst s = yup.object({ name: yup.string() }).noUnknown();", False),
        ("const s = { type: 'object', properties: { name: { type: 'string' } } };", True),
        ("const s = { type: 'object', additionalProperties: false, properties: {} };", False),
    ],
)
def test_schemas_that_keep_unknown_keys(source, keeps):
    file, name = _expression(source)
    assert keeps_unknown_keys(name, file) is keeps, text(name)


@pytest.mark.parametrize(
    "signature, is_request",
    [
        ("(request: NextRequest)", True),
        ("(r: AuthRequest, res: Response)", True),
        ("(event: FastifyRequest)", True),
        ("(data: IUpdateProductRequest, id: string)", False),
        ("(payload: CreateUserRequest)", False),
        ("(body: LoginRequest)", False),
        ("(r: UpdateUserRequest)", False),
    ],
)
def test_a_parameter_typed_like_a_request_is_one_unless_it_names_a_payload(signature, is_request):
    from linter.frameworks.request_inputs import _looks_like_request

    tree = parse(f"function handle{signature} {{}}".encode(), "typescript")
    param = next(n for n in walk(tree.root_node) if n.type == "required_parameter")
    assert _looks_like_request(param) is is_request


@pytest.mark.parametrize(
    "source, mass_assignment, raw_query",
    [
        (b"const q = useQuery(); export const update = () => create(rawData);", False, False),
        (b"await prisma.user.update({ where, data: req.body });", True, False),
        (b"await db.user?.createMany({ data })", True, False),
        (b"await prisma.user.updateMe(x); prisma.raws", False, False),
        (b"await prisma\n  // the write\n  .upsert({ create, update })", True, False),
        (b"@UsePipes(new ValidationPipe())", True, False),
        (b"await prisma.$queryRawUnsafe(sql)", False, True),
        (b"await pool.query(`select ${id}`)", False, True),
        (b"knex('t').whereRaw(text); db.raw(text)", False, True),
        (b"prisma.$queryRaw`select 1`", False, False),
    ],
)
def test_the_rules_skip_files_that_call_none_of_their_methods(source, mass_assignment, raw_query):
    from linter.rules.prisma.mass_assignment import MassAssignment
    from linter.rules.prisma.raw_query_injection import RawQueryInjection

    assert (MassAssignment().may_report_in(source), RawQueryInjection().may_report_in(source)) == (mass_assignment, raw_query)


@pytest.mark.parametrize(
    "source, checked",
    [
        ("if (user.role === 'ADMIN') allow();", True),
        ("const ok = ['owner', 'admin'].includes(member.role);", True),
        ("switch (session.user.role) { case 'a': break; }", True),
        ("requireRole('manager');", True),
        ("const token = jwt.sign({ id, role }, key);", True),
        ("const admins = await db.user.findMany({ where: { role: 'ADMIN' } });", True),
        ("const claims = { sub: user.id, role: user.role };", True),
        ("const cell = String(row['role'] ?? '');", False),
        ("setForm({ ...form, 'role': event.target.value });", False),
        ("const empty = { name: '', role: '' };", False),
    ],
)
def test_a_role_counts_as_checked_when_code_compares_filters_or_hands_it_on(source, checked):
    from linter.rules.prisma._field_checks import checks_field

    assert checks_field(parse(source.encode(), "typescript").root_node, "role") is checked
