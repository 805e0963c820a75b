"""loadlint: a linter for Express, Next.js and Prisma repositories."""

__version__ = "0.1.0"

# The project's public home. Unset until it has one: SARIF then carries no `informationUri` and no rule
# `helpUri` (rule help travels inside the log as `help.markdown`, and in `loadlint explain`). Set it here, once.
PROJECT_URL: str | None = None
