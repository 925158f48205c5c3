"""The sync and async twins expose the same public surface, and the async side copies nothing.

As httpx pins its clients' members (``tests/test_exported_members.py``), these tests fail
when a method is added to one twin and not the other, when their parameters drift apart,
or when a builder is re-implemented on the async frame instead of inherited.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from moltres.async_database import AsyncDatabase
from moltres.database import Database
from moltres.dataframe.async_dataframe import AsyncDataFrame, AsyncDataFrameWriter, Deferred
from moltres.dataframe.async_reader import AsyncDataLoader
from moltres.dataframe.dataframe import DataFrame
from moltres.dataframe.frame import Frame
from moltres.dataframe.reader import DataLoader
from moltres.dataframe.writer import DataFrameWriter
from moltres.io.records import AsyncRecords, Records
from moltres.table.mutations import AsyncDDLOperation, DDLOperation

TWINS = [
    (DataFrame, AsyncDataFrame),
    (Database, AsyncDatabase),
    (Records, AsyncRecords),
    (DDLOperation, AsyncDDLOperation),
    (DataFrameWriter, AsyncDataFrameWriter),
    (DataLoader, AsyncDataLoader),
]

# Sync names whose async twin is still to be written, and why. Each must really be missing on
# the async side, so this list cannot go stale silently.
PENDING: dict[type, dict[str, str]] = {}


def public(cls: type) -> set[str]:
    return {name for name in dir(cls) if not name.startswith("_")}


@pytest.mark.parametrize(("sync", "asynchronous"), TWINS, ids=[s.__name__ for s, _ in TWINS])
def test_twins_have_the_same_public_names(sync: type, asynchronous: type) -> None:
    pending = PENDING.get(sync, {})
    assert public(sync) - set(pending) == public(asynchronous)
    for name in pending:
        assert hasattr(sync, name) and not hasattr(asynchronous, name), f"{name} is no longer pending: remove it"


def _shape(function: Any) -> list[tuple[str, Any, Any]]:
    """Parameter names, kinds and defaults (annotations differ: DataFrame vs AsyncDataFrame)."""
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


@pytest.mark.parametrize(("sync", "asynchronous"), TWINS, ids=[s.__name__ for s, _ in TWINS])
def test_twins_take_the_same_arguments(sync: type, asynchronous: type) -> None:
    for name in sorted(public(sync) & public(asynchronous)):
        mine, theirs = inspect.getattr_static(sync, name), inspect.getattr_static(asynchronous, name)
        if isinstance(mine, property) or isinstance(theirs, property):
            assert isinstance(mine, property) and isinstance(theirs, property), f"{sync.__name__}.{name}"
            continue
        if callable(mine):
            assert callable(theirs), f"{asynchronous.__name__}.{name} is not callable"
            assert _shape(getattr(sync, name)) == _shape(getattr(asynchronous, name)), f"{name} differs"


def test_every_builder_is_inherited_not_copied() -> None:
    builders = public(Frame) - {"write"}
    assert {"select", "where", "join", "group_by", "order_by", "limit", "union", "with_column"} <= builders
    for name in builders:
        assert name not in vars(AsyncDataFrame) and name not in vars(DataFrame), name
        assert inspect.getattr_static(AsyncDataFrame, name) is inspect.getattr_static(Frame, name)


def test_the_async_loader_inherits_every_reader_and_builder() -> None:
    assert {name for name in vars(AsyncDataLoader) if not name.startswith("_")} == set()
    assert AsyncDataLoader.__mro__[1] is DataLoader.__mro__[1]  # both are the one Loader, specialized


def test_async_terminals_are_awaited() -> None:
    terminals = public(AsyncDataFrame) - public(Frame) | {"write"}
    deferred = {"sql", "params", "columns", "schema", "dtypes"}
    for name in sorted(terminals - deferred - {"iter_batches", "write"}):
        assert inspect.iscoroutinefunction(getattr(AsyncDataFrame, name)), name
    for name in deferred:
        assert isinstance(inspect.getattr_static(AsyncDataFrame, name), property), name
        assert "Deferred" in str(inspect.signature(inspect.getattr_static(AsyncDataFrame, name).fget).return_annotation)
    for name in ("execute", "create_dataframe", "tables", "table_exists", "schema", "insert", "update", "delete"):
        assert inspect.iscoroutinefunction(getattr(AsyncDatabase, name)), name
    for name in ("create_table", "drop_table", "create_index"):
        assert inspect.signature(getattr(AsyncDatabase, name)).return_annotation.startswith("mutations.AsyncDDL")


def test_deferred_values_run_nothing_until_awaited() -> None:
    calls: list[int] = []

    async def make() -> int:
        calls.append(1)
        return 42

    value = Deferred(make, "df.columns")
    assert "await" in repr(value) and calls == []
