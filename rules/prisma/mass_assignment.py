"""The request body is written to a Prisma model whole, so a client can set fields it must not, such as its role.

## Why is this bad?
`prisma.user.update({ where: { id }, data: req.body })` writes every key the client sent. The form only has a
name and an avatar, but nothing stops a client from adding `"role": "ADMIN"`, `"emailVerified": true`,
`"credits": 100000` or `"ownerId": "<someone else>"` to the request: the database takes them all. The same
holds for a spread of the body (`{ ...req.body, updatedBy }`), for an object parsed from it by a schema that
keeps unknown keys, for a server action's argument (TypeScript types check nothing at run time), and for a
NestJS DTO when the `ValidationPipe` does not whitelist.

The rule reports the `data` (and `upsert`'s `create` and `update`) of Prisma's `create()`, `update()`,
`upsert()`, `createMany()` and `updateMany()` when its value is, or spreads, what the client sent: the request
body or query string (Express, Next.js route handlers and pages API, Fastify, Hono, Koa), a property of it
(`req.body.user`), a server action's argument or `Object.fromEntries(formData)`, a tRPC `input` or a
next-safe-action `parsedInput` whose schema keeps unknown keys (and its raw `clientInput`), or a NestJS
`@Body()` DTO with no whitelisting `ValidationPipe` (on the parameter, the method, the controller, or the app:
`useGlobalPipes`, `APP_PIPE`). A nestjs-zod DTO (`class NoteDto extends createZodDto(schema)`) that a
`ZodValidationPipe` parses (`APP_PIPE`, `useGlobalPipes`, `@UsePipes()`, `@Body(ZodValidationPipe)`) carries the
keys its zod schema names and no others: it is reported only for the privileged fields the schema accepts (read
through `.pick()`, `.omit()`, `.extend()`, `.merge()`, `.partial()`, across modules), for any with `.passthrough()`
or `z.record()`, and, when the schema is built from one the project does not have (a generated model schema),
for every field it does not `.pick()` or `.omit()`; with no `ZodValidationPipe` the body is not checked at all.
It follows the value through assignments, spreads, `Object.assign`, clones, `omit()`, rest destructuring,
helpers of the same file, and across modules (a controller passing `req.body` to a service of another file
that writes it).

It reports only models with fields a client must not set, read from the project's Prisma schema: roles and
permissions (`role`, `isAdmin`, `permissions`), ownership (`userId`, `ownerId`, `authorId`, `tenantId`,
`organizationId`, `workspaceId`), balances (`balance`, `credits`, `points`), plans (`plan`, `tier`, `subscriptionStatus`,
`stripeCustomerId`), verification and moderation flags (`emailVerified`, `isVerified`, `isBanned`), and any enum
field with a `@default` whose enum looks like a privilege (`role Role @default(USER)`). A role held as free
text (`role String`) that no code of the project compares, filters by or hands on (`user.role === 'ADMIN'`,
`hasRole()`, `where: { role }`, `jwt.sign({ role })`) grants nothing and is left out, as is a privilege-named
key to a model that is neither a role nor an account (`staffId` of a booking, naming the stylist). A field the
code sets after the spread (`{ ...req.body, ownerId: session.user.id }`), or takes out before it (`const { role,
...rest } = req.body`, `omit(body, ['role'])`, `delete data.role`), is not one the client sets; nor is one the
client the write goes through sets on every such write itself, after the caller's data (a tenant-scoped client whose
`$extends({ query })` extension or `$use` middleware does `args.data = { ...args.data, tenantId }`).

It is quiet when fields are picked one by one (`{ name: body.name }`, lodash `pick`), after zod's or
valibot's `.parse()`/`.safeParse()` of an object schema (unknown keys are dropped; `.passthrough()`,
`.catchall()` and `z.looseObject()` keep them), Joi (which refuses unknown keys unless `.unknown()`), a JSON
Schema with `additionalProperties: false`, a schema or DTO imported from a module that cannot be read, and for
models with no such field. It is also quiet when only administrators reach the handler that reads the body
(every route registering it is behind an admin gate: middleware named for admins or roles on the route, an
earlier `router.use(requireAdmin)`, or on every mount of its router a gate or an `/admin` path, as in
`app.use('/admin', signedIn, checkRole('admin'), adminRouter)`; a NestJS route whose guard checks a CASL policy
that requires `manage` or a write on `'all'`, as `@CheckPolicies((ability) => ability.can(Action.Manage, 'all'))`
or `@Policy({ action: Action.Manage, subject: 'User' })` with `@UseGuards(PoliciesGuard)`): they may set any
field. A policy to read, or to update one subject (the user's own record), is no such gate.

## Example
```ts
import express from 'express';
import { prisma } from '../lib/prisma';

const router = express.Router();

router.patch('/me', async (req, res) => {
  const user = await prisma.user.update({ where: { id: req.user.id }, data: req.body });
  res.json(user);
});

export default router;
```

```prisma
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model User {
  id            String  @id @default(cuid())
  email         String  @unique
  name          String?
  role          Role    @default(USER)
  emailVerified Boolean @default(false)
}

enum Role {
  USER
  ADMIN
}
```

## Use instead
```ts
import express from 'express';
import { z } from 'zod';
import { prisma } from '../lib/prisma';

const router = express.Router();
const ProfileUpdate = z.object({ name: z.string().max(100), avatarUrl: z.string().url().optional() });

router.patch('/me', async (req, res) => {
  const data = ProfileUpdate.parse(req.body);
  const user = await prisma.user.update({ where: { id: req.user.id }, data });
  res.json(user);
});

export default router;
```

```prisma
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model User {
  id            String  @id @default(cuid())
  email         String  @unique
  name          String?
  avatarUrl     String?
  role          Role    @default(USER)
  emailVerified Boolean @default(false)
}

enum Role {
  USER
  ADMIN
}
```

## References
- [CWE-915: Improperly Controlled Modification of Dynamically-Determined Object Attributes](https://cwe.mitre.org/data/definitions/915.html)
- [OWASP Mass Assignment Cheat Sheet](https://cheatsheetseries.owasp.org/cheatsheets/Mass_Assignment_Cheat_Sheet.html)
- [OWASP API Security Top 10 2023, API3: Broken Object Property Level Authorization](https://owasp.org/API-Security/editions/2023/en/0xa3-broken-object-property-level-authorization/)
- [NestJS docs: Validation, stripping properties](https://docs.nestjs.com/techniques/validation#stripping-properties)
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterator

from linter.context import FileContext
from linter.flow.callees import Callee, import_of
from linter.flow.file_flow import file_flow, function_with_key, top_level_value
from linter.flow.modules import module_graph
from linter.flow.project import Reach, cross_file_reaches, hop_locations
from linter.flow.tracer import VALIDATED, Flow, SchemaCheck
from linter.frameworks import EXPRESS, FASTIFY, HONO, KOA, NESTJS, NEXTJS, SERVER_ACTIONS, TRPC
from linter.frameworks.admin_gates import RouterMounts
from linter.frameworks.nestjs import ZOD_PIPE, decorated_parameter, zod_dto_schema, zod_pipe, zod_piped_handler
from linter.frameworks.request_inputs import ARGUMENT, VALUE, Input
from linter.frameworks.validation_schemas import SchemaKeys, schema_keys
from linter.js.bindings import initial_value
from linter.js.expressions import arguments_of, callee, key_text, member_object, outermost, property_name, unwrap
from linter.lazy_dataclasses import dataclass
from linter.model import Finding, Level, Location, Precision
from linter.project import ProjectIndex
from linter.rule import Fact, Match, Rule, facts_of
from linter.syntax import Node

from ._client_overrides import client_source, overridden_fields
from ._field_checks import checked_in_code
from ._member_names import member_name_pattern
from ._privileged_fields import PrivilegedField, privileged_fields, relation_keys
from ._project_schemas import Model, PrismaSchema, project_schemas
from ._spans import node_at as _node_at
from ._spans import span_data as _span_data
from ._spans import span_key as _where
from ._spans import span_of as _span
from ._request_bags import REQUEST_BAG, Protections, deleted_before, is_client_object, keeps_unknown_keys, may_carry_keys, protections_at
from ._validation_pipes import PIPE, dto_parameter, handler_whitelists, is_global, whitelists

WRITE_METHODS = frozenset({"create", "update", "upsert", "createMany", "updateMany", "createManyAndReturn", "updateManyAndReturn"})
_MAX_NAMED_FIELDS = 4
_WRITE_CALL = member_name_pattern(WRITE_METHODS)


@dataclass(frozen=True)
class DataSink:
    value: Node  # what is written
    anchor: Node  # the key (`data`), where a finding goes
    accessor: str  # `user` in `prisma.user.create()`
    label: str  # "`data` of `user.create()`"
    client: Node | None = None  # `prisma` in `prisma.user.create()`
    operation: str = ""  # `create`


class MassAssignment(Rule):
    id = "prisma/mass-assignment"
    project_reports_at = frozenset({"local", "sink"})
    name = "MassAssignment"
    level = Level.ERROR
    precision = Precision.HIGH
    security_severity = "8.1"
    tags = ("security", "prisma", "external/cwe/cwe-915")
    frameworks = (EXPRESS, NEXTJS, SERVER_ACTIONS, TRPC, NESTJS, FASTIFY, HONO, KOA)
    needles = (b"create", b"update", b"upsert", b"ValidationPipe")
    query_anchors = (b"create", b"update", b"upsert", b"ValidationPipe")
    flow_spec = REQUEST_BAG
    # One node a pattern: the write method's name (`data_sinks` climbs to its call), and the pipe class.
    query = (
        "((property_identifier) @method (#any-of? @method " + " ".join(f'"{m}"' for m in sorted(WRITE_METHODS)) + "))\n"
        f'((identifier) @pipe (#eq? @pipe "{PIPE}"))\n'
        f'((identifier) @zod_pipe (#eq? @zod_pipe "{ZOD_PIPE}"))'
    )

    def may_report_in(self, source: bytes) -> bool:
        return PIPE.encode() in source or _WRITE_CALL.search(source) is not None

    def check(self, match: Match, file: FileContext) -> Iterator[Fact]:
        if file.is_test:
            return
        pipe = match.get("pipe")
        if pipe is not None:
            created = pipe.parent
            if created is not None and created.type == "new_expression" and whitelists(created) and is_global(created):
                yield file.fact(self, "global-whitelist", created)
            return
        named_zod_pipe = match.get("zod_pipe")
        if named_zod_pipe is not None:
            created = named_zod_pipe.parent if named_zod_pipe.parent is not None and named_zod_pipe.parent.type == "new_expression" else named_zod_pipe
            if zod_pipe(created) and is_global(created):
                yield file.fact(self, "global-zod-pipe", created)
            return
        flows = file_flow(file, REQUEST_BAG)
        for sink in data_sinks(match["method"]):
            flow = flows.trace(sink.value)
            if flow is None:
                continue
            if _is_local(flow):
                fact = self._local_fact(file, sink, flow)
                if fact is not None:
                    yield fact
            elif may_carry_keys(flow):
                flows.keep(flow, sink.anchor, sink.label)
                yield file.fact(self, "sink", sink.anchor, accessor=sink.accessor, value=_span_data(file, sink.value),
                                **_client_data(sink, file))  # fmt: skip

    def _local_fact(self, file: FileContext, sink: DataSink, flow: Flow) -> Fact | None:
        value = flow.input
        dto = None
        if value is not None and value.kind == VALIDATED:
            if isinstance(flow.schema, SchemaCheck) or flow.schema is None or not keeps_unknown_keys(flow.schema, file):
                return None
            dto = dto_parameter(flow.steps[0].node if flow.steps else sink.value)
            if dto is not None and handler_whitelists(dto):
                return None
        elif not is_client_object(value):
            return None
        protections = Protections()
        for step in flow.steps:
            protections.add(protections_at(step.node))
        protections.removed |= deleted_before(sink.value)
        steps = [[_span_data(file, step.node), step.note] for step in flow.steps]
        source = flow.steps[0].node if flow.steps else sink.value
        return file.fact(
            self, "local", sink.anchor,
            accessor=sink.accessor, label=sink.label, source=_source_words(value), source_span=_span_data(file, source),
            steps=steps, protected=sorted(protections.keys), dto=dto is not None,
            dto_param=_span_data(file, dto) if dto is not None else None, **_client_data(sink, file),
        )  # fmt: skip

    def check_project(self, project: ProjectIndex) -> Iterator[Finding]:
        schemas = project_schemas(project)
        if not schemas:
            return
        models = _models_by_accessor(schemas)
        whitelisted = [fact.path for fact in facts_of(project, self, "global-whitelist")]
        zod_piped = [fact.path for fact in facts_of(project, self, "global-zod-pipe")]
        routers = RouterMounts(project, module_graph(project))
        for fact in facts_of(project, self, "local"):
            if fact.path not in project.reported_paths:
                continue
            if fact.data["dto"] and _globally_whitelisted(project, fact.path, whitelisted):
                continue
            found = _model_for(project, fact.path, models.get(fact.data["accessor"], []))
            if found is None or _admins_only(routers, fact.path, _span(fact.data["source_span"])):
                continue
            dto_param = fact.data.get("dto_param")
            keys = _zod_dto_keys(project, fact.path, _span(dto_param), zod_piped) if dto_param else None
            steps = [Location(path=fact.path, span=_span(s), message=note) for s, note in fact.data["steps"]]
            source = Location(path=fact.path, span=_span(fact.data["source_span"]), message=f"{fact.data['source']} comes from the client here")
            protected = set(fact.data["protected"]) | _overridden(project, fact)
            finding = self._finding(project, found, fact.location(), fact.data["label"], fact.data["source"],
                                    protected, steps or [source], source, keys)  # fmt: skip
            if finding is not None:
                yield finding
        sinks = {(fact.path, _where(fact.span)): fact for fact in facts_of(project, self, "sink")}
        reported: set[tuple] = set()
        for reach in cross_file_reaches(project, REQUEST_BAG):
            if reach.sink_path not in project.reported_paths:
                continue
            sink = sinks.get((reach.sink_path, _where(reach.sink.anchor)))
            if sink is None:
                continue
            found = _model_for(project, reach.sink_path, models.get(sink.data["accessor"], []))
            if found is None:
                continue
            dto = self._dto_parameter(project, reach, sink)
            if dto is not None and (handler_whitelists(dto[1]) or _globally_whitelisted(project, dto[0].path, whitelisted)):
                continue
            first = reach.hops[0]
            read_at = first.steps[0].span if first.steps else _span(sink.data["value"]) if first.path == reach.sink_path else None
            if read_at is not None and _admins_only(routers, first.path, read_at):
                continue
            keys = _zod_dto_keys(project, dto[0].path, dto[1], zod_piped) if dto is not None else None
            finding = self._reach_finding(project, reach, found, _overridden(project, sink), keys)
            key = (reach.sink_path, _where(reach.sink.anchor), reach.source_path, reach.source)
            if finding is not None and key not in reported:  # one finding per source file and sink
                reported.add(key)
                yield finding

    def _reach_finding(self, project: ProjectIndex, reach: Reach, found: tuple[PrismaSchema, Model], overridden: set[str],
                       keys: SchemaKeys | None) -> Finding | None:  # fmt: skip
        graph = module_graph(project)
        protections = Protections()
        protections.overridden |= overridden
        for hop in reach.hops:
            file = graph.file(hop.path)
            for step in hop.steps if file is not None else ():
                node = _node_at(file, step.span)
                if node is not None:
                    protections.add(protections_at(node))
        sink_file = graph.file(reach.sink_path)
        anchor = _node_at(sink_file, reach.sink.anchor) if sink_file is not None else None
        if anchor is not None:
            written = anchor.parent.child_by_field_name("value") if anchor.parent is not None and anchor.parent.type == "pair" else anchor
            protections.removed |= deleted_before(written) if written is not None else set()
        steps = hop_locations(reach.hops)
        words = _source_words(reach.source)
        where = f" in {reach.source_path}" if reach.source_path != reach.sink_path else ""
        first = steps[0] if steps else Location(path=reach.sink_path, span=reach.sink.anchor)
        source = Location(path=first.path, span=first.span, message=f"{words} comes from the client here")
        location = Location(path=reach.sink_path, span=reach.sink.anchor)
        return self._finding(project, found, location, reach.sink.label, words + where, protections.keys, steps, source, keys)

    def _finding(self, project, found, location: Location, label: str, source: str, protected: set[str],
                 steps: list[Location], related_source: Location, keys: SchemaKeys | None = None) -> Finding | None:  # fmt: skip
        """`keys`: what the zod schema of a nestjs-zod DTO lets the body carry (None: every key the client sent)."""
        schema, model = found
        covered = set(protected)
        accepted = None
        if keys is not None and not keys.open:
            covered |= keys.removed
            accepted = set(keys.keys) if keys.keys is not None else None
        for relation, scalars in relation_keys(model).items():
            if relation in covered:
                covered.update(scalars)
            if accepted is not None and relation in accepted:
                accepted.update(scalars)  # a nested write (`author: { connect }`) sets the key
        fields = [f for f in privileged_fields(schema, model)
                  if f.name not in covered and (accepted is None or f.name in accepted)
                  and not (f.free_text and not checked_in_code(project, f.name))]  # fmt: skip
        if not fields:
            return None
        if accepted is not None:
            message = (
                f"{_capitalized(source)} is written as {label}, and the zod schema of its DTO accepts "
                f"{_field_list(fields)}, so a client can set {'it' if len(fields) == 1 else 'them'} on `{model.name}` "
                f"(mass assignment); leave the fields a client must not set out of the schema (`.omit()`, `.pick()`)."
            )
        else:
            message = (
                f"{_capitalized(source)} is written as {label} with every key the client sent, so a client can set "
                f"{_field_list(fields)} of `{model.name}` (mass assignment); pick the fields it may set, or parse it "
                f"with a schema that drops unknown keys (zod's `z.object()`, a `ValidationPipe` with `whitelist: true`)."
            )
        code_flow = [*steps, Location(path=location.path, span=location.span, message=f"written to `{model.name}` with every key")]
        related = [related_source]
        related.extend(project.location(model.path, f.start, f.end, f"`{f.name}`: {f.why}") for f in fields[:_MAX_NAMED_FIELDS])
        return self.finding(location, message, related=related, code_flow=code_flow)

    def _dto_parameter(self, project: ProjectIndex, reach: Reach, sink: Fact) -> tuple[FileContext, Node] | None:
        """The NestJS handler parameter a reach starts at, when it is a bag checked by a DTO class, and its file."""
        graph = module_graph(project)
        first_hop = reach.hops[0]
        file = graph.file(first_hop.path)
        if file is None:
            return None
        if first_hop.steps:
            start = _node_at(file, first_hop.steps[0].span)
        elif first_hop.path == reach.sink_path:
            start = _node_at(file, _span(sink.data["value"]))
        else:
            return None
        param = dto_parameter(start) if start is not None else None
        return (file, param) if param is not None else None


def data_sinks(method: Node) -> list[DataSink]:
    """What `<client>.<model>.<method>({ data })` writes: `data`, or `upsert`'s `create` and `update`."""
    member = method.parent
    if member is None or member.type != "member_expression" or member.child_by_field_name("property") != method:
        return []
    call = outermost(member).parent
    if call is None or call.type != "call_expression" or callee(call) != member:
        return []
    accessor_node = _delegate(member_object(member))
    accessor = property_name(accessor_node) if accessor_node is not None and accessor_node.type in ("member_expression", "subscript_expression") else None
    client = member_object(accessor_node) if accessor else None
    arguments = arguments_of(call)
    options = unwrap(arguments[0]) if arguments else None
    if not accessor or accessor.startswith("$") or options is None or options.type != "object":
        return []
    name = method.text.decode()
    keys = ("create", "update") if name == "upsert" else ("data",)
    found = []
    for child in options.named_children:
        if child.type == "pair":
            key = child.child_by_field_name("key")
            value = child.child_by_field_name("value")
            if key is not None and value is not None and key_text(key) in keys:
                found.append(DataSink(value, key, accessor, f"`{key_text(key)}` of `{accessor}.{name}()`", client, name))
        elif child.type == "shorthand_property_identifier" and child.text.decode() in keys:
            found.append(DataSink(child, child, accessor, f"`{child.text.decode()}` of `{accessor}.{name}()`", client, name))
    return found


def _delegate(node: Node | None) -> Node | None:
    """`prisma.user` for `users` after `const users = await prisma.user` (a model's delegate held in a name)."""
    value = initial_value(node) if node is not None and node.type == "identifier" else None
    return value if value is not None and value.type == "member_expression" else node


def _is_local(flow: Flow) -> bool:
    return flow.symbol is None and not flow.checks and flow.handler is None and not isinstance(flow.schema, SchemaCheck)


def _source_words(value: Input | None) -> str:
    if value is None:
        return "the value"
    origin = value.origin or "the request"
    if value.kind in (VALUE, ARGUMENT) and value.param:
        return f"`{value.param}` from {origin}"
    if value.kind == VALIDATED:
        return f"{origin}, parsed by a schema that keeps unknown keys,"
    return origin


def _capitalized(words: str) -> str:
    return words[:1].upper() + words[1:]


def _field_list(fields: list[PrivilegedField]) -> str:
    named = [f"`{f.name}`" for f in fields[:_MAX_NAMED_FIELDS]]
    if len(fields) > _MAX_NAMED_FIELDS:
        named.append(f"{len(fields) - _MAX_NAMED_FIELDS} more")
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]


def _models_by_accessor(schemas: list[PrismaSchema]) -> dict[str, list[tuple[PrismaSchema, Model]]]:
    found: dict[str, list[tuple[PrismaSchema, Model]]] = defaultdict(list)
    for schema in schemas:
        for model in schema.models():
            found[model.name[:1].lower() + model.name[1:]].append((schema, model))
    return found


def _model_for(project: ProjectIndex, path: str, candidates: list[tuple[PrismaSchema, Model]]) -> tuple[PrismaSchema, Model] | None:
    """The schema model a write in `path` names: the only one with that accessor, else the one of its package."""
    if len(candidates) == 1:
        return candidates[0]
    package = project.package_of(path)
    same = [c for c in candidates if package is not None and project.package_of(c[0].root) == package]
    return same[0] if len(same) == 1 else None


def _client_data(sink: DataSink, file: FileContext) -> dict:
    """What the fact keeps of the client a write goes through: the fields it overrides itself, when the code
    that makes it is in this file, or where it is imported from (`_client_overrides`)."""
    scope, imported = client_source(sink.client, file)
    overridden = sorted(overridden_fields(scope, sink.operation)) if scope is not None else []
    return {"overridden": overridden, "client_from": list(imported[:2]) if imported is not None else None, "operation": sink.operation}


def _overridden(project: ProjectIndex, fact: Fact) -> set[str]:
    """The fields the write's client sets itself (`_client_data`), reading a client made in another module."""
    found = set(fact.data.get("overridden", ()))
    imported = fact.data.get("client_from")
    if imported:
        graph = module_graph(project)
        target = graph.resolve(fact.path, Callee(imported[0], imported[1]))
        file = graph.file(target[0]) if target is not None else None
        if file is not None:
            scope = function_with_key(file, target[1]) or file.root
            found |= overridden_fields(scope, fact.data["operation"])
    return found


def _admins_only(routers: RouterMounts, path: str, span) -> bool:
    """Whether the value at `span` of `path` is read in a request handler only administrators reach (every route
    registering it is behind an admin gate: `linter.frameworks.admin_gates`): they may set any field."""
    file = routers.graph.file(path)
    node = _node_at(file, span) if file is not None else None
    return node is not None and routers.handler_gated(file, node)


def _zod_dto_keys(project: ProjectIndex, path: str, where, piped_apps: list[str]) -> SchemaKeys | None:
    """The keys a NestJS handler parameter of `path` (a node, or its span) carries when its type is a nestjs-zod
    DTO class (`createZodDto(schema)`) that a `ZodValidationPipe` parses it with: on the parameter, its method or
    controller, or the app's (`piped_apps`: where `APP_PIPE` or `useGlobalPipes` installs one). None when it is
    no such DTO, or when no pipe parses it (the body then arrives as the client sent it)."""
    graph = module_graph(project)
    file = graph.file(path)
    param = where if isinstance(where, Node) or where is None else (_node_at(file, where) if file is not None else None)
    while param is not None and param.type not in ("required_parameter", "optional_parameter"):
        param = param.parent
    decorated = decorated_parameter(param) if param is not None else None
    if file is None or decorated is None or decorated.dto is None:
        return None
    if not zod_piped_handler(param) and not _globally_whitelisted(project, path, piped_apps):
        return None
    local = top_level_value(file, decorated.dto)
    holder, found = (file, local) if local is not None else _imported_value(project, file, file.binding(decorated.dto)) or (file, None)
    dto_schema = zod_dto_schema(found, holder) if found is not None and found.type == "class_declaration" else None
    if dto_schema is None:
        return None
    return schema_keys(dto_schema, holder, lambda name, at: _imported_value(project, at, import_of(name, at)))


def _imported_value(project: ProjectIndex, file: FileContext, imported) -> tuple[FileContext, Node] | None:
    """The module of the project an import binding of `file` names, and the value it declares for it."""
    graph = module_graph(project)
    target = graph.resolve(file.path, Callee(imported.module, imported.imported)) if imported is not None else None
    other = graph.file(target[0]) if target is not None else None
    value = top_level_value(other, target[1]) if other is not None else None
    return (other, value) if value is not None else None


def _globally_whitelisted(project: ProjectIndex, path: str, whitelisted: list[str]) -> bool:
    """A global whitelisting pipe in the package of `path`, or in a package around it."""
    around = {package.dir for package in project.packages_around(path)}
    return any((project.package_of(where).dir if project.package_of(where) is not None else "") in around or not around
               for where in whitelisted)  # fmt: skip
