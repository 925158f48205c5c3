"""db.read.json / .jsonl / .text on every backend: keys to columns, nested values, bad input."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from moltres import col
from moltres.table.schema import column
from moltres.utils.exceptions import DataFormatError, ValidationError

if TYPE_CHECKING:
    from moltres import Database

EVENTS = [
    {"id": 1, "kind": "click", "score": 1, "tags": ["a", "b"], "meta": {"x": 1}},
    {"id": 2, "kind": "view", "score": 2.5, "ok": True},
    {"id": 3, "kind": None, "tags": []},
]


def as_json(value: object) -> object:
    # JSON columns come back parsed, except on MariaDB, where JSON is text
    return json.loads(value) if isinstance(value, str) else value


def test_json_array_keys_become_columns(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    path.write_text(json.dumps(EVENTS, indent=2))
    df = db.read.json(path)
    assert df.columns == ["id", "kind", "score", "tags", "meta", "ok"]
    rows = df.order_by("id").collect()
    assert [r["score"] for r in rows] == [1.0, 2.5, None]
    assert [as_json(r["tags"]) for r in rows] == [["a", "b"], None, []]
    assert as_json(rows[0]["meta"]) == {"x": 1}
    assert rows[2]["kind"] is None and rows[1]["ok"] in (True, 1)
    assert db.read.json(path).where(col("kind") == "view").select("id").collect() == [{"id": 2}]


def test_jsonl_and_compression(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl.gz"
    with gzip.open(path, "wt") as out:
        out.write("\n".join(json.dumps(e) for e in EVENTS) + "\n\n")
    assert db.read.jsonl(path).count() == 3
    assert db.load(path).select("kind").order_by("id").collect()[0] == {"kind": "click"}


def test_long_array_is_decoded_across_chunks(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "long.json"
    rows = [{"id": i, "text": "x" * (i % 300), "n": i * 1.5} for i in range(3000)]  # ~500 kB, many chunks
    path.write_text(json.dumps(rows))
    df = db.read.json(path)
    assert df.count() == 3000
    assert df.where(col("id") == 2999).select("n").collect() == [{"n": 2999 * 1.5}]


def test_schema_override_and_types_from_values(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text('{"a": 1, "b": "2024-01-02", "c": 1}\n{"a": 2.5, "b": "x", "c": "y"}\n')
    df = db.read.jsonl(path)
    assert df.schema[0][1].split("(")[0] in ("DOUBLE", "DOUBLE PRECISION")
    assert df.order_by("a").select("c").collect() == [{"c": "1"}, {"c": "y"}]  # mixed values: text
    typed = db.read.jsonl(path, schema={"a": "TEXT"})
    assert typed.order_by("a").select("a").collect() == [{"a": "1"}, {"a": "2.5"}]


def test_bad_json_names_the_line(db: Database, tmp_path: Path) -> None:
    lines = tmp_path / "bad.jsonl"
    lines.write_text('{"a": 1}\n{"a": 2\n{"a": 3}\n')
    with pytest.raises(DataFormatError, match="invalid JSON") as info:
        db.read.jsonl(lines)
    assert (info.value.path, info.value.line) == (str(lines), 2)

    array = tmp_path / "bad.json"
    array.write_text('[\n  {"a": 1},\n  {"a": 2,,}\n]')
    with pytest.raises(DataFormatError, match="invalid JSON") as info:
        db.read.json(array)
    assert info.value.line == 3

    scalar = tmp_path / "scalar.json"
    scalar.write_text('[{"a": 1}, 7]')
    with pytest.raises(DataFormatError, match="expected an object, found int"):
        db.read.json(scalar)
    not_array = tmp_path / "object.json"
    not_array.write_text('{"a": 1}')
    with pytest.raises(DataFormatError, match="expected a JSON array of objects") as info:
        db.read.json(not_array)
    assert "jsonl" in str(info.value.suggestion)
    unclosed = tmp_path / "unclosed.json"
    unclosed.write_text('[{"a": 1},')
    with pytest.raises(DataFormatError, match="not closed"):
        db.read.json(unclosed)


def test_bad_values_and_unknown_keys(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "vals.jsonl"
    path.write_text('{"id": 1, "n": 1}\n{"id": 2, "n": "many"}\n{"id": 3, "n": 3, "extra": true}\n')
    with pytest.raises(DataFormatError) as info:
        db.read.jsonl(path, schema={"id": "INTEGER", "n": "INTEGER"}, infer_rows=1)
    assert (info.value.line, info.value.column) == (2, "n")
    with pytest.raises(DataFormatError, match="unexpected key 'extra'") as info:
        db.read.jsonl(path, schema={"n": "TEXT"}, infer_rows=2)
    assert info.value.line == 3 and "infer_rows=-1" in str(info.value.suggestion)
    assert db.read.jsonl(path, infer_rows=-1).columns == ["id", "n", "extra"]

    skipped = db.read.jsonl(path, schema={"id": "INTEGER", "n": "INTEGER"}, infer_rows=1, on_error="skip")
    assert skipped.select("id").collect() == [{"id": 1}]
    report = db.read.last_report
    assert report is not None and report.skipped == 2
    nulled = db.read.jsonl(path, schema={"id": "INTEGER", "n": "INTEGER"}, infer_rows=1, on_error="null")
    assert nulled.order_by("id").select("n").collect() == [{"n": 1}, {"n": None}, {"n": 3}]


def test_into_existing_table(db: Database, tmp_path: Path) -> None:
    db.create_table("events", [column("id", "INTEGER"), column("kind", "TEXT"), column("note", "TEXT")]).collect()
    path = tmp_path / "e.jsonl"
    path.write_text('{"id": 1, "kind": "a"}\n{"id": 2}\n')
    assert db.read.jsonl(path, into="events").order_by("id").collect() == [
        {"id": 1, "kind": "a", "note": None},
        {"id": 2, "kind": None, "note": None},
    ]
    other = tmp_path / "other.jsonl"
    other.write_text('{"id": 1, "colour": "red"}\n')
    with pytest.raises(ValidationError, match="colour that the table lacks"):
        db.read.jsonl(other, into="events")
    assert db.table("events").count() == 2


def test_text_lines(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text("GET /\r\nPOST /login\n\nGET /home\n", newline="")
    df = db.read.text(path)
    assert df.columns == ["value"]
    assert [r["value"] for r in df.collect()] == ["GET /", "POST /login", "", "GET /home"]
    assert df.where(col("value").startswith("GET")).count() == 2
    db.create_table("lines", [column("line", "TEXT")]).collect()
    assert db.read.text(path, into="lines").count() == 4
    with pytest.raises(DataFormatError, match="not valid utf-8"):
        bad = tmp_path / "bad.txt"
        bad.write_bytes(b"\xff\xfe\x00")
        db.read.text(bad)
