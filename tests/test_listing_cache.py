"""The kept listing: a re-run walks no folder while nothing changed, and any change that could alter what
discovery finds makes it walk again."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import linter.discovery
from linter.cache import cache_dir
from tests.project_builder import found, lint, write_files

MARKER = "new MarkerClient();\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.setattr("linter.cache.SETTLED_NS", 0)  # what the test wrote counts as settled once a walk begins
    root = tmp_path / "app"
    write_files(
        root,
        {".git/HEAD": "", "package.json": '{"name": "app"}', ".gitignore": "gen/\n", "src/a.js": MARKER, "gen/b.js": MARKER},
    )
    return root


@pytest.fixture
def walks(monkeypatch, project):
    """The project's folders listed from now on."""
    listed: list[str] = []
    real = os.scandir

    def counting(path):
        if str(path).startswith(str(project)):
            listed.append(str(path))
        return real(path)

    monkeypatch.setattr(linter.discovery.os, "scandir", counting)
    return listed


def _paths(result) -> set[str]:
    return {path for path, _, _ in found(result)}


def test_a_re_run_walks_nothing_and_finds_the_same(project, walks):
    first = lint([project])
    assert walks and sorted(cache_dir().glob("listing-*.json"))
    walks.clear()
    second = lint([project])
    assert walks == []
    assert second.report == first.report


def test_a_new_file_is_found(project, walks):
    lint([project])
    (project / "src" / "c.js").write_text(MARKER)
    walks.clear()
    assert _paths(lint([project])) == {"src/a.js", "src/c.js"}
    assert walks


def test_an_edited_gitignore_is_honoured(project):
    lint([project])
    (project / ".gitignore").write_text("src/\n")
    assert _paths(lint([project])) == {"gen/b.js"}


def test_a_gitignore_added_above_the_walked_folder_is_honoured(project):
    (project / "src" / "inner").mkdir()
    (project / "src" / "inner" / "d.js").write_text(MARKER)
    assert _paths(lint([project / "src" / "inner"])) == {"src/inner/d.js"}
    (project / "src" / ".gitignore").write_text("inner/\n")
    assert _paths(lint([project / "src" / "inner"])) == set()


def test_a_file_grown_past_the_size_limit_is_skipped(project):
    write_files(project, {".loadlint.toml": "max-file-size = 100\n"})
    lint([project])
    (project / "src" / "a.js").write_text(MARKER + "// padding\n" * 20)
    result = lint([project])
    assert _paths(result) == set()
    assert any(n.path == "src/a.js" and "over the 100-byte limit" in n.message for n in result.report.notices)


def test_a_walk_through_a_symbolic_link_is_not_kept(project, walks):
    (project / "linked").symlink_to(project / "src")
    lint([project])
    assert not sorted(cache_dir().glob("listing-*.json"))


def test_a_folder_changed_as_the_walk_began_is_not_kept(project, monkeypatch):
    monkeypatch.setattr("linter.cache.SETTLED_NS", 60_000_000_000)
    lint([project])
    assert not sorted(cache_dir().glob("listing-*.json"))


def test_no_cache_keeps_no_listing(project):
    lint([project], use_cache=False)
    assert not cache_dir().exists() or not sorted(cache_dir().glob("listing-*.json"))


def test_a_damaged_listing_is_ignored(project, walks):
    lint([project])
    for listing in cache_dir().glob("listing-*.json"):
        listing.write_bytes(b"\x00garbage")
    walks.clear()
    assert _paths(lint([project])) == {"src/a.js"}
    assert walks


def test_a_removed_file_is_gone(project):
    lint([project])
    Path(project / "src" / "a.js").unlink()
    result = lint([project])
    assert _paths(result) == set()


def test_a_re_run_looks_for_configs_only_where_the_walk_saw_one_and_sees_one_added_or_removed(project, monkeypatch):
    import linter.config_tree

    write_files(project, {"src/deep/c.js": MARKER, "lib/package.json": '{"name": "lib"}', "lib/d.js": MARKER})
    looked: list[str] = []
    real = linter.config_tree.config_file_in

    def looking(folder, root):
        looked.append(Path(folder).relative_to(project).as_posix())
        return real(folder, root)

    monkeypatch.setattr(linter.config_tree, "config_file_in", looking)
    everything = {"src/a.js", "src/deep/c.js", "lib/d.js"}
    assert _paths(lint([project])) == everything
    looked.clear()
    assert _paths(lint([project])) == everything
    assert sorted(looked) == [".", "lib"]  # the folders with a package.json; not src, src/deep
    (project / "src" / ".loadlint.toml").write_text('exclude = ["deep/"]\n')
    assert _paths(lint([project])) == {"src/a.js", "lib/d.js"}
    assert _paths(lint([project])) == {"src/a.js", "lib/d.js"}
    (project / "lib" / "package.json").write_text('{"name": "lib", "loadlint": {"exclude": ["d.js"]}}')
    assert _paths(lint([project])) == {"src/a.js"}  # an edited manifest: its folder holds a package.json
    (project / "src" / ".loadlint.toml").unlink()
    assert _paths(lint([project])) == {"src/a.js", "src/deep/c.js"}


def test_a_re_run_from_the_listing_stats_each_source_file_once(project, monkeypatch):
    """The listing is checked with one stat of every file; the results cache takes that stat, not another."""
    import linter.cache

    first = lint([project])
    stats: list[str] = []
    real = os.stat

    def counting(path, *args, **kwargs):
        if str(path).endswith(".js"):
            stats.append(str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(linter.cache.os, "stat", counting)
    second = lint([project])
    assert stats == []
    assert second.report == first.report
    # Edited since: the stat the listing took says so, and the file is analysed again.
    (project / "src" / "a.js").write_text(MARKER + "new OtherClient();\n")
    assert lint([project]).report.files_checked == first.report.files_checked
    assert stats == []


@pytest.mark.parametrize(
    "planted", ["../outside.js", "src/../../outside.js", "ABSOLUTE", "gen/b.js", "src//a.js", "src/.", "src/"]
)
def test_a_listing_naming_a_file_outside_its_stamped_folders_is_not_used(project, walks, tmp_path, planted):
    """Every file a listing hands on lies in a folder it stamped (not `gen/`, which the walk skipped), by a
    plain name; else the folders are walked again."""
    import json

    outside = tmp_path / "outside.js"
    outside.write_text(MARKER)
    lint([project])
    (listing,) = cache_dir().glob("listing-*.json")
    data = json.loads(listing.read_text())
    data["found"]["sources"].append(str(outside) if planted == "ABSOLUTE" else planted)
    listing.write_text(json.dumps(data))
    walks.clear()
    assert _paths(lint([project])) == {"src/a.js"}
    assert walks


def test_a_gitignore_added_to_a_listed_folder_is_honoured(project, walks):
    """A folder without a .gitignore is not asked for one again while its stamp holds (adding one changes it)."""
    write_files(project, {"src/deep/c.js": MARKER})
    assert _paths(lint([project])) == {"src/a.js", "src/deep/c.js"}
    walks.clear()
    assert _paths(lint([project])) == {"src/a.js", "src/deep/c.js"}
    assert walks == []
    (project / "src" / "deep" / ".gitignore").write_text("c.js\n")
    assert _paths(lint([project])) == {"src/a.js"}


def test_a_named_file_the_walk_left_out_is_linted_all_the_same(project):
    """A hook's file that the walk skipped (ignored by a .gitignore) is added to what the listing found."""
    lint([project])
    assert _paths(lint([project / "gen" / "b.js"])) == {"gen/b.js"}
    assert _paths(lint([project / "src" / "a.js", project / "gen" / "b.js"])) == {"gen/b.js", "src/a.js"}
