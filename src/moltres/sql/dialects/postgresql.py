"""PostgreSQL: its SQL, error codes, statement timeouts, upserts and COPY-based loads."""

from __future__ import annotations

import collections
import contextlib
import itertools
import operator
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from moltres.expressions import nodes as n
from moltres.sql.compiler import Compiler, Element, Relation
from moltres.sql.dialects.base import ErrorKind, Rules, dict_columns, dict_tuples, driver_rows
from moltres.utils.exceptions import DataFormatError

__all__ = ["RULES", "PostgreSQLCompiler", "PostgreSQLRules"]

_cursor_ids = itertools.count()

# Loads at least this large go through COPY instead of multi-row INSERT.
COPY_THRESHOLD = 1000

# Rows a binary COPY checks (and then sends) at a time.
CHECK_ROWS = 10_000


class PostgreSQLCompiler(Compiler):
    """PostgreSQL's SQL."""

    name = "postgresql"

    def values_cast(self, value: Element, type_name: str | None) -> Element:
        if type_name is None:
            return value
        from moltres.sql.types import parse_type

        return sa.cast(value, parse_type(type_name))

    def visit_Round(self, node: n.Round, *, arg: Element, digits: int) -> Element:
        rounded = sa.func.round(sa.cast(arg, sa.Numeric), sa.literal_column(str(int(digits))))
        if isinstance(arg.type, (sa.Integer, sa.Numeric)) and not isinstance(arg.type, sa.Float):
            return rounded
        return sa.cast(rounded, sa.Float)

    def visit_Split(self, node: n.Split, *, arg: Element, delimiter: Element) -> Element:
        return sa.func.string_to_array(arg, delimiter, type_=postgresql.ARRAY(sa.Text))

    def visit_RegexpExtract(self, node: n.RegexpExtract, *, arg: Element, pattern: Element) -> Element:
        return sa.func.substring(arg, pattern, type_=sa.String)

    def visit_DateAdd(self, node: n.DateAdd, *, arg: Element, days: Element) -> Element:
        return sa.type_coerce(sa.cast(arg, sa.Date) + sa.cast(days, sa.Integer), sa.Date)

    def visit_DateDiff(self, node: n.DateDiff, *, end: Element, start: Element) -> Element:
        return sa.type_coerce(sa.cast(end, sa.Date) - sa.cast(start, sa.Date), sa.Integer)

    def visit_DateTrunc(self, node: n.DateTrunc, *, unit: n.DatePart, arg: Element) -> Element:
        return sa.func.date_trunc(sa.literal_column(f"'{unit.value}'"), arg, type_=sa.DateTime)

    def visit_JsonExtract(self, node: n.JsonExtract, *, arg: Element, path: str) -> Element:
        parts = [p for p in path.lstrip("$").replace("[", ".").replace("]", "").split(".") if p]
        return sa.func.jsonb_extract_path_text(sa.cast(arg, postgresql.JSONB), *parts, type_=sa.String)

    def visit_CollectList(self, node: n.CollectList, *, arg: Element) -> Element:
        return sa.func.array_agg(arg, type_=postgresql.ARRAY(arg.type))

    def explode(self, rel: Relation, column: str, alias: str) -> Relation:
        columns = {name: expr for name, expr in rel.columns.items() if name != column}
        columns[alias] = sa.func.unnest(rel.columns[column])
        labeled = [expr.label(name) for name, expr in columns.items()]
        return Relation(
            rel.select.with_only_columns(*labeled, maintain_column_froms=True),
            columns,
            windowed=True,
            source=rel.source,
        )


def _sync_psycopg(connection: sa.Connection) -> bool:
    """Whether COPY can go through psycopg's own cursor (its asyncio adapter has no ``copy``)."""
    return connection.dialect.driver == "psycopg" and not connection.dialect.is_async


class PostgreSQLRules(Rules):
    """PostgreSQL's runtime behaviour."""

    name = "postgresql"
    compiler_class = PostgreSQLCompiler
    driver_extras: ClassVar[dict[str, str]] = {
        "psycopg": "postgresql",
        "psycopg2": "postgresql",
        "asyncpg": "async",
    }
    supports_server_side_cursors = True
    copy_batch_rows = 250_000  # a COPY streams its rows: a batch costs a statement, not memory on the server
    error_codes: ClassVar[dict[str, str]] = {
        ErrorKind.TABLE_NOT_FOUND: "42P01",
        ErrorKind.COLUMN_NOT_FOUND: "42703",
        ErrorKind.TIMEOUT: "57014",
        ErrorKind.DEADLOCK: "40P01 40001 55P03",
        ErrorKind.CONNECTION: "08000 08001 08003 08004 08006 57P01 57P02 57P03",
        ErrorKind.CONSTRAINT: "23000 23502 23503 23505 23514",
        ErrorKind.ABORTED_TRANSACTION: "25P02",
        ErrorKind.SYNTAX: "42601",
    }

    @contextlib.contextmanager
    def autocommit(self, dbapi_connection: Any) -> Iterator[None]:
        # psycopg (and SQLAlchemy's asyncpg adapter) send BEGIN before the first statement
        # unless autocommit is on; switching it while idle is client-side only (no round trip)
        if getattr(dbapi_connection, "autocommit", True) or not self.idle_after_read(dbapi_connection):
            yield
            return
        dbapi_connection.autocommit = True
        try:
            yield
        finally:
            dbapi_connection.autocommit = False

    def idle_after_read(self, dbapi_connection: Any) -> bool:
        # the driver's own connection: psycopg's, or asyncpg's / psycopg's under SQLAlchemy's async adapter
        raw = getattr(dbapi_connection, "driver_connection", dbapi_connection)
        info = getattr(raw, "info", None)
        if info is not None:  # psycopg
            return getattr(info, "transaction_status", None) == 0  # IDLE
        in_transaction = getattr(raw, "is_in_transaction", None)  # asyncpg
        return in_transaction is not None and not in_transaction()

    def stream_cursor(self, dbapi_connection: Any) -> Any:
        if type(dbapi_connection).__module__.split(".")[0] != "psycopg":
            return None
        # a named cursor is a server-side cursor: rows come over in batches of cursor.itersize
        return dbapi_connection.cursor(name=f"moltres_stream_{next(_cursor_ids)}")

    @contextlib.contextmanager
    def statement_timeout(self, connection: sa.Connection, seconds: float | None) -> Iterator[None]:
        if not seconds:
            yield
            return
        milliseconds = max(1, int(seconds * 1000))
        connection.exec_driver_sql(f"SET statement_timeout = {milliseconds}")
        try:
            yield
        finally:
            with contextlib.suppress(sa.exc.DBAPIError):
                connection.exec_driver_sql("SET statement_timeout = 0")

    def upsert(
        self, table: sa.Table, rows: Sequence[dict[str, Any]], keys: Sequence[str], update: Sequence[str]
    ) -> Any:
        stmt = postgresql.insert(table)
        if not update:
            return stmt.on_conflict_do_nothing(index_elements=list(keys))
        return stmt.on_conflict_do_update(index_elements=list(keys), set_={c: stmt.excluded[c] for c in update})

    def bulk_insert(self, connection: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
        if len(rows) < COPY_THRESHOLD or not _sync_psycopg(connection):
            super().bulk_insert(connection, table, rows)
            return
        # only the columns the rows give, so that the others get their defaults
        names = [c.key for c in table.c if c.key in rows[0]]
        preparer = connection.dialect.identifier_preparer
        target = preparer.format_table(table)
        column_list = ", ".join(preparer.quote(c) for c in names)
        raw = connection.connection.dbapi_connection
        assert raw is not None
        cursor: Any = raw.cursor()  # a psycopg 3 cursor, which has copy()
        statement = f"COPY {target} ({column_list}) FROM STDIN"
        import psycopg

        try:
            with cursor, cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row([row.get(c) for c in names])
        except psycopg.Error as exc:  # the driver's own error: make it SQLAlchemy's, like any other
            raise sa.exc.DBAPIError.instance(statement, None, exc, psycopg.Error) from None

    def insert_arrow(self, connection: sa.Connection, table: sa.Table, columns: Sequence[str], batch: Any) -> None:
        # Arrow writes the batch as CSV in C and COPY parses it on the server: no Python object per value
        if batch.num_rows < COPY_THRESHOLD or not _sync_psycopg(connection) or not _csv_safe(batch.schema):
            super().insert_arrow(connection, table, columns, batch)
            return
        import io

        import pyarrow.csv as pacsv

        buffer = io.BytesIO()
        # strings are always quoted ("" is an empty string) and NULL is an empty field, COPY's default
        pacsv.write_csv(batch, buffer, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
        with _copy(connection, table, columns, " (FORMAT csv)", line_errors=("22",)) as copy:
            copy.write(buffer.getbuffer())

    def insert_tuples(
        self, connection: sa.Connection, table: sa.Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        if len(rows) < COPY_THRESHOLD or not _sync_psycopg(connection):
            super().insert_tuples(connection, table, columns, rows)
            return
        values = driver_rows(connection.dialect, table, columns, rows)
        _copy_chunks(connection, table, columns, _chunks(values))

    def insert_dicts(self, connection: sa.Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> int | None:
        if len(rows) < COPY_THRESHOLD or not _sync_psycopg(connection):
            return None
        columns = dict_columns(table, rows)
        dialect = connection.dialect
        # one COPY, whose chunk k+1 becomes tuples while the server stores chunk k: the rows
        # are never all tuples at once, and the server does not wait for them to be
        chunks = (driver_rows(dialect, table, columns, dict_tuples(columns, chunk)) for chunk in _chunks(rows))
        _copy_chunks(connection, table, columns, chunks)
        return len(rows)

    def load_csv(
        self,
        connection: sa.Connection,
        table: sa.Table,
        columns: Sequence[str],
        *,
        path: str,
        chunks: Iterable[bytes],
        compression: str | None,
        header: bool,
        delimiter: str,
        quote: str,
        escape: str | None,
        null: str,
    ) -> int | None:
        # COPY parses the file on the server: the bytes are streamed, never parsed in Python
        if not _sync_psycopg(connection):
            return None
        names = ", ".join(connection.dialect.identifier_preparer.quote(c) for c in columns)
        options = [
            "FORMAT csv",
            f"HEADER {'true' if header else 'false'}",
            f"DELIMITER {_literal(delimiter)}",
            f"QUOTE {_literal(quote)}",
            f"NULL {_literal(null)}",
            f"FORCE_NULL ({names})",
            "ENCODING 'UTF8'",
        ]
        if escape:
            options.append(f"ESCAPE {_literal(escape)}")
        with _copy(connection, table, columns, f" ({', '.join(options)})") as copy:
            for chunk in chunks:
                copy.write(chunk)
        return copy.rows


RULES = PostgreSQLRules()


class _Copy:
    """A COPY in progress (``write`` / ``write_row``), and the rows it loaded once done."""

    def __init__(self, copy: Any) -> None:
        self.write = copy.write
        self.write_row = copy.write_row
        self.set_types = copy.set_types
        self.rows = -1


# Binary COPY skips formatting every value as text, but each value must already be exactly what
# the column's binary format holds: these column types, with these Python types only, and
# integers within the column's range (psycopg writes an int4 or int2 from any int, truncated).
_BINARY: tuple[tuple[type, str, frozenset[type], int], ...] = (
    (sa.BigInteger, "int8", frozenset({int}), 63),
    (sa.SmallInteger, "int2", frozenset({int}), 15),
    (sa.Integer, "int4", frozenset({int}), 31),
    (sa.Double, "float8", frozenset({float}), 0),
    (sa.Text, "text", frozenset({str}), 0),
    (sa.String, "text", frozenset({str}), 0),
    (sa.Boolean, "bool", frozenset({bool}), 0),
)

#: A column's binary COPY format: psycopg's type name, the Python types it takes, and for an
#: integer the bits of its magnitude (else 0).
_Format = tuple[str, frozenset[type], int]


def _binary_formats(table: sa.Table, columns: Sequence[str]) -> list[_Format] | None:
    """Each column's binary COPY format, or None if a column has none.

    Example:
        >>> t = sa.Table("t", sa.MetaData(), sa.Column("id", sa.BigInteger), sa.Column("on", sa.Date))
        >>> _binary_formats(t, ["id"])
        [('int8', frozenset({<class 'int'>}), 63)]
        >>> _binary_formats(t, ["id", "on"]) is None
        True
    """
    formats = []
    for name in columns:
        column_type = table.c[name].type
        match = next((b for b in _BINARY if isinstance(column_type, b[0])), None)
        if match is None:
            return None
        formats.append(match[1:])
    return formats


def _fit(formats: Sequence[_Format], rows: Sequence[Sequence[Any]]) -> bool:
    """Whether every value of `rows` (tuples, one value per format) is NULL or one its column's format holds.

    Example:
        >>> _fit([("int4", frozenset({int}), 31), ("text", frozenset({str}), 0)], [(1, "a"), (2, None)])
        True
        >>> _fit([("int4", frozenset({int}), 31)], [(1,), (2.5,)])
        False
        >>> _fit([("int4", frozenset({int}), 31)], [(1,), (2**31,)])
        False
    """
    for i, (_, taken, bits) in enumerate(formats):
        values = list(map(operator.itemgetter(i), rows)) if bits else map(operator.itemgetter(i), rows)
        found = set(map(type, values))
        found.discard(type(None))
        if not found <= taken:
            return False
        if not bits or not found:
            continue
        # an integer column: its range (zeros and NULLs left out, both always fit)
        if min(filter(None, values), default=0) < -(2**bits) or max(filter(None, values), default=0) >= 2**bits:
            return False
    return True


def _chunks(rows: Sequence[Any]) -> Iterator[Sequence[Any]]:
    """`rows` in slices of CHECK_ROWS, made one at a time."""
    return (rows[i : i + CHECK_ROWS] for i in range(0, len(rows), CHECK_ROWS))


def _copy_chunks(
    connection: sa.Connection, table: sa.Table, columns: Sequence[str], chunks: Iterable[Sequence[Sequence[Any]]]
) -> None:
    """COPY `chunks` of driver rows into `table`: binary while their values fit, the rest as text.

    Each chunk's values are checked just before it is sent, while the server stores the chunk
    before. From the first chunk binary COPY cannot take (a value of another type, an integer
    out of its column's range), that chunk and all after it go as text, in a second COPY; an
    error's line counts from the first row of the first chunk.
    """
    formats = _binary_formats(table, columns)
    pending = iter(chunks)
    chunk = next(pending, None)
    sent = 0
    # rows from Python, not a file: a violated constraint is an ExecutionError like any other
    if formats is not None and chunk is not None and _fit(formats, chunk):
        with _copy(connection, table, columns, " (FORMAT BINARY)", line_errors=("22",)) as copy:
            copy.set_types([f[0] for f in formats])
            while chunk is not None:
                collections.deque(map(copy.write_row, chunk), maxlen=0)
                sent += len(chunk)
                chunk = next(pending, None)
                if chunk is not None and not _fit(formats, chunk):
                    break
    if chunk is not None:  # a value binary COPY cannot take: these rows (all, or the rest) as text
        with _copy(connection, table, columns, "", line_errors=("22",), first_line=sent + 1) as copy:
            for rest in itertools.chain((chunk,), pending):
                collections.deque(map(copy.write_row, rest), maxlen=0)


@contextlib.contextmanager
def _copy(
    connection: sa.Connection,
    table: sa.Table,
    columns: Sequence[str],
    options: str,
    *,
    line_errors: tuple[str, ...] = ("22", "23"),
    first_line: int = 1,
) -> Iterator[_Copy]:
    """A COPY ... FROM STDIN of `columns` into `table`; `first_line`: the number of its first row in an error."""
    import psycopg

    preparer = connection.dialect.identifier_preparer
    names = ", ".join(preparer.quote(c) for c in columns)
    statement = f"COPY {preparer.format_table(table)} ({names}) FROM STDIN{options}"
    raw = connection.connection.dbapi_connection
    assert raw is not None
    cursor: Any = raw.cursor()  # a psycopg 3 cursor, which has copy()
    try:
        with cursor:
            with cursor.copy(statement) as copy:
                target = _Copy(copy)
                yield target
            target.rows = int(cursor.rowcount)
    except psycopg.Error as exc:
        raise _copy_error(exc, statement, line_errors, first_line - 1) from None


def _csv_safe(schema: Any) -> bool:
    """Whether Arrow's CSV text of every column is text PostgreSQL reads back as the same value."""
    import pyarrow as pa

    t = pa.types
    return all(
        t.is_integer(f.type)
        or t.is_floating(f.type)
        or t.is_boolean(f.type)
        or t.is_string(f.type)
        or t.is_large_string(f.type)
        or t.is_date(f.type)
        or t.is_timestamp(f.type)
        or t.is_decimal(f.type)
        or t.is_null(f.type)
        for f in schema
    )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_COPY_CONTEXT = re.compile(r"line (\d+)(?:, column ([^:]+?))?(?::|$)", re.MULTILINE)


def _copy_error(exc: Any, statement: str, line_errors: tuple[str, ...] = ("22", "23"), offset: int = 0) -> Exception:
    """A DataFormatError naming line and column when COPY rejected the data, else the DB-API error."""
    diag = getattr(exc, "diag", None)
    context = getattr(diag, "context", None) or ""
    sqlstate = getattr(diag, "sqlstate", None) or ""
    found = _COPY_CONTEXT.search(context) if context.startswith("COPY") else None
    # class 22 is "data exception" (a bad value or a malformed row), 23 a violated constraint
    if found and sqlstate[:2] in line_errors:
        reason = getattr(diag, "message_primary", None) or str(exc).splitlines()[0]
        return DataFormatError(reason, line=int(found.group(1)) + offset, column=found.group(2))
    wrapped: Exception = sa.exc.DBAPIError.instance(statement, None, exc, type(exc))
    return wrapped
