"""Which config applies to each file: the nearest config file above it, up to the root, as Ruff does (the root's
own config, or the defaults, when no folder between has one), or, for every file, the one named with --config.

A nested config replaces the one above it for its folder; nothing is inherited. Every config a run meets is
read whole and checked, so a broken one stops the run (exit 2) whatever paths were given: a file's findings
never depend on which other files were linted with it.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

from linter.config import Config, config_file_in, load_config


class ConfigTree:
    def __init__(self, root: Path, named: Config | None = None) -> None:
        self.root = root
        self._named = named
        self._by_folder: dict[str, Config] = {}
        self._configs: list[Config] = [named] if named is not None else []
        self._without_config: set[str] = set()  # folders a walk listed with no entry named as a config

    def for_path(self, path: str) -> Config:
        """The config of a file, by its path relative to the root."""
        return self.for_folder(posixpath.dirname(path))

    def for_folder(self, folder: str) -> Config:
        """The config of a folder relative to the root ("" for the root)."""
        if self._named is not None:
            return self._named
        config = self._by_folder.get(folder)
        if config is not None:
            return config
        pending = []
        current = folder
        while (config := self._by_folder.get(current)) is None:
            pending.append(current)
            if not current:
                break
            current = posixpath.dirname(current)
        for unresolved in reversed(pending):
            config = self._own(unresolved) or config
            if config is None:  # the root, without a config of its own
                config = Config().located(None, self.root)
                self._configs.append(config)
            self._by_folder[unresolved] = config
        return config

    def use_listing(self, listed_folders: set[str], config_folders: set[str]) -> None:
        """What a walk saw (`linter.discovery.Discovered`): the folders it listed, and those of them holding an
        entry with a config's name. The others are not looked in for a config file again."""
        self._without_config = listed_folders - config_folders

    def configs(self) -> list[Config]:
        """Every config met so far, in the order they were first needed."""
        return list(self._configs)

    def state(self) -> tuple:
        """What the tree has learned, for a copy of it in another process to hand back (`take_state`)."""
        return self._by_folder, self._configs, self._without_config

    def take_state(self, state: tuple, known: int) -> None:
        """Take what a copy of this tree (forked when it held its first `known` configs) has learned: the
        configs it read since, and this tree's own config objects where the copy held copies of them."""
        by_folder, configs, without_config = state
        own = {id(copy): config for copy, config in zip(configs[:known], self._configs)}
        self._by_folder = {folder: own.get(id(config), config) for folder, config in by_folder.items()}
        self._configs = [*self._configs[:known], *configs[known:]]
        self._without_config = without_config

    def _own(self, folder: str) -> Config | None:
        if folder in self._without_config:
            return None
        located = config_file_in(self.root / folder if folder else self.root, self.root)
        if located is None:
            return None
        path, kind = located
        config = load_config(path, kind, display=_display(path, self.root), root=self.root)
        self._configs.append(config)
        return config


def _display(path: Path, root: Path) -> str:
    return os.path.relpath(path, root).replace(os.sep, "/")
