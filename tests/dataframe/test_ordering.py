"""order_by (asc/desc, NULLS FIRST/LAST), limit, offset, distinct, drop_duplicates, sample."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from moltres import col, lit
from moltres.expressions import functions as F
from moltres.utils.exceptions import CompilationError, ValidationError
from tests.dataframe.conftest import ORDERS, USERS

if TYPE_CHECKING:
    from moltres import Database


def names(rows: list[dict[str, object]]) -> list[object]:
    return [r["name"] for r in rows]


def test_order_by_name_and_direction(shop: Database) -> None:
    users = shop.table("users").select("name", "age")
    assert names(users.order_by("age").collect()) == [u["name"] for u in sorted(USERS, key=lambda u: u["age"])]
    by_age_desc = [u["name"] for u in sorted(USERS, key=lambda u: -u["age"])]
    assert names(users.order_by(col("age").desc()).collect()) == by_age_desc
    assert names(users.order_by(F.desc("age")).collect()) == by_age_desc
    assert names(users.order_by("age", ascending=False).collect()) == by_age_desc
    assert names(users.sort(col("age").asc()).collect()) == names(users.orderBy(F.asc("age")).collect())


def test_order_by_several_keys(shop: Database) -> None:
    rows = shop.table("users").order_by(col("score").desc_nulls_last(), "name").select("name").collect()
    scored = sorted((u for u in USERS if u["score"] is not None), key=lambda u: (-u["score"], u["name"]))
    assert names(rows) == [u["name"] for u in scored] + ["Grace"]


@pytest.mark.parametrize(
    ("key", "first_or_last", "descending"),
    [
        (col("score").asc_nulls_first(), "first", False),
        (col("score").asc_nulls_last(), "last", False),
        (col("score").desc_nulls_first(), "first", True),
        (col("score").desc_nulls_last(), "last", True),
        (col("score").desc().nulls_first(), "first", True),
        (col("score").nulls_last(), "last", False),
    ],
    ids=["asc_first", "asc_last", "desc_first", "desc_last", "desc_then_nulls_first", "nulls_last"],
)
def test_nulls_placement(shop: Database, key: object, first_or_last: str, descending: bool) -> None:
    rows = shop.table("users").order_by(key, "id").select("name", "score").collect()  # type: ignore[arg-type]
    null_name = "Grace"
    assert (rows[0] if first_or_last == "first" else rows[-1])["name"] == null_name
    values = [r["score"] for r in rows if r["score"] is not None]
    assert values == sorted(values, reverse=descending)


def test_order_by_expression(shop: Database) -> None:
    rows = shop.table("users").order_by(F.length("name").desc(), "name").select("name").collect()
    assert names(rows) == [u["name"] for u in sorted(USERS, key=lambda u: (-len(u["name"]), u["name"]))]


def test_limit_offset(shop: Database) -> None:
    ordered = shop.table("users").order_by("id").select("id")
    assert [r["id"] for r in ordered.limit(2).collect()] == [1, 2]
    assert [r["id"] for r in ordered.offset(3).collect()] == [4, 5]
    assert [r["id"] for r in ordered.offset(1).limit(2).collect()] == [2, 3]
    assert [r["id"] for r in ordered.limit(3).offset(1).collect()] == [2, 3]
    assert ordered.limit(0).collect() == []
    # a limit of a limit keeps the smaller one
    assert len(ordered.limit(3).limit(10).collect()) == 3


def test_filter_after_limit_filters_the_limited_rows(shop: Database) -> None:
    rows = shop.table("users").order_by("id").limit(2).where(col("id") > 1).select("id").collect()
    assert rows == [{"id": 2}]


def test_order_after_limit_sorts_only_limited_rows(shop: Database) -> None:
    rows = shop.table("users").order_by("id").limit(3).order_by(col("id").desc()).select("id").collect()
    assert [r["id"] for r in rows] == [3, 2, 1]


def test_limit_validation(shop: Database) -> None:
    users = shop.table("users")
    for bad in (-1, 1.5, "3", True):
        with pytest.raises(ValidationError):
            users.limit(bad)  # type: ignore[arg-type]
        with pytest.raises(ValidationError):
            users.offset(bad)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        users.order_by()


def test_distinct(shop: Database) -> None:
    rows = shop.table("orders").select("status").distinct().order_by("status").collect()
    assert [r["status"] for r in rows] == sorted({o["status"] for o in ORDERS})
    assert shop.table("orders").select(lit(1).alias("one")).distinct().count() == 1


def test_count_of_distinct_and_limit(shop: Database) -> None:
    assert shop.table("orders").select("status").distinct().count() == 3
    assert shop.table("orders").order_by("id").limit(4).count() == 4


def test_drop_duplicates(shop: Database) -> None:
    orders = shop.table("orders")
    assert orders.drop_duplicates(["user_id"]).count() == len({o["user_id"] for o in ORDERS})
    assert orders.drop_duplicates("status").count() == 3
    assert orders.select("status").drop_duplicates().count() == 3
    assert orders.dropDuplicates(["user_id", "status"]).count() == len({(o["user_id"], o["status"]) for o in ORDERS})
    kept = orders.drop_duplicates(["user_id"]).collect()
    assert {tuple(r) for r in kept} == {tuple(ORDERS[0])}  # every column is kept
    for row in kept:
        assert row in ORDERS


def test_drop_duplicates_unknown_column(shop: Database) -> None:
    from moltres.utils.exceptions import ColumnNotFoundError

    with pytest.raises(ColumnNotFoundError):
        shop.table("orders").drop_duplicates(["stauts"]).collect()


def test_sample_fractions(shop: Database) -> None:
    orders = shop.table("orders")
    assert orders.sample(1.0).count() == len(ORDERS)
    assert orders.sample(0.0).count() == 0
    assert 0 <= orders.sample(0.5).count() <= len(ORDERS)
    sampled = orders.sample(1.0).collect()
    assert sorted(r["id"] for r in sampled) == [o["id"] for o in ORDERS]
    with pytest.raises(ValidationError):
        orders.sample(1.5)


@pytest.mark.notimpl(
    ["sqlite", "postgresql", "duckdb"], raises=CompilationError, reason="random() cannot be seeded per query"
)
def test_sample_with_seed_is_repeatable(shop: Database) -> None:
    orders = shop.table("orders")
    first = orders.sample(0.5, seed=7).select("id").order_by("id").collect()
    assert first == orders.sample(0.5, seed=7).select("id").order_by("id").collect()


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([("offset", 1), ("limit", 3)], [2, 3, 4]),
        ([("limit", 4), ("offset", 1)], [2, 3, 4]),
        ([("limit", 4), ("offset", 1), ("limit", 2)], [2, 3]),
        ([("offset", 1), ("offset", 2)], [4, 5]),
        ([("limit", 2), ("offset", 3)], []),
        ([("limit", 3), ("limit", 2), ("limit", 5)], [1, 2]),
        ([("offset", 2), ("limit", 10), ("offset", 1), ("limit", 1)], [4]),
    ],
)
def test_limit_and_offset_compose_in_order(shop: Database, steps: list[tuple[str, int]], expected: list[int]) -> None:
    df = shop.table("users").order_by(col("id").desc()).order_by("id")
    for step, n in steps:
        df = df.limit(n) if step == "limit" else df.offset(n)
    assert [r["id"] for r in df.select("id").collect()] == expected
    assert df.to_sql().count("LIMIT") + df.to_sql().count("OFFSET") <= 2  # one clause, no subquery
