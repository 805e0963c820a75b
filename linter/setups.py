"""What each config makes of the rules: the rules it enables, with its options, and its levels.

Configs of several folders may give one rule different options; the rule then runs as several instances, one
per set of options (`Rule.instance`), shared by every config that sets the same. A file's findings come from
the instances its own config enables, so each finding is judged with the config of the file it is in.
"""

from __future__ import annotations


from linter.config import Config, ConfigError, enabled_rules, validate_against_rules
from linter.digests import blake2b
from linter.lazy_dataclasses import dataclass
from linter.model import Level
from linter.registry import LazyRule
from linter.rule import Rule


class NoRuleEnabled(Exception):
    """A config (or the flags) leaves no rule to run: a usage error."""


@dataclass(frozen=True)
class RuleSetup:
    config: Config
    rules: tuple[Rule, ...]  # the enabled instances
    ids: frozenset[str]
    own: frozenset[tuple[str, str]]  # (id, instance) of each enabled rule
    levels: dict[str, Level]  # the levels the config sets
    key: str  # a digest of `own`, for the results cache

    def level_of(self, rule_id: str, default: Level) -> Level:
        return self.levels.get(rule_id, default)


class RuleSetups:
    """The setup of every config of a run, made once per config; the instances they share."""

    def __init__(
        self,
        rule_classes: tuple[type[Rule], ...],
        select: list[str] | None,
        ignore: list[str] | None,
        extend_ignore: list[str],
        explain_error,
    ) -> None:
        self._classes = rule_classes
        self._select, self._ignore, self._extend_ignore = select, ignore, extend_ignore
        self._explain_error = explain_error  # (config, ConfigError) -> ConfigError: says why a rule id may be unknown
        self._by_config: dict[int, RuleSetup] = {}
        self._instances: dict[tuple[str, str], Rule] = {}

    def of(self, config: Config) -> RuleSetup:
        setup = self._by_config.get(id(config))
        if setup is None:
            setup = self._make(config)
            self._by_config[id(config)] = setup
        return setup

    def instances(self) -> list[Rule]:
        """Every rule instance some config enables, in id order."""
        return [self._instances[key] for key in sorted(self._instances)]

    def _make(self, config: Config) -> RuleSetup:
        try:
            options = validate_against_rules(config, self._classes)
        except ConfigError as error:
            raise self._explain_error(config, error) from error
        select = self._select if self._select is not None else config.select
        ignore = (self._ignore if self._ignore is not None else config.ignore) + self._extend_ignore
        chosen = enabled_rules(self._classes, select, ignore)
        if not chosen:
            raise NoRuleEnabled(f"no rule to run: {self._emptied_by(config)} enabled")
        rules = tuple(self._instance(cls, options.get(cls.id)) for cls in chosen)
        own = frozenset((rule.id, rule.instance) for rule in rules)
        key = blake2b(repr(sorted(own)).encode(), digest_size=12).hexdigest()
        ids = frozenset(rule.id for rule in rules)
        return RuleSetup(config=config, rules=rules, ids=ids, own=own, levels=dict(config.levels), key=key)

    def _instance(self, cls: type[Rule], options: object | None) -> Rule:
        """The instance of `cls` with `options` (None: the defaults), shared by every config that sets the same.
        A built-in rule with its defaults is imported only when the run uses it (`registry.DeferredRule`)."""
        if options is None:
            key = (cls.id, "")
            rule = self._instances.get(key)
            if rule is None:
                rule = cls.default_instance() if isinstance(cls, LazyRule) else cls(cls.Options())
                self._instances[key] = rule
            return rule
        written = _options_text(options)
        instance = ""
        if written != _options_text(cls.Options()):
            instance = blake2b(f"{cls.id}\0{written}".encode(), digest_size=6).hexdigest()
        key = (cls.id, instance)
        rule = self._instances.get(key)
        if rule is None:
            rule = cls(options)
            if instance:
                rule.instance = instance
            self._instances[key] = rule
        return rule

    def _emptied_by(self, config: Config) -> str:
        where = config.source or "configuration"
        select = "--select" if self._select is not None else f"{where} key 'select'" if config.select else None
        ignore = "--ignore" if self._ignore is not None else f"{where} key 'ignore'" if config.ignore else None
        parts = [part for part in (select, ignore) if part]
        return f"{' and '.join(parts)} leave none" if len(parts) != 1 else f"{parts[0]} leaves none"


def _options_text(options: object) -> str:
    dump = getattr(options, "model_dump_json", None)  # a pydantic model's
    return dump() if dump is not None else repr(options)
