"""db.read.csv on every backend: inference, options, compression, bad input, atomic loads."""

from __future__ import annotations

import bz2
import datetime as dt
import gzip
import lzma
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from moltres import col, connect
from moltres.expressions import functions as F
from moltres.table.schema import column
from moltres.utils.exceptions import ColumnNotFoundError, DataFormatError, SourceNotFoundError, ValidationError

if TYPE_CHECKING:
    from moltres import Database

PEOPLE = "id,name,score,active,joined\n1,Ada,9.5,true,2024-01-05\n2,Alan,,false,2024-02-01\n3,Grace,7.25,true,\n"


def test_read_infers_types_and_joins_with_tables(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text(PEOPLE)
    people = db.read.csv(path)
    assert [(name, type_.split("(")[0]) for name, type_ in people.schema][:2] == [("id", "BIGINT"), ("name", "TEXT")]
    rows = people.order_by("id").collect()
    assert [r["name"] for r in rows] == ["Ada", "Alan", "Grace"]
    assert rows[1]["score"] is None and rows[0]["score"] == 9.5
    assert rows[0]["joined"] == dt.date(2024, 1, 5) and rows[2]["joined"] is None
    assert [bool(r["active"]) for r in rows] == [True, False, True]  # MariaDB hands booleans back as 1/0
    report = db.read.last_report
    assert report is not None and report.rows == 3 and report.skipped == 0 and report.format == "csv"

    db.create_table(
        "orders", [column("id", "INTEGER"), column("user_id", "INTEGER"), column("amount", "REAL")]
    ).collect()
    db.insert("orders", [{"id": 1, "user_id": 1, "amount": 10.0}, {"id": 2, "user_id": 3, "amount": 5.0}])
    joined = (
        people.join(db.table("orders"), on=[("id", "user_id")])
        .group_by("name")
        .agg(F.sum("amount").alias("total"))
        .order_by("name")
        .collect()
    )
    assert joined == [{"name": "Ada", "total": 10.0}, {"name": "Grace", "total": 5.0}]


def test_schema_overrides_some_or_all_types(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "zips.csv"
    path.write_text("city,zip\nParis,07500\nLyon,69001\n")
    assert db.read.csv(path).order_by("city").select("zip").collect() == [{"zip": 69001}, {"zip": 7500}]
    kept = db.read.csv(path, schema={"zip": "TEXT"}).order_by("city").select("zip").collect()
    assert kept == [{"zip": "69001"}, {"zip": "07500"}]
    renamed = db.read.schema([column("town", "TEXT"), column("code", "VARCHAR(10)")]).csv(path)
    assert renamed.columns == ["town", "code"]
    assert renamed.where(col("code") == "07500").count() == 1
    with pytest.raises(ColumnNotFoundError, match="did you mean 'zip'"):
        db.read.csv(path, schema={"zp": "TEXT"})
    with pytest.raises(ValidationError, match=r"gives 1 columns but .* has 2"):
        db.read.csv(path, schema=[column("town", "TEXT")])
    assert db.read.csv(path, infer_schema=False).schema[1][1] in ("TEXT", "LONGTEXT")


def test_options_without_header(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "plain.tsv"
    path.write_text("1;'a;b';NA\n2;'it''s';3\n")
    df = db.read.options(sep=";", quote="'", nullValue="NA").csv(path, header=False)
    assert df.columns == ["column_1", "column_2", "column_3"]
    assert df.order_by("column_1").collect() == [
        {"column_1": 1, "column_2": "a;b", "column_3": None},
        {"column_1": 2, "column_2": "it's", "column_3": 3},
    ]
    named = db.read.csv(
        path,
        header=False,
        delimiter=";",
        quote="'",
        null_value="NA",
        schema={"n": "INTEGER", "s": "TEXT", "x": "INTEGER"},
    )
    assert named.columns == ["n", "s", "x"]


def test_quoted_fields_keep_delimiters_quotes_and_newlines(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "quoted.csv"
    path.write_text('id,note\n1,"a, b"\n2,"say ""hi"""\n3,"two\nlines"\n4,""\n', newline="")
    rows = db.read.csv(path).order_by("id").collect()
    assert [r["note"] for r in rows] == ["a, b", 'say "hi"', "two\nlines", None]


@pytest.mark.parametrize(("suffix", "opener"), [(".gz", gzip.open), (".bz2", bz2.open), (".xz", lzma.open)])
def test_compressed_input(db: Database, tmp_path: Path, suffix: str, opener: object) -> None:
    path = tmp_path / f"people.csv{suffix}"
    with opener(path, "wt") as out:  # type: ignore[operator]
        out.write(PEOPLE)
    assert db.read.csv(path).order_by("id").select("name").collect() == [
        {"name": "Ada"},
        {"name": "Alan"},
        {"name": "Grace"},
    ]


def test_utf8_bom_and_other_encodings(db: Database, tmp_path: Path) -> None:
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbfid,name\n1,Zo\xc3\xab\n")
    assert db.read.csv(bom).collect() == [{"id": 1, "name": "Zoë"}]
    latin = tmp_path / "latin.csv"
    latin.write_bytes("id,name\n1,Zoë\n".encode("latin-1"))
    assert db.read.csv(latin, encoding="latin-1").collect() == [{"id": 1, "name": "Zoë"}]
    with pytest.raises(DataFormatError, match="not valid utf-8") as info:
        db.read.csv(latin)
    assert info.value.suggestion is not None and "encoding=" in info.value.suggestion


def test_bad_value_names_file_line_and_column(
    db: Database, tmp_path: Path, stored_tables: Callable[[], list[str]]
) -> None:
    path = tmp_path / "scores.csv"
    path.write_text("id,score\n1,10\n2,11\n3,twelve\n4,13\n")
    with pytest.raises(DataFormatError) as info:
        db.read.csv(path, schema={"score": "INTEGER"})
    err = info.value
    assert (err.path, err.line, err.column) == (str(path), 4, "score")
    assert str(path) in str(err) and "line 4" in str(err)
    assert stored_tables() == []


def test_wrong_field_count_names_the_line(db: Database, tmp_path: Path, stored_tables: Callable[[], list[str]]) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("a,b\n1,2\n3,4,5\n6,7\n")
    with pytest.raises(DataFormatError) as info:
        db.read.csv(path, schema={"a": "INTEGER", "b": "INTEGER"})
    assert info.value.line == 3
    assert stored_tables() == []


def test_on_error_skip_and_null_count_bad_rows(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "dirty.csv"
    path.write_text("a,b\n1,2\n3,x\n4,5,6\n7,8\n")
    schema = {"a": "INTEGER", "b": "INTEGER"}
    skipped = db.read.csv(path, schema=schema, on_error="skip")
    assert skipped.order_by("a").collect() == [{"a": 1, "b": 2}, {"a": 7, "b": 8}]
    report = db.read.last_report
    assert report is not None and (report.rows, report.skipped, report.nulled) == (2, 2, 0)
    assert [(p.line, p.column) for p in report.problems] == [(3, "b"), (4, None)]

    nulled = db.read.csv(path, schema=schema, on_error="null")
    assert nulled.order_by("a").collect() == [{"a": 1, "b": 2}, {"a": 3, "b": None}, {"a": 4, "b": 5}, {"a": 7, "b": 8}]
    report = db.read.last_report
    assert report is not None and (report.rows, report.skipped, report.nulled) == (4, 0, 2)
    # PySpark's names for the same behaviours
    assert db.read.option("on_error", "DROPMALFORMED").csv(path, schema=schema).count() == 2
    with pytest.raises(ValidationError, match="unknown on_error"):
        db.read.csv(path, on_error="ignore")


def test_missing_and_empty_files(db: Database, tmp_path: Path) -> None:
    (tmp_path / "users.csv").write_text("id\n1\n")
    with pytest.raises(SourceNotFoundError, match="file not found") as info:
        db.read.csv(tmp_path / "user.csv")
    assert "users.csv" in str(info.value.suggestion)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataFormatError, match="the file is empty"):
        db.read.csv(empty)
    header_only = tmp_path / "header.csv"
    header_only.write_text("id,name\n")
    df = db.read.csv(header_only)
    assert df.columns == ["id", "name"] and df.count() == 0


def test_failed_load_leaves_nothing_behind(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stored_tables: Callable[[], list[str]]
) -> None:
    # small batches, so that many are inserted before the bad row comes
    monkeypatch.setattr("moltres.io.formats.csv.ARROW_BLOCK", 1 << 12)
    monkeypatch.setattr("moltres.io.formats.csv.DEFAULT_BATCH", 100)
    path = tmp_path / "big.csv"
    lines = ["id,value"] + [f"{i},{i * 2}" for i in range(5000)] + ["5000,oops", "5001,1"]
    path.write_text("\n".join(lines) + "\n")
    db.create_table("target", [column("id", "INTEGER"), column("value", "INTEGER")]).collect()
    db.insert("target", [{"id": -1, "value": 0}])
    before = stored_tables()

    with pytest.raises(DataFormatError) as info:
        db.read.csv(path, into="target")
    assert (info.value.line, info.value.column) == (5002, "value")
    assert db.table("target").count() == 1
    with pytest.raises(DataFormatError):
        db.read.csv(path, into="target", mode="overwrite")
    assert db.table("target").collect() == [{"id": -1, "value": 0}]
    with pytest.raises(DataFormatError):
        db.read.csv(path, schema={"value": "INTEGER"})
    with pytest.raises(DataFormatError):
        db.read.csv(path, into="fresh", schema={"value": "INTEGER"})
    assert stored_tables() == before


def test_into_tables_and_modes(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text(PEOPLE)
    people = db.read.csv(path, into="people")
    assert people.count() == 3 and "people" in db.tables()
    assert db.read.csv(path, into="people").count() == 6  # append is the default
    assert db.read.csv(path, into="people", mode="overwrite").count() == 3
    assert db.read.csv(path, into="people", mode="ignore").count() == 3
    with pytest.raises(ValidationError, match="already exists"):
        db.read.csv(path, into="people", mode="error_if_exists")
    report = db.read.last_report
    assert report is not None and report.table == "people"

    # the table's own types drive the conversion; missing columns get NULL
    db.create_table(
        "wide",
        [
            column("id", "INTEGER"),
            column("name", "VARCHAR(20)"),
            column("score", "REAL"),
            column("active", "BOOLEAN"),
            column("joined", "DATE"),
            column("extra", "TEXT"),
        ],
    ).collect()
    wide = db.read.csv(path, into="wide").order_by("id").collect()
    assert wide[0]["joined"] == dt.date(2024, 1, 5) and wide[0]["extra"] is None


def test_into_table_that_does_not_fit(db: Database, tmp_path: Path) -> None:
    db.create_table("target", [column("id", "INTEGER"), column("name", "TEXT")]).collect()
    extra = tmp_path / "extra.csv"
    extra.write_text("id,nickname\n1,Ada\n")
    with pytest.raises(ValidationError, match="column\\(s\\) nickname that the table lacks; the table has: id, name"):
        db.read.csv(extra, into="target")
    positional = tmp_path / "three.csv"
    positional.write_text("1,Ada,36\n")
    with pytest.raises(ValidationError, match="the file has 3 columns, the table 2"):
        db.read.csv(positional, into="target", header=False)
    with pytest.raises(ValidationError, match="schema= cannot change the existing table"):
        db.read.csv(extra, into="target", schema={"id": "TEXT"})
    typed = tmp_path / "typed.csv"
    typed.write_text("id,name\nseven,Ada\n")
    with pytest.raises(DataFormatError) as info:
        db.read.csv(typed, into="target")
    assert (info.value.line, info.value.column) == (2, "id")
    assert db.table("target").count() == 0


def test_generic_load_and_options(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    path.write_text("a;b\n1;2\n")
    assert db.read.format("csv").option("sep", ";").load(path).collect() == [{"a": 1, "b": 2}]
    assert db.read.load(path, format="csv", delimiter=";").count() == 1
    plain = tmp_path / "plain.csv.gz"
    with gzip.open(plain, "wt") as out:
        out.write("a\n1\n")
    assert db.load(plain).collect() == [{"a": 1}]  # format and compression from the name
    with pytest.raises(ValidationError, match="unknown file format 'xml'"):
        db.read.format("xml")
    with pytest.raises(ValidationError, match="cannot tell the format"):
        (tmp_path / "data.bin").write_text("x")
        db.load(tmp_path / "data.bin")
    with pytest.raises(ValidationError, match="unknown option\\(s\\) for csv: colour"):
        db.read.option("colour", "red").csv(path)
    with pytest.raises(ValidationError, match="one character"):
        db.read.csv(path, delimiter=";;")


def test_staging_tables_are_dropped_on_close(dsn: str, tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("x\n1\n")
    with connect(dsn) as first:
        first.read.csv(path)
        report = first.read.last_report
        assert report is not None and first.table_exists(report.table)
        assert report.table not in first.tables()  # moltres' own: not listed
    with connect(dsn) as second:
        assert not second.table_exists(report.table)


def test_progress_bar_on_request(db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.csv"
    path.write_text("x\n1\n2\n")
    db.read.csv(path, progress=True)
    assert "loading p.csv" in capsys.readouterr().err
    db.read.csv(path)  # stderr is not a terminal here: no bar unless asked
    assert capsys.readouterr().err == ""


def test_many_rows_stream_in_batches(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("moltres.io.formats.csv.ARROW_BLOCK", 1 << 14)
    path = tmp_path / "many.csv"
    n = 20_000
    path.write_text("id,label\n" + "".join(f"{i},row {i}\n" for i in range(n)))
    df = db.read.csv(path)
    assert df.count() == n
    assert df.agg(F.sum("id").alias("s")).collect() == [{"s": n * (n - 1) // 2}]
    skip = db.read.csv(path, on_error="skip")  # the Python path
    assert skip.where(col("label") == "row 19999").count() == 1


def test_blank_lines_are_skipped(db: Database, tmp_path: Path) -> None:
    # PostgreSQL's COPY refuses them: moltres' own parser takes over, inside the same load
    path = tmp_path / "gaps.csv"
    path.write_text("a,b\n1,2\n\n3,4\n\n")
    assert db.read.csv(path).order_by("a").collect() == [{"a": 1, "b": 2}, {"a": 3, "b": 4}]
    db.create_table("gaps", [column("a", "INTEGER"), column("b", "INTEGER")]).collect()
    assert db.read.csv(path, into="gaps").count() == 2


# Files every parser reads alike, and files the databases' own parsers would read otherwise:
# whichever path moltres takes, the rows are those of its Python parser.
ALIKE: dict[str, tuple[str, dict[str, Any]]] = {
    "typed": (
        "i,f,b,d,ts,tz,s\n"
        "1,1.5,true,2024-01-05,2024-01-05 10:00:00,2024-01-05T10:00:00+02:00,x\n"
        ' 2 , 2e3 ,FALSE,2024-02-29,2024-01-05T10:00,2024-01-05 10:00Z,""\n'
        ",,,,,, \n"
        '-3,-0.25,True,2024-12-31,2024-01-05 10:00:00.123456,2024-01-05 10:00:00+0530,"a ""q"""\n'
        "\n\n",
        {},
    ),
    "crlf": ('id,s\r\n1,a\r\n2,"b\r\nc"\r\n', {}),
    "escape": ('id,s\n1,"say \\"hi\\""\n2,"back\\\\slash"\n', {"escape": "\\"}),
    "one_column_blank_lines": ("name\nAda\n\nBob\n\n", {}),
    "blank_line_before_header": ("\nname,n\nAda,1\n", {}),
    "stray_quotes": ('id,size\n1,12"\n2,15"\n', {}),
    "quotes_inside_fields": ('id,s\n1,5" and 6" screens\n2,ok\n', {}),
    "escape_outside_quotes": ("id,s\n1,a\\,b\n", {"escape": "\\"}),
}


@pytest.mark.parametrize("name", sorted(ALIKE))
def test_every_path_reads_a_file_alike(db: Database, tmp_path: Path, name: str) -> None:
    content, options = ALIKE[name]
    path = tmp_path / f"{name}.csv"
    path.write_bytes(content.encode())
    fast = db.read.csv(path, **options)  # the database's parser, or Arrow's, where they read it alike
    python = db.read.csv(path, on_error="null", **options)  # moltres' own parser
    report = db.read.last_report
    assert report is not None and report.method == "rows" and report.nulled == 0
    assert fast.schema == python.schema
    first = fast.columns[0]
    assert fast.order_by(first).to_arrow().equals(python.order_by(first).to_arrow())


def test_the_database_parses_plain_files(db: Database, tmp_path: Path) -> None:
    database_parses = db.dialect_name in ("postgresql", "duckdb")  # COPY and read_csv
    plain = tmp_path / "plain.csv.gz"
    with gzip.open(plain, "wt", newline="") as out:
        out.write('\ufeffid,name\r\n1,Ada\r\n2,"Grace, ""Amazing"" Hopper"\r\n\r\n\r\n')
    rows = db.read.csv(plain).order_by("id").collect()
    assert rows == [{"id": 1, "name": "Ada"}, {"id": 2, "name": 'Grace, "Amazing" Hopper'}]
    report = db.read.last_report
    assert report is not None and report.method == ("native" if database_parses else "arrow")
    stray = tmp_path / "stray.csv"
    stray.write_text('id,size\n1,12"\n2,15"\n')
    assert db.read.csv(stray).order_by("id").select("size").collect() == [{"size": '12"'}, {"size": '15"'}]
    report = db.read.last_report
    assert report is not None and report.method == "arrow"


def test_plain_csv() -> None:
    from moltres.io.formats.csv import CsvOptions, plain_csv

    o = CsvOptions()
    assert plain_csv('a,b\n"x\ny","say ""hi"""\r\n,\n', o)
    assert plain_csv("", o) and plain_csv("a", o)
    assert not plain_csv('a,b\n1,x"y\n', o)
    assert not plain_csv('a,b\n"x"y,1\n', o)
    assert not plain_csv('size\n12"\n15"\n', o)  # PostgreSQL: one value, "12\n15"
    assert not plain_csv('a,b\n12",x\n', o)
    # the head of a longer file may stop inside a quoted field
    assert plain_csv('a,b\n1,"some\ntext', o, complete=False)
    assert plain_csv('a,b\n1,"say ""', o, complete=False)
    assert not plain_csv('a,b\n1,"some\ntext', o)
    escaped = CsvOptions(escape="\\", delimiter=";")
    assert plain_csv('a;b\n1;"x y"\n', escaped)
    # where escapes are used, parsers differ: Python's apply outside quotes, and to letters
    assert not plain_csv('a;b\n1;"x \\" y"\n', escaped)
    assert not plain_csv("a;b\n1;x\\;y\n", escaped)
    assert not plain_csv('a;b\n1;"x ""y"""\n', escaped)  # and a doubled quote is no longer one
