"""df.write.csv / .json / .jsonl / .parquet on every backend: content, modes, compression, atomicity."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from moltres import col
from moltres.io.formats.csv import write_csv
from moltres.io.formats.json import write_json
from moltres.table.schema import column
from moltres.utils.exceptions import ValidationError

if TYPE_CHECKING:
    from moltres import Database

ROWS: list[dict[str, Any]] = [
    {"id": 1, "name": "Ada, Countess", "score": 9.5, "born": dt.date(1815, 12, 10), "active": True},
    {"id": 2, "name": 'say "hi"', "score": None, "born": None, "active": False},
    {"id": 3, "name": "two\nlines", "score": 7.25, "born": dt.date(1906, 12, 9), "active": None},
]


@pytest.fixture
def people(db: Database) -> Database:
    db.create_table(
        "people",
        [
            column("id", "INTEGER"),
            column("name", "TEXT"),
            column("score", "REAL"),
            column("born", "DATE"),
            column("active", "BOOLEAN"),
        ],
    ).collect()
    db.insert("people", ROWS)
    return db


def test_csv_round_trip(people: Database, tmp_path: Path) -> None:
    target = tmp_path / "people.csv"
    assert people.table("people").order_by("id").write.csv(target) == 3
    with open(target, newline="") as f:
        lines = list(csv.reader(f))
    assert lines[0] == ["id", "name", "score", "born", "active"]
    assert lines[1][:4] == ["1", "Ada, Countess", "9.5", "1815-12-10"]
    assert lines[2][2:4] == ["", ""]  # NULL is the empty field
    back = people.read.csv(target).order_by("id").collect()
    assert [r["name"] for r in back] == [r["name"] for r in ROWS]
    assert [r["born"] for r in back] == [r["born"] for r in ROWS]


def test_csv_options_and_compression(people: Database, tmp_path: Path) -> None:
    target = tmp_path / "people.tsv.gz"
    people.table("people").select("id", "score").order_by("id").write.csv(
        target, delimiter="\t", null_value="NA", header=False
    )
    assert gzip.decompress(target.read_bytes()).decode() == "1\t9.5\n2\tNA\n3\t7.25\n"


def test_json_and_jsonl(people: Database, tmp_path: Path) -> None:
    array = tmp_path / "people.json"
    people.table("people").order_by("id").write.json(array)
    data = json.loads(array.read_text())
    assert [d["name"] for d in data] == [r["name"] for r in ROWS]
    assert data[0]["born"] == "1815-12-10" and data[1]["score"] is None
    lines = tmp_path / "people.jsonl.xz"
    assert people.table("people").write.jsonl(lines) == 3
    assert people.read.jsonl(lines).where(col("id") == 3).select("name").collect() == [{"name": "two\nlines"}]
    empty = tmp_path / "empty.json"
    assert people.table("people").where(col("id") > 99).write.json(empty) == 0
    assert json.loads(empty.read_text()) == []


def test_modes(people: Database, tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    frame = people.table("people").select("id").order_by("id")
    frame.write.jsonl(target)
    with pytest.raises(ValidationError, match="already exists") as info:
        frame.write.jsonl(target)
    assert "mode('overwrite')" in str(info.value.suggestion)
    assert frame.write.mode("ignore").jsonl(target) == 0
    assert frame.write.mode("append").jsonl(target) == 3
    assert len(target.read_text().splitlines()) == 6
    assert frame.write.mode("overwrite").jsonl(target) == 3
    assert len(target.read_text().splitlines()) == 3
    with pytest.raises(ValidationError, match="cannot append to the JSON array"):
        frame.write.mode("append").json(tmp_path / "out.jsonl")
    csv_target = tmp_path / "out.csv"
    frame.write.csv(csv_target)
    frame.write.mode("append").csv(csv_target)
    assert csv_target.read_text().splitlines() == ["id", "1", "2", "3", "1", "2", "3"]  # one header


def test_save_with_format(people: Database, tmp_path: Path) -> None:
    frame = people.table("people").select("id")
    assert frame.write.format("jsonl").save(tmp_path / "a.data") == 3
    assert frame.write.save(tmp_path / "b.csv") == 3
    assert frame.write.save(tmp_path / "c.out", format="json") == 3
    with pytest.raises(ValidationError, match="cannot write the format"):
        frame.write.save(tmp_path / "d.xml")


def _failing(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    yield rows
    raise RuntimeError("the query failed half-way")


@pytest.mark.parametrize("lines", [False, True])
def test_failed_write_leaves_the_old_file(tmp_path: Path, lines: bool) -> None:
    target = tmp_path / "out.json"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="half-way"):
        write_json(_failing([{"a": 1}]), target, lines=lines)
    assert target.read_text() == "old"
    with pytest.raises(RuntimeError, match="half-way"):
        write_csv(_failing([{"a": 1}]), ["a"], target)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_progress_bar_on_request(people: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    people.table("people").write.csv(tmp_path / "p.csv", progress=True)
    assert "writing" in capsys.readouterr().err
