"""df.write on every backend: save modes, insert_into, pushdown, and atomic overwrite."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

from moltres import col, lit
from moltres.expressions import functions as F
from moltres.table.schema import column
from moltres.utils.exceptions import (
    ColumnNotFoundError,
    ExecutionError,
    MoltresError,
    TableNotFoundError,
    ValidationError,
)

if TYPE_CHECKING:
    from moltres import Column, Database

ITEMS: list[dict[str, Any]] = [{"id": i, "name": f"item{i}", "price": i * 1.5} for i in range(1, 6)]


@pytest.fixture
def items(db: Database) -> Database:
    db.create_table(
        "items", [column("id", "INTEGER", primary_key=True), column("name", "VARCHAR(20)"), column("price", "DOUBLE")]
    ).collect()
    db.insert("items", ITEMS)
    return db


@pytest.fixture
def statements(items: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(" ".join(statement.split()).upper())

    sa.event.listen(items.engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(items.engine, "before_cursor_execute", record)


def table_rows(db: Database, name: str) -> list[dict[str, Any]]:
    return db.table(name).order_by("id").collect()


def test_save_as_table_creates_with_the_query_columns(items: Database) -> None:
    df = items.table("items").where(col("price") > 3).select("id", (col("price") * 2).alias("double"))
    assert df.write.save_as_table("expensive") == 3
    assert items.table("expensive").columns == ["id", "double"]
    assert table_rows(items, "expensive") == [
        {"id": i["id"], "double": i["price"] * 2} for i in ITEMS if i["price"] > 3
    ]


def test_save_as_table_runs_in_the_database(items: Database, statements: list[str]) -> None:
    items.table("items").where(col("id") > 2).write.save_as_table("copy")
    items.table("items").where(col("id") <= 2).write.mode("append").save_as_table("copy")
    # CREATE TABLE ... AS SELECT or INSERT INTO ... SELECT: never rows sent as VALUES
    writes = [s for s in statements if s.startswith(("CREATE TABLE", "INSERT INTO"))]
    assert any("SELECT" in s for s in writes), statements
    assert not any("VALUES" in s for s in writes), writes
    assert items.table("copy").count() == len(ITEMS)


def test_default_mode_refuses_an_existing_table(items: Database) -> None:
    with pytest.raises(ValidationError, match="already exists") as info:
        items.table("items").write.save_as_table("items")
    assert info.value.suggestion and "overwrite" in info.value.suggestion
    with pytest.raises(ValidationError):
        items.table("items").write.mode("error").save_as_table("items")
    with pytest.raises(ValidationError):
        items.table("items").write.save_as_table("items", mode="errorifexists")
    assert table_rows(items, "items") == ITEMS


def test_ignore_mode(items: Database) -> None:
    assert items.table("items").where(col("id") == 1).write.mode("ignore").save_as_table("items") == 0
    assert table_rows(items, "items") == ITEMS
    assert items.table("items").where(col("id") == 1).write.mode("ignore").save_as_table("fresh") == 1


def test_append_mode(items: Database) -> None:
    extra = items.table("items").select((col("id") + 100).alias("id"), "name", "price")
    assert extra.write.mode("append").save_as_table("items") == len(ITEMS)
    assert items.table("items").count() == 2 * len(ITEMS)
    # a subset of the columns, in another order: the others get NULL
    assert (
        items.table("items")
        .where(col("id") == 1)
        .select((col("id") + 200).alias("id"), "name")
        .write.mode("append")
        .save_as_table("items")
        == 1
    )
    assert items.table("items").where(col("id") == 201).first() == {"id": 201, "name": "item1", "price": None}
    with pytest.raises(ColumnNotFoundError):
        items.table("items").select("id", col("name").alias("title")).write.mode("append").save_as_table("items")


def test_overwrite_mode(items: Database) -> None:
    assert items.table("items").where(col("id") > 3).write.mode("overwrite").save_as_table("items") == 2
    assert table_rows(items, "items") == ITEMS[3:]
    items.create_dataframe([{"id": 1, "label": "new"}]).write.mode("overwrite").save_as_table("items")
    assert items.table("items").collect() == [{"id": 1, "label": "new"}]
    assert items.tables() == ["items"]  # no staging table left behind


def test_overwrite_from_a_query_over_the_same_table(items: Database) -> None:
    doubled = items.table("items").select("id", "name", (col("price") * 2).alias("price"))
    assert doubled.write.mode("overwrite").save_as_table("items") == len(ITEMS)
    assert [r["price"] for r in table_rows(items, "items")] == [i["price"] * 2 for i in ITEMS]


def runtime_failure(dialect: str) -> Column:
    """An expression that compiles but makes the database fail while it computes rows."""
    if dialect == "sqlite":
        return F.when(col("id") == 3, F.json_extract(lit("{not json"), "$.a")).otherwise(col("name"))
    if dialect == "postgresql":
        return col("price") / (col("id") - 3)  # division by zero on row 3
    if dialect == "mysql":
        return col("id") + 9223372036854775807  # BIGINT overflow
    return F.when(col("id") == 3, col("name").cast("INTEGER")).otherwise(col("id"))  # 'item3' is no integer


def test_failing_overwrite_leaves_the_old_table_intact(items: Database) -> None:
    before = items.tables()
    bad = items.table("items").select("id", runtime_failure(items.dialect_name).alias("boom"))
    with pytest.raises(ExecutionError):
        bad.write.mode("overwrite").save_as_table("items")
    assert table_rows(items, "items") == ITEMS
    assert items.table("items").columns == ["id", "name", "price"]
    assert items.tables() == before  # the staging table is gone too
    # and the table still works for writes
    assert items.table("items").where(col("id") == 1).write.mode("overwrite").save_as_table("items") == 1


def test_failing_append_adds_nothing(items: Database) -> None:
    bad = (
        items.table("items")
        .select((col("id") + 10).alias("id"), "name", "price")
        .union_all(
            items.table("items").select("id", "name", "price")  # duplicate keys
        )
    )
    with pytest.raises(ExecutionError):
        bad.write.mode("append").save_as_table("items")
    assert table_rows(items, "items") == ITEMS


def test_insert_into(items: Database) -> None:
    items.create_table(
        "archive", [column("id", "INTEGER"), column("name", "VARCHAR(20)"), column("price", "DOUBLE")]
    ).collect()
    assert items.table("items").where(col("id") <= 2).write.insert_into("archive") == 2
    assert items.table("items").where(col("id") == 3).write.insertInto("archive") == 1
    assert [r["id"] for r in table_rows(items, "archive")] == [1, 2, 3]
    with pytest.raises(TableNotFoundError):
        items.table("items").write.insert_into("missing")
    assert "missing" not in items.tables()


def test_insert_into_with_overwrite_mode_replaces_rows(items: Database) -> None:
    items.create_table(
        "archive", [column("id", "INTEGER"), column("name", "VARCHAR(20)"), column("price", "DOUBLE")]
    ).collect()
    items.table("items").write.insert_into("archive")
    assert items.table("items").where(col("id") == 5).write.mode("overwrite").insert_into("archive") == 1
    assert [r["id"] for r in table_rows(items, "archive")] == [5]


def test_save_modes_are_validated(items: Database) -> None:
    with pytest.raises(ValidationError, match="unknown save mode"):
        items.table("items").write.mode("replace")
    with pytest.raises(ValidationError):
        items.table("items").write.save_as_table("x", mode="nope")
    with pytest.raises(ValidationError):
        items.table("items").write.save_as_table("")
    writer = items.table("items").write.mode("overwrite").option("k", 1).options(a=2)
    assert writer.save_as_table("items") == len(ITEMS)


def test_save_as_table_from_group_by_and_join(items: Database) -> None:
    items.create_table("sales", [column("item_id", "INTEGER"), column("qty", "INTEGER")]).collect()
    items.insert("sales", [{"item_id": 1, "qty": 2}, {"item_id": 1, "qty": 3}, {"item_id": 4, "qty": 1}])
    report = (
        items.table("items")
        .join(items.table("sales"), on=[("id", "item_id")])
        .group_by("name")
        .agg(F.sum(col("qty") * col("price")).alias("revenue"))
    )
    assert report.write.save_as_table("report") == 2
    got = {r["name"]: float(r["revenue"]) for r in items.table("report").collect()}
    assert got == {"item1": 7.5, "item4": 6.0}


@pytest.mark.notimpl(
    ["mysql"], raises=AssertionError, reason="MySQL commits DDL implicitly: CREATE TABLE cannot roll back"
)
def test_save_as_table_in_a_rolled_back_transaction(items: Database) -> None:
    with pytest.raises(RuntimeError), items.transaction():
        items.table("items").write.save_as_table("copy")
        raise RuntimeError("undo")
    assert "copy" not in items.tables()


def test_write_errors_are_moltres_errors(items: Database) -> None:
    with pytest.raises(MoltresError):
        items.table("items").select("nope").write.save_as_table("x")
    assert "x" not in items.tables()
