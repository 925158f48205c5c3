"""DDL on every backend: create_table and every column option, if_not_exists, temporary,
drop_table, create_index, and reflection (tables, schema, table_exists)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from moltres import col
from moltres.table.mutations import DDLOperation
from moltres.table.schema import ColumnDef, column
from moltres.utils.exceptions import (
    ColumnNotFoundError,
    ExecutionError,
    MoltresError,
    TableNotFoundError,
    ValidationError,
)

if TYPE_CHECKING:
    from moltres import Database


def test_create_table_is_lazy_until_collect(db: Database) -> None:
    op = db.create_table("t", [column("id", "INTEGER", primary_key=True)])
    assert isinstance(op, DDLOperation)
    assert "CREATE TABLE" in repr(op)
    assert not db.table_exists("t")
    assert op.collect() is True
    assert db.table_exists("t")
    assert db.tables() == ["t"]


def test_column_types_round_trip(db: Database) -> None:
    db.create_table(
        "typed",
        [
            column("i", "INTEGER"),
            column("big", "BIGINT"),
            column("txt", "TEXT"),
            column("vc", "VARCHAR(20)"),
            column("r", "REAL"),
            column("dbl", "DOUBLE"),
            column("num", "NUMERIC(10,2)"),
            column("flag", "BOOLEAN"),
            column("d", "DATE"),
            column("ts", "TIMESTAMP"),
        ],
    ).collect()
    import decimal

    row = {
        "i": 7,
        "big": 2**40,
        "txt": "long text ünï",
        "vc": "short",
        "r": 1.5,
        "dbl": 2.25,
        "num": decimal.Decimal("12.34"),
        "flag": True,
        "d": dt.date(2024, 2, 29),
        "ts": dt.datetime(2024, 2, 29, 12, 30, 15),
    }
    assert db.insert("typed", [row]) == 1
    got = db.table("typed").first()
    assert got is not None
    assert got["i"] == 7 and got["big"] == 2**40
    assert got["txt"] == row["txt"] and got["vc"] == "short"
    assert got["r"] == pytest.approx(1.5) and got["dbl"] == pytest.approx(2.25)
    assert decimal.Decimal(str(got["num"])) == decimal.Decimal("12.34")
    assert bool(got["flag"]) is True
    assert got["d"] == row["d"]
    assert got["ts"] == row["ts"]


def test_primary_key_and_not_null(db: Database) -> None:
    db.create_table("t", [column("id", "INTEGER", primary_key=True), column("name", "TEXT", nullable=False)]).collect()
    db.insert("t", [{"id": 1, "name": "a"}])
    with pytest.raises(ExecutionError, match="constraint"):
        db.insert("t", [{"id": 1, "name": "dup"}])
    with pytest.raises(ExecutionError):
        db.insert("t", [{"id": 2, "name": None}])
    assert db.table("t").collect() == [{"id": 1, "name": "a"}]
    schema = {c.name: c for c in db.schema("t")}
    assert schema["id"].primary_key and not schema["id"].nullable
    assert not schema["name"].nullable and not schema["name"].primary_key


def test_composite_primary_key(db: Database) -> None:
    db.create_table(
        "t", [column("a", "INTEGER", primary_key=True), column("b", "INTEGER", primary_key=True), column("v", "TEXT")]
    ).collect()
    db.insert("t", [{"a": 1, "b": 1, "v": "x"}, {"a": 1, "b": 2, "v": "y"}])
    with pytest.raises(ExecutionError):
        db.insert("t", [{"a": 1, "b": 2, "v": "z"}])
    assert [c.name for c in db.schema("t") if c.primary_key] == ["a", "b"]


def test_defaults(db: Database) -> None:
    db.create_table(
        "t",
        [
            column("id", "INTEGER", primary_key=True),
            column("n", "INTEGER", default=5),
            column("s", "VARCHAR(20)", default="it's"),
            column("f", "DOUBLE", default=1.5),
            column("b", "BOOLEAN", default=True),
            column("ts", "TIMESTAMP", default="CURRENT_TIMESTAMP"),
        ],
    ).collect()
    db.insert("t", [{"id": 1}])
    db.insert("t", [{"id": 2, "n": 1, "s": None}])
    rows = db.table("t").order_by("id").collect()
    assert (rows[0]["n"], rows[0]["s"], rows[0]["f"], bool(rows[0]["b"])) == (5, "it's", 1.5, True)
    assert isinstance(rows[0]["ts"], dt.datetime)
    assert (rows[1]["n"], rows[1]["s"]) == (1, None)


def test_defaults_apply_to_large_batched_inserts(db: Database) -> None:
    # large loads take the fast path (COPY on PostgreSQL, Arrow on DuckDB): defaults still apply
    db.create_table("t", [column("id", "INTEGER", primary_key=True), column("n", "INTEGER", default=5)]).collect()
    assert db.insert("t", [{"id": i} for i in range(1500)]) == 1500
    assert db.table("t").where(col("n") == 5).count() == 1500


def test_unique(db: Database) -> None:
    db.create_table(
        "t", [column("id", "INTEGER", primary_key=True), column("email", "VARCHAR(50)", unique=True)]
    ).collect()
    db.insert("t", [{"id": 1, "email": "a@x"}])
    with pytest.raises(ExecutionError, match="constraint"):
        db.insert("t", [{"id": 2, "email": "a@x"}])
    assert db.table("t").count() == 1


def test_foreign_key(db: Database) -> None:
    db.create_table("parent", [column("id", "INTEGER", primary_key=True)]).collect()
    db.create_table(
        "child", [column("id", "INTEGER", primary_key=True), column("parent_id", "INTEGER", foreign_key="parent.id")]
    ).collect()
    db.insert("parent", [{"id": 1}])
    db.insert("child", [{"id": 1, "parent_id": 1}])
    with pytest.raises(ExecutionError, match="constraint"):
        db.insert("child", [{"id": 2, "parent_id": 99}])
    assert db.table("child").count() == 1
    with pytest.raises(ValidationError, match=r"table\.column"):
        column("x", "INTEGER", foreign_key="nodot").to_sa()


def test_autoincrement(db: Database) -> None:
    db.create_table(
        "t", [column("id", "INTEGER", primary_key=True, autoincrement=True), column("name", "TEXT")]
    ).collect()
    db.insert("t", [{"name": "a"}, {"name": "b"}])
    db.insert("t", [{"name": "c"}])
    ids = [r["id"] for r in db.table("t").order_by("id").collect()]
    assert len(set(ids)) == 3 and None not in ids
    assert ids == sorted(ids)


def test_integer_primary_key_without_autoincrement_accepts_given_ids(db: Database) -> None:
    db.create_table("t", [column("id", "INTEGER", primary_key=True), column("v", "TEXT")]).collect()
    db.insert("t", [{"id": 10, "v": "a"}, {"id": 3, "v": "b"}])
    assert [r["id"] for r in db.table("t").order_by("id").collect()] == [3, 10]


def test_if_not_exists(db: Database) -> None:
    cols = [column("id", "INTEGER")]
    assert db.create_table("t", cols).collect() is True
    assert db.create_table("t", cols, if_not_exists=True).collect() is False
    with pytest.raises(MoltresError):
        db.create_table("t", cols).collect()


def test_temporary_table(db: Database) -> None:
    with db.transaction():  # a temporary table lives on one connection: keep it for the block
        assert db.create_table("tmp", [column("a", "INTEGER")], temporary=True).collect() is True
        assert db.insert("tmp", [{"a": 1}, {"a": 2}]) == 2
        assert db.table("tmp").count() == 2
        assert db.table_exists("tmp")


def test_tables_lists_temporary_tables(db: Database) -> None:
    db.create_table("kept", [column("id", "INTEGER")]).collect()
    db.create_table("scratch", [column("id", "INTEGER")], temporary=True).collect()
    assert db.tables() == ["kept", "scratch"]
    assert db.table_exists("scratch")
    db.insert("scratch", [{"id": 1}])
    assert db.table("scratch").count() == 1
    db.drop_table("scratch").collect()
    assert db.tables() == ["kept"]
    assert not db.table_exists("scratch")
    with db.transaction():  # the usual way to keep a temporary table's connection
        db.create_table("scratch", [column("id", "INTEGER")], temporary=True).collect()
        assert db.tables() == ["kept", "scratch"]
        assert all(db.table_exists(name) for name in db.tables())


@pytest.mark.notimpl(
    ["mysql"], raises=AssertionError, reason="MariaDB before 11.2 keeps no catalog of temporary tables"
)
def test_tables_lists_temporary_tables_made_by_raw_sql(db: Database) -> None:
    with db.transaction():
        db.execute("CREATE TEMPORARY TABLE raw_scratch (id INTEGER)")
        assert db.table_exists("raw_scratch")
        assert db.tables() == ["raw_scratch"]


def test_tables_leaves_out_other_connections_temporary_tables(db: Database) -> None:
    with db.engine.connect() as other:  # a connection of its own, not the one db.tables() uses
        other.exec_driver_sql("CREATE TEMPORARY TABLE theirs (id INTEGER)")
        assert db.tables() == []
        assert not db.table_exists("theirs")


def test_drop_table(db: Database) -> None:
    db.create_table("t", [column("id", "INTEGER")]).collect()
    db.insert("t", [{"id": 1}])
    assert db.table("t").count() == 1  # reflected and cached
    assert db.drop_table("t").collect() is True
    assert not db.table_exists("t")
    assert db.drop_table("t").collect() is False
    with pytest.raises(TableNotFoundError):
        db.drop_table("t", if_exists=False).collect()
    with pytest.raises(TableNotFoundError):
        db.table("t").collect()


def test_recreated_table_is_reflected_again(db: Database) -> None:
    db.create_table("t", [column("a", "INTEGER")]).collect()
    assert db.table("t").columns == ["a"]
    db.drop_table("t").collect()
    db.create_table("t", [column("a", "INTEGER"), column("b", "TEXT")]).collect()
    assert db.table("t").columns == ["a", "b"]


def test_create_index(db: Database) -> None:
    db.create_table(
        "t", [column("id", "INTEGER", primary_key=True), column("k", "INTEGER"), column("v", "INTEGER")]
    ).collect()
    assert db.create_index("ix_t_k", "t", "k").collect() is True
    assert db.create_index("ix_t_kv", "t", ["k", "v"], unique=True).collect() is True
    if db.dialect_name == "duckdb":  # duckdb_engine cannot reflect indexes
        names = {r["index_name"] for r in db.sql("SELECT index_name FROM duckdb_indexes()").collect()}
    else:
        with db.engine.connect() as conn:
            names = {ix["name"] for ix in sa.inspect(conn).get_indexes("t")}
    assert {"ix_t_k", "ix_t_kv"} <= names
    db.insert("t", [{"id": 1, "k": 1, "v": 1}])
    with pytest.raises(ExecutionError):
        db.insert("t", [{"id": 2, "k": 1, "v": 1}])
    with pytest.raises(ColumnNotFoundError) as info:
        db.create_index("ix_bad", "t", ["kk"]).collect()
    assert info.value.suggestion and "k" in info.value.suggestion
    with pytest.raises(TableNotFoundError):
        db.create_index("ix_none", "nope", ["k"]).collect()


def test_tables_and_schema(db: Database) -> None:
    assert db.tables() == []
    db.create_table(
        "b_table", [column("id", "INTEGER", primary_key=True), column("name", "VARCHAR(30)", nullable=False)]
    ).collect()
    db.create_table("a_table", [column("x", "DOUBLE"), column("d", "DATE")]).collect()
    assert db.tables() == ["a_table", "b_table"]
    assert db.table_exists("a_table") and not db.table_exists("c_table")
    schema = db.schema("b_table")
    assert all(isinstance(c, ColumnDef) for c in schema)
    assert [(c.name, c.primary_key, c.nullable) for c in schema] == [("id", True, False), ("name", False, False)]
    types = {c.name: c.type_name.upper() for c in db.schema("a_table")}
    assert "DOUBLE" in types["x"] or "FLOAT" in types["x"] or "REAL" in types["x"]
    assert types["d"] == "DATE"
    with pytest.raises(TableNotFoundError) as info:
        db.schema("b_tabel")
    assert "b_table" in str(info.value.suggestion)


def test_create_table_accepts_sqlalchemy_columns(db: Database) -> None:
    db.create_table("t", [sa.Column("id", sa.Integer, primary_key=True), column("name", "TEXT")]).collect()
    assert db.table("t").columns == ["id", "name"]


def test_create_table_validation(db: Database) -> None:
    with pytest.raises(ValidationError, match="at least one column"):
        db.create_table("t", []).collect()
    with pytest.raises(ValidationError, match="twice"):
        db.create_table("t", [column("a"), column("a")]).collect()
    with pytest.raises(ValidationError):
        db.create_table("t", ["a"]).collect()  # type: ignore[list-item]
    with pytest.raises(ValidationError):
        column("a", "NOT A TYPE !!")
    with pytest.raises(ValidationError, match="default"):
        db.create_table("t", [column("a", "INTEGER", default=object())])
    assert db.tables() == []
