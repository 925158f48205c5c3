"""DuckDB: its SQL (mostly PostgreSQL's), error messages, interrupts and Arrow-based loads."""

from __future__ import annotations

import contextlib
import functools
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from moltres.expressions import nodes as n
from moltres.sql.compiler import Element, Relation
from moltres.sql.dialects.base import ErrorKind, Rules, driver_columns
from moltres.sql.dialects.postgresql import PostgreSQLCompiler
from moltres.utils.exceptions import DataFormatError

__all__ = ["RULES", "DuckDBCompiler", "DuckDBRules", "offline_dialect"]


def offline_dialect() -> sa.engine.Dialect:
    """DuckDB's SQLAlchemy dialect, for compiling without a connection."""
    from moltres.utils.optional import require

    require("duckdb_engine", "duckdb")
    from duckdb_engine import Dialect

    # the placeholder style duckdb_engine gives its connections ($1), not its base's default
    dialect = Dialect(paramstyle=Dialect.import_dbapi().paramstyle)
    quote_keywords(dialect)
    return dialect


@functools.cache
def _keywords() -> frozenset[str]:
    import duckdb

    with duckdb.connect(":memory:") as connection:
        rows = connection.execute(
            "SELECT keyword_name FROM duckdb_keywords() WHERE keyword_category <> 'unreserved'"
        ).fetchall()
    return frozenset(name for (name,) in rows)


def quote_keywords(dialect: sa.engine.Dialect) -> None:
    """Make the dialect quote every identifier DuckDB's parser reserves.

    duckdb_engine quotes PostgreSQL's reserved words, but DuckDB reserves more (``at``, for
    ``AT TIME ZONE``): a column named ``at`` must be written ``"at"``.

    Example:
        >>> dialect = offline_dialect()
        >>> dialect.identifier_preparer.quote("at"), dialect.identifier_preparer.quote("name")
        ('"at"', 'name')
    """
    preparer = dialect.identifier_preparer
    preparer.reserved_words = preparer.reserved_words | _keywords()


class DuckDBCompiler(PostgreSQLCompiler):
    """DuckDB's SQL."""

    name = "duckdb"
    simple_functions: ClassVar[dict[type[n.Node], str]] = {
        **PostgreSQLCompiler.simple_functions,
        n.Length: "length",
    }

    def visit_Round(self, node: n.Round, *, arg: Element, digits: int) -> Element:
        return sa.func.round(arg, sa.literal_column(str(int(digits))), type_=arg.type)

    def visit_CurrentTimestamp(self, node: n.CurrentTimestamp) -> Element:
        # a plain TIMESTAMP: DuckDB's Python client needs pytz for TIMESTAMP WITH TIME ZONE
        return sa.cast(sa.func.current_timestamp(), sa.DateTime)

    def visit_RLike(self, node: n.RLike, *, arg: Element, pattern: Element) -> Element:
        return sa.func.regexp_matches(arg, pattern, type_=sa.Boolean)

    def visit_Split(self, node: n.Split, *, arg: Element, delimiter: Element) -> Element:
        return sa.func.string_split(arg, delimiter, type_=postgresql.ARRAY(sa.Text))

    def visit_RegexpExtract(self, node: n.RegexpExtract, *, arg: Element, pattern: Element) -> Element:
        return sa.func.regexp_extract(arg, pattern, type_=sa.String)

    def visit_DateDiff(self, node: n.DateDiff, *, end: Element, start: Element) -> Element:
        return sa.func.date_diff(
            sa.literal_column("'day'"), sa.cast(start, sa.Date), sa.cast(end, sa.Date), type_=sa.Integer
        )

    def visit_JsonExtract(self, node: n.JsonExtract, *, arg: Element, path: str) -> Element:
        return sa.func.json_extract_string(arg, path, type_=sa.String)

    def visit_CollectList(self, node: n.CollectList, *, arg: Element) -> Element:
        return sa.func.list(arg, type_=postgresql.ARRAY(arg.type))

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


_DUCK_TYPES = {
    "VARCHAR": "TEXT",
    "HUGEINT": "BIGINT",
    "UBIGINT": "BIGINT",
    "UINTEGER": "BIGINT",
    "USMALLINT": "INTEGER",
    "TINYINT": "SMALLINT",
    "UTINYINT": "SMALLINT",
    "TIMESTAMP WITH TIME ZONE": "TIMESTAMP WITH TIME ZONE",
    "TIMESTAMP_NS": "TIMESTAMP",
    "TIMESTAMP_MS": "TIMESTAMP",
    "TIMESTAMP_S": "TIMESTAMP",
}


# Rows from which an insert goes through Arrow: registering a batch costs about a millisecond,
# more than executing a handful of rows one by one.
_ARROW_FROM = 16


class DuckDBRules(Rules):
    """DuckDB's runtime behaviour."""

    name = "duckdb"
    compiler_class = DuckDBCompiler
    driver_extras: ClassVar[dict[str, str]] = {"duckdb_engine": "duckdb"}
    supports_savepoints = False

    def configure_engine(self, engine: sa.Engine) -> None:
        quote_keywords(engine.dialect)

    def idle_after_read(self, dbapi_connection: Any) -> bool:
        # DuckDB runs each statement in its own transaction unless BEGIN was sent, and a direct
        # read never sends it (its connection came idle from the pool)
        return True

    def reflect(self, conn: sa.Connection, name: str, schema: str | None) -> sa.Table:
        # duckdb_engine's PostgreSQL-catalog reflection does not work on DuckDB; ask
        # information_schema instead
        from moltres.sql.types import parse_type
        from moltres.utils.exceptions import ValidationError

        rows = conn.execute(
            sa.text(
                "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                "WHERE table_name = :name AND table_schema = coalesce(:schema, current_schema()) "
                "ORDER BY ordinal_position"
            ),
            {"name": name, "schema": schema},
        ).fetchall()
        columns = []
        for column_name, data_type, nullable in rows:
            try:
                type_ = parse_type(_DUCK_TYPES.get(data_type, data_type))
            except ValidationError:
                type_ = sa.types.NullType()
            columns.append(sa.Column(column_name, type_, nullable=nullable == "YES"))
        keys = conn.execute(
            sa.text(
                "SELECT constraint_column_names FROM duckdb_constraints() WHERE table_name = :name "
                "AND schema_name = coalesce(:schema, current_schema()) AND constraint_type = 'PRIMARY KEY'"
            ),
            {"name": name, "schema": schema},
        ).fetchall()  # DuckDB wants a result read to its end before the next statement
        for c in columns:
            c.primary_key = any(c.name in row[0] for row in keys)
        return sa.Table(name, sa.MetaData(), *columns, schema=schema)

    def adapt_table(self, table: sa.Table) -> sa.Table:
        # duckdb has no SERIAL: integer keys are plain columns unless a sequence is asked for
        for c in table.c:
            if c.autoincrement is True:
                # autoincrement=True: a sequence, as a server default so that bulk loads use it too
                quoted = '"' + f"{table.name}_{c.name}_seq".replace('"', '""') + '"'
                nextval = "nextval('" + quoted.replace("'", "''") + "')"
                c.server_default = sa.DefaultClause(sa.text(nextval.replace(":", "\\:")))
                create = "CREATE SEQUENCE IF NOT EXISTS " + quoted.replace("%", "%%")
                sa.event.listen(table, "before_create", sa.DDL(create))  # type: ignore[no-untyped-call]
            if c.autoincrement in (True, "auto"):
                c.autoincrement = False
        return table

    def classify_message(self, message: str) -> str:
        if "Catalog Error: Table with name" in message or "Table with name" in message:
            return ErrorKind.TABLE_NOT_FOUND
        if "Referenced column" in message or "not found in FROM clause" in message:
            return ErrorKind.COLUMN_NOT_FOUND
        if "INTERRUPT" in message.upper():
            return ErrorKind.TIMEOUT
        if "Constraint Error" in message:
            return ErrorKind.CONSTRAINT
        if "Parser Error" in message:
            return ErrorKind.SYNTAX
        if "Conflict" in message:
            return ErrorKind.DEADLOCK
        return ErrorKind.OTHER

    @contextlib.contextmanager
    def statement_timeout(self, connection: sa.Connection, seconds: float | None) -> Iterator[None]:
        if not seconds:
            yield
            return
        raw = connection.connection.dbapi_connection
        timer = threading.Timer(seconds, raw.interrupt)  # type: ignore[union-attr]
        timer.start()
        try:
            yield
        finally:
            timer.cancel()

    def upsert(
        self, table: sa.Table, rows: Sequence[dict[str, Any]], keys: Sequence[str], update: Sequence[str]
    ) -> Any:
        stmt = postgresql.insert(table)
        if not update:
            return stmt.on_conflict_do_nothing(index_elements=list(keys))
        return stmt.on_conflict_do_update(index_elements=list(keys), set_={c: stmt.excluded[c] for c in update})

    def bulk_insert(self, connection: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
        # DuckDB's executemany is row by row; a columnar insert through Arrow is far faster
        try:
            import pyarrow as pa
        except ImportError:
            super().bulk_insert(connection, table, rows)
            return
        # only the columns the rows give, so that the others get their defaults
        names = [c.key for c in table.c if rows and c.key in rows[0]]
        arrow = pa.table({c: [row.get(c) for row in rows] for c in names})
        raw = connection.connection.dbapi_connection
        assert raw is not None
        view = f"__moltres_load_{threading.get_ident()}"
        preparer = connection.dialect.identifier_preparer
        try:
            raw.register(view, arrow)
        except Exception as exc:  # e.g. the transaction was aborted: a DB-API error like any other
            raise sa.exc.DBAPIError.instance(f"register {view}", None, exc, Exception) from None
        try:
            column_list = ", ".join(preparer.quote(c) for c in names)
            # through SQLAlchemy, so that a failure becomes a DBAPIError (and a moltres error)
            connection.exec_driver_sql(
                f"INSERT INTO {preparer.format_table(table)} ({column_list}) SELECT {column_list} FROM {view}"
            )
        finally:
            with contextlib.suppress(Exception):  # fails in an aborted transaction; never hide the cause
                raw.unregister(view)

    stores_nested = True

    def insert_tuples(
        self, connection: sa.Connection, table: sa.Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        try:
            import pyarrow as pa
        except ImportError:
            super().insert_tuples(connection, table, columns, rows)
            return
        if len(rows) < _ARROW_FROM:
            super().insert_tuples(connection, table, columns, rows)
            return
        arrays = [pa.array(column) for column in driver_columns(connection.dialect, table, columns, rows)]
        self.insert_arrow(connection, table, columns, pa.RecordBatch.from_arrays(arrays, names=list(columns)))

    def insert_arrow(self, connection: sa.Connection, table: sa.Table, columns: Sequence[str], batch: Any) -> None:
        # DuckDB scans a registered Arrow batch in place: no per-row work in Python
        raw: Any = connection.connection.dbapi_connection
        view = f"__moltres_load_{threading.get_ident()}"
        preparer = connection.dialect.identifier_preparer
        renamed = batch.rename_columns([f"c{i}" for i in range(batch.num_columns)])
        names = ", ".join(preparer.quote(c) for c in columns)
        picks = ", ".join(f"c{i}" for i in range(len(columns)))
        try:
            raw.register(view, renamed)
        except Exception as exc:  # e.g. the transaction was aborted: a DB-API error like any other
            raise sa.exc.DBAPIError.instance(f"register {view}", None, exc, Exception) from None
        try:
            connection.exec_driver_sql(
                f"INSERT INTO {preparer.format_table(table)} ({names}) SELECT {picks} FROM {view}"
            )
        finally:
            with contextlib.suppress(Exception):  # fails in an aborted transaction; never hide the cause
                raw.unregister(view)

    def fetch_arrow(self, connection: sa.Connection, statement: Any, params: dict[str, Any], batch_size: int) -> Any:
        compiled = statement.params(params).compile(
            dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
        )
        values = compiled.construct_params()
        positional = [values[name] for name in compiled.positiontup or ()]
        raw: Any = connection.connection.dbapi_connection
        relation = raw.sql(str(compiled), params=positional or None)
        reader = (
            relation.to_arrow_reader(batch_size)
            if hasattr(relation, "to_arrow_reader")
            else relation.fetch_arrow_reader(batch_size)
        )
        return reader  # a pyarrow.RecordBatchReader: the batches, and their schema

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
        if compression not in (None, "gzip"):
            return None
        preparer = connection.dialect.identifier_preparer
        types = ", ".join(
            f"{_string(c)}: {_string(table.c[c].type.compile(dialect=connection.dialect))}" for c in columns
        )
        names = ", ".join(preparer.quote(c) for c in columns)
        statement = (
            f"INSERT INTO {preparer.format_table(table)} ({names}) SELECT * FROM read_csv("
            f"$1, columns = {{{types}}}, header = $2, delim = $3, quote = $4, escape = $5, nullstr = $6, "
            f"compression = $7, auto_detect = false)"
        )
        params = (path, header, delimiter, quote, escape or quote, null, compression or "none")
        try:
            return int(connection.exec_driver_sql(statement, params).rowcount)
        except sa.exc.DBAPIError as exc:
            raise _csv_error(exc) from None

    def load_parquet(
        self, connection: sa.Connection, table: sa.Table | str, columns: Sequence[str], *, path: str
    ) -> int | None:
        import os

        preparer = connection.dialect.identifier_preparer
        names = ", ".join(preparer.quote(c) for c in columns)
        folder = os.path.isdir(path)
        pattern = os.path.join(path, "**", "*.parquet") if folder else path
        source = f"SELECT {names} FROM read_parquet($1, hive_partitioning = $2, union_by_name = true)"
        if isinstance(table, str):
            connection.exec_driver_sql(f"CREATE TABLE {preparer.quote(table)} AS {source}", (pattern, folder))
            counted = connection.exec_driver_sql(f"SELECT count(*) FROM {preparer.quote(table)}")
            return int(counted.scalar_one())
        target = f"INSERT INTO {preparer.format_table(table)} ({names}) "
        return int(connection.exec_driver_sql(target + source, (pattern, folder)).rowcount)


RULES = DuckDBRules()


def _string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
_CSV_COLUMN = re.compile(r'converting column "([^"]+)"')


def _csv_error(exc: sa.exc.DBAPIError) -> Exception:
    """A DataFormatError naming line and column when read_csv rejected the data."""
    message = str(exc.orig)
    line = _CSV_LINE.search(message)
    if line is None:
        return exc
    column = _CSV_COLUMN.search(message)
    details = [part.strip() for part in message.splitlines()[1:4] if part.strip()]
    reason = next((d for d in details if not d.startswith("Original Line")), message.splitlines()[0])
    return DataFormatError(reason, line=int(line.group(1)), column=column.group(1) if column else None)
