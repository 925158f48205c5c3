r"""``adb.read`` (also ``adb.load``): the sync :class:`~moltres.dataframe.reader.DataLoader`, awaited.

Every option, alias, check, schema rule and loading path is the sync loader's: the builders
(``format``, ``option``, ``options``, ``schema``) are inherited, and a read runs the sync
loader's own ``_read`` on one connection of the async engine. Only where it runs differs.

Why a worker thread, and not ``run_sync``: ``AsyncConnection.run_sync`` runs sync code in a
greenlet on the event loop's own thread. Each statement sent to the driver gives the loop
back, but the Python between two statements (decompressing, parsing CSV or JSON, converting
values, building the next 50,000-row batch) would hold the loop for as long as it takes,
and every other task of the application would wait. The load therefore runs on a worker
thread (:meth:`~moltres.engine.async_executor.AsyncExecutor.in_thread`), and only the
driver's own awaits (each batch's ``INSERT``) run on the loop, as they must: an asyncio
driver's connection belongs to its loop. Plain ``asyncio.to_thread`` around the sync loader
would not do: the load needs the async driver, which only answers on the loop.

A load is all or nothing as on a sync database: the staging table (or your table, with
``into=``) is created and filled on one connection, committed at the end, and a failure
leaves nothing behind. Staging tables are plain tables dropped by ``await adb.close()``,
so every later query of the database sees them, on whichever pooled connection it runs.

Example:
    >>> path = tmp / "scores.csv"
    >>> _ = path.write_text("user_id,score\n1,9.5\n2,7.0\n")
    >>> async def demo(adb):
    ...     scores = await adb.read.csv(path)
    ...     joined = scores.join(adb.table("users"), on=[("user_id", "id")]).select("name", "score")
    ...     return await joined.order_by("name").collect(), adb.read.last_report.rows
    >>> arun(demo)
    ([{'name': 'Ada', 'score': 9.5}, {'name': 'Alan', 'score': 7.0}], 2)
"""

from __future__ import annotations

import os
from collections.abc import Coroutine, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa

from moltres.dataframe.async_dataframe import AsyncDataFrame
from moltres.dataframe.dataframe import DataFrame
from moltres.dataframe.reader import DataLoader, Loader
from moltres.engine.async_executor import AsyncExecutor
from moltres.engine.executor import Executor, QueryState
from moltres.logical import plan as p

__all__ = ["AsyncDataLoader"]


class _AsyncHost(Protocol):
    """What the async loader needs from an ``AsyncDatabase``."""

    _staged: list[str]

    @property
    def executor(self) -> AsyncExecutor: ...

    def table(self, name: str, schema: str | None = None) -> AsyncDataFrame: ...


class _OnConnection:
    """The database as the sync loader sees it from the worker thread: one connection, shared caches."""

    def __init__(self, connection: sa.Connection, state: QueryState, staged: list[str]) -> None:
        self.executor = Executor(connection.engine, connection=connection, state=state, owns_engine=False)
        self._staged = staged  # the AsyncDatabase's own list: close() drops what the load staged

    def table(self, name: str, schema: str | None = None) -> DataFrame:
        return DataFrame(p.Table(name, schema), self.executor)


def _load(connection: sa.Connection, loader: AsyncDataLoader, fmt: str, path: Any, given: Mapping[str, Any]) -> str:
    """Run the sync loader's load on `connection` (on the worker thread); return the table it filled."""
    host = loader._db
    on_connection = _OnConnection(connection, host.executor.state, host._staged)
    sync = DataLoader(on_connection, format=loader._format, options=loader._options)
    sync._log = loader._log  # adb.read.last_report
    return sync._load(fmt, path, given).table


class AsyncDataLoader(Loader[Coroutine[Any, Any, AsyncDataFrame]]):
    """``adb.read``: the :class:`~moltres.dataframe.reader.DataLoader` of a sync database, with every read awaited.

    ``await adb.read.csv(path)`` gives an :class:`~moltres.dataframe.async_dataframe.AsyncDataFrame`
    over the loaded rows; the builders (``format``, ``option``, ``options``, ``schema``) and
    :attr:`last_report` work as on the sync loader.

    Example:
        >>> async def demo(adb):
        ...     return adb.read.format("csv").option("sep", ";")
        >>> arun(demo)
        DataLoader<csv delimiter=';'>
    """

    _db: _AsyncHost  # type: ignore[assignment]  # an AsyncDatabase: its tables are AsyncDataFrames

    def __init__(
        self, database: _AsyncHost, *, format: str | None = None, options: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(database, format=format, options=options)  # type: ignore[arg-type]  # see _db

    async def _read(self, fmt: str, path: str | os.PathLike[str], given: Mapping[str, Any]) -> AsyncDataFrame:
        name = await self._db.executor.in_thread(_load, self, fmt, path, given)
        return self._db.table(name)

    if TYPE_CHECKING:

        def table(self, name: str) -> AsyncDataFrame:  # type: ignore[override]  # the async database's frame
            """``adb.table(name)``, as ``spark.read.table``."""
