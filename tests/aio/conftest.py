"""Tests of the asyncio twin, and behaviour tests written once for both modes.

``either`` is a :class:`~moltres.Database` or an :class:`~moltres.AsyncDatabase` on the
test's private namespace (params ``sync`` and ``async``, crossed with every backend). A test
written against it finishes each terminal call with ``await run(...)``, which runs a sync
DDL operation, awaits whatever the async side returns, and passes sync results through; so
the same lines check both modes::

    async def test_filter(either):
        await run(either.create_table("t", [column("a", "INTEGER")]))
        assert await run(either.table("t").count()) == 0
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Callable, Iterable
from typing import TYPE_CHECKING, Any

import pytest

from moltres.table.mutations import AsyncDDLOperation, DDLOperation
from moltres.table.schema import column
from tests._backends import Backend
from tests.conftest import async_dsn

if TYPE_CHECKING:
    from moltres import AsyncDatabase

USERS: list[dict[str, Any]] = [
    {"id": 1, "name": "Ada", "age": 36},
    {"id": 2, "name": "Alan", "age": 41},
    {"id": 3, "name": "Grace", "age": 85},
]
ORDERS: list[dict[str, Any]] = [
    {"id": 10, "user_id": 1, "amount": 10.0, "status": "paid"},
    {"id": 11, "user_id": 1, "amount": 20.0, "status": "paid"},
    {"id": 12, "user_id": 2, "amount": 5.5, "status": "new"},
]


async def run(value: Any) -> Any:
    """Finish a call in either mode: run a sync DDL operation, await an awaitable, else pass it on."""
    if isinstance(value, DDLOperation) and not isinstance(value, AsyncDDLOperation):
        return value.collect()
    if inspect.isawaitable(value):
        return await value
    return value


async def batches(chunks: Iterable[Any] | AsyncIterator[Any]) -> list[Any]:
    """The chunks of a sync iterator or an async one, as a list."""
    if hasattr(chunks, "__aiter__"):
        return [chunk async for chunk in chunks]
    return list(chunks)


async def seed(database: Any) -> None:
    """Create and fill ``users`` and ``orders`` (either mode)."""
    await run(
        database.create_table(
            "users",
            [column("id", "INTEGER", primary_key=True), column("name", "VARCHAR(50)"), column("age", "INTEGER")],
        )
    )
    await run(
        database.create_table(
            "orders",
            [
                column("id", "INTEGER", primary_key=True),
                column("user_id", "INTEGER"),
                column("amount", "DOUBLE"),
                column("status", "VARCHAR(20)"),
            ],
        )
    )
    await run(database.insert("users", USERS))
    await run(database.insert("orders", ORDERS))


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    """Which facade the test gets from ``either``."""
    return str(request.param)


@pytest.fixture
def either(backend: Backend, mode: str, request: pytest.FixtureRequest) -> Any:
    """``db`` in sync mode, ``adb`` in async mode (same private namespace, same backend).

    It names `backend` so that the tests are parametrized over the backends (and `notimpl`
    applies); only the chosen facade is opened.
    """
    return request.getfixturevalue("db" if mode == "sync" else "adb")


@pytest.fixture
async def pooled(adb: AsyncDatabase, dsn: str) -> AsyncIterator[AsyncDatabase]:
    """A second AsyncDatabase on the namespace of `adb`, with a pool of exactly 5 connections."""
    from moltres import async_connect

    database = await async_connect(async_dsn(dsn), pool_size=5, max_overflow=0)
    yield database
    await database.close()


def pool_of(database: AsyncDatabase) -> Any:
    """The connection pool of an AsyncDatabase (``checkedout()`` counts the connections in use)."""
    return database.engine.sync_engine.pool


async def eventually(condition: Callable[[], bool], within: float = 5.0) -> float:
    """Wait until `condition()` holds; return how long it took (fail after `within` seconds)."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > within:
            pytest.fail(f"still not true after {within}s")
        await asyncio.sleep(0.02)
    return time.monotonic() - started
