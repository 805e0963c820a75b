"""Framework models every rule family shares: what each framework makes a request input, a handler, a
validation schema, a database client or a lifecycle hook, defined once per framework.

`FRAMEWORK_NAMES` are the names a rule declares in `Rule.frameworks` (the frameworks whose registrations,
inputs or lifecycles it understands), as `loadlint explain` and the README show them."""

# Library calls a rule understands in any framework's code (jsonwebtoken, jose, `node:crypto`).
ANY_FRAMEWORK = "any framework (library calls)"
EXPRESS = "Express"
NODE_HTTP = "Node http"
NEXTJS = "Next.js"
SERVER_ACTIONS = "Next.js server actions"
NEXTAUTH = "NextAuth/Auth.js"
TRPC = "tRPC"
NESTJS = "NestJS"
FASTIFY = "Fastify"
HONO = "Hono"
KOA = "Koa"
GRAPHQL = "GraphQL"

FRAMEWORK_NAMES = (ANY_FRAMEWORK, EXPRESS, NODE_HTTP, NEXTJS, SERVER_ACTIONS, NEXTAUTH, TRPC, NESTJS, FASTIFY, HONO, KOA, GRAPHQL)
