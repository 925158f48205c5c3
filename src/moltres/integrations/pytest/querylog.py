"""Record the SQL statements a test issues: :class:`QueryLogger` and :func:`assert_query_count`.

One SQLAlchemy ``before_cursor_execute`` listener on the ``Engine`` class, attached while a
logger is recording, sees every statement of every engine, sync or async (an
``AsyncEngine`` runs on a sync one). Each
statement is filed under a kind:

- ``"query"``: what the code under test asked for: SELECT, INSERT, CREATE TABLE, ...
- ``"catalog"``: table lookups moltres and SQLAlchemy make on their own (reflection,
  ``has_table``); they happen once per table and would make counts depend on caching.
- ``"transaction"``: ``BEGIN``, ``SAVEPOINT``, ``RELEASE``, ``ROLLBACK TO``: the isolation
  the fixtures add, which production code does not see.

The driver's own start-up queries (server version, settings) never reach the listener:
SQLAlchemy runs them on a connection without events.

Example:
    >>> from moltres import connect
    >>> db = connect("sqlite://")
    >>> with assert_query_count(1) as log:
    ...     db.sql("SELECT 1 AS one").collect()
    [{'one': 1}]
    >>> "SELECT 1 AS one" in log.queries[0]
    True
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType
from typing import Any, Literal

__all__ = ["LoggedStatement", "QueryLogger", "assert_query_count"]

StatementKind = Literal["query", "catalog", "transaction"]

_TRANSACTION_WORDS = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "START TRANSACTION", "END")
# Statements issued while code of these modules is running are catalog lookups.
_CATALOG_MODULES = frozenset({"sqlalchemy.engine.reflection", "moltres.engine.catalog"})
_STACK_DEPTH = 60

_lock = threading.Lock()
_active: list[QueryLogger] = []
_listening = threading.Event()


@dataclass
class LoggedStatement:
    """One statement sent to a database.

    Attributes:
        sql: The SQL text, with placeholders.
        parameters: The bound values, as the driver received them.
        kind: ``"query"``, ``"catalog"`` or ``"transaction"``.
        dialect: The database's dialect name.
        duration_s: Seconds until the driver returned (None if it raised).
    """

    sql: str
    parameters: Any
    kind: StatementKind
    dialect: str
    duration_s: float | None = None


def _kind(statement: str) -> StatementKind:
    head = statement.lstrip().upper()
    if head.startswith(_TRANSACTION_WORDS):
        return "transaction"
    frame: FrameType | None = sys._getframe(2)
    for _ in range(_STACK_DEPTH):
        if frame is None:
            break
        if frame.f_globals.get("__name__") in _CATALOG_MODULES:
            return "catalog"
        frame = frame.f_back
    return "query"


def _before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
    if not _active:
        return
    record = LoggedStatement(statement, parameters, _kind(statement), conn.dialect.name)
    with _lock:
        for logger in _active:
            logger.records.append(record)
    if context is not None:
        context._moltres_logged = (record, time.perf_counter())


def _after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
    logged = getattr(context, "_moltres_logged", None)
    if logged is not None:
        record, started = logged
        record.duration_s = time.perf_counter() - started


def _listen(on: bool) -> None:
    """Attach the listeners to every engine, or detach them (called under ``_lock``).

    They are attached only while a logger is active: a listener on the engine makes moltres
    send reads through SQLAlchemy so that it sees them, instead of the faster direct path.
    """
    import sqlalchemy as sa

    if on and not _listening.is_set():
        sa.event.listen(sa.Engine, "before_cursor_execute", _before)
        sa.event.listen(sa.Engine, "after_cursor_execute", _after)
        _listening.set()
    elif not on and _listening.is_set():
        sa.event.remove(sa.Engine, "before_cursor_execute", _before)
        sa.event.remove(sa.Engine, "after_cursor_execute", _after)
        _listening.clear()


class QueryLogger:
    """Collect the statements run while it is active (between :meth:`start` and :meth:`stop`).

    ``count`` and ``queries`` cover the statements of kind ``"query"``; catalog lookups and
    transaction control are in :attr:`records` too, and in :attr:`catalog_queries`.

    Example:
        >>> from moltres import connect
        >>> db = connect("sqlite://")
        >>> with QueryLogger() as log:
        ...     _ = db.sql("SELECT 1 AS one").collect()
        >>> log.count, "SELECT" in log.queries[0]
        (1, True)
    """

    def __init__(self) -> None:
        self.records: list[LoggedStatement] = []

    def start(self) -> QueryLogger:
        """Begin recording; return self."""
        with _lock:
            _listen(True)
            if self not in _active:
                _active.append(self)
        return self

    def stop(self) -> None:
        """Stop recording (what was recorded stays)."""
        with _lock:
            if self in _active:
                _active.remove(self)
            if not _active:
                _listen(False)

    def __enter__(self) -> QueryLogger:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget what was recorded so far (recording goes on)."""
        with _lock:
            self.records.clear()

    @property
    def statements(self) -> list[LoggedStatement]:
        """The recorded statements of kind ``"query"``."""
        return [r for r in self.records if r.kind == "query"]

    @property
    def queries(self) -> list[str]:
        """The SQL text of each statement of kind ``"query"``, in order."""
        return [r.sql for r in self.statements]

    @property
    def count(self) -> int:
        """How many statements of kind ``"query"`` ran."""
        return len(self.statements)

    @property
    def catalog_queries(self) -> list[str]:
        """The SQL text of the catalog lookups (reflection) made meanwhile."""
        return [r.sql for r in self.records if r.kind == "catalog"]

    @property
    def total_time(self) -> float:
        """Seconds the database spent on the statements of kind ``"query"``."""
        return sum(r.duration_s or 0.0 for r in self.statements)

    def describe(self, limit: int = 20) -> str:
        """The queries as a numbered list, for failure messages."""
        lines = [f"  {i}. {' '.join(sql.split())}" for i, sql in enumerate(self.queries[:limit], 1)]
        if self.count > limit:
            lines.append(f"  ... and {self.count - limit} more")
        return "\n".join(lines) if lines else "  (none)"

    def __repr__(self) -> str:
        return f"QueryLogger<{self.count} queries>"


@contextlib.contextmanager
def assert_query_count(expected: int) -> Iterator[QueryLogger]:
    """Assert that the block runs exactly `expected` queries (catalog lookups and transaction control excluded).

    Args:
        expected: The number of statements of kind ``"query"``.

    Yields:
        The :class:`QueryLogger` recording the block.

    Raises:
        AssertionError: Another number of queries ran; the message lists them.

    Example:
        >>> from moltres import connect
        >>> db = connect("sqlite://")
        >>> with assert_query_count(2):
        ...     _ = db.sql("SELECT 1 AS one").collect(), db.sql("SELECT 2 AS two").collect()
    """
    __tracebackhide__ = True
    if isinstance(expected, bool) or not isinstance(expected, int) or expected < 0:
        raise TypeError(f"assert_query_count() takes a non-negative int, got {expected!r}")
    logger = QueryLogger()
    with logger:
        yield logger
    if logger.count != expected:
        raise AssertionError(f"expected {expected} queries, {logger.count} ran:\n{logger.describe()}")
