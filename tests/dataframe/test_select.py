"""Column-shaping builders on every backend: select, select_expr, where/filter, with_column(s),
drop, with_column_renamed, alias."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from moltres import col, lit
from moltres.expressions import functions as F
from moltres.table.schema import column
from moltres.utils.exceptions import ColumnNotFoundError, ValidationError
from tests.dataframe.conftest import ORDERS, USERS

if TYPE_CHECKING:
    from moltres import Database


def test_table_reads_every_row_and_column(shop: Database) -> None:
    rows = shop.table("users").order_by("id").collect()
    assert rows == USERS


def test_select_names_and_expressions(shop: Database) -> None:
    df = shop.table("users").select("id", "name", (col("age") + 1).alias("next_age")).order_by("id")
    assert df.columns == ["id", "name", "next_age"]
    assert df.collect() == [{"id": u["id"], "name": u["name"], "next_age": u["age"] + 1} for u in USERS]


def test_select_list_argument_and_star(shop: Database) -> None:
    users = shop.table("users")
    assert users.select(["id", "name"]).columns == ["id", "name"]  # type: ignore[arg-type]
    assert users.select("*").columns == list(USERS[0])
    assert users.select().columns == list(USERS[0])
    assert users.alias("u").select("u.*").columns == list(USERS[0])


def test_select_expr_parses_strings(shop: Database) -> None:
    df = shop.table("users").select_expr("name", "age * 2 AS double_age", "age > 40 AS senior").order_by("name")
    assert df.columns == ["name", "double_age", "senior"]
    rows = {r["name"]: r for r in df.collect()}
    for u in USERS:
        assert rows[u["name"]]["double_age"] == u["age"] * 2
        assert bool(rows[u["name"]]["senior"]) is (u["age"] > 40)
    assert shop.table("users").selectExpr("id").columns == ["id"]


def test_where_with_expressions(shop: Database) -> None:
    users = shop.table("users")
    got = users.where((col("age") > 30) & (col("city") != "London")).select("id").order_by("id").collect()
    assert [r["id"] for r in got] == [u["id"] for u in USERS if u["age"] > 30 and u["city"] not in (None, "London")]
    got = users.filter((col("age") < 30) | col("city").is_null()).select("id").order_by("id").collect()
    assert [r["id"] for r in got] == [4]
    got = users.where(~(col("age") > 30)).select("id").collect()
    assert [r["id"] for r in got] == [4]


def test_where_with_sql_strings(shop: Database) -> None:
    users = shop.table("users")
    got = users.where("age > 40 AND name LIKE 'A%'").select("name").collect()
    assert got == [{"name": "Alan"}]
    got = users.filter("city IS NULL").select("name").collect()
    assert got == [{"name": "Linus"}]


def test_chained_filters_are_anded(shop: Database) -> None:
    got = shop.table("users").where(col("age") > 30).where(col("age") < 80).select("id").order_by("id").collect()
    assert [r["id"] for r in got] == [u["id"] for u in USERS if 30 < u["age"] < 80]


def test_filter_after_select_uses_computed_column(shop: Database) -> None:
    df = shop.table("users").select("name", (col("age") * 2).alias("a2")).where(col("a2") > 100).order_by("name")
    assert df.collect() == [{"name": "Edsger", "a2": 144}, {"name": "Grace", "a2": 170}]


def test_with_column_adds_and_replaces(shop: Database) -> None:
    df = shop.table("users").with_column("age", col("age") + 100).with_column("one", lit(1)).order_by("id")
    assert df.columns == [*USERS[0], "one"]
    rows = df.collect()
    assert [r["age"] for r in rows] == [u["age"] + 100 for u in USERS]
    assert {r["one"] for r in rows} == {1}
    assert shop.table("users").withColumn("x", lit("x")).select("x").first() == {"x": "x"}


def test_with_column_refers_to_earlier_with_column(shop: Database) -> None:
    df = shop.table("users").with_column("a", col("age") + 1).with_column("b", col("a") * 2).select("id", "b")
    assert df.where(col("id") == 1).collect() == [{"id": 1, "b": 74}]


def test_with_columns_mapping_and_keywords(shop: Database) -> None:
    df = shop.table("users").with_columns({"a": lit(1)}, b=col("age") - 1).select("id", "a", "b").order_by("id")
    assert df.first() == {"id": 1, "a": 1, "b": 35}
    with pytest.raises(ValidationError):
        shop.table("users").with_columns()


def test_drop(shop: Database) -> None:
    df = shop.table("users").drop("born", "score")
    assert df.columns == ["id", "name", "age", "city"]
    assert len(df.collect()) == len(USERS)
    with pytest.raises(ColumnNotFoundError) as info:
        _ = shop.table("users").drop("nmae").columns
    assert "name" in str(info.value.suggestion)


def test_with_column_renamed(shop: Database) -> None:
    df = shop.table("users").with_column_renamed("name", "full_name")
    assert df.columns == ["id", "full_name", "age", "city", "born", "score"]
    assert df.where(col("full_name") == "Ada").select("id").collect() == [{"id": 1}]
    assert shop.table("users").withColumnRenamed("id", "key").select("key").order_by("key").first() == {"key": 1}


def test_alias_qualifies_columns(shop: Database) -> None:
    u = shop.table("users").alias("u")
    assert u.where(col("u.age") > 80).select(col("u.name")).collect() == [{"name": "Grace"}]


def test_alias_of_derived_frame(shop: Database) -> None:
    older = shop.table("users").where(col("age") > 40).alias("older")
    assert older.select(col("older.name")).order_by(col("older.name")).collect() == [
        {"name": "Alan"},
        {"name": "Edsger"},
        {"name": "Grace"},
    ]


def test_computed_columns_are_named(shop: Database) -> None:
    df = shop.table("orders").select(F.upper("status"), col("amount") * 2)
    assert len(df.columns) == 2
    assert len(set(df.columns)) == 2
    assert len(df.collect()) == len(ORDERS)


def test_builders_do_not_run_anything(shop: Database) -> None:
    # an unknown column is only found when the query compiles, never when building
    df = shop.table("users").select("nope").where(col("other") > 1)
    with pytest.raises(ColumnNotFoundError):
        df.collect()


def test_integer_literals_beyond_32_bits(db: Database) -> None:
    # PostgreSQL casts each parameter: an INTEGER cast of 2**40 is out of range
    db.create_table("big", [column("id", "BIGINT", primary_key=True), column("n", "INTEGER")]).collect()
    db.insert("big", [{"id": 2**40, "n": 1}, {"id": 7, "n": 2}, {"id": -(2**35), "n": 3}])
    table = db.table("big")
    assert table.where(col("id") == 7).select("n").collect() == [{"n": 2}]  # cached for this shape
    assert table.where(col("id") == 2**40).select("n").collect() == [{"n": 1}]
    assert table.where(col("id") == -(2**35)).select("n").collect() == [{"n": 3}]
    assert table.where(col("id").isin([2**40, 7])).count() == 2
    assert table.select((col("n") + 2**33).alias("m")).order_by("m").collect()[0] == {"m": 2**33 + 1}


def test_time_zone_aware_timestamps_come_back_as_the_same_instant(db: Database) -> None:
    import datetime as dt

    if db.dialect_name == "mysql":
        pytest.skip("MariaDB has no time-zone-aware timestamp type")
    instant = dt.datetime(2024, 1, 1, 12, 30, tzinfo=dt.timezone.utc)
    db.create_table("events", [column("id", "INTEGER"), column("at", "TIMESTAMP WITH TIME ZONE")]).collect()
    db.insert("events", [{"id": 1, "at": instant}])
    (row,) = db.table("events").collect()
    value = row["at"]
    if db.dialect_name == "sqlite":  # no time zones: SQLAlchemy stores the UTC wall time
        assert value == instant.replace(tzinfo=None)
    else:
        assert value == instant and value.utcoffset() is not None
    assert db.table("events").where(col("at") == instant).select("id").collect() == [{"id": 1}]
