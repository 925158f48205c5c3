"""Window functions on every backend: row_number, rank, dense_rank, lag, lead, running sums."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

import pytest

from moltres import col
from moltres.expressions import functions as F
from moltres.expressions.window import Window
from tests.dataframe.conftest import ORDERS, USERS

if TYPE_CHECKING:
    from moltres import Database


def test_row_number_per_partition_keeps_top_row(shop: Database) -> None:
    w = Window.partition_by("user_id").order_by(col("amount").desc())
    rows = (
        shop.table("orders")
        .with_column("rn", F.row_number().over(w))
        .where(col("rn") == 1)
        .select("user_id", "amount")
        .order_by("user_id")
        .collect()
    )
    best: dict[int, float] = {}
    for o in ORDERS:
        best[o["user_id"]] = max(best.get(o["user_id"], float("-inf")), o["amount"])
    assert [(r["user_id"], r["amount"]) for r in rows] == sorted(best.items())


def test_rank_and_dense_rank_with_ties(shop: Database) -> None:
    w = Window.order_by(col("score").desc())
    rows = (
        shop.table("users")
        .where(col("score").is_not_null())
        .select(
            "name",
            "score",
            F.rank().over(w).alias("r"),
            F.dense_rank().over(w).alias("d"),
            F.row_number().over(Window.order_by(col("score").desc(), "name")).alias("n"),
        )
        .order_by("n")
        .collect()
    )
    scores = sorted((u["score"] for u in USERS if u["score"] is not None), reverse=True)
    assert [r["score"] for r in rows] == scores
    want_rank = [scores.index(s) + 1 for s in scores]
    want_dense = [sorted(set(scores), reverse=True).index(s) + 1 for s in scores]
    assert [r["r"] for r in rows] == want_rank
    assert [r["d"] for r in rows] == want_dense
    assert [r["n"] for r in rows] == list(range(1, len(scores) + 1))


def test_lag_and_lead(shop: Database) -> None:
    w = Window.order_by("id")
    rows = (
        shop.table("orders")
        .select(
            "id",
            F.lag("amount").over(w).alias("prev"),
            F.lead("amount").over(w).alias("next"),
            F.lag("amount", 2, 0.0).over(w).alias("prev2"),
            F.lead(col("id"), 1, -1).over(w).alias("next_id"),
        )
        .order_by("id")
        .collect()
    )
    amounts = [o["amount"] for o in ORDERS]
    ids = [o["id"] for o in ORDERS]
    assert [r["prev"] for r in rows] == [None, *amounts[:-1]]
    assert [r["next"] for r in rows] == [*amounts[1:], None]
    assert [float(r["prev2"]) for r in rows] == [0.0, 0.0, *amounts[:-2]]
    assert [r["next_id"] for r in rows] == [*ids[1:], -1]


def test_lag_within_partitions(shop: Database) -> None:
    w = Window.partition_by("user_id").order_by("id")
    rows = shop.table("orders").with_column("prev", F.lag("amount").over(w)).order_by("id").collect()
    last: dict[int, Any] = {}
    for o, r in zip(ORDERS, rows, strict=True):
        assert r["prev"] == last.get(o["user_id"])
        last[o["user_id"]] = o["amount"]


def test_running_sum_with_rows_frame(shop: Database) -> None:
    w = Window.partition_by("user_id").order_by("id").rows_between(Window.unbounded_preceding, Window.current_row)
    rows = (
        shop.table("orders").select("id", "user_id", F.sum("amount").over(w).alias("running")).order_by("id").collect()
    )
    totals: dict[int, float] = defaultdict(float)
    for o, r in zip(ORDERS, rows, strict=True):
        totals[o["user_id"]] += o["amount"]
        assert float(r["running"]) == pytest.approx(totals[o["user_id"]])


def test_moving_window_frames(shop: Database) -> None:
    frame = Window.order_by("id").rows_between(-1, 1)
    rows = (
        shop.table("orders")
        .select("id", F.sum("amount").over(frame).alias("s3"), F.count("*").over(frame).alias("n"))
        .order_by("id")
        .collect()
    )
    amounts = [o["amount"] for o in ORDERS]
    for i, r in enumerate(rows):
        window = amounts[max(0, i - 1) : i + 2]
        assert float(r["s3"]) == pytest.approx(sum(window))
        assert r["n"] == len(window)
    ahead = Window.order_by("id").rowsBetween(0, Window.unbounded_following)
    rows = shop.table("orders").select("id", F.sum("amount").over(ahead).alias("rest")).order_by("id").collect()
    assert [float(r["rest"]) for r in rows] == pytest.approx([sum(amounts[i:]) for i in range(len(amounts))])


def test_range_frame(shop: Database) -> None:
    w = Window.order_by("user_id").range_between(Window.unbounded_preceding, Window.current_row)
    rows = shop.table("orders").select("id", "user_id", F.count("*").over(w).alias("upto")).collect()
    for r in rows:
        assert r["upto"] == sum(1 for o in ORDERS if o["user_id"] <= r["user_id"])


def test_aggregate_over_whole_partition(shop: Database) -> None:
    w = Window.partition_by("user_id")
    rows = (
        shop.table("orders")
        .with_column("share", col("amount") / F.sum("amount").over(w))
        .with_column("n", F.count("*").over(w))
        .order_by("id")
        .collect()
    )
    totals: dict[int, float] = defaultdict(float)
    counts: dict[int, int] = defaultdict(int)
    for o in ORDERS:
        totals[o["user_id"]] += o["amount"]
        counts[o["user_id"]] += 1
    for o, r in zip(ORDERS, rows, strict=True):
        assert float(r["share"]) == pytest.approx(o["amount"] / totals[o["user_id"]])
        assert r["n"] == counts[o["user_id"]]


def test_over_without_window(shop: Database) -> None:
    rows = shop.table("orders").select("id", F.sum("amount").over().alias("total")).collect()
    assert [float(r["total"]) for r in rows] == pytest.approx([sum(o["amount"] for o in ORDERS)] * len(ORDERS))


def test_window_then_group(shop: Database) -> None:
    w = Window.partition_by("user_id").order_by("id")
    rows = (
        shop.table("orders")
        .with_column("rn", F.row_number().over(w))
        .group_by("rn")
        .agg(F.count("*").alias("n"))
        .order_by("rn")
        .collect()
    )
    counts: dict[int, int] = defaultdict(int)
    for o in ORDERS:
        counts[o["user_id"]] += 1
    assert rows == [
        {"rn": k, "n": sum(1 for c in counts.values() if c >= k)} for k in range(1, max(counts.values()) + 1)
    ]


def test_window_with_nulls_ordering(shop: Database) -> None:
    w = Window.order_by(col("score").asc_nulls_first())
    rows = shop.table("users").select("name", F.row_number().over(w).alias("n")).order_by("n").collect()
    assert rows[0]["name"] == "Grace"


def test_window_alias_before_over(shop: Database) -> None:
    w = Window.order_by("id")
    df = shop.table("orders").select("id", F.row_number().alias("rn").over(w))
    assert df.columns == ["id", "rn"]
    assert [r["rn"] for r in df.order_by("id").collect()] == list(range(1, len(ORDERS) + 1))


def test_lag_lead_default_only_fills_missing_rows(shop: Database) -> None:
    # the default stands in for a row that does not exist, never for a NULL value
    w = Window.partition_by((col("id") % 2).alias("parity")).order_by("id")
    rows = (
        shop.table("users")
        .select(
            "id",
            F.lag("score", 1, -1.0).over(w).alias("prev"),
            F.lead("score", 2, -2.0).over(w).alias("next2"),
        )
        .order_by("id")
        .collect()
    )
    for parity in (0, 1):
        chain = [u for u in USERS if u["id"] % 2 == parity]
        got = [r for r in rows if r["id"] % 2 == parity]
        assert [r["prev"] for r in got] == [-1.0, *[u["score"] for u in chain[:-1]]]
        assert [r["next2"] for r in got] == [u["score"] for u in chain[2:]] + [-2.0] * min(2, len(chain))
