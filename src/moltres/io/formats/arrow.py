"""Arrow: query results as record batches, and SQL types to Arrow types and back.

:func:`iter_arrow_batches` is the columnar path that ``to_arrow``, ``to_pandas``,
``to_polars`` and the Parquet writer share. DuckDB hands over Arrow batches natively; for
other databases rows are fetched from a server-side cursor one batch at a time and turned
into Arrow arrays column by column, so no Python object per cell outlives its batch.

Example:
    >>> import pyarrow, sqlalchemy as sa
    >>> sql_to_arrow(sa.Integer()), arrow_to_sql(pyarrow.float64())
    (DataType(int64), 'DOUBLE')
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from moltres.engine.executor import QueryState, schema_change
from moltres.table import mutations
from moltres.utils.exceptions import ValidationError
from moltres.utils.optional import require

if TYPE_CHECKING:
    import pyarrow as pa

    from moltres.engine.executor import DriverStatement, Executor
    from moltres.io.frames import QueryFrame
    from moltres.sql.compiler import CompiledQuery

__all__ = [
    "BATCH_ROWS",
    "arrow_batches",
    "arrow_to_sql",
    "columnar_table",
    "insert_arrow_table",
    "is_columnar",
    "is_nested",
    "iter_arrow_batches",
    "sql_to_arrow",
    "to_arrow",
    "to_python",
]

# rows fetched per batch: the Python values of one batch are all that is alive at a time
BATCH_ROWS = 20_000


def _pa() -> Any:
    return require("pyarrow", "parquet")


def sql_to_arrow(type_: sa.types.TypeEngine[Any]) -> pa.DataType | None:
    """The Arrow type for a SQL column type, or None when there is no faithful one.

    Example:
        >>> import sqlalchemy as sa
        >>> sql_to_arrow(sa.DateTime(timezone=True)), sql_to_arrow(sa.Numeric(10, 2))
        (TimestampType(timestamp[us, tz=UTC]), Decimal128Type(decimal128(10, 2)))
    """
    pa = _pa()
    if isinstance(type_, sa.Boolean):
        return pa.bool_()
    if isinstance(type_, sa.SmallInteger):
        return pa.int16()
    if isinstance(type_, sa.Integer):
        return pa.int64()
    if isinstance(type_, sa.Float):
        return pa.float64()
    if isinstance(type_, sa.Numeric):
        precision, scale = type_.precision, type_.scale
        if precision is None or precision > 38:
            return None
        return pa.decimal128(precision, scale or 0)
    if isinstance(type_, sa.DateTime):
        return pa.timestamp("us", tz="UTC" if type_.timezone else None)
    if isinstance(type_, sa.Date):
        return pa.date32()
    if isinstance(type_, sa.Time):
        return pa.time64("us")
    if isinstance(type_, (sa.String, sa.Enum, sa.JSON, sa.Uuid)):
        return pa.string()
    if isinstance(type_, sa.LargeBinary):
        return pa.binary()
    return None


def is_nested(type_: pa.DataType) -> bool:
    """Whether an Arrow type holds lists, structs or maps.

    Example:
        >>> import pyarrow
        >>> is_nested(pyarrow.list_(pyarrow.int64())), is_nested(pyarrow.string())
        (True, False)
    """
    pa = _pa()
    return bool(pa.types.is_nested(type_))


def arrow_to_sql(type_: pa.DataType) -> str:
    """The SQL type name to store an Arrow type in (nested types become ``JSON``).

    Example:
        >>> import pyarrow
        >>> arrow_to_sql(pyarrow.timestamp("ms", tz="Europe/Paris")), arrow_to_sql(pyarrow.large_string())
        ('TIMESTAMP WITH TIME ZONE', 'TEXT')
    """
    pa = _pa()
    t = pa.types
    if t.is_dictionary(type_):
        return arrow_to_sql(type_.value_type)
    if t.is_boolean(type_):
        return "BOOLEAN"
    if t.is_int8(type_) or t.is_int16(type_) or t.is_uint8(type_):
        return "SMALLINT"
    if t.is_int32(type_) or t.is_uint16(type_):
        return "INTEGER"
    if t.is_integer(type_):
        return "BIGINT"
    if t.is_floating(type_):
        return "DOUBLE"
    if t.is_decimal(type_):
        return f"NUMERIC({type_.precision},{type_.scale})"
    if t.is_timestamp(type_):
        return "TIMESTAMP WITH TIME ZONE" if type_.tz else "TIMESTAMP"
    if t.is_date(type_):
        return "DATE"
    if t.is_time(type_):
        return "TIME"
    if t.is_binary(type_) or t.is_large_binary(type_) or t.is_fixed_size_binary(type_):
        return "BLOB"
    if is_nested(type_):
        return "JSON"
    return "TEXT"


# ------------------------------------------------------------------------------ query -> Arrow


def _cell_fixer(type_: sa.types.TypeEngine[Any]) -> Callable[[Any], Any] | None:
    """How to turn a fetched value into one Arrow takes for the column's Arrow type."""
    if isinstance(type_, sa.JSON):
        return lambda v: v if v is None or isinstance(v, str) else json.dumps(v, default=str)
    if isinstance(type_, sa.Uuid):
        return lambda v: v if v is None or isinstance(v, str) else str(v)
    return None


class _Columns:
    """Turns lists of row tuples into record batches with stable column types.

    `stored` holds, for rows fetched as the driver gives them (see :func:`driver_values`),
    the SQLAlchemy result processor of each column: Arrow converts a whole column at once
    where it can (SQLite's ISO date text, 0/1 booleans), else the processor runs per value.
    """

    def __init__(
        self,
        names: Sequence[str],
        types: Sequence[sa.types.TypeEngine[Any]],
        stored: Sequence[Callable[[Any], Any] | None] | None = None,
    ) -> None:
        self.names = list(names)
        self.types: list[Any] = [sql_to_arrow(t) for t in types]
        self.fixers = [_cell_fixer(t) for t in types]
        self.stored = list(stored) if stored is not None else [None] * len(self.names)

    def batch(self, rows: Sequence[Sequence[Any]]) -> pa.RecordBatch:
        pa = _pa()
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in self.names]
        arrays = []
        for i, values in enumerate(columns):
            processor = self.stored[i]
            if processor is not None:
                converted = self._convert(i, values)
                if converted is not None:
                    arrays.append(converted)
                    continue
                values = tuple(processor(v) for v in values)  # noqa: PLW2901 - the slow path, per value
            fixer = self.fixers[i]
            data = list(values) if fixer is None else [fixer(v) for v in values]
            arrays.append(self._array(i, data))
        return pa.RecordBatch.from_arrays(arrays, names=self.names)

    def _convert(self, i: int, values: Sequence[Any]) -> pa.Array | None:
        """A stored column converted by Arrow in one go, or None where Arrow cannot."""
        pa = _pa()
        wanted = self.types[i]
        if wanted is None:
            return None
        try:
            return pa.array(values).cast(wanted)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, ValueError, OverflowError):
            return None

    def _array(self, i: int, data: list[Any]) -> pa.Array:
        pa = _pa()
        wanted = self.types[i]
        with contextlib.suppress(pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
            array = pa.array(data, type=wanted)
            if wanted is None and array.type != pa.null():
                self.types[i] = array.type  # an untyped column (raw SQL) keeps its first real type
            return array
        # the values do not fit the declared type (SQLite stores anything anywhere): as text
        self.types[i] = pa.string()
        return pa.array([None if v is None else str(v) for v in data], type=pa.string())


def arrow_batches(
    names: Sequence[str],
    types: Sequence[sa.types.TypeEngine[Any]],
    partitions: Iterable[Sequence[Sequence[Any]]],
    stored: Sequence[Callable[[Any], Any] | None] | None = None,
) -> Iterator[pa.RecordBatch]:
    """Lists of row tuples as record batches typed by the query's columns; one empty batch if there are none.

    Shared by :func:`iter_arrow_batches` and the async frame's file writers, which fetch the
    rows on the event loop and build the batches on the thread that writes the file.

    Example:
        >>> [b.num_rows for b in arrow_batches(["n"], [sa.Integer()], [[(1,), (2,)], [(3,)]])]
        [2, 1]
    """
    columns = _Columns(names, types, stored)
    empty = True
    for part in partitions:
        empty = False
        yield columns.batch(part)
    if empty:
        yield columns.batch([])


def driver_values(statement: Any, names: Sequence[str]) -> Any:
    """The same SELECT, typed so that SQLAlchemy hands back the driver's values unprocessed.

    None for statements other than a plain ``Select`` (unions, raw SQL). The SQL text is
    unchanged: ``type_coerce`` exists only on the Python side.
    """
    if not isinstance(statement, sa.Select):
        return None
    selected = list(statement.selected_columns)
    if len(selected) != len(names):
        return None
    untyped = [
        sa.type_coerce(c.element if isinstance(c, sa.Label) else c, sa.types.NullType()).label(name)
        for c, name in zip(selected, names, strict=True)
    ]
    return statement.with_only_columns(*untyped, maintain_column_froms=True)


def _result_processors(
    dialect: sa.engine.Dialect, types: Sequence[sa.types.TypeEngine[Any]], description: Sequence[Any]
) -> list[Callable[[Any], Any] | None]:
    processors: list[Callable[[Any], Any] | None] = []
    for type_, column in zip(types, description, strict=True):
        if isinstance(type_, sa.JSON):  # JSON is written as text: the stored text is what we want
            processors.append(None)
            continue
        processors.append(type_.dialect_impl(dialect).result_processor(dialect, column[1]))
    return processors


def iter_arrow_batches(df: QueryFrame, batch_size: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """Run a DataFrame's query and yield its rows as Arrow record batches.

    Column types come from the query (so an empty result still has them). Batches of a
    column whose type the query does not know (raw SQL) take the type of its values.

    The rows take the shortest way the driver offers: DuckDB hands over Arrow batches;
    otherwise a DB-API cursor (server-side on PostgreSQL) is read straight, with no
    SQLAlchemy ``Row`` per row, wherever the executor lets reads bypass SQLAlchemy (see
    :class:`~moltres.engine.executor.DriverStatement`); else SQLAlchemy streams the driver's
    values. Either way each column is converted by Arrow at once where it can be.

    Example:
        >>> sum(b.num_rows for b in iter_arrow_batches(db.table("users"), 2))
        3
    """
    pa = _pa()
    executor = df._executor
    state = executor.state
    with executor.connection() as conn:
        compiled, params = state.prepare(df._plan, lambda: contextlib.nullcontext(conn))
        columns = _Columns(compiled.columns, compiled.types)
        driver_error: Any = conn.dialect.loaded_dbapi.Error
        try:
            with state.rules.statement_timeout(conn, state.query_timeout):
                native = state.rules.fetch_arrow(conn, compiled.statement, params, batch_size)
                if native is not None:
                    empty = True
                    for batch in native:
                        empty = False
                        yield batch.rename_columns(columns.names)
                    if empty:  # no rows: one empty batch still carries the column types
                        yield pa.RecordBatch.from_pylist([], schema=native.schema).rename_columns(columns.names)
                    return
                direct = _cursor_batches(executor, conn, compiled, params, batch_size)
                if direct is not None:
                    yield from direct
                    return
                # the driver's values, converted column by column below, not row by row by SQLAlchemy
                raw = driver_values(compiled.statement, compiled.columns)
                options = {"stream_results": True, "yield_per": batch_size}
                result = conn.execute(raw if raw is not None else compiled.statement, params, execution_options=options)
                try:
                    stored = None
                    if raw is not None and result.cursor is not None:
                        stored = _result_processors(conn.dialect, compiled.types, result.cursor.description)
                    yield from arrow_batches(compiled.columns, compiled.types, result.partitions(batch_size), stored)
                finally:
                    result.close()
        except sa.exc.DBAPIError as exc:
            raise state.fail(exc, sql=compiled.sql, timeout=state.query_timeout) from None
        except driver_error as exc:  # from the driver itself: a direct cursor, DuckDB's Arrow reader
            if conn.dialect.is_disconnect(exc, conn.connection.dbapi_connection, None):
                conn.invalidate(exc)
            wrapped = sa.exc.DBAPIError.instance(compiled.sql, None, exc, driver_error, dialect=conn.dialect)
            raise state.fail(wrapped, sql=compiled.sql, timeout=state.query_timeout) from None


def _cursor_batches(
    executor: Executor, conn: sa.Connection, compiled: CompiledQuery, params: dict[str, Any], batch_size: int
) -> Iterator[pa.RecordBatch] | None:
    """The rows read straight from a DB-API cursor of `conn`, or None where that is not allowed.

    None when the query needs SQLAlchemy at execution time, when something watches the
    engine's statements, or when the driver streams only through SQLAlchemy (MySQL's
    server-side cursors). PostgreSQL reads a server-side cursor a batch per round trip;
    SQLite produces rows as they are fetched. The driver's own errors come out as they are.
    """
    if not executor.runs_direct():  # the executor's own rule for reading past SQLAlchemy
        return None
    driver = executor.state.driver_statement(compiled)
    dbapi = conn.connection.dbapi_connection
    cursor = None if driver is None or dbapi is None else executor.state.rules.stream_cursor(dbapi)
    if driver is None or cursor is None:
        return None
    return _drain(cursor, driver, conn.dialect, compiled, params, batch_size)


def _drain(
    cursor: Any,
    driver: DriverStatement,
    dialect: sa.engine.Dialect,
    compiled: CompiledQuery,
    params: dict[str, Any],
    batch_size: int,
) -> Iterator[pa.RecordBatch]:
    with contextlib.closing(cursor):
        driver.execute(cursor, params)
        stored = _result_processors(dialect, compiled.types, cursor.description)

        def parts() -> Iterator[Sequence[Sequence[Any]]]:
            while part := cursor.fetchmany(batch_size):
                yield part

        yield from arrow_batches(compiled.columns, compiled.types, parts(), stored)


def to_arrow(df: QueryFrame, batch_size: int = BATCH_ROWS) -> pa.Table:
    """Fetch a DataFrame as an Arrow table, batch by batch.

    Example:
        >>> to_arrow(db.table("users")).column_names
        ['id', 'name', 'age']
    """
    pa = _pa()
    tables = [pa.Table.from_batches([b]) for b in iter_arrow_batches(df, batch_size)]
    if len(tables) == 1:
        return tables[0]
    return pa.concat_tables(tables, promote_options="permissive")


# ------------------------------------------------------------------------------ frames -> Arrow

_COLUMNAR = {"pandas", "polars", "pyarrow"}


def is_columnar(data: object) -> bool:
    """Whether `data` is a pandas or polars DataFrame or an Arrow table or batch (no import needed).

    Example:
        >>> import pyarrow
        >>> is_columnar([{"a": 1}]), is_columnar(pyarrow.table({"a": [1]}))
        (False, True)
    """
    return type(data).__module__.split(".")[0] in _COLUMNAR


def columnar_table(data: object) -> pa.Table:
    """A pandas/polars DataFrame, Arrow table, record batch or reader as an Arrow table.

    pandas' index is dropped; NaN in float columns becomes NULL only where pandas marks it
    missing (``from_pandas`` semantics).

    Example:
        >>> import pyarrow
        >>> columnar_table(pyarrow.record_batch({"a": [1, 2]})).num_rows
        2
    """
    pa = _pa()
    module = type(data).__module__.split(".")[0]
    if module == "pandas":
        return pa.Table.from_pandas(data, preserve_index=False)
    if module == "polars":
        return data.to_arrow()  # type: ignore[attr-defined]
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if isinstance(data, pa.RecordBatchReader):
        return data.read_all()
    raise ValidationError(
        f"cannot read a {type(data).__name__} as a table",
        suggestion="pass a pandas or polars DataFrame, or a pyarrow Table",
    )


def to_python(batch: pa.RecordBatch, as_text: Sequence[bool]) -> list[tuple[Any, ...]]:
    """Rows of Python values from a record batch; columns flagged in `as_text` become JSON text.

    Example:
        >>> import pyarrow
        >>> to_python(pyarrow.record_batch({"a": [1], "b": [[1, 2]]}), [False, True])
        [(1, '[1, 2]')]
    """
    columns = []
    for i, text in enumerate(as_text):
        values = batch.column(i).to_pylist()
        if text:
            values = [None if v is None else json.dumps(v, default=str) for v in values]
        columns.append(values)
    return list(zip(*columns, strict=True))


@schema_change
def insert_arrow_table(conn: sa.Connection, state: QueryState, table: sa.Table, data: pa.Table) -> int:
    """``CREATE TABLE`` and fill it from an Arrow table, one batch at a time; return the row count.

    Columns match by position. Nested columns go into JSON columns as Python values, into
    text columns as JSON text.
    """
    mutations.create_table(conn, state, table, False)
    columns = list(table.c.keys())
    nested = [is_nested(f.type) for f in data.schema]
    as_text = [n and not isinstance(table.c[c].type, sa.JSON) for n, c in zip(nested, columns, strict=True)]
    for batch in data.to_batches(max_chunksize=BATCH_ROWS):
        if any(nested):
            state.rules.insert_tuples(conn, table, columns, to_python(batch, as_text))
        else:
            state.rules.insert_arrow(conn, table, columns, batch)
    return int(data.num_rows)
