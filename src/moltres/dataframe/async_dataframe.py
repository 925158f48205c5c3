"""The asyncio :class:`AsyncDataFrame`: the builders of ``Frame`` plus terminals you await.

Every builder (``select``, ``where``, ``join``, ``group_by``, ...) is inherited from
:class:`~moltres.dataframe.frame.Frame` unchanged, so building a query never awaits and never
touches the database. Only the terminals differ from :class:`~moltres.dataframe.dataframe.DataFrame`:
each awaits the same shared step through the async executor.

Properties that need the database to answer (``columns``, ``schema``, ``sql``, ``params``)
return an awaitable: ``await df.columns``.

Example:
    >>> async def demo(adb):
    ...     df = adb.table("users").select("name").where(col("age") > 40)
    ...     return await df.collect()
    >>> arun(demo)
    [{'name': 'Grace'}]
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Generator, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, overload

import sqlalchemy as sa
from typing_extensions import Self

from moltres.dataframe.dataframe import (
    DEFAULT_BATCH,
    DataFrame,
    check_batch_size,
    check_named,
    count_plan,
    output_schema,
    read_count,
    render_table,
)
from moltres.dataframe.frame import Frame
from moltres.dataframe.writer import DataFrameWriter
from moltres.engine.async_executor import AsyncExecutor
from moltres.engine.executor import Executor, QueryState, Rows, explain_plan
from moltres.logical import plan as p
from moltres.sql.compiler import CompiledQuery

if TYPE_CHECKING:
    import pandas
    import polars
    import pyarrow

__all__ = ["AsyncDataFrame", "AsyncDataFrameWriter", "Deferred"]

T = TypeVar("T")
W = TypeVar("W", bound="Frame[Any]")


class Deferred(Generic[T]):
    """A property's value that needs the database: await it (``await df.columns``).

    Nothing runs until it is awaited, and each await asks again.
    """

    __slots__ = ("_make", "_what")

    def __init__(self, make: Callable[[], Awaitable[T]], what: str) -> None:
        self._make = make
        self._what = what

    def __await__(self) -> Generator[Any, None, T]:
        return self._make().__await__()

    def __repr__(self) -> str:
        return f"<{self._what}: await it for the value>"


def _on_sync_view(conn: sa.Connection, convert: Callable[[DataFrame], T], state: QueryState, plan: p.Plan) -> T:
    """Run a converter written for a sync DataFrame on one connection of the async engine.

    Inside ``run_sync`` the connection is sync-facing, so the converters of
    :mod:`moltres.io.formats` (batched fetches, native columnar paths) run unchanged.
    """
    executor = Executor(conn.engine, connection=conn, state=state, owns_engine=False)
    return convert(DataFrame(plan, executor))


class AsyncDataFrame(Frame[AsyncExecutor]):
    """A lazy query on an ``AsyncDatabase``. Builders return new frames; terminals are awaited.

    Build one with ``adb.table(name)``, ``adb.sql(text)`` or ``await adb.create_dataframe(rows)``.
    Awaiting the frame itself checks that its tables exist (reflecting them once) and gives
    the frame back, so ``(await adb.table("users")).select()`` works as well as
    ``adb.table("users").select()``.
    """

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, Self]:
        return self._checked().__await__()

    async def _checked(self) -> Self:
        await self._compiled()
        return self

    # -------------------------------------------------------------------------------- compile

    async def _compiled(self, dialect: str | None = None) -> tuple[CompiledQuery, dict[str, Any]]:
        return await self._executor.compile(self._plan, dialect)

    async def to_sql(self, dialect: str | None = None) -> str:
        """The SQL this frame runs, with placeholders for values.

        Example:
            >>> print(arun(lambda adb: adb.table("users").select("name").to_sql()))
            SELECT users.name
            FROM users
        """
        return (await self._compiled(dialect))[0].sql

    @property
    def sql(self) -> Deferred[str]:
        """The SQL text, awaited: ``await df.sql`` (same as :meth:`to_sql`)."""
        return Deferred(self.to_sql, "df.sql")

    async def show_sql(self) -> None:
        """Print the SQL this frame runs."""
        print(await self.to_sql())

    @property
    def params(self) -> Deferred[dict[str, Any]]:
        """The values bound to the SQL's placeholders, awaited: ``await df.params``.

        Example:
            >>> arun(lambda adb: adb.table("users").where(col("age") > 40).params)
            {'p0': 40}
        """

        async def params() -> dict[str, Any]:
            return (await self._compiled())[1]

        return Deferred(params, "df.params")

    @property
    def columns(self) -> Deferred[list[str]]:
        """The output column names, awaited: ``await df.columns`` (tables are reflected once).

        Example:
            >>> arun(lambda adb: adb.table("users").columns)
            ['id', 'name', 'age']
        """

        async def columns() -> list[str]:
            return list((await self._compiled())[0].columns)

        return Deferred(columns, "df.columns")

    @property
    def schema(self) -> Deferred[list[tuple[str, str]]]:
        """``(name, SQL type)`` for each output column, awaited: ``await df.schema``.

        Example:
            >>> arun(lambda adb: adb.table("users").schema)[0]
            ('id', 'INTEGER')
        """

        async def schema() -> list[tuple[str, str]]:
            return output_schema((await self._compiled())[0])

        return Deferred(schema, "df.schema")

    dtypes = schema

    # -------------------------------------------------------------------------------- actions

    @overload
    async def collect(
        self, stream: Literal[False] = False, *, batch_size: int = ..., timeout: float | None = ...
    ) -> Rows: ...

    @overload
    async def collect(
        self, stream: Literal[True], *, batch_size: int = ..., timeout: float | None = ...
    ) -> AsyncGenerator[Rows, None]: ...

    async def collect(
        self, stream: bool = False, *, batch_size: int = DEFAULT_BATCH, timeout: float | None = None
    ) -> Rows | AsyncGenerator[Rows, None]:
        """Run the query and return every row as a dict, or an async iterator of chunks with ``stream=True``.

        Args:
            stream: Yield lists of at most `batch_size` rows from a server-side cursor.
            batch_size: Rows per chunk when streaming.
            timeout: Cancel the query after this many seconds.

        Example:
            >>> arun(lambda adb: adb.table("users").select("id").order_by("id").collect())
            [{'id': 1}, {'id': 2}, {'id': 3}]
        """
        if stream:
            return self.iter_batches(batch_size, timeout=timeout)
        return await self._executor.fetch_all(self._plan, timeout=timeout)

    @overload
    def iter_batches(
        self, size: int = ..., *, timeout: float | None = ..., named: Literal[True] = ...
    ) -> AsyncGenerator[Rows, None]: ...

    @overload
    def iter_batches(
        self, size: int = ..., *, timeout: float | None = ..., named: Literal[False]
    ) -> AsyncGenerator[list[tuple[Any, ...]], None]: ...

    def iter_batches(
        self, size: int = DEFAULT_BATCH, *, timeout: float | None = None, named: bool = True
    ) -> AsyncGenerator[Rows, None] | AsyncGenerator[list[tuple[Any, ...]], None]:
        """Yield the rows in lists of at most `size`: ``async for batch in df.iter_batches(1000)``.

        With ``named=False`` the rows are tuples in the order of :attr:`columns`, as in
        :meth:`DataFrame.iter_batches <moltres.dataframe.dataframe.DataFrame.iter_batches>`.

        Example:
            >>> async def sizes(adb):
            ...     return [len(batch) async for batch in adb.table("users").iter_batches(2)]
            >>> arun(sizes)
            [2, 1]
        """
        return self._executor.stream(self._plan, check_batch_size(size), timeout=timeout, named=check_named(named))

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        async for batch in self.iter_batches():
            for row in batch:
                yield row

    async def first(self) -> dict[str, Any] | None:
        """The first row, or None when there is none.

        Example:
            >>> arun(lambda adb: adb.table("users").order_by("id").first())
            {'id': 1, 'name': 'Ada', 'age': 36}
        """
        rows = await self.limit(1).collect()
        return rows[0] if rows else None

    async def head(self, n: int = 5) -> Rows:
        """The first `n` rows.

        Example:
            >>> len(arun(lambda adb: adb.table("users").head(2)))
            2
        """
        return await self.limit(n).collect()

    take = head

    async def count(self) -> int:
        """The number of rows, counted by the database.

        Example:
            >>> arun(lambda adb: adb.table("users").where(col("age") > 30).count())
            2
        """
        return read_count(await self._executor.fetch_all(count_plan(self._plan)))

    async def show(self, n: int = 20, *, truncate: int = 40) -> None:
        """Print the first `n` rows as a table.

        Example:
            >>> arun(lambda adb: adb.table("users").select("id", "name").order_by("id").show(1))
            +----+------+
            | id | name |
            +----+------+
            | 1  | Ada  |
            +----+------+
        """
        compiled = (await self._compiled())[0]
        print(render_table(list(compiled.columns), await self.limit(n).collect(), max_width=truncate))

    async def explain(self) -> str:
        """The database's plan for this query (``EXPLAIN``), as text.

        Example:
            >>> "users" in arun(lambda adb: adb.table("users").explain()).lower()
            True
        """
        return await self._executor.run(explain_plan, self._executor.state, self._plan)

    # -------------------------------------------------------------------------------- interop

    async def _convert(self, convert: Callable[[DataFrame], T]) -> T:
        return await self._executor.run(_on_sync_view, convert, self._executor.state, self._plan)

    async def to_pandas(self) -> pandas.DataFrame:
        """The rows as a pandas DataFrame (needs ``moltres[pandas]``)."""
        from moltres.io.formats.pandas import to_pandas

        return await self._convert(to_pandas)

    async def to_polars(self) -> polars.DataFrame:
        """The rows as a polars DataFrame (needs ``moltres[polars]``)."""
        from moltres.io.formats.polars import to_polars

        return await self._convert(to_polars)

    async def to_arrow(self) -> pyarrow.Table:
        """The rows as an Arrow table (needs ``moltres[parquet]``)."""
        from moltres.io.formats.arrow import to_arrow

        return await self._convert(to_arrow)

    async def to_dicts(self) -> Rows:
        """Alias of :meth:`collect`."""
        return await self.collect()

    # -------------------------------------------------------------------------------- writing

    @property
    def write(self) -> AsyncDataFrameWriter[Self]:
        """Write this frame to a table: ``await df.write.mode("overwrite").save_as_table("t")``."""
        return AsyncDataFrameWriter(self)


class _SeenFromThread:
    """An AsyncDataFrame as the sync file writers see it, from the thread that writes the file.

    The writers of :mod:`moltres.io.formats` pull ``columns`` and ``iter_batches(n)`` from a
    frame. Here each batch is fetched on the event loop, which stays free meanwhile, and
    handed to the thread; the disk is never written from the loop.
    """

    def __init__(self, frame: AsyncDataFrame, compiled: CompiledQuery, loop: asyncio.AbstractEventLoop) -> None:
        self._frame = frame
        self._compiled = compiled
        self._loop = loop
        self.columns = list(compiled.columns)

    def iter_batches(self, size: int = DEFAULT_BATCH) -> Iterator[Rows]:
        batches = self._frame.iter_batches(size)
        try:
            while True:
                try:
                    yield asyncio.run_coroutine_threadsafe(anext(batches), self._loop).result()
                except StopAsyncIteration:
                    return
        finally:
            asyncio.run_coroutine_threadsafe(batches.aclose(), self._loop).result()

    def arrow_batches(self) -> Iterator[Any]:
        from moltres.io.formats.arrow import BATCH_ROWS, arrow_batches

        names = self.columns
        partitions = ([tuple(row[c] for c in names) for row in batch] for batch in self.iter_batches(BATCH_ROWS))
        return arrow_batches(names, self._compiled.types, partitions)


class AsyncDataFrameWriter(DataFrameWriter[W]):
    """``df.write`` of an :class:`AsyncDataFrame`: the same writer, with every write awaited.

    Table writes run :func:`~moltres.dataframe.writer.save_plan` on one connection, atomically,
    exactly as the sync writer does. File writes (``csv``, ``json``, ``jsonl``, ``parquet``,
    ``save``) run the sync writers on a worker thread, fed batch by batch from the event loop.

    Example:
        >>> arun(lambda adb: adb.table("users").where(col("age") > 40).write.mode("overwrite").save_as_table("old"))
        1
    """

    if TYPE_CHECKING:  # the file writers are inherited; awaited here, so typed as coroutines

        async def save(  # type: ignore[override]  # the sync writer's save, awaited
            self, path: str | os.PathLike[str], format: str | None = None, **options: Any
        ) -> int:
            """Awaited :meth:`DataFrameWriter.save <moltres.dataframe.writer.DataFrameWriter.save>`."""

        async def csv(  # type: ignore[override]  # the sync writer's csv, awaited
            self,
            path: str | os.PathLike[str],
            *,
            header: bool = True,
            delimiter: str = ",",
            quote: str = '"',
            escape: str | None = None,
            null_value: str = "",
            encoding: str = "utf-8",
            compression: str | None = None,
            progress: bool | None = None,
        ) -> int:
            """Awaited :meth:`DataFrameWriter.csv <moltres.dataframe.writer.DataFrameWriter.csv>`."""

        async def json(  # type: ignore[override]  # the sync writer's json, awaited
            self,
            path: str | os.PathLike[str],
            *,
            encoding: str = "utf-8",
            compression: str | None = None,
            progress: bool | None = None,
        ) -> int:
            """Awaited :meth:`DataFrameWriter.json <moltres.dataframe.writer.DataFrameWriter.json>`."""

        async def jsonl(  # type: ignore[override]  # the sync writer's jsonl, awaited
            self,
            path: str | os.PathLike[str],
            *,
            encoding: str = "utf-8",
            compression: str | None = None,
            progress: bool | None = None,
        ) -> int:
            """Awaited :meth:`DataFrameWriter.jsonl <moltres.dataframe.writer.DataFrameWriter.jsonl>`."""

        async def parquet(  # type: ignore[override]  # the sync writer's parquet, awaited
            self,
            path: str | os.PathLike[str],
            *,
            compression: str = "snappy",
            partition_by: Sequence[str] | None = None,
            progress: bool | None = None,
        ) -> int:
            """Awaited :meth:`DataFrameWriter.parquet <moltres.dataframe.writer.DataFrameWriter.parquet>`."""

    def _write_file(self, path: str | os.PathLike[str], write: Callable[[Any, bool], int]) -> Any:
        return self._write_from_thread(path, write)

    async def _write_from_thread(self, path: str | os.PathLike[str], write: Callable[[Any, bool], int]) -> int:
        frame = self._frame
        assert isinstance(frame, AsyncDataFrame)
        compiled = (await frame._compiled())[0]
        seen = _SeenFromThread(frame, compiled, asyncio.get_running_loop())
        sync_write = super()._write_file
        return await asyncio.to_thread(sync_write, path, lambda _frame, append: write(seen, append))

    def _arrow_batches(self, frame: Any) -> Iterator[Any]:
        return frame.arrow_batches()  # type: ignore[no-any-return]

    async def save_as_table(self, name: str, mode: str | None = None) -> int:  # type: ignore[override]
        """Create or fill table `name` from this frame, inside the database; return the row count."""
        return int(await self._run(*self._save_args(name, mode)))

    saveAsTable = save_as_table  # type: ignore[assignment]  # the awaited twin of the sync alias

    async def insert_into(self, name: str) -> int:  # type: ignore[override]
        """Append this frame's rows to an existing table (``INSERT ... SELECT``); return the count."""
        return int(await self._run(*self._insert_args(name)))

    insertInto = insert_into  # type: ignore[assignment]  # the awaited twin of the sync alias
