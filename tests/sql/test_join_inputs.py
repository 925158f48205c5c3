"""A join reads a filtered or projected input through its table when SQL allows it.

``users.select(...).where(...).join(orders, ...)`` compiles to ``FROM users JOIN orders ...
WHERE <the filter>`` rather than a subquery, on the sides whose rows the join keeps as they
are (both sides of an inner or cross join, the left of a left join, the right of a right
join). A NULL-extended side keeps its subquery: its filter must run before the join and its
computed columns must come out NULL where nothing matched. Each test checks the rows against
plain Python on every backend, and the shape of the SQL where it matters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from moltres import col, lit
from moltres.expressions import functions as F
from moltres.utils.exceptions import CompilationError
from tests.dataframe import conftest as dataframe_fixtures
from tests.dataframe.conftest import ORDERS, USERS

if TYPE_CHECKING:
    from moltres import Database


shop = dataframe_fixtures.shop  # the read-only users and orders of the DataFrame tests


def ordered(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted((tuple(r.values()) for r in rows), key=repr)


def test_filtered_and_projected_inputs_of_an_inner_join_need_no_subquery(shop: Database) -> None:
    users = shop.table("users").select("id", "name", (col("age") * 2).alias("twice")).where(col("age") > 30)
    orders = shop.table("orders").where(col("status") == "paid").select("user_id", "amount")
    df = users.join(orders, on=[("id", "user_id")]).select("name", "twice", "amount")
    assert "(SELECT" not in df.to_sql()
    expected = [
        (u["name"], u["age"] * 2, o["amount"])
        for u in USERS
        for o in ORDERS
        if u["age"] > 30 and o["status"] == "paid" and o["user_id"] == u["id"]
    ]
    assert ordered(df.collect()) == sorted(expected, key=repr)


def test_a_filter_on_a_column_the_projection_left_out_still_applies(shop: Database) -> None:
    users = shop.table("users").select("id", "name").where(col("age") < 40)
    df = users.join(shop.table("orders"), on=[("id", "user_id")]).select("name", "amount")
    expected = [(u["name"], o["amount"]) for u in USERS for o in ORDERS if u["age"] < 40 and o["user_id"] == u["id"]]
    assert ordered(df.collect()) == sorted(expected, key=repr)


def left_rows(users_pred: Any, orders_pred: Any, computed: Any = None) -> list[tuple[Any, ...]]:
    out = []
    for u in USERS:
        if not users_pred(u):
            continue
        matched = [o for o in ORDERS if o["user_id"] == u["id"] and orders_pred(o)]
        out += [(u["name"], o["amount"] if computed is None else computed(o)) for o in matched]
        if not matched:
            out.append((u["name"], None))
    return sorted(out, key=repr)


def test_a_left_join_moves_only_its_left_filter(shop: Database) -> None:
    users = shop.table("users").where(col("age") > 30)
    orders = shop.table("orders").where(col("amount") > 15).select("user_id", "amount")
    df = users.join(orders, on=[("id", "user_id")], how="left").select("name", "amount")
    sql = df.to_sql()
    assert sql.count("(SELECT") == 1  # the right side only
    rows = ordered(df.collect())
    assert rows == left_rows(lambda u: u["age"] > 30, lambda o: o["amount"] > 15)
    assert ("Alan", None) in rows  # matched only by an order the right filter drops


def test_a_null_extended_side_keeps_its_computed_columns_null(shop: Database) -> None:
    orders = shop.table("orders").select("user_id", (F.coalesce(col("amount"), lit(0.0)) + 1).alias("plus"))
    df = shop.table("users").join(orders, on=[("id", "user_id")], how="left").select("name", "plus")
    rows = ordered(df.collect())
    assert rows == left_rows(lambda u: True, lambda o: True, computed=lambda o: o["amount"] + 1)
    assert ("Linus", None) in rows


def test_a_right_join_moves_only_its_right_filter(shop: Database) -> None:
    orders = shop.table("orders").where(col("amount") > 15).select("user_id", "amount")
    users = shop.table("users").where(col("age") > 30)
    df = orders.join(users, on=[("user_id", "id")], how="right").select("name", "amount")
    rows = ordered(df.collect())
    assert rows == left_rows(lambda u: u["age"] > 30, lambda o: o["amount"] > 15)


@pytest.mark.notimpl(["mysql"], raises=CompilationError, reason="MariaDB/MySQL have no FULL OUTER JOIN")
def test_a_full_join_keeps_both_filters_inside(shop: Database) -> None:
    users = shop.table("users").where(col("age") > 30).select("id", "name")
    orders = shop.table("orders").where(col("amount") > 15).select("user_id", "amount")
    df = users.join(orders, on=[("id", "user_id")], how="full").select("name", "amount")
    rows = ordered(df.collect())
    expected = left_rows(lambda u: u["age"] > 30, lambda o: o["amount"] > 15)
    kept = {u["id"] for u in USERS if u["age"] > 30}
    expected += [(None, o["amount"]) for o in ORDERS if o["amount"] > 15 and o["user_id"] not in kept]
    assert rows == sorted(expected, key=repr)


@pytest.mark.parametrize("values", [(30, 15.0, 5.0), (40, 1.0, 50.0)])
def test_values_on_both_sides_and_in_the_condition_bind_in_place(shop: Database, values: tuple[Any, ...]) -> None:
    age, amount, bonus = values  # the second set reuses the statement compiled for the first
    users = shop.table("users").where(col("age") > age).select("id", "name", "age")
    orders = shop.table("orders").where(col("amount") > amount)
    on = (col("users.id") == col("orders.user_id")) & (col("orders.amount") + bonus > col("users.age"))
    df = users.join(orders, on=on).select("name", "amount")
    expected = [
        (u["name"], o["amount"])
        for u in USERS
        for o in ORDERS
        if u["age"] > age and o["amount"] > amount and o["user_id"] == u["id"] and o["amount"] + bonus > u["age"]
    ]
    assert ordered(df.collect()) == sorted(expected, key=repr)


def test_a_self_join_without_aliases_names_its_sides_apart(shop: Database) -> None:
    users = shop.table("users")
    older = users.where(col("age") > 40).select("id", "name")
    df = users.where(col("age") < 80).join(older, on=[("id", "id")]).select("users_id", "users_name")
    assert ordered(df.collect()) == sorted(((u["id"], u["name"]) for u in USERS if 40 < u["age"] < 80), key=repr)
    limited = users.join(users.order_by("id").limit(2), on=[("id", "id")]).select("users_name")
    assert ordered(limited.collect()) == [("Ada",), ("Alan",)]


def test_a_filter_after_the_join_and_an_aggregate_over_it(shop: Database) -> None:
    df = (
        shop.table("users")
        .select("id", "city")
        .where(col("city").is_not_null())
        .join(shop.table("orders").where(col("status") != "cancelled"), on=[("id", "user_id")])
        .where(col("amount") > 6)
        .group_by("city")
        .agg(F.sum("amount").alias("total"), F.count("*").alias("n"))
        .order_by(col("total").desc())
    )
    totals: dict[str, list[float]] = {}
    for u in USERS:
        for o in ORDERS:
            if u["city"] is not None and o["status"] != "cancelled" and o["user_id"] == u["id"] and o["amount"] > 6:
                totals.setdefault(u["city"], []).append(o["amount"])
    expected = sorted(((c, sum(a), len(a)) for c, a in totals.items()), key=lambda t: -t[1])
    assert [tuple(r.values()) for r in df.collect()] == expected
