"""Async reads outside a transaction take the sync executor's direct path, and behave like any read.

``AsyncExecutor.fetch_all`` runs such reads through the sync executor's own ``_fetch_direct``
in a greenlet, on a pooled connection of the async engine: no SQLAlchemy ``Connection``, no
BEGIN or ROLLBACK, one trip to aiosqlite's thread. These tests hold it to the same rows,
types, errors and connection hygiene as reads inside a transaction (SQLAlchemy's path).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import sqlalchemy as sa

from moltres import AsyncDatabase, async_connect, col
from moltres.table.schema import column
from moltres.utils.exceptions import MoltresError, TableNotFoundError
from tests.aio.conftest import pool_of
from tests.conftest import async_dsn
from tests.engine.test_read_path import COLUMNS, ROWS  # the table of the sync twin of these tests

pytestmark = pytest.mark.anyio


@pytest.fixture
async def people(adb: AsyncDatabase) -> AsyncDatabase:
    await adb.create_table("people", COLUMNS)
    await adb.insert("people", ROWS)
    return adb


def booleans(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """MariaDB hands BOOLEAN back as 1/0 on both paths: compare as bools."""
    return [{k: bool(v) if k == "active" and v is not None else v for k, v in row.items()} for row in rows]


async def test_rows_and_types_match_a_read_inside_a_transaction(people: AsyncDatabase) -> None:
    df = people.table("people").order_by("id")
    outside = await df.collect()
    async with people.transaction():
        inside = await df.collect()
    assert outside == inside and booleans(outside) == ROWS
    assert [[type(v) for v in row.values()] for row in outside] == [[type(v) for v in row.values()] for row in inside]
    assert isinstance(outside[0]["born"], dt.date)


async def test_new_values_limits_and_in_lists(people: AsyncDatabase) -> None:
    names = [await people.table("people").where(col("id") == i).select("name").collect() for i in (1, 2, 3, 4)]
    assert names == [[{"name": "Ada"}], [{"name": "Alan"}], [{"name": None}], []]
    df = people.table("people").where(col("id").isin([1, 3])).order_by(col("id").desc())
    assert [r["id"] for r in await df.collect()] == [3, 1]  # an IN list: SQLAlchemy's path
    assert [r["id"] for r in await df.limit(1).collect()] == [3]
    assert await people.table("people").count() == 3
    assert await people.sql("SELECT name FROM people WHERE id = :id", id=2).collect() == [{"name": "Alan"}]


async def test_a_read_is_one_trip_to_aiosqlites_thread(people: AsyncDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
    if people.dialect_name != "sqlite":
        pytest.skip("aiosqlite runs SQLite's calls on a thread of its own")
    import aiosqlite

    trips = 0
    execute = aiosqlite.Connection._execute

    def counted(self: Any, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Awaitable[Any]:
        nonlocal trips
        trips += 1
        return execute(self, fn, *args, **kwargs)

    frame = people.table("people").where(col("id") == 1).select("name")
    assert await frame.collect() == [{"name": "Ada"}]  # compiled and cached
    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    assert await frame.collect() == [{"name": "Ada"}]
    assert trips == 1  # no cursor, BEGIN, fetch, close or ROLLBACK trips of their own


async def test_a_read_sends_no_begin_on_postgresql(people: AsyncDatabase, dsn: str) -> None:
    if people.engine.dialect.driver != "asyncpg":
        pytest.skip("asyncpg's query logger shows the statements a connection sends")
    single = await async_connect(async_dsn(dsn), pool_size=1, max_overflow=0)  # one connection to watch
    try:
        sent: list[str] = []
        async with single.engine.connect() as conn:
            driver: Any = (await conn.get_raw_connection()).driver_connection
            driver.add_query_logger(lambda record: sent.append(record.query.strip().rstrip(";").upper()))
        frame = single.table("people").where(col("id") == 1).select("name")
        assert await frame.collect() == [{"name": "Ada"}]  # compiled (reflecting through SQLAlchemy)
        sent.clear()
        assert await frame.collect() == [{"name": "Ada"}]
        assert "BEGIN" not in sent and "ROLLBACK" not in sent
        async with single.transaction():
            assert await frame.collect() == [{"name": "Ada"}]
        assert sent == ["BEGIN", "COMMIT"]  # the logger does see what a transaction sends
    finally:
        await single.close()


async def test_reads_leave_no_transaction_open(people: AsyncDatabase) -> None:
    for i in range(3):
        await people.table("people").where(col("id") == i).collect()
    async with people.engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        if people.dialect_name == "postgresql":
            assert not driver.is_in_transaction()  # type: ignore[union-attr]
        elif people.dialect_name == "sqlite":
            assert driver.in_transaction is False  # type: ignore[union-attr]
    # a writer that needs every lock is not kept waiting by an earlier read
    await people.drop_table("people")
    assert not await people.table_exists("people")


async def test_idle_connections_skip_the_pools_rollback(people: AsyncDatabase) -> None:
    resets: list[bool] = []

    def on_reset(dbapi_connection: Any, record: Any, state: Any) -> None:
        resets.append(state.transaction_was_reset)

    pool = pool_of(people)
    sa.event.listen(pool, "reset", on_reset)
    try:
        assert await people.table("people").where(col("id") == 1).select("name").collect() == [{"name": "Ada"}]
    finally:
        sa.event.remove(pool, "reset", on_reset)
    # MySQL's driver opens a transaction with the first SELECT: the pool must roll it back
    assert resets == [people.dialect_name != "mysql"]
    async with people.transaction():  # the connection is usable for writes after the skipped reset
        await people.update("people", where=col("id") == 1, set={"name": "Ada L."})
    assert await people.table("people").where(col("id") == 1).select("name").collect() == [{"name": "Ada L."}]


async def test_statement_listeners_see_every_read(people: AsyncDatabase) -> None:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    engine = people.engine.sync_engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        await people.table("people").where(col("id") == 2).collect()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert [s for s in seen if "people" in s and s.lstrip().upper().startswith("SELECT")]


async def test_errors_are_moltres_errors_and_free_the_connection(people: AsyncDatabase) -> None:
    df = people.table("people").where(col("name") == "Ada")
    assert len(await df.collect()) == 1  # compiled and cached
    async with people.engine.begin() as conn:
        await conn.exec_driver_sql("DROP TABLE people")
    with pytest.raises(MoltresError) as info:
        await df.collect()
    assert isinstance(info.value, TableNotFoundError) or "people" in str(info.value)
    assert "Ada" not in (getattr(info.value, "sql", None) or "")
    assert pool_of(people).checkedout() == 0


async def test_tasks_share_the_cache_and_the_pool(people: AsyncDatabase) -> None:
    frames = [people.table("people").where(col("id") == (i % 3) + 1).select("id") for i in range(30)]
    results = await asyncio.gather(*(frame.collect() for frame in frames))
    assert results == [[{"id": (i % 3) + 1}] for i in range(30)]
    assert pool_of(people).checkedout() == 0


async def test_a_cancelled_read_keeps_an_in_memory_database() -> None:
    pytest.importorskip("aiosqlite")
    slow = (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) "
        "SELECT count(*) AS n FROM c"
    )
    async with await async_connect("sqlite://") as memory:  # one connection holds the whole database
        await memory.create_table("t", [column("x", "INTEGER")])
        await memory.insert("t", [{"x": 1}])
        for _ in range(2):  # the second time, the statement is compiled and goes straight to the driver
            task = asyncio.create_task(memory.sql(slow).collect())
            await asyncio.sleep(0.3)
            started = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert time.monotonic() - started < 3  # interrupted, not run to its end
            assert await memory.table("t").collect() == [{"x": 1}]  # the connection was kept, not replaced
