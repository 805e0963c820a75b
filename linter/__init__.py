"""loadlint: a linter for Express, Next.js and Prisma repositories."""

import os as _os
import sys as _sys

__version__ = "0.1.0"

# The project's public home. Unset until it has one: SARIF then carries no `informationUri` and no rule
# `helpUri` (rule help travels inside the log as `help.markdown`, and in `loadlint explain`). Set it here, once.
PROJECT_URL: str | None = None


def _map_checkout_rule_pack() -> None:
    """The wheel installs the rule pack as `linter/rules`; a checkout keeps it beside this package, in `rules/`.
    Give it the installed name there too, so that rules import their helpers the same way in both."""
    here = _os.path.dirname(__file__)
    pack = _os.path.join(_os.path.dirname(here), "rules")
    if "linter.rules" in _sys.modules or _os.path.isdir(_os.path.join(here, "rules")):
        return
    if not _os.path.isfile(_os.path.join(pack, "__init__.py")):
        return
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "linter.rules", _os.path.join(pack, "__init__.py"), submodule_search_locations=[pack]
    )
    module = importlib.util.module_from_spec(spec)
    _sys.modules["linter.rules"] = module
    spec.loader.exec_module(module)


_map_checkout_rule_pack()
