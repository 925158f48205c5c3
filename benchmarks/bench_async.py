"""Async: 1,000 small queries through AsyncDatabase (pool of 10) vs the raw asyncio driver, and vs sync moltres.

Each query is a primary-key lookup with a different key (one compiled statement, new values).
"raw" is the asyncio driver on its own: an asyncpg pool on PostgreSQL, aiosqlite connections
on SQLite, run with the same concurrency (10 in flight, then one at a time). Target: moltres
within 1.5 times the raw asyncio driver, as every other figure compares moltres with the raw
path on the same engine. The last figure compares moltres with itself, async throughput
(10 in flight) ÷ sync (one after another), for information.

On SQLite every aiosqlite call is a trip to the thread that owns the sqlite3 connection and
back to the event loop; on PostgreSQL, asyncpg's own round trip through the event loop costs
more than sync moltres's whole point query. Neither floor is moltres's to lower.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import sqlalchemy as sa

from benchmarks import DATA_DIR, QUICK

QUERIES = 200 if QUICK else 1_000
ROWS = 1_000
POOL = 10
TARGET = 1.5  # moltres async time ÷ the raw asyncio driver's, same concurrency
REPEAT = 3 if QUICK else 5
PG_DSN = os.environ.get("MOLTRES_BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")

Row = dict[str, Any]


def log(message: str) -> None:
    print(f"   [async] {message}", file=sys.stderr, flush=True)


async def best_async(fn: Callable[[], Awaitable[Any]]) -> float:
    best = float("inf")
    for _ in range(REPEAT):
        start = time.perf_counter()
        await fn()
        best = min(best, time.perf_counter() - start)
    return best


def best_sync(fn: Callable[[], Any]) -> float:
    best = float("inf")
    for _ in range(REPEAT):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


async def limited(calls: list[Callable[[], Awaitable[Any]]]) -> list[Any]:
    """Run the calls with at most POOL in flight (what a pool of POOL connections allows)."""
    gate = asyncio.Semaphore(POOL)

    async def one(call: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await call()

    return await asyncio.gather(*(one(c) for c in calls))


@contextlib.asynccontextmanager
async def postgres_schema() -> AsyncIterator[tuple[str, str] | None]:
    """A scratch schema on the benchmark server (dropped after), or None if it is unreachable."""
    admin = sa.create_engine(sa.make_url(PG_DSN).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    schema = f"bench_async_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    except sa.exc.SQLAlchemyError as exc:
        log(f"PostgreSQL skipped: {exc}")
        admin.dispose()
        yield None
        return
    try:
        url = sa.make_url(PG_DSN).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False), schema
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


Raw = Callable[[list[int], int], Awaitable[list[Any]]]  # (keys, how many in flight) -> rows per key


async def figures(engine: str, dsn: str, raw: Raw, raw_note: str) -> list[Row]:
    from moltres import async_connect, col, column, connect

    keys = [(i * 7919) % ROWS for i in range(QUERIES)]
    sync_db = connect(dsn)
    sync_db.create_table("kv", [column("id", "INTEGER", primary_key=True), column("v", "TEXT")]).collect()
    sync_db.insert("kv", [{"id": i, "v": f"value {i}"} for i in range(ROWS)])
    adb = await async_connect(dsn, pool_size=POOL, max_overflow=0)
    try:
        kv = adb.table("kv")
        sync_kv = sync_db.table("kv")

        async def moltres_async() -> list[Any]:
            return await limited([lambda k=k: kv.where(col("id") == k).collect() for k in keys])

        async def moltres_async_one_by_one() -> list[Any]:
            return [await kv.where(col("id") == k).collect() for k in keys]

        def moltres_sync() -> list[Any]:
            return [sync_kv.where(col("id") == k).collect() for k in keys]

        expected = [[{"id": k, "v": f"value {k}"}] for k in keys]
        assert await moltres_async() == expected and moltres_sync() == expected
        assert await moltres_async_one_by_one() == expected
        assert [[dict(r) for r in rows] for rows in await raw(keys, POOL)] == expected
        log(f"{engine}: measuring")
        async_s = await best_async(moltres_async)
        raw_s = await best_async(lambda: raw(keys, POOL))
        sync_s = best_sync(moltres_sync)
        async_one_s = await best_async(moltres_async_one_by_one)
        raw_one_s = await best_async(lambda: raw(keys, 1))
    finally:
        await adb.close()
        sync_db.close()
    per_query = f"{async_one_s / QUERIES * 1e6:,.0f} µs async vs {sync_s / QUERIES * 1e6:,.0f} µs sync per query"
    return [
        {
            "name": f"{QUERIES:,} point queries, async, pool of {POOL} [{engine}]",
            "moltres_s": async_s,
            "raw_s": raw_s,
            "target": f"≤ {TARGET}×",
            "passed": async_s <= TARGET * raw_s,
            "note": f"raw: {raw_note}, same concurrency; {QUERIES / async_s:,.0f} queries/s through moltres",
        },
        {
            "name": f"{QUERIES:,} point queries one at a time, async [{engine}]",
            "moltres_s": async_one_s,
            "raw_s": raw_one_s,
            "target": f"≤ {TARGET}×",
            "passed": async_one_s <= TARGET * raw_one_s,
            "note": f"raw: the same driver, one query at a time; {per_query} (the raw asyncio driver alone: "
            f"{raw_one_s / sync_s:.2f}× sync moltres)",
        },
        {
            "name": f"{QUERIES:,} point queries, async (pool of {POOL}) ÷ sync moltres [{engine}]",
            "moltres_s": async_s,
            "raw_s": sync_s,
            "note": "ratio = async time (10 in flight) ÷ sync time (one after another), both via moltres; "
            "below 1: async is faster",
        },
    ]


async def postgres() -> list[Row]:
    import asyncpg

    async with postgres_schema() as found:
        if found is None:
            return []
        dsn, schema = found
        url = sa.make_url(dsn)
        pool = await asyncpg.create_pool(
            user=url.username,
            password=url.password,
            host=url.host,
            port=url.port or 5432,
            database=url.database,
            min_size=POOL,
            max_size=POOL,
            server_settings={"search_path": schema},
        )
        try:

            async def raw(keys: list[int], in_flight: int) -> list[Any]:
                async def one(k: int) -> Any:
                    async with pool.acquire() as conn:
                        return await conn.fetch("SELECT kv.id, kv.v FROM kv WHERE kv.id = $1", k)

                if in_flight == 1:
                    return [await one(k) for k in keys]
                return await asyncio.gather(*(one(k) for k in keys))

            return await figures("postgresql", dsn, raw, f"asyncpg pool of {POOL}, conn.fetch with $1")
        finally:
            await pool.close()


async def sqlite() -> list[Row]:
    import aiosqlite

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"bench_async_{uuid.uuid4().hex[:8]}.db"
    connections = [await aiosqlite.connect(path) for _ in range(POOL)]
    free: asyncio.Queue[Any] = asyncio.Queue()
    for conn in connections:
        conn.row_factory = aiosqlite.Row
        free.put_nowait(conn)
    try:

        async def raw(keys: list[int], in_flight: int) -> list[Any]:
            async def one(k: int) -> Any:
                conn = await free.get()
                try:
                    return await conn.execute_fetchall("SELECT kv.id, kv.v FROM kv WHERE kv.id = ?", (k,))
                finally:
                    free.put_nowait(conn)

            if in_flight == 1:
                return [await one(k) for k in keys]
            return await asyncio.gather(*(one(k) for k in keys))

        return await figures("sqlite", f"sqlite:///{path}", raw, f"{POOL} aiosqlite connections, execute_fetchall")
    finally:
        for conn in connections:
            await conn.close()
        path.unlink(missing_ok=True)


def run() -> list[Row]:
    out: list[Row] = []
    for name, figure in (("sqlite", sqlite), ("postgresql", postgres)):
        log(f"{name}: start")
        try:
            out += asyncio.run(figure())
        except Exception as exc:  # one failing engine is reported; the other still runs
            out.append({"name": f"point queries [{name}]", "moltres_s": None, "raw_s": None, "note": f"failed: {exc}"})
    return out
