"""The facade users hold: :func:`connect` returns a :class:`Database`.

``Database`` composes the executor (connections, transactions), the compiler and the
frames. It hands out lazy DataFrames and runs table-level operations.

Example:
    >>> from moltres import connect, col
    >>> from moltres.table.schema import column
    >>> with connect("sqlite://") as mem:
    ...     mem.create_table("t", [column("x", "INTEGER")]).collect()
    ...     mem.insert("t", [{"x": 1}, {"x": 2}])
    ...     mem.table("t").where(col("x") > 1).collect()
    True
    2
    [{'x': 2}]
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from typing_extensions import Self

from moltres.dataframe.dataframe import DataFrame
from moltres.engine.executor import Executor
from moltres.engine.url import create_engine, mask_password, resolve_dsn
from moltres.expressions.column import Column, to_node
from moltres.io.records import normalize_rows
from moltres.logical import plan as p
from moltres.sql.compiler import validate_identifiers
from moltres.sql.types import python_type_to_sql, type_name
from moltres.table import mutations
from moltres.table.schema import ColumnDef, column, to_sa_table
from moltres.utils.exceptions import DatabaseConnectionError, MoltresError, ValidationError

__all__ = ["Database", "connect"]

# create_dataframe keeps up to this many rows inline in the SQL; larger inputs are staged.
INLINE_ROWS = 500


def _infer_types(columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> list[str]:
    types = []
    for name in columns:
        sample = next((r[name] for r in rows if r.get(name) is not None), None)
        types.append(type_name(python_type_to_sql(sample)) if sample is not None else "TEXT")
    return types


class Database:
    """A database connection: hands out DataFrames and changes tables.

    Create one with :func:`moltres.connect`.
    """

    def __init__(self, executor: Executor) -> None:
        self._executor = executor
        self._staged: list[str] = []

    # -------------------------------------------------------------------------------- basics

    @property
    def engine(self) -> sa.Engine:
        """The SQLAlchemy engine."""
        return self._executor.engine

    @property
    def executor(self) -> Executor:
        """The executor that runs this database's statements."""
        return self._executor

    @property
    def dialect_name(self) -> str:
        """``sqlite``, ``postgresql``, ``mysql``, ``duckdb``, or another SQLAlchemy dialect name.

        Example:
            >>> db.dialect_name
            'sqlite'
        """
        return self._executor.state.dialect_name

    def __repr__(self) -> str:
        return f"Database<{mask_password(self.engine.url.render_as_string(hide_password=True))}>"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Drop staged tables and release connections (the engine too, if moltres created it)."""
        if self._executor.closed:
            return
        for name in self._staged:
            with contextlib.suppress(MoltresError):
                self._executor.execute(sa.text(f"DROP TABLE IF EXISTS {self._quote(name)}"))
        self._staged.clear()
        self._executor.close()

    def _quote(self, name: str) -> str:
        return str(self.engine.dialect.identifier_preparer.quote(name))

    # -------------------------------------------------------------------------------- frames

    def table(self, name: str, schema: str | None = None) -> DataFrame:
        """A DataFrame over every row of a table (nothing runs yet).

        Example:
            >>> db.table("users").select("name").where(col("id") == 1).collect()
            [{'name': 'Ada'}]
        """
        if not isinstance(name, str):
            raise ValidationError(
                f"a table name must be a string, got {type(name).__name__}", suggestion="db.table('users')"
            )
        validate_identifiers([name])
        return DataFrame(p.Table(name, schema), self._executor, self)

    def sql(self, text: str, params: Mapping[str, Any] | None = None, **kwparams: Any) -> DataFrame:
        """A DataFrame over a SELECT you write, with ``:name`` parameters bound (never pasted).

        Example:
            >>> db.sql("SELECT name FROM users WHERE age > :age", age=40).collect()
            [{'name': 'Grace'}]
        """
        if not isinstance(text, str) or not text.strip():
            raise ValidationError(
                "sql() takes the text of a SELECT",
                suggestion="db.sql('SELECT * FROM t WHERE id = :id', id=1)",
            )
        bound = {**(params or {}), **kwparams}
        return DataFrame(p.RawSQL(text, tuple(sorted(bound.items()))), self._executor, self)

    def execute(self, text: str, params: Mapping[str, Any] | None = None, **kwparams: Any) -> int:
        """Run one statement you write (DDL or DML) with ``:name`` parameters; return rows affected.

        Example:
            >>> db.execute("UPDATE users SET age = age WHERE id = :id", id=1)
            1
        """
        if not isinstance(text, str) or not text.strip():
            raise ValidationError("execute() takes the text of one SQL statement")
        outcome = self._executor.execute(sa.text(text), {**(params or {}), **kwparams})
        self._executor.state.forget()
        return outcome.rowcount

    def create_dataframe(
        self, rows: object, schema: Sequence[ColumnDef] | Mapping[str, str] | Sequence[str] | None = None
    ) -> DataFrame:
        """A DataFrame over rows from Python (dicts, pandas, polars or Arrow).

        Small inputs become inline ``VALUES`` in the query; larger ones are loaded into a
        staging table, dropped when the database is closed.

        Example:
            >>> db.create_dataframe([{"x": 1}, {"x": 2}]).where(col("x") > 1).collect()
            [{'x': 2}]
        """
        data = normalize_rows(rows)
        names, types = self._frame_schema(data, schema)
        if len(data) <= INLINE_ROWS:
            values = tuple(tuple(to_node(row.get(c)) for c in names) for row in data)
            return DataFrame(p.Values(tuple(names), values, tuple(types)), self._executor, self)
        name = f"moltres_df_{uuid.uuid4().hex[:12]}"
        self.create_table(name, [column(c, t) for c, t in zip(names, types, strict=False)]).collect()
        self._staged.append(name)
        self.insert(name, data)
        return self.table(name)

    @staticmethod
    def _frame_schema(
        data: list[dict[str, Any]], schema: Sequence[ColumnDef] | Mapping[str, str] | Sequence[str] | None
    ) -> tuple[list[str], list[str]]:
        if schema is None:
            if not data:
                raise ValidationError(
                    "create_dataframe() needs rows or a schema",
                    suggestion="pass schema=[column('id', 'INTEGER')]",
                )
            names = list(dict.fromkeys(k for row in data for k in row))
            return names, _infer_types(names, data)
        if isinstance(schema, Mapping):
            return list(schema), [str(t) for t in schema.values()]
        items = list(schema)
        defs = [c for c in items if isinstance(c, ColumnDef)]
        if len(defs) == len(items):
            return [c.name for c in defs], [c.type_name for c in defs]
        if all(isinstance(c, str) for c in items):
            names = [str(c) for c in items]
            return names, _infer_types(names, data)
        raise ValidationError(
            "schema= takes column(...) definitions, a {name: type} dict, or column names",
            suggestion="schema=[column('id', 'INTEGER'), column('name', 'TEXT')]",
        )

    # -------------------------------------------------------------------------------- DDL

    def create_table(
        self,
        name: str,
        columns: Sequence[ColumnDef | sa.Column[Any]],
        *,
        if_not_exists: bool = False,
        temporary: bool = False,
        schema: str | None = None,
    ) -> mutations.DDLOperation[bool]:
        """A ``CREATE TABLE`` that runs on ``.collect()``; it returns True if it created the table.

        Example:
            >>> db.create_table("notes", [column("id", "INTEGER", primary_key=True), column("body", "TEXT")]).collect()
            True
        """
        table = self._executor.state.rules.adapt_table(to_sa_table(name, columns, schema=schema, temporary=temporary))

        def run() -> bool:
            def work(conn: sa.Connection) -> bool:
                if if_not_exists and sa.inspect(conn).has_table(name, schema=schema):
                    return False
                table.create(conn)
                return True

            try:
                return self._executor.atomic(work)
            finally:
                self._executor.state.forget(name, schema)

        return mutations.DDLOperation(f"CREATE TABLE {name}", run)

    def drop_table(
        self, name: str, *, if_exists: bool = True, schema: str | None = None
    ) -> mutations.DDLOperation[bool]:
        """A ``DROP TABLE`` that runs on ``.collect()``; it returns True if a table was dropped.

        Example:
            >>> db.drop_table("orders").collect()
            True
            >>> db.drop_table("orders").collect()  # already gone: if_exists=True makes it a no-op
            False
        """
        validate_identifiers([name])
        target = self._quote(name) if schema is None else f"{self._quote(schema)}.{self._quote(name)}"

        def run() -> bool:
            def work(conn: sa.Connection) -> bool:
                exists = sa.inspect(conn).has_table(name, schema=schema)
                if not exists and if_exists:
                    return False
                conn.execute(sa.text(f"DROP TABLE {target}"))
                return True

            try:
                return self._executor.atomic(work)
            finally:
                self._executor.state.forget(name, schema)

        return mutations.DDLOperation(f"DROP TABLE {name}", run)

    def create_index(
        self, name: str, table: str, columns: str | Sequence[str], *, unique: bool = False
    ) -> mutations.DDLOperation[bool]:
        """A ``CREATE INDEX`` that runs on ``.collect()``.

        Example:
            >>> db.create_index("idx_users_age", "users", ["age"]).collect()
            True
        """
        cols = [columns] if isinstance(columns, str) else list(columns)
        validate_identifiers([name, table, *cols])

        def run() -> bool:
            def work(conn: sa.Connection) -> bool:
                import contextlib as _cl

                target = self._executor.state.catalog(lambda: _cl.nullcontext(conn)).table(table)
                missing = [c for c in cols if c not in target.c]
                if missing:
                    from moltres.utils.exceptions import ColumnNotFoundError

                    raise ColumnNotFoundError(missing[0], list(target.c.keys()), table=table)
                sa.Index(name, *[target.c[c] for c in cols], unique=unique).create(conn)
                return True

            return self._executor.atomic(work)

        return mutations.DDLOperation(f"CREATE INDEX {name}", run)

    def tables(self) -> list[str]:
        """The names of the tables (and views) in the database.

        Example:
            >>> "users" in db.tables()
            True
        """
        with self._executor.connection() as conn:
            inspector = sa.inspect(conn)
            return sorted(set(inspector.get_table_names()) | set(inspector.get_view_names()))

    def table_exists(self, name: str) -> bool:
        """Whether a table of that name exists.

        Example:
            >>> db.table_exists("users"), db.table_exists("nope")
            (True, False)
        """
        with self._executor.connection() as conn:
            return bool(sa.inspect(conn).has_table(name))

    def schema(self, name: str) -> list[ColumnDef]:
        """The columns of a table, as :class:`~moltres.table.schema.ColumnDef`.

        Example:
            >>> [c.name for c in db.schema("users")]
            ['id', 'name', 'age']
        """
        with self._executor.connection() as conn:
            table = self._executor.state.catalog(lambda: contextlib.nullcontext(conn)).table(name)
        return [
            ColumnDef(
                c.name,
                type_name(c.type),
                nullable=bool(c.nullable),
                primary_key=bool(c.primary_key),
                unique=bool(c.unique),
            )
            for c in table.c
        ]

    # -------------------------------------------------------------------------------- rows

    def insert(self, table: str, rows: object) -> int:
        """Insert rows (dicts, pandas, polars or Arrow) atomically in batches; return the count.

        Example:
            >>> db.insert("users", [{"id": 5, "name": "Eve", "age": 41}])
            1
        """
        data = normalize_rows(rows)
        validate_identifiers([table])
        return self._executor.atomic(mutations.insert_rows, self._executor.state, table, data)

    def update(self, table: str, *, where: Column | str | None = None, set: Mapping[str, Any]) -> int:
        """``UPDATE`` the rows matching `where`; return how many changed.

        Example:
            >>> db.update("users", where=col("id") == 1, set={"age": col("age") + 1})
            1
        """
        validate_identifiers([table])
        return self._executor.atomic(mutations.update_rows, self._executor.state, table, where, set)

    def delete(self, table: str, *, where: Column | str | None = None) -> int:
        """``DELETE`` the rows matching `where`; return how many were removed.

        Example:
            >>> db.delete("users", where=col("age") < 35)
            1
        """
        validate_identifiers([table])
        return self._executor.atomic(mutations.delete_rows, self._executor.state, table, where)

    def merge(self, table: str, rows: object, *, on: str | Sequence[str], update: Sequence[str] | None = None) -> int:
        """Upsert: insert rows, updating those whose `on` key already exists.

        Uses ``ON CONFLICT`` (SQLite, PostgreSQL, DuckDB) or ``ON DUPLICATE KEY UPDATE``
        (MySQL); the key columns need a primary key or unique constraint.

        Example:
            >>> db.merge("users", [{"id": 1, "name": "Ada", "age": 37}], on="id")
            1
        """
        keys = [on] if isinstance(on, str) else list(on)
        validate_identifiers([table, *keys])
        data = normalize_rows(rows)
        return self._executor.atomic(mutations.merge_rows, self._executor.state, table, data, keys, update)

    upsert = merge

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Self]:
        """Run the block in one transaction; nested blocks use savepoints. Rolls back on error.

        Example:
            >>> with db.transaction():
            ...     db.update("users", where=col("id") == 1, set={"age": 36})
            1
        """
        with self._executor.transaction():
            yield self

    @property
    def read(self) -> Any:
        """Read files into DataFrames: ``db.read.csv(path)`` (see :mod:`moltres.dataframe.reader`)."""
        from moltres.dataframe.reader import DataLoader

        return DataLoader(self)

    load = read


def connect(
    dsn: str | None = None,
    *,
    engine: sa.Engine | None = None,
    session: Any = None,
    query_timeout: float | None = None,
    **engine_options: Any,
) -> Database:
    """Connect to a database and return a :class:`Database`.

    Args:
        dsn: ``sqlite:///app.db``, ``postgresql://user:pw@host/db``, ``mysql://...``,
            ``duckdb:///file.duckdb``; defaults to the ``MOLTRES_DSN`` environment variable.
        engine: An existing SQLAlchemy engine to use instead (moltres will not dispose of it).
        session: A SQLAlchemy ``Session``: moltres runs on its connection and transaction
            and never commits or closes it.
        query_timeout: Cancel any statement running longer than this many seconds.
        engine_options: Passed to ``sqlalchemy.create_engine``.

    Raises:
        DatabaseConnectionError: Malformed DSN, unknown dialect, missing driver, or the
            server cannot be reached. Passwords are masked.

    Example:
        >>> connect("sqlite://").dialect_name
        'sqlite'
    """
    given = sum(x is not None for x in (dsn, engine, session))
    if given > 1:
        raise ValidationError("pass one of dsn, engine= or session=, not several")
    if query_timeout is not None and (not isinstance(query_timeout, (int, float)) or query_timeout <= 0):
        raise ValidationError(f"query_timeout must be a positive number of seconds, got {query_timeout!r}")
    if session is not None:
        bind = session.get_bind()
        sa_engine = bind if isinstance(bind, sa.Engine) else bind.engine
        return Database(Executor(sa_engine, session=session, query_timeout=query_timeout, owns_engine=False))
    if engine is not None:
        if isinstance(engine, sa.Connection):
            return Database(Executor(engine.engine, connection=engine, query_timeout=query_timeout, owns_engine=False))
        if not isinstance(engine, sa.Engine):
            raise ValidationError(f"engine= takes a SQLAlchemy Engine, got {type(engine).__name__}")
        return Database(Executor(engine, query_timeout=query_timeout, owns_engine=False))
    url = resolve_dsn(dsn)
    sa_engine = create_engine(url, **engine_options)
    from moltres.sql.dialects import rules_for

    rules = rules_for(sa_engine.dialect.name)
    sa.event.listen(sa_engine, "connect", lambda dbapi_conn, record: rules.on_connect(dbapi_conn))
    rules.configure_engine(sa_engine)
    try:
        with sa_engine.connect():
            pass
    except sa.exc.DBAPIError as exc:
        sa_engine.dispose()
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()
        raise DatabaseConnectionError(
            f"could not connect to {mask_password(url.render_as_string(hide_password=True))}: "
            f"{mask_password(reason[0] if reason else type(exc).__name__)}",
            suggestion="check that the server is running and that host, port, user, password and database are right",
        ) from None
    return Database(Executor(sa_engine, query_timeout=query_timeout))
