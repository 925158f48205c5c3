"""Many tasks on one AsyncDatabase: a small pool serves them all, and cancelling a task frees its connection."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
import sqlalchemy as sa

from moltres import AsyncDatabase, col, column, connect
from tests._backends import Backend
from tests.aio.conftest import eventually, pool_of

pytestmark = pytest.mark.anyio

# a statement that runs for many seconds unless it is stopped
SLOW = {
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) "
    "SELECT count(*) AS n FROM c",
    "postgresql": "SELECT pg_sleep(30) AS n",
    "mysql": "SELECT SLEEP(30) AS n",
}


@pytest.fixture
async def numbers(adb: AsyncDatabase) -> AsyncDatabase:
    """``nums(n, sq)`` for n in 0..49, created through the test's `adb`."""
    await adb.create_table("nums", [column("n", "INTEGER", primary_key=True), column("sq", "INTEGER")])
    await adb.insert("nums", [{"n": i, "sq": i * i} for i in range(50)])
    return adb


@pytest.fixture
def pooled(numbers: AsyncDatabase, pooled: AsyncDatabase) -> AsyncDatabase:
    """conftest's AsyncDatabase with a pool of 5, opened once ``nums`` exists."""
    return pooled


async def test_fifty_concurrent_queries_share_five_connections(pooled: AsyncDatabase) -> None:
    out, peak = 0, 0

    def checkout(*_: Any) -> None:
        nonlocal out, peak
        out += 1
        peak = max(peak, out)

    def checkin(*_: Any) -> None:
        nonlocal out
        out -= 1

    sa.event.listen(pooled.engine.sync_engine, "checkout", checkout)
    sa.event.listen(pooled.engine.sync_engine, "checkin", checkin)

    async def one(i: int) -> Any:
        # a cold cache: the first tasks reflect `nums` concurrently, each on its own connection
        frame = pooled.table("nums").where(col("n") == i).select("n", "sq", (col("sq") + i).alias("k"))
        return await frame.collect()

    results = await asyncio.gather(*(one(i) for i in range(50)))
    assert results == [[{"n": i, "sq": i * i, "k": i * i + i}] for i in range(50)]
    assert peak == 5  # the tasks did run concurrently, and never past the pool's size
    assert pool_of(pooled).checkedout() == 0


async def test_cancelled_query_gives_its_connection_back(pooled: AsyncDatabase, backend: Backend, dsn: str) -> None:
    pool = pool_of(pooled)
    task = asyncio.create_task(pooled.sql(SLOW[backend.name]).collect())
    await eventually(lambda: pool.checkedout() == 1)
    await asyncio.sleep(0.3)  # the statement is running now
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await eventually(lambda: pool.checkedout() == 0) < 3  # not when the statement would have ended
    answers = await asyncio.gather(*(pooled.sql("SELECT 1 AS one").collect() for _ in range(10)))
    assert answers == [[{"one": 1}]] * 10
    assert pool.checkedout() == 0
    if backend.is_server:
        await eventually(lambda: not still_running(backend, dsn))


def still_running(backend: Backend, dsn: str) -> bool:
    """Whether the server still runs the slow statement for this test's namespace."""
    probe = {
        "postgresql": "SELECT count(*) AS n FROM pg_stat_activity WHERE state = 'active' "
        "AND query LIKE 'SELECT pg_sleep(30)%%' AND application_name = :ns",
        "mysql": "SELECT count(*) AS n FROM information_schema.processlist WHERE info LIKE 'SELECT SLEEP(30)%%' "
        "AND db = :ns",
    }[backend.name]
    namespace = backend.namespace_of(dsn)  # type: ignore[attr-defined]
    with connect(dsn) as db:
        return bool(db.sql(probe.replace("%%", "%"), ns=namespace).collect()[0]["n"])


async def test_cancelled_transaction_rolls_back_and_frees_its_connection(
    pooled: AsyncDatabase, backend: Backend
) -> None:
    async def work() -> None:
        async with pooled.transaction():
            await pooled.insert("nums", [{"n": 100, "sq": 0}])
            await pooled.sql(SLOW[backend.name]).collect()

    task = asyncio.create_task(work())
    await eventually(lambda: pool_of(pooled).checkedout() == 1)
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await eventually(lambda: pool_of(pooled).checkedout() == 0)
    assert await pooled.table("nums").where(col("n") == 100).count() == 0


async def test_stopping_a_stream_early_frees_its_connection(pooled: AsyncDatabase) -> None:
    seen = 0
    async with contextlib.aclosing(pooled.table("nums").order_by("n").iter_batches(10)) as batches:
        async for batch in batches:
            seen += len(batch)
            assert pool_of(pooled).checkedout() == 1
            break
    assert seen == 10
    assert pool_of(pooled).checkedout() == 0


async def test_tasks_inside_a_transaction_take_turns_on_its_connection(pooled: AsyncDatabase) -> None:
    peak = 0

    def checkout(*_: Any) -> None:
        nonlocal peak
        peak = max(peak, pool_of(pooled).checkedout())

    sa.event.listen(pooled.engine.sync_engine, "checkout", checkout)

    class Undo(Exception):
        pass

    with pytest.raises(Undo):
        async with pooled.transaction():
            await asyncio.gather(*(pooled.insert("nums", [{"n": 100 + i, "sq": i}]) for i in range(10)))
            assert await pooled.table("nums").where(col("n") >= 100).count() == 10
            raise Undo
    assert await pooled.table("nums").where(col("n") >= 100).count() == 0
    async with pooled.transaction():
        await asyncio.gather(*(pooled.insert("nums", [{"n": 100 + i, "sq": i}]) for i in range(10)))
    assert await pooled.table("nums").where(col("n") >= 100).count() == 10
    assert peak == 1  # every insert ran on the transaction's one connection


async def test_concurrent_frames_of_the_same_shape_compile_once(pooled: AsyncDatabase) -> None:
    frames = [pooled.table("nums").where(col("n") < i).select("n") for i in range(1, 21)]
    counts = await asyncio.gather(*(frame.count() for frame in frames))
    assert counts == list(range(1, 21))
    sql = {await frame.to_sql() for frame in frames}
    assert len(sql) == 1  # one statement, twenty sets of bound values
