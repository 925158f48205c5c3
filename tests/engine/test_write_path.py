"""One-statement writes run straight on the driver; they must behave like every other write.

A one-row insert, an update or a delete is one statement. Outside a transaction the executor
runs it on a pooled DB-API connection that commits it by itself; inside a transaction it runs
without a SAVEPOINT around it. These tests hold both to the same results, errors and
connection hygiene as the general path, which statement listeners still get.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

from moltres import col, connect
from moltres.table.schema import column
from moltres.utils.exceptions import (
    ColumnNotFoundError,
    ExecutionError,
    MoltresError,
    TableNotFoundError,
    ValidationError,
)
from tests.engine._connections import assert_no_transaction_open, in_use

if TYPE_CHECKING:
    from moltres import Database


@pytest.fixture
def items(db: Database) -> Database:
    db.create_table(
        "items",
        [
            column("id", "INTEGER", primary_key=True),
            column("name", "TEXT", nullable=False),
            column("price", "DOUBLE"),
            column("added", "DATE"),
        ],
    ).collect()
    return db


def rows(db: Database) -> list[dict[str, Any]]:
    return db.table("items").order_by("id").collect()


def test_one_row_writes_commit_by_themselves(items: Database, dsn: str) -> None:
    assert items.insert("items", [{"id": 1, "name": "pen", "price": 2}]) == 1
    assert items.insert("items", [{"id": 2, "name": "ink", "price": None}]) == 1
    assert items.update("items", where=col("id") == 1, set={"price": col("price") * 2}) == 1
    assert items.update("items", where=col("id") == 99, set={"price": 1.0}) == 0
    assert items.delete("items", where=col("id") == 2) == 1
    with connect(dsn) as other:  # committed: another connection sees it
        assert other.table("items").collect() == [{"id": 1, "name": "pen", "price": 4.0, "added": None}]
    assert isinstance(rows(items)[0]["price"], float)  # an int given for a DOUBLE column is stored as one


def test_values_needing_conversion_take_the_general_path(items: Database) -> None:
    assert items.insert("items", [{"id": 1, "name": "pen", "added": dt.date(2024, 5, 1)}]) == 1
    assert items.update("items", where=col("id") == 1, set={"added": dt.date(2024, 6, 2)}) == 1
    assert rows(items) == [{"id": 1, "name": "pen", "price": None, "added": dt.date(2024, 6, 2)}]


def test_writes_leave_no_transaction_open(items: Database) -> None:
    items.insert("items", [{"id": 1, "name": "pen"}])
    items.update("items", where=col("id") == 1, set={"name": "pencil"})
    assert_no_transaction_open(items)
    items.drop_table("items").collect()  # nothing holds a lock on the table
    assert not items.table_exists("items")


def test_a_failed_write_changes_nothing_and_names_the_problem(items: Database) -> None:
    items.insert("items", [{"id": 1, "name": "pen"}])
    with pytest.raises(ExecutionError, match="constraint") as info:
        items.insert("items", [{"id": 1, "name": "again"}])
    assert "again" not in (info.value.sql or "")  # the SQL, without the values
    with pytest.raises(ExecutionError):
        items.update("items", where=col("id") == 1, set={"name": None})  # NOT NULL
    with pytest.raises(ColumnNotFoundError, match="nmae"):
        items.insert("items", [{"id": 2, "nmae": "typo"}])
    with pytest.raises(TableNotFoundError):
        items.insert("itemz", [{"id": 2, "name": "x"}])
    with pytest.raises(ExecutionError):
        items.insert("items", [{"id": "not a number", "name": "x"}])
    hostile = "x'); DROP TABLE items; --"
    assert items.insert("items", [{"id": 3, "name": hostile}]) == 1
    assert rows(items) == [
        {"id": 1, "name": "pen", "price": None, "added": None},
        {"id": 3, "name": hostile, "price": None, "added": None},
    ]
    assert in_use(items) == 0


def test_a_changed_table_gets_a_new_statement(items: Database) -> None:
    items.insert("items", [{"id": 1, "name": "pen"}])
    items.drop_table("items").collect()
    items.create_table("items", [column("id", "INTEGER", primary_key=True), column("label", "TEXT")]).collect()
    with pytest.raises(ColumnNotFoundError):
        items.insert("items", [{"id": 2, "name": "pen"}])
    assert items.insert("items", [{"id": 2, "label": "pen"}]) == 1
    assert items.table("items").collect() == [{"id": 2, "label": "pen"}]


def test_statement_listeners_see_every_write(items: Database) -> None:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement.lstrip().split()[0].upper())

    sa.event.listen(items.engine, "before_cursor_execute", record)
    try:
        items.insert("items", [{"id": 1, "name": "pen"}])
        items.update("items", where=col("id") == 1, set={"name": "pencil"})
        with items.transaction():
            items.delete("items", where=col("id") == 1)
    finally:
        sa.event.remove(items.engine, "before_cursor_execute", record)
    assert {"INSERT", "UPDATE", "DELETE"} <= set(seen)
    assert rows(items) == []


def test_writes_inside_a_transaction_commit_or_roll_back_with_it(items: Database) -> None:
    with items.transaction():
        for i in range(1, 4):
            assert items.insert("items", [{"id": i, "name": f"item {i}"}]) == 1
        assert items.update("items", where=col("id") >= 2, set={"price": 1.5}) == 2
        assert len(rows(items)) == 3  # the block's reads see its writes
    with pytest.raises(RuntimeError), items.transaction():
        items.delete("items", where=col("id") == 1)
        items.insert("items", [{"id": 4, "name": "item 4"}])
        raise RuntimeError("undo")
    assert [(r["id"], r["price"]) for r in rows(items)] == [(1, None), (2, 1.5), (3, 1.5)]


def test_a_failed_statement_inside_a_transaction(items: Database) -> None:
    with items.transaction():
        items.insert("items", [{"id": 1, "name": "pen"}])
        with pytest.raises(ExecutionError, match="constraint"):
            items.insert("items", [{"id": 1, "name": "again"}])
        if items.dialect_name in ("sqlite", "mysql"):  # the failed statement alone is undone
            items.insert("items", [{"id": 2, "name": "ink"}])
    if items.dialect_name in ("sqlite", "mysql"):
        assert [r["id"] for r in rows(items)] == [1, 2]


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgresql)], indirect=True)
def test_after_a_failed_statement_postgresql_says_how_to_carry_on(items: Database) -> None:
    with pytest.raises(ExecutionError) as info, items.transaction():
        items.insert("items", [{"id": 1, "name": "pen"}])
        with pytest.raises(ExecutionError, match="constraint"):
            items.insert("items", [{"id": 1, "name": "again"}])
        items.insert("items", [{"id": 2, "name": "ink"}])
    assert "earlier statement failed" in str(info.value)
    assert "transaction()" in (info.value.suggestion or "")
    assert rows(items) == []  # the whole block rolled back
    with items.transaction():  # as suggested: a savepoint around the statement that may fail
        items.insert("items", [{"id": 1, "name": "pen"}])
        with pytest.raises(ExecutionError, match="constraint"), items.transaction():
            items.insert("items", [{"id": 1, "name": "again"}])
        items.insert("items", [{"id": 2, "name": "ink"}])
    assert [r["id"] for r in rows(items)] == [1, 2]


@pytest.mark.parametrize("count", [1, 2])
def test_a_value_the_column_cannot_take_is_a_clear_error(items: Database, count: int) -> None:
    batch = [{"id": i, "name": "pen", "added": "not a date"} for i in range(1, count + 1)]
    with pytest.raises(MoltresError) as info:
        items.insert("items", batch)
    if items.dialect_name == "sqlite":  # caught before anything is sent, naming the column
        assert isinstance(info.value, ValidationError)
        assert "'added'" in str(info.value)
        assert "date" in (info.value.suggestion or "")
    assert rows(items) == []
