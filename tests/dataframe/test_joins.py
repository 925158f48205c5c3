"""Joins on every backend: each join type, each form of ``on=``, and name clashes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from moltres import col
from moltres.utils.exceptions import CompilationError, ValidationError
from tests.dataframe.conftest import ORDERS, USERS

if TYPE_CHECKING:
    from moltres import Database


def pairs(rows: list[dict[str, Any]]) -> list[tuple[Any, Any]]:
    return sorted(((r["name"], r["amount"]) for r in rows), key=lambda t: (str(t[0]), str(t[1])))


def expected(how: str) -> list[tuple[Any, Any]]:
    out: list[tuple[Any, Any]] = []
    for u in USERS:
        matched = [o for o in ORDERS if o["user_id"] == u["id"]]
        out += [(u["name"], o["amount"]) for o in matched]
        if not matched and how in ("left", "full"):
            out.append((u["name"], None))
    if how in ("right", "full"):
        ids = {u["id"] for u in USERS}
        out += [(None, o["amount"]) for o in ORDERS if o["user_id"] not in ids]
    return sorted(out, key=lambda t: (str(t[0]), str(t[1])))


@pytest.mark.parametrize("how", ["inner", "left", "right"])
def test_outer_joins(shop: Database, how: str) -> None:
    users, orders = shop.table("users"), shop.table("orders")
    rows = users.join(orders, on=[("id", "user_id")], how=how).select("name", "amount").collect()
    assert pairs(rows) == expected(how)


@pytest.mark.notimpl(["mysql"], raises=CompilationError, reason="MariaDB/MySQL have no FULL OUTER JOIN")
def test_full_outer_join(shop: Database) -> None:
    users, orders = shop.table("users"), shop.table("orders")
    rows = users.join(orders, on=[("id", "user_id")], how="full").select("name", "amount").collect()
    assert pairs(rows) == expected("full")


@pytest.mark.parametrize("how", ["left_outer", "leftouter", "right_outer", "outer", "full_outer", "LEFT"])
def test_join_type_aliases_are_accepted(shop: Database, how: str) -> None:
    users, orders = shop.table("users"), shop.table("orders")
    df = users.join(orders, on=[("id", "user_id")], how=how).select("name")
    if shop.dialect_name == "mysql" and ("full" in how or how == "outer"):
        with pytest.raises(CompilationError, match="mysql"):
            df.collect()
        return
    assert len(df.collect()) >= 5


def test_join_on_expression_with_aliases(shop: Database) -> None:
    u, o = shop.table("users").alias("u"), shop.table("orders").alias("o")
    rows = (
        u.join(o, on=(col("u.id") == col("o.user_id")) & (col("o.amount") > 5), how="left")
        .select(col("u.name"), col("o.amount"))
        .collect()
    )
    want = []
    for user in USERS:
        matched = [x["amount"] for x in ORDERS if x["user_id"] == user["id"] and x["amount"] > 5]
        want += [(user["name"], a) for a in matched] or [(user["name"], None)]
    assert pairs(rows) == sorted(want, key=lambda t: (str(t[0]), str(t[1])))


def test_join_on_list_of_expressions(shop: Database) -> None:
    u, o = shop.table("users").alias("u"), shop.table("orders").alias("o")
    rows = u.join(o, on=[col("u.id") == col("o.user_id"), col("o.status") == "paid"]).select("name", "amount").collect()
    want = [
        (x["name"], y["amount"]) for x in USERS for y in ORDERS if y["user_id"] == x["id"] and y["status"] == "paid"
    ]
    assert pairs(rows) == sorted(want, key=lambda t: (str(t[0]), str(t[1])))


def test_join_on_common_column_names_keeps_the_key_once(shop: Database) -> None:
    left = shop.table("users").select(col("id").alias("user_id"), "name")
    right = shop.table("orders").select("user_id", "amount")
    df = left.join(right, on="user_id")
    assert df.columns == ["user_id", "name", "amount"]
    assert pairs(df.collect()) == expected("inner")
    df2 = left.join(right, on=["user_id"], how="left")
    assert pairs(df2.collect()) == expected("left")


def test_right_join_on_names_keeps_right_key(shop: Database) -> None:
    left = shop.table("users").select(col("id").alias("user_id"), "name")
    right = shop.table("orders").select("user_id", "amount")
    rows = left.join(right, on="user_id", how="right").select("user_id", "amount").collect()
    assert sorted((r["user_id"], r["amount"]) for r in rows) == sorted((o["user_id"], o["amount"]) for o in ORDERS)


@pytest.mark.notimpl(["mysql"], raises=CompilationError, reason="MariaDB/MySQL have no FULL OUTER JOIN")
def test_full_join_on_names_coalesces_key(shop: Database) -> None:
    left = shop.table("users").select(col("id").alias("user_id"), "name")
    right = shop.table("orders").select("user_id", "amount")
    rows = left.join(right, on="user_id", how="full").select("user_id").collect()
    keys = {r["user_id"] for r in rows}
    assert None not in keys
    assert keys == {u["id"] for u in USERS} | {o["user_id"] for o in ORDERS}


def test_cross_join(shop: Database) -> None:
    users = shop.table("users").select("id")
    statuses = shop.table("orders").select("status").distinct()
    assert users.join(statuses, how="cross").count() == len(USERS) * len({o["status"] for o in ORDERS})
    assert users.cross_join(statuses).count() == len(USERS) * 3


def test_semi_and_anti_join(shop: Database) -> None:
    users, orders = shop.table("users"), shop.table("orders")
    semi = users.join(orders, on=[("id", "user_id")], how="semi").select("name").order_by("name").collect()
    with_orders = {o["user_id"] for o in ORDERS}
    assert [r["name"] for r in semi] == sorted(u["name"] for u in USERS if u["id"] in with_orders)
    anti = users.join(orders, on=[("id", "user_id")], how="anti").select("name").order_by("name").collect()
    assert [r["name"] for r in anti] == sorted(u["name"] for u in USERS if u["id"] not in with_orders)
    # a semi join keeps the left columns only, and each left row once
    assert users.join(orders, on=[("id", "user_id")], how="left_semi").columns == list(USERS[0])


def test_semi_join_on_expression(shop: Database) -> None:
    u, o = shop.table("users").alias("u"), shop.table("orders").alias("o")
    rows = u.join(o, on=(col("u.id") == col("o.user_id")) & (col("o.amount") > 50), how="semi").select("name").collect()
    assert rows == [{"name": "Grace"}]


def test_self_join(shop: Database) -> None:
    a, b = shop.table("users").alias("a"), shop.table("users").alias("b")
    rows = (
        a.join(b, on=col("a.age") < col("b.age"))
        .where(col("b.name") == "Grace")
        .select(col("a.name").alias("younger"))
        .order_by("younger")
        .collect()
    )
    assert [r["younger"] for r in rows] == sorted(u["name"] for u in USERS if u["age"] < 85)


def test_clashing_column_names_are_renamed_and_ambiguous_unqualified(shop: Database) -> None:
    users, orders = shop.table("users"), shop.table("orders")
    df = users.join(orders, on=[("id", "user_id")])
    assert df.columns.count("id") == 1
    assert len(df.columns) == len(set(df.columns))
    with pytest.raises(ValidationError, match="ambiguous"):
        df.select("id").collect()
    rows = df.select(col("orders.id").alias("oid"), col("users.id").alias("uid")).order_by("oid").collect()
    assert [(r["oid"], r["uid"]) for r in rows] == [(o["id"], o["user_id"]) for o in ORDERS if o["user_id"] <= 5]


def test_join_then_group(shop: Database) -> None:
    from moltres.expressions import functions as F

    users, orders = shop.table("users"), shop.table("orders")
    rows = (
        users.join(orders, on=[("id", "user_id")])
        .group_by("name")
        .agg(F.sum("amount").alias("total"))
        .order_by("name")
        .collect()
    )
    totals: dict[str, float] = {}
    for u in USERS:
        for o in ORDERS:
            if o["user_id"] == u["id"]:
                totals[u["name"]] = totals.get(u["name"], 0) + o["amount"]
    assert [(r["name"], float(r["total"])) for r in rows] == sorted(totals.items())


def test_three_way_join(shop: Database) -> None:
    users = shop.table("users").alias("u")
    orders = shop.table("orders").alias("o")
    buddies = shop.table("users").alias("b")
    rows = (
        users.join(orders, on=col("u.id") == col("o.user_id"))
        .join(buddies, on=col("b.id") == col("u.id") + 1)
        .select(col("u.name").alias("who"), col("b.name").alias("next"), col("o.amount"))
        .collect()
    )
    names = {u["id"]: u["name"] for u in USERS}
    want = sorted(
        (names[o["user_id"]], names[o["user_id"] + 1], o["amount"])
        for o in ORDERS
        if o["user_id"] in names and o["user_id"] + 1 in names
    )
    assert sorted((r["who"], r["next"], r["amount"]) for r in rows) == want


def test_join_bad_arguments(shop: Database) -> None:
    users, orders = shop.table("users"), shop.table("orders")
    with pytest.raises(ValidationError, match="unknown join type"):
        users.join(orders, on=[("id", "user_id")], how="sideways")
    with pytest.raises(ValidationError, match="needs on="):
        users.join(orders)
    with pytest.raises(ValidationError):
        users.join(orders, on=["id", ("a", "b")])  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        users.join([1, 2], on="id")  # type: ignore[arg-type]
