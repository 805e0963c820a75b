"""`dataclass`, made when the class is first used rather than when its module is imported.

Making a dataclass compiles its methods (`__init__`, `__repr__`, `__eq__`, and for a frozen one `__hash__`,
`__setattr__`, `__delattr__`): about half a millisecond a class on Python 3.11. A run that re-checks a few
edited files imports over a hundred of them and creates instances of about a quarter. Here a class is made a
dataclass in place, by `dataclasses.dataclass` with the same arguments, when its first instance is created (by
a call, a copy or unpickling: all go through `__new__`) or when a class derives from it (so that a subclass made
a dataclass at once finds its fields). Before that, ask nothing of the class that only a dataclass has
(`dataclasses.fields(cls)`): `made(cls)` makes it first.

A class keeps the `__new__` that stood in for it (`object.__new__` itself cannot be put back: CPython keeps
calling a class's `__new__` through Python once one was set), which costs about 0.13 µs an instance (108,000
instances in a cold run of dub: 14 ms, less than the classes it never makes save).
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any, dataclass_transform

_MAKING = threading.RLock()
_PENDING: dict[type, dict[str, Any]] = {}  # a class not made yet -> the arguments it is made with


def _object_new(cls: type, *args: Any, **kwargs: Any) -> Any:
    return object.__new__(cls)  # its arguments are `__init__`'s


@dataclass_transform(field_specifiers=(dataclasses.field, dataclasses.Field))
def dataclass(cls: type | None = None, /, **params: Any):
    """`dataclasses.dataclass(cls, **params)`, done when `cls` is first used."""

    def defer(cls: type) -> type:
        own_hooks = "__init_subclass__" in cls.__dict__ or cls.__new__ not in (object.__new__, _object_new)
        if params.get("slots") or own_hooks:
            return dataclasses.dataclass(cls, **params)  # a class these stand-ins would change
        with _MAKING:
            _PENDING[cls] = params
            cls.__new__ = staticmethod(_new_made)
            cls.__init_subclass__ = classmethod(_subclassed_made)
        return cls

    return defer if cls is None else defer(cls)


def made(cls: type) -> type:
    """`cls`, and the classes it derives from, made the dataclasses they were declared as (once)."""
    with _MAKING:
        for klass in reversed(cls.__mro__):  # a base first: a dataclass takes the fields of its bases
            params = _PENDING.pop(klass, None)
            if params is not None:
                dataclasses.dataclass(klass, **params)
                # Then: a first instance another thread asks for meanwhile waits in `_new_made` for the lock.
                klass.__new__ = staticmethod(_object_new)
                del klass.__init_subclass__
    return cls


def _new_made(cls: type, *args: Any, **kwargs: Any) -> Any:
    made(cls)
    return object.__new__(cls)


def _subclassed_made(cls: type, **kwargs: Any) -> None:
    for base in cls.__mro__[1:]:
        if base in _PENDING:
            made(base)
    super(cls, cls).__init_subclass__(**kwargs)
