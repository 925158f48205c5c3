"""A moltres Database that runs on Django's own connection for a database alias.

Django keeps one DB-API connection per thread (and per async context) for each alias in
``settings.DATABASES``, and it alone knows the transaction state of that connection: which
``atomic()`` blocks are open, which savepoints exist, whether the test framework has wrapped
the test in a transaction. A second SQLAlchemy engine built from the same settings would
hold a different connection: it could not see rows the ORM wrote in the still-open
transaction, its writes would survive an ``atomic()`` rollback, and under tests it would
point at the production database name instead of the test one.

So :func:`get_moltres_db` builds a SQLAlchemy engine whose pool hands out *Django's*
connection, wrapped so that:

- every statement goes through Django's cursor wrapper: it shows up in
  ``connection.queries``, ``assertNumQueries``, ``CaptureQueriesContext`` and
  ``connection.execute_wrapper()`` hooks, and Django's own health flags stay right;
- the wrapper never closes the connection (Django does that at the end of the request);
- SQLAlchemy's transaction becomes a Django ``atomic()`` block, opened lazily before the
  first statement that writes. Inside an outer ``atomic()`` (a view decorated with
  ``ATOMIC_REQUESTS``, a ``TestCase``) it is a savepoint: a moltres commit releases the
  savepoint and the outer block decides; a moltres rollback rolls back to it. Reads open
  nothing, so ``df.collect()`` is exactly one query.

Errors raised by Django's cursor wrapper are unwrapped back to the driver's exceptions, so
SQLAlchemy and moltres translate them as on any other connection.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.db.utils import Error as DjangoDatabaseError

from moltres import Database, connect
from moltres.sql.dialects import rules_for
from moltres.utils.exceptions import ValidationError

__all__ = ["django_engine", "get_moltres_db"]

# First keyword of statements that never change data: they run without opening a transaction.
_READ_KEYWORDS = frozenset({"SELECT", "SHOW", "PRAGMA", "VALUES", "DESCRIBE", "EXPLAIN", "WITH"})
_FIRST_WORD = re.compile(r"\s*\(?\s*([A-Za-z]+)")
_WRITE_INSIDE = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE|ANALYZE)\b", re.IGNORECASE)


def _is_write(statement: str) -> bool:
    """Tell whether a statement may change data (and so needs the atomic block)."""
    match = _FIRST_WORD.match(statement)
    if match is None:
        return True
    keyword = match.group(1).upper()
    if keyword not in _READ_KEYWORDS:
        return True
    # EXPLAIN ANALYZE runs its statement; a CTE may wrap INSERT/UPDATE/DELETE on PostgreSQL.
    return keyword in {"EXPLAIN", "WITH"} and _WRITE_INSIDE.search(statement) is not None


class _DjangoCursor:
    """A DB-API cursor over Django's cursor wrapper that raises the driver's own errors."""

    def __init__(self, cursor: Any, connection: _DjangoConnection) -> None:
        self._cursor = cursor
        self._connection = connection

    def execute(self, statement: str, parameters: Any = None) -> Any:
        if _is_write(statement):
            self._connection.begin_atomic()
        with self._connection.driver_errors():
            return self._cursor.execute(statement, parameters)

    def executemany(self, statement: str, parameters: Any) -> Any:
        self._connection.begin_atomic()
        with self._connection.driver_errors():
            return self._cursor.executemany(statement, parameters)

    def close(self) -> None:
        with self._connection.driver_errors():
            self._cursor.close()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._cursor)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


_PREPARED = "_moltres_prepared"


class _DjangoConnection:
    """The DB-API connection SQLAlchemy sees: Django's connection, owned by Django."""

    def __init__(self, alias: str, dialect: str) -> None:
        self._alias = alias
        self._wrapper = connections[alias]
        self._wrapper.ensure_connection()
        self._atomic: Any = None
        raw = self._wrapper.connection
        prepared = getattr(self._wrapper, _PREPARED, None)
        if prepared is None or prepared[0] is not raw:
            # What moltres does for its own connections (SQL functions such as regexp on
            # SQLite), once per DB-API connection Django opens. The mark lives on Django's
            # wrapper, which drops it when it reconnects.
            rules_for(dialect).on_connect(self)
            prepared = (raw, set())
            setattr(self._wrapper, _PREPARED, prepared)
        self._notice_handlers: set[str] = prepared[1]

    @property
    def _raw(self) -> Any:
        return self._wrapper.connection

    @contextmanager
    def driver_errors(self) -> Iterator[None]:
        """Re-raise Django's wrapped database errors as the driver's originals."""
        try:
            yield
        except DjangoDatabaseError as exc:
            cause = exc.__cause__
            if isinstance(cause, self._wrapper.Database.Error):
                raise cause.with_traceback(cause.__traceback__) from None
            raise

    def begin_atomic(self) -> None:
        """Open the Django atomic block (a savepoint when one is already open), once."""
        if self._atomic is None:
            atomic = transaction.atomic(using=self._alias)
            with self.driver_errors():
                atomic.__enter__()
            self._atomic = atomic

    def cursor(self, name: str | None = None) -> _DjangoCursor:
        wrapper = self._wrapper
        wrapper.validate_thread_sharing()
        with self.driver_errors():
            raw = wrapper.create_cursor(name) if name else wrapper.create_cursor()
        # The same choice Django's own connection.cursor() makes.
        wrapped = wrapper.make_debug_cursor(raw) if wrapper.queries_logged else wrapper.make_cursor(raw)
        return _DjangoCursor(wrapped, self)

    def commit(self) -> None:
        atomic, self._atomic = self._atomic, None
        if atomic is not None:
            with self.driver_errors():
                atomic.__exit__(None, None, None)

    def rollback(self) -> None:
        atomic, self._atomic = self._atomic, None
        if atomic is not None:
            transaction.set_rollback(True, using=self._alias)
            with self.driver_errors():
                atomic.__exit__(None, None, None)

    def close(self) -> None:
        """Leave the connection open: Django closes it when the request ends."""
        self.rollback()

    @property
    def isolation_level(self) -> Any:
        """The driver's setting; Django alone changes it (on SQLite, a change commits)."""
        return self._raw.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: Any) -> None:
        """Ignore: transaction control belongs to Django on this connection."""

    @property
    def autocommit(self) -> Any:
        """The driver's setting; Django alone changes it."""
        return self._raw.autocommit

    @autocommit.setter
    def autocommit(self, value: Any) -> None:
        """Ignore: transaction control belongs to Django on this connection."""

    def add_notice_handler(self, handler: Any) -> None:
        # psycopg's add_notice_handler appends; SQLAlchemy calls it on every pool checkout,
        # and every checkout here hands out the same long-lived connection.
        key = getattr(handler, "__qualname__", repr(handler))
        if key not in self._notice_handlers:
            self._notice_handlers.add(key)
            self._raw.add_notice_handler(handler)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


def _sqlalchemy_url(alias: str) -> tuple[str, dict[str, Any]]:
    """Pick the SQLAlchemy dialect and driver matching Django's backend for `alias`."""
    wrapper = connections[alias]
    vendor = wrapper.vendor
    driver = wrapper.Database.__name__.split(".")[0]
    if vendor == "sqlite":
        # Django's SQLite cursor turns "format" placeholders into qmarks, and its query log
        # interpolates them; a qmark statement would break that log.
        return "sqlite+pysqlite://", {"paramstyle": "format"}
    if vendor == "postgresql":
        # Registering hstore needs psycopg's own Connection class, not the wrapper below.
        return f"postgresql+{driver}://", {"use_native_hstore": False}
    if vendor == "mysql":
        return f"mysql+{driver.lower()}://", {}
    if vendor == "oracle":
        return f"oracle+{driver}://", {}
    raise ValidationError(
        f"moltres cannot run on Django's '{vendor}' backend (database alias '{alias}')",
        suggestion="use SQLite, PostgreSQL, MySQL/MariaDB or Oracle, or connect() with a URL",
        alias=alias,
    )


_engines: dict[str, sa.Engine] = {}
_databases: dict[str, Database] = {}
_engines_lock = threading.Lock()


def django_engine(using: str = DEFAULT_DB_ALIAS) -> sa.Engine:
    """Return the SQLAlchemy engine that runs on Django's connection for `using`.

    One engine exists per alias and process; each checkout returns the calling thread's
    Django connection, so the engine is safe to share between threads.

    Args:
        using: A key of ``settings.DATABASES``.

    Raises:
        ValidationError: The alias is unknown or its backend has no SQLAlchemy dialect.

    Example:
        >>> with django_engine("default").connect() as conn:  # doctest: +SKIP
        ...     conn.exec_driver_sql("SELECT 1").scalar()
        1
    """
    if using not in connections:
        raise ValidationError(
            f"unknown Django database alias '{using}'",
            suggestion=f"use one of: {', '.join(connections)}",
            alias=using,
        )
    engine = _engines.get(using)
    if engine is not None:
        return engine
    with _engines_lock:
        engine = _engines.get(using)
        if engine is None:
            url, options = _sqlalchemy_url(using)
            dialect = sa.make_url(url).get_backend_name()
            engine = sa.create_engine(
                url,
                creator=lambda: _DjangoConnection(using, dialect),
                poolclass=sa.NullPool,
                **options,
            )
            _engines[using] = engine
    return engine


def get_moltres_db(using: str | None = None, *, model: type[Any] | None = None, write: bool = False) -> Database:
    """Return a moltres Database on Django's connection for a database alias.

    Queries see what the ORM wrote in the same transaction, writes join the enclosing
    ``transaction.atomic()`` (and roll back with it), and every statement appears in
    Django's query log.

    Args:
        using: A key of ``settings.DATABASES``. Defaults to what the database routers pick
            for `model`, else ``"default"``.
        model: A model class to ask the routers about (``db_for_read``, or
            ``db_for_write`` when `write` is true).
        write: Ask the routers for the write database instead of the read one.

    Returns:
        A :class:`moltres.Database` bound to that connection.

    Raises:
        ValidationError: Both `using` and `model` are given, or the alias is unknown.

    Example:
        >>> from django.contrib.auth.models import User  # doctest: +SKIP
        >>> db = get_moltres_db(model=User)  # doctest: +SKIP
        >>> db.table("auth_user").select("username").collect()  # doctest: +SKIP
        [{'username': 'ada'}]
    """
    if using is not None and model is not None:
        raise ValidationError(
            "pass either using= or model= to get_moltres_db, not both",
            suggestion="model= asks the database routers which alias to use",
        )
    if model is not None:
        using = router.db_for_write(model) if write else router.db_for_read(model)
    alias = using or DEFAULT_DB_ALIAS
    engine = django_engine(alias)
    # One Database per alias keeps its compiled-statement cache and table reflection warm
    # across requests; it holds no connection of its own.
    db = _databases.get(alias)
    if db is None or db.executor.closed:
        db = _databases[alias] = connect(engine=engine)
    return db
