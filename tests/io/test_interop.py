"""pandas, polars and Arrow on every backend: columnar fetches, and frames in as DataFrames or rows."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import TYPE_CHECKING, Any

import pytest

pa = pytest.importorskip("pyarrow")
pd = pytest.importorskip("pandas")
pl = pytest.importorskip("polars")

from moltres import col  # noqa: E402
from moltres.expressions import functions as F  # noqa: E402
from moltres.io.formats.arrow import iter_arrow_batches  # noqa: E402
from moltres.io.records import Records  # noqa: E402
from moltres.table.schema import column  # noqa: E402
from moltres.utils.exceptions import ExecutionError  # noqa: E402

if TYPE_CHECKING:
    from moltres import Database

ROWS: list[dict[str, Any]] = [
    {
        "id": 1,
        "name": "Ada",
        "score": 9.5,
        "born": dt.date(1815, 12, 10),
        "seen": dt.datetime(2024, 1, 2, 3, 4, 5),
        "price": decimal.Decimal("10.25"),
        "active": True,
    },
    {"id": 2, "name": None, "score": None, "born": None, "seen": None, "price": None, "active": None},
    {
        "id": 3,
        "name": "Grace",
        "score": -1.0,
        "born": dt.date(1906, 12, 9),
        "seen": dt.datetime(2023, 5, 6),
        "price": decimal.Decimal("0.10"),
        "active": False,
    },
]


@pytest.fixture
def people(db: Database) -> Database:
    db.create_table(
        "people",
        [
            column("id", "INTEGER"),
            column("name", "TEXT"),
            column("score", "DOUBLE"),
            column("born", "DATE"),
            column("seen", "TIMESTAMP"),
            column("price", "NUMERIC(10,2)"),
            column("active", "BOOLEAN"),
        ],
    ).collect()
    db.insert("people", ROWS)
    return db


def test_to_arrow_is_typed_from_the_query(people: Database) -> None:
    table = people.table("people").order_by("id").to_arrow()
    assert table.column_names == list(ROWS[0])
    types = dict(zip(table.column_names, table.schema.types, strict=True))
    assert pa.types.is_integer(types["id"]) and pa.types.is_floating(types["score"])
    assert types["born"] == pa.date32() and pa.types.is_timestamp(types["seen"])
    assert pa.types.is_decimal(types["price"])
    assert table.to_pylist()[0]["price"] == decimal.Decimal("10.25")
    assert [r["name"] for r in table.to_pylist()] == ["Ada", None, "Grace"]
    empty = people.table("people").where(col("id") > 99).to_arrow()
    assert empty.num_rows == 0 and empty.schema.field("born").type == pa.date32()


def test_arrow_batches_are_bounded(people: Database) -> None:
    people.insert("people", [{"id": i} for i in range(10, 260)])
    sizes = [b.num_rows for b in iter_arrow_batches(people.table("people"), batch_size=100)]
    assert sum(sizes) == 253 and max(sizes) <= 100


def test_raw_sql_columns_take_the_type_of_their_values(people: Database) -> None:
    table = people.sql("SELECT id, name FROM people WHERE id > :n ORDER BY id", n=1).to_arrow()
    assert table.to_pylist() == [{"id": 2, "name": None}, {"id": 3, "name": "Grace"}]


def test_to_pandas_and_to_polars(people: Database) -> None:
    frame = people.table("people").order_by("id").to_pandas()
    assert list(frame.columns) == list(ROWS[0]) and len(frame) == 3
    assert frame["score"].isna().tolist() == [False, True, False]
    assert frame.loc[0, "name"] == "Ada"
    polars = people.table("people").order_by("id").to_polars()
    assert polars.columns == list(ROWS[0])
    assert polars["name"].to_list() == ["Ada", None, "Grace"]
    assert polars["born"].dtype == pl.Date
    assert people.table("people").where(col("id") > 99).to_polars().shape == (0, 7)


@pytest.mark.parametrize("size", [3, 2000])  # inlined in the query, or staged in a table
@pytest.mark.parametrize("kind", ["pandas", "polars", "arrow"])
def test_create_dataframe_from_frames(people: Database, kind: str, size: int) -> None:
    data = {
        "id": list(range(size)),
        "x": [i * 0.5 for i in range(size)],
        "tag": ["a" if i % 2 else None for i in range(size)],
    }
    frame = {"pandas": pd.DataFrame, "polars": pl.DataFrame, "arrow": pa.table}[kind](data)
    df = people.create_dataframe(frame)
    assert df.columns == ["id", "x", "tag"]
    assert df.count() == size
    assert df.where(col("tag").is_null()).count() == (size + 1) // 2
    joined = df.join(people.table("people"), on=[("id", "id")])
    assert joined.count() == len({1, 2, 3} & set(range(size)))
    renamed = people.create_dataframe(frame, schema=["a", "b", "c"])
    assert renamed.columns == ["a", "b", "c"]


def test_pandas_missing_values_insert_as_null(people: Database) -> None:
    frame = pd.DataFrame(
        {
            "id": [7, 8],
            "name": ["Eve", None],
            "score": [1.5, float("nan")],
            "seen": [pd.Timestamp("2024-01-01"), pd.NaT],
        }
    )
    assert people.insert("people", frame) == 2
    assert Records(_data=frame.assign(id=[9, 10]), _database=people).insert_into("people") == 2
    rows = people.table("people").where(col("id") >= 7).order_by("id").select("name", "score", "seen").collect()
    assert rows[1] == {"name": None, "score": None, "seen": None}
    assert rows[0]["seen"] == dt.datetime(2024, 1, 1)


def test_arrow_fetch_keeps_order_aliases_and_sets(people: Database) -> None:
    doubled = people.table("people").select("id", (col("score") * 2).alias("double")).where(col("score").is_not_null())
    assert doubled.order_by(col("double").desc()).to_arrow().column("id").to_pylist() == [1, 3]
    names = people.table("people").select("name").distinct().order_by("name")
    assert names.to_arrow().column("name").to_pylist() in ([None, "Ada", "Grace"], ["Ada", "Grace", None])
    both = people.table("people").select("born").union_all(people.table("people").select("born"))
    assert both.to_arrow().schema.field("born").type == pa.date32()
    counts = people.table("people").group_by("active").agg(F.count("*").alias("n")).order_by(col("n").desc())
    assert sum(counts.to_arrow().column("n").to_pylist()) == 3


def test_arrow_fetch_in_a_transaction_is_the_same(people: Database) -> None:
    # outside a transaction rows come straight from a DB-API cursor; inside, through SQLAlchemy
    query = people.table("people").order_by("id")
    direct = query.to_arrow()
    with people.transaction():
        people.insert("people", [{"id": 4, "name": "Edsger"}])
        inside = query.to_arrow()
    assert inside.num_rows == 4 and inside.slice(0, 3).equals(direct)
    assert query.where(col("id") > 3).to_arrow().column("name").to_pylist() == ["Edsger"]


def test_arrow_fetch_errors_are_those_of_collect(people: Database) -> None:
    # PostgreSQL and DuckDB refuse the cast; SQLite and MariaDB make it 0
    query = people.table("people").where(col("id") == 1).select(col("name").cast("INTEGER").alias("n"))
    try:
        expected = query.collect()
    except ExecutionError as exc:
        assert people.dialect_name in ("postgresql", "duckdb")
        with pytest.raises(ExecutionError) as info:
            query.to_arrow()
        assert info.value.sql == exc.sql and "CAST" in str(info.value)
        assert people.table("people").count() == 3  # the connection is still good
    else:
        assert query.to_arrow().to_pylist() == expected
