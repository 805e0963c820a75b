"""One sample report shared by the formatter tests (and by anyone else who needs a realistic Report).

`sample_report(root)` writes a small Next.js + Express + Prisma project under `root` and returns findings on it:
errors, warnings and notes; a related location; a code flow; a non-ASCII line (an emoji before the span, so
UTF-16 columns differ from code points); a multi-line span; a finding in a file that does not exist (no code
frame); a suppressed finding; notices with and without a path; rules with and without security-severity.
Spans are found by searching the written sources, never typed in by hand.
"""

from __future__ import annotations

from pathlib import Path

from linter.fingerprint import line_hash_for
from linter.model import Finding, Level, Location, Notice, Precision, Report, RuleInfo, Span

TOOL_VERSION = "0.1.0"
FILES_CHECKED = 12

SOURCES = {
    "src/lib/db.ts": """\
import { PrismaClient } from "@prisma/client";

export const db = new PrismaClient();
""",
    "src/lib/prisma.ts": """\
import { PrismaClient } from "@prisma/client";

const globalForPrisma = globalThis as unknown as { prisma?: PrismaClient };

export const prisma = globalForPrisma.prisma ?? new PrismaClient();

if (process.env.NODE_ENV !== "production") globalForPrisma.prisma = prisma;
""",
    "src/app/api/users/route.ts": """\
import { NextRequest, NextResponse } from "next/server";
import { prisma } from "@/lib/prisma";

export async function GET(request: NextRequest) {
  const limit = Number(request.nextUrl.searchParams.get("limit"));
  const label = "Größe 🚀"; const users = await prisma.user.findMany({ take: limit });
  return NextResponse.json({ label, users });
}
""",
    "src/server.js": """\
const express = require("express");
const cors = require("cors");

const app = express();
app.use(
  cors({
    origin: "*",
    credentials: true,
  }),
);

// loadlint-ignore auth/hardcoded-secret -- token of the local mock payment server
const MOCK_TOKEN = "sk_test_1234";

app.listen(3000);
""",
}

MISSING_FILE = "scripts/backfill.ts"


def rule_docs(summary: str, why: str) -> str:
    """Return rule docs in the project's skeleton, with `summary` and `why` filled in."""
    return (
        f"{summary}\n\n## Why is this bad?\n{why}\n\n## Example\n```ts\nbad();\n```\n\n"
        "## Use instead\n```ts\ngood();\n```\n\n## References\n- [Docs](https://example.com/docs)\n"
    )


def _rule(
    rule_id: str,
    summary: str,
    why: str,
    level: Level,
    precision: Precision,
    tags: tuple[str, ...],
    security_severity: str | None = None,
) -> RuleInfo:
    name = "".join(part.capitalize() for part in rule_id.split("/")[1].split("-"))
    return RuleInfo(
        id=rule_id,
        name=name,
        summary=summary,
        docs=rule_docs(summary, why),
        level=level,
        precision=precision,
        tags=tags,
        security_severity=security_severity,
        help_uri=f"https://example.com/loadlint/rules/{rule_id}",
    )


RULES = (
    _rule(
        "auth/hardcoded-secret",
        "A secret is written into the source code.",
        "Anyone who can read the repository can use the secret.",
        Level.ERROR,
        Precision.HIGH,
        ("security", "external/cwe/cwe-798"),
        "9.8",
    ),
    _rule(
        "cors/wildcard-origin",
        "CORS allows any origin.",
        "Any website can call the API from a visitor's browser.",
        Level.ERROR,
        Precision.VERY_HIGH,
        ("security", "external/cwe/cwe-942", "cors"),
        "7.5",
    ),
    _rule(
        "express/missing-helmet",
        "The Express app sets no security headers.",
        "Browsers fall back to permissive defaults.",
        Level.NOTE,
        Precision.MEDIUM,
        ("security", "express"),
    ),
    _rule(
        "pagination/unbounded-take",
        "A page size comes from the request without a cap.",
        "A client can ask for every row at once,\nwhich exhausts memory and the database.",
        Level.ERROR,
        Precision.HIGH,
        ("security", "external/cwe/cwe-770", "pagination"),
        "5.3",
    ),
    _rule(
        "prisma/client-outside-singleton",
        "PrismaClient is instantiated outside the shared module.",
        "Each PrismaClient opens its own connection pool.",
        Level.WARNING,
        Precision.HIGH,
        ("prisma", "performance"),
    ),
)


def locate(source: str, needle: str, occurrence: int = 1) -> Span:
    """Return the span of the `occurrence`-th `needle` in `source`, columns in UTF-16 code units."""
    start = -1
    for _ in range(occurrence):
        start = source.index(needle, start + 1)
    end = start + len(needle)
    return Span(
        start_line=source.count("\n", 0, start) + 1,
        start_column=_utf16_column(source, start),
        end_line=source.count("\n", 0, end) + 1,
        end_column=_utf16_column(source, end),
    )


def _utf16_column(source: str, offset: int) -> int:
    line_start = source.rfind("\n", 0, offset) + 1
    return len(source[line_start:offset].encode("utf-16-le")) // 2 + 1


def _at(path: str, needle: str, message: str | None = None, occurrence: int = 1) -> Location:
    return Location(path=path, span=locate(SOURCES[path], needle, occurrence), message=message)


def _finding(rule_id: str, level: Level, message: str, where: Location, **extra: object) -> Finding:
    fingerprint = None
    if where.path in SOURCES:
        fingerprint = line_hash_for(SOURCES[where.path], where.span.start_line)
    return Finding(
        rule_id=rule_id,
        message=message,
        path=where.path,
        span=where.span,
        level=level,
        fingerprint=fingerprint,
        **extra,
    )


def sample_findings() -> tuple[Finding, ...]:
    """Return the sample findings, deliberately not in sort order."""
    route = "src/app/api/users/route.ts"
    return (
        _finding(
            "pagination/unbounded-take",
            Level.ERROR,
            'The page size comes from the "limit" query parameter without a cap; clamp it with Math.min.',
            _at(route, "take: limit"),
            code_flow=(
                _at(route, 'request.nextUrl.searchParams.get("limit")', "the query parameter \"limit\""),
                _at(route, "limit", "stored in limit", occurrence=1),
                _at(route, "take: limit", "used as the page size"),
            ),
        ),
        _finding(
            "prisma/client-outside-singleton",
            Level.WARNING,
            "PrismaClient is instantiated here as well; import the client from src/lib/prisma.ts instead.",
            _at("src/lib/db.ts", "new PrismaClient()"),
            related=(_at("src/lib/prisma.ts", "new PrismaClient()", "the shared client"),),
        ),
        _finding(
            "cors/wildcard-origin",
            Level.ERROR,
            "cors() allows every origin, with credentials; list the allowed origins instead.",
            _at("src/server.js", 'cors({\n    origin: "*",\n    credentials: true,\n  })'),
        ),
        _finding(
            "express/missing-helmet",
            Level.NOTE,
            "This Express app never uses helmet(); add app.use(helmet()) before the routes.",
            _at("src/server.js", "express()"),
        ),
        _finding(
            "auth/hardcoded-secret",
            Level.ERROR,
            "MOCK_TOKEN holds a literal secret; read it from an environment variable.",
            _at("src/server.js", '"sk_test_1234"'),
            suppressed=True,
            suppression_reason="token of the local mock payment server",
        ),
        Finding(
            rule_id="prisma/client-outside-singleton",
            message="PrismaClient is instantiated here as well; import the client from src/lib/prisma.ts instead.",
            path=MISSING_FILE,
            span=Span(start_line=4, start_column=16, end_line=4, end_column=34),
            level=Level.WARNING,
            related=(_at("src/lib/prisma.ts", "new PrismaClient()", "the shared client"),),
        ),
    )


NOTICES = (
    Notice(message="No package.json found above scripts/; rules gated on dependencies were skipped there."),
    Notice(path="src/legacy/upload.js", message="Could not parse the file (syntax error at 12:7); skipped."),
)


def write_sources(root: Path) -> None:
    """Write the sample project's files under `root` (byte for byte, "\\n" line ends)."""
    for path, text in SOURCES.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))


def sample_report(root: Path, *, category: str | None = None) -> Report:
    """Write the sample project under `root` and return the report of a run over it."""
    write_sources(root)
    return Report(
        root=str(root),
        tool_version=TOOL_VERSION,
        rules=RULES,
        findings=sample_findings(),
        notices=NOTICES,
        files_checked=FILES_CHECKED,
        category=category,
    )
