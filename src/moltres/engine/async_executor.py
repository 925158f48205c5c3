"""The asyncio executor: the sync executor's decisions, awaited.

Nothing here decides what SQL to run. :class:`~moltres.engine.executor.QueryState` compiles
plans and caches them, and every step that needs a sync ``Connection`` (reflection,
compiling, fetching, the multi-statement functions of :mod:`moltres.engine.operations`,
:mod:`moltres.table.mutations` and :mod:`moltres.dataframe.writer`) runs through
SQLAlchemy's ``AsyncConnection.run_sync``, where the async driver is driven from sync code.
This module adds only what asyncio needs of its own: connections checked out per task, a
transaction shared safely by the tasks started inside it, a streaming loop that yields to
the event loop between batches, and :meth:`AsyncExecutor.in_thread` for sync work that spends
its time in Python (parsing a file to load it) rather than waiting on the database.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import functools
import itertools
import sys
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from moltres.engine.executor import (
    DriverStatement,
    Executor,
    Outcome,
    QueryState,
    Rows,
    fetch_rows,
    open_savepoint,
    prepare_on,
    run_statement,
    shape_rows,
    within,
)
from moltres.logical import plan as p
from moltres.sql.compiler import CompiledQuery
from moltres.utils.exceptions import DatabaseConnectionError

__all__ = ["AsyncExecutor"]

T = TypeVar("T")

_ids = itertools.count()


class _TaskLock:
    """Lets one task at a time use a connection; the task holding it may take it again.

    A connection runs one statement at a time. Tasks started inside a transaction inherit it
    (contextvars are copied into new tasks), so ``asyncio.gather(db.insert(...), ...)`` in an
    ``async with db.transaction()`` block takes turns on the transaction's connection instead
    of colliding on it.
    """

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None

    @contextlib.asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        me = asyncio.current_task()
        if me is not None and self._owner is me:
            yield
            return
        async with self._lock:
            self._owner = me
            try:
                yield
            finally:
                self._owner = None


class _NeedsConnection(Exception):
    """Compiling a plan needs the database (a table to reflect, a raw SELECT to probe)."""


@contextlib.contextmanager
def _offline() -> Iterator[sa.Connection]:
    """The connection lent for compiling on the event loop: none (see ``_prepared``)."""
    raise _NeedsConnection
    yield  # pragma: no cover - a generator, never reached


class _Cancelled(Exception):
    """Raised into work on a worker thread at its next statement: the task that awaits it was cancelled.

    An ordinary exception, not ``CancelledError``: SQLAlchemy answers that one by throwing the
    connection away, which only works on the event loop's thread. This one unwinds the work
    like any failure (its SAVEPOINTs roll back, a staging table is dropped); the connection
    then rolls back on the loop and goes back to the pool.
    """


class _ThreadBridge:
    """Runs sync SQLAlchemy code on a worker thread while its driver's awaits run on the event loop.

    ``AsyncConnection.run_sync`` runs sync code in a greenlet *on the event loop's thread*:
    every await of the driver gives the loop back, but the Python work between two awaits
    (parsing a CSV, converting values, building the next batch) holds it. Here the sync code
    runs in a greenlet on a worker thread instead; each awaitable the driver hands to
    SQLAlchemy's ``await_()`` is started on the loop as a task, and the thread waits for its
    result. The loop stays free while the thread computes, and the driver's connection is
    still used only from the loop it belongs to.

    The greenlet carries the marker SQLAlchemy's ``await_()`` looks for
    (``__sqlalchemy_greenlet_provider__``), as the greenlets of ``greenlet_spawn`` do.

    :meth:`cancel` (called on the loop) interrupts the running statement where the dialect
    can (SQLite). Otherwise, or when no statement was running, the next statement to finish
    fails with :class:`_Cancelled` (whatever it did is undone as the work unwinds). A
    statement already sent to other drivers is let finish: cancelling its task would make
    SQLAlchemy discard the connection from this thread, where it cannot. Closing a cursor is
    never the one to fail (SQLAlchemy ignores errors there), and once the work has been told,
    the statements its unwinding sends (ROLLBACK TO SAVEPOINT, DROP TABLE) run normally.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, rules: Any, raw: Any) -> None:
        self._loop = loop
        self._rules = rules
        self._raw = raw
        self._running: asyncio.Future[Any] | None = None
        self._interrupted: asyncio.Future[Any] | None = None
        self._cancelled = False
        self._told = False

    def run(self, work: Callable[..., T], *args: Any) -> T:
        """Run ``work(*args)`` (on the worker thread), relaying the driver's awaits to the loop."""
        from greenlet import getcurrent

        child = _bridged_greenlet()(work, getcurrent())
        result = child.switch(*args)
        while not child.dead:
            try:
                value = self._submit(result).result()
            except BaseException:
                result = child.throw(*sys.exc_info())
            else:
                result = child.switch(value)
        return result  # type: ignore[no-any-return]

    def _submit(self, awaitable: Awaitable[Any]) -> concurrent.futures.Future[Any]:
        outcome: concurrent.futures.Future[Any] = concurrent.futures.Future()
        closing = getattr(awaitable, "__qualname__", "").endswith(".close")

        def start() -> None:  # on the loop, as cancel() and _settle() are: they never interleave
            task = self._running = asyncio.ensure_future(awaitable, loop=self._loop)
            task.add_done_callback(lambda done: self._settle(done, outcome, closing))

        self._loop.call_soon_threadsafe(start)
        return outcome

    def _settle(self, task: asyncio.Future[Any], outcome: concurrent.futures.Future[Any], closing: bool) -> None:
        """Hand a finished statement's result (or error) to the thread waiting for it."""
        error = _Cancelled("the task running this work was cancelled") if task.cancelled() else task.exception()
        if self._cancelled and not self._told:
            if error is not None and task is self._interrupted:
                self._told = True  # the interrupted statement failed: the work unwinds from there
            elif not closing:
                self._told = True
                error = _Cancelled("the task running this work was cancelled")
        if error is not None:
            outcome.set_exception(error)
        else:
            outcome.set_result(task.result())

    def cancel(self) -> None:
        """Stop the work: interrupt its running statement, or fail its next one (call on the loop)."""
        self._cancelled = True
        running = self._running
        if self._rules.interrupts_on_cancel and running is not None and not running.done():
            self._interrupted = running
            self._rules.interrupt(self._raw)


_FINISHED = object()  # what a reused greenlet switches back with when its call is done
_idle = threading.local()  # per thread (a greenlet only runs on its own): greenlets free for the next call


async def _in_greenlet(fn: Callable[..., T], *args: Any) -> T:
    """``await greenlet_spawn(fn, *args)``, on a greenlet kept for the next call instead of a new one.

    SQLAlchemy's ``greenlet_spawn`` creates a greenlet per call, which costs more than the rest
    of a point query's Python (about 40 µs here); direct reads run one per query. The loop is
    ``greenlet_spawn``'s: each awaitable the sync code hands to ``await_()`` is awaited here and
    its result (or error) switched back in.
    """
    from greenlet import getcurrent

    free: list[Any] = _idle.__dict__.setdefault("greenlets", [])
    worker = free.pop() if free else _bridged_greenlet()(_serve, getcurrent())
    worker.parent = getcurrent()
    worker.gr_context = worker.parent.gr_context  # the calling task's contextvars
    done = False
    try:
        result = worker.switch(fn, args)
        while True:
            if type(result) is tuple and result[0] is _FINISHED:
                done = True
                ok, value = result[1].pop()
                if ok:
                    return value  # type: ignore[no-any-return]
                raise value
            try:
                value = await result
            except BaseException:
                result = worker.throw(*sys.exc_info())
            else:
                result = worker.switch(value)
    finally:
        if done:
            free.append(worker)


def _serve(fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """The body of a reused greenlet: run each call it is switched in with, hand back the outcome."""
    from greenlet import getcurrent

    box: list[tuple[bool, Any]] = []  # emptied by the caller: an idle greenlet holds no result
    while True:
        try:
            box.append((True, fn(*args)))
        except BaseException as exc:  # handed to the caller, who raises it
            box.append((False, exc))
        del fn, args
        fn, args = getcurrent().parent.switch((_FINISHED, box))


@functools.cache
def _bridged_greenlet() -> type[Any]:
    """The greenlet class of :class:`_ThreadBridge` and :func:`_in_greenlet` (imported on first use)."""
    from greenlet import greenlet

    class Bridged(greenlet):  # type: ignore[misc]  # greenlet has no type information
        __sqlalchemy_greenlet_provider__ = True  # await_() relays awaitables to our parent

        def __init__(self, fn: Callable[..., Any], parent: Any) -> None:
            super().__init__(fn, parent)
            self.gr_context = parent.gr_context  # the contextvars of the thread's caller

    return Bridged


@dataclass
class _Shared:
    """A connection several operations use in turn: an open transaction's, or one we were given."""

    connection: AsyncConnection
    lock: _TaskLock = field(default_factory=_TaskLock)


class AsyncExecutor:
    """Runs compiled statements on an ``AsyncEngine``, or on a connection or session we do not own.

    Args:
        engine: The async engine to connect with.
        connection: An ``AsyncConnection`` to use for everything; moltres never commits or closes it.
        session: An ``AsyncSession`` whose connection and transaction to use; moltres never
            commits or closes it.
        query_timeout: Default limit in seconds for each statement.
        owns_engine: Dispose of the engine on :meth:`close`.
        state: Share another executor's compiled statements and reflected tables.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        connection: AsyncConnection | None = None,
        session: Any = None,
        query_timeout: float | None = None,
        owns_engine: bool = True,
        state: QueryState | None = None,
    ) -> None:
        self.engine = engine
        self.state = state if state is not None else QueryState(engine.sync_engine.dialect, query_timeout=query_timeout)
        self._connection = connection
        self._session = session
        self._given = _TaskLock()
        self._owns_engine = owns_engine
        self._tx: contextvars.ContextVar[_Shared | None] = contextvars.ContextVar(
            f"moltres_async_tx_{next(_ids)}", default=None
        )
        self.closed = False

    # -------------------------------------------------------------------------------- connections

    async def _shared(self) -> _Shared | None:
        """The open transaction's connection, or the one we were given, if any."""
        held = self._tx.get()
        if held is not None:
            return held
        if self._connection is not None:
            return _Shared(self._connection, self._given)
        if self._session is not None:
            return _Shared(await self._session.connection(), self._given)
        return None

    @contextlib.asynccontextmanager
    async def connection(self, *, write: bool = False) -> AsyncIterator[AsyncConnection]:
        """A connection for one operation: the open transaction's, the given one, or a pooled one.

        Pooled connections used for writes commit at the end of the block and roll back on
        error. A task cancelled inside the block gives its connection back to the pool.
        """
        if self.closed:
            raise DatabaseConnectionError(
                "this AsyncDatabase is closed", suggestion="open a new one with moltres.async_connect(...)"
            )
        shared = await self._shared()
        if shared is not None:
            async with shared.lock.hold():
                yield shared.connection
            return
        async with contextlib.AsyncExitStack() as stack:
            try:
                conn = await stack.enter_async_context(self.engine.begin() if write else self.engine.connect())
            except sa.exc.DBAPIError as exc:
                raise self.state.fail(exc) from None
            except OSError as exc:  # asyncpg and aiomysql report a refused connection as they get it
                raise self._unreachable(exc) from None
            yield conn

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """Run the block in one transaction (a SAVEPOINT when one is already open)."""
        shared = await self._shared()
        if shared is None:
            async with self.connection(write=True) as conn:
                token = self._tx.set(_Shared(conn))
                try:
                    yield conn
                finally:
                    self._tx.reset(token)
            return
        conn = shared.connection
        async with shared.lock.hold():
            nested = await conn.run_sync(open_savepoint, self.state)
        token = self._tx.set(shared)
        try:
            yield conn
        except BaseException:
            async with shared.lock.hold():
                if nested.is_active:
                    await conn.run_sync(lambda _: nested.rollback())
            raise
        else:
            async with shared.lock.hold():
                if nested.is_active:
                    await conn.run_sync(lambda _: nested.commit())
        finally:
            self._tx.reset(token)

    def _unreachable(self, exc: OSError) -> DatabaseConnectionError:
        return DatabaseConnectionError(
            f"could not connect to {self.state.dialect_name}: {exc}",
            suggestion="check that the server is running and reachable; the operation can be retried",
        )

    def _from_driver(self, exc: BaseException) -> bool:
        """Whether `exc` is the driver's own error class (one SQLAlchemy let through unwrapped)."""
        return type(exc).__module__.split(".")[0] == self.engine.dialect.driver

    async def _stoppable(self, conn: AsyncConnection, step: Awaitable[T]) -> T:
        """Await one database step; if the task is cancelled meanwhile, stop the statement first.

        Most drivers stop a running statement when their task is cancelled. aiosqlite cannot
        (its statement runs on a thread), so for it the step runs shielded, the dialect
        interrupts the statement, and the connection goes back to the pool as soon as it is
        free, instead of when the statement would have finished.
        """
        rules = self.state.rules
        if not rules.interrupts_on_cancel:
            return await step
        raw = (await conn.get_raw_connection()).dbapi_connection
        running = asyncio.ensure_future(step)
        try:
            return await asyncio.shield(running)
        except asyncio.CancelledError:
            if not running.done():
                rules.interrupt(raw)
                await asyncio.wait([running])
            if not running.cancelled():
                running.exception()  # the interrupted statement's error is expected: mark it seen
            raise

    async def _run_sync(self, conn: AsyncConnection, work: Callable[..., T], *args: Any) -> T:
        return await self._stoppable(conn, conn.run_sync(work, *args))

    async def atomic(self, work: Callable[..., T], *args: Any) -> T:
        """Run ``work(connection, *args)`` on a sync view of a connection, all or nothing."""
        try:
            shared = await self._shared()
            if shared is not None:
                async with shared.lock.hold():
                    return await self._run_sync(shared.connection, within, self.state, work, *args)
            async with self.connection(write=True) as conn:
                return await self._run_sync(conn, work, *args)
        except sa.exc.DBAPIError as exc:
            raise self.state.fail(exc) from None

    async def in_thread(self, work: Callable[..., T], *args: Any) -> T:
        """Run ``work(connection, *args)`` on a worker thread, on a sync view of one connection.

        For work that spends its time in Python between statements, such as loading a file
        (see :class:`_ThreadBridge`): inside ``run_sync`` that time would be taken from the
        event loop. The connection is one for writing (committed at the end, rolled back on
        error), or the open transaction's, or the one we were given; on those, the work makes
        itself atomic (``Executor.atomic``, SAVEPOINTs) as it would on a sync ``Database``. A
        cancelled task stops the work and waits for it to unwind before the connection is
        given back.
        """
        try:
            async with self.connection(write=True) as conn:
                bridge = _ThreadBridge(
                    asyncio.get_running_loop(), self.state.rules, (await conn.get_raw_connection()).dbapi_connection
                )
                context = contextvars.copy_context()
                job = asyncio.get_running_loop().run_in_executor(
                    None, lambda: context.run(bridge.run, work, conn.sync_connection, *args)
                )
                try:
                    return await asyncio.shield(job)
                except asyncio.CancelledError:
                    bridge.cancel()
                    while not job.done():
                        with contextlib.suppress(asyncio.CancelledError):  # the connection is still in use
                            await asyncio.wait([job])
                    if not job.cancelled():
                        job.exception()  # the unwound work's error is expected: mark it seen
                    raise
        except sa.exc.DBAPIError as exc:
            raise self.state.fail(exc) from None

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """Run ``work(connection, *args)`` on a sync view of a connection for reading."""
        try:
            async with self.connection() as conn:
                return await self._run_sync(conn, work, *args)
        except sa.exc.DBAPIError as exc:
            raise self.state.fail(exc) from None

    # -------------------------------------------------------------------------------- queries

    async def compile(self, plan: p.Plan, dialect: str | None = None) -> tuple[CompiledQuery, dict[str, Any]]:
        """Compile a plan, reflecting the tables it reads on a pooled connection if needed."""
        return await self.run(prepare_on, self.state, plan, dialect)

    async def fetch_all(self, plan: p.Plan, *, timeout: float | None = None) -> Rows:
        """Run a query and return every row as a dict."""
        timeout = self.state.timeout(timeout)
        if timeout is None and self.runs_direct():
            compiled, params = await self._prepared(plan)
            driver = self.state.driver_statement(compiled)
            if driver is not None:
                return await self._fetch_direct(compiled, driver, params)
        return await self.run(fetch_rows, self.state, plan, timeout)

    # Reads outside any transaction skip SQLAlchemy's Connection as the sync executor's do
    # (see DriverStatement): no BEGIN, no ROLLBACK, no Row objects, one greenlet. The sync
    # executor's own code runs them, on the async engine's sync face, inside that greenlet.

    @functools.cached_property
    def _direct(self) -> Executor:
        """The sync executor that runs direct reads on this engine (inside a greenlet)."""
        return Executor(self.engine.sync_engine, state=self.state, owns_engine=False)

    def runs_direct(self) -> bool:
        """Whether point reads may take the sync executor's direct path (see :meth:`Executor.runs_direct`)."""
        if self.closed or self._connection is not None or self._session is not None or self._tx.get() is not None:
            return False
        return self._direct.runs_direct()  # nothing watches the engine's statements

    async def _prepared(self, plan: p.Plan) -> tuple[CompiledQuery, dict[str, Any]]:
        """Compile a plan on the loop when the caches hold all it needs, else with a connection."""
        try:
            return self.state.prepare(plan, _offline)
        except _NeedsConnection:
            return await self.compile(plan)

    async def _fetch_direct(self, compiled: CompiledQuery, driver: DriverStatement, params: dict[str, Any]) -> Rows:
        """The sync executor's direct read, in a greenlet; a cancelled task stops it there.

        The cancellation reaches the read as an exception at the driver call it waits on:
        ``Executor._fetch_direct`` interrupts the statement where the driver cannot stop it
        itself (aiosqlite) and gives the connection back, or throws the connection away.
        """
        view = self._direct

        def read() -> Rows:
            try:
                fairy = view._checkout()
            except OSError as exc:  # asyncpg and aiomysql report a refused connection as they get it
                raise self._unreachable(exc) from None
            return view._fetch_direct(compiled, driver, params, fairy)

        return await _in_greenlet(read)

    async def stream(
        self, plan: p.Plan, batch_size: int, *, timeout: float | None = None, named: bool = True
    ) -> AsyncGenerator[Any, None]:
        """Run a query with a server-side cursor and yield lists of at most `batch_size` rows.

        Rows are dicts, or tuples in column order if not `named`.

        The connection is held until the iteration ends; close the iterator early with
        ``contextlib.aclosing`` to give it back at once.
        """
        timeout = self.state.timeout(timeout)
        async with self.connection() as conn:
            compiled, params = await conn.run_sync(prepare_on, self.state, plan)
            limit = contextlib.ExitStack()
            try:
                await conn.run_sync(lambda sync: limit.enter_context(self.state.rules.statement_timeout(sync, timeout)))
                try:
                    result = await self._stoppable(
                        conn, conn.stream(compiled.statement, params, execution_options={"yield_per": batch_size})
                    )
                    try:
                        while part := await self._stoppable(conn, result.fetchmany(batch_size)):
                            yield shape_rows(compiled.columns, part, named)
                    finally:
                        await result.close()
                finally:
                    await conn.run_sync(lambda _: limit.close())
            except Exception as exc:
                # asyncpg's server-side cursors raise the driver's own errors, which SQLAlchemy
                # does not wrap (a statement timeout among them): translate those too
                if isinstance(exc, sa.exc.DBAPIError) or self._from_driver(exc):
                    raise self.state.fail(exc, sql=compiled.sql, timeout=timeout) from None
                raise

    async def execute(
        self, statement: Any, params: Any = None, *, timeout: float | None = None, write: bool = True
    ) -> Outcome:
        """Run one statement (DDL, DML or text); return its affected row count and any rows."""
        async with self.connection(write=write) as conn:
            return await self._run_sync(conn, run_statement, self.state, statement, params, self.state.timeout(timeout))

    async def close(self) -> None:
        """Release the engine's connections if this executor created the engine."""
        if self.closed:
            return
        self.closed = True
        if self._owns_engine:
            await self.engine.dispose()
