"""loadlint as a pre-commit hook, driven through the real `pre-commit` (a test dependency).

pre-commit installs a `language: python` hook by pip-installing the hook repository into a fresh virtualenv,
which takes about 12 s, once per `try-repo` call and once per repository + revision for an installed config.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.fixture_cases import REPO

PRE_COMMIT = Path(sys.executable).parent / "pre-commit"
# What pip needs to install loadlint, plus the hook manifest.
HOOK_REPO_CONTENT = ("pyproject.toml", "README.md", "LICENSE", "linter", "rules", ".pre-commit-hooks.yaml")
TIMEOUT = 600

APP = {
    "package.json": '{"name": "app", "dependencies": {"express": "^4.19.0", "@prisma/client": "^5.0.0"}}\n',
    "src/lib/prisma.js": "const { PrismaClient } = require('@prisma/client');\n\nmodule.exports = { prisma: new PrismaClient() };\n",
    "src/index.js": (
        "const express = require('express');\n"
        "const { prisma } = require('./lib/prisma');\n\n"
        "const app = express();\n"
        "app.get('/users', async (req, res) => res.json(await prisma.user.findMany({ take: 20 })));\n\n"
        "module.exports = app;\n"
    ),
}
SECOND_CLIENT = "const { PrismaClient } = require('@prisma/client');\n\nconst db = new PrismaClient();\n\nmodule.exports = { db };\n"
SECOND_CLIENT_FINDING = "src/users.js:3:12: error prisma/client-outside-singleton"
CLEAN_CHANGE = "const { prisma } = require('./lib/prisma');\n\nmodule.exports = { countUsers: () => prisma.user.count() };\n"


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    """The environment of every git and pre-commit call: an isolated pre-commit store and git config."""
    if not PRE_COMMIT.exists():
        pytest.fail(f"pre-commit is not installed in {PRE_COMMIT.parent}: run `pip install '.[test]'` first")
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    home = tmp_path_factory.mktemp("precommit-home")
    (home / "gitconfig").write_text("", encoding="utf-8")
    variables = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")}
    variables.update(
        PATH=f"{PRE_COMMIT.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        PRE_COMMIT_HOME=str(home / "store"),
        GIT_CONFIG_GLOBAL=str(home / "gitconfig"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Test",
        GIT_AUTHOR_EMAIL="test@example.com",
        GIT_COMMITTER_NAME="Test",
        GIT_COMMITTER_EMAIL="test@example.com",
    )
    return variables


def sh(env: dict[str, str], cwd: Path, *command: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    if check and done.returncode != 0:
        pytest.fail(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory, env) -> Path:
    """A git repository holding this working tree's loadlint (committed or not), committed, as pre-commit wants."""
    repo = tmp_path_factory.mktemp("hook-repo")
    for name in HOOK_REPO_CONTENT:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, repo / name)
    sh(env, repo, "git", "init", "--quiet")
    sh(env, repo, "git", "add", "--all")
    sh(env, repo, "git", "commit", "--quiet", "--message", "loadlint")
    return repo


def make_app(root: Path, env: dict[str, str]) -> Path:
    for rel, content in APP.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(content, encoding="utf-8")
    sh(env, root, "git", "init", "--quiet")
    sh(env, root, "git", "add", "--all")
    sh(env, root, "git", "commit", "--quiet", "--message", "app")
    return root


def stage(root: Path, env: dict[str, str], rel: str, content: str) -> None:
    (root / rel).write_text(content, encoding="utf-8")
    sh(env, root, "git", "add", rel)


def work_tree_status(root: Path, env: dict[str, str]) -> list[str]:
    """Every change git sees, ignored files included: what the hook must leave as it found it."""
    return sh(env, root, "git", "status", "--porcelain", "--ignored", "--untracked-files=all").stdout.splitlines()


def test_try_repo_refuses_a_second_prisma_client_and_passes_a_clean_change(tmp_path, env, hook_repo):
    app = make_app(tmp_path / "app", env)

    stage(app, env, "src/users.js", SECOND_CLIENT)
    refused = sh(env, app, str(PRE_COMMIT), "try-repo", str(hook_repo), "loadlint", check=False)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert SECOND_CLIENT_FINDING in refused.stdout
    assert "import the shared client from src/lib/prisma.js" in refused.stdout
    assert work_tree_status(app, env) == ["A  src/users.js"]

    sh(env, app, "git", "rm", "--cached", "--quiet", "src/users.js")
    (app / "src/users.js").unlink()
    stage(app, env, "src/stats.js", CLEAN_CHANGE)
    passed = sh(env, app, str(PRE_COMMIT), "try-repo", str(hook_repo), "loadlint", check=False)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert re.search(r"^loadlint\.+Passed$", passed.stdout, re.MULTILINE), passed.stdout
    assert work_tree_status(app, env) == ["A  src/stats.js"]


def readme_precommit_config() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("### pre-commit", 1)[1]
    return re.search(r"```yaml\n(.*?)```", section, re.DOTALL).group(1)


def test_readme_config_blocks_a_commit_then_lets_a_clean_one_through(tmp_path, env, hook_repo):
    app = make_app(tmp_path / "app", env)
    revision = sh(env, hook_repo, "git", "rev-parse", "HEAD").stdout.strip()
    config = readme_precommit_config()
    config = re.sub(r"repo: \S+", f"repo: {hook_repo.as_posix()}", config)
    config = re.sub(r"rev: \S+", f"rev: {revision}", config)
    stage(app, env, ".pre-commit-config.yaml", config)
    sh(env, app, "git", "commit", "--quiet", "--message", "pre-commit config")
    sh(env, app, str(PRE_COMMIT), "install")

    stage(app, env, "src/users.js", SECOND_CLIENT)
    refused = sh(env, app, "git", "commit", "--message", "a second client", check=False)
    assert refused.returncode != 0
    assert SECOND_CLIENT_FINDING in refused.stdout + refused.stderr
    assert sh(env, app, "git", "rev-list", "--count", "HEAD").stdout.strip() == "2"

    sh(env, app, "git", "rm", "--cached", "--quiet", "src/users.js")
    (app / "src/users.js").unlink()
    stage(app, env, "src/stats.js", CLEAN_CHANGE)
    sh(env, app, "git", "commit", "--quiet", "--message", "user count")
    assert work_tree_status(app, env) == []

    manual = sh(env, app, str(PRE_COMMIT), "run", "--hook-stage", "manual", "loadlint-project", check=False)
    assert manual.returncode == 0, manual.stdout + manual.stderr
    assert re.search(r"^loadlint \(whole project\)\.+Passed$", manual.stdout, re.MULTILINE), manual.stdout


def test_a_run_leaves_the_work_tree_alone_even_with_rules_of_its_own(tmp_path, env):
    """No cache, report or bytecode lands in the checkout: not even for the user's own rules folder."""
    app = make_app(tmp_path / "app", env)
    shutil.copytree(REPO / "tests/data/rules/testing", app / "tools/rules/testing", ignore=shutil.ignore_patterns("__pycache__"))
    stage(app, env, ".loadlint.toml", 'rules-dir = "tools/rules"\n')
    sh(env, app, "git", "add", "--all")
    sh(env, app, "git", "commit", "--quiet", "--message", "own rules")
    stage(app, env, "src/marker.js", "new MarkerClient();\n")
    source_env = {**env, "PYTHONPATH": str(REPO)}
    command = (sys.executable, "-m", "linter", "check", "--trust-config-rules", "src/marker.js", "src/index.js")
    done = sh(source_env, app, *command, check=False)
    assert done.returncode == 1 and "testing/marker-client" in done.stdout, done.stdout + done.stderr
    assert work_tree_status(app, env) == ["A  src/marker.js"]


def test_the_hooks_never_trust_the_config_rules_of_the_repository(tmp_path, env, hook_repo):
    """A hook runs on whatever was checked out or pulled: a `rules-dir` in its config is not imported."""
    hooks = yaml_hooks()
    assert all("--trust-config-rules" not in " ".join([hook["entry"], *hook.get("args", [])]) for hook in hooks)
    app = make_app(tmp_path / "app", env)
    marker = tmp_path / "marker"
    stage(app, env, ".loadlint.toml", 'rules-dir = "tools/rules"\n')
    (app / "tools/rules/x").mkdir(parents=True)
    stage(app, env, "tools/rules/x/evil.py", f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n")
    stage(app, env, "src/stats.js", CLEAN_CHANGE)
    passed = sh(env, app, str(PRE_COMMIT), "try-repo", str(hook_repo), "loadlint", "--verbose", check=False)
    assert not marker.exists()
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "key 'rules-dir' ignored" in passed.stdout


def yaml_hooks() -> list[dict]:
    import yaml

    return yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))


READ_BY_RULES = [
    "a.js", "a.jsx", "a.mjs", "a.cjs", "a.ts", "a.tsx", "a.mts", "a.cts", "src/deep/a.ts",
    "schema.prisma", "prisma/schema/user.prisma", "package.json", "apps/web/package.json",
    "Dockerfile", "Dockerfile.prod", "docker/Dockerfile-api", "api.Dockerfile", "web.dockerfile",
    "Procfile", "apps/api/Procfile", "railway.json", "railway.toml", "render.yaml", "render.yml", "fly.toml",
    "nixpacks.toml", "deploy.sh", "scripts/start.bash", ".env.example", ".env.sample", ".env.local.example",
    ".env.production.template", ".env.example.local", "apps/api/.env.dist", "compose.yaml", "docker-compose.yml",
    "docker-compose.prod.yaml", "compose.override.yml",
]
NOT_READ = [
    "a.d.ts", "src/types.d.mts", "lib/a.d.cts", "a.json", "a.d.json", "tsconfig.json", "mypackage.json",
    "package.json5", "README.md", ".env", ".env.local", "Procfile.dev", "compose.md",
    "render.json", "a.sh.txt", "schema.prisma.bak",
]


def hook_selects(hook: dict, name: str) -> bool:
    """pre-commit's selection: `files` matches, `exclude` does not (identify's types are checked apart)."""
    return bool(re.search(hook["files"], name)) and not re.search(hook.get("exclude", "^$"), name)


@pytest.mark.parametrize("name", READ_BY_RULES)
def test_the_hook_selects_every_file_kind_a_rule_reads(tmp_path, name):
    """pre-commit runs a hook on a file that matches `files` and, when given, one of `types_or` (identify's tags)."""
    from identify.identify import tags_from_path

    from linter.discovery import MANIFEST_NAMES, is_source_name
    from linter.files.kinds import project_file_kind

    (hook,) = [h for h in yaml_hooks() if h["id"] == "loadlint"]
    base = name.rsplit("/", 1)[-1]
    assert is_source_name(base) or project_file_kind(base) is not None or base in MANIFEST_NAMES
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x = 1\n", encoding="utf-8")
    assert hook_selects(hook, name)
    assert tags_from_path(str(path)) & set(hook["types_or"])


@pytest.mark.parametrize("name", NOT_READ)
def test_the_hook_leaves_out_files_no_rule_reads(name):
    from linter.discovery import MANIFEST_NAMES, is_source_name
    from linter.files.kinds import project_file_kind

    (hook,) = [h for h in yaml_hooks() if h["id"] == "loadlint"]
    base = name.rsplit("/", 1)[-1]
    assert not (is_source_name(base) or project_file_kind(base) is not None or base in MANIFEST_NAMES)
    assert not hook_selects(hook, name)


DEPLOY_FILES = {
    "package.json": (
        '{"name": "app", "scripts": {"build": "prisma db push --accept-data-loss && next build"}, '
        '"dependencies": {"next": "14.2.0", "@prisma/client": "^5.0.0"}}\n'
    ),
    "prisma/schema.prisma": (
        'datasource db {\n  provider = "postgresql"\n  url      = env("DATABASE_URL")\n}\n\n'
        "model User {\n  id    String @id @default(cuid())\n  posts Post[]\n}\n\n"
        "model Post {\n  id       String @id @default(cuid())\n  author   User   @relation(fields: [authorId], references: [id])\n"
        "  authorId String\n}\n"
    ),
    "Dockerfile": "FROM node:20-slim\nCOPY . .\nRUN npx prisma db push\nCMD [\"npm\", \"start\"]\n",
    "src/types.d.ts": "declare const build: string;\n",
    # A query by the foreign key: the schema's missing index then matters.
    "src/posts.js": (
        "const { prisma } = require('./lib/prisma');\n\n"
        "module.exports = { postsBy: (authorId) => prisma.post.findMany({ where: { authorId }, take: 20 }) };\n"
    ),
}


def test_try_repo_refuses_a_commit_that_pushes_the_schema_on_deploy(tmp_path, env, hook_repo):
    """The files rules read beside the code: a build script, a schema, a Dockerfile; a `.d.ts` passes silently."""
    app = make_app(tmp_path / "app", env)
    for rel, content in DEPLOY_FILES.items():
        (app / rel).parent.mkdir(parents=True, exist_ok=True)
        stage(app, env, rel, content)
    refused = sh(env, app, str(PRE_COMMIT), "try-repo", str(hook_repo), "loadlint", "--verbose", check=False)
    output = refused.stdout + refused.stderr
    assert refused.returncode == 1, output
    assert "package.json:1:" in output and "`prisma db push --accept-data-loss` drops whatever data" in output
    assert "Dockerfile:3:9: warning prisma/db-push-in-deploy" in output
    assert "prisma/schema.prisma:14:3: warning prisma/missing-relation-index" in output
    assert "types.d.ts" not in output


def test_a_named_declaration_file_is_skipped_without_a_notice(tmp_path):
    from click.testing import CliRunner

    from linter.cli import main

    (tmp_path / "package.json").write_text("{}", encoding="utf-8")
    (tmp_path / "types.d.ts").write_text("declare const x: number;\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--format", "json", str(tmp_path / "types.d.ts")])
    assert result.exit_code == 0, result.output
    assert "types.d.ts" not in result.output


def test_the_hook_is_answered_by_a_running_server_with_the_report_it_makes_alone(tmp_path, env, hook_repo, monkeypatch):
    """pre-commit's loadlint (installed in its own virtualenv) and an editor's `loadlint server --serve-checks`
    (this checkout) run the same code: the server answers the hook, which prints what it prints alone."""
    pytest.importorskip("pygls", reason="the server extra is not installed: pip install 'loadlint[server]'")
    from linter.check_client import served_check, socket_path
    from tests.stdio_client import StdioClient

    app = make_app(tmp_path / "app", env)
    stage(app, env, "src/users.js", SECOND_CLIENT)
    runtime = Path(tempfile.mkdtemp(prefix="ll-", dir="/tmp"))
    runtime.chmod(0o700)
    shared = {"XDG_RUNTIME_DIR": str(runtime), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    for name, value in shared.items():
        monkeypatch.setenv(name, value)
    server = StdioClient(["server", "--serve-checks"], {**os.environ, **shared}, framed=True)
    try:
        server.request("initialize", {"processId": os.getpid(), "rootUri": app.as_uri(), "capabilities": {}})
        server.notify("initialized", {})
        deadline = time.monotonic() + 120
        while not socket_path(app.resolve()).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert served_check([app / "src/users.js"], {"select": None, "ignore": None, "fail_on": None, "config_file": None, "category": None, "timeout": None, "fingerprints": False, "render": None}, answer_seconds=120)

        # An installed config, as the README's: its hook environment is made once per revision (try-repo makes
        # one each run).
        revision = sh(env, hook_repo, "git", "rev-parse", "HEAD").stdout.strip()
        config = re.sub(r"rev: \S+", f"rev: {revision}", re.sub(r"repo: \S+", f"repo: {hook_repo.as_posix()}", readme_precommit_config()))
        stage(app, env, ".pre-commit-config.yaml", config)
        hook_env = {**env, **shared, "LOADLINT_SERVER_DEBUG": "1"}
        run = (str(PRE_COMMIT), "run", "loadlint", "--verbose")
        served = sh(hook_env, app, *run, check=False)
        alone = sh({**hook_env, "LOADLINT_NO_SERVER": "1"}, app, *run, check=False)
    finally:
        server.request("shutdown")
        server.notify("exit")
        server.close()
        shutil.rmtree(runtime, ignore_errors=True)
    answered = f"loadlint: server: answered by process {server.process.pid}\n"
    assert answered in served.stdout, served.stdout + served.stderr
    assert "loadlint: server" not in alone.stdout
    assert (served.returncode, alone.returncode) == (1, 1)
    assert hook_output(served.stdout.replace(answered, "")) == hook_output(alone.stdout)
    assert SECOND_CLIENT_FINDING in hook_output(alone.stdout)


def hook_output(output: str) -> str:
    """What the hook printed, without pre-commit's own lines (its set-up, the hook's duration)."""
    printed = output.split("- hook id: loadlint\n", 1)[1]
    return "".join(line for line in printed.splitlines(keepends=True) if not line.startswith("- duration:"))
