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
