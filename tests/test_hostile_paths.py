"""What a scanned repository commits where loadlint reads or writes: links out of the root, FIFOs, devices, huge
files. loadlint writes only regular files it reached without a link of the repository, reads only regular files
inside the root (or named by the user), within a size limit, and never blocks on what it opens."""

from __future__ import annotations

import json
import os
import resource
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from linter.cli import main
from linter.project import ProjectIndex, load_package
from linter.safe_read import ReadRefused, read_found_file, read_repository_file
from tests.project_builder import TEST_RULES, write_files

REPO = Path(__file__).resolve().parent.parent
TEST_RULE_ARGS = ["--rules-dir", str(TEST_RULES), "--select", "testing,loadlint"]
MARKER = "new MarkerClient();\n"
VICTIM = "root:x:0:0:root:/root:/bin/bash\n"


@pytest.fixture
def repo(tmp_path, monkeypatch) -> Path:
    """A repository (the current folder) with one finding, and a folder outside it that must stay untouched."""
    root = write_files(tmp_path / "repo", {".git/HEAD": "ref: refs/heads/main\n", "src/a.js": MARKER})
    (tmp_path / "outside").mkdir()
    monkeypatch.chdir(root)
    return root


def invoke(*args):
    return CliRunner().invoke(main, ["check", *map(str, args), *TEST_RULE_ARGS])


def in_subprocess(cwd: Path, *args, timeout: float = 60, memory: int | None = None) -> subprocess.CompletedProcess:
    """The CLI in its own process, for what could hang or eat memory: the limits fail the test instead."""

    def limit_memory():
        if memory is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "linter", "check", *map(str, args), *TEST_RULE_ARGS]
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, preexec_fn=limit_memory
    )


# --- item 2: writes ---------------------------------------------------------------------------------------


def test_output_through_a_committed_link_is_refused(repo, tmp_path):
    victim = tmp_path / "outside" / "passwd"
    victim.write_text(VICTIM)
    (repo / "loadlint.sarif").symlink_to(victim)
    result = invoke(".", "--format", "sarif", "-o", "loadlint.sarif")
    assert (result.exit_code, result.output) == (2, "loadlint: error: refusing to write loadlint.sarif: it is a symbolic link\n")
    assert victim.read_text() == VICTIM and (repo / "loadlint.sarif").is_symlink()


def test_a_dangling_baseline_link_is_neither_followed_nor_replaced(repo, tmp_path):
    planted = tmp_path / "outside" / "planted.json"
    (repo / "loadlint-baseline.json").symlink_to(planted)
    result = invoke(".", "--write-baseline")
    assert result.exit_code == 2
    assert result.output == "loadlint: error: refusing to write loadlint-baseline.json: it is a symbolic link\n"
    assert not planted.exists() and (repo / "loadlint-baseline.json").is_symlink()


def test_a_baseline_link_to_a_fifo_is_not_read(repo, tmp_path):
    fifo = tmp_path / "outside" / "fifo"
    os.mkfifo(fifo)
    (repo / "loadlint-baseline.json").symlink_to(fifo)
    done = in_subprocess(repo, ".", "--write-baseline", timeout=20)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "loadlint: error: refusing to write loadlint-baseline.json: it is a symbolic link\n"


def test_a_committed_link_to_a_folder_out_of_the_repository_is_refused(repo, tmp_path):
    (repo / "reports").symlink_to(tmp_path / "outside", target_is_directory=True)
    result = invoke(".", "-o", "reports/loadlint.sarif")
    assert result.exit_code == 2
    assert result.output == (
        "loadlint: error: refusing to write reports/loadlint.sarif: reports is a symbolic link to outside the repository\n"
    )
    assert list((tmp_path / "outside").iterdir()) == []


def test_a_link_to_a_folder_inside_the_repository_is_followed(repo):
    (repo / "build" / "reports").mkdir(parents=True)
    (repo / "reports").symlink_to("build/reports", target_is_directory=True)
    result = invoke(".", "--format", "json", "-o", "reports/loadlint.json")
    assert result.exit_code == 1, result.output
    assert json.loads((repo / "build" / "reports" / "loadlint.json").read_text())["findings"]


def test_links_outside_the_repository_are_the_user_s_own_and_followed(repo, tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "real", target_is_directory=True)
    result = invoke(".", "--format", "json", "-o", tmp_path / "alias" / "report.json")
    assert result.exit_code == 1, result.output
    assert json.loads((tmp_path / "real" / "report.json").read_text())["findings"]


def test_a_fifo_at_the_output_path_is_never_replaced(repo):
    os.mkfifo(repo / "loadlint.json")
    result = invoke(".", "--format", "json", "-o", "loadlint.json")
    assert (result.exit_code, result.output) == (2, "loadlint: error: refusing to write loadlint.json: it is not a regular file\n")
    assert stat.S_ISFIFO(os.lstat(repo / "loadlint.json").st_mode)


def test_dev_null_discards_the_report_and_stays_a_device(repo, monkeypatch):
    # A guard for the code before this change, which replaced /dev/null with a regular file when run as root.
    real_mkstemp = tempfile.mkstemp

    def no_temp_files_in_dev(*args, **kwargs):
        assert not str(kwargs.get("dir", "")).startswith("/dev"), "about to replace a device"
        return real_mkstemp(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", no_temp_files_in_dev)
    result = invoke(".", "-o", "/dev/null")
    assert isinstance(result.exception, SystemExit), result.exception
    assert (result.exit_code, result.output) == (1, "")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.parametrize("name, stream", [("-", "stdout"), ("/dev/stdout", "stdout"), ("/dev/stderr", "stderr")])
def test_dash_and_standard_streams_print_the_report(repo, name, stream):
    done = in_subprocess(repo, ".", "--format", "json", "-o", name)
    assert done.returncode == 1, done.stderr
    assert json.loads(getattr(done, stream))["findings"][0]["path"] == "src/a.js"
    assert sorted(p.name for p in repo.iterdir()) == [".git", "src"]


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_a_replaced_report_keeps_its_owner_and_mode(repo):
    report = repo / "loadlint.json"
    report.write_text("{}\n")
    os.chown(report, 1000, 1000)
    os.chmod(report, 0o640)
    invoke(".", "--format", "json", "-o", "loadlint.json")
    info = report.stat()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (1000, 1000, 0o640)
    assert json.loads(report.read_text())["findings"]


# --- item 5: reads ----------------------------------------------------------------------------------------


def test_a_linked_gitignore_is_not_followed(repo, tmp_path):
    (tmp_path / "outside" / "ignore").write_text("a.js\n")
    (repo / "src" / ".gitignore").symlink_to(tmp_path / "outside" / "ignore")
    result = invoke(".", "--format", "json")
    report = json.loads(result.stdout)
    assert [f["path"] for f in report["findings"]] == ["src/a.js"]
    assert {"level": "warning", "path": "src/.gitignore", "message": "not read: it is a symbolic link; its patterns are not applied"} in report["notices"]


def test_a_gitignore_link_inside_the_root_is_not_followed_either(repo):
    write_files(repo, {"shared-ignore": "a.js\n"})
    (repo / "src" / ".gitignore").symlink_to("../shared-ignore")
    result = invoke(".", "--format", "json")
    assert [f["path"] for f in json.loads(result.stdout)["findings"]] == ["src/a.js"]


def test_a_config_linked_out_of_the_root_is_an_error(repo, tmp_path):
    (tmp_path / "outside" / "settings.toml").write_text('ignore = ["testing"]\n')
    (repo / ".loadlint.toml").symlink_to(tmp_path / "outside" / "settings.toml")
    result = invoke(".")
    assert (result.exit_code, result.output) == (
        2,
        "loadlint: error: .loadlint.toml: not read: it is a symbolic link to outside the root\n",
    )


def test_a_config_over_the_size_limit_is_an_error(repo):
    write_files(repo, {".loadlint.toml": "# padding\n" * 300_000})
    result = invoke(".")
    assert result.exit_code == 2
    assert result.output == "loadlint: error: .loadlint.toml: not read: 3,000,000 bytes is over the 2,000,000-byte limit\n"


def test_a_package_json_linked_out_of_the_root_gives_no_settings(repo, tmp_path):
    (tmp_path / "outside" / "package.json").write_text('{"name": "x", "loadlint": {"ignore": ["testing"]}}')
    (repo / "package.json").symlink_to(tmp_path / "outside" / "package.json")
    write_files(repo, {"app/package.json": '{"name": "app"}', "app/src/b.js": MARKER})
    for target in ("app/src/b.js", "."):  # the config lookup from a file, and the walk of the whole repository
        result = invoke(target, "--format", "json")
        assert result.exit_code == 1, result.output  # the outside "ignore" did not apply
        assert "app/src/b.js" in [f["path"] for f in json.loads(result.stdout)["findings"]]


def test_a_project_file_swapped_for_a_link_after_discovery_is_not_read(repo, tmp_path):
    write_files(repo, {"prisma/schema.prisma": "model A { id Int @id }\n"})
    project = ProjectIndex(root=repo, other_files={"prisma/schema.prisma": "prisma"})
    (tmp_path / "outside" / "secret").write_text("the contents of a file outside the root\n")
    (repo / "prisma/schema.prisma").unlink()
    (repo / "prisma/schema.prisma").symlink_to(tmp_path / "outside" / "secret")
    assert project.read_source("prisma/schema.prisma") is None
    assert [(n.path, n.message) for n in project.notices] == [
        ("prisma/schema.prisma", "not read: it is a symbolic link to outside the root")
    ]


def test_a_source_swapped_for_a_link_after_discovery_is_not_read_by_the_flow_join(repo, tmp_path):
    write_files(repo, {"src/service.js": "module.exports = 1;\n"})
    project = ProjectIndex(root=repo, files=["src/service.js"])
    (tmp_path / "outside" / "service.js").write_text("module.exports = 'outside the root';\n")
    (repo / "src/service.js").unlink()
    (repo / "src/service.js").symlink_to(tmp_path / "outside" / "service.js")
    assert project.read_js_source("src/service.js") is None


@pytest.mark.parametrize("proc", [True, False], ids=["/proc", "no /proc"])
def test_a_folder_swapped_for_a_link_after_discovery_is_not_read_through(repo, tmp_path, monkeypatch, proc):
    if not proc:  # as on a system without /proc/self/fd: the folder's real path decides

        real_readlink = os.readlink

        def no_proc(path, *args, **kwargs):
            if str(path).startswith("/proc/"):
                raise FileNotFoundError(2, "No such file or directory")
            return real_readlink(path, *args, **kwargs)

        monkeypatch.setattr(os, "readlink", no_proc)
    write_files(repo, {"prisma/schema.prisma": "model A { id Int @id }\n"})
    project = ProjectIndex(root=repo, other_files={"prisma/schema.prisma": "prisma"})
    (tmp_path / "outside" / "schema.prisma").write_text("the contents of a file outside the root\n")
    (repo / "prisma/schema.prisma").unlink()
    (repo / "prisma").rmdir()
    (repo / "prisma").symlink_to(tmp_path / "outside")
    assert project.read_source("prisma/schema.prisma") is None
    assert [(n.path, n.message) for n in project.notices] == [("prisma/schema.prisma", "not read: it is outside the root")]


def test_a_file_that_holds_more_than_its_size_says_is_read_within_the_limit():
    status = Path("/proc/self/status")
    if not status.exists() or status.stat().st_size != 0:
        pytest.skip("needs a /proc whose files say 0 bytes")
    assert read_repository_file(status, Path("/proc"), 1_000_000).startswith(b"Name:")
    with pytest.raises(ReadRefused, match=r"^not read: it is over the 10-byte limit$"):
        read_repository_file(status, Path("/proc"), 10)


def test_a_fifo_swapped_in_after_discovery_does_not_block_the_analysis(repo):
    os.mkfifo(repo / "src" / "pipe.js")
    assert read_found_file(repo / "src" / "pipe.js") == b""


def test_a_folder_linked_out_of_the_root_below_a_folder_already_read_is_refused(repo, tmp_path):
    """The project phase reads many sources and keeps which folders it found inside the root: a folder that is a
    link out of the root, below one it read from, is still checked (and one swapped for a link after discovery)."""
    write_files(repo, {"src/a.js": "module.exports = 1;\n", "src/deep/b.js": "module.exports = 2;\n"})
    write_files(tmp_path / "outside", {"c.js": "module.exports = 'outside';\n", "deep/d.js": "module.exports = 'out';\n"})
    (repo / "src/linked").symlink_to(tmp_path / "outside")
    (repo / "src/inner").symlink_to(repo / "src/deep")
    files = ["src/a.js", "src/deep/b.js", "src/linked/c.js", "src/linked/deep/d.js", "src/inner/b.js"]
    project = ProjectIndex(root=repo, files=files)
    assert project.read_js_source("src/a.js") == b"module.exports = 1;\n"
    assert project.read_js_source("src/deep/b.js") == b"module.exports = 2;\n"
    assert project.read_js_source("src/linked/c.js") is None
    assert project.read_js_source("src/linked/deep/d.js") is None
    assert project.read_js_source("src/inner/b.js") == b"module.exports = 2;\n"  # a link that stays inside


def test_a_manifest_swapped_for_a_link_after_discovery_is_not_read(repo, tmp_path):
    (tmp_path / "outside" / "package.json").write_text('{"name": "outside", "dependencies": {"express": "4"}}')
    (repo / "package.json").symlink_to(tmp_path / "outside" / "package.json")
    notices = []
    package = load_package(repo / "package.json", repo, notices)
    assert (package.name, package.dependencies) == (None, frozenset())
    assert [(n.path, n.message) for n in notices] == [("package.json", "not read: it is a symbolic link to outside the root")]


def test_a_fifo_baseline_is_refused_at_once(repo, tmp_path):
    os.mkfifo(tmp_path / "outside" / "fifo")
    done = in_subprocess(repo, ".", "--baseline", tmp_path / "outside" / "fifo", timeout=20)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"loadlint: error: baseline file {tmp_path / 'outside' / 'fifo'}: not a regular file\n"


def test_dev_zero_as_baseline_is_refused_without_reading_it(repo):
    done = in_subprocess(repo, ".", "--baseline", "/dev/zero", timeout=60, memory=2_000_000_000)
    assert (done.returncode, done.stderr) == (2, "loadlint: error: baseline file /dev/zero: not a regular file\n")


def test_a_baseline_over_the_size_limit_is_refused(repo, tmp_path):
    huge = tmp_path / "outside" / "huge.json"
    with open(huge, "wb") as sparse:
        sparse.truncate(64_000_001)
    result = invoke(".", "--baseline", huge)
    assert result.exit_code == 2
    assert result.output == f"loadlint: error: baseline file {huge}: not read: 64,000,001 bytes is over the 64,000,000-byte limit\n"
