"""The base of rules' options (a pydantic model: config files are validated with it), apart from `linter.rule`
so that only a run that reads or builds options imports pydantic."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class RuleOptions(BaseModel):
    """Base for a rule's options: keys are kebab-case in config files, unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", alias_generator=lambda name: name.replace("_", "-"), frozen=True)
