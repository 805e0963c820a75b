"""`linter.lazy_dataclasses.dataclass`: a class is made the dataclass it declares when first used, and then
behaves as `dataclasses.dataclass` would have made it at once."""

from __future__ import annotations

import copy
import dataclasses
import importlib
import pickle
import pkgutil
import sys
import threading
import types
from dataclasses import field

import pytest

import linter
from linter import lazy_dataclasses
from linter.lazy_dataclasses import dataclass, made


def _declare_point(lazy):
    decorate = dataclass if lazy else dataclasses.dataclass

    @decorate(frozen=True)
    class Point:
        x: int
        y: int = 0
        tags: list = field(default_factory=list)

    return Point


def test_a_class_is_made_at_its_first_instance_and_then_is_the_dataclass_it_declares():
    Point, Eager = _declare_point(lazy=True), _declare_point(lazy=False)
    assert Point in lazy_dataclasses._PENDING and not dataclasses.is_dataclass(Point)

    point = Point(1, tags=["a"])

    assert Point not in lazy_dataclasses._PENDING and dataclasses.is_dataclass(Point)
    assert [(f.name, f.default) for f in dataclasses.fields(Point)] == [
        (f.name, f.default) for f in dataclasses.fields(Eager)
    ]
    assert repr(point) == repr(Eager(1, tags=["a"])) == "_declare_point.<locals>.Point(x=1, y=0, tags=['a'])"
    assert point == Point(1, 0, ["a"]) and point != Point(2)
    assert hash(Point(1, 2, ())) == hash(Point(1, 2, ()))
    with pytest.raises(dataclasses.FrozenInstanceError):
        point.x = 3
    with pytest.raises(TypeError):
        Point(1, 2, [], 4)
    assert dataclasses.replace(point, y=5) == Point(1, 5, ["a"])
    assert copy.deepcopy(point) == point


def test_a_mutable_dataclass_is_made_too():
    @dataclass
    class Counter:
        count: int = 0

    counter = Counter()
    counter.count += 1
    assert counter == Counter(1) and repr(counter).endswith("Counter(count=1)")


def test_a_class_deriving_from_one_not_yet_made_finds_its_fields_made_lazily_or_at_once():
    @dataclass(frozen=True)
    class Base:
        a: int

    @dataclass(frozen=True)
    class Lazy(Base):
        b: int = 0

    assert Base not in lazy_dataclasses._PENDING  # made when Lazy derived from it
    assert Lazy in lazy_dataclasses._PENDING

    @dataclasses.dataclass(frozen=True)
    class Eager(Lazy):
        c: int = 0

    assert [f.name for f in dataclasses.fields(Eager)] == ["a", "b", "c"]
    assert Eager(1, 2, 3) == Eager(a=1, b=2, c=3) and Lazy(1) == Lazy(1, 0)
    assert [f.name for f in dataclasses.fields(Lazy)] == ["a", "b"]


def test_an_instance_unpickled_into_a_class_not_yet_made_is_whole(monkeypatch):
    source = "from linter.lazy_dataclasses import dataclass\n@dataclass(frozen=True)\nclass Kept:\n    name: str\n"

    def fresh_module():
        module = types.ModuleType("lazy_dataclass_probe")
        exec(compile(source, "<probe>", "exec"), module.__dict__)
        monkeypatch.setitem(sys.modules, module.__name__, module)
        return module

    sent = pickle.dumps(fresh_module().Kept("cache"))
    receiving = fresh_module().Kept  # as in a process that has not made the class
    assert receiving in lazy_dataclasses._PENDING

    got = pickle.loads(sent)

    assert receiving not in lazy_dataclasses._PENDING  # unpickling made it
    assert type(got) is receiving and got == receiving("cache") and hash(got) == hash(receiving("cache"))
    assert repr(got) == "Kept(name='cache')"


def test_threads_creating_the_first_instances_at_once_all_get_whole_instances():
    @dataclass(frozen=True)
    class Shared:
        value: int

    barrier = threading.Barrier(8)
    got, failed = [], []

    def create():
        barrier.wait()
        try:
            got.append(Shared(7))
        except Exception as error:  # noqa: BLE001 (the test reports any)
            failed.append(error)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failed == [] and got == [Shared(7)] * 8


def test_classes_it_cannot_stand_in_for_are_made_at_once():
    @dataclass
    class Failure(Exception):  # BaseException has a __new__ of its own
        code: int = 0

    @dataclass(slots=True)
    class Slotted:
        value: int = 0

    assert dataclasses.is_dataclass(Failure) and dataclasses.is_dataclass(Slotted)
    assert Failure(3).code == 3 and Slotted(2).value == 2


def test_every_dataclass_the_linter_declares_can_be_made():
    """Errors `dataclasses.dataclass` raises at import (a mutable default, a field order) would otherwise show
    only at a class's first use."""
    declared = []
    rules = importlib.import_module("linter.rules")  # beside the package in a checkout, inside it when installed
    modules = [*pkgutil.walk_packages(linter.__path__, "linter."), *pkgutil.walk_packages(rules.__path__, "linter.rules.")]
    for info in modules:
        if info.name == "linter.__main__":  # it runs the command line
            continue
        module = importlib.import_module(info.name)
        declared.extend(
            value
            for value in vars(module).values()
            if isinstance(value, type) and value.__module__ == info.name
            and (value in lazy_dataclasses._PENDING or dataclasses.is_dataclass(value))
        )
    assert len(declared) > 130  # the walk found the rules' helpers too
    for cls in declared:
        assert dataclasses.is_dataclass(made(cls)), cls
