"""What the Airflow operators and the Prefect tasks share, free of either framework.

Both orchestrators move results between tasks as serialized data, run the same three steps
(query, write to a table, check quality) and must tell a passing outage from a real bug.
This module holds those pieces once:

- **Failure classification** (:func:`is_retryable`): a lost connection, a timeout or a
  deadlock may pass on a retry; a failed quality check, a bad argument or an unknown table
  never will.
- **JSON-safe rows** (:func:`encode_rows`, :func:`decode_rows`): rows as JSON that loses
  nothing. Dates and times become ISO strings, ``Decimal`` a string (a float would round it),
  bytes base64; the payload records which columns were converted, so decoding restores the
  exact values. The payload is capped in rows and bytes.
- **Staging references** (:func:`staging_reference`): large results stay in the database, in a
  table made by ``CREATE TABLE ... AS SELECT``; only its name and row count travel.
- **Writing** (:func:`write_to_table`): rows or a staging table into a target table with the
  usual modes, atomically, creating the table from the data's types when it is missing.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict

from moltres.dataframe.writer import SaveMode as WriteMode
from moltres.dataframe.writer import check_mode as check_write_mode
from moltres.utils.exceptions import MoltresError, ValidationError

if TYPE_CHECKING:
    from moltres import Database
    from moltres.dataframe.dataframe import DataFrame

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_ROWS",
    "RowsPayload",
    "StagingReference",
    "WriteMode",
    "check_write_mode",
    "decode_rows",
    "encode_rows",
    "is_retryable",
    "is_rows_payload",
    "is_staging_reference",
    "jsonable",
    "rows_of",
    "stage_table_name",
    "staging_reference",
    "write_to_table",
]


#: XCom lives in the orchestrator's metadata database: keep what goes through it small.
DEFAULT_MAX_ROWS = 10_000
DEFAULT_MAX_BYTES = 1_000_000

_ROWS_FORMAT = "moltres.rows/v1"
_TABLE_FORMAT = "moltres.table/v1"

# Codes the database gives to conditions that a retry can clear, found on the driver error
# when a driver exception escaped without moltres classifying it.
_RETRYABLE_SQLSTATE_PREFIXES = ("08", "40001", "40P01", "53", "57P0")
_RETRYABLE_MYSQL_ERRNOS = {1205, 1213, 2002, 2003, 2006, 2013}
_RETRYABLE_SQLITE_CODES = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED


class RowsPayload(TypedDict):
    """Query results as JSON-safe data (the ``output="xcom"`` form).

    Attributes:
        format: Always ``"moltres.rows/v1"``.
        columns: Column names, in query order.
        types: For columns whose values were converted to strings, the original kind:
            ``"date"``, ``"datetime"``, ``"time"``, ``"decimal"``, ``"bytes"`` or ``"uuid"``.
        rows: The rows, one dict each, with JSON-safe values.
        row_count: ``len(rows)``.
    """

    format: str
    columns: list[str]
    types: dict[str, str]
    rows: list[dict[str, Any]]
    row_count: int


class StagingReference(TypedDict):
    """Where a result staged in the database lives (the ``output="table"`` form).

    Attributes:
        format: Always ``"moltres.table/v1"``.
        table: The staging table's name.
        row_count: How many rows it holds.
        conn_id: The Airflow connection it lives on, when one was used; else None.
    """

    format: str
    table: str
    row_count: int
    conn_id: str | None


# --- failures ---------------------------------------------------------------------------------


def is_retryable(exc: BaseException) -> bool:
    """Say whether running the same task again may succeed.

    Connection failures, timeouts, deadlocks and serialization failures are retryable.
    Validation errors, unknown tables or columns, SQL the database rejects, failed quality
    checks and missing dependencies are not: a retry would fail the same way.

    Args:
        exc: The exception a task raised.

    Returns:
        True when a retry may help.

    Example:
        >>> from moltres.utils.exceptions import DatabaseConnectionError, ValidationError
        >>> is_retryable(DatabaseConnectionError("server closed the connection"))
        True
        >>> is_retryable(ValidationError("unknown mode 'apend'"))
        False
    """
    if isinstance(exc, MoltresError):
        return bool(getattr(exc, "retryable", False))
    import sqlalchemy as sa

    if isinstance(exc, sa.exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        from moltres.integrations._http_errors import database_error_code

        code = database_error_code(exc)
        if isinstance(code, str):
            return code.startswith(_RETRYABLE_SQLSTATE_PREFIXES)
        if isinstance(code, int):
            return code in _RETRYABLE_MYSQL_ERRNOS or (code & 0xFF) in _RETRYABLE_SQLITE_CODES
        return isinstance(exc, sa.exc.OperationalError)
    return isinstance(exc, (ConnectionError, TimeoutError))


# --- JSON-safe rows -------------------------------------------------------------------------------


def _kind(value: Any) -> str | None:
    """The tag of a value that JSON cannot carry as is, or None when it can."""
    # datetime before date: a datetime is a date too.
    if isinstance(value, dt.datetime):
        return "datetime"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, dt.time):
        return "time"
    if isinstance(value, Decimal):
        return "decimal"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "bytes"
    if isinstance(value, uuid.UUID):
        return "uuid"
    return None


def jsonable(value: Any) -> Any:
    """Return `value` with every non-JSON scalar turned into a string that keeps its precision.

    Dates and times become ISO 8601, ``Decimal`` its exact string, bytes base64, UUIDs their
    canonical form; dicts, lists and tuples are converted deeply. Other values are returned
    as they are.

    Example:
        >>> import datetime as dt
        >>> from decimal import Decimal
        >>> jsonable({"day": dt.date(2024, 1, 31), "price": Decimal("19.99"), "tags": (b"ok",)})
        {'day': '2024-01-31', 'price': '19.99', 'tags': ['b2s=']}
    """
    kind = _kind(value)
    if kind is None:
        if isinstance(value, Mapping):
            return {str(k): jsonable(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [jsonable(v) for v in value]
        return value
    if kind in ("datetime", "date", "time"):
        return value.isoformat()
    if kind == "bytes":
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)


_DECODERS: dict[str, Any] = {
    "datetime": dt.datetime.fromisoformat,
    "date": dt.date.fromisoformat,
    "time": dt.time.fromisoformat,
    "decimal": Decimal,
    "bytes": base64.b64decode,
    "uuid": uuid.UUID,
}


def encode_rows(
    chunks: Iterable[Sequence[Mapping[str, Any]]],
    columns: Sequence[str],
    *,
    max_rows: int | None = DEFAULT_MAX_ROWS,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
) -> RowsPayload:
    """Turn streamed rows into a capped, JSON-safe payload that :func:`decode_rows` reverses.

    Args:
        chunks: The rows, in chunks (as ``df.collect(stream=True)`` yields them).
        columns: The column names, in order.
        max_rows: Most rows allowed; None for no limit.
        max_bytes: Most bytes of JSON allowed for the rows; None for no limit.

    Returns:
        The payload.

    Raises:
        ValidationError: The rows exceed a cap. Reading stops there, so an oversized result
            is never loaded whole.

    Example:
        >>> from decimal import Decimal
        >>> payload = encode_rows([[{"id": 1, "price": Decimal("9.90")}]], ["id", "price"])
        >>> payload["rows"], payload["types"]
        ([{'id': 1, 'price': '9.90'}], {'price': 'decimal'})
    """
    rows: list[dict[str, Any]] = []
    types: dict[str, str | None] = {}
    size = 2
    for chunk in chunks:
        for row in chunk:
            if max_rows is not None and len(rows) >= max_rows:
                raise _too_large(f"more than {max_rows:,} rows")
            encoded: dict[str, Any] = {}
            for name, value in row.items():
                kind = _kind(value)
                if kind is not None or value is not None:
                    seen = types.setdefault(name, kind)
                    if seen != kind:
                        types[name] = "mixed"
                encoded[name] = jsonable(value)
            size += len(json.dumps(encoded, separators=(",", ":"))) + 1
            if max_bytes is not None and size > max_bytes:
                raise _too_large(f"more than {max_bytes:,} bytes of JSON")
            rows.append(encoded)
    return {
        "format": _ROWS_FORMAT,
        "columns": list(columns),
        "types": {name: kind for name, kind in types.items() if kind not in (None, "mixed")},
        "rows": rows,
        "row_count": len(rows),
    }


def _too_large(what: str) -> ValidationError:
    return ValidationError(
        f"the query result is too large to pass between tasks ({what})",
        suggestion='use output="table" to stage it in the database and pass only a reference, '
        "or raise the cap (xcom_max_rows / xcom_max_bytes) if the orchestrator can hold it",
    )


def is_rows_payload(value: Any) -> bool:
    """Whether `value` is a payload made by :func:`encode_rows`.

    Example:
        >>> is_rows_payload(encode_rows([], ["id"]))
        True
    """
    return isinstance(value, Mapping) and value.get("format") == _ROWS_FORMAT


def decode_rows(payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Restore the rows of a payload made by :func:`encode_rows`, with their original types.

    Example:
        >>> import datetime as dt
        >>> decode_rows(encode_rows([[{"day": dt.date(2024, 1, 31)}]], ["day"]))
        [{'day': datetime.date(2024, 1, 31)}]
    """
    if not is_rows_payload(payload):
        raise ValidationError(
            "this is not a moltres rows payload",
            suggestion="pass what MoltresQueryOperator / moltres_query produced, or a list of dicts",
        )
    decoders = {name: _DECODERS[kind] for name, kind in payload["types"].items() if kind in _DECODERS}
    if not decoders:
        return [dict(row) for row in payload["rows"]]
    return [
        {k: (decoders[k](v) if v is not None and k in decoders else v) for k, v in row.items()}
        for row in payload["rows"]
    ]


# --- staging ----------------------------------------------------------------------------------------


def staging_reference(table: str, row_count: int, *, conn_id: str | None = None) -> StagingReference:
    """Describe a staged result: where it is and how many rows it holds.

    Example:
        >>> staging_reference("moltres_stage_users", 3)["table"]
        'moltres_stage_users'
    """
    return {"format": _TABLE_FORMAT, "table": table, "row_count": row_count, "conn_id": conn_id}


def is_staging_reference(value: Any) -> bool:
    """Whether `value` is a reference made by :func:`staging_reference`.

    Example:
        >>> is_staging_reference(staging_reference("t", 0))
        True
    """
    return isinstance(value, Mapping) and value.get("format") == _TABLE_FORMAT


def stage_table_name(*parts: str) -> str:
    """Derive a staging table name, unique to `parts` and valid on every database.

    The name is lower case, made of letters, digits and underscores, and at most 63
    characters (PostgreSQL's limit), ending in a hash of all of `parts`.

    Example:
        >>> stage_table_name("daily", "query_users", "manual__2024-01-01T00:00:00")[:26]
        'moltres_stage_query_users_'
    """
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:12]
    readable = re.sub(r"[^a-z0-9_]+", "_", parts[1].lower() if len(parts) > 1 else parts[0].lower())
    return f"moltres_stage_{readable.strip('_')[:34]}_{digest}"


# --- writing ------------------------------------------------------------------------------------------


def rows_of(data: Any) -> list[dict[str, Any]]:
    """Return the rows of `data`: a rows payload, ``Records``, a list of dicts, or a frame.

    Example:
        >>> rows_of([{"id": 1}])
        [{'id': 1}]
    """
    from moltres.io.records import normalize_rows

    if is_rows_payload(data):
        return decode_rows(data)
    if isinstance(data, Mapping):
        raise ValidationError(
            "data is a single mapping, not rows",
            suggestion="pass a list of dicts, Records, or the output of a moltres query task",
        )
    return normalize_rows(data)


def write_to_table(db: Database, table_name: str, data: Any, mode: WriteMode = "append") -> int:
    """Write `data` into `table_name` atomically and return the number of rows written.

    `data` is a staging reference (copied inside the database by ``INSERT ... SELECT``), a
    rows payload, a list of dicts or ``Records``. A missing table is created with the
    source's column types (inferred from the values for rows). Modes: ``append`` adds
    rows; ``overwrite`` replaces the table's rows, keeping its definition (types, keys,
    indexes); ``ignore`` does nothing when the table exists; ``error_if_exists`` refuses
    when it exists. Everything happens in one transaction: on error, the table is as it
    was (on MySQL/MariaDB, whose DDL commits, a table created here may remain empty).

    Args:
        db: The target database.
        table_name: The target table.
        data: What to write.
        mode: The write mode.

    Returns:
        How many rows were written (0 when ``ignore`` skipped the write).

    Raises:
        ValidationError: An unknown mode, unusable data, or an existing table with
            ``error_if_exists``.
    """
    mode = check_write_mode(mode)
    if is_staging_reference(data):
        source: DataFrame = db.table(str(data["table"])).select()
        count = int(data["row_count"])
    else:
        rows = rows_of(data)
        if not rows:
            return _write_nothing(db, table_name, mode)
        source = db.create_dataframe(rows)
        count = len(rows)
    exists = db.table_exists(table_name)
    if exists and mode == "ignore":
        return 0
    if exists and mode == "error_if_exists":
        raise _exists_error(table_name)
    # Created (or emptied) and filled in one transaction. The target keeps its definition
    # (types, keys, indexes) on overwrite; a new table takes the source's column types.
    with db.transaction():
        if not exists:
            from moltres.table.schema import column

            db.create_table(table_name, [column(name, kind) for name, kind in source.schema]).collect()
        elif mode == "overwrite":
            db.delete(table_name)
        # The count is known beforehand: some drivers report no rowcount for INSERT ... SELECT.
        source.write.insert_into(table_name)
    return count


def _exists_error(table_name: str) -> ValidationError:
    return ValidationError(
        f"table '{table_name}' already exists",
        suggestion='use mode="append" or mode="overwrite"',
        table=table_name,
    )


def _write_nothing(db: Database, table_name: str, mode: WriteMode) -> int:
    exists = db.table_exists(table_name)
    if mode == "error_if_exists" and exists:
        raise _exists_error(table_name)
    if mode == "overwrite" and exists:
        db.delete(table_name)
    return 0
