"""group_by/agg (expressions and dict form), having, the GroupedData shortcuts and pivot."""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import pytest

from moltres import col, lit
from moltres.expressions import functions as F
from moltres.utils.exceptions import ValidationError
from tests.dataframe.conftest import ORDERS, USERS

if TYPE_CHECKING:
    from moltres import Database


def by_user() -> dict[int, list[float]]:
    groups: dict[int, list[float]] = defaultdict(list)
    for o in ORDERS:
        groups[o["user_id"]].append(o["amount"])
    return dict(sorted(groups.items()))


def test_group_by_agg_expressions(shop: Database) -> None:
    rows = (
        shop.table("orders")
        .group_by("user_id")
        .agg(
            F.sum("amount").alias("total"),
            F.count("*").alias("n"),
            F.avg("amount").alias("mean"),
            F.min("amount").alias("lo"),
            F.max(col("amount")).alias("hi"),
        )
        .order_by("user_id")
        .collect()
    )
    want = by_user()
    assert [r["user_id"] for r in rows] == list(want)
    for r in rows:
        amounts = want[r["user_id"]]
        assert float(r["total"]) == pytest.approx(sum(amounts))
        assert r["n"] == len(amounts)
        assert float(r["mean"]) == pytest.approx(sum(amounts) / len(amounts))
        assert float(r["lo"]) == min(amounts)
        assert float(r["hi"]) == max(amounts)


def test_agg_dict_form(shop: Database) -> None:
    df = shop.table("orders").group_by("user_id").agg({"amount": "sum", "id": "count"}).order_by("user_id")
    assert df.columns == ["user_id", "sum_amount", "count_id"]
    rows = df.collect()
    want = by_user()
    assert [(r["user_id"], float(r["sum_amount"]), r["count_id"]) for r in rows] == [
        (k, sum(v), len(v)) for k, v in want.items()
    ]
    with pytest.raises(ValidationError, match="unknown aggregate"):
        shop.table("orders").group_by("user_id").agg({"amount": "median"})


def test_agg_keyword_form(shop: Database) -> None:
    rows = shop.table("orders").group_by("status").agg(total=F.sum("amount")).order_by("status").collect()
    assert [r["status"] for r in rows] == sorted({o["status"] for o in ORDERS})


def test_group_by_several_keys_and_expressions(shop: Database) -> None:
    rows = (
        shop.table("orders")
        .group_by("status", (col("amount") > 10).alias("big"))
        .agg(F.count("*").alias("n"))
        .collect()
    )
    want: dict[tuple[str, bool], int] = defaultdict(int)
    for o in ORDERS:
        want[(o["status"], o["amount"] > 10)] += 1
    assert {(r["status"], bool(r["big"])): r["n"] for r in rows} == dict(want)


def test_groupby_aliases(shop: Database) -> None:
    orders = shop.table("orders")
    assert orders.groupBy("status").count().count() == 3
    assert orders.groupby(["status"]).count().count() == 3  # type: ignore[arg-type]


def test_having_is_a_filter_after_agg(shop: Database) -> None:
    rows = (
        shop.table("orders")
        .group_by("user_id")
        .agg(F.sum("amount").alias("total"))
        .where(col("total") > 25)
        .order_by("user_id")
        .collect()
    )
    assert [r["user_id"] for r in rows] == [k for k, v in by_user().items() if sum(v) > 25]
    sql = shop.table("orders").group_by("user_id").agg(F.sum("amount").alias("total")).where("total > 25").to_sql()
    assert "HAVING" in sql


def test_filter_then_group_then_filter(shop: Database) -> None:
    rows = (
        shop.table("orders")
        .where(col("status") != "cancelled")
        .group_by("user_id")
        .agg(F.count("*").alias("n"))
        .filter(col("n") >= 2)
        .collect()
    )
    assert rows == [{"user_id": 1, "n": 2}]


def test_whole_frame_agg(shop: Database) -> None:
    row = shop.table("users").agg(F.max("age").alias("oldest"), F.count("city").alias("with_city")).first()
    assert row == {"oldest": 85, "with_city": 4}
    assert shop.table("users").agg({"age": "min"}).collect() == [{"min_age": 28}]


def test_count_distinct_and_stddev(shop: Database) -> None:
    row = (
        shop.table("orders")
        .agg(
            F.count_distinct("status").alias("statuses"),
            F.countDistinct("user_id").alias("users"),
            F.stddev("amount").alias("sd"),
        )
        .first()
    )
    assert row is not None
    assert row["statuses"] == 3
    assert row["users"] == len({o["user_id"] for o in ORDERS})
    assert float(row["sd"]) == pytest.approx(statistics.stdev(o["amount"] for o in ORDERS))


def test_aggregates_skip_nulls(shop: Database) -> None:
    row = shop.table("users").agg(F.avg("score").alias("mean"), F.count("score").alias("n"), F.sum("score").alias("s"))
    got = row.first()
    assert got is not None
    scores = [u["score"] for u in USERS if u["score"] is not None]
    assert got["n"] == len(scores)
    assert float(got["mean"]) == pytest.approx(sum(scores) / len(scores))
    assert float(got["s"]) == pytest.approx(sum(scores))


def test_aggregate_of_an_expression(shop: Database) -> None:
    row = shop.table("orders").agg(F.sum(col("amount") * 2).alias("double"), F.max(F.length("status")).alias("w"))
    got = row.first()
    assert got is not None
    assert float(got["double"]) == pytest.approx(2 * sum(o["amount"] for o in ORDERS))
    assert got["w"] == max(len(o["status"]) for o in ORDERS)


def test_grouped_shortcuts(shop: Database) -> None:
    g = shop.table("orders").group_by("user_id")
    assert g.count().order_by("user_id").first() == {"user_id": 1, "count": 2}
    assert g.sum("amount").columns == ["user_id", "sum_amount"]
    assert g.avg("amount").columns == ["user_id", "avg_amount"]
    assert g.mean("amount").columns == ["user_id", "avg_amount"]
    row = g.min("amount", "id").order_by("user_id").first()
    assert row is not None and (row["min_amount"], row["min_id"]) == (10.0, 10)
    row = g.max("amount").order_by("user_id").first()
    assert row is not None and float(row["max_amount"]) == 20.0


def test_collect_list(shop: Database) -> None:
    import json

    rows = shop.table("orders").group_by("user_id").agg(F.collect_list("id").alias("ids")).order_by("user_id").collect()
    got = {}
    for r in rows:
        ids = r["ids"]
        if isinstance(ids, str):  # a JSON array on SQLite and MySQL
            ids = json.loads(ids)
        got[r["user_id"]] = sorted(ids)
    want: dict[int, list[int]] = defaultdict(list)
    for o in ORDERS:
        want[o["user_id"]].append(o["id"])
    assert got == dict(want)


def test_pivot_with_values(shop: Database) -> None:
    rows = (
        shop.table("orders")
        .group_by("user_id")
        .pivot("status", ["paid", "new"])
        .agg(F.sum("amount"))
        .order_by("user_id")
        .collect()
    )
    want: dict[int, dict[str, Any]] = {}
    for o in ORDERS:
        entry = want.setdefault(o["user_id"], {"user_id": o["user_id"], "paid": None, "new": None})
        if o["status"] in ("paid", "new"):
            entry[o["status"]] = (entry[o["status"]] or 0) + o["amount"]
    assert [
        {k: (float(v) if isinstance(v, (int, float)) and k != "user_id" else v) for k, v in r.items()} for r in rows
    ] == [want[k] for k in sorted(want)]


def test_pivot_finds_values(shop: Database) -> None:
    df = shop.table("orders").group_by("user_id").pivot("status").agg(F.count("*"))
    assert df.columns == ["user_id", "cancelled", "new", "paid"]
    rows = {r["user_id"]: r for r in df.collect()}
    assert rows[1]["paid"] == 2
    assert rows[3]["cancelled"] == 1


def test_pivot_with_several_aggregates(shop: Database) -> None:
    df = (
        shop.table("orders")
        .group_by("user_id")
        .pivot("status", ["paid"])
        .agg(F.sum("amount").alias("total"), F.count("id").alias("n"))
    )
    assert df.columns == ["user_id", "paid_total", "paid_n"]
    row = df.where(col("user_id") == 1).first()
    assert row is not None and float(row["paid_total"]) == 30.0 and row["paid_n"] == 2


def test_agg_errors(shop: Database) -> None:
    orders = shop.table("orders")
    with pytest.raises(ValidationError):
        orders.group_by("user_id").agg()
    with pytest.raises(ValidationError):
        orders.group_by("user_id").agg("amount")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="aggregate"):
        orders.where(F.sum("amount") > 1).collect()
    with pytest.raises(ValidationError, match="aggregate"):
        orders.with_column("s", F.sum("amount")).collect()
    with pytest.raises(ValidationError, match="both named"):
        orders.group_by("user_id").agg(F.sum("amount").alias("x"), F.max("amount").alias("x")).collect()


def test_literal_in_aggregate_select(shop: Database) -> None:
    row = shop.table("orders").agg(F.count("*").alias("n"), F.max(lit(1)).alias("one")).first()
    assert row == {"n": len(ORDERS), "one": 1}
