"""DuckDB: its SQL (mostly PostgreSQL's), error messages, interrupts and Arrow-based loads."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from moltres.expressions import nodes as n
from moltres.sql.compiler import Element, Relation
from moltres.sql.dialects.base import ErrorKind, Rules
from moltres.sql.dialects.postgresql import PostgreSQLCompiler

__all__ = ["RULES", "DuckDBCompiler", "DuckDBRules", "offline_dialect"]


def offline_dialect() -> sa.engine.Dialect:
    """DuckDB's SQLAlchemy dialect, for compiling without a connection."""
    from moltres.utils.optional import require

    require("duckdb_engine", "duckdb")
    from duckdb_engine import Dialect

    return Dialect()


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


class DuckDBRules(Rules):
    """DuckDB's runtime behaviour."""

    name = "duckdb"
    compiler_class = DuckDBCompiler
    driver_extras: ClassVar[dict[str, str]] = {"duckdb_engine": "duckdb"}
    supports_savepoints = False

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
                sa.event.listen(table, "before_create", sa.DDL(create))
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
        names = [c for c in table.c.keys() if rows and c in rows[0]]
        arrow = pa.table({c: [row.get(c) for row in rows] for c in names})
        raw = connection.connection.dbapi_connection
        assert raw is not None
        view = f"__moltres_load_{threading.get_ident()}"
        preparer = connection.dialect.identifier_preparer
        raw.register(view, arrow)
        try:
            column_list = ", ".join(preparer.quote(c) for c in names)
            # through SQLAlchemy, so that a failure becomes a DBAPIError (and a moltres error)
            connection.exec_driver_sql(
                f"INSERT INTO {preparer.format_table(table)} ({column_list}) SELECT {column_list} FROM {view}"
            )
        finally:
            with contextlib.suppress(Exception):  # fails in an aborted transaction; never hide the cause
                raw.unregister(view)


RULES = DuckDBRules()
