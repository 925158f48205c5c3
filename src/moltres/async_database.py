"""The asyncio facade: :func:`async_connect` returns an :class:`AsyncDatabase`.

``AsyncDatabase`` has the surface of :class:`~moltres.Database`, with every method that
talks to the database awaited. All decisions (validation, which statements to run, how
frames are built) live in :class:`~moltres.database.BaseDatabase` and in the functions both
facades run, so the two cannot drift apart.

Example:
    >>> import asyncio
    >>> from moltres import async_connect, col, column
    >>> async def main():
    ...     async with await async_connect("sqlite://") as adb:
    ...         await adb.create_table("t", [column("x", "INTEGER")])
    ...         await adb.insert("t", [{"x": 1}, {"x": 2}])
    ...         return await adb.table("t").where(col("x") > 1).collect()
    >>> asyncio.run(main())
    [{'x': 2}]
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Generator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from typing_extensions import Self

from moltres.database import BaseDatabase, Changes, check_connect_arguments, connection_failed, install_rules
from moltres.dataframe.async_dataframe import AsyncDataFrame
from moltres.engine.async_executor import AsyncExecutor
from moltres.engine.url import create_engine, mask_password, resolve_dsn
from moltres.expressions.column import Column
from moltres.logical import plan as p
from moltres.table import mutations
from moltres.table.schema import ColumnDef
from moltres.utils.exceptions import DatabaseConnectionError, MoltresError, ValidationError
from moltres.utils.optional import require

if TYPE_CHECKING:
    from moltres.dataframe.async_reader import AsyncDataLoader

__all__ = ["AsyncDatabase", "async_connect"]


class AsyncDatabase(BaseDatabase[AsyncExecutor, AsyncDataFrame]):
    """An asyncio database connection: hands out AsyncDataFrames and changes tables.

    Create one with :func:`async_connect`. It is safe to share between tasks: each query
    checks a connection out of the pool for its own duration.
    """

    def _frame(self, plan: p.Plan) -> AsyncDataFrame:
        return AsyncDataFrame(plan, self._executor, self)

    # -------------------------------------------------------------------------------- basics

    @property
    def engine(self) -> AsyncEngine:
        """The SQLAlchemy ``AsyncEngine``."""
        return self._executor.engine

    def __repr__(self) -> str:
        return f"AsyncDatabase<{mask_password(self.engine.url.render_as_string(hide_password=True))}>"

    def __await__(self) -> Generator[Any, None, Self]:
        # `db = await fixture_or_database` reads naturally in tests and notebooks
        return self._ready().__await__()

    async def _ready(self) -> Self:
        if self._executor.closed:
            raise DatabaseConnectionError(
                "this AsyncDatabase is closed", suggestion="open a new one with moltres.async_connect(...)"
            )
        return self

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def bound_to(self, connection: AsyncConnection) -> AsyncDatabase:
        """An AsyncDatabase that runs everything on `connection`, sharing this one's caches.

        For a unit of work on one connection (a web request, a test): compiled queries and
        reflected tables are shared with this database, and moltres never commits or closes
        the connection; its owner does.

        Example:
            >>> async def demo(adb):
            ...     async with adb.engine.connect() as conn:
            ...         return await adb.bound_to(conn).table("users").count()
            >>> arun(demo)
            3
        """
        if not isinstance(connection, AsyncConnection):
            raise ValidationError(
                f"bound_to() takes a SQLAlchemy AsyncConnection, got {type(connection).__name__}",
                suggestion="async with adb.engine.connect() as conn: adb.bound_to(conn)",
            )
        executor = AsyncExecutor(
            connection.engine, connection=connection, owns_engine=False, state=self._executor.state
        )
        return AsyncDatabase(executor)

    async def close(self) -> None:
        """Drop staged tables and release connections (the engine too, if moltres created it)."""
        if self._executor.closed:
            return
        for statement in self._drop_staged():
            with contextlib.suppress(MoltresError):
                await self._executor.execute(statement)
        await self._executor.close()

    # -------------------------------------------------------------------------------- frames

    async def execute(self, text: str, params: Mapping[str, Any] | None = None, **kwparams: Any) -> int:
        """Run one statement you write (DDL or DML) with ``:name`` parameters; return rows affected.

        Example:
            >>> arun(lambda adb: adb.execute("UPDATE users SET age = age WHERE id = :id", id=1))
            1
        """
        outcome = await self._executor.execute(*self._statement(text, params, kwparams))
        self._state.forget()
        return outcome.rowcount

    async def create_dataframe(
        self, rows: object, schema: Sequence[ColumnDef] | Mapping[str, str] | Sequence[str] | None = None
    ) -> AsyncDataFrame:
        """An AsyncDataFrame over rows from Python (dicts, pandas, polars or Arrow).

        Small inputs become inline ``VALUES``; larger ones are loaded into a staging table,
        dropped when the database is closed.

        Example:
            >>> async def demo(adb):
            ...     df = await adb.create_dataframe([{"x": 1}, {"x": 2}])
            ...     return await df.where(col("x") > 1).collect()
            >>> arun(demo)
            [{'x': 2}]
        """
        frame, staging = self._dataframe(rows, schema)
        if staging is not None:
            await self._executor.atomic(*staging)
        return frame

    # -------------------------------------------------------------------------------- DDL

    def _ddl(self, description: str, work: Changes, *args: Any) -> mutations.AsyncDDLOperation[bool]:
        return mutations.AsyncDDLOperation(description, lambda: self._executor.atomic(work, *args))

    def create_table(
        self,
        name: str,
        columns: Sequence[ColumnDef | sa.Column[Any]],
        *,
        if_not_exists: bool = False,
        temporary: bool = False,
        schema: str | None = None,
    ) -> mutations.AsyncDDLOperation[bool]:
        """A ``CREATE TABLE`` that runs when awaited (``await op`` or ``await op.collect()``).

        Example:
            >>> arun(lambda adb: adb.create_table("notes", [column("id", "INTEGER", primary_key=True)]))
            True
        """
        return self._ddl(*self._create_table(name, columns, if_not_exists, temporary, schema))

    def drop_table(
        self, name: str, *, if_exists: bool = True, schema: str | None = None
    ) -> mutations.AsyncDDLOperation[bool]:
        """A ``DROP TABLE`` that runs when awaited; it gives True if a table was dropped.

        Example:
            >>> arun(lambda adb: adb.drop_table("no_such_table"))
            False
        """
        return self._ddl(*self._drop_table(name, if_exists, schema))

    def create_index(
        self, name: str, table: str, columns: str | Sequence[str], *, unique: bool = False
    ) -> mutations.AsyncDDLOperation[bool]:
        """A ``CREATE INDEX`` that runs when awaited.

        Example:
            >>> arun(lambda adb: adb.create_index("idx_users_name", "users", "name"))
            True
        """
        return self._ddl(*self._create_index(name, table, columns, unique))

    async def tables(self) -> list[str]:
        """The names of the tables (and views) in the database.

        Example:
            >>> "users" in arun(lambda adb: adb.tables())
            True
        """
        return await self._executor.run(self._table_names)

    async def table_exists(self, name: str) -> bool:
        """Whether a table of that name exists.

        Example:
            >>> arun(lambda adb: adb.table_exists("nope"))
            False
        """
        return await self._executor.run(self._has_table, name)

    async def schema(self, name: str) -> list[ColumnDef]:
        """The columns of a table, as :class:`~moltres.table.schema.ColumnDef`.

        Example:
            >>> [c.name for c in arun(lambda adb: adb.schema("users"))]
            ['id', 'name', 'age']
        """
        return await self._executor.run(*self._describe(name))

    # -------------------------------------------------------------------------------- rows

    async def insert(self, table: str, rows: object) -> int:
        """Insert rows (dicts, pandas, polars or Arrow) atomically in batches; return the count.

        Example:
            >>> arun(lambda adb: adb.insert("users", [{"id": 7, "name": "Eve", "age": 41}]))
            1
        """
        return await self._executor.atomic(*self._insert(table, rows))

    async def update(self, table: str, *, where: Column | str | None = None, set: Mapping[str, Any]) -> int:
        """``UPDATE`` the rows matching `where`; return how many changed.

        Example:
            >>> arun(lambda adb: adb.update("users", where=col("id") == 1, set={"age": col("age") + 1}))
            1
        """
        return await self._executor.atomic(*self._update(table, where, set))

    async def delete(self, table: str, *, where: Column | str | None = None) -> int:
        """``DELETE`` the rows matching `where`; return how many were removed.

        Example:
            >>> arun(lambda adb: adb.delete("users", where=col("age") < 35))
            1
        """
        return await self._executor.atomic(*self._delete(table, where))

    async def merge(
        self, table: str, rows: object, *, on: str | Sequence[str], update: Sequence[str] | None = None
    ) -> int:
        """Upsert: insert rows, updating those whose `on` key already exists.

        Example:
            >>> arun(lambda adb: adb.merge("users", [{"id": 1, "name": "Ada", "age": 37}], on="id"))
            1
        """
        return await self._executor.atomic(*self._merge(table, rows, on, update))

    upsert = merge

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Self]:
        """Run the block in one transaction; nested blocks use savepoints. Rolls back on error.

        Tasks started inside the block join the transaction and take turns on its connection.

        Example:
            >>> async def demo(adb):
            ...     async with adb.transaction():
            ...         return await adb.update("users", where=col("id") == 1, set={"age": 36})
            >>> arun(demo)
            1
        """
        async with self._executor.transaction():
            yield self

    @property
    def read(self) -> AsyncDataLoader:
        r"""Read files into AsyncDataFrames: ``await adb.read.csv(path)``, ``await adb.load("events.jsonl")``.

        The sync loader's options and loading paths, awaited; the file is read and parsed on a
        worker thread, so the event loop stays free (see :mod:`moltres.dataframe.async_reader`).
        ``adb.read.last_report`` tells what the last load did.

        Example:
            >>> path = tmp / "events.jsonl"
            >>> _ = path.write_text('{"id": 1, "kind": "click"}\n{"id": 2, "kind": "view"}\n')
            >>> async def demo(adb):
            ...     events = await adb.load(path)
            ...     return await events.where(col("kind") == "view").collect()
            >>> arun(demo)
            [{'id': 2, 'kind': 'view'}]
        """
        loader: AsyncDataLoader | None = self.__dict__.get("_loader")
        if loader is None:
            from moltres.dataframe.async_reader import AsyncDataLoader  # imported on first use, as db.read's

            loader = self.__dict__["_loader"] = AsyncDataLoader(self)
        return loader

    load = read


async def async_connect(
    dsn: str | None = None,
    *,
    engine: AsyncEngine | AsyncConnection | None = None,
    session: Any = None,
    query_timeout: float | None = None,
    **engine_options: Any,
) -> AsyncDatabase:
    """Connect to a database with an asyncio driver and return an :class:`AsyncDatabase`.

    A DSN without a driver gets the async one: ``sqlite://`` uses aiosqlite,
    ``postgresql://`` asyncpg and ``mysql://`` aiomysql. ``postgresql+psycopg://`` uses
    psycopg's async mode, and ``+psycopg2``/``+pymysql``/``+pysqlite`` are swapped for the
    async driver of the same database.

    Args:
        dsn: ``sqlite:///app.db``, ``postgresql://user:pw@host/db``, ``mysql://...``;
            defaults to the ``MOLTRES_DSN`` environment variable.
        engine: An existing ``AsyncEngine`` (moltres will not dispose of it), or an
            ``AsyncConnection`` to run everything on (moltres never commits or closes it).
        session: A SQLAlchemy ``AsyncSession``: moltres runs on its connection and
            transaction and never commits or closes it.
        query_timeout: Cancel any statement running longer than this many seconds.
        engine_options: Passed to ``create_async_engine`` (``pool_size``, ``max_overflow``, ...).

    Raises:
        DatabaseConnectionError: Malformed DSN, a database without an asyncio driver (DuckDB),
            a missing driver, or a server that cannot be reached. Passwords are masked.
        MissingDependencyError: greenlet, which SQLAlchemy's asyncio layer needs, is missing.

    Example:
        >>> import asyncio
        >>> async def main():
        ...     adb = await async_connect("sqlite://")
        ...     name = adb.dialect_name
        ...     await adb.close()
        ...     return name
        >>> asyncio.run(main())
        'sqlite'
    """
    check_connect_arguments(dsn, engine, session, query_timeout)
    require("greenlet", "async")
    if session is not None:
        bind = getattr(session, "bind", None)
        if isinstance(bind, AsyncConnection):
            return AsyncDatabase(
                AsyncExecutor(bind.engine, session=session, query_timeout=query_timeout, owns_engine=False)
            )
        if not isinstance(bind, AsyncEngine):
            raise ValidationError(
                "session= takes a SQLAlchemy AsyncSession bound to an AsyncEngine",
                suggestion="AsyncSession(async_engine), or use connect(session=...) for a sync Session",
            )
        return AsyncDatabase(AsyncExecutor(bind, session=session, query_timeout=query_timeout, owns_engine=False))
    if engine is not None:
        if isinstance(engine, AsyncConnection):
            return AsyncDatabase(
                AsyncExecutor(engine.engine, connection=engine, query_timeout=query_timeout, owns_engine=False)
            )
        if not isinstance(engine, AsyncEngine):
            raise ValidationError(
                f"engine= takes a SQLAlchemy AsyncEngine, got {type(engine).__name__}",
                suggestion="create it with sqlalchemy.ext.asyncio.create_async_engine, or use connect(engine=...)",
            )
        return AsyncDatabase(AsyncExecutor(engine, query_timeout=query_timeout, owns_engine=False))
    url = resolve_dsn(dsn, asynchronous=True)
    if url.get_backend_name() == "duckdb":
        raise DatabaseConnectionError(
            "DuckDB has no asyncio driver",
            suggestion="use moltres.connect(...) and run its calls in a thread: await asyncio.to_thread(df.collect)",
        )
    async_engine: AsyncEngine = create_engine(url, asynchronous=True, **engine_options)
    install_rules(async_engine.sync_engine)
    try:
        async with async_engine.connect():
            pass
    except (sa.exc.DBAPIError, OSError) as exc:  # asyncpg and aiomysql raise OSError as it comes
        await async_engine.dispose()
        raise connection_failed(url, exc) from None
    return AsyncDatabase(AsyncExecutor(async_engine, query_timeout=query_timeout))
