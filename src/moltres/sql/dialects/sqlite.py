"""SQLite: the SQL it speaks and how moltres sets up its connections.

SQLite lacks a few functions the other databases have (REGEXP, sample standard deviation);
moltres registers small, deterministic implementations on each connection so the same
DataFrame code runs everywhere. pysqlite's own transaction handling is replaced by
SQLAlchemy's documented recipe so that DDL and SAVEPOINTs really roll back.
"""

from __future__ import annotations

import contextlib
import math
import re
import time
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import sqlalchemy as sa

from moltres.expressions import nodes as n
from moltres.sql.compiler import Compiler, Element, Relation
from moltres.sql.dialects.base import ErrorKind, Rules, insert_columns

__all__ = ["RULES", "SQLiteCompiler", "SQLiteRules"]

_TRUNC: dict[n.DatePart, tuple[str, ...]] = {
    n.DatePart.YEAR: ("start of year",),
    n.DatePart.MONTH: ("start of month",),
    n.DatePart.DAY: ("start of day",),
}
_TRUNC_FORMAT = {
    n.DatePart.HOUR: "%Y-%m-%d %H:00:00",
    n.DatePart.MINUTE: "%Y-%m-%d %H:%M:00",
    n.DatePart.SECOND: "%Y-%m-%d %H:%M:%S",
}


class SQLiteCompiler(Compiler):
    """SQLite's SQL."""

    name = "sqlite"
    simple_functions: ClassVar[dict[type[n.Node], str]] = {
        **Compiler.simple_functions,
        n.Length: "length",
    }
    unsupported: ClassVar[dict[type[n.Node], str]] = {
        n.Split: "SQLite has no arrays: use instr()/substr() through F.substring, or PostgreSQL/DuckDB",
    }

    def visit_Extract(self, node: n.Extract, *, part: n.DatePart, arg: Element) -> Element:
        if part is n.DatePart.QUARTER:
            month = sa.cast(sa.func.strftime("%m", arg), sa.Integer)
            return sa.cast((month + 2) / 3, sa.Integer)
        return super().visit_Extract(node, part=part, arg=arg)

    def visit_Div(self, node: n.Div, *, left: Element, right: Element) -> Element:
        return sa.cast(left, sa.Double) / right

    def visit_DateAdd(self, node: n.DateAdd, *, arg: Element, days: Element) -> Element:
        return sa.func.date(arg, sa.func.printf("%+d days", days), type_=sa.Date)

    def visit_DateDiff(self, node: n.DateDiff, *, end: Element, start: Element) -> Element:
        return sa.cast(sa.func.julianday(sa.func.date(end)) - sa.func.julianday(sa.func.date(start)), sa.Integer)

    def visit_DateTrunc(self, node: n.DateTrunc, *, unit: n.DatePart, arg: Element) -> Element:
        if unit in _TRUNC:
            return sa.func.date(arg, *_TRUNC[unit], type_=sa.Date)
        if unit in _TRUNC_FORMAT:
            return sa.func.strftime(_TRUNC_FORMAT[unit], arg)
        # quarter: back to the first month of the quarter
        month = sa.cast(sa.func.strftime("%m", arg), sa.Integer)
        return sa.func.date(arg, "start of month", sa.func.printf("-%d months", (month - 1) % 3), type_=sa.Date)

    def visit_JsonExtract(self, node: n.JsonExtract, *, arg: Element, path: str) -> Element:
        # json_extract gives SQL values (5, not '5'; 1 for true): text, as on the other databases
        kind = sa.func.json_type(arg, path)
        text = sa.cast(sa.func.json_extract(arg, path), sa.Text)
        return sa.type_coerce(sa.case((kind.in_(["true", "false"]), kind), else_=text), sa.String)

    def visit_Cast(self, node: n.Cast, *, arg: Element, to: str) -> Element:
        # CAST(x AS DATE) has NUMERIC affinity in SQLite ('2024-02-29' becomes 2024)
        from moltres.sql.types import parse_type

        target = parse_type(to)
        if isinstance(target, sa.DateTime):
            return sa.func.datetime(arg, type_=sa.DateTime)
        if isinstance(target, sa.Date):
            return sa.func.date(arg, type_=sa.Date)
        if isinstance(target, sa.Time):
            return sa.func.time(arg, type_=sa.Time)
        return super().visit_Cast(node, arg=arg, to=to)

    def visit_CollectList(self, node: n.CollectList, *, arg: Element) -> Element:
        return sa.func.json_group_array(arg, type_=sa.JSON)

    def visit_RegexpExtract(self, node: n.RegexpExtract, *, arg: Element, pattern: Element) -> Element:
        return sa.func.moltres_regexp_extract(arg, pattern, type_=sa.String)

    def visit_Power(self, node: n.Power, *, base: Element, exponent: Element) -> Element:
        return sa.func.pow(base, exponent, type_=sa.Float)

    def sample_predicate(self, fraction: float, seed: int | None) -> Element:
        if seed is not None:
            return super().sample_predicate(fraction, seed)
        scale = 1_000_000
        return (sa.func.abs(sa.func.random()) % scale) < int(fraction * scale)

    def explode(self, rel: Relation, column: str, alias: str) -> Relation:
        sub = rel.select.subquery(self._fresh("x"))
        each = sa.func.json_each(sub.c[column]).table_valued("value").alias(self._fresh("e"))
        columns: dict[str, Element] = {c.name: c for c in sub.c if c.name != column}
        columns[alias] = each.c.value
        labeled = [expr.label(name) for name, expr in columns.items()]
        select = sa.select(*labeled).select_from(sub.join(each, sa.true()))
        return Relation(select, columns, source=rel.source)


class _StdDev:
    """Sample standard deviation, for SQLite, which has none (Welford's method)."""

    def __init__(self) -> None:
        self.count = 0
        self.mean = 0.0
        self.m2 = 0.0

    def step(self, value: float | None) -> None:
        if value is None:
            return
        self.count += 1
        delta = value - self.mean
        self.mean += delta / self.count
        self.m2 += delta * (value - self.mean)

    def finalize(self) -> float | None:
        if self.count < 2:
            return None
        return math.sqrt(self.m2 / (self.count - 1))


def _regexp(pattern: str | None, value: str | None) -> bool | None:
    if pattern is None or value is None:
        return None
    return re.search(pattern, str(value)) is not None


def _regexp_extract(value: str | None, pattern: str | None) -> str | None:
    if pattern is None or value is None:
        return None
    match = re.search(pattern, str(value))
    return match.group(0) if match else None


_MATH = {"sqrt": math.sqrt, "floor": math.floor, "ceil": math.ceil, "pow": math.pow, "power": math.pow}


class _AiosqliteCalls:
    """The sqlite3 connection under aiosqlite, with its methods called on aiosqlite's thread.

    aiosqlite owns a ``sqlite3.Connection`` on a worker thread and offers no public call for
    ``create_aggregate``; SQLAlchemy's own adapter queues work on that thread the same way
    (its ``isolation_level`` setter). Calls wait through ``run_async``, so they work wherever
    SQLAlchemy runs sync code for an async engine (connect events, ``run_sync``).
    """

    __slots__ = ("_adapted",)

    def __init__(self, adapted: Any) -> None:
        self._adapted = adapted

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> None:
            def on_thread(raw: Any) -> None:
                result = getattr(raw, name)(*args, **kwargs)
                if hasattr(result, "fetchall"):
                    # finish the statement now: sqlite3 refuses to (re)define functions while
                    # a statement is active, and the cursor would outlive this call
                    result.close()

            self._adapted.run_async(lambda aio: aio._execute(on_thread, aio._conn))

        return call


class _AiosqliteRead:
    """A cursor for one direct read under aiosqlite: the whole read in one trip to its thread.

    Through SQLAlchemy's adapter, creating a cursor, executing, fetching and closing are one
    trip each to the thread aiosqlite runs sqlite3 on (and back to the event loop); a
    primary-key lookup spends most of its time in those trips. Here ``execute`` runs all of
    it on that thread at once, as aiosqlite's own ``execute_fetchall`` does, and keeps the
    description too.
    """

    __slots__ = ("_adapted", "_rows", "description")

    def __init__(self, adapted: Any) -> None:
        self._adapted = adapted
        self._rows: list[Any] = []
        self.description: Any = None

    def execute(self, sql: str, parameters: Any = ()) -> None:
        def on_thread(raw: Any) -> tuple[list[Any], Any]:
            cursor = raw.execute(sql, parameters)
            try:
                return cursor.fetchall(), cursor.description
            finally:
                cursor.close()

        self._rows, self.description = self._adapted.run_async(lambda aio: aio._execute(on_thread, aio._conn))

    def fetchall(self) -> list[Any]:
        return self._rows

    def close(self) -> None:
        self._rows = []


def sqlite3_of(dbapi_connection: Any) -> Any:
    """The ``sqlite3`` connection behind a DB-API connection, callable from sync code.

    Under aiosqlite, SQLAlchemy hands out an adapter; its sqlite3 connection lives on another
    thread, so calls are relayed there.
    """
    assert dbapi_connection is not None
    if isinstance(dbapi_connection, sa.engine.interfaces.AdaptedConnection):
        return _AiosqliteCalls(dbapi_connection)
    return dbapi_connection


class SQLiteRules(Rules):
    """SQLite's runtime behaviour."""

    name = "sqlite"
    compiler_class = SQLiteCompiler
    ctas_keeps_types = False

    def on_connect(self, dbapi_connection: Any) -> None:
        # hand transaction control to SQLAlchemy (its documented pysqlite recipe)
        dbapi_connection.isolation_level = None
        self.register_functions(dbapi_connection)
        sqlite3_of(dbapi_connection).execute("PRAGMA foreign_keys = ON")

    def idle_after_read(self, dbapi_connection: Any) -> bool:
        # sqlite3's flag; aiosqlite's connection (under SQLAlchemy's adapter) mirrors it
        raw = getattr(dbapi_connection, "driver_connection", dbapi_connection)
        return getattr(raw, "in_transaction", True) is False

    def read_cursor(self, dbapi_connection: Any) -> Any:
        if isinstance(dbapi_connection, sa.engine.interfaces.AdaptedConnection):
            return _AiosqliteRead(dbapi_connection)
        return dbapi_connection.cursor()

    def register_functions(self, dbapi_connection: Any) -> None:
        dbapi_connection = sqlite3_of(dbapi_connection)
        dbapi_connection.create_function("regexp", 2, _regexp, deterministic=True)
        dbapi_connection.create_function("moltres_regexp_extract", 2, _regexp_extract, deterministic=True)
        dbapi_connection.create_aggregate("stddev_samp", 1, _StdDev)
        try:
            dbapi_connection.execute("SELECT sqrt(4)")
        except Exception:
            for name, func in _MATH.items():
                dbapi_connection.create_function(name, -1, lambda *a, f=func: None if None in a else f(*a))
        # SQLAlchemy's pysqlite dialect registers floor() as math.floor, which fails on NULL
        dbapi_connection.create_function("floor", 1, lambda v: None if v is None else math.floor(v), deterministic=True)

    def configure_engine(self, engine: sa.Engine) -> None:
        @sa.event.listens_for(engine, "begin")
        def _begin(conn: sa.Connection) -> None:
            conn.exec_driver_sql("BEGIN")

    def begin_if_needed(self, connection: sa.Connection) -> None:
        # pysqlite's own transaction handling (engines moltres did not set up, e.g. a session's)
        # issues BEGIN only before DML: a SAVEPOINT first would be the outermost transaction,
        # and releasing it would commit the caller's work behind their back
        if not connection.in_transaction():
            connection.begin()  # as autobegin would; on engines moltres set up, this emits BEGIN
        raw = connection.connection.driver_connection  # sqlite3's, or aiosqlite's (which mirrors it)
        if raw is not None and getattr(raw, "in_transaction", True) is False:
            connection.exec_driver_sql("BEGIN")

    def classify_message(self, message: str) -> str:
        text = message.lower()
        if "no such table" in text:
            return ErrorKind.TABLE_NOT_FOUND
        if "no such column" in text or "has no column named" in text:
            return ErrorKind.COLUMN_NOT_FOUND
        if "interrupted" in text:
            return ErrorKind.TIMEOUT
        if "database is locked" in text:
            return ErrorKind.DEADLOCK
        if "unable to open database" in text:
            return ErrorKind.CONNECTION
        if "syntax error" in text:
            return ErrorKind.SYNTAX
        if "constraint failed" in text:
            return ErrorKind.CONSTRAINT
        return ErrorKind.OTHER

    # aiosqlite runs statements on its own thread, which a cancelled task does not stop
    interrupts_on_cancel = True

    def interrupt(self, dbapi_connection: Any) -> None:
        # sqlite3_interrupt is the one call that is safe from any thread; it is made here, not
        # queued behind the running statement on aiosqlite's thread
        raw = dbapi_connection
        if isinstance(raw, sa.engine.interfaces.AdaptedConnection):
            raw = raw.driver_connection._conn
        raw.interrupt()

    @contextlib.contextmanager
    def statement_timeout(self, connection: sa.Connection, seconds: float | None) -> Iterator[None]:
        if not seconds:
            yield
            return
        raw = sqlite3_of(connection.connection.dbapi_connection)
        deadline = time.monotonic() + seconds
        raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)
        try:
            yield
        finally:
            raw.set_progress_handler(None, 0)

    def insert_arrow(self, connection: sa.Connection, table: sa.Table, columns: Sequence[str], batch: Any) -> None:
        # SQLite keeps dates and times as ISO text and booleans as 0/1 (SQLAlchemy's formats):
        # converting whole Arrow columns is far cheaper than a bind processor per value
        import pyarrow as pa
        import pyarrow.compute as pc

        values: list[list[Any]] = []
        ready: list[bool] = []
        for i in range(batch.num_columns):
            array = batch.column(i)
            kind = array.type
            done = True
            if pa.types.is_timestamp(kind):
                array = pc.strftime(array.cast(pa.timestamp("us", tz=kind.tz)), format="%Y-%m-%d %H:%M:%S")
            elif pa.types.is_date(kind):
                array = array.cast(pa.string())
            elif pa.types.is_boolean(kind):
                array = array.cast(pa.int8())
            elif pa.types.is_decimal(kind) or pa.types.is_floating(kind):
                array = array.cast(pa.float64())
            else:
                done = False
            values.append(array.to_pylist())
            ready.append(done)
        insert_columns(connection, table, columns, values, ready)


RULES = SQLiteRules()
