"""Environment reads: is this expression a setting from the environment, and which one?

Recognised in one file: `process.env.X`, `process.env['X']`, `import.meta.env.X`; aliases of the env object
(`const env = process.env`, `const { env } = process`, `import { env } from 'node:process'`, a validated copy such
as `const env = schema.parse(process.env)` or `cleanEnv(process.env, …)`, and `env` imported from a local `env`
module as t3-env apps do); locals holding one variable (`const { JWT_SECRET } = process.env`,
`let secret = process.env.JWT_SECRET`); and config objects
built from it in the same file (`const config = { jwt: { secret: process.env.JWT_SECRET } }` makes
`config.jwt.secret` a read of `JWT_SECRET`). Config read across files (`config.jwt.secret` with `config` imported
from a local module, `configService.get('JWT_SECRET')`) is a `setting_name` but not an `env_var_name`.
"""

from __future__ import annotations

import re
from dataclasses import field
from functools import lru_cache
from typing import TYPE_CHECKING

from linter import lazy_re
from linter.js.expressions import arguments_of, callee, member_chain, member_object, object_keys, property_name, unwrap
from linter.js.imports import destructured_names, string_value
from linter.lazy_dataclasses import dataclass
from linter.syntax import Node, compile_query, text

if TYPE_CHECKING:
    from linter.context import FileContext

PROCESS_MODULES = ("process", "node:process")
# Locals that name a settings object by convention, when it comes from another file.
CONFIG_OBJECT_NAMES = frozenset({"config", "conf", "cfg", "configuration", "settings", "env", "appConfig"})
_LOCAL_MODULE = lazy_re.compile(r"^(\.|@/|~/|#|src/)")
_ENV_MODULE = lazy_re.compile(r"(^|/)env(\.[cm]?[jt]s)?$")
_CONFIG_MODULE = lazy_re.compile(r"(config|env|settings|secrets)", re.IGNORECASE)
_CONFIG_GETTERS = frozenset({"get"})


@dataclass
class EnvAliases:
    env_objects: set[str] = field(default_factory=set)  # locals holding the env object or a validated copy
    env_vars: dict[str, str] = field(default_factory=dict)  # local → env var it was destructured or copied from
    config_objects: dict[str, Node] = field(default_factory=dict)  # local → the object literal it was set to


@lru_cache(maxsize=None)
def _declarators(language: str):
    return compile_query("(variable_declarator) @declarator", language)


def env_aliases(file: "FileContext") -> EnvAliases:
    """The file's aliases of the env object, names destructured from it, and object literals by name."""
    return file.memo("js.env.aliases", lambda: _collect_aliases(file))


def _collect_aliases(file: "FileContext") -> EnvAliases:
    aliases = EnvAliases()
    if b"env" not in file.source:
        return aliases
    declared: set[str] = set()
    declared_twice: set[str] = set()  # the index has no scopes: a name declared twice means nothing for sure
    imported = _imported_env_or_process(file)
    for _, captures in _declarators(file.language).matches(file.root):
        declarator = captures["declarator"][0]
        name = declarator.child_by_field_name("name")
        value = _declared_value(declarator)
        if name is None or value is None:
            continue
        if name.type == "identifier":
            (declared_twice if text(name) in declared else declared).add(text(name))
        if not _may_read_env(file.source, value, imported, aliases):
            if name.type == "identifier" and value.type == "object":
                aliases.config_objects[text(name)] = value
            continue
        if _is_env_object(value, file, aliases) or _is_env_copy(value, file, aliases):
            if name.type == "identifier":
                aliases.env_objects.add(text(name))
            elif name.type == "object_pattern":
                for local, prop in destructured_names(name):
                    aliases.env_vars[local] = prop
        elif name.type == "object_pattern" and _is_process(value, file):
            aliases.env_objects.update(local for local, prop in destructured_names(name) if prop == "env")
        elif name.type == "identifier" and property_name(value) and _is_env_object(member_object(value), file, aliases):
            aliases.env_vars[text(name)] = property_name(value)
        elif name.type == "identifier" and value.type == "object":
            aliases.config_objects[text(name)] = value
    for local in declared_twice:
        aliases.env_vars.pop(local, None)
        aliases.config_objects.pop(local, None)
    return aliases


def _imported_env_or_process(file: "FileContext") -> list[bytes] | None:
    """The locals the file imports that `_is_env_object` or `_is_process` may take for the env object or
    `process` (`import { env as e } from 'node:process'`, `import env from './env'`), as bytes; None when one
    of them is no valid UTF-8 (its text, read with replacement characters, is not found in the bytes)."""
    names = set()
    for binding in file.import_bindings:
        if binding.module in PROCESS_MODULES or (_LOCAL_MODULE.match(binding.module) and _ENV_MODULE.search(binding.module)):
            names.add(binding.local)
    if any("\ufffd" in name for name in names):
        return None
    return [name.encode() for name in sorted(names)]


def _may_read_env(source: bytes, value: Node, imported: list[bytes] | None, aliases: EnvAliases) -> bool:
    """Whether the declared `value` may be read from the environment (`_collect_aliases`' env branches): its
    text names `env`, `process`, a local alias of the env object or an import that may be one. Every node
    `_is_env_object`, `_is_env_copy` and `_is_process` look at lies within it."""
    start, end = value.start_byte, value.end_byte
    if source.find(b"env", start, end) >= 0 or source.find(b"process", start, end) >= 0 or imported is None:
        return True
    if any(source.find(name, start, end) >= 0 for name in imported):
        return True
    return any("\ufffd" in name or source.find(name.encode(), start, end) >= 0 for name in aliases.env_objects)


def may_declare_an_alias(declarator: Node) -> bool:
    """Whether `env_aliases` may take what `declarator` declares for a name read from the environment or a
    config object: it destructures, or copies a property or an object literal."""
    name = declarator.child_by_field_name("name")
    value = _declared_value(declarator)
    if name is None or value is None:
        return False
    return name.type == "object_pattern" or value.type in ("member_expression", "subscript_expression", "object")


def _declared_value(declarator: Node) -> Node | None:
    value = unwrap(declarator.child_by_field_name("value"))
    if value is not None and value.type == "await_expression" and value.named_children:
        value = unwrap(value.named_children[-1])
    return value


def _is_process(node: Node | None, file: "FileContext") -> bool:
    node = unwrap(node)
    if node is None:
        return False
    if node.type == "identifier":
        binding = file.binding(text(node))
        if binding is None:
            return text(node) == "process"
        return binding.module in PROCESS_MODULES and binding.imported in ("*", "default")
    return node.type == "member_expression" and property_name(node) == "process" and text(member_object(node)) == "globalThis"


def _is_env_object(node: Node | None, file: "FileContext", aliases: EnvAliases) -> bool:
    node = unwrap(node)
    if node is None:
        return False
    if node.type == "identifier":
        local = text(node)
        if local in aliases.env_objects:
            return True
        binding = file.binding(local)
        if binding is None:
            return False
        if binding.module in PROCESS_MODULES:
            return binding.imported == "env"
        return bool(_LOCAL_MODULE.match(binding.module) and _ENV_MODULE.search(binding.module)) and binding.imported in (
            "env",
            "default",
        )
    if node.type != "member_expression" or property_name(node) != "env":
        return False
    owner = member_object(node)
    return owner is not None and (owner.type == "meta_property" or _is_process(owner, file))


def _is_env_copy(value: Node, file: "FileContext", aliases: EnvAliases) -> bool:
    """`schema.parse(process.env)`, `cleanEnv(process.env, {...})`, `createEnv({ runtimeEnv: process.env })`."""
    if value.type != "call_expression":
        return False
    for argument in arguments_of(value):
        argument = unwrap(argument)
        if _is_env_object(argument, file, aliases):
            return True
        if argument is not None and argument.type == "object":
            if any(_is_env_object(v, file, aliases) for v in object_keys(argument).values()):
                return True
    return False


def is_env_object(node: Node | None, file: "FileContext") -> bool:
    """`process.env`, `import.meta.env`, or a local alias / validated copy of it."""
    return _is_env_object(node, file, env_aliases(file))


def env_var_name(node: Node | None, file: "FileContext") -> str | None:
    """`"JWT_SECRET"` when `node` reads that environment variable (directly or through a same-file alias)."""
    node = unwrap(node)
    if node is None:
        return None
    aliases = env_aliases(file)
    if node.type == "identifier":
        return aliases.env_vars.get(text(node))
    name = property_name(node)
    if name is None:
        return None
    if _is_env_object(member_object(node), file, aliases):
        return name
    value = _config_value(node, aliases)
    if value is None:
        return None
    if value.type == "binary_expression":  # `{ secret: process.env.JWT_SECRET || 'dev' }`
        value = unwrap(value.child_by_field_name("left"))
    if value is None:
        return None
    if value.type == "identifier":
        return aliases.env_vars.get(text(value))
    name = property_name(value)
    return name if name is not None and _is_env_object(member_object(value), file, aliases) else None


def _config_value(node: Node, aliases: EnvAliases) -> Node | None:
    """The value `config.jwt.secret` has in `const config = { jwt: { secret: … } }` in this file."""
    node, path = member_chain(node)
    if node is None or node.type != "identifier" or text(node) not in aliases.config_objects:
        return None
    value: Node | None = aliases.config_objects[text(node)]
    for key in path:
        value = unwrap(value)
        if value is None or value.type != "object":
            return None
        value = object_keys(value).get(key)
    return unwrap(value)


def setting_name(node: Node | None, file: "FileContext") -> str | None:
    """A name for the setting `node` reads: the env var, else a config read such as `config.jwt.secret`
    (`config` named so, or imported from a local config/env/settings module) or
    `configService.get('JWT_SECRET')`."""
    name = env_var_name(node, file)
    if name is not None:
        return name
    node = unwrap(node)
    if node is None:
        return None
    if node.type == "call_expression":
        return config_getter_key(node)
    if node.type != "member_expression":
        return None
    root = node
    while root is not None and root.type in ("member_expression", "subscript_expression"):
        root = member_object(root)
    if root is None or root.type != "identifier":
        return None
    local = text(root)
    binding = file.binding(local)
    if binding is None:
        return text(node) if local in CONFIG_OBJECT_NAMES else None
    if _LOCAL_MODULE.match(binding.module) and (local in CONFIG_OBJECT_NAMES or _CONFIG_MODULE.search(binding.module)):
        return text(node)
    return None


def config_getter_key(call: Node) -> str | None:
    """`"JWT_SECRET"` for `configService.get('JWT_SECRET')` or `config.get('jwt.secret')`: a getter on an
    object whose name says it holds configuration."""
    function = callee(call)
    if function is None or function.type != "member_expression" or property_name(function) not in _CONFIG_GETTERS:
        return None
    owner = member_object(function)
    owner_name = property_name(owner) if owner is not None and owner.type == "member_expression" else text(owner)
    if not owner_name or "config" not in owner_name.lower():
        return None
    arguments = arguments_of(call)
    return string_value(unwrap(arguments[0])) if arguments else None
