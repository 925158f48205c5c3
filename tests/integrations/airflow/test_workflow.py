"""The framework-free pieces behind the operators and tasks: rows as JSON, caps, writes, retries."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa

from moltres import connect
from moltres.integrations._workflow import (
    decode_rows,
    encode_rows,
    is_retryable,
    is_rows_payload,
    rows_of,
    stage_table_name,
    staging_reference,
    write_to_table,
)
from moltres.table.schema import column
from moltres.utils.exceptions import (
    ColumnNotFoundError,
    DatabaseConnectionError,
    ExecutionError,
    QueryTimeoutError,
    TableNotFoundError,
    ValidationError,
)

ROWS = [
    {
        "id": 1,
        "at": dt.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=dt.timezone.utc),
        "day": dt.date(2024, 1, 2),
        "clock": dt.time(23, 59, 1),
        "price": Decimal("0.1000000000000000055511151231257827"),
        "raw": b"\x00\x01\xfe",
        "key": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "tags": {"a": [1, 2]},
        "ok": True,
        "ratio": 0.5,
    },
    {"id": 2, "at": None, "day": None, "clock": None, "price": None, "raw": None, "key": None, "tags": None},
]


def test_rows_round_trip_through_json_exactly():
    payload = encode_rows([ROWS[:1], ROWS[1:]], list(ROWS[0]))
    restored = decode_rows(json.loads(json.dumps(payload)))
    assert restored == ROWS
    assert payload["types"] == {
        "at": "datetime",
        "day": "date",
        "clock": "time",
        "price": "decimal",
        "raw": "bytes",
        "key": "uuid",
    }
    assert is_rows_payload(payload) and not is_rows_payload({"rows": []})


def test_a_column_of_mixed_kinds_is_left_as_strings():
    payload = encode_rows([[{"v": dt.date(2024, 1, 1)}, {"v": "text"}]], ["v"])
    assert payload["types"] == {}
    assert decode_rows(payload) == [{"v": "2024-01-01"}, {"v": "text"}]


@pytest.mark.parametrize(("caps", "what"), [({"max_rows": 2}, "more than 2 rows"), ({"max_bytes": 40}, "bytes")])
def test_caps_stop_reading_and_suggest_staging(caps, what):
    consumed = []

    def chunks():
        for i in range(100):
            consumed.append(i)
            yield [{"id": i, "name": "x" * 10}]

    with pytest.raises(ValidationError, match=what) as error:
        encode_rows(chunks(), ["id", "name"], **caps)
    assert 'output="table"' in error.value.suggestion
    assert len(consumed) < 5  # stopped early, never read the whole result


def test_no_caps():
    assert (
        encode_rows([[{"id": i} for i in range(20_000)]], ["id"], max_rows=None, max_bytes=None)["row_count"] == 20_000
    )


def test_decode_rejects_what_it_did_not_encode():
    with pytest.raises(ValidationError, match="not a moltres rows payload"):
        decode_rows({"rows": []})


def test_rows_of_accepts_rows_payloads_and_records_but_not_a_single_dict():
    from moltres.io.records import Records

    assert rows_of(encode_rows([[{"d": dt.date(2024, 5, 6)}]], ["d"])) == [{"d": dt.date(2024, 5, 6)}]
    assert rows_of(Records.from_list([{"a": 1}])) == [{"a": 1}]
    with pytest.raises(ValidationError, match="single mapping"):
        rows_of({"a": 1})
    with pytest.raises(ValidationError):
        rows_of(42)


def test_stage_table_names_are_safe_unique_and_short():
    long_task = "Query-Users.with spaces/and" + "x" * 100
    first = stage_table_name("dag", long_task, "manual__2024-01-01T00:00:00+00:00", "-1")
    second = stage_table_name("dag", long_task, "manual__2024-01-02T00:00:00+00:00", "-1")
    assert first != second
    assert len(first) <= 63
    assert first.replace("_", "").isalnum() and first == first.lower()
    assert stage_table_name("only").startswith("moltres_stage_only_")


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (DatabaseConnectionError("server closed the connection"), True),
        (QueryTimeoutError("too slow"), True),
        (ExecutionError("deadlock detected", retryable=True), True),
        (ExecutionError("syntax error"), False),
        (TableNotFoundError("users"), False),
        (ColumnNotFoundError("emial", ["email"]), False),
        (ValidationError("bad"), False),
        (ConnectionResetError(), True),
        (TimeoutError(), True),
        (KeyError("x"), False),
    ],
)
def test_retryable_classification(error, retryable):
    assert is_retryable(error) is retryable


def test_retryable_classification_of_raw_driver_errors(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        with pytest.raises(sa.exc.OperationalError) as missing_table:
            conn.exec_driver_sql("SELECT * FROM nowhere")
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        with pytest.raises(sa.exc.IntegrityError) as duplicate:
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    engine.dispose()
    locked = sa.exc.OperationalError("BEGIN", {}, type("Err", (Exception,), {"sqlite_errorcode": 5})())
    assert is_retryable(locked) is True  # SQLITE_BUSY
    assert is_retryable(missing_table.value) is False  # a plain SQLITE_ERROR
    assert is_retryable(duplicate.value) is False
    lost = sa.exc.DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True)
    assert is_retryable(lost) is True
    assert is_retryable(sa.exc.OperationalError("SELECT 1", {}, Exception("no code"))) is True


def test_write_to_table_modes(dsn):
    rows = [{"id": 1, "price": Decimal("1.50")}, {"id": 2, "price": Decimal("2.25")}]
    with connect(dsn) as db:
        assert write_to_table(db, "t", rows, "error_if_exists") == 2  # created from the data
        assert write_to_table(db, "t", rows[:1], "append") == 1
        assert write_to_table(db, "t", rows, "ignore") == 0
        with pytest.raises(ValidationError, match="already exists"):
            write_to_table(db, "t", rows, "error_if_exists")
        assert db.table("t").count() == 3
        assert write_to_table(db, "t", rows[1:], "overwrite") == 1
        assert db.table("t").select("id").collect() == [{"id": 2}]
        # empty input: nothing to create; overwrite empties an existing table
        assert write_to_table(db, "missing", [], "append") == 0
        assert not db.table_exists("missing")
        with pytest.raises(ValidationError, match="already exists"):
            write_to_table(db, "t", [], "error_if_exists")
        assert write_to_table(db, "t", encode_rows([], ["id"]), "overwrite") == 0
        assert db.table("t").count() == 0
        # a staging reference is copied inside the database
        db.create_table("stage", [column("id", "INTEGER"), column("price", "NUMERIC(10,2)")]).collect()
        db.insert("stage", rows)
        assert write_to_table(db, "t", staging_reference("stage", 2), "append") == 2
        assert db.table("t").count() == 2


def test_a_failed_overwrite_leaves_the_table_as_it_was(dsn):
    with connect(dsn) as db:
        db.create_table("t", [column("id", "INTEGER", primary_key=True), column("name", "TEXT")]).collect()
        db.insert("t", [{"id": 1, "name": "kept"}])
        with pytest.raises(ExecutionError):
            write_to_table(db, "t", [{"id": 2, "name": "a"}, {"id": 2, "name": "b"}], "overwrite")
        assert db.table("t").collect() == [{"id": 1, "name": "kept"}]
