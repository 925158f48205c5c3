"""union/union_all/union_by_name/intersect/except_, CTEs, subqueries, raw SQL sources, explode."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from moltres import col
from moltres.expressions import functions as F
from moltres.utils.exceptions import CompilationError, ValidationError
from tests.dataframe.conftest import ORDERS, USERS

if TYPE_CHECKING:
    from moltres import Database


def ids(rows: list[dict[str, object]], key: str = "id") -> list[object]:
    return sorted(r[key] for r in rows)  # type: ignore[type-var]


def test_union_and_union_all(shop: Database) -> None:
    users = shop.table("users").select("id")
    with_orders = shop.table("orders").select(col("user_id").alias("id"))
    assert ids(users.union_all(with_orders).collect()) == sorted(
        [u["id"] for u in USERS] + [o["user_id"] for o in ORDERS]
    )
    assert ids(users.unionAll(with_orders).collect()) == ids(users.union_all(with_orders).collect())
    assert ids(users.union(with_orders).collect()) == sorted({u["id"] for u in USERS} | {o["user_id"] for o in ORDERS})


def test_union_keeps_left_names(shop: Database) -> None:
    left = shop.table("users").select("id", "name")
    right = shop.table("orders").select("user_id", "status")
    assert left.union_all(right).columns == ["id", "name"]


def test_union_by_name_matches_columns(shop: Database) -> None:
    a = shop.table("users").select("id", "name")
    b = shop.table("users").select("name", "id")
    rows = a.union_by_name(b).collect()
    assert len(rows) == 2 * len(USERS)
    assert all(isinstance(r["id"], int) and isinstance(r["name"], str) for r in rows)
    assert a.unionByName(b).count() == 2 * len(USERS)
    with pytest.raises(ValidationError, match="same column names"):
        a.union_by_name(shop.table("users").select("id", "age")).collect()


def test_union_column_count_mismatch(shop: Database) -> None:
    with pytest.raises(ValidationError, match="number of columns"):
        shop.table("users").select("id").union(shop.table("users").select("id", "name")).collect()


def test_intersect_and_except(shop: Database) -> None:
    users = shop.table("users").select("id")
    buyers = shop.table("orders").select(col("user_id").alias("id"))
    assert ids(users.intersect(buyers).collect()) == sorted({u["id"] for u in USERS} & {o["user_id"] for o in ORDERS})
    assert ids(users.except_(buyers).collect()) == sorted({u["id"] for u in USERS} - {o["user_id"] for o in ORDERS})
    assert ids(users.subtract(buyers).collect()) == ids(users.except_(buyers).collect())


def test_set_operation_then_builders(shop: Database) -> None:
    users = shop.table("users").select("id")
    buyers = shop.table("orders").select(col("user_id").alias("id"))
    df = users.union(buyers).where(col("id") > 2).order_by(col("id").desc()).limit(2)
    assert [r["id"] for r in df.collect()] == [9, 5]
    assert users.union_all(buyers).group_by("id").count().where(col("count") > 1).count() == 3


def test_set_operation_members_with_order_and_limit(shop: Database) -> None:
    oldest = shop.table("users").order_by(col("age").desc()).limit(1).select("name")
    youngest = shop.table("users").order_by("age").limit(1).select("name")
    assert sorted(r["name"] for r in oldest.union_all(youngest).collect()) == ["Grace", "Linus"]


def test_cte(shop: Database) -> None:
    older = shop.table("users").where(col("age") > 40).cte("older")
    assert "WITH" in older.to_sql()
    rows = older.select(col("older.name")).order_by("name").collect()
    assert [r["name"] for r in rows] == sorted(u["name"] for u in USERS if u["age"] > 40)


def test_cte_joined_with_table(shop: Database) -> None:
    big = shop.table("orders").where(col("amount") > 15).cte("big")
    rows = (
        shop.table("users")
        .join(big, on=[("id", "user_id")])
        .select("name", col("big.amount").alias("amount"))
        .order_by("amount")
        .collect()
    )
    names = {u["id"]: u["name"] for u in USERS}
    assert [(r["name"], r["amount"]) for r in rows] == sorted(
        ((names[o["user_id"]], o["amount"]) for o in ORDERS if o["amount"] > 15 and o["user_id"] in names),
        key=lambda t: t[1],
    )


def test_cte_used_twice(shop: Database) -> None:
    totals = shop.table("orders").group_by("user_id").agg(F.sum("amount").alias("total")).cte("totals")
    other = totals.alias("t2")
    rows = totals.join(other, on=col("totals.total") < col("t2.total")).select(col("totals.user_id")).distinct()
    assert rows.count() == 3


def test_cte_with_parameters_used_twice(shop: Database) -> None:
    big = shop.table("orders").where(col("amount") > 5).cte("big")
    pairs = big.join(big.alias("b2"), on=(col("big.user_id") == col("b2.user_id")) & (col("big.id") < col("b2.id")))
    big_rows = [o for o in ORDERS if o["amount"] > 5]
    assert pairs.count() == sum(
        1 for a in big_rows for b in big_rows if a["user_id"] == b["user_id"] and a["id"] < b["id"]
    )
    again = shop.table("orders").where(col("amount") > 15).cte("big")
    assert again.join(again.alias("b2"), on=col("big.id") == col("b2.id")).count() == 3


def test_ctes_of_one_name_with_other_values_are_refused_after_a_cached_self_join(shop: Database) -> None:
    # same name, same shape, different values: the statement compiled (and cached) for the
    # self-join of one CTE must not run them, which would bind the first CTE's values twice
    def pairs(first: float, second: float) -> int:
        left = shop.table("orders").where(col("amount") > first).cte("big")
        right = shop.table("orders").where(col("amount") > second).cte("big")
        return left.join(right.alias("b2"), on=col("big.id") == col("b2.id")).count()

    assert pairs(5, 5) == sum(1 for o in ORDERS if o["amount"] > 5)
    with pytest.raises(ValidationError, match="both named 'big'"):
        pairs(5, 15)
    assert pairs(15, 15) == sum(1 for o in ORDERS if o["amount"] > 15)


def test_two_different_ctes_with_one_name_are_refused(shop: Database) -> None:
    a = shop.table("orders").where(col("amount") > 5).cte("x")
    b = shop.table("users").cte("x")
    with pytest.raises(ValidationError, match="both named 'x'"):
        a.join(b, on=col("x.user_id") == col("x.id")).collect()


def test_subquery_in_from(shop: Database) -> None:
    inner = shop.table("orders").group_by("user_id").agg(F.sum("amount").alias("total"))
    outer = inner.where(col("total") > 10).select(F.max("total").alias("top"))
    assert outer.collect() == [{"top": 101.25}]


def test_raw_sql_source_with_parameters(shop: Database) -> None:
    df = shop.sql("SELECT id, name FROM users WHERE age > :a", a=40)
    assert df.columns == ["id", "name"]
    rows = df.where(col("id") < 5).order_by("id").collect()
    assert rows == [{"id": u["id"], "name": u["name"]} for u in USERS if u["age"] > 40 and u["id"] < 5]
    assert shop.sql("SELECT id FROM users WHERE name = :n", {"n": "Ada"}).collect() == [{"id": 1}]


def test_raw_sql_sources_sharing_a_parameter_name(shop: Database) -> None:
    older = shop.sql("SELECT id FROM users WHERE age > :n", n=40)
    big = shop.sql("SELECT user_id AS id FROM orders WHERE amount > :n", n=15)
    assert ids(older.union_all(big).collect()) == sorted(
        [u["id"] for u in USERS if u["age"] > 40] + [o["user_id"] for o in ORDERS if o["amount"] > 15]
    )


def test_raw_sql_parameter_named_like_moltres_own(shop: Database) -> None:
    # moltres names the plan's literals p0, p1, ...: a raw :p0 keeps its own value
    df = shop.sql("SELECT id, age FROM users WHERE age > :p0", p0=40).where(col("id") < 5)
    assert ids(df.collect()) == [u["id"] for u in USERS if u["age"] > 40 and u["id"] < 5]


def test_raw_sql_joined_with_table(shop: Database) -> None:
    paid = shop.sql("SELECT user_id, amount FROM orders WHERE status = :s", s="paid")
    rows = shop.table("users").join(paid, on=[("id", "user_id")]).select("name", "amount").collect()
    assert len(rows) == sum(1 for o in ORDERS if o["status"] == "paid")


def test_create_dataframe_inline_rows(shop: Database) -> None:
    df = shop.create_dataframe([{"a": 1, "b": "x"}, {"a": 2, "b": "y"}, {"a": 3, "b": None}])
    assert df.columns == ["a", "b"]
    assert df.where(col("a") > 1).order_by("a").collect() == [{"a": 2, "b": "y"}, {"a": 3, "b": None}]


def test_create_dataframe_joined_with_table(shop: Database) -> None:
    wanted = shop.create_dataframe([{"uid": 1, "tag": "vip"}, {"uid": 3, "tag": "vip"}])
    rows = shop.table("users").join(wanted, on=[("id", "uid")]).select("name", "tag").order_by("name").collect()
    assert rows == [{"name": "Ada", "tag": "vip"}, {"name": "Grace", "tag": "vip"}]


@pytest.mark.notimpl(["mysql"], raises=CompilationError, reason="MariaDB/MySQL have no arrays to unnest")
def test_explode(shop: Database) -> None:
    if shop.dialect_name in ("sqlite", "mysql"):
        source = shop.sql("SELECT 1 AS k, '[1, 2, 3]' AS xs UNION ALL SELECT 2, '[4]'")
    else:
        source = shop.sql("SELECT 1 AS k, ARRAY[1, 2, 3] AS xs UNION ALL SELECT 2, ARRAY[4]")
    rows = source.explode("xs", "x").select("k", "x").order_by("x").collect()
    assert [(r["k"], int(r["x"])) for r in rows] == [(1, 1), (1, 2), (1, 3), (2, 4)]


@pytest.mark.notimpl(["sqlite", "mysql"], raises=CompilationError, reason="no array type for split()")
def test_explode_split(shop: Database) -> None:
    rows = (
        shop.create_dataframe([{"k": 1, "tags": "a,b,c"}])
        .with_column("tag", F.split("tags", ","))
        .explode("tag")
        .select("tag")
        .collect()
    )
    assert sorted(r["tag"] for r in rows) == ["a", "b", "c"]


def test_explode_json_text_on_sqlite_keeps_other_columns(shop: Database) -> None:
    if shop.dialect_name != "sqlite":
        pytest.skip("JSON-text arrays are SQLite's form of explode")
    df = shop.create_dataframe([{"k": 1, "xs": json.dumps(["a", "b"])}]).explode("xs", "x")
    assert df.columns == ["k", "x"]
    assert df.order_by("x").collect() == [{"k": 1, "x": "a"}, {"k": 1, "x": "b"}]


def test_set_operation_across_databases_is_refused(shop: Database) -> None:
    from moltres import connect

    with connect("sqlite://") as other, pytest.raises(ValidationError, match="same database"):
        shop.table("users").union(other.sql("SELECT 1 AS id"))
