"""One pooled connection kept between direct statements, and one cursor kept per connection.

A direct statement (see :class:`moltres.engine.executor.DriverStatement`) on its own is a
round trip to the database and a few microseconds of Python. Around it, SQLAlchemy's pool
costs a checkout and a check-in (about 30 µs), psycopg a new cursor (about 20 µs) and the
switch into and out of autocommit mode. For queries run back to back, that is most of what
moltres adds to the driver's own time. So:

- :class:`ConnectionParking` keeps the connection of the last direct statement out of the
  pool, idle and in the driver's autocommit mode, for the next one. It holds it for at most
  :data:`HOLD_SECONDS` after it left the pool; the next statement after that gives it back
  and takes one from the pool again, so the pool's own checks (``pool_pre_ping``,
  ``pool_recycle``, its event listeners) still run at least that often. Only a connection
  with no transaction open is parked; only from a ``QueuePool`` without ``pool_pre_ping``
  and without checkout or check-in listeners (whose users expect them to run for each
  statement), and only while the pool has another connection to spare within its
  ``pool_size``.
- :func:`cursor_of` keeps one DB-API cursor per DB-API connection, for direct statements
  only, in the pool's per-connection ``info``.
"""

from __future__ import annotations

import contextlib
import os
import time
import weakref
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from moltres.sql.dialects.base import Rules

__all__ = ["HOLD_SECONDS", "ONCE_PER_CONNECTION", "ConnectionParking", "Lease", "check_in", "cursor_of"]

#: Seconds a parked connection may stay out of the pool, counted from its checkout.
HOLD_SECONDS = 1.0

_CURSOR = "moltres.cursor"

#: Set to True on a pool "checkout" listener whose work is done once per connection (moltres's
#: own, which registers SQL functions): connections are still parked while it listens.
ONCE_PER_CONNECTION = "moltres_once_per_connection"


def cursor_of(fairy: Any) -> Any:
    """The DB-API cursor direct statements use on this pooled connection, made once per connection.

    Example:
        >>> fairy = db.engine.raw_connection()
        >>> cursor_of(fairy) is cursor_of(fairy)
        True
    """
    dbapi = fairy.dbapi_connection
    kept = fairy.info.get(_CURSOR)
    if kept is not None and kept[0] is dbapi:
        return kept[1]
    cursor = dbapi.cursor()
    fairy.info[_CURSOR] = (dbapi, cursor)
    return cursor


def check_in(fairy: Any, rules: Rules, *, idle: bool | None = None) -> None:
    """Return a direct statement's connection to the pool, without the pool's ROLLBACK when no transaction is open.

    SQLAlchemy's own Connection does the same (``_close_special``) once it has ended its
    transaction. `idle` is what the caller knows (it has just committed, or checked); None
    asks the driver (:meth:`Rules.idle_after_read`), and a driver that cannot tell keeps the
    reset.

    Example:
        >>> fairy = db.engine.raw_connection()
        >>> check_in(fairy, db.executor.state.rules)  # idle: back to the pool without a ROLLBACK
    """
    close_idle = getattr(fairy, "_close_special", None)
    if close_idle is not None and fairy.dbapi_connection is not None:
        if idle is None:
            try:
                idle = rules.idle_after_read(fairy.dbapi_connection)
            except Exception:  # pragma: no cover - a driver attribute that raises: keep the reset
                idle = False
        if idle:
            close_idle(transaction_reset=True)
            return
    fairy.close()


class Lease:
    """A pooled connection lent to one direct statement: the SQLAlchemy fairy and its cursor."""

    __slots__ = ("autocommit", "cursor", "fairy", "pool", "quiet", "since")

    def __init__(
        self, fairy: Any, autocommit: contextlib.AbstractContextManager[None], since: float, pool: sa.pool.Pool
    ) -> None:
        self.fairy = fairy
        self.cursor = cursor_of(fairy)
        self.autocommit = autocommit
        self.since = since
        self.pool = pool  # the engine's pool when it was checked out (Engine.dispose() replaces it)
        self.quiet = False  # True while lent from the parking slot: take() has just seen no pool listeners

    @property
    def dbapi(self) -> Any:
        """The driver's connection."""
        return self.fairy.dbapi_connection


class ConnectionParking:
    """Lends connections to direct statements, keeping the last one out of the pool for the next.

    Thread-safe: taking and parking are single list operations, atomic under the GIL; a
    thread that finds the slot empty checks a connection out of the pool as usual.

    Example:
        >>> parking = ConnectionParking(db.engine, db.executor.state.rules)  # checkout: engine.raw_connection
        >>> lease = parking.take()
        >>> lease.cursor.execute("SELECT 1").fetchall()
        [(1,)]
        >>> parking.give_back(lease)  # parked: the next take() gets it without the pool
        >>> parking.close()  # back to the pool
    """

    def __init__(self, engine: sa.Engine, rules: Rules, checkout: Callable[[], Any] | None = None) -> None:
        self._engine = engine
        self._rules = rules
        self._connect = engine.raw_connection if checkout is None else checkout
        self._parked: list[Lease] = []
        self._pid = os.getpid()
        self._inherited: list[Lease] = []  # parked by the parent of a forked process: never touched
        _watch_disposal(engine, self)

    def take(self) -> Lease:
        """A connection, idle and in autocommit mode, with its cursor: the parked one, or one from the pool."""
        try:
            lease = self._parked.pop()
        except IndexError:
            return self._checkout()
        if self._forked(lease):
            return self._checkout()
        if time.monotonic() - lease.since < HOLD_SECONDS and not self._listened():
            lease.quiet = True
            return lease
        self._release(lease, idle=True)
        return self._checkout()

    def give_back(self, lease: Lease, *, committed: bool = False) -> None:
        """After a statement that succeeded: park the connection if it is idle, else return it to the pool.

        `committed`: the caller has just committed, so no transaction is open even where the
        driver cannot tell (the pool then skips its ROLLBACK).
        """
        try:
            idle = self._rules.idle_after_read(lease.dbapi)
        except Exception:  # pragma: no cover - a driver attribute that raises: keep the reset
            idle = False
        # parked only while the pool keeps a connection to spare without its overflow: whoever
        # checks one out next never waits for this one
        if idle and not self._parked and lease.pool is self._engine.pool and self._parks(lease.quiet):
            self._parked.append(lease)
            return
        self._release(lease, idle=idle or committed)

    def discard(self, lease: Lease, *, invalidate: bool = False) -> None:
        """After a statement that failed: return the connection to the pool, which rolls back; or throw it away."""
        if invalidate:
            lease.fairy.invalidate()
        with contextlib.suppress(Exception):  # (on a connection thrown away, the driver may refuse)
            lease.autocommit.__exit__(None, None, None)
        if not invalidate:
            lease.fairy.close()

    @property
    def parked(self) -> tuple[Any, ...]:
        """The DB-API connections parked now (none or one).

        Example:
            >>> rows = db.table("users").collect()
            >>> len(db.executor.parking.parked)
            1
        """
        return tuple(lease.dbapi for lease in self._parked)

    def close(self) -> None:
        """Return the parked connection to the pool (before the pool is disposed of)."""
        while self._parked:
            self._release(self._parked.pop(), idle=True)

    def disposed(self) -> None:
        """The engine's pool was disposed of: close the parked connection, as the pool closed its own.

        A DuckDB or SQLite file is then free for another process, as the user meant by
        ``engine.dispose()``. In a forked child (``engine.dispose(close=False)``), the parent's
        connection is left alone.
        """
        while self._parked:
            lease = self._parked.pop()
            if not self._forked(lease):
                self.discard(lease, invalidate=True)

    def _forked(self, lease: Lease) -> bool:
        """Whether `lease` was parked by the process this one was forked from (then kept, never used)."""
        if self._pid == os.getpid():
            return False
        self._inherited.append(lease)
        self._pid = os.getpid()
        return True

    def _parks(self, quiet: bool = False) -> bool:
        """Whether a connection may be kept out of the pool now (`quiet`: no need to look for listeners again)."""
        queue = self._engine.pool
        # a QueuePool's connections may move between threads (a SingletonThreadPool's may not);
        # pre_ping: the user wants a check per statement
        if type(queue) is not sa.pool.QueuePool or queue._pre_ping or (not quiet and self._listened()):
            return False
        # only while the pool keeps a connection to spare within its pool_size: whoever checks
        # one out next does not wait for the parked one
        return queue.checkedout() < queue.size()

    def _listened(self) -> bool:
        """Whether the pool has listeners that expect to see each statement's checkout and check-in."""
        dispatch = self._engine.pool.dispatch
        if dispatch.checkin or dispatch.reset:
            return True
        return any(not getattr(fn, ONCE_PER_CONNECTION, False) for fn in dispatch.checkout)

    def _checkout(self) -> Lease:
        pool = self._engine.pool
        fairy = self._connect()
        autocommit = self._rules.autocommit(fairy.dbapi_connection)
        try:
            autocommit.__enter__()
            return Lease(fairy, autocommit, time.monotonic(), pool)
        except BaseException:  # pragma: no cover - a driver that cannot switch an idle connection's mode
            fairy.close()
            raise

    def _release(self, lease: Lease, *, idle: bool) -> None:
        """Leave autocommit mode and check the connection in; skip the pool's ROLLBACK when `idle`."""
        try:
            lease.autocommit.__exit__(None, None, None)
        except Exception:  # pragma: no cover - the connection closed while parked: the pool makes a new one
            lease.fairy.invalidate()
            return
        check_in(lease.fairy, self._rules, idle=idle)


_WATCHED: weakref.WeakKeyDictionary[sa.Engine, weakref.WeakSet[ConnectionParking]] = weakref.WeakKeyDictionary()


def _watch_disposal(engine: sa.Engine, parking: ConnectionParking) -> None:
    """Tell `parking` when ``engine.dispose()`` runs (one listener per engine, however many Databases)."""
    watchers = _WATCHED.get(engine)
    if watchers is None:
        watchers = _WATCHED[engine] = weakref.WeakSet()
        ref = weakref.ref(engine)

        def on_dispose(_: Any) -> None:
            target = ref()
            for watcher in list(_WATCHED.get(target, ())) if target is not None else ():
                watcher.disposed()

        sa.event.listen(engine, "engine_disposed", on_dispose)
    watchers.add(parking)
