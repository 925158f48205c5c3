"""The plugin's helpers used directly: assertions, factories, test data files, query logging."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

import pytest

from moltres import column, connect
from moltres.integrations.pytest import (
    QueryLogger,
    TestData,
    assert_dataframe_equal,
    assert_query_count,
    assert_schema,
    create_test_df,
    make_rows,
)
from moltres.io.records import Records

PEOPLE = [{"id": 1, "name": "Ada", "score": 1.5}, {"id": 2, "name": "Alan", "score": 2.25}]


@pytest.fixture
def mem():
    with connect("sqlite://") as db:
        yield db


# --- assert_dataframe_equal -----------------------------------------------------------------------


def test_frames_equal_in_any_row_order_on_every_backend(db):
    df = create_test_df(db, PEOPLE, name="people")
    assert_dataframe_equal(df, list(reversed(PEOPLE)))
    assert_dataframe_equal(df, Records(_data=PEOPLE))
    assert_dataframe_equal(df.order_by("id"), PEOPLE, check_order=True)
    with pytest.raises(AssertionError, match="first difference at row 0"):
        assert_dataframe_equal(df.order_by("id"), list(reversed(PEOPLE)), check_order=True)


def test_frames_of_two_databases_compare(db, mem):
    assert_dataframe_equal(create_test_df(db, PEOPLE, name="people"), create_test_df(mem, PEOPLE, name="people"))


def test_numbers_compare_within_rtol(mem):
    df = mem.sql("SELECT 0.1 + 0.2 AS x")
    assert_dataframe_equal(df, [{"x": 0.3}])
    assert_dataframe_equal([{"x": Decimal("0.30")}], [{"x": 0.3}])
    with pytest.raises(AssertionError, match="beyond rtol=0; first differing rows") as info:
        assert_dataframe_equal(df, [{"x": 0.3}], rtol=0)
    assert "left:  {'x': 0.30000000000000004}" in str(info.value)
    assert_dataframe_equal([{"x": 100.0}], [{"x": 101.0}], rtol=0.02)


def test_schema_differences_are_reported(mem):
    df = create_test_df(mem, PEOPLE, name="people")
    with pytest.raises(AssertionError) as info:
        assert_dataframe_equal(df, [{"id": "1", "name": "Ada", "extra": 1}, {"id": "2", "name": "Alan", "extra": 2}])
    message = str(info.value)
    assert "columns only in left: ['score']" in message
    assert "columns only in right: ['extra']" in message
    assert "column 'id': left holds INTEGER (int), right str" in message
    assert_dataframe_equal(df.select("id"), [{"id": 1.0}, {"id": 2.0}], check_dtypes=False)


def test_a_long_diff_shows_five_rows_and_a_count(mem):
    with pytest.raises(AssertionError) as info:
        assert_dataframe_equal([{"a": i} for i in range(8)], [{"a": -1}])
    lines = str(info.value).splitlines()
    assert "  left has 8 rows, right has 1" in lines
    assert "  rows only in left (8):" in lines
    assert "    ... and 3 more" in lines


def test_nulls_and_mixed_values_sort(mem):
    rows = [{"a": None, "b": "x"}, {"a": 2, "b": None}, {"a": 1.5, "b": "y"}]
    assert_dataframe_equal(rows, list(reversed(rows)))


def test_async_frames_must_be_collected_first():
    class AsyncLike:
        schema = ()

        async def collect(self):
            return []

    with pytest.raises(TypeError, match="collect its rows first"):
        assert_dataframe_equal(AsyncLike(), [])


# --- assert_schema ----------------------------------------------------------------------------------


def test_assert_schema_on_every_backend(db):
    db.create_table(
        "t",
        [column("id", "INTEGER", primary_key=True), column("name", "VARCHAR(20)"), column("seen_at", "TIMESTAMP")],
    ).collect()
    df = db.table("t")
    assert_schema(df, {"id": int, "name": str, "seen_at": dt.datetime})
    assert_schema(df, [("id", "BIGINT"), ("name", "TEXT"), ("seen_at", None)])  # same kinds of values
    assert_schema(df, ["id", "name", "seen_at"])
    assert_schema(
        df, [column("id", "INTEGER"), column("name", "VARCHAR(20)"), column("seen_at", "TIMESTAMP")], exact_types=False
    )


def test_assert_schema_lists_each_difference(mem):
    df = mem.sql("SELECT 1 AS id, 'x' AS name")
    with pytest.raises(AssertionError) as info:
        assert_schema(mem.table("sqlite_master"), ["id"])
    assert "missing columns: ['id']" in str(info.value)
    create_test_df(mem, PEOPLE, name="people")
    with pytest.raises(AssertionError) as info:
        assert_schema(mem.table("people"), [("id", str), ("score", "INTEGER"), ("name", "TEXT")])
    message = str(info.value)
    assert "columns in another order" in message
    assert "column 'id' is INTEGER, expected str" in message
    assert "column 'score' is " in message
    with pytest.raises(AssertionError, match="expected BIGINT"):
        assert_schema(mem.table("people"), [("id", "BIGINT"), ("name", None), ("score", None)], exact_types=True)
    assert df is not None


# --- factories ---------------------------------------------------------------------------------------


def test_make_rows_is_deterministic_and_plausible():
    schema = [
        column("id", "INTEGER", primary_key=True),
        column("email", "VARCHAR(80)", unique=True),
        column("name", "TEXT"),
        column("age", "INTEGER"),
        column("price", "NUMERIC(10,2)"),
        column("active", "BOOLEAN"),
        column("born", "DATE"),
        column("seen", "TIMESTAMP"),
        column("note", "TEXT"),
    ]
    rows = make_rows(schema, 50, seed=3)
    assert rows == make_rows(schema, 50, seed=3)
    assert rows != make_rows(schema, 50, seed=4)
    assert [r["id"] for r in rows] == list(range(1, 51))
    assert len({r["email"] for r in rows}) == 50 and all("@example.com" in r["email"] for r in rows)
    assert all(18 <= r["age"] <= 90 for r in rows)
    assert all(isinstance(r["price"], Decimal) for r in rows)
    assert {type(r["active"]) for r in rows} == {bool}
    assert all(isinstance(r["born"], dt.date) and isinstance(r["seen"], dt.datetime) for r in rows)


def test_make_rows_null_fraction_spares_keys():
    rows = make_rows({"id": "INTEGER", "note": "TEXT"}, 200, seed=1, null_fraction=0.5)
    assert all(r["id"] is not None for r in rows)
    assert 50 < sum(r["note"] is None for r in rows) < 150


def test_make_rows_rejects_bad_input():
    with pytest.raises(ValueError, match="non-negative row count"):
        make_rows({"id": "INTEGER"}, -1)
    with pytest.raises(TypeError, match="cannot read a column"):
        make_rows([42], 1)


def test_create_test_df_inline_table_and_generated(db):
    inline = create_test_df(db, PEOPLE)
    assert inline.count() == 2 and "people" not in db.tables()
    table = create_test_df(db, PEOPLE, name="people")
    assert "people" in db.tables() and table.count() == 2
    generated = create_test_df(db, 7, schema={"id": "INTEGER", "city": "TEXT"}, name="places")
    assert generated.count() == 7
    with pytest.raises(ValueError, match="pass schema="):
        create_test_df(db, 3)


# --- test data ---------------------------------------------------------------------------------------


def test_test_data_converts_csv_columns(tmp_path):
    (tmp_path / "mixed.csv").write_text("i,f,b,s,e\n1,1.5,true,x,\n2,2,false,,\n")
    assert TestData(tmp_path)["mixed"] == [
        {"i": 1, "f": 1.5, "b": True, "s": "x", "e": None},
        {"i": 2, "f": 2.0, "b": False, "s": None, "e": None},
    ]


def test_test_data_schema_files_become_columns(tmp_path, mem):
    (tmp_path / "users_schema.json").write_text('{"id": "INTEGER", "name": "TEXT"}')
    (tmp_path / "orders_schema.json").write_text('[{"name": "id", "type_name": "INTEGER", "primary_key": true}]')
    data = TestData(tmp_path)
    assert mem.create_table("users", data["users_schema"]).collect()
    assert data["orders_schema"][0].primary_key is True
    assert sorted(data) == ["orders_schema", "users_schema"] and len(data) == 2


def test_test_data_errors_name_the_files(tmp_path):
    (tmp_path / "a.json").write_text("[]")
    (tmp_path / "a.csv").write_text("x\n")
    (tmp_path / "bad_schema.json").write_text("[1, 2]")
    data = TestData(tmp_path)
    with pytest.raises(KeyError, match=r"ambiguous: a\.csv, a\.json"):
        data["a"]
    with pytest.raises(KeyError, match="no test data named 'b'"):
        data["b"]
    with pytest.raises(ValueError, match="a schema file holds"):
        data["bad_schema"]
    assert dict(TestData(tmp_path / "missing")) == {}


# --- query logging -------------------------------------------------------------------------------


def test_query_logger_sorts_statements_into_kinds(db):
    with QueryLogger() as log:
        db.create_table("t", [column("a", "INTEGER")]).collect()
        db.insert("t", [{"a": 1}])
        with db.transaction():
            db.insert("t", [{"a": 2}])
        assert db.table("t").count() == 2
    kinds = {r.kind for r in log.records}
    assert [q.split()[0].upper() for q in log.queries] == ["CREATE", "INSERT", "INSERT", "SELECT"]
    assert "catalog" in kinds
    assert all(r.duration_s is not None for r in log.statements)
    assert log.total_time > 0 and repr(log) == "QueryLogger<4 queries>"


def test_query_logger_stops_recording_and_resets(mem):
    log = QueryLogger().start()
    mem.sql("SELECT 1 AS one").collect()
    log.stop()
    mem.sql("SELECT 2 AS two").collect()
    assert log.count == 1
    log.reset()
    assert log.count == 0 and log.describe() == "  (none)"


def test_query_logger_listens_only_while_recording(mem):
    # a listener on the engine sends reads through SQLAlchemy (so it sees them); once the
    # last logger stops, reads take the direct driver path again
    assert mem.executor.runs_direct()
    outer = QueryLogger().start()
    with QueryLogger() as inner:
        assert not mem.executor.runs_direct()
        mem.sql("SELECT 1 AS one").collect()
    assert not mem.executor.runs_direct()  # the outer logger still records
    mem.sql("SELECT 2 AS two").collect()
    outer.stop()
    assert mem.executor.runs_direct()
    assert (inner.count, outer.count) == (1, 2)


def test_query_logger_sees_async_statements(tmp_path):
    from moltres import async_connect

    async def main():
        adb = await async_connect(f"sqlite:///{tmp_path / 'a.sqlite'}")
        try:
            with QueryLogger() as log:
                await adb.sql("SELECT 1 AS one").collect()
            return log.queries
        finally:
            await adb.close()

    queries = asyncio.run(main())
    assert len(queries) == 1 and "SELECT 1 AS one" in queries[0]


def test_assert_query_count_lists_the_queries_when_it_fails(mem):
    with pytest.raises(AssertionError) as info, assert_query_count(1):
        mem.execute("CREATE TABLE t (a INTEGER)")
        mem.execute("INSERT INTO t VALUES (1)")
    assert str(info.value).splitlines() == [
        "expected 1 queries, 2 ran:",
        "  1. CREATE TABLE t (a INTEGER)",
        "  2. INSERT INTO t VALUES (1)",
    ]
    with pytest.raises(TypeError, match="non-negative int"), assert_query_count(-1):
        pass


def test_assert_query_count_does_not_hide_the_blocks_own_error(mem):
    with pytest.raises(ZeroDivisionError), assert_query_count(5):
        mem.sql("SELECT 1 AS one").collect()
        raise ZeroDivisionError


def test_query_logger_does_not_see_the_drivers_start_up_queries(dsn):
    with QueryLogger() as log:
        fresh = connect(dsn)  # a new engine: its first connection runs the dialect's start-up queries
        fresh.close()
    assert log.records == []
