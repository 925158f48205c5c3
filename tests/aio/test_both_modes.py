"""Core behaviour, written once and run on Database and AsyncDatabase, on every backend.

Each test uses ``either`` (see conftest.py): the sync lines and the async lines are the same
lines, so a difference between the two modes fails here.
"""

from __future__ import annotations

from typing import Any

import pytest

from moltres import col, lit
from moltres.expressions import functions as F
from moltres.io.records import AsyncRecords, Records
from moltres.table.schema import column
from moltres.utils.exceptions import (
    ColumnNotFoundError,
    ExecutionError,
    QueryTimeoutError,
    TableNotFoundError,
    UnsupportedOperationError,
    ValidationError,
)
from tests.aio.conftest import ORDERS, USERS, batches, run, seed

pytestmark = pytest.mark.anyio


async def test_create_insert_and_query(either: Any) -> None:
    await seed(either)
    df = either.table("users").select("name", "age").where(col("age") > 40).order_by("name")
    assert await run(df.collect()) == [{"name": "Alan", "age": 41}, {"name": "Grace", "age": 85}]
    assert await run(either.table("users").count()) == 3


async def test_ddl_runs_on_collect_or_await(either: Any, mode: str) -> None:
    op = either.create_table("notes", [column("id", "INTEGER", primary_key=True), column("body", "TEXT")])
    assert "CREATE TABLE notes" in repr(op)
    assert await run(either.table_exists("notes")) is False  # nothing ran yet
    assert await run(op.collect()) is True
    assert await run(either.create_table("notes", [column("id", "INTEGER")], if_not_exists=True)) is False
    assert "notes" in await run(either.tables())
    assert [c.name for c in await run(either.schema("notes"))] == ["id", "body"]
    assert await run(either.create_index("idx_notes_body", "notes", "body")) is True
    with pytest.raises(ColumnNotFoundError):
        await run(either.create_index("idx_bad", "notes", ["nope"]))
    assert await run(either.drop_table("notes")) is True
    assert await run(either.drop_table("notes")) is False
    assert await run(either.table_exists("notes")) is False


async def test_update_delete_merge(either: Any) -> None:
    await seed(either)
    assert await run(either.update("users", where=col("id") == 1, set={"age": col("age") + 1})) == 1
    assert await run(either.delete("users", where="age > 80")) == 1
    merged = [{"id": 2, "name": "Alan T", "age": 42}, {"id": 4, "name": "Linus", "age": 28}]
    assert await run(either.merge("users", merged, on="id")) == 2
    rows = await run(either.table("users").order_by("id").collect())
    assert rows == [
        {"id": 1, "name": "Ada", "age": 37},
        {"id": 2, "name": "Alan T", "age": 42},
        {"id": 4, "name": "Linus", "age": 28},
    ]


async def test_raw_statements_and_sql_frames(either: Any) -> None:
    await seed(either)
    assert await run(either.execute("UPDATE users SET age = age + :n WHERE id < :id", n=1, id=3)) == 2
    df = either.sql("SELECT id, age FROM users WHERE age > :a", a=40).where(col("id") < 3)
    assert await run(df.collect()) == [{"id": 2, "age": 42}]


async def test_joins_groups_and_windows(either: Any) -> None:
    await seed(either)
    users, orders = either.table("users"), either.table("orders")
    totals = (
        users.join(orders, on=[("id", "user_id")])
        .group_by("name")
        .agg(F.sum("amount").alias("total"), F.count("*").alias("n"))
        .order_by("name")
    )
    assert await run(totals.collect()) == [
        {"name": "Ada", "total": 30.0, "n": 2},
        {"name": "Alan", "total": 5.5, "n": 1},
    ]
    pivot = orders.group_by("user_id").pivot("status", ["paid", "new"]).agg(F.sum("amount")).order_by("user_id")
    assert await run(pivot.first()) == {"user_id": 1, "paid": 30.0, "new": None}


async def test_create_dataframe_inline_and_staged(either: Any) -> None:
    await seed(either)
    small = await run(either.create_dataframe([{"id": 1, "tag": "x"}, {"id": 3, "tag": "y"}]))
    joined = either.table("users").join(small, on="id").select("name", "tag").order_by("name")
    assert await run(joined.collect()) == [{"name": "Ada", "tag": "x"}, {"name": "Grace", "tag": "y"}]
    many = await run(either.create_dataframe([{"n": i} for i in range(700)]))  # above the inline limit
    assert await run(many.count()) == 700
    assert await run(many.agg(F.max("n").alias("top")).collect()) == [{"top": 699}]


async def test_streaming_and_row_iteration(either: Any, mode: str) -> None:
    await seed(either)
    df = either.table("orders").order_by("id")
    assert [len(b) for b in await batches(df.iter_batches(2))] == [2, 1]
    chunks = await batches(await run(df.collect(stream=True, batch_size=1)))
    assert [r["id"] for chunk in chunks for r in chunk] == [10, 11, 12]
    ids = [row["id"] for row in df] if mode == "sync" else [row["id"] async for row in df]
    assert ids == [10, 11, 12]
    with pytest.raises(ValidationError):
        df.iter_batches(0)
    named = [r for chunk in await batches(df.select("id", "user_id").iter_batches(2)) for r in chunk]
    plain = [r for chunk in await batches(df.select("id", "user_id").iter_batches(2, named=False)) for r in chunk]
    assert plain == [(r["id"], r["user_id"]) for r in named] and all(type(r) is tuple for r in plain)
    with pytest.raises(ValidationError, match="named="):
        df.iter_batches(2, named=1)


async def test_small_terminals(either: Any, capsys: pytest.CaptureFixture[str]) -> None:
    await seed(either)
    users = either.table("users").order_by("id")
    assert await run(users.first()) == USERS[0]
    assert await run(users.where(col("id") > 99).first()) is None
    assert await run(users.head(2)) == USERS[:2]
    assert await run(users.take(1)) == USERS[:1]
    assert await run(users.to_dicts()) == USERS
    await run(users.select("id", "name").show(1))
    assert "| 1  | Ada  |" in capsys.readouterr().out
    assert "users" in (await run(users.explain())).lower()


async def test_reflection_answers(either: Any) -> None:
    await seed(either)
    df = either.table("orders").select("id", (col("amount") * 2).alias("double")).where(col("status") == "paid")
    assert await run(df.columns) == ["id", "double"]
    assert [name for name, _ in await run(df.schema)] == ["id", "double"]
    assert list((await run(df.params)).values()) == [2, "paid"]
    assert "WHERE" in await run(df.sql)
    assert "orders" in await run(df.to_sql(dialect="postgresql"))
    assert "`double`" in await run(df.to_sql(dialect="mysql"))


async def test_writes_stay_in_the_database(either: Any) -> None:
    await seed(either)
    paid = either.table("orders").where(col("status") == "paid")
    assert await run(paid.write.save_as_table("paid")) == 2
    with pytest.raises(ValidationError, match="already exists"):
        await run(paid.write.save_as_table("paid"))
    assert await run(paid.write.mode("ignore").save_as_table("paid")) == 0
    assert await run(either.table("orders").where(col("status") == "new").write.insert_into("paid")) == 1
    assert await run(either.table("paid").count()) == 3
    assert await run(paid.write.mode("overwrite").save_as_table("paid")) == 2
    assert await run(either.table("paid").count()) == 2


@pytest.mark.notimpl(["duckdb"], raises=UnsupportedOperationError, reason="DuckDB has no SAVEPOINTs")
async def test_transactions_commit_roll_back_and_nest(either: Any, mode: str) -> None:
    await seed(either)

    async def body(database: Any, fail_inner: bool, fail_outer: bool) -> None:
        await run(database.insert("users", [{"id": 10, "name": "Outer", "age": 1}]))
        try:
            async with _block(database, mode):
                await run(database.insert("users", [{"id": 11, "name": "Inner", "age": 2}]))
                if fail_inner:
                    raise RuntimeError("inner")
        except RuntimeError:
            pass
        if fail_outer:
            raise RuntimeError("outer")

    async with _block(either, mode):
        await body(either, fail_inner=True, fail_outer=False)
    assert await run(either.table("users").where(col("id") >= 10).select("id").collect()) == [{"id": 10}]
    with pytest.raises(RuntimeError, match="outer"):
        async with _block(either, mode):
            await run(either.delete("users", where=col("id") == 10))
            await body(either, fail_inner=False, fail_outer=True)
    assert await run(either.table("users").where(col("id") >= 10).select("id").collect()) == [{"id": 10}]


class _block:  # reads as a statement: `async with _block(db, mode):`
    """``with db.transaction()`` or ``async with adb.transaction()``, as one async block."""

    def __init__(self, database: Any, mode: str) -> None:
        self._cm = database.transaction()
        self._mode = mode

    async def __aenter__(self) -> Any:
        return self._cm.__enter__() if self._mode == "sync" else await self._cm.__aenter__()

    async def __aexit__(self, *exc: Any) -> Any:
        return self._cm.__exit__(*exc) if self._mode == "sync" else await self._cm.__aexit__(*exc)


async def test_records_insert(either: Any, mode: str) -> None:
    await seed(either)
    kind = Records if mode == "sync" else AsyncRecords
    records = kind.from_list([{"id": 7, "name": "Eve", "age": 41}], database=either)
    assert isinstance(records, kind)
    assert await run(records.insert_into("users")) == 1
    assert await run(either.table("users").count()) == 4


async def test_errors_name_what_is_wrong(either: Any) -> None:
    await seed(either)
    with pytest.raises(TableNotFoundError, match="userz"):
        await run(either.table("userz").collect())
    with pytest.raises(ColumnNotFoundError, match="nmae"):
        await run(either.insert("users", [{"id": 9, "nmae": "typo"}]))
    with pytest.raises(ExecutionError, match="constraint"):
        await run(either.insert("users", [USERS[0]]))
    assert await run(either.table("users").count()) == 3  # nothing half-inserted


async def test_timeout_cancels_a_slow_query(either: Any, backend: Any) -> None:
    slow = {
        "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000000) "
        "SELECT count(*) AS n FROM c",
        "postgresql": "SELECT pg_sleep(5) AS n",
        "mysql": "SELECT BENCHMARK(2000000000, MD5('moltres')) AS n",
        "duckdb": "SELECT count(*) AS n FROM range(100000000000)",
    }[backend.name]
    with pytest.raises(QueryTimeoutError):
        await run(either.sql(slow).collect(timeout=0.3))
    assert await run(either.sql("SELECT 1 AS one").collect()) == [{"one": 1}]  # the connection still works


async def test_interop(either: Any) -> None:
    pytest.importorskip("pandas")
    pytest.importorskip("polars")
    pytest.importorskip("pyarrow")
    await seed(either)
    df = either.table("orders").order_by("id").select("id", "amount")
    assert (await run(df.to_pandas()))["amount"].tolist() == [o["amount"] for o in ORDERS]
    assert (await run(df.to_polars())).columns == ["id", "amount"]
    assert (await run(df.to_arrow())).num_rows == 3


async def test_literals_and_expressions_compile_once(either: Any) -> None:
    await seed(either)
    for threshold in (30, 40, 80):
        df = either.table("users").where(col("age") > threshold).select("name", lit(1).alias("one"))
        assert await run(df.count()) == sum(u["age"] > threshold for u in USERS)


async def test_file_writes(either: Any, tmp_path: Any) -> None:
    await seed(either)
    users = either.table("users").order_by("id")
    assert await run(users.write.csv(tmp_path / "users.csv")) == 3
    assert (tmp_path / "users.csv").read_text().splitlines() == ["id,name,age", "1,Ada,36", "2,Alan,41", "3,Grace,85"]
    with pytest.raises(ValidationError, match="already exists"):
        await run(users.write.csv(tmp_path / "users.csv"))
    assert await run(users.where(col("id") == 1).write.mode("append").jsonl(tmp_path / "users.jsonl")) == 1
    assert await run(users.where(col("id") > 1).write.mode("append").jsonl(tmp_path / "users.jsonl")) == 2
    assert len((tmp_path / "users.jsonl").read_text().splitlines()) == 3
    assert await run(users.write.format("json").save(tmp_path / "users.json")) == 3
    pq = pytest.importorskip("pyarrow.parquet")
    assert await run(users.write.parquet(tmp_path / "users.parquet")) == 3
    assert pq.read_table(tmp_path / "users.parquet").column("name").to_pylist() == ["Ada", "Alan", "Grace"]


async def test_empty_result_writes_a_typed_parquet_file(either: Any, tmp_path: Any) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    await seed(either)
    users = either.table("users").order_by("id")
    assert await run(users.where(col("id") < 0).write.parquet(tmp_path / "none.parquet")) == 0
    assert pq.read_table(tmp_path / "none.parquet").column_names == ["id", "name", "age"]
