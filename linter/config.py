"""Configuration: `.loadlint.toml` / `loadlint.toml`, or a `"loadlint"` key in `package.json`.

Precedence: defaults < file < command-line flags. Unknown keys and unknown rule ids are errors that name
the file and the key. The file comes from the repository being linted, which may be hostile: numbers and
flags are taken only with their own types (`true` is not 1), globs are checked when the file is read, and a
config path that holds anything but a regular file (a folder, a FIFO, a link out of the root) is an error,
never opened.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from linter.config_defaults import DEFAULT_MAX_FILE_SIZE, DEFAULT_OUTPUT_DIRS
from linter.model import Level
from linter.rule import Rule
from linter.terminal_text import printable
from linter.safe_read import ReadRefused, read_named_file, read_repository_file

CONFIG_FILE_NAMES = (".loadlint.toml", "loadlint.toml")
MAX_CONFIG_BYTES = 2_000_000  # a config file, or a package.json read for its "loadlint" key

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError


class ConfigError(Exception):
    """A configuration problem, as one line naming the file, the key and what is wrong."""


class Config:
    """The settings of one config file, or the defaults. A file's settings are checked by the pydantic model
    `linter.config_model.Config` (`Config.model_validate`), imported only then: a run without a config file
    does not import pydantic."""

    def __init__(self) -> None:
        self.select: list[str] | None = None
        self.ignore: list[str] = []
        self.exclude: list[str] = []
        self.per_file_ignores: dict[str, list[str]] = {}
        self.levels: dict[str, Level] = {}
        self.fail_on: Level = Level.WARNING
        self.max_file_size: int = DEFAULT_MAX_FILE_SIZE
        self.output_dirs: list[str] = list(DEFAULT_OUTPUT_DIRS)
        # The baseline file `loadlint check` reads when no --baseline is given, relative to this file.
        self.baseline: str | None = None
        # Loaded only with --trust-config-rules: the file may come from a stranger's pull request.
        self.rules_dir: str | None = None
        self.rules: dict[str, dict[str, Any]] = {}
        # Where the settings came from, for messages and for resolving relative paths; not keys.
        self._source: str | None = None
        self._base_dir: Path | None = None

    @classmethod
    def model_validate(cls, raw: object) -> "Config":
        """The settings `raw` (a config file's data) holds; a pydantic `ValidationError` when it holds others."""
        from linter.config_model import Config as Checked

        checked = Checked.model_validate(raw)
        config = cls()
        for name in Checked.model_fields:
            setattr(config, name, getattr(checked, name))
        return config

    @classmethod
    def model_json_schema(cls, **kwargs: Any) -> dict[str, Any]:
        from linter.config_model import Config as Checked

        return Checked.model_json_schema(**kwargs)

    @property
    def source(self) -> str | None:
        return self._source

    @property
    def base_dir(self) -> Path | None:
        return self._base_dir

    def located(self, source: str | None, base_dir: Path) -> "Config":
        self._source, self._base_dir = source, base_dir
        return self


class _ModelFields:
    """`Config.model_fields`: the keys of the pydantic model."""

    def __get__(self, instance: object, owner: type) -> dict[str, Any]:
        from linter.config_model import Config as Checked

        return Checked.model_fields


Config.model_fields = _ModelFields()  # type: ignore[attr-defined]


def find_config_file(start: Path, root: Path) -> tuple[Path, str] | None:
    """The first config from `start` up to `root`: (path, kind) with kind 'toml' or 'package.json'.
    A config name that holds something loadlint must not read is an error, not a file to skip."""
    folder = start
    while True:
        found = config_file_in(folder, root)
        if found is not None:
            return found
        if folder == root or root not in folder.parents:
            return None
        folder = folder.parent


def config_file_in(folder: Path, root: Path) -> tuple[Path, str] | None:
    """The config file of `folder` itself: (path, kind), or None."""
    for name in CONFIG_FILE_NAMES:
        candidate = folder / name
        if not os.path.lexists(candidate):
            continue
        problem = _config_path_problem(candidate, root)
        if problem is not None:
            raise ConfigError(f"{printable(_relative(candidate, root))}: {problem}")
        return candidate, "toml"
    manifest = folder / "package.json"
    # A manifest loadlint cannot read is reported by discovery; it holds no settings here.
    readable = os.path.lexists(manifest) and _config_path_problem(manifest, root) is None
    if readable and _manifest_has_settings(manifest, root):
        return manifest, "package.json"
    return None


def _config_path_problem(path: Path, root: Path) -> str | None:
    """None when `path` is a regular file loadlint may read, else what is wrong. Looks without opening: opening
    a FIFO blocks."""
    try:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            target = Path(os.path.realpath(path))
            if target != root and root not in target.parents:
                return "not read: it is a symbolic link to outside the root"
            info = os.stat(path)
    except OSError as error:
        return f"cannot read: {error.strerror or error}"
    return None if stat.S_ISREG(info.st_mode) else "not a regular file"


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _manifest_has_settings(manifest: Path, root: Path) -> bool:
    try:
        data = json.loads(read_repository_file(manifest, root, MAX_CONFIG_BYTES).decode("utf-8-sig"))
    except (ReadRefused, ValueError, RecursionError):  # the project index reports what is wrong with it
        return False
    return isinstance(data, dict) and "loadlint" in data


def load_config(path: Path | None, kind: str = "toml", display: str | None = None, root: Path | None = None) -> Config:
    """The settings in `path`: a file of the repository at `root` (found by `find_config_file`), or, without
    `root`, one the user named. Either must be a regular file; the repository's, inside the root."""
    if path is None:
        return Config()
    display = printable(display or str(path))
    syntax = "TOML" if kind == "toml" else "JSON"
    try:
        if root is not None:
            data = read_repository_file(path, root, MAX_CONFIG_BYTES)
        else:
            data = read_named_file(path, MAX_CONFIG_BYTES)
        # A byte-order mark is accepted in both kinds, as editors on Windows write one.
        text = data.decode("utf-8-sig")
        if kind == "toml":
            import tomllib  # here: most runs read no config file

            raw: object = tomllib.loads(text)
        else:
            manifest = json.loads(text)
            raw = manifest.get("loadlint") if isinstance(manifest, dict) else None
    except ReadRefused as error:
        raise ConfigError(f"{display}: {error}") from error
    except UnicodeDecodeError as error:
        raise ConfigError(f"{display}: not UTF-8 text") from error
    except ValueError as error:  # tomllib.TOMLDecodeError among them
        raise ConfigError(f"{display}: not valid {syntax}: {error}") from error
    except RecursionError as error:
        raise ConfigError(f"{display}: not valid {syntax}: nested too deeply") from error
    if kind == "package.json" and not isinstance(raw, dict):
        raise ConfigError(f'{display}: key "loadlint": must be an object')
    from pydantic import ValidationError

    try:
        config = Config.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(f"{display}: {describe_validation_error(error)}") from error
    return config.located(display, path.parent)


def describe_validation_error(error: ValidationError, prefix: tuple = ()) -> str:
    first = error.errors()[0]
    location = printable(".".join(str(part) for part in (*prefix, *first["loc"])))
    problem = "unknown key" if first["type"] == "extra_forbidden" else first["msg"].removeprefix("Value error, ")
    return f"key '{location}': {problem}" if location else problem


def matches_selector(rule_id: str, selector: str) -> bool:
    """`auth` selects every `auth/...` rule; a full id selects that rule; `all` selects everything."""
    selector = selector.strip().rstrip("/")
    return selector == "all" or rule_id == selector or rule_id.startswith(selector + "/")


def check_selectors(selectors: list[str], rule_ids: list[str], where: str) -> None:
    for selector in selectors:
        if not any(matches_selector(rule_id, selector) for rule_id in rule_ids):
            raise ConfigError(f"{where}: unknown rule or family '{printable(selector)}'")


def validate_against_rules(config: Config, rules: tuple[type[Rule], ...]) -> dict[str, BaseModel]:
    """Check every rule id the config names and build each rule's options; returns options by rule id."""
    rule_ids = [rule.id for rule in rules]
    where = config.source or "configuration"
    check_selectors(config.select or [], rule_ids, f"{where}: key 'select'")
    check_selectors(config.ignore, rule_ids, f"{where}: key 'ignore'")
    for pattern, selectors in config.per_file_ignores.items():
        check_selectors(selectors, rule_ids, f"{where}: key 'per-file-ignores.{printable(pattern)}'")
    for rule_id in config.levels:
        if rule_id not in rule_ids:
            raise ConfigError(f"{where}: key 'levels.{printable(rule_id)}': unknown rule")
    options: dict[str, BaseModel] = {}
    if not config.rules:
        return options
    from pydantic import ValidationError

    by_id = {rule.id: rule for rule in rules}
    for rule_id, raw in config.rules.items():
        if rule_id not in by_id:
            raise ConfigError(f"{where}: key 'rules.{printable(rule_id)}': unknown rule")
        try:
            options[rule_id] = by_id[rule_id].Options.model_validate(raw)
        except ValidationError as error:
            raise ConfigError(f"{where}: {describe_validation_error(error, ('rules', rule_id))}") from error
    return options


def enabled_rules(rules: tuple[type[Rule], ...], select: list[str] | None, ignore: list[str]) -> list[type[Rule]]:
    chosen = []
    for rule in rules:
        if select is not None and not any(matches_selector(rule.id, s) for s in select):
            continue
        if any(matches_selector(rule.id, s) for s in ignore):
            continue
        chosen.append(rule)
    return chosen
