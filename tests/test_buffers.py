"""`RunOptions.buffers`: text that stands in for a file's bytes for one run (an editor's unsaved buffer)."""

from __future__ import annotations

from linter.engine import RunOptions, run
from tests.project_builder import write_files
from tests.test_flow_engine import DB, PACKAGE, ROUTE, SERVICE

CAPPED = ROUTE.replace("Number(req.query.limit) || 20", "Math.min(Number(req.query.limit) || 20, 100)")


def _findings(root, **options) -> list[tuple[str, int, str | None]]:
    report = run(RunOptions(paths=[root], select=["pagination"], jobs=1, **options)).report
    return [(f.path, f.span.start_line, f.fingerprint) for f in report.active_findings]


def test_a_buffer_is_linted_instead_of_the_file_and_never_cached(tmp_path):
    root = write_files(
        tmp_path / "shop",
        {".git/HEAD": "x", "package.json": PACKAGE, "src/routes.js": CAPPED, "src/orders.js": SERVICE, "src/db.js": DB},
    )
    assert _findings(root) == []
    # The project phase reads the caller's buffer: its uncapped value reaches the sink in the other file.
    (finding,) = _findings(root, buffers={root / "src/routes.js": ROUTE.encode()})
    assert finding[:2] == ("src/orders.js", 4)
    # The buffer of the sink's file moves the finding and its fingerprint, which hashes the buffer's lines.
    moved = b"// a new first line\n" + SERVICE.encode()
    ((path, line, fingerprint),) = _findings(root, buffers={root / "src/routes.js": ROUTE.encode(), root / "src/orders.js": moved})
    assert (path, line) == ("src/orders.js", 5) and fingerprint == finding[2]
    # Nothing of the buffers was kept: the files on disk are linted again.
    assert _findings(root) == []
    assert (root / "src/routes.js").read_text() == CAPPED


PROCFILE_PACKAGE = '{"name": "tickets", "dependencies": {"@prisma/client": "^5.22.0", "express": "^4.19.2"}, "devDependencies": {"prisma": "^5.22.0"}}'


def test_a_buffer_of_a_project_file_is_what_the_rules_read(tmp_path):
    root = write_files(
        tmp_path / "api",
        {".git/HEAD": "x", "package.json": PROCFILE_PACKAGE, "Procfile": "release: npx prisma migrate deploy\nweb: npm start\n"},
    )
    assert _rule_lines(root, "prisma/db-push-in-deploy") == []
    pushed = b"web: npm start\nrelease: npx prisma db push\n"
    assert _rule_lines(root, "prisma/db-push-in-deploy", buffers={root / "Procfile": pushed}) == [("Procfile", 2)]


def test_a_buffer_named_in_the_paths_is_linted_where_no_file_is_yet(tmp_path):
    root = write_files(tmp_path / "shop", {".git/HEAD": "x", "package.json": PACKAGE, "src/orders.js": SERVICE, "src/db.js": DB})
    new = root / "src/routes.js"
    report = run(RunOptions(paths=[new], select=["pagination"], jobs=1, buffers={new: ROUTE.encode()})).report
    assert [(f.path, f.span.start_line) for f in report.active_findings] == []  # the finding is in orders.js
    report = run(RunOptions(paths=[root / "src"], select=["pagination"], jobs=1, buffers={new: ROUTE.encode()})).report
    # A file that does not exist is linted from its buffer only when named: the walk does not find it.
    assert report.active_findings == ()
    report = run(RunOptions(paths=[new, root / "src/orders.js"], select=["pagination"], jobs=1, buffers={new: ROUTE.encode()})).report
    assert [(f.path, f.span.start_line) for f in report.active_findings] == [("src/orders.js", 4)]
    assert not new.exists()


def test_a_buffer_is_kept_or_dropped_by_its_own_size(tmp_path):
    root = write_files(
        tmp_path / "shop",
        {".git/HEAD": "x", ".loadlint.toml": "max-file-size = 2000\n", "package.json": PACKAGE, "src/routes.js": ROUTE, "src/orders.js": SERVICE, "src/db.js": DB},
    )
    assert [f[:2] for f in _findings(root)] == [("src/orders.js", 4)]
    padded = ROUTE.encode() + b"// " + b"x" * 2000 + b"\n"
    report = run(RunOptions(paths=[root], select=["pagination"], jobs=1, buffers={root / "src/routes.js": padded})).report
    assert report.active_findings == ()
    assert [(n.path, n.message) for n in report.notices if "max-file-size" in n.message] == [
        ("src/routes.js", f"skipped: {len(padded):,} bytes is over the 2,000-byte limit (max-file-size)")
    ]


def _rule_lines(root, rule_id, **options) -> list[tuple[str, int]]:
    report = run(RunOptions(paths=[root], select=[rule_id], jobs=1, **options)).report
    return [(f.path, f.span.start_line) for f in report.active_findings]


def test_fingerprints_only_for_the_formats_that_show_them(tmp_path):
    root = write_files(tmp_path / "shop", {".git/HEAD": "x", "package.json": PACKAGE, "src/routes.js": ROUTE, "src/orders.js": SERVICE, "src/db.js": DB})
    ((_, _, fingerprint),) = _findings(root)
    assert fingerprint is not None
    assert _findings(root, fingerprints=False) == [("src/orders.js", 4, None)]
