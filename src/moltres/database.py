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
import functools
import uuid
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import sqlalchemy as sa
from typing_extensions import Self

from moltres.dataframe.dataframe import DataFrame
from moltres.dataframe.frame import Frame
from moltres.engine.executor import Executor, QueryState
from moltres.engine.parking import ONCE_PER_CONNECTION
from moltres.engine.url import create_engine, mask_password, resolve_dsn
from moltres.expressions.column import Column, to_node
from moltres.io.formats.arrow import is_columnar
from moltres.io.records import normalize_rows
from moltres.logical import plan as p
from moltres.sql.compiler import validate_identifiers
from moltres.sql.types import python_type_to_sql, type_name
from moltres.table import mutations
from moltres.table.schema import ColumnDef, column, describe_table, has_table, table_names, to_sa_table
from moltres.utils.exceptions import DatabaseConnectionError, MoltresError, ValidationError

if TYPE_CHECKING:
    from moltres.dataframe.reader import DataLoader

__all__ = ["Database", "connect"]

# create_dataframe keeps up to this many rows inline in the SQL; larger inputs are staged.
INLINE_ROWS = 500
_TABLE_FRAMES = 256  # table() frames kept for reuse (each is a few hundred bytes)


def _infer_types(columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> list[str]:
    types = []
    for name in columns:
        sample = next((r[name] for r in rows if r.get(name) is not None), None)
        types.append(type_name(python_type_to_sql(sample)) if sample is not None else "TEXT")
    return types


class _HasState(Protocol):
    @property
    def state(self) -> QueryState: ...


X = TypeVar("X", bound=_HasState)
F = TypeVar("F", bound=Frame[Any])
Work = Callable[..., Any]
Counts = Callable[..., int]  # a mutation returning the number of rows it wrote
Changes = Callable[..., bool]  # a DDL statement returning whether it changed anything


class BaseDatabase(Generic[X, F]):
    """Every decision of the facade, shared by :class:`Database` and ``AsyncDatabase``.

    The subclasses add only the I/O: the sync one calls its executor, the async one awaits
    it. Each public method there is a line or two around one of the preparations here, which
    validate arguments and say which function of :mod:`moltres.table.mutations` (or
    :mod:`moltres.table.schema`) runs with which arguments.
    """

    def __init__(self, executor: X) -> None:
        self._executor = executor
        self._staged: list[str] = []
        self._temporary: set[str] = set()  # temporary tables created here (see tables())
        self._tables: dict[tuple[str, str | None], F] = {}  # table(): frames are immutable values

    @property
    def executor(self) -> X:
        """The executor that runs this database's statements."""
        return self._executor

    @property
    def _state(self) -> QueryState:
        return self._executor.state

    @property
    def dialect_name(self) -> str:
        """``sqlite``, ``postgresql``, ``mysql``, ``duckdb``, or another SQLAlchemy dialect name.

        Example:
            >>> db.dialect_name
            'sqlite'
        """
        return self._state.dialect_name

    def _quote(self, name: str) -> str:
        return str(self._state.dialect.identifier_preparer.quote(name))

    def _frame(self, plan: p.Plan) -> F:
        raise NotImplementedError

    # -------------------------------------------------------------------------------- frames

    def table(self, name: str, schema: str | None = None) -> F:
        """A DataFrame over every row of a table (nothing runs yet).

        Example:
            >>> db.table("users").select("name").where(col("id") == 1).collect()
            [{'name': 'Ada'}]
        """
        if not isinstance(name, str):
            raise ValidationError(
                f"a table name must be a string, got {type(name).__name__}", suggestion="db.table('users')"
            )
        cacheable = schema is None or isinstance(schema, str)
        frame = self._tables.get((name, schema)) if cacheable else None
        if frame is None:
            validate_identifiers([name])
            frame = self._frame(p.Table(name, schema))
            if cacheable:
                if len(self._tables) >= _TABLE_FRAMES:
                    self._tables.clear()
                self._tables[name, schema] = frame
        return frame

    def sql(self, text: str, params: Mapping[str, Any] | None = None, **kwparams: Any) -> F:
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
        return self._frame(p.RawSQL(text, tuple(sorted(bound.items()))))

    @staticmethod
    def _statement(text: str, params: Mapping[str, Any] | None, kwparams: Mapping[str, Any]) -> tuple[Any, Any]:
        if not isinstance(text, str) or not text.strip():
            raise ValidationError("execute() takes the text of one SQL statement")
        return sa.text(text), {**(params or {}), **kwparams}

    def _dataframe(
        self, rows: object, schema: Sequence[ColumnDef] | Mapping[str, str] | Sequence[str] | None
    ) -> tuple[F, tuple[Counts, QueryState, sa.Table, list[dict[str, Any]]] | None]:
        """The frame for `rows`, and the staging work to run first when they are too many to inline."""
        data = normalize_rows(rows)
        names, types = self._frame_schema(data, schema)
        if len(data) <= INLINE_ROWS:
            values = tuple(tuple(to_node(row.get(c)) for c in names) for row in data)
            return self._frame(p.Values(tuple(names), values, tuple(types))), None
        name = f"moltres_df_{uuid.uuid4().hex[:12]}"
        table = self._table_definition(name, [column(c, t) for c, t in zip(names, types, strict=False)], False, None)
        self._staged.append(name)  # dropped on close(), whether or not staging gets to create it
        return self.table(name), (mutations.stage_rows, self._state, table, data)

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

    def _table_definition(
        self,
        name: str,
        columns: Sequence[ColumnDef | sa.Column[Any]],
        temporary: bool,
        schema: str | None,
    ) -> sa.Table:
        return self._state.rules.adapt_table(to_sa_table(name, columns, schema=schema, temporary=temporary))

    def _create_table(
        self,
        name: str,
        columns: Sequence[ColumnDef | sa.Column[Any]],
        if_not_exists: bool,
        temporary: bool,
        schema: str | None,
    ) -> tuple[str, Changes, QueryState, sa.Table, bool]:
        table = self._table_definition(name, columns, temporary, schema)
        if temporary:
            self._temporary.add(name)
        return f"CREATE TABLE {name}", mutations.create_table, self._state, table, if_not_exists

    def _drop_table(
        self, name: str, if_exists: bool, schema: str | None
    ) -> tuple[str, Changes, QueryState, str, str | None, bool]:
        validate_identifiers([name])
        return f"DROP TABLE {name}", mutations.drop_table, self._state, name, schema, if_exists

    def _create_index(
        self, name: str, table: str, columns: str | Sequence[str], unique: bool
    ) -> tuple[str, Changes, QueryState, str, str, list[str], bool]:
        cols = [columns] if isinstance(columns, str) else list(columns)
        validate_identifiers([name, table, *cols])
        return f"CREATE INDEX {name}", mutations.create_index, self._state, name, table, cols, unique

    @property
    def _table_names(self) -> Callable[[sa.Connection], list[str]]:
        return functools.partial(table_names, temporary=tuple(self._temporary))

    _has_table = staticmethod(has_table)

    def _describe(self, name: str) -> tuple[Callable[..., list[ColumnDef]], QueryState, str]:
        return describe_table, self._state, name

    # -------------------------------------------------------------------------------- rows

    def _insert(self, table: str, rows: object) -> tuple[Counts, QueryState, str, list[dict[str, Any]]]:
        data = normalize_rows(rows, copy=False)  # read once, right away: no copy of each row
        validate_identifiers([table])
        return mutations.insert_rows, self._state, table, data

    def _update(
        self, table: str, where: Column | str | None, values: Mapping[str, Any]
    ) -> tuple[Counts, QueryState, str, Column | str | None, Mapping[str, Any]]:
        validate_identifiers([table])
        return mutations.update_rows, self._state, table, where, values

    def _delete(self, table: str, where: Column | str | None) -> tuple[Counts, QueryState, str, Column | str | None]:
        validate_identifiers([table])
        return mutations.delete_rows, self._state, table, where

    def _merge(
        self, table: str, rows: object, on: str | Sequence[str], update: Sequence[str] | None
    ) -> tuple[Counts, QueryState, str, list[dict[str, Any]], list[str], Sequence[str] | None]:
        keys = [on] if isinstance(on, str) else list(on)
        validate_identifiers([table, *keys])
        return mutations.merge_rows, self._state, table, normalize_rows(rows), keys, update

    def _drop_staged(self) -> list[Any]:
        """The statements that drop the staging tables of :meth:`create_dataframe`; forgets them."""
        names, self._staged = self._staged, []
        return [sa.text(f"DROP TABLE IF EXISTS {self._quote(name)}") for name in names]


class Database(BaseDatabase[Executor, DataFrame]):
    """A database connection: hands out DataFrames and changes tables.

    Create one with :func:`moltres.connect`.
    """

    def _frame(self, plan: p.Plan) -> DataFrame:
        return DataFrame(plan, self._executor, self)

    # -------------------------------------------------------------------------------- basics

    @property
    def engine(self) -> sa.Engine:
        """The SQLAlchemy engine."""
        return self._executor.engine

    def __repr__(self) -> str:
        return f"Database<{mask_password(self.engine.url.render_as_string(hide_password=True))}>"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def bound_to(self, connection: sa.Connection) -> Database:
        """A Database that runs everything on `connection`, sharing this one's caches.

        For a unit of work on one connection (a web request, a test): compiled queries and
        reflected tables are shared with this database, and moltres never commits or closes
        the connection; its owner does.

        Example:
            >>> with db.engine.connect() as conn:
            ...     scoped = db.bound_to(conn)
            ...     scoped.table("users").count()
            3
        """
        if not isinstance(connection, sa.Connection):
            raise ValidationError(
                f"bound_to() takes a SQLAlchemy Connection, got {type(connection).__name__}",
                suggestion="with db.engine.connect() as conn: db.bound_to(conn)",
            )
        executor = Executor(
            connection.engine,
            connection=connection,
            owns_engine=False,
            state=self._executor.state,
        )
        return Database(executor)

    def close(self) -> None:
        """Drop staged tables and release connections (the engine too, if moltres created it)."""
        if self._executor.closed:
            return
        for statement in self._drop_staged():
            with contextlib.suppress(MoltresError):
                self._executor.execute(statement)
        self._executor.close()

    # -------------------------------------------------------------------------------- frames

    def execute(self, text: str, params: Mapping[str, Any] | None = None, **kwparams: Any) -> int:
        """Run one statement you write (DDL or DML) with ``:name`` parameters; return rows affected.

        Example:
            >>> db.execute("UPDATE users SET age = age WHERE id = :id", id=1)
            1
        """
        outcome = self._executor.execute(*self._statement(text, params, kwparams))
        self._state.forget()
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
        if is_columnar(rows):
            from moltres.dataframe.reader import stage_columnar

            return stage_columnar(self, rows, schema, INLINE_ROWS)
        frame, staging = self._dataframe(rows, schema)
        if staging is not None:
            self._executor.atomic(*staging)
        return frame

    # -------------------------------------------------------------------------------- DDL

    def _ddl(self, description: str, work: Changes, *args: Any) -> mutations.DDLOperation[bool]:
        return mutations.DDLOperation(description, lambda: self._executor.atomic(work, *args))

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
        return self._ddl(*self._create_table(name, columns, if_not_exists, temporary, schema))

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
        return self._ddl(*self._drop_table(name, if_exists, schema))

    def create_index(
        self, name: str, table: str, columns: str | Sequence[str], *, unique: bool = False
    ) -> mutations.DDLOperation[bool]:
        """A ``CREATE INDEX`` that runs on ``.collect()``.

        Example:
            >>> db.create_index("idx_users_age", "users", ["age"]).collect()
            True
        """
        return self._ddl(*self._create_index(name, table, columns, unique))

    def tables(self) -> list[str]:
        """The names of the tables and views in the database, temporary ones included, sorted.

        A temporary table exists on one connection: it is listed while it is there, like
        :meth:`table_exists` says. MariaDB (before 11.2) and MySQL keep no catalog of temporary
        tables, so there only those created with ``create_table(..., temporary=True)`` on this
        Database are listed (not ones made by raw SQL). The staging tables behind
        ``create_dataframe`` and ``db.read`` (``moltres_df_...``, ``moltres_read_...``) are
        moltres' own and left out.

        Example:
            >>> "users" in db.tables()
            True
        """
        return self._executor.run(self._table_names)

    def table_exists(self, name: str) -> bool:
        """Whether a table or view of that name exists (temporary ones too; see :meth:`tables`).

        Example:
            >>> db.table_exists("users"), db.table_exists("nope")
            (True, False)
        """
        return self._executor.run(self._has_table, name)

    def schema(self, name: str) -> list[ColumnDef]:
        """The columns of a table, as :class:`~moltres.table.schema.ColumnDef`.

        Example:
            >>> [c.name for c in db.schema("users")]
            ['id', 'name', 'age']
        """
        return self._executor.run(*self._describe(name))

    # -------------------------------------------------------------------------------- rows

    def insert(self, table: str, rows: object) -> int:
        """Insert rows (dicts, pandas, polars or Arrow) atomically in batches; return the count.

        Example:
            >>> db.insert("users", [{"id": 5, "name": "Eve", "age": 41}])
            1
        """
        return self._executor.atomic(*self._insert(table, rows))

    def update(self, table: str, *, where: Column | str | None = None, set: Mapping[str, Any]) -> int:
        """``UPDATE`` the rows matching `where`; return how many changed.

        Example:
            >>> db.update("users", where=col("id") == 1, set={"age": col("age") + 1})
            1
        """
        return self._executor.atomic(*self._update(table, where, set))

    def delete(self, table: str, *, where: Column | str | None = None) -> int:
        """``DELETE`` the rows matching `where`; return how many were removed.

        Example:
            >>> db.delete("users", where=col("age") < 35)
            1
        """
        return self._executor.atomic(*self._delete(table, where))

    def merge(self, table: str, rows: object, *, on: str | Sequence[str], update: Sequence[str] | None = None) -> int:
        """Upsert: insert rows, updating those whose `on` key already exists.

        Uses ``ON CONFLICT`` (SQLite, PostgreSQL, DuckDB) or ``ON DUPLICATE KEY UPDATE``
        (MySQL); the key columns need a primary key or unique constraint.

        Example:
            >>> db.merge("users", [{"id": 1, "name": "Ada", "age": 37}], on="id")
            1
        """
        return self._executor.atomic(*self._merge(table, rows, on, update))

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
    def read(self) -> DataLoader:
        """Read files into DataFrames: ``db.read.csv(path)``, ``db.load("events.jsonl")``.

        See :class:`~moltres.dataframe.reader.DataLoader`; ``db.read.last_report`` tells what
        the last load did.

        Example:
            >>> db.read.format("parquet")
            DataLoader<parquet>
        """
        loader: DataLoader | None = self.__dict__.get("_loader")
        if loader is None:
            from moltres.dataframe.reader import DataLoader

            loader = self.__dict__["_loader"] = DataLoader(self)
        return loader

    load = read


def connect(
    dsn: str | None = None,
    *,
    engine: sa.Engine | sa.Connection | None = None,
    session: Any = None,
    query_timeout: float | None = None,
    **engine_options: Any,
) -> Database:
    """Connect to a database and return a :class:`Database`.

    Args:
        dsn: ``sqlite:///app.db``, ``postgresql://user:pw@host/db``, ``mysql://...``,
            ``duckdb:///file.duckdb``; defaults to the ``MOLTRES_DSN`` environment variable.
        engine: An existing SQLAlchemy engine to use instead (moltres will not dispose of it),
            or a ``Connection`` to run everything on (moltres never commits or closes it).
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
    check_connect_arguments(dsn, engine, session, query_timeout)
    if session is not None:
        bind = session.get_bind()
        sa_engine = bind if isinstance(bind, sa.Engine) else bind.engine
        install_functions(sa_engine)
        return Database(Executor(sa_engine, session=session, query_timeout=query_timeout, owns_engine=False))
    if engine is not None:
        if isinstance(engine, sa.Connection):
            install_functions(engine.engine, engine)
            return Database(Executor(engine.engine, connection=engine, query_timeout=query_timeout, owns_engine=False))
        if not isinstance(engine, sa.Engine):
            raise ValidationError(f"engine= takes a SQLAlchemy Engine, got {type(engine).__name__}")
        install_functions(engine)
        return Database(Executor(engine, query_timeout=query_timeout, owns_engine=False))
    url = resolve_dsn(dsn)
    sa_engine = create_engine(url, **engine_options)
    install_rules(sa_engine)
    try:
        with sa_engine.connect():
            pass
    except sa.exc.DBAPIError as exc:
        sa_engine.dispose()
        raise connection_failed(url, exc) from None
    return Database(Executor(sa_engine, query_timeout=query_timeout))


# Shared with async_connect (moltres.async_database).


def check_connect_arguments(dsn: object, engine: object, session: object, query_timeout: object) -> None:
    """Refuse contradictory or malformed arguments to :func:`connect` and ``async_connect``."""
    given = sum(x is not None for x in (dsn, engine, session))
    if given > 1:
        raise ValidationError("pass one of dsn, engine= or session=, not several")
    if query_timeout is not None and (
        not isinstance(query_timeout, (int, float)) or isinstance(query_timeout, bool) or query_timeout <= 0
    ):
        raise ValidationError(f"query_timeout must be a positive number of seconds, got {query_timeout!r}")


def install_rules(engine: sa.Engine) -> None:
    """Attach the dialect's connection set-up to an engine moltres created (for async: its sync_engine)."""
    from moltres.sql.dialects import rules_for

    rules = rules_for(engine.dialect.name)
    sa.event.listen(engine, "connect", lambda dbapi_conn, record: rules.on_connect(dbapi_conn))
    rules.configure_engine(engine)


def install_functions(engine: sa.Engine, connection: sa.Connection | None = None) -> None:
    """Give connections of an engine moltres does not own the SQL functions moltres relies on.

    Unlike :func:`install_rules`, this changes nothing else about the owner's connections
    (no transaction handling, no session settings).
    """
    from moltres.sql.dialects import rules_for

    rules = rules_for(engine.dialect.name)

    def prepare(dbapi_connection: Any, info: dict[Any, Any]) -> None:
        if not info.get("moltres_functions"):
            rules.register_functions(dbapi_connection)
            info["moltres_functions"] = True

    if engine not in _FUNCTIONS_INSTALLED:

        def on_checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
            prepare(dbapi_connection, record.info)

        setattr(on_checkout, ONCE_PER_CONNECTION, True)  # a parked connection has had it: no need to see it again
        sa.event.listen(engine, "checkout", on_checkout)
        _FUNCTIONS_INSTALLED.add(engine)
    if connection is not None and not connection.closed:
        prepare(connection.connection.dbapi_connection, connection.connection.info)


_FUNCTIONS_INSTALLED: weakref.WeakSet[sa.Engine] = weakref.WeakSet()


def connection_failed(url: sa.URL, exc: BaseException) -> DatabaseConnectionError:
    """The error for a server that cannot be reached, with the password masked."""
    reason = str(getattr(exc, "orig", exc)).strip().splitlines()
    return DatabaseConnectionError(
        f"could not connect to {mask_password(url.render_as_string(hide_password=True))}: "
        f"{mask_password(reason[0] if reason else type(exc).__name__)}",
        suggestion="check that the server is running and that host, port, user, password and database are right",
    )
