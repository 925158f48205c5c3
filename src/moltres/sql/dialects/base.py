"""What differs between databases beyond SQL text: errors, timeouts, upserts, connection setup.

Each dialect module defines a :class:`Compiler` subclass (SQL differences) and a
:class:`Rules` subclass (runtime differences). Nothing outside ``sql/dialects/`` asks which
database it is talking to; it asks the rules.
"""

from __future__ import annotations

import contextlib
import itertools
import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

import sqlalchemy as sa

from moltres.sql.compiler import Compiler
from moltres.utils.collector import collector_paused
from moltres.utils.exceptions import ColumnNotFoundError, ValidationError

__all__ = [
    "ErrorKind",
    "Rules",
    "bind_column",
    "check_columns",
    "dict_columns",
    "dict_tuples",
    "driver_columns",
    "driver_rows",
    "insert_columns",
    "insert_sql",
]


class ErrorKind:
    """Names for the kinds of database error moltres tells apart."""

    TABLE_NOT_FOUND = "table_not_found"
    COLUMN_NOT_FOUND = "column_not_found"
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    DEADLOCK = "deadlock"
    CONSTRAINT = "constraint"
    ABORTED_TRANSACTION = "aborted_transaction"
    SYNTAX = "syntax"
    OTHER = "other"


class Rules:
    """Runtime behaviour of one database; subclasses override what differs."""

    name: ClassVar[str] = "default"
    compiler_class: ClassVar[type[Compiler]] = Compiler
    # pip extra that provides the driver for each SQLAlchemy driver name
    driver_extras: ClassVar[dict[str, str]] = {}
    # DDL inside a transaction is rolled back with it (false on MySQL: DDL commits implicitly)
    transactional_ddl: ClassVar[bool] = True
    # CREATE TABLE ... AS SELECT keeps the declared column types (not on SQLite)
    ctas_keeps_types: ClassVar[bool] = True
    # SAVEPOINTs exist (false on DuckDB): nested work inside a transaction can roll back alone
    supports_savepoints: ClassVar[bool] = True
    supports_server_side_cursors: ClassVar[bool] = False
    # rows per insert_tuples batch where the driver streams them (COPY), else None for the default
    copy_batch_rows: ClassVar[int | None] = None
    # the SQLSTATE or error number of each kind of error, where the driver gives one
    error_codes: ClassVar[dict[str, str]] = {}

    def on_connect(self, dbapi_connection: Any) -> None:
        """Prepare a new DB-API connection (register functions, set session options)."""

    def register_functions(self, dbapi_connection: Any) -> None:
        """Add the SQL functions moltres relies on to a connection (also one moltres does not own)."""

    def configure_engine(self, engine: sa.Engine) -> None:
        """Attach engine-level event handlers this database needs."""

    def error_code(self, exc: BaseException) -> str | None:
        """The driver's error code for an exception, as a string, if it has one."""
        orig = getattr(exc, "orig", exc)
        for attr in ("sqlstate", "pgcode"):
            code = getattr(orig, attr, None)
            if code:
                return str(code)
        args = getattr(orig, "args", ())
        if args and isinstance(args[0], int):
            return str(args[0])
        return None

    def classify(self, exc: BaseException) -> str:
        """Which :class:`ErrorKind` a database exception is."""
        code = self.error_code(exc)
        if code is not None:
            for kind, codes in self.error_codes.items():
                if code in codes.split():
                    return kind
        if isinstance(exc, sa.exc.OperationalError) and getattr(exc, "connection_invalidated", False):
            return ErrorKind.CONNECTION
        if isinstance(exc, sa.exc.IntegrityError):
            return ErrorKind.CONSTRAINT
        return self.classify_message(str(getattr(exc, "orig", exc)))

    def classify_message(self, message: str) -> str:
        """Classify by message, for drivers that give no codes (SQLite, DuckDB)."""
        return ErrorKind.OTHER

    @contextlib.contextmanager
    def statement_timeout(self, connection: sa.Connection, seconds: float | None) -> Iterator[None]:
        """Cancel statements run inside this block after `seconds`."""
        yield

    # --- reads straight on the driver (see moltres.engine.executor.DriverStatement) -------------

    def autocommit(self, dbapi_connection: Any) -> contextlib.AbstractContextManager[None]:
        """Let one statement on this idle DB-API connection commit by itself, inside the block.

        A read outside any transaction then costs one round trip, not BEGIN, the query and
        ROLLBACK. Drivers already in autocommit mode (SQLite as moltres sets it up, DuckDB)
        need nothing; PostgreSQL flips psycopg's client-side flag.
        """
        return contextlib.nullcontext()

    def idle_after_read(self, dbapi_connection: Any) -> bool:
        """Whether a read run inside :meth:`autocommit` left this connection with no transaction open.

        When it did not, the pool's reset (a ROLLBACK on check-in) has nothing to undo and the
        connection goes back without it; on DuckDB that ROLLBACK raises and catches "no
        transaction is active", costing more than a primary-key query. The default, False,
        keeps the reset (MySQL: PyMySQL opens a transaction with the first SELECT).
        """
        return False

    def read_cursor(self, dbapi_connection: Any) -> Any:
        """The DB-API cursor a direct read runs on (execute, fetchall, description, close).

        Drivers whose every call is a trip to another thread (aiosqlite) return one that makes
        the whole read a single trip.
        """
        return dbapi_connection.cursor()

    def stream_cursor(self, dbapi_connection: Any) -> Any:
        """A DB-API cursor that fetches a large result in batches, or None to stream through SQLAlchemy."""
        return None if self.supports_server_side_cursors else dbapi_connection.cursor()

    # The driver stops a running statement itself when its asyncio task is cancelled (asyncpg,
    # psycopg, aiomysql); when not, the async executor calls interrupt() from the event loop.
    interrupts_on_cancel: ClassVar[bool] = False

    def interrupt(self, dbapi_connection: Any) -> None:
        """Stop the statement running on `dbapi_connection` (called from another thread)."""

    def upsert(
        self, table: sa.Table, rows: Sequence[dict[str, Any]], keys: Sequence[str], update: Sequence[str]
    ) -> Any:
        """An INSERT that updates the `update` columns when a row with the same `keys` exists."""
        from sqlalchemy.dialects import sqlite

        stmt = sqlite.insert(table)
        if not update:
            return stmt.on_conflict_do_nothing(index_elements=list(keys))
        return stmt.on_conflict_do_update(index_elements=list(keys), set_={c: stmt.excluded[c] for c in update})

    def bulk_insert(self, connection: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
        """Insert many rows; drivers with a faster path than executemany override this."""
        connection.execute(table.insert(), list(rows))

    def reflect(self, conn: sa.Connection, name: str, schema: str | None) -> sa.Table:
        """Describe an existing table (columns and types) from the database."""
        return sa.Table(name, sa.MetaData(), schema=schema, autoload_with=conn)

    def adapt_table(self, table: sa.Table) -> sa.Table:
        """Adjust a table definition before ``CREATE TABLE`` (a hook for dialect quirks)."""
        return table

    def begin_if_needed(self, connection: sa.Connection) -> None:
        """Make sure a connection we were lent is inside a real transaction before a SAVEPOINT.

        Called before ``begin_nested`` on a session's or caller's connection: a SAVEPOINT
        outside any transaction would start one, and its RELEASE would commit it.
        """

    def temporary_prefix(self) -> str:
        """The keyword that makes a table temporary."""
        return "TEMPORARY"

    # --- bulk transfer: files and columnar data in and out (used by moltres.io) -----------------

    # lists, structs and maps can be stored in columns of their own (else only as JSON)
    stores_nested: ClassVar[bool] = False

    def insert_tuples(
        self, connection: sa.Connection, table: sa.Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Insert rows given as tuples of Python values in `columns` order, as one executemany.

        Values go through the column types' bind processors (dates on SQLite, JSON ...)
        first, as SQLAlchemy would; the statement goes to the driver as is.
        """
        if not rows:
            return
        connection.exec_driver_sql(
            insert_sql(connection.dialect, table, columns), driver_rows(connection.dialect, table, columns, rows)
        )

    def insert_dicts(self, connection: sa.Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> int | None:
        """Insert rows given as dicts, turning them into tuples a chunk at a time as they are sent; the count.

        The columns are those of :func:`dict_columns`, checked before anything is written.
        None (the default) means the database has no such path: nothing was written, and the
        caller converts every row first and calls :meth:`insert_tuples`.
        """
        return None

    def insert_arrow(self, connection: sa.Connection, table: sa.Table, columns: Sequence[str], batch: Any) -> None:
        """Insert a ``pyarrow.RecordBatch`` whose columns are `columns`, in order."""
        values = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
        self.insert_tuples(connection, table, columns, list(zip(*values, strict=True)))

    def fetch_arrow(self, connection: sa.Connection, statement: Any, params: dict[str, Any], batch_size: int) -> Any:
        """Run a SELECT and give its rows as a ``pyarrow.RecordBatchReader``, or None if the driver cannot."""
        return None

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
        """Load a UTF-8 CSV file into `table` with the database's own parser; return the row count.

        None means the database has no parser of its own (nothing was read).

        Either `path` (read by the database itself) or `chunks` (the decompressed bytes,
        streamed to the server) is used. Malformed input raises
        :class:`~moltres.utils.exceptions.DataFormatError` with the line and column.
        """
        return None

    def load_parquet(
        self, connection: sa.Connection, table: sa.Table | str, columns: Sequence[str], *, path: str
    ) -> int | None:
        """Load a Parquet file (or folder of them) with the database's own reader; return the row count.

        Given a table name (a str) instead of a Table, create the table from the file's own
        types (which keeps nested types where :attr:`stores_nested`). None means the
        database has no reader of its own.
        """
        return None


def insert_sql(dialect: sa.engine.Dialect, table: sa.Table, columns: Sequence[str]) -> str:
    """``INSERT INTO table (columns) VALUES (...)`` in the driver's own parameter style.

    Example:
        >>> insert_sql(sa.create_engine("sqlite://").dialect, sa.table("t"), ["a", "b"])
        'INSERT INTO t (a, b) VALUES (?, ?)'
    """
    preparer = dialect.identifier_preparer
    style = dialect.paramstyle
    if style == "qmark":
        marks = ["?"] * len(columns)
    elif style == "numeric":
        marks = [f":{i + 1}" for i in range(len(columns))]
    elif style == "numeric_dollar":
        marks = [f"${i + 1}" for i in range(len(columns))]
    elif style in ("format", "pyformat"):
        marks = ["%s"] * len(columns)
    else:
        marks = [f":p{i}" for i in range(len(columns))]
    # the preparer already doubles % in identifiers for drivers whose placeholders use %
    names = ", ".join(preparer.quote(c) for c in columns)
    target = preparer.format_table(table)
    return f"INSERT INTO {target} ({names}) VALUES ({', '.join(marks)})"


def dict_columns(table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The columns `rows` give, checked against `table`, before any row is converted.

    The first row's keys in their order when every row has just those keys, else every key
    in first-seen order (a key missing from a row is NULL there). A key that is no column
    of `table` is a ColumnNotFoundError naming it.

    Example:
        >>> t = sa.table("t", sa.column("a"), sa.column("b"))
        >>> dict_columns(t, [{"b": 1, "a": 2}, {"a": 3, "b": 4}]), dict_columns(t, [{"a": 1}, {"b": 2}])
        (['b', 'a'], ['a', 'b'])
    """
    names = list(rows[0]) if rows else []
    # the usual case, at C speed: as many keys in all as the first row's, and no other key
    if sum(map(len, rows)) != len(names) * len(rows) or set().union(*rows) != set(names):
        names = list(dict.fromkeys(itertools.chain.from_iterable(rows)))
    check_columns(table, names)
    return names


def check_columns(table: sa.Table, names: Iterable[str]) -> None:
    """Raise ColumnNotFoundError (listing the table's columns) for the first name that is no column of `table`.

    Example:
        >>> check_columns(sa.table("t", sa.column("a")), ["a"])
    """
    known = table.c
    for key in names:
        if key not in known:
            raise ColumnNotFoundError(key, list(known.keys()), table=table.name)


def dict_tuples(columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
    """`rows` (dicts with no key outside `columns`) as tuples in `columns` order, a missing key as None.

    Example:
        >>> dict_tuples(["a", "b"], [{"b": 2, "a": 1}, {"b": 3}])
        [(1, 2), (None, 3)]
    """
    if len(columns) > 1:
        with contextlib.suppress(KeyError):  # every row with every column (the usual case), at C speed
            return list(map(operator.itemgetter(*columns), rows))
    return [tuple(map(row.get, columns)) for row in rows]


def driver_rows(
    dialect: sa.engine.Dialect, table: sa.Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> list[Any]:
    """Rows ready for the driver: bind processors applied (only where a column has one).

    Example:
        >>> import datetime
        >>> t = sa.Table("t", sa.MetaData(), sa.Column("on", sa.Date))
        >>> driver_rows(sa.create_engine("sqlite://").dialect, t, ["on"], [(datetime.date(2024, 5, 1),)])
        [('2024-05-01',)]
    """
    active = []
    for i, name in enumerate(columns):
        processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            active.append((i, processor))
    if dialect.paramstyle == "named":
        keys = [f"p{i}" for i in range(len(columns))]
        return [dict(zip(keys, _processed(row, active, table, columns), strict=True)) for row in rows]
    by_column: list[Any] = []
    if active:
        # column by column: one comprehension per processed column instead of a call per row
        by_column = [list(map(operator.itemgetter(i), rows)) for i in range(len(columns))]
        active = [(i, processor) for i, processor in active if not _passes_through(processor, by_column[i])]
    if not active:
        return rows if isinstance(rows, list) and (not rows or isinstance(rows[0], tuple)) else [tuple(r) for r in rows]
    with collector_paused(len(rows)):
        for i, processor in active:
            by_column[i] = bind_column(processor, by_column[i], table, columns[i])
        return list(zip(*by_column, strict=True))


def bind_column(processor: Any, values: Iterable[Any], table: sa.Table, name: str) -> list[Any]:
    """`values` of column `name` through its type's bind `processor` (NULLs stay NULL).

    A value the type cannot take (a string for a DATE on SQLite, ...) is a ValidationError
    naming the column and the value, raised before anything is sent.

    Example:
        >>> t = sa.Table("t", sa.MetaData(), sa.Column("on", sa.Date))
        >>> sqlite = sa.create_engine("sqlite://").dialect
        >>> to_text = t.c.on.type.dialect_impl(sqlite).bind_processor(sqlite)
        >>> try:
        ...     bind_column(to_text, ["2024-05-01"], t, "on")
        ... except ValidationError as exc:
        ...     print(str(exc).split(":")[0], "/", exc.suggestion)
        column 'on' of table 't' (DATE) cannot take '2024-05-01' (a str) / give 'on' values of type date
    """
    values = list(values)
    try:
        return [None if v is None else processor(v) for v in values]
    except (TypeError, ValueError, AttributeError) as exc:
        for value in values:
            try:
                if value is not None:
                    processor(value)
            except (TypeError, ValueError, AttributeError):
                break
        else:  # pragma: no cover - the processor failed once and never again
            raise
        column = table.c[name]
        try:
            wanted = f"values of type {column.type.python_type.__name__}"
        except NotImplementedError:
            wanted = f"values a {column.type} column holds"
        raise ValidationError(
            f"column {name!r} of table {table.name!r} ({column.type}) cannot take {value!r} "
            f"(a {type(value).__name__}): {exc}",
            suggestion=f"give {name!r} {wanted}",
        ) from None


def _passes_through(processor: Any, values: list[Any]) -> bool:
    """Whether `processor` would hand every one of `values` back unchanged, so it can be skipped.

    SQLAlchemy's ``to_float`` (DOUBLE and REAL columns) makes ints and Decimals floats; a
    column already holding floats (or NULLs) needs no pass. Checked at C speed.
    """
    return getattr(processor, "__name__", "") == "to_float" and set(map(type, values)) <= {float, type(None)}


def driver_columns(
    dialect: sa.engine.Dialect, table: sa.Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> list[list[Any]]:
    """The rows' values column by column, bind processors applied (for columnar loads).

    Example:
        >>> t = sa.table("t", sa.column("a"), sa.column("b"))
        >>> driver_columns(sa.create_engine("sqlite://").dialect, t, ["a", "b"], [(1, "x"), (2, "y")])
        [[1, 2], ['x', 'y']]
    """
    by_column = [list(map(operator.itemgetter(i), rows)) for i in range(len(columns))]
    for i, name in enumerate(columns):
        processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None and not _passes_through(processor, by_column[i]):
            by_column[i] = bind_column(processor, by_column[i], table, name)
    return by_column


def insert_columns(
    connection: sa.Connection,
    table: sa.Table,
    columns: Sequence[str],
    values: list[list[Any]],
    ready: Sequence[bool],
) -> None:
    """Insert rows given column by column, as one executemany.

    Each column goes through its type's bind processor (NULLs aside), one column at a time,
    unless `ready` says its values are already in the form the driver stores.
    """
    dialect = connection.dialect
    for i, name in enumerate(columns):
        if ready[i]:
            continue
        processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            values[i] = bind_column(processor, values[i], table, name)
    rows = list(zip(*values, strict=True))
    if dialect.paramstyle == "named":
        keys = [f"p{i}" for i in range(len(columns))]
        rows = [dict(zip(keys, row, strict=True)) for row in rows]  # type: ignore[misc]
    if rows:
        connection.exec_driver_sql(insert_sql(dialect, table, columns), rows)


def _processed(row: Sequence[Any], active: list[tuple[int, Any]], table: sa.Table, columns: Sequence[str]) -> list[Any]:
    values = list(row)
    for i, processor in active:
        # NULL stays NULL (a JSON processor would store the JSON text 'null')
        values[i] = bind_column(processor, (values[i],), table, columns[i])[0]
    return values
