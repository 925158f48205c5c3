"""async_connect: drivers picked from plain DSNs, engines and sessions we do not own, and errors."""

from __future__ import annotations

import sys
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from moltres import AsyncDatabase, async_connect, col, column
from moltres.engine.url import create_engine, resolve_dsn
from moltres.expressions import functions as F
from moltres.utils.exceptions import (
    DatabaseConnectionError,
    MissingDependencyError,
    QueryTimeoutError,
    TableNotFoundError,
    ValidationError,
)
from tests._backends import Backend
from tests.conftest import async_dsn

pytestmark = pytest.mark.anyio

# driver names a DSN may carry -> the asyncio driver async_connect uses for it
DRIVERS = {
    "sqlite": {"sqlite": "aiosqlite", "sqlite+pysqlite": "aiosqlite", "sqlite+aiosqlite": "aiosqlite"},
    "postgresql": {
        "postgresql": "asyncpg",
        "postgres": "asyncpg",
        "postgresql+psycopg2": "asyncpg",
        "postgresql+asyncpg": "asyncpg",
        "postgresql+psycopg": "psycopg",
    },
    "mysql": {"mysql": "aiomysql", "mariadb": "aiomysql", "mysql+pymysql": "aiomysql", "mysql+aiomysql": "aiomysql"},
}


def with_driver(dsn: str, drivername: str) -> str:
    return sa.make_url(dsn).set(drivername=drivername).render_as_string(hide_password=False)


async def test_every_spelling_of_a_dsn_gets_an_asyncio_driver(adb: AsyncDatabase, backend: Backend, dsn: str) -> None:
    await adb.create_table("marker", [column("id", "INTEGER")])
    for given, driver in DRIVERS[backend.name].items():
        database = await async_connect(with_driver(dsn, given))
        try:
            assert database.engine.dialect.is_async, given
            assert database.engine.dialect.driver == driver, given
            assert database.dialect_name == backend.name
            assert "marker" in await database.tables(), given  # the same private namespace
        finally:
            await database.close()


async def test_psycopg_async_runs_the_whole_core(adb: AsyncDatabase, backend: Backend, dsn: str) -> None:
    if backend.name != "postgresql":
        pytest.skip("psycopg is PostgreSQL's")
    database = await async_connect(with_driver(dsn, "postgresql+psycopg"))
    try:
        await database.create_table("t", [column("id", "INTEGER", primary_key=True), column("v", "TEXT")])
        rows = [{"id": i, "v": f"v{i}"} for i in range(1500)]  # enough for the bulk path
        assert await database.insert("t", rows) == 1500
        assert await database.merge("t", [{"id": 1, "v": "one"}], on="id") == 1
        summary = database.table("t").agg(F.count("*").alias("n"), F.max("id").alias("top"))
        assert await summary.collect() == [{"n": 1500, "top": 1499}]
        assert [len(b) async for b in database.table("t").iter_batches(1000)] == [1000, 500]
        with pytest.raises(QueryTimeoutError):
            await database.sql("SELECT pg_sleep(5) AS s").collect(timeout=0.2)
    finally:
        await database.close()


async def test_query_timeout_is_the_default_limit(adb: AsyncDatabase, backend: Backend, dsn: str) -> None:
    slow = {
        "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000000) "
        "SELECT count(*) AS n FROM c",
        "postgresql": "SELECT pg_sleep(5) AS n",
        "mysql": "SELECT BENCHMARK(2000000000, MD5('moltres')) AS n",
    }[backend.name]
    database = await async_connect(async_dsn(dsn), query_timeout=0.3)
    try:
        with pytest.raises(QueryTimeoutError) as caught:
            await database.sql(slow).collect()
        assert "0.3" in str(caught.value)
        assert await database.sql("SELECT 2 AS two").collect() == [{"two": 2}]
        batches = database.sql(slow).iter_batches(10)
        with pytest.raises(QueryTimeoutError):
            [b async for b in batches]
    finally:
        await database.close()


async def test_the_seed_shapes(adb: AsyncDatabase) -> None:
    db = await adb  # awaiting a database gives it back (as fixtures in the seeds are awaited)
    await db.create_table("users", [column("id", "INTEGER", primary_key=True), column("name", "TEXT")])
    df = (await db.table("users")).select()
    results = await df.collect()
    assert len(results) == 0
    await db.insert("users", [{"id": 1, "name": "Ada"}])
    assert await db.table("users").select().collect() == [{"id": 1, "name": "Ada"}]
    assert await db.create_table("users", [column("id", "INTEGER")], if_not_exists=True).collect() is False
    with pytest.raises(TableNotFoundError):
        await db.table("no_such_table")


async def test_pivot_without_values_asks_for_them(adb: AsyncDatabase) -> None:
    await adb.create_table("o", [column("k", "INTEGER"), column("s", "TEXT"), column("v", "INTEGER")])
    grouped = adb.table("o").group_by("k")
    with pytest.raises(ValidationError, match="values="):
        grouped.pivot("s")
    assert await grouped.pivot("s", ["a"]).agg(F.sum("v")).collect() == []


async def test_an_engine_we_were_given_is_not_disposed(adb: AsyncDatabase, dsn: str) -> None:
    engine = create_engine(resolve_dsn(async_dsn(dsn), asynchronous=True), asynchronous=True)
    try:
        database = await async_connect(engine=engine)
        await database.create_table("t", [column("x", "INTEGER")])
        await database.close()
        async with engine.connect() as conn:  # still usable: moltres did not dispose of it
            assert (await conn.execute(sa.text("SELECT 1"))).scalar() == 1
    finally:
        await engine.dispose()


async def test_a_connection_we_were_given_is_never_committed(adb: AsyncDatabase, dsn: str, backend: Backend) -> None:
    await adb.create_table("t", [column("x", "INTEGER")])
    async with adb.engine.connect() as conn:
        database = await async_connect(engine=conn)
        assert await database.insert("t", [{"x": 1}]) == 1
        assert await database.table("t").count() == 1  # visible on that connection
        await conn.rollback()  # its owner decides
        assert await database.table("t").count() == 0
        scoped = adb.bound_to(conn)
        await scoped.insert("t", [{"x": 2}])
        assert await scoped.table("t").select("x").collect() == [{"x": 2}]
        await conn.commit()
    assert await adb.table("t").select("x").collect() == [{"x": 2}]


async def test_a_session_we_were_given_keeps_its_transaction(adb: AsyncDatabase) -> None:
    await adb.create_table("t", [column("x", "INTEGER")])
    async with AsyncSession(adb.engine) as session:
        database = await async_connect(session=session)
        await database.insert("t", [{"x": 1}])
        async with database.transaction():
            await database.update("t", where=col("x") == 1, set={"x": 5})
        assert await database.table("t").select("x").collect() == [{"x": 5}]
        await session.rollback()
    assert await adb.table("t").count() == 0


async def test_closed_database_says_so(dsn: str, adb: AsyncDatabase) -> None:
    database = await async_connect(async_dsn(dsn))
    await database.close()
    await database.close()  # twice is fine
    with pytest.raises(DatabaseConnectionError, match="closed"):
        await database.tables()
    with pytest.raises(DatabaseConnectionError, match="closed"):
        await database


async def test_staged_frames_are_dropped_on_close(adb: AsyncDatabase, dsn: str) -> None:
    database = await async_connect(async_dsn(dsn))
    frame = await database.create_dataframe([{"n": i} for i in range(600)])
    assert await frame.count() == 600
    staged = database._staged[0]  # tables() leaves moltres' staging tables out
    assert await adb.table_exists(staged) and staged not in await adb.tables()
    await database.close()
    assert not await adb.table_exists(staged)


async def test_moltres_dsn_is_the_default(adb: AsyncDatabase, dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOLTRES_DSN", dsn)
    database = await async_connect()
    try:
        assert database.engine.dialect.is_async
    finally:
        await database.close()


@pytest.mark.parametrize(
    ("arguments", "error", "match"),
    [
        ({"dsn": "duckdb:///x.duckdb"}, DatabaseConnectionError, "no asyncio driver"),
        ({"dsn": "not a dsn"}, DatabaseConnectionError, "malformed DSN"),
        ({"dsn": "nosuchdb://x"}, DatabaseConnectionError, "unknown database dialect"),
        ({"dsn": "sqlite://", "engine": object()}, ValidationError, "one of dsn"),
        ({"dsn": "sqlite://", "query_timeout": 0}, ValidationError, "query_timeout"),
        ({"engine": sa.create_engine("sqlite://")}, ValidationError, "AsyncEngine"),
        ({"session": object()}, ValidationError, "AsyncSession"),
    ],
    ids=["duckdb", "malformed", "unknown-dialect", "two-sources", "bad-timeout", "sync-engine", "not-a-session"],
)
async def test_bad_arguments_are_explained(arguments: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match) as caught:
        await async_connect(**arguments)
    assert getattr(caught.value, "suggestion", None) or error is ValidationError


async def test_unreachable_server_hides_the_password() -> None:
    with pytest.raises(DatabaseConnectionError) as caught:
        await async_connect("postgresql://ada:s3cret@127.0.0.1:1/app")
    assert "s3cret" not in str(caught.value) and "***" in str(caught.value)


async def test_missing_greenlet_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "greenlet", None)  # what an environment without it looks like
    with pytest.raises(MissingDependencyError, match=r"moltres\[async\]"):
        await async_connect("sqlite://")


async def test_a_session_on_an_engine_moltres_did_not_set_up_is_not_committed(
    adb: AsyncDatabase, dsn: str, backend: Backend
) -> None:
    await adb.create_table("t", [column("x", "INTEGER")])
    engine = create_engine(resolve_dsn(async_dsn(dsn), asynchronous=True), asynchronous=True)
    try:
        async with AsyncSession(engine) as session:
            database = await async_connect(session=session)
            await database.insert("t", [{"x": 1}])  # in a SAVEPOINT, whose RELEASE must not commit
            assert await database.table("t").count() == 1
            await session.rollback()
        assert await adb.table("t").count() == 0
    finally:
        await engine.dispose()
