"""Reads shell command lines as deployment files write them (`package.json` scripts, Dockerfile `RUN`, Procfile
lines, shell scripts): the simple commands of a line, and what each one does that rules follow: runs a package
script (`npm run build`, `pnpm --filter api start`), runs a shell script (`sh ./start.sh`), changes folder
(`cd backend`), or runs a Prisma CLI command (`npx prisma db push --accept-data-loss`).

It is a reader, not a shell: quotes, `&&`/`||`/`;`/`|`, comments, `sh -c "..."` and line continuations are
understood; expansions, functions and control flow are not (`then`/`else` are skipped as words).
Offsets are character indexes into the command text.
"""

from __future__ import annotations

import re
from dataclasses import replace

from linter import lazy_re
from linter.lazy_dataclasses import dataclass

SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ash"})
WRAPPERS = frozenset({"exec", "nohup", "time", "command", "sudo", "env", "cross-env", "cross-env-shell"})
DOTENV_WRAPPERS = frozenset({"dotenv", "dotenv-flow", "env-cmd", "dotenvx", "infisical", "doppler"})
KEYWORDS = frozenset({"if", "then", "else", "elif", "do", "while", "until", "!", "{", "}", "(", ")"})
PRINTERS = frozenset({"echo", "printf", "log", "info", "warn"})
# Commands that wait for a service, then run the command after `--`.
WAITERS = frozenset({"wait-for-it", "wait-for", "dockerize", "wait-port"})
RUN_ALL = frozenset({"npm-run-all", "npm-run-all2", "run-s", "run-p"})
# Package manager commands that are not `<pm> <script>` shorthands.
_PM_BUILTINS = frozenset(
    {
        "install", "i", "ci", "add", "remove", "rm", "uninstall", "update", "upgrade", "up", "init", "create",
        "exec", "x", "dlx", "why", "list", "ls", "outdated", "link", "unlink", "pack", "publish", "version",
        "config", "cache", "store", "global", "workspaces", "info", "audit", "dedupe", "prune", "rebuild",
        "import", "fetch", "patch", "node", "bin", "env", "set", "plugin", "npm", "constraints", "explain",
        "login", "logout", "whoami", "help", "-v", "--version", "licenses", "import", "deploy",
    }
)
_NPM_SCRIPT_SHORTHANDS = frozenset({"start", "test", "stop", "restart", "t", "tst"})
_NPM_ALIASES = {"t": "test", "tst": "test"}
_OPTIONS_WITH_VALUES = frozenset({"--prefix", "-C", "--dir", "--cwd", "--filter", "-F", "-w", "--workspace"})
_PRISMA_BINARY = lazy_re.compile(r"^(?:.*/)?prisma(?:@[\w.^~<>=-]+)?$")
# `"$PRISMA_DB_PUSH" = "1"`, `"${SYNC_SCHEMA:-false}" == true`: a variable, unset or false by default, set on purpose.
_OPT_IN_TEST = lazy_re.compile(
    r"\$\{?\w+(?::?-(?:0|false|no|off)?)?\}?[\"']?\s*==?\s*[\"']?(?:1|true|yes|on)\b", re.I
)
_FLAG_SET_TEST = lazy_re.compile(r"-n\s+[\"']?\$\{?\w*(?:PUSH|SYNC|BOOTSTRAP|RUN_|ENABLE|ALLOW)\w*", re.I)
_ENVIRONMENT_TEST = lazy_re.compile(
    r"\$\{?(?:NODE_ENV|APP_ENV|ENV|ENVIRONMENT|STAGE|DEPLOY_ENV)\b[^=!]*(?P<operator>!=|==?)\s*[\"']?(?P<value>\w+)",
    re.I,
)
_OPERATORS = ("&&", "||", ";;", ";", "|", "&", "\n", "(", ")")


@dataclass(frozen=True)
class Word:
    text: str  # with quotes removed
    start: int  # first character (its opening quote, if quoted)
    end: int
    quoted: bool = False  # one quoted literal without escapes: text[i] sits at start + 1 + i


@dataclass(frozen=True)
class PrismaCommand:
    """`prisma <words...>`: `arguments` are the words after the binary (`db`, `push`, `--accept-data-loss`)."""

    arguments: tuple[str, ...]
    start: int
    end: int
    conditions: tuple[str, ...] = ()  # the `if` tests it runs under (`! ` marks an `else` branch)


@dataclass(frozen=True)
class ScriptCall:
    """`npm run build`: runs package scripts `names` of the package in `folder` (relative to the command's
    folder) or called `package`, else of the command's own package."""

    names: tuple[str, ...]
    folder: str | None = None
    package: str | None = None
    conditions: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScriptFile:
    path: str
    start: int
    end: int
    conditions: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChangeFolder:
    path: str


Action = PrismaCommand | ScriptCall | ScriptFile | ChangeFolder


def logical_lines(text: str) -> list[tuple[str, tuple[tuple[int, int], ...]]]:
    """The lines of a script with `\\`-continuations joined and the comment lines inside them dropped (as
    Docker and the shell do): (line, segments), where each segment (index in the line, index in `text`) says
    where a joined piece starts."""
    lines = []
    position = 0
    pieces: list[str] = []
    segments: list[tuple[int, int]] = []
    for raw in text.splitlines(keepends=True):
        line = raw.rstrip("\r\n")
        start, position = position, position + len(raw)
        if pieces and line.lstrip().startswith("#"):
            continue
        segments.append((sum(len(p) for p in pieces), start))
        if line.endswith("\\") and not line.lstrip().startswith("#"):
            pieces.append(line[:-1] + " ")
            continue
        pieces.append(line)
        lines.append(("".join(pieces), tuple(segments)))
        pieces, segments = [], []
    if pieces:
        lines.append(("".join(pieces), tuple(segments)))
    return lines


class Branches:
    """The `if`/`elif`/`else` (and loop) tests a script is inside of, kept while it is read line by line."""

    def __init__(self) -> None:
        self.stack: list[tuple[str, bool]] = []  # (test, in its `else` branch)

    def active(self) -> tuple[str, ...]:
        return tuple(("! " if negated else "") + test for test, negated in self.stack)

    def read(self, words: list[Word]) -> list[Word] | None:
        """Follow a keyword at the start of a simple command; the words left to run (None: nothing runs)."""
        keyword = words[0].text
        if keyword in ("if", "elif", "while", "until"):
            if keyword == "elif" and self.stack:
                self.stack.pop()
            self.stack.append((" ".join(w.text for w in words[1:]), False))
            return None
        if keyword in ("fi", "done"):
            if self.stack:
                self.stack.pop()
            return None
        if keyword == "else" and self.stack:
            self.stack[-1] = (self.stack[-1][0], True)
        if keyword in ("then", "do", "else"):
            words = words[1:]
        return words or None


def actions(command: str, depth: int = 0, branches: Branches | None = None) -> list[Action]:
    """What the simple commands of `command` do, in order (offsets into `command`), each with the tests it runs
    under. `branches` carries open `if` blocks from one line of a script to the next."""
    branches = branches if branches is not None else Branches()
    found: list[Action] = []
    test_before: tuple[str, ...] = ()
    for words, operator in _split(command):
        words = branches.read(words)
        if words is None:
            continue
        guard, test_before = test_before, ()
        if words[0].text in ("[", "[[", "test") and operator == "&&":
            test_before = (" ".join(w.text for w in words),)  # `[ "$X" = 1 ] && prisma db push`
            continue
        conditions = branches.active() + guard
        found.extend(_with_conditions(a, conditions) for a in _actions_of(words, depth))
    return found


def off_by_default(condition: str) -> bool:
    """True when commands under the test `condition` do not run in a default production deploy: an opt-in flag
    (`[ "$PRISMA_DB_PUSH" = "1" ]`, `[ -n "$RUN_DB_PUSH" ]`) or a development-only branch
    (`[ "$NODE_ENV" = "development" ]`, the `else` of `[ "$NODE_ENV" = "production" ]`)."""
    negated = condition.startswith("! ")
    test = condition[2:] if negated else condition
    environment = _ENVIRONMENT_TEST.search(test)
    if environment is not None:
        production = environment.group("value").lower() in ("production", "prod")
        equal = environment.group("operator") != "!="
        return (production == equal) == negated
    if negated:
        return False
    return bool(_OPT_IN_TEST.search(test) or _FLAG_SET_TEST.search(test))


def _with_conditions(action: Action, conditions: tuple[str, ...]) -> Action:
    if not conditions or isinstance(action, ChangeFolder):
        return action
    return replace(action, conditions=conditions + action.conditions)


def simple_commands(command: str) -> list[list[Word]]:
    """Split a command line into its simple commands, each a list of words."""
    return [words for words, _ in _split(command)]


def _split(command: str) -> list[tuple[list[Word], str | None]]:
    """The simple commands of a command line, each with the operator that ends it (None at the end)."""
    commands: list[tuple[list[Word], str | None]] = []
    words: list[Word] = []
    index, length = 0, len(command)
    while index < length:
        char = command[index]
        if char in " \t\r":
            index += 1
            continue
        operator = next((op for op in _OPERATORS if command.startswith(op, index)), None)
        if operator is not None:
            if words:
                commands.append((words, operator))
                words = []
            index += len(operator)
            continue
        if char == "#":
            end = command.find("\n", index)
            index = length if end < 0 else end
            continue
        word, index = _read_word(command, index)
        words.append(word)
    if words:
        commands.append((words, None))
    return commands


def _read_word(command: str, start: int) -> tuple[Word, int]:
    index, length = start, len(command)
    parts: list[str] = []
    quotes = 0
    escaped = False
    while index < length:
        char = command[index]
        if char in " \t\r\n;&|()" and not (char in "()" and parts and parts[-1].endswith("$")):
            break
        if char == "\\" and index + 1 < length:
            parts.append(command[index + 1])
            escaped = True
            index += 2
        elif char in "'\"":
            close = _closing_quote(command, index)
            body = command[index + 1 : close]
            escaped = escaped or (char == '"' and "\\" in body)
            parts.append(re.sub(r'\\(["\\$`])', r"\1", body) if char == '"' else body)
            quotes += 1
            index = close + 1
        elif char == "$" and command.startswith("$(", index):
            close = command.find(")", index)
            close = length - 1 if close < 0 else close
            parts.append(command[index : close + 1])
            index = close + 1
        else:
            parts.append(char)
            index += 1
    text = "".join(parts)
    quoted = quotes == 1 and not escaped and command[start] in "'\"" and index - start == len(text) + 2
    return Word(text, start, min(index, length), quoted), index


def _closing_quote(command: str, opening: int) -> int:
    """The index of the quote that closes the one at `opening` (a `\\"` does not close `"`), or the end."""
    quote = command[opening]
    index = opening + 1
    while index < len(command):
        if quote == '"' and command[index] == "\\":
            index += 2
            continue
        if command[index] == quote:
            return index
        index += 1
    return len(command)


def _actions_of(words: list[Word], depth: int) -> list[Action]:
    words = _strip_prefixes(words)
    if not words:
        return []
    head = words[0].text
    name = head.rsplit("/", 1)[-1]
    if name in PRINTERS:
        return []
    if name == "cd" and len(words) > 1:
        return [ChangeFolder(words[1].text)]
    if name in SHELLS and any(w.text == "-c" for w in words[1:]):
        return _inline_script(words, depth)
    if name in SHELLS or name in ("source", "."):
        target = next((w for w in words[1:] if not w.text.startswith("-")), None)
        return [ScriptFile(target.text, target.start, target.end)] if target is not None else []
    if head.endswith((".sh", ".bash")):
        found: list[Action] = [ScriptFile(head, words[0].start, words[0].end)]
        return found + _after_double_dash(words, depth)
    if name in WAITERS:
        return _after_double_dash(words, depth)
    prisma = _prisma_command(words)
    if prisma is not None:
        return [prisma]
    call = _script_call(name, [w.text for w in words[1:]])
    return [call] if call is not None else []


def _after_double_dash(words: list[Word], depth: int) -> list[Action]:
    """`./wait-for-it.sh db:5432 -- npx prisma db push`: the command a waiter runs once it is done waiting."""
    texts = [w.text for w in words]
    if "--" not in texts or depth > 4:
        return []
    rest = words[texts.index("--") + 1 :]
    return _actions_of(rest, depth + 1) if rest else []


def _strip_prefixes(words: list[Word]) -> list[Word]:
    """Drop `VAR=value`, shell keywords and wrappers (`exec`, `env`, `cross-env X=1`, `dotenv -e .env --`)."""
    index = 0
    while index < len(words):
        text = words[index].text
        name = text.rsplit("/", 1)[-1]
        if text in KEYWORDS or re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", text) or name in WRAPPERS:
            index += 1
        elif name in DOTENV_WRAPPERS:
            rest = [w.text for w in words[index + 1 :]]
            index = index + 1 + rest.index("--") + 1 if "--" in rest else len(words)
        else:
            break
    return words[index:]


def _inline_script(words: list[Word], depth: int) -> list[Action]:
    """`sh -c "prisma db push && node server.js"`: the actions of the quoted script, offsets moved into it."""
    flag = next(i for i, w in enumerate(words) if w.text == "-c")
    if flag + 1 >= len(words) or depth > 4:
        return []
    script = words[flag + 1]
    inner = actions(script.text, depth + 1)
    if script.quoted:
        return [_shifted(a, script.start + 1) for a in inner]
    return [_pinned(a, script.start, script.end) for a in inner]


def _shifted(action: Action, offset: int) -> Action:
    if isinstance(action, (PrismaCommand, ScriptFile)):
        return type(action)(**{**action.__dict__, "start": action.start + offset, "end": action.end + offset})
    return action


def _pinned(action: Action, start: int, end: int) -> Action:
    if isinstance(action, (PrismaCommand, ScriptFile)):
        return type(action)(**{**action.__dict__, "start": start, "end": end})
    return action


def _prisma_command(words: list[Word]) -> PrismaCommand | None:
    """`prisma db push`, `npx prisma db push`, `pnpm dlx prisma@6 db push`, `node_modules/.bin/prisma db push`."""
    for index, word in enumerate(words):
        if _PRISMA_BINARY.match(word.text) and index + 1 < len(words):
            rest = words[index + 1 :]
            return PrismaCommand(tuple(w.text for w in rest), word.start, rest[-1].end)
    return None


def _script_call(manager: str, arguments: list[str]) -> ScriptCall | None:
    options, positional = _split_options(arguments)
    folder = options.get("--prefix") or options.get("-C") or options.get("--dir") or options.get("--cwd")
    package = options.get("--filter") or options.get("-F") or options.get("-w") or options.get("--workspace")
    if manager in RUN_ALL:
        names = tuple(p for p in positional)
        return ScriptCall(names, folder, package) if names else None
    if manager not in ("npm", "yarn", "pnpm", "bun"):
        return None
    if manager == "yarn" and positional[:1] == ["workspace"] and len(positional) >= 3:
        package, positional = positional[1], positional[2:]
    if not positional:
        return None
    if positional[0] in ("run", "run-script"):
        names = tuple(positional[1:2])
    elif manager == "npm":
        names = (positional[0],) if positional[0] in _NPM_SCRIPT_SHORTHANDS else ()
    elif manager in ("yarn", "pnpm") and positional[0] not in _PM_BUILTINS:
        names = (positional[0],)
    else:
        names = ()
    if not names or names[0].endswith((".js", ".ts", ".mjs", ".cjs")):
        return None
    return ScriptCall(tuple(_NPM_ALIASES.get(n, n) for n in names), folder, package)


def _split_options(arguments: list[str]) -> tuple[dict[str, str], list[str]]:
    options: dict[str, str] = {}
    positional: list[str] = []
    index = 0
    while index < len(arguments):
        argument = arguments[index]
        if argument == "--":
            break
        if argument.startswith("-"):
            key, equals, value = argument.partition("=")
            if equals:
                options[key] = value
            elif key in _OPTIONS_WITH_VALUES and index + 1 < len(arguments):
                options[key] = arguments[index + 1]
                index += 1
        else:
            positional.append(argument)
        index += 1
    return options, positional
