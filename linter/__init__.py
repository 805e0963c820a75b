"""prodlint: a linter for Express, Next.js and Prisma repositories."""

__version__ = "0.1.0"

PROJECT_URL = "https://github.com/prodlint/prodlint"
