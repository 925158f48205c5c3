"""Golden SQL for the main query shapes on every dialect (sqlite, postgresql, mysql, duckdb).

The expected text lives in ``tests/sql/golden/<test>/<dialect>.sql``; regenerate it with
``pytest tests/sql --update-golden`` and review the diff. Values are always bound parameters
(``p0``, ``p1``, ...), never literals in the text: each test also checks the parameters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from moltres import col, connect, lit
from moltres.expressions import functions as F
from moltres.expressions.window import Window
from moltres.table.schema import column

if TYPE_CHECKING:
    from moltres import Database
    from tests.conftest import GoldenSQL


@pytest.fixture(scope="module")
def shop() -> Iterator[Database]:
    """Table definitions to compile against (an in-memory SQLite database reflects them)."""
    with connect("sqlite://") as db:
        db.create_table(
            "users",
            [
                column("id", "INTEGER", primary_key=True),
                column("name", "VARCHAR(50)"),
                column("age", "INTEGER"),
                column("city", "VARCHAR(50)"),
                column("born", "DATE"),
            ],
        ).collect()
        db.create_table(
            "orders",
            [
                column("id", "INTEGER", primary_key=True),
                column("user_id", "INTEGER"),
                column("amount", "DOUBLE"),
                column("status", "VARCHAR(20)"),
                column("placed", "DATE"),
            ],
        ).collect()
        yield db


def test_select(shop: Database, golden_sql: GoldenSQL) -> None:
    df = shop.table("users").select("id", col("name").alias("who"), (col("age") + 1).alias("next_age"), F.upper("city"))
    golden_sql(df, params={"p0": 1})


def test_filter(shop: Database, golden_sql: GoldenSQL) -> None:
    df = (
        shop.table("users")
        .where((col("age") >= 18) & (col("city").isin(["London", "Paris"]) | col("city").is_null()))
        .where(col("name").like("A%") & ~col("born").between(dt.date(1900, 1, 1), dt.date(1950, 12, 31)))
        .select("id", "name")
    )
    golden_sql(
        df,
        params={
            "p0": 18,
            "p1": "London",  # an IN list: one parameter per value
            "p2": "Paris",
            "p3": "A%",
            "p4": dt.date(1900, 1, 1),
            "p5": dt.date(1950, 12, 31),
        },
    )


def test_filter_string_functions(shop: Database, golden_sql: GoldenSQL) -> None:
    df = shop.table("users").where(col("name").startswith("A_") | col("city").contains("%")).select("id")
    golden_sql(df, params={"p0": "A_", "p1": "%"})


def test_join(shop: Database, golden_sql: GoldenSQL) -> None:
    df = (
        shop.table("users")
        .join(shop.table("orders"), on=[("id", "user_id")])
        .where(col("status") == "paid")
        .select("name", "amount")
    )
    golden_sql(df, params={"p0": "paid"})


def test_left_join_with_aliases(shop: Database, golden_sql: GoldenSQL) -> None:
    u, o = shop.table("users").alias("u"), shop.table("orders").alias("o")
    df = u.join(o, on=(col("u.id") == col("o.user_id")) & (col("o.amount") > 10), how="left").select(
        col("u.name"), col("o.amount")
    )
    golden_sql(df, params={"p0": 10})


def test_semi_and_anti_join(shop: Database, golden_sql: GoldenSQL) -> None:
    users, orders = shop.table("users"), shop.table("orders")
    semi = users.join(orders, on=[("id", "user_id")], how="semi").select("name")
    anti = users.join(orders.where(col("amount") > 100), on=[("id", "user_id")], how="anti").select("name")
    golden_sql(semi.union_all(anti), params={"p0": 100})


def test_group_by(shop: Database, golden_sql: GoldenSQL) -> None:
    df = (
        shop.table("orders")
        .where(col("status") != "cancelled")
        .group_by("user_id")
        .agg(F.sum("amount").alias("total"), F.count("*").alias("n"), F.avg("amount").alias("mean"))
        .where(col("total") > 25)
        .order_by(col("total").desc())
    )
    golden_sql(df, params={"p0": "cancelled", "p1": 25})


def test_window(shop: Database, golden_sql: GoldenSQL) -> None:
    by_user = Window.partition_by("user_id").order_by("placed")
    df = shop.table("orders").select(
        "id",
        F.row_number().over(by_user).alias("rn"),
        F.sum("amount").over(by_user.rows_between(Window.unbounded_preceding, Window.current_row)).alias("running"),
        F.lag("amount", 1, 0.0).over(by_user).alias("prev"),
        F.rank().over(Window.order_by(col("amount").desc())).alias("rank"),
    )
    golden_sql(df, params={"p0": 0.0})


def test_filter_on_window(shop: Database, golden_sql: GoldenSQL) -> None:
    w = Window.partition_by("user_id").order_by(col("amount").desc())
    df = (
        shop.table("orders").with_column("rn", F.row_number().over(w)).where(col("rn") == 1).select("user_id", "amount")
    )
    golden_sql(df, params={"p0": 1})


def test_order_by(shop: Database, golden_sql: GoldenSQL) -> None:
    df = (
        shop.table("users").order_by(col("city").asc_nulls_last(), col("age").desc_nulls_first(), "name").select("name")
    )
    golden_sql(df, params={})


def test_limit_offset(shop: Database, golden_sql: GoldenSQL) -> None:
    df = shop.table("users").order_by("id").offset(10).limit(5).where(col("age") > 30).select("id")
    golden_sql(df, params={"p0": 30})


def test_six_step_query(shop: Database, golden_sql: GoldenSQL) -> None:
    df = (
        shop.table("users")
        .select("id", "name", "city")
        .where(col("city") != "Nowhere")
        .join(shop.table("orders"), on=[("id", "user_id")])
        .group_by("city")
        .agg(F.sum("amount").alias("revenue"))
        .order_by(col("revenue").desc())
        .limit(3)
    )
    golden_sql(df, params={"p0": "Nowhere"})


def test_cte_and_set_operations(shop: Database, golden_sql: GoldenSQL) -> None:
    adults = shop.table("users").where(col("age") >= 18).cte("adults")
    df = adults.select(col("adults.id")).except_(shop.table("orders").select(col("user_id").alias("id"))).distinct()
    golden_sql(df, params={"p0": 18})


def test_dates(shop: Database, golden_sql: GoldenSQL) -> None:
    df = shop.table("orders").select(
        F.year("placed").alias("y"),
        F.date_trunc("month", "placed").alias("month"),
        F.date_add("placed", 7).alias("week_later"),
        F.date_diff("placed", lit(dt.date(2024, 1, 1))).alias("days"),
    )
    golden_sql(df, params={"p0": 7, "p1": dt.date(2024, 1, 1)})


def test_drop_duplicates_and_case(shop: Database, golden_sql: GoldenSQL) -> None:
    df = (
        shop.table("orders")
        .drop_duplicates(["user_id"])
        .select("user_id", F.when(col("amount") > 50, "big").otherwise("small").alias("size"))
    )
    golden_sql(df, params={"p0": 50, "p1": "big", "p2": "small"})


def test_values_are_never_literals(shop: Database) -> None:
    hostile = "x'); DROP TABLE users; --"
    df = shop.table("users").where(col("name") == hostile).select("id")
    for dialect in ("sqlite", "postgresql", "mysql", "duckdb"):
        sql = df.to_sql(dialect=dialect)
        assert "DROP" not in sql and hostile not in sql
    assert df.params == {"p0": hostile}
