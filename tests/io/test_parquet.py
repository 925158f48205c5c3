"""Parquet on every backend: round trips, partitions, compression, nested columns, mismatches."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from moltres import col  # noqa: E402
from moltres.table.schema import column  # noqa: E402
from moltres.utils.exceptions import DataFormatError, ValidationError  # noqa: E402

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
        "country": "UK",
    },
    {"id": 2, "name": None, "score": None, "born": None, "seen": None, "price": None, "country": "UK"},
    {
        "id": 3,
        "name": "Grace",
        "score": -1.0,
        "born": dt.date(1906, 12, 9),
        "seen": dt.datetime(2023, 5, 6),
        "price": decimal.Decimal("0.10"),
        "country": "US",
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
            column("country", "VARCHAR(2)"),
        ],
    ).collect()
    db.insert("people", ROWS)
    return db


def test_round_trip_keeps_values_and_types(people: Database, tmp_path: Path) -> None:
    target = tmp_path / "people.parquet"
    assert people.table("people").write.parquet(target) == 3
    schema = pq.read_schema(target)
    assert schema.field("born").type == pa.date32()
    assert pa.types.is_timestamp(schema.field("seen").type)
    assert pa.types.is_decimal(schema.field("price").type)
    back = people.read.parquet(target).order_by("id").collect()
    assert back == ROWS
    report = people.read.last_report
    assert report is not None and report.rows == 3 and report.method in ("native", "arrow")


def test_partitioned_folder(people: Database, tmp_path: Path) -> None:
    folder = tmp_path / "by_country"
    people.table("people").write.parquet(folder, partition_by=["country"], compression="zstd")
    assert sorted(p.name for p in folder.iterdir()) == ["country=UK", "country=US"]
    back = people.read.parquet(folder)
    assert back.where(col("country") == "UK").count() == 2
    assert sorted(back.columns) == sorted(ROWS[0])
    people.table("people").where(col("id") == 3).write.mode("append").parquet(folder, partition_by=["country"])
    assert people.read.parquet(folder).where(col("country") == "US").count() == 2
    people.table("people").where(col("id") == 1).write.mode("overwrite").parquet(folder, partition_by=["country"])
    assert people.read.parquet(folder).count() == 1
    with pytest.raises(ValidationError, match="cannot append to the Parquet file"):
        single = tmp_path / "one.parquet"
        people.table("people").write.parquet(single)
        people.table("people").write.mode("append").parquet(single)
    with pytest.raises(ValidationError, match="unknown Parquet compression"):
        people.table("people").write.parquet(tmp_path / "x.parquet", compression="rar")


def test_selected_columns_and_into_tables(people: Database, tmp_path: Path) -> None:
    target = tmp_path / "people.parquet"
    people.table("people").write.parquet(target)
    assert people.read.parquet(target, columns=["name", "id"]).columns == ["name", "id"]
    people.create_table("names", [column("id", "INTEGER"), column("name", "TEXT"), column("note", "TEXT")]).collect()
    loaded = people.read.parquet(target, columns=["id", "name"], into="names")
    assert loaded.order_by("id").select("name").collect() == [{"name": "Ada"}, {"name": None}, {"name": "Grace"}]
    people.create_table("ids", [column("id", "INTEGER"), column("name", "INTEGER")]).collect()
    with pytest.raises(ValidationError, match="column 'name' is TEXT in the file but INTEGER in the table"):
        people.read.parquet(target, columns=["id", "name"], into="ids")
    with pytest.raises(ValidationError, match="that the table lacks"):
        people.read.parquet(target, into="ids")
    assert people.table("ids").count() == 0


def test_nested_columns(db: Database, tmp_path: Path, stored_tables: Callable[[], list[str]]) -> None:
    path = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"id": [1, 2], "tags": [["a", "b"], []], "point": [{"x": 1}, None]}), path)
    if db.executor.state.rules.stores_nested:
        stored = db.read.parquet(path).order_by("id").collect()
        assert stored[0]["tags"] == ["a", "b"] and stored[0]["point"] == {"x": 1}
    else:
        with pytest.raises(DataFormatError, match="cannot store the nested Parquet type") as info:
            db.read.parquet(path)
        assert info.value.column == "tags" and "nested='json'" in str(info.value.suggestion)
        assert stored_tables() == []
    as_json = db.read.parquet(path, nested="json").order_by("id").collect()
    tags = [json.loads(r["tags"]) if isinstance(r["tags"], str) else r["tags"] for r in as_json]
    assert tags == [["a", "b"], []]
    assert db.read.parquet(path, columns=["id"]).count() == 2


def test_not_a_parquet_file(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "fake.parquet"
    path.write_text("id,name\n1,Ada\n")
    with pytest.raises(DataFormatError, match="not a Parquet file"):
        db.read.parquet(path)
