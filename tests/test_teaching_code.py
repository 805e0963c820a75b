"""express/no-graceful-shutdown's reading of teaching-code layouts: step folder names, what a command starts, and
what Dockerfiles and Compose files run (rules/express/_teaching_code.py, rules/express/_containers.py)."""

from __future__ import annotations

import pytest

from linter.rules.express._containers import read_image, read_services
from linter.rules.express._teaching_code import UNWATCHED, WATCHED, start_kind, step_of


@pytest.mark.parametrize(
    ("name", "step"),
    [
        ("demo03", ("demo", 3)),
        ("lesson-2-routing", ("lesson", 2)),
        ("week 3", ("week", 3)),
        ("day_05", ("day", 5)),
        ("Exercise1", ("exercise", 1)),
        ("part2", ("part", 2)),
        ("01-intro", ("#", 1)),
        ("12_final-project", ("#", 12)),
    ],
)
def test_step_names(name, step):
    assert step_of(name) == step


@pytest.mark.parametrize("name", ["v1", "v2", "V3", "api-v2", "version2", "release-4", "services", "backend", "2024"])
def test_release_folders_and_plain_names_are_not_steps(name):
    assert step_of(name) is None


@pytest.mark.parametrize(
    ("command", "scripts", "kind"),
    [
        ("nodemon index.js", {}, WATCHED),
        ("npx nodemon index.ts", {}, WATCHED),
        ("node --watch src/index.js", {}, WATCHED),
        ("tsx watch src/app.ts", {}, WATCHED),
        ("nest start --watch", {}, WATCHED),
        ("fastify start -w -l info app.js", {}, WATCHED),
        ("babel-watch -L src/index.js", {}, WATCHED),
        ("node index.js", {}, UNWATCHED),
        ("tsx src/app.ts", {}, UNWATCHED),
        ("nest start", {}, UNWATCHED),
        ("cross-env NODE_ENV=production node dist/main.js", {}, UNWATCHED),
        ("sh -c 'npx prisma migrate deploy && node dist/index.js'", {}, UNWATCHED),
        ("dotenv -e .env -- ts-node src/server.ts", {}, UNWATCHED),
        ("pm2-runtime ecosystem.config.js", {}, UNWATCHED),
        ("npm start", {"start": "nodemon src/index.js"}, WATCHED),
        ("yarn watch", {"watch": "npm run dev", "dev": "node --watch server.js"}, WATCHED),
        ("npm run serve", {"serve": "node dist/server.js"}, UNWATCHED),
        ("npm start", {"dev": "nodemon x.js"}, None),  # no start script: `npm start` outside an image fails
        ("npm run dev", None, UNWATCHED),  # scripts unknown: taken as a start
        ("npm -w apps/api run start", {"start": "node dist/main.js"}, UNWATCHED),  # npm's -w is --workspace
        ("vite build", {}, None),
        ("next build", {}, None),
        ("npm install && npm run build", {"build": "tsc"}, None),
    ],
)
def test_start_kind(command, scripts, kind):
    assert start_kind(command, scripts) == kind


def test_npm_start_in_an_image_without_a_start_script_runs_server_js():
    assert start_kind("npm start", {"dev": "nodemon x.js"}, image=True) == UNWATCHED


def test_a_watcher_and_a_plain_start_in_one_command_is_a_plain_start():
    assert start_kind("nodemon worker.js & node server.js", {}) == UNWATCHED


def test_image_commands_and_copied_code():
    image = read_image(
        "FROM node:20 AS build\n"
        "WORKDIR /app\n"
        "COPY package*.json yarn.lock ./\n"
        "RUN npm ci\n"
        "COPY --from=deps /app/node_modules ./node_modules\n"
        'CMD ["npm", \\\n  "start"]\n'
    )
    assert image.starts == ("npm start",) and not image.copies_code
    assert read_image("FROM node:20\nCOPY src ./src\nENTRYPOINT node src/index.js\n").copies_code
    assert read_image("FROM node:20\nADD . /app\n").copies_code


def test_compose_services():
    services = read_services(
        "version: '3'\n"
        "services:\n"
        "  api:\n"
        "    build:\n"
        "      context: ./api\n"
        "      dockerfile: Dockerfile\n"
        "    command:\n"
        "      - npm\n"
        "      - start\n"
        "    volumes:\n"
        "      - ./api:/usr/src/app  # the checkout\n"
        "      - /usr/src/app/node_modules\n"
        "      - type: bind\n"
        "        source: ./shared\n"
        "        target: /shared\n"
        "  db:\n"
        "    image: postgres:16\n"
        "    volumes:\n"
        "      - pgdata:/var/lib/postgresql/data\n"
        "  worker:\n"
        "    build: .\n"
        '    command: ["node", "worker.js"]\n'
        "volumes:\n"
        "  pgdata:\n"
    )
    api, db, worker = services
    assert (api.name, api.build, api.command, api.mounts) == ("api", "./api", "npm start", ["./api", "./shared"])
    assert (db.build, db.command, db.mounts) == (None, None, [])
    assert (worker.build, worker.command, worker.mounts) == (".", "node worker.js", [])
