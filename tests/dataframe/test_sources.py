"""DataFrame sources on every backend: db.table, db.sql, db.create_dataframe (inline and staged)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest

from moltres import col, connect
from moltres.logical import plan as p
from moltres.table.schema import column
from moltres.utils.exceptions import ExecutionError, ValidationError

if TYPE_CHECKING:
    from moltres import Database


def test_table_frames_are_reused_and_never_go_stale(db: Database) -> None:
    """db.table() hands out one frame per name: a frame is only the name (no columns, no
    types), so a table dropped and created again with other columns reads its new ones."""
    db.create_table("reused", [column("a", "INTEGER")]).collect()
    db.insert("reused", [{"a": 1}])
    first = db.table("reused")
    assert first.columns == ["a"] and first.collect() == [{"a": 1}]
    db.drop_table("reused").collect()
    db.create_table("reused", [column("b", "TEXT"), column("c", "INTEGER")]).collect()
    db.insert("reused", [{"b": "x", "c": 2}])
    again = db.table("reused")
    assert again is first
    assert again.columns == ["b", "c"] and again.collect() == [{"b": "x", "c": 2}]
    with db.engine.connect() as conn:  # a database bound to a connection has frames of its own
        scoped = db.bound_to(conn)
        bound = scoped.table("reused")
        assert bound is not again and bound.database is scoped and bound.collect() == [{"b": "x", "c": 2}]
    for bad in ("", "x" * 64, "a\x00b"):  # invalid names are refused every time, never kept
        for _ in range(2):
            with pytest.raises(ValidationError):
                db.table(bad)


def test_create_dataframe_infers_types(db: Database) -> None:
    rows = [
        {"i": 1, "f": 1.5, "s": "a", "d": dt.date(2024, 1, 2), "b": True},
        {"i": None, "f": None, "s": None, "d": None, "b": None},
    ]
    df = db.create_dataframe(rows)
    assert df.columns == ["i", "f", "s", "d", "b"]
    got = df.collect()
    assert got[0]["i"] == 1 and got[0]["s"] == "a" and got[0]["d"] == dt.date(2024, 1, 2)
    assert isinstance(got[0]["f"], float) and got[0]["f"] == 1.5
    assert bool(got[0]["b"]) is True
    assert got[1] == {"i": None, "f": None, "s": None, "d": None, "b": None}
    assert df.where(col("i") + 1 == 2).count() == 1


def test_create_dataframe_with_schema_forms(db: Database) -> None:
    rows = [{"a": 1, "b": "x"}]
    assert db.create_dataframe(rows, schema=[column("a", "INTEGER"), column("b", "TEXT")]).collect() == rows
    assert db.create_dataframe(rows, schema={"a": "INTEGER", "b": "VARCHAR(5)"}).collect() == rows
    assert db.create_dataframe(rows, schema=["b", "a"]).columns == ["b", "a"]
    empty = db.create_dataframe([], schema=[column("a", "INTEGER"), column("b", "TEXT")])
    assert empty.columns == ["a", "b"] and empty.collect() == [] and empty.count() == 0
    with pytest.raises(ValidationError):
        db.create_dataframe([])
    with pytest.raises(ValidationError):
        db.create_dataframe(rows, schema=[1, 2])  # type: ignore[arg-type]


def test_large_create_dataframe_is_staged_and_dropped_on_close(dsn: str) -> None:
    rows = [{"k": i, "v": f"v{i}"} for i in range(1_200)]
    with connect(dsn) as db:
        before = db.tables()
        df = db.create_dataframe(rows)
        assert df.count() == len(rows)
        assert df.where(col("k") >= 1_000).count() == 200
        staging = df.plan
        assert isinstance(staging, p.Table)
        assert db.table_exists(staging.name)
        assert db.tables() == before  # moltres' own staging table is no table of the user's
    with connect(dsn) as again:
        assert not again.table_exists(staging.name)
        assert again.tables() == before


def test_create_dataframe_from_pandas_and_polars(db: Database) -> None:
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    assert db.create_dataframe(pd.DataFrame({"a": [1, 2]})).where(col("a") > 1).collect() == [{"a": 2}]
    assert db.create_dataframe(pl.DataFrame({"a": [1, 2]})).count() == 2


def test_raw_sql_errors_are_moltres_errors(db: Database) -> None:
    with pytest.raises(ExecutionError):
        db.sql("SELEC 1").collect()
    with pytest.raises(ExecutionError):
        _ = db.sql("SELECT :missing AS x").columns
    with pytest.raises(ValidationError):
        db.sql("   ")


def test_error_sql_never_holds_the_values(db: Database) -> None:
    db.create_table("t", [column("id", "INTEGER", primary_key=True), column("note", "VARCHAR(40)")]).collect()
    secret = "s3cret-value-42"
    db.insert("t", [{"id": 1, "note": "a"}])
    with pytest.raises(ExecutionError) as info:
        db.insert("t", [{"id": 1, "note": secret}])
    assert secret not in (info.value.sql or "")
    with pytest.raises(ExecutionError) as info2:
        db.sql("SELECT * FROM t WHERE id = :v AND nope = 1", v=secret).collect()
    assert secret not in (info2.value.sql or "")
