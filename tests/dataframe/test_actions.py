"""Terminal actions on every backend: collect, streaming, first/head/take, count, show, interop,
columns/schema, explain, to_sql/show_sql."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest

from moltres import col, connect
from moltres.expressions import functions as F
from moltres.utils.exceptions import ValidationError
from tests.dataframe.conftest import ORDERS, USERS, seed

if TYPE_CHECKING:
    from moltres import Database
    from moltres.dataframe.dataframe import DataFrame


def test_collect_returns_dicts_with_python_values(shop: Database) -> None:
    rows = shop.table("users").order_by("id").collect()
    assert rows == USERS
    assert isinstance(rows[0]["born"], dt.date)
    assert isinstance(rows[0]["score"], float)


def test_collect_stream_yields_bounded_chunks(shop: Database) -> None:
    chunks = list(shop.table("orders").order_by("id").collect(stream=True, batch_size=4))
    assert [len(c) for c in chunks] == [4, 2]
    assert [r for c in chunks for r in c] == ORDERS


def test_iter_batches_and_iteration(shop: Database) -> None:
    df = shop.table("orders").order_by("id")
    batches = list(df.iter_batches(2))
    assert [len(b) for b in batches] == [2, 2, 2]
    assert [r for b in batches for r in b] == ORDERS
    assert list(df) == ORDERS
    assert list(shop.table("orders").where(col("id") < 0).iter_batches(3)) == []
    for bad in (0, -1, 1.5):
        with pytest.raises(ValidationError):
            df.iter_batches(bad)  # type: ignore[arg-type]


def test_stream_can_stop_early_and_connection_is_reusable(shop: Database) -> None:
    stream = shop.table("orders").order_by("id").collect(stream=True, batch_size=1)
    assert next(stream) == [ORDERS[0]]
    stream.close()  # type: ignore[attr-defined]
    assert shop.table("orders").count() == len(ORDERS)


def test_stream_many_rows_in_batches(shop: Database) -> None:
    # a cross join makes 5 * 6 * 6 * 6 rows without a table of that size
    o2, o3, o4 = (shop.table("orders").alias(a) for a in ("o2", "o3", "o4"))
    big = shop.table("users").cross_join(o2).cross_join(o3).cross_join(o4).select(col("o2.id").alias("x"))
    sizes = [len(b) for b in big.iter_batches(500)]
    assert sum(sizes) == len(USERS) * len(ORDERS) ** 3
    assert max(sizes) == 500


def test_first_head_take(shop: Database) -> None:
    ordered = shop.table("users").order_by("id")
    assert ordered.first() == USERS[0]
    assert shop.table("users").where(col("id") < 0).first() is None
    assert ordered.head(2) == USERS[:2]
    assert ordered.head() == USERS[:5]
    assert ordered.take(3) == USERS[:3]


def test_count(shop: Database) -> None:
    assert shop.table("users").count() == len(USERS)
    assert shop.table("users").where(col("age") > 40).count() == sum(u["age"] > 40 for u in USERS)
    assert shop.table("orders").group_by("user_id").count().count() == len({o["user_id"] for o in ORDERS})
    assert shop.table("users").where(col("id") < 0).count() == 0
    assert shop.sql("SELECT id FROM users").count() == len(USERS)


def test_show_prints_a_table(shop: Database, capsys: pytest.CaptureFixture[str]) -> None:
    shop.table("users").select("id", "name", "city").order_by("id").show(2)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("+") and out[-1].startswith("+")
    assert out[1].split("|")[1:4] == [" id ", " name ", " city     "] or "id" in out[1]
    body = out[3:-1]
    assert len(body) == 2 and "Ada" in body[0] and "Alan" in body[1]
    shop.table("users").select("name", "city").where(col("id") == 4).show()
    assert "NULL" in capsys.readouterr().out
    shop.table("users").select(
        F.concat("name", "name", "name", "name", "name", "name", "name", "name").alias("long")
    ).show(1, truncate=10)
    assert "…" in capsys.readouterr().out


def test_columns_schema_dtypes_run_no_query(shop: Database) -> None:
    df = shop.table("users").select("id", "name", (col("age") * 1.5).alias("f"), col("born"))
    assert df.columns == ["id", "name", "f", "born"]
    schema = dict(df.schema)
    assert schema["id"].upper().startswith(("INT", "BIGINT"))
    assert "CHAR" in schema["name"].upper() or "TEXT" in schema["name"].upper()
    assert schema["born"].upper() == "DATE"
    assert df.dtypes == df.schema


def test_to_sql_has_placeholders_not_values(shop: Database) -> None:
    df = shop.table("users").where(col("name") == "Ada'; DROP TABLE users; --").select("id")
    sql = df.to_sql()
    assert "DROP TABLE" not in sql
    assert "Ada" not in sql
    assert df.sql == sql
    assert list(df.params.values()) == ["Ada'; DROP TABLE users; --"]
    assert df.collect() == []


def test_show_sql(shop: Database, capsys: pytest.CaptureFixture[str]) -> None:
    df = shop.table("users").select("name").where(col("age") > 40)
    df.show_sql()
    assert capsys.readouterr().out.strip() == df.to_sql().strip()


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql", "mysql", "duckdb"])
def test_to_sql_for_another_dialect(shop: Database, dialect: str) -> None:
    df = shop.table("users").select("name").where(col("age") > 40).order_by(col("name").desc_nulls_last()).limit(2)
    sql = df.to_sql(dialect=dialect)
    assert "users" in sql and "40" not in sql


def test_to_sql_for_a_dialect_is_what_that_database_shows(shop: Database) -> None:
    # SQL rendered for a dialect from elsewhere (here an in-memory SQLite database with the
    # same tables) uses that database's own placeholders: $1 on DuckDB, %(p0)s on MariaDB
    def query(db: Database) -> DataFrame:
        users = db.table("users").where((col("age") > 40) & col("city").isin(["London", "Austin"]))
        return users.select("id", F.upper("name").alias("who")).order_by("id").limit(3)

    with connect("sqlite://") as offline:
        seed(offline)
        elsewhere = query(offline).to_sql(dialect=shop.dialect_name)
    assert elsewhere == query(shop).to_sql()


def test_explain(shop: Database) -> None:
    plan = shop.table("users").join(shop.table("orders"), on=[("id", "user_id")]).where(col("age") > 30).explain()
    assert isinstance(plan, str) and plan.strip()


def test_to_pandas(shop: Database) -> None:
    pd = pytest.importorskip("pandas")
    frame = shop.table("users").order_by("id").to_pandas()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == list(USERS[0])
    assert frame.shape == (len(USERS), len(USERS[0]))
    assert frame["name"].tolist() == [u["name"] for u in USERS]
    empty = shop.table("users").where(col("id") < 0).to_pandas()
    assert list(empty.columns) == list(USERS[0]) and len(empty) == 0


def test_to_polars(shop: Database) -> None:
    pl = pytest.importorskip("polars")
    frame = shop.table("orders").order_by("id").to_polars()
    assert isinstance(frame, pl.DataFrame)
    assert frame.columns == list(ORDERS[0])
    assert frame["amount"].to_list() == [o["amount"] for o in ORDERS]
    assert shop.table("orders").where(col("id") < 0).to_polars().columns == list(ORDERS[0])


def test_to_arrow(shop: Database) -> None:
    pa = pytest.importorskip("pyarrow")
    table = shop.table("orders").order_by("id").to_arrow()
    assert isinstance(table, pa.Table)
    assert table.column_names == list(ORDERS[0])
    assert table.num_rows == len(ORDERS)
    assert table.column("id").to_pylist() == [o["id"] for o in ORDERS]
    assert shop.table("orders").where(col("id") < 0).to_arrow().num_rows == 0


def test_to_dicts(shop: Database) -> None:
    assert shop.table("users").order_by("id").to_dicts() == USERS


def test_repeated_shape_with_new_values_gives_new_results(shop: Database) -> None:
    # compiled SQL is cached by plan shape: new literal values must still be used
    for age in (30, 40, 50, 80):
        got = shop.table("users").where(col("age") > age).select("id").order_by("id").collect()
        assert [r["id"] for r in got] == [u["id"] for u in USERS if u["age"] > age]
    for names in (["Ada"], ["Ada", "Grace"], ["x", "y", "z"]):
        matched = shop.table("users").where(col("name").isin(names)).count()
        assert matched == sum(u["name"] in names for u in USERS)


def test_float_columns_stay_floats_through_arithmetic(shop: Database) -> None:
    row = (
        shop.table("orders")
        .group_by("user_id")
        .agg(F.sum("amount").alias("t"), F.max("amount").alias("m"))
        .with_column("t2", col("t") * 2)
        .with_column("m1", col("m") + 1)
        .where(col("user_id") == 1)
        .first()
    )
    assert row is not None
    assert all(isinstance(row[k], float) for k in ("t", "m", "t2", "m1")), row
    assert (row["t2"], row["m1"]) == (60.0, 21.0)
