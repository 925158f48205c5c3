"""The synchronous executor: connections, transactions, compiled-statement cache, execution.

Everything that decides *what* to run is shared with the async executor
(:mod:`moltres.engine.async_executor`): :class:`QueryState` compiles plans and caches the
result by plan shape, and multi-statement work lives in :mod:`moltres.engine.operations`
as plain functions over a ``Connection``. This module only adds the sync I/O loop.
"""

from __future__ import annotations

import contextlib
import contextvars
import gc
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa

from moltres.engine.catalog import BoundCatalog, ReflectingCatalog
from moltres.engine.errors import translate_error
from moltres.engine.parking import ConnectionParking, Lease, check_in, cursor_of
from moltres.logical import plan as p
from moltres.logical.rewrites import parameterize
from moltres.sql.compiler import CompiledQuery, param_names
from moltres.sql.dialects import rules_for
from moltres.sql.dialects.base import Rules
from moltres.utils.collector import MANY
from moltres.utils.exceptions import CompilationError, MoltresError

__all__ = [
    "Connect",
    "DriverWrite",
    "Executor",
    "Outcome",
    "QueryState",
    "Rows",
    "direct_form",
    "explain_plan",
    "fetch_rows",
    "on",
    "one_statement",
    "open_savepoint",
    "prepare_on",
    "row_shaper",
    "run_statement",
    "savepoint_needed",
    "schema_change",
    "shape_rows",
    "within",
]

T = TypeVar("T")
Rows = list[dict[str, Any]]
#: Opens (or lends) a connection for reflection: ``with connect() as conn: ...``
Connect = Callable[[], contextlib.AbstractContextManager[sa.Connection]]

_CACHE_SIZE = 1024
_STREAM_CHUNK = 2048  # rows fetched from a cursor at a time while filling a streamed batch
_ids = itertools.count()
_SCHEMA_CHANGES: set[Callable[..., Any]] = set()
W = TypeVar("W", bound=Callable[..., Any])


def schema_change(work: W) -> W:
    """Mark a unit of work (for ``atomic``) that runs DDL such as ``CREATE TABLE``.

    Where DDL commits the open transaction by itself (MySQL), a SAVEPOINT around it would be
    gone before its RELEASE; such work joins the open transaction as it is.
    """
    _SCHEMA_CHANGES.add(work)
    return work


def savepoint_needed(rules: Rules, work: Callable[..., Any]) -> bool:
    """Whether ``atomic(work)`` inside an open transaction wraps `work` in a SAVEPOINT.

    Not on DuckDB (no SAVEPOINTs: any error aborts the whole transaction), nor for DDL where
    it commits implicitly (MySQL).
    """
    if not rules.supports_savepoints:
        return False
    return rules.transactional_ddl or work not in _SCHEMA_CHANGES


#: What a one-statement write runs on the driver: SQL text and its parameters in the driver's format.
DriverWrite = tuple[str, Any]
_DIRECT_FORMS: dict[Callable[..., Any], Callable[..., DriverWrite | None]] = {}


def direct_form(form: Callable[..., DriverWrite | None]) -> Callable[[W], W]:
    """Give a unit of work (for ``atomic``) a one-statement form for writes outside a transaction.

    ``form(connect, *args)`` takes the work's arguments (``connect`` lends a connection for
    reflection) and returns the statement's SQL and driver parameters, or None when the work
    needs more than one statement. Outside a transaction the executor then runs that one
    statement on a pooled DB-API connection, committing by itself: no BEGIN and COMMIT
    round trips, no SQLAlchemy Connection. A single statement is atomic on its own.
    """

    def mark(work: W) -> W:
        _DIRECT_FORMS[work] = form
        return work

    return mark


@dataclass(frozen=True)
class Outcome:
    """What a statement did: rows affected, and the rows it returned, if any."""

    rowcount: int
    keys: list[str] = field(default_factory=list)
    rows: Rows = field(default_factory=list)


def shape_rows(keys: Sequence[str], rows: Sequence[Sequence[Any]], named: bool = True) -> Any:
    """Turn result tuples into dicts keyed by column name (or plain tuples if not `named`).

    Example:
        >>> shape_rows(["id", "name"], [(1, "Ada")])
        [{'id': 1, 'name': 'Ada'}]
    """
    if not named:
        return _as_tuples(rows)
    try:
        return row_shaper(tuple(keys), ())(rows)
    except ValueError:  # a row of another width than the keys
        return [dict(zip(keys, row, strict=False)) for row in rows]


_SHAPERS: dict[tuple[Any, ...], Callable[[Sequence[Sequence[Any]]], Rows]] = {}


def row_shaper(
    keys: tuple[str, ...], processors: tuple[tuple[int, Callable[[Any], Any]], ...], named: bool = True
) -> Callable[[Sequence[Sequence[Any]]], Any]:
    """A function turning rows into dicts, with a result processor applied to some columns.

    With ``named=False`` rows stay tuples (in column order); with no processor to apply, the
    driver's own list of tuples is returned as it is.

    It is a generated comprehension (``[{k0: v0, k1: p1(v1)} for v0, v1 in rows]``), more than
    twice as fast as ``dict(zip(keys, row))`` per row; names and processors are bound as
    variables, never written into the source. Shapers are built once per column list.

    Over more than a few hundred rows the cyclic garbage collector is paused while the dicts
    are made: they hold no cycles, yet each one counts toward the collector's allocation
    threshold, and the collections they trigger rescan every young driver tuple still alive
    (streaming 100,000 rows from PostgreSQL: about three times faster). The collector is
    switched back on only if it was on.

    Example:
        >>> row_shaper(("id", "name"), ((1, str.upper),))([(1, "ada")])
        [{'id': 1, 'name': 'ADA'}]
        >>> row_shaper(("id", "name"), ((1, str.upper),), named=False)([(1, "ada")])
        [(1, 'ADA')]
    """
    cache_key = (keys, processors, named)
    shaper = _SHAPERS.get(cache_key)
    if shaper is None:
        if not named and not processors:
            return _as_tuples
        if not keys:
            return lambda rows: [{} for _ in rows]
        convert = dict(processors)
        namespace: dict[str, Any] = {f"k{i}": key for i, key in enumerate(keys)}
        namespace.update({f"p{i}": fn for i, fn in convert.items()})
        values = [f"p{i}(v{i})" if i in convert else f"v{i}" for i in range(len(keys))]
        names = ", ".join(f"v{i}" for i in range(len(keys)))
        namespace.update(isenabled=gc.isenabled, disable=gc.disable, enable=gc.enable, few=MANY)
        if named:
            comprehension = "[{" + ", ".join(f"k{i}: {v}" for i, v in enumerate(values)) + f"}} for ({names},) in rows]"
        else:
            comprehension = f"[({', '.join(values)},) for ({names},) in rows]"
        # keys and processors are variables of the namespace, never part of the source text
        source = (
            "def shape(rows):\n"
            "    if len(rows) < few or not isenabled():\n"
            f"        return {comprehension}\n"
            "    disable()\n"
            "    try:\n"
            f"        return {comprehension}\n"
            "    finally:\n"
            "        enable()\n"
        )
        exec(source, namespace)
        shaper = namespace["shape"]
        if len(_SHAPERS) >= _CACHE_SIZE:
            _SHAPERS.clear()
        _SHAPERS[cache_key] = shaper
    return shaper


def _as_tuples(rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """The driver's rows as a list of tuples (DB-API drivers already fetch tuples)."""
    if isinstance(rows, list) and (not rows or type(rows[0]) is tuple):
        return rows
    return [tuple(row) for row in rows]


class DriverStatement:
    """A compiled query in the driver's own terms: SQL text, parameter order, result types.

    Reads outside any transaction skip SQLAlchemy's per-execution work (a Connection, its
    transaction, the compiled-cache lookup, Row objects): they run this SQL on a pooled DB-API
    connection and apply the same bind and result processors SQLAlchemy would. Only
    statements that need nothing more qualify (see :meth:`of`).
    """

    __slots__ = ("_by_name", "_processors", "_slots", "_types", "dialect", "sql")

    def __init__(self, sql: str, slots: list[tuple[str, Any, Any]], by_name: bool, types: list[Any], dialect: Any):
        self.sql = sql
        self._slots = slots
        self._by_name = by_name
        self._types = types
        self._processors: dict[tuple[Any, ...], Callable[[Sequence[Sequence[Any]]], Any]] = {}
        self.dialect = dialect

    @classmethod
    def of(cls, statement: Any, dialect: sa.engine.Dialect, width: int = 0) -> DriverStatement | None:
        """The driver form of a Core `statement` returning `width` columns, or None when it needs SQLAlchemy.

        Expanding parameters (``IN`` lists) and escaped parameter names are rendered per
        execution by SQLAlchemy, so those statements keep going through it.
        """
        form = statement.compile(dialect=dialect)
        if form.post_compile_params or form.literal_execute_params or form.escaped_bind_names:
            return None
        result_columns = form._result_columns
        if len(result_columns) != width:
            return None
        names = form.positiontup if dialect.positional else list(form.bind_names.values())
        if names is None:
            return None
        processors = form._bind_processors
        slots = []
        for name in names:
            bind = form.binds[name]
            # moltres's own parameters (p0, p1, ...) take this run's values; the others (LIMIT,
            # constants SQLAlchemy bound itself) keep the value compiled into the statement
            own = name if name.startswith("p") and name[1:].isdigit() else None
            slots.append((name if own is None else own, None if own else bind.effective_value, processors.get(name)))
        return cls(form.string, slots, not dialect.positional, [c.type for c in result_columns], dialect)

    def args(self, params: dict[str, Any]) -> Any:
        """The parameters in the driver's format: a tuple (positional) or a dict (named)."""
        values = []
        for name, fixed, processor in self._slots:
            value = params[name] if fixed is None and name in params else fixed
            values.append(processor(value) if processor is not None and value is not None else value)
        if self._by_name:
            return {name: value for (name, _, _), value in zip(self._slots, values, strict=True)}
        return tuple(values)

    def execute(self, cursor: Any, params: dict[str, Any]) -> None:
        """Run the statement on a DB-API cursor with these moltres parameter values."""
        args = self.args(params)
        if args or self._by_name:  # named styles keep their argument: '%%' in the SQL means '%'
            cursor.execute(self.sql, args)
        else:  # no parameters: the driver's simple path (DuckDB prepares statements given any)
            cursor.execute(self.sql)

    def fetch(self, cursor: Any, params: dict[str, Any]) -> tuple[Sequence[Sequence[Any]], Any]:
        """Run the statement on `cursor` and fetch every row, with the description if :meth:`dicts` needs it."""
        self.execute(cursor, params)
        rows = cursor.fetchall()
        return rows, (cursor.description if self.known_shaper() is None else None)

    def dicts(self, keys: Sequence[str], description: Any, rows: Sequence[Sequence[Any]]) -> Rows:
        """Rows from :meth:`fetch` as dicts, converted by the column types."""
        shaper = self.known_shaper() if description is None else None
        shaped: Rows = self.shape(keys, description, rows) if shaper is None else shaper(rows)
        return shaped

    def shape(self, keys: Sequence[str], description: Any, rows: Sequence[Sequence[Any]], named: bool = True) -> Any:
        """Rows from the driver as dicts (tuples if not `named`), converted by the column types as SQLAlchemy would."""
        coltypes = tuple(d[1] for d in description) if description else ()
        shaper = self._processors.get((coltypes, named))
        if shaper is None:
            active = []
            for i, (type_, coltype) in enumerate(zip(self._types, coltypes, strict=False)):
                processor = type_._cached_result_processor(self.dialect, coltype)
                if processor is not None:
                    active.append((i, processor))
            shaper = self._processors[coltypes, named] = row_shaper(tuple(keys), tuple(active), named)
        self._processors[named,] = shaper
        return shaper(rows)

    def known_shaper(self, named: bool = True) -> Callable[[Sequence[Sequence[Any]]], Any] | None:
        """The shaper :meth:`shape` used last time, if any.

        One SQL text run on one schema returns columns of the same types every time (a schema
        change clears the compiled cache), so a read that has run before skips the cursor's
        ``description``, which psycopg builds anew for every result (about 10 µs).
        """
        return self._processors.get((named,))


class _Statement:
    """Heads the cache key of a statement cached by :meth:`QueryState.prepare_statement`."""


class QueryState:
    """What sync and async execution share: dialect rules, reflection and compiled SQL.

    Compiled statements are cached by plan *shape* (the plan with literal values taken out),
    so running the same query with new values costs one walk of the plan.
    """

    def __init__(self, dialect: sa.engine.Dialect, *, query_timeout: float | None = None) -> None:
        self.dialect = dialect
        self.rules: Rules = rules_for(dialect.name)
        self.query_timeout = query_timeout
        self._compiled: dict[Any, Any] = {}  # CompiledQuery by plan shape, DML statements by _Statement keys
        self._driver: dict[int, tuple[CompiledQuery, DriverStatement | None]] = {}
        self._tables = ReflectingCatalog(self._no_connection, self.rules.reflect)

    @staticmethod
    @contextlib.contextmanager
    def _no_connection() -> Iterator[sa.Connection]:  # pragma: no cover - replaced per call
        raise RuntimeError("no connection")
        yield

    @property
    def dialect_name(self) -> str:
        """The database's name: ``sqlite``, ``postgresql``, ``mysql``, ``duckdb``, ..."""
        return self.rules.name if self.rules.name != "default" else self.dialect.name

    def catalog(self, connect: Connect) -> BoundCatalog:
        """The shared reflection cache, reached through `connect` on a miss."""
        return self._tables.bind(connect)

    def timeout(self, seconds: float | None) -> float | None:
        """The limit for one statement: `seconds`, or the database's default when None."""
        return seconds if seconds is not None else self.query_timeout

    def prepare(
        self, plan: p.Plan, connect: Connect, dialect: str | None = None
    ) -> tuple[CompiledQuery, dict[str, Any]]:
        """Compile a plan (or reuse the statement compiled for its shape) and bind its values.

        Args:
            plan: The plan to compile.
            connect: Lends a connection for reflecting tables the cache does not know yet.
            dialect: Compile for another database instead (not cached), e.g. to show its SQL.
        """
        shape, values = parameterize(plan)
        if dialect is not None and dialect != self.dialect_name:
            from moltres.sql.dialects import compiler_for

            other = self._compile(compiler_for(dialect), plan, connect)
            return other, other.params(values)
        compiled: CompiledQuery | None = self._compiled.get(shape)
        if compiled is None:
            compiled = self._compile(self.rules.compiler_class(self.dialect), plan, connect)
            self._remember(shape, compiled, compiled.param_count, len(values))
        return compiled, compiled.params(values)

    def prepare_statement(
        self, key: Any, nodes: tuple[Any, ...], build: Callable[[Any], Any]
    ) -> tuple[Any, dict[str, Any]]:
        """A statement built from expression `nodes` (an UPDATE, a DELETE), cached like queries.

        `build(compiler)` compiles the nodes in order on a fresh compiler, so their literals
        become parameters ``p0``, ``p1``, ... in the order :func:`parameterize` takes their
        values; the same `key` and node shapes with new values reuse the statement (and
        SQLAlchemy's compiled form of it, whose cache key the statement object memoizes).

        Example:
            >>> from moltres.expressions import nodes as n
            >>> state = db.executor.state
            >>> def build(compiler):
            ...     return compiler.compile_expression(nodes_[0], {"a": sa.column("a")}, unique=False)
            >>> nodes_ = (n.Lit(1, int),)
            >>> first, params = state.prepare_statement("doc", nodes_, build)
            >>> nodes_ = (n.Lit(2, int),)
            >>> again, params = state.prepare_statement("doc", nodes_, build)
            >>> again is first, params
            (True, {'p0': 2})
        """
        shape, values = parameterize(nodes)  # type: ignore[arg-type]  # a tuple of nodes walks like one
        cache_key = (_Statement, key, shape)
        statement = self._compiled.get(cache_key)
        if statement is None:
            compiler = self.rules.compiler_class(self.dialect)
            statement = build(compiler)
            self._remember(cache_key, statement, compiler._counter, len(values))
        return statement, dict(zip(param_names(len(values)), values, strict=True))

    def _remember(self, key: Any, compiled: Any, param_count: int, value_count: int) -> None:
        """Cache what was compiled for `key`, once sure it binds one parameter per value."""
        if param_count != value_count:  # pragma: no cover - a compiler bug, not user error
            raise CompilationError(
                f"internal error: {param_count} parameters compiled for {value_count} values",
                suggestion="please report this statement to the moltres developers",
            )
        if len(self._compiled) >= _CACHE_SIZE:
            self._compiled.clear()
            self._driver.clear()
        self._compiled[key] = compiled

    def driver_statement(self, compiled: CompiledQuery) -> DriverStatement | None:
        """The driver form of a compiled query (see :class:`DriverStatement`), built once."""
        entry = self._driver.get(id(compiled))
        if entry is None or entry[0] is not compiled:
            entry = (compiled, DriverStatement.of(compiled.statement, self.dialect, len(compiled.columns)))
            self._driver[id(compiled)] = entry
        return entry[1]

    def memo(self, key: Any, build: Callable[[], T]) -> T:
        """A value built once per `key`, kept with the compiled statements until a schema change.

        Example:
            >>> db.executor.state.memo(("doc", 1), lambda: "built")
            'built'
            >>> db.executor.state.memo(("doc", 1), lambda: "built again")
            'built'
        """
        cache_key = (_Statement, key)
        found = self._compiled.get(cache_key, _Statement)
        if found is _Statement:
            found = build()
            if len(self._compiled) >= _CACHE_SIZE:
                self._compiled.clear()
                self._driver.clear()
            self._compiled[cache_key] = found
        return found  # type: ignore[no-any-return]

    def driver_write(self, statement: Any, params: dict[str, Any]) -> DriverWrite | None:
        """A cached UPDATE or DELETE (see :meth:`prepare_statement`) in the driver's terms, or None."""
        entry = self._driver.get(id(statement))
        if entry is None or entry[0] is not statement:
            entry = (statement, DriverStatement.of(statement, self.dialect))
            self._driver[id(statement)] = entry
        driver = entry[1]
        return None if driver is None else (driver.sql, driver.args(params))

    def _compile(self, compiler: Any, plan: p.Plan, connect: Connect) -> CompiledQuery:
        # compiling reflects tables and probes raw SQL (db.sql) on the database: its errors
        # (a typo in the SQL, a missing parameter) become moltres errors like any other
        try:
            return compiler.compile(plan, self.catalog(connect))  # type: ignore[no-any-return]
        except sa.exc.StatementError as exc:
            raise self.fail(exc, sql=getattr(exc, "statement", None)) from None

    def forget(self, table: str | None = None, schema: str | None = None) -> None:
        """Drop cached reflection and compiled SQL after DDL changed `table` (or anything)."""
        self._tables.invalidate(table, schema)
        self._compiled.clear()
        self._driver.clear()

    def fail(self, exc: BaseException, *, sql: str | None = None, timeout: float | None = None) -> MoltresError:
        """The moltres error for a database exception."""
        return translate_error(exc, self.rules, sql=sql, timeout=timeout)


def on(conn: sa.Connection) -> Connect:
    """Lend `conn` for reflection (it stays open afterwards).

    Example:
        >>> with db.engine.connect() as conn, on(conn)() as same:
        ...     same is conn
        True
    """
    return lambda: contextlib.nullcontext(conn)


# The functions below take a sync Connection; the sync executor calls them directly and the
# async one through AsyncConnection.run_sync, so each decision is written once.


def prepare_on(
    conn: sa.Connection, state: QueryState, plan: p.Plan, dialect: str | None = None
) -> tuple[CompiledQuery, dict[str, Any]]:
    """:meth:`QueryState.prepare`, reflecting through `conn`."""
    return state.prepare(plan, on(conn), dialect)


def fetch_rows(conn: sa.Connection, state: QueryState, plan: p.Plan, timeout: float | None) -> Rows:
    """Run a query on `conn` and return every row as a dict."""
    compiled: CompiledQuery | None = None
    try:
        with state.rules.statement_timeout(conn, timeout):
            # compiling can run the user's SQL (the column probe of db.sql): the limit covers it
            compiled, params = state.prepare(plan, on(conn))
            result = conn.execute(compiled.statement, params)
            shaped: Rows = shape_rows(compiled.columns, result.fetchall())
            return shaped
    except sa.exc.DBAPIError as exc:
        raise state.fail(exc, sql=None if compiled is None else compiled.sql, timeout=timeout) from None


def run_statement(
    conn: sa.Connection, state: QueryState, statement: Any, params: Any, timeout: float | None
) -> Outcome:
    """Run one statement (DDL, DML or text) on `conn`; return its row count and any rows."""
    try:
        with state.rules.statement_timeout(conn, timeout):
            result = conn.execute(statement, params) if params is not None else conn.execute(statement)
            if result.returns_rows:
                keys = list(result.keys())
                return Outcome(result.rowcount, keys, shape_rows(keys, result.fetchall()))
            return Outcome(result.rowcount)
    except sa.exc.DBAPIError as exc:
        raise state.fail(exc, timeout=timeout) from None


def open_savepoint(conn: sa.Connection, state: QueryState) -> sa.NestedTransaction:
    """Begin a SAVEPOINT for a nested ``transaction()`` block on a connection already in one."""
    if not state.rules.supports_savepoints:
        from moltres.utils.exceptions import UnsupportedOperationError

        raise UnsupportedOperationError(
            f"nested transactions need SAVEPOINTs, which {state.dialect_name} does not have",
            suggestion="use one transaction() block; an error inside it rolls the whole block back",
            dialect=state.dialect_name,
        )
    state.rules.begin_if_needed(conn)
    return conn.begin_nested()


def one_statement(work: Callable[..., Any], connect: Connect, args: tuple[Any, ...]) -> DriverWrite | None:
    """The single driver statement `work` comes down to (see :func:`direct_form`), if it is one.

    Inside an open transaction such work runs without a SAVEPOINT: one statement is all or
    nothing by itself. As with SQLAlchemy and Django, a statement that fails there aborts
    the whole transaction on PostgreSQL; a ``transaction()`` block around it (a SAVEPOINT)
    lets the caller catch its error and carry on.
    """
    form = _DIRECT_FORMS.get(work)
    return None if form is None else form(connect, *args)


def within(conn: sa.Connection, state: QueryState, work: Callable[..., T], *args: Any) -> T:
    """Run ``work(conn, *args)`` inside the transaction open on `conn`, all or nothing.

    A SAVEPOINT around it undoes just this work on error, where the database has them, the
    work is not DDL that commits by itself (see :func:`savepoint_needed`) and it is more than
    one statement (see :func:`one_statement`).
    """
    statement = one_statement(work, on(conn), args)
    if statement is not None:
        result = conn.exec_driver_sql(*statement)
        return max(result.rowcount, 0)  # type: ignore[return-value]
    if not savepoint_needed(state.rules, work):
        return work(conn, *args)
    state.rules.begin_if_needed(conn)
    with conn.begin_nested():
        return work(conn, *args)


def explain_plan(conn: sa.Connection, state: QueryState, plan: p.Plan) -> str:
    """The database's plan for a query (``EXPLAIN``), as text."""
    from moltres.sql.ddl import Explain

    compiled, params = state.prepare(plan, on(conn))
    try:
        result = conn.execute(Explain(compiled.statement), params)
        raw_rows = result.cursor.fetchall() if result.cursor is not None else []  # plan text, unconverted
    except sa.exc.DBAPIError as exc:
        raise state.fail(exc, sql=compiled.sql) from None
    return "\n".join(" ".join(str(v) for v in row if v is not None) for row in raw_rows)


class Executor:
    """Runs compiled statements on a SQLAlchemy engine, or on a connection or session we do not own.

    Args:
        engine: The engine to connect with.
        session: A SQLAlchemy ``Session`` whose connection and transaction to use instead;
            moltres never commits or closes it.
        connection: A ``Connection`` to use for everything; moltres never commits or closes it.
        query_timeout: Default limit in seconds for each statement.
        owns_engine: Dispose of the engine on :meth:`close`.
        state: Share another executor's compiled statements and reflected tables (the async
            executor lends its own to sync code it runs on one of its connections).
    """

    def __init__(
        self,
        engine: sa.Engine,
        *,
        session: Any = None,
        connection: sa.Connection | None = None,
        query_timeout: float | None = None,
        owns_engine: bool = True,
        state: QueryState | None = None,
    ) -> None:
        self.engine = engine
        self.state = state if state is not None else QueryState(engine.dialect, query_timeout=query_timeout)
        self._session = session
        self._connection = connection
        self._owns_engine = owns_engine
        self._tx: contextvars.ContextVar[sa.Connection | None] = contextvars.ContextVar(
            f"moltres_tx_{next(_ids)}", default=None
        )
        self.closed = False
        #: keeps the last direct statement's connection for the next one (see :mod:`moltres.engine.parking`)
        self.parking = ConnectionParking(engine, self.state.rules, self._checkout)

    # -------------------------------------------------------------------------------- connections

    @contextlib.contextmanager
    def connection(self, *, write: bool = False) -> Iterator[sa.Connection]:
        """A connection for one operation: the open transaction's, the session's, or a new one.

        New connections used for writes commit at the end of the block and roll back on error.
        """
        if self.closed:
            from moltres.utils.exceptions import DatabaseConnectionError

            raise DatabaseConnectionError(
                "this Database is closed", suggestion="open a new one with moltres.connect(...)"
            )
        current = self._tx.get() or self._connection
        if current is not None:
            yield current
            return
        if self._session is not None:
            yield self._session.connection()
            return
        with contextlib.ExitStack() as stack:
            try:
                conn = stack.enter_context(self.engine.begin() if write else self.engine.connect())
            except sa.exc.DBAPIError as exc:
                raise self.state.fail(exc) from None
            yield conn

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        """Run the block in one transaction (a SAVEPOINT when one is already open)."""
        current = self._tx.get() or self._connection
        if current is None and self._session is not None:
            current = self._session.connection()
        if current is not None:
            nested = open_savepoint(current, self.state)
            token = self._tx.set(current)
            try:
                yield current
            except BaseException:
                if nested.is_active:
                    nested.rollback()
                raise
            else:
                if nested.is_active:
                    nested.commit()
            finally:
                self._tx.reset(token)
            return
        with self.connection(write=True) as conn:
            token = self._tx.set(conn)
            try:
                yield conn
            finally:
                self._tx.reset(token)

    def atomic(self, work: Callable[..., T], *args: Any) -> T:
        """Run ``work(connection, *args)`` so that it either fully happens or not at all."""
        current = self._tx.get() or self._connection
        if current is None and self._session is not None:
            current = self._session.connection()
        try:
            if work in _DIRECT_FORMS and self.state.query_timeout is None:
                if current is None and self.runs_direct():
                    statement = _DIRECT_FORMS[work](self.connection, *args)  # reflects on a cache miss
                    if statement is not None:
                        return self._write_direct(*statement)  # type: ignore[return-value]
                elif current is not None and self._owns(current) and self._unwatched():
                    statement = one_statement(work, on(current), args)
                    if statement is not None:
                        return self._write_in(current, *statement)  # type: ignore[return-value]
            if current is not None:
                return within(current, self.state, work, *args)
            with self.connection(write=True) as conn:
                return work(conn, *args)
        except sa.exc.DBAPIError as exc:
            raise self.state.fail(exc) from None

    def _owns(self, conn: sa.Connection) -> bool:
        """Whether `conn` is the connection of a transaction this executor opened on its own engine."""
        return self._connection is None and self._session is None and conn is self._tx.get()

    def _write_in(self, conn: sa.Connection, sql: str, args: Any) -> int:
        """Run one write on the DB-API connection of our open transaction; return the affected row count."""
        fairy = conn.connection
        try:
            cursor = cursor_of(fairy)
            cursor.execute(sql, args)
            count: int = cursor.rowcount
        except Exception as exc:
            raise self._driver_error(exc, fairy, sql, invalidate=conn.invalidate) from None
        return max(count, 0)

    def _write_direct(self, sql: str, args: Any) -> int:
        """Run one write on a pooled DB-API connection, committed by itself; return the affected row count.

        The statement runs in the driver's autocommit mode where it has one (PostgreSQL,
        SQLite as moltres sets it up, DuckDB); a driver that opened a transaction for it
        anyway (MySQL) is told to commit.
        """
        lease = self.parking.take()
        try:
            cursor = lease.cursor
            cursor.execute(sql, args)
            count: int = cursor.rowcount
            committed = not self.state.rules.idle_after_read(lease.dbapi)
            if committed:
                lease.dbapi.commit()  # which leaves no transaction open: the pool's reset has nothing to undo
        except Exception as exc:
            error = self._driver_error(exc, lease.fairy, sql)
            self.parking.discard(lease)  # the pool's reset rolls back whatever the failed statement left open
            raise error from None
        except BaseException:  # stopped mid-statement (Ctrl-C): the connection's state is unknown
            self.parking.discard(lease, invalidate=True)
            raise
        self.parking.give_back(lease, committed=committed)
        return max(count, 0)

    def run(self, work: Callable[..., T], *args: Any) -> T:
        """Run ``work(connection, *args)`` on a connection for reading (no transaction of its own)."""
        try:
            with self.connection() as conn:
                return work(conn, *args)
        except sa.exc.DBAPIError as exc:
            raise self.state.fail(exc) from None

    # -------------------------------------------------------------------------------- queries

    def compile(self, plan: p.Plan, dialect: str | None = None) -> tuple[CompiledQuery, dict[str, Any]]:
        """Compile a plan, reflecting tables through a short-lived connection if needed."""
        return self.state.prepare(plan, self.connection, dialect)

    def fetch_all(self, plan: p.Plan, *, timeout: float | None = None) -> Rows:
        """Run a query and return every row as a dict."""
        timeout = self.state.timeout(timeout)
        if timeout is None and self.runs_direct():
            compiled, params = self.state.prepare(plan, self.connection)
            driver = self.state.driver_statement(compiled)
            if driver is not None:
                return self._fetch_direct(compiled, driver, params)
        with self.connection() as conn:
            return fetch_rows(conn, self.state, plan, timeout)

    def runs_direct(self) -> bool:
        """Whether statements may run straight on a pooled DB-API connection now.

        Reads (see :class:`DriverStatement`) and one-statement writes (see
        :func:`direct_form`) outside any transaction skip SQLAlchemy's Connection, the
        BEGIN/ROLLBACK around them and its Row objects. Inside a transaction, on a session's
        or a lent connection, or when anything watches or changes statements on the engine
        (logging, event listeners), they keep to SQLAlchemy's own path.

        Example:
            >>> db.executor.runs_direct()
            True
            >>> with db.transaction():
            ...     db.executor.runs_direct()
            False
        """
        if self.closed or self._connection is not None or self._session is not None or self._tx.get() is not None:
            return False
        return self._unwatched()

    def _unwatched(self) -> bool:
        """Whether nothing logs, watches or changes the statements run on the engine."""
        engine = self.engine
        if engine._should_log_info():  # (True at DEBUG too: logging's levels are ordered)
            return False
        if not engine._has_events:  # SQLAlchemy sets it on the engine (or its class) at the first listen()
            return not engine.dialect.dispatch.handle_error
        on = engine.dispatch
        watched = on.before_execute or on.after_execute or on.before_cursor_execute or on.after_cursor_execute
        return not (watched or engine.dialect.dispatch.handle_error)

    def _driver_error(
        self, exc: BaseException, fairy: Any, sql: str, invalidate: Callable[[BaseException], None] | None = None
    ) -> BaseException:
        dialect = self.engine.dialect
        dbapi_error = getattr(dialect.loaded_dbapi, "Error", None)
        if dbapi_error is None or not isinstance(exc, dbapi_error):
            return exc
        invalidated = bool(dialect.is_disconnect(exc, fairy.dbapi_connection, None))
        if invalidated:
            (invalidate or fairy.invalidate)(exc)
        wrapped = sa.exc.DBAPIError.instance(
            sql, None, exc, dbapi_error, connection_invalidated=invalidated, dialect=dialect
        )
        return self.state.fail(wrapped, sql=sql)

    def _checkout(self) -> Any:
        try:
            return self.engine.raw_connection()
        except sa.exc.DBAPIError as exc:
            raise self.state.fail(exc) from None

    def _fetch_direct(
        self, compiled: CompiledQuery, driver: DriverStatement, params: dict[str, Any], fairy: Any = None
    ) -> Rows:
        """Run a read on a pooled DB-API connection (`fairy`, else a parked one) and give it back.

        The async executor runs this in a greenlet, on a connection of its async engine.
        """
        if fairy is None:
            return self._fetch_parked(compiled, driver, params)
        try:
            dbapi = fairy.dbapi_connection
            with self.state.rules.autocommit(dbapi):
                cursor = self.state.rules.read_cursor(dbapi)
                try:
                    rows, description = driver.fetch(cursor, params)
                finally:
                    cursor.close()
        except Exception as exc:
            error = self._driver_error(exc, fairy, driver.sql)
            fairy.close()
            raise error from None
        except BaseException:  # stopped mid-statement: a cancelled task (async), Ctrl-C
            rules = self.state.rules
            if rules.interrupts_on_cancel:  # the statement runs on in the driver's thread: stop it
                rules.interrupt(fairy.dbapi_connection)
                check_in(fairy, self.state.rules)  # its next user waits behind the interrupted statement
            else:  # the driver stopped the statement mid-protocol: the connection's state is unknown
                fairy.invalidate()
            raise
        check_in(fairy, self.state.rules)
        return driver.dicts(compiled.columns, description, rows)

    def _fetch_parked(self, compiled: CompiledQuery, driver: DriverStatement, params: dict[str, Any]) -> Rows:
        """Run a read on the parked connection (see :mod:`moltres.engine.parking`) and park it again."""
        lease: Lease = self.parking.take()
        try:
            rows, description = driver.fetch(lease.cursor, params)
        except Exception as exc:
            error = self._driver_error(exc, lease.fairy, driver.sql)
            self.parking.discard(lease)
            raise error from None
        except BaseException:  # stopped mid-statement (Ctrl-C): the connection's state is unknown
            self.parking.discard(lease, invalidate=True)
            raise
        self.parking.give_back(lease)
        return driver.dicts(compiled.columns, description, rows)

    def _stream_direct(
        self, compiled: CompiledQuery, driver: DriverStatement, params: dict[str, Any], batch_size: int, named: bool
    ) -> Iterator[Any] | None:
        fairy = self._checkout()
        try:
            cursor = self.state.rules.stream_cursor(fairy.dbapi_connection)
        except Exception:
            fairy.close()
            raise
        if cursor is None:
            fairy.close()
            return None
        return self._drain(fairy, cursor, compiled, driver, params, batch_size, named)

    def _drain(
        self,
        fairy: Any,
        cursor: Any,
        compiled: CompiledQuery,
        driver: DriverStatement,
        params: dict[str, Any],
        batch_size: int,
        named: bool,
    ) -> Iterator[Any]:
        try:
            try:
                if hasattr(cursor, "itersize"):
                    cursor.itersize = batch_size
                driver.execute(cursor, params)
                description = cursor.description
                # Fetch in small chunks and shape each at once, so the driver's tuples die
                # young. Fetched 10,000 at a time, they would still be alive while their dicts
                # are made (dicts count toward the collector's allocation threshold), be
                # promoted by the collections that triggers, and make full collections, which
                # rescan the whole heap, several times more frequent.
                # (a server-side cursor pays a round trip per fetch: it fetches whole batches)
                chunk = batch_size if hasattr(cursor, "itersize") else min(batch_size, _STREAM_CHUNK)
                columns = compiled.columns
                done = False
                while not done:
                    batch: list[Any] = []
                    while len(batch) < batch_size:
                        part = cursor.fetchmany(min(chunk, batch_size - len(batch)))
                        if not part:
                            done = True
                            break
                        batch += driver.shape(columns, description, part, named)
                    if batch:
                        yield batch
            finally:
                with contextlib.suppress(Exception):
                    cursor.close()
        except Exception as exc:
            raise self._driver_error(exc, fairy, driver.sql) from None
        finally:
            check_in(fairy, self.state.rules)

    def stream(
        self, plan: p.Plan, batch_size: int, *, timeout: float | None = None, named: bool = True
    ) -> Iterator[Any]:
        """Run a query with a server-side cursor and yield lists of at most `batch_size` rows.

        Rows are dicts, or tuples in column order if not `named` (no dict per row to build).
        """
        timeout = self.state.timeout(timeout)
        if timeout is None and self.runs_direct():
            compiled, params = self.state.prepare(plan, self.connection)
            driver = self.state.driver_statement(compiled)
            if driver is not None:
                direct = self._stream_direct(compiled, driver, params, batch_size, named)
                if direct is not None:
                    yield from direct
                    return
        with self.connection() as conn:
            prepared: CompiledQuery | None = None
            try:
                with self.state.rules.statement_timeout(conn, timeout):
                    prepared, bound = prepare_on(conn, self.state, plan)  # the probe of db.sql too
                    result = conn.execute(
                        prepared.statement,
                        bound,
                        execution_options={"stream_results": True, "yield_per": batch_size},
                    )
                    try:
                        for part in result.partitions(batch_size):
                            yield shape_rows(prepared.columns, part, named)
                    finally:
                        result.close()
            except sa.exc.DBAPIError as exc:
                raise self.state.fail(exc, sql=None if prepared is None else prepared.sql, timeout=timeout) from None

    def execute(
        self, statement: Any, params: Any = None, *, timeout: float | None = None, write: bool = True
    ) -> Outcome:
        """Run one statement (DDL, DML or text); return its affected row count and any rows."""
        with self.connection(write=write) as conn:
            return run_statement(conn, self.state, statement, params, self.state.timeout(timeout))

    def close(self) -> None:
        """Release the engine's connections if this executor created the engine."""
        if self.closed:
            return
        self.closed = True
        self.parking.close()
        if self._owns_engine:
            self.engine.dispose()
