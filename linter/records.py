"""Frozen, typed records (`linter.model`, `linter.rule.Fact`) without a validation library: importing one
costs nothing, so a run that takes its results from the cache starts at once.

A record is built from keyword arguments, each checked and converted by its annotation as a lax validator
would: a list where a tuple is declared becomes a tuple, a dict where a record is declared becomes that record,
an enum's value becomes the enum, an integral number or numeric text becomes an int; unknown keys, missing
ones and anything else are a `ValidationError` (a `ValueError`), so data that does not describe a record (a
cache entry written by other code) is refused, not half built. `model_copy(update=...)` changes fields without
checking them. `model_dump()` gives plain data (records as dicts, in field order); with `mode="json"`, JSON's
own types (tuples as lists, enums as their values).
"""

from __future__ import annotations

import json
import types
import typing
from enum import Enum
from typing import Any, ClassVar

_MISSING = object()


class ValidationError(ValueError):
    """Values that do not make the record."""


class Frozen:
    """Base of the records: fields from the class's annotations (a value assigned in the class body is the
    default; defaults are never mutated, since records are never changed in place)."""

    _fields: ClassVar[dict[str, Any]] = {}
    _checks: ClassVar[dict[str, Any] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields = dict(cls._fields)
        for name, annotation in cls.__dict__.get("__annotations__", {}).items():
            if name.startswith("_") or str(annotation).startswith(("ClassVar", "typing.ClassVar")):
                continue
            fields[name] = cls.__dict__.get(name, _MISSING)
        cls._fields = fields
        cls._checks = None
        cls.__init__ = Frozen.__init__  # each class makes its own on first use

    def __init__(self, **values: Any) -> None:
        cls = type(self)
        cls.__init__ = _made_init(cls)
        cls.__init__(self, **values)

    @classmethod
    def _checked(cls, name: str, value: Any) -> Any:
        """`value` checked and converted for the field `name` (the slow path of `__init__`)."""
        if value is _MISSING:
            raise ValidationError(f"{cls.__name__}: {name}: field required")
        if cls._checks is None:
            hints = typing.get_type_hints(cls)
            cls._checks = {field: _check_of(hints[field]) for field in cls._fields}
        try:
            return cls._checks[name](value)
        except ValidationError as error:
            raise ValidationError(f"{cls.__name__}: {name}: {error}") from None
        except (TypeError, ValueError, AttributeError) as error:
            raise ValidationError(f"{cls.__name__}: {name}: {type(error).__name__}: {error}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise TypeError(f"{type(self).__name__} is frozen: {name} cannot be set")

    def __delattr__(self, name: str) -> None:
        raise TypeError(f"{type(self).__name__} is frozen: {name} cannot be deleted")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash((type(self), *self.__dict__.values()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{name}={value!r}' for name, value in self.__dict__.items())})"

    def model_copy(self, update: dict[str, Any] | None = None) -> Any:
        """A copy with the fields in `update` replaced (not checked)."""
        copy = object.__new__(type(self))
        state = copy.__dict__
        state.update(self.__dict__)
        if update:
            state.update(update)
        return copy

    def model_dump(self, mode: str = "python", exclude: set[str] | frozenset[str] | None = None) -> dict[str, Any]:
        as_json = mode == "json"
        return {
            name: _dumped(value, as_json) for name, value in self.__dict__.items() if exclude is None or name not in exclude
        }

    def model_dump_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def model_validate(cls, data: Any) -> Any:
        """The record `data` describes: a record of this class, or a dict of its fields."""
        if isinstance(data, cls):
            return data
        if not isinstance(data, dict):
            raise ValidationError(f"{cls.__name__}: expected a dict, not {type(data).__name__}")
        if not all(type(key) is str for key in data):
            raise ValidationError(f"{cls.__name__}: keys must be strings")
        return cls(**data)

    @classmethod
    def model_validate_json(cls, text: str | bytes) -> Any:
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as error:
            raise ValidationError(f"{cls.__name__}: not JSON: {error}") from None
        return cls.model_validate(data)


def _made_init(cls: type[Frozen]):
    """The `__init__` of a record class: a value of exactly the declared type is taken as it is, anything else
    goes through `_checked` (written out per class, as `dataclasses` does: records are made by the hundred
    thousand in a run)."""
    hints = typing.get_type_hints(cls)
    namespace: dict[str, Any] = {"_MISSING": _MISSING, "_unknown": _unknown, "cls": cls}
    parameters, lines = [], []
    for index, (name, default) in enumerate(cls._fields.items()):
        namespace[f"_d{index}"] = default
        parameters.append(f"{name}=_d{index}")
        exact = _exact_type(hints[name])
        slow = f"cls._checked({name!r}, {name})"
        if exact is None:
            lines.append(f"    {name} = {slow}")
        else:
            namespace[f"_t{index}"], optional = exact
            test = f"type({name}) is not _t{index}"
            if optional:
                test = f"{name} is not None and {test}"
            lines.append(f"    if {test}: {name} = {slow}")
        lines.append(f"    state[{name!r}] = {name}")
    source = f"def __init__(self, *, {', '.join(parameters)}, **unknown):\n    if unknown: _unknown(cls, unknown)\n"
    source += "    state = self.__dict__\n" + "\n".join(lines) + "\n"
    exec(source, namespace)  # noqa: S102 (code written here, from the class's own annotations)
    return namespace["__init__"]


def _exact_type(hint: Any) -> tuple[type, bool] | None:
    """(the one type a value may already have to be taken as it is, whether None is allowed too), or None when
    every value must be checked (tuples, dicts, `Any`)."""
    optional = False
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(options) != 1:
            return None
        hint, optional = options[0], True
    if isinstance(hint, type) and typing.get_origin(hint) is None and hint not in (tuple, dict, list):
        return hint, optional
    return None


def _unknown(cls: type, unknown: dict[str, Any]) -> None:
    raise ValidationError(f"{cls.__name__}: {next(iter(unknown))}: unknown key")


def _dumped(value: Any, as_json: bool) -> Any:
    if isinstance(value, Frozen):
        return value.model_dump(mode="json" if as_json else "python")
    if isinstance(value, Enum):
        return value.value if as_json else value
    if isinstance(value, (tuple, list)):
        items = [_dumped(item, as_json) for item in value]
        return items if as_json or type(value) is list else tuple(items)
    if isinstance(value, (set, frozenset)):
        items = [_dumped(item, as_json) for item in value]
        return items if as_json else type(value)(items)
    if isinstance(value, dict):
        return {_dumped(key, as_json) if not as_json else key: _dumped(item, as_json) for key, item in value.items()}
    return value


def _check_of(hint: Any):
    """A function that checks and converts a value for the annotation `hint`."""
    if hint is Any:
        return _any
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        options = [arg for arg in args if arg is not type(None)]
        if len(options) != 1:
            raise TypeError(f"unsupported annotation {hint!r}")
        inner = _check_of(options[0])
        return lambda value: None if value is None else inner(value)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            item = _check_of(args[0])
            return lambda value: tuple(item(v) for v in _sequence(value))
        items = [_check_of(arg) for arg in args]

        def fixed(value: Any) -> tuple:
            values = _sequence(value)
            if len(values) != len(items):
                raise ValidationError(f"expected {len(items)} items, not {len(values)}")
            return tuple(check(v) for check, v in zip(items, values))

        return fixed
    if origin is dict:
        key_check, value_check = (_check_of(arg) for arg in args) if args else (_any, _any)

        def mapping(value: Any) -> dict:
            if not isinstance(value, dict):
                raise ValidationError(f"expected a dict, not {type(value).__name__}")
            return {key_check(k): value_check(v) for k, v in value.items()}

        return mapping
    if isinstance(hint, type):
        if issubclass(hint, Enum):
            return lambda value: value if type(value) is hint else hint(value)
        if issubclass(hint, Frozen):
            return lambda value: value if isinstance(value, hint) else hint.model_validate(value)
        if hint is bool:
            return _bool
        if hint is int:
            return _int
        if hint is str:
            return _str
    raise TypeError(f"unsupported annotation {hint!r}")


def _any(value: Any) -> Any:
    return value


def _sequence(value: Any) -> tuple | list:
    if not isinstance(value, (tuple, list)):
        raise ValidationError(f"expected a list, not {type(value).__name__}")
    return value


def _str(value: Any) -> str:
    if type(value) is str:
        return value
    if isinstance(value, str):
        return str(value.value) if isinstance(value, Enum) else str(value)
    raise ValidationError(f"expected a string, not {type(value).__name__}")


def _int(value: Any) -> int:
    if type(value) is int:
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value)
    raise ValidationError(f"expected an integer, not {type(value).__name__}")


def _bool(value: Any) -> bool:
    if type(value) is bool:
        return value
    if type(value) is int and value in (0, 1):
        return bool(value)
    raise ValidationError(f"expected a boolean, not {type(value).__name__}")
