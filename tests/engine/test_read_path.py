"""Reads outside a transaction run straight on the driver; they must behave like every other read.

The executor runs such reads on a pooled DB-API connection with the SQL it compiled once
(``DriverStatement``), skipping SQLAlchemy's per-execution work. These tests hold it to
the same results, types, errors and connection hygiene as reads inside a transaction, which
still go through SQLAlchemy.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

from moltres import col
from moltres.table.schema import column
from moltres.utils.exceptions import MoltresError, TableNotFoundError
from tests.engine._connections import assert_no_transaction_open, in_use

if TYPE_CHECKING:
    from moltres import Database

ROWS: list[dict[str, Any]] = [
    {"id": 1, "name": "Ada", "born": dt.date(1815, 12, 10), "score": 1.5, "active": True},
    {"id": 2, "name": "Alan", "born": dt.date(1912, 6, 23), "score": None, "active": False},
    {"id": 3, "name": None, "born": None, "score": -2.25, "active": None},
]


COLUMNS = [
    column("id", "INTEGER", primary_key=True),
    column("name", "TEXT"),
    column("born", "DATE"),
    column("score", "DOUBLE"),
    column("active", "BOOLEAN"),
]


@pytest.fixture
def people(db: Database) -> Database:
    db.create_table("people", COLUMNS).collect()
    db.insert("people", ROWS)
    return db


def test_rows_and_types_match_a_read_inside_a_transaction(people: Database) -> None:
    df = people.table("people").order_by("id")
    outside = df.collect()
    with people.transaction():
        inside = df.collect()
    assert outside == inside == ROWS
    assert [[type(v) for v in row.values()] for row in outside] == [[type(v) for v in row.values()] for row in inside]
    assert isinstance(outside[0]["born"], dt.date)


def test_new_values_reuse_the_statement(people: Database) -> None:
    names = [people.table("people").where(col("id") == i).select("name").collect() for i in (1, 2, 3, 4)]
    assert names == [[{"name": "Ada"}], [{"name": "Alan"}], [{"name": None}], []]


def test_limits_and_in_lists(people: Database) -> None:
    df = people.table("people").where(col("id").isin([1, 3])).order_by(col("id").desc())
    assert [r["id"] for r in df.collect()] == [3, 1]
    assert [r["id"] for r in df.limit(1).collect()] == [3]
    assert [r["id"] for r in df.offset(1).collect()] == [1]


def test_streamed_batches_match_collect(people: Database) -> None:
    df = people.table("people").order_by("id")
    batches = list(df.iter_batches(2))
    assert [len(b) for b in batches] == [2, 1]
    assert [r for b in batches for r in b] == df.collect()


def test_abandoned_stream_returns_its_connection(people: Database) -> None:
    stream = people.table("people").order_by("id").iter_batches(1)
    assert next(stream) == [ROWS[0]]
    stream.close()  # type: ignore[attr-defined]  # a generator, typed as a plain Iterator
    assert in_use(people) == 0
    assert people.table("people").count() == 3


def test_statement_listeners_see_every_read(people: Database) -> None:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    sa.event.listen(people.engine, "before_cursor_execute", record)
    try:
        people.table("people").where(col("id") == 2).collect()
        list(people.table("people").iter_batches(10))
    finally:
        sa.event.remove(people.engine, "before_cursor_execute", record)
    selects = [s for s in seen if "people" in s and s.lstrip().upper().startswith("SELECT")]
    assert len(selects) >= 2


def test_errors_are_moltres_errors_with_the_sql(people: Database, dsn: str) -> None:
    df = people.table("people").where(col("name") == "Ada")
    assert len(df.collect()) == 1  # compiled and cached
    other = sa.create_engine(people.engine.url)
    with other.begin() as conn:
        conn.exec_driver_sql("DROP TABLE people")
    other.dispose()
    with pytest.raises(MoltresError) as info:
        df.collect()
    assert isinstance(info.value, TableNotFoundError) or "people" in str(info.value)
    assert "Ada" not in (getattr(info.value, "sql", None) or "")
    with pytest.raises(MoltresError):
        list(df.iter_batches(10))
    assert in_use(people) == 0


def test_reads_leave_no_transaction_open(people: Database) -> None:
    for i in range(3):
        people.table("people").where(col("id") == i).collect()
    list(people.table("people").iter_batches(1))
    assert_no_transaction_open(people)
    # a writer that needs every lock is not kept waiting by an earlier read
    people.drop_table("people").collect()
    assert not people.table_exists("people")


def test_idle_connections_skip_the_pools_rollback(people: Database) -> None:
    resets: list[bool] = []

    def on_reset(dbapi_connection: Any, record: Any, state: Any) -> None:
        resets.append(state.transaction_was_reset)

    sa.event.listen(people.engine.pool, "reset", on_reset)
    try:
        assert people.table("people").where(col("id") == 1).select("name").collect() == [{"name": "Ada"}]
    finally:
        sa.event.remove(people.engine.pool, "reset", on_reset)
    # MySQL's driver opens a transaction with the first SELECT: on the direct path the pool
    # rolls it back (SQLAlchemy's own path, taken while a listener watches, ends it itself)
    if people.dialect_name == "mysql":
        assert len(resets) == 1
    else:
        assert resets == [True]
    with people.transaction():  # the connection is usable for writes after the skipped reset
        people.update("people", where=col("id") == 1, set={"name": "Ada L."})
    assert people.table("people").where(col("id") == 1).select("name").collect() == [{"name": "Ada L."}]


def test_shaping_many_rows_leaves_the_garbage_collector_as_it_was() -> None:
    import gc

    from moltres.engine.executor import row_shaper

    rows = [(i, str(i)) for i in range(2000)]
    shaper = row_shaper(("id", "name"), ())
    assert gc.isenabled()
    assert shaper(rows)[1999] == {"id": 1999, "name": "1999"}
    assert gc.isenabled()
    gc.disable()
    try:
        assert len(shaper(rows)) == 2000
        assert not gc.isenabled()  # a caller who turned it off keeps it off
    finally:
        gc.enable()

    def fail(value: Any) -> Any:
        raise ValueError(value)

    with pytest.raises(ValueError):
        row_shaper(("id", "name"), ((1, fail),))(rows)
    assert gc.isenabled()  # back on after an error too


def test_batches_of_tuples_hold_the_same_values_as_dicts(people: Database) -> None:
    df = people.table("people").order_by("id")
    as_tuples = [[tuple(row.values()) for row in ROWS]]
    assert list(df.iter_batches(10, named=False)) == as_tuples  # the direct path
    with people.transaction():  # SQLAlchemy's path
        assert list(df.iter_batches(10, named=False)) == as_tuples
    batches = list(df.select("born", "id").iter_batches(2, named=False))
    assert batches == [[(ROWS[0]["born"], 1), (ROWS[1]["born"], 2)], [(None, 3)]]
    assert all(type(row) is tuple for batch in batches for row in batch)
    assert isinstance(batches[0][0][0], dt.date)  # converted as in dicts (SQLite stores text)
    assert list(df.where(col("id") > 9).iter_batches(2, named=False)) == []
    with pytest.raises(MoltresError, match="named="):
        df.iter_batches(2, named="no")  # type: ignore[call-overload]
