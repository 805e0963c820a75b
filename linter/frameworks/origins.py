"""Where a client value comes from, as messages and code flows name it; also the key by which a route's
schemas say which part of the request they check (`linter.frameworks.routes`)."""

QUERY_STRING = "the query string"
REQUEST_BODY = "the request body"
ROUTE_PARAMETERS = "the route parameters"
REQUEST_HEADERS = "the request headers"
PROCEDURE_INPUT = "the procedure input"  # tRPC
ACTION_ARGUMENTS = "the server action's arguments"  # Next.js server actions
ACTION_INPUT = "the action input"  # next-safe-action: `parsedInput`
GRAPHQL_ARGUMENTS = "the GraphQL arguments"
