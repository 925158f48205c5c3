"""A catalog that reflects tables from a live database, once, and remembers them."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, suppress
from typing import Any

import sqlalchemy as sa

from moltres.utils.exceptions import TableNotFoundError

__all__ = ["BoundCatalog", "ReflectingCatalog"]


class ReflectingCatalog:
    """Reflect each table on first use; forget it when moltres changes it (DDL)."""

    def __init__(
        self,
        connect: Callable[[], AbstractContextManager[sa.Connection]],
        reflect: Callable[[sa.Connection, str, str | None], sa.Table] | None = None,
    ) -> None:
        self._connect = connect
        self._reflect = reflect or (
            lambda conn, name, schema: sa.Table(name, sa.MetaData(), schema=schema, autoload_with=conn)
        )
        self._metadata = sa.MetaData()
        self._tables: dict[tuple[str | None, str], sa.Table] = {}
        self._sql: dict[tuple[str, tuple[tuple[str, Any], ...]], list[str]] = {}
        self._lock = threading.Lock()

    def bind(self, connect: Callable[[], AbstractContextManager[sa.Connection]]) -> BoundCatalog:
        """This cache as seen by one caller, who looks up misses through `connect`."""
        return BoundCatalog(self, connect)

    def table(
        self,
        name: str,
        schema: str | None = None,
        *,
        connect: Callable[[], AbstractContextManager[sa.Connection]] | None = None,
    ) -> sa.Table:
        """The reflected table; raises ``TableNotFoundError`` naming the closest existing one."""
        key = (schema, name)
        found = self._tables.get(key)
        if found is not None:
            return found
        # No lock is held across the lookup: under asyncio every caller shares one thread, and
        # a lock held while a greenlet waits for the database would block the event loop.
        # Two callers may reflect the same table at once; the first result is kept.
        with (connect or self._connect)() as conn:
            inspector = sa.inspect(conn)
            if not inspector.has_table(name, schema=schema):
                known = inspector.get_table_names(schema=schema)
                if schema is None:
                    known = [*known, *inspector.get_view_names()]
                    with suppress(NotImplementedError):
                        known += inspector.get_temp_table_names()
                raise TableNotFoundError(name, known)
            table = self._reflect(conn, name, schema)
        with self._lock:
            return self._tables.setdefault(key, table)

    def sql_columns(
        self,
        text: str,
        params: Mapping[str, Any],
        *,
        connect: Callable[[], AbstractContextManager[sa.Connection]] | None = None,
    ) -> list[str]:
        """The output columns of a raw SELECT, found by running it with ``LIMIT 0``."""
        key = (text, tuple(sorted((k, repr(v)) for k, v in params.items())))
        cached = self._sql.get(key)
        if cached is not None:
            return cached
        probe = sa.text(f"SELECT * FROM ({text.strip().rstrip(';')}) AS moltres_probe LIMIT 0")
        with (connect or self._connect)() as conn:
            names = list(conn.execute(probe, dict(params)).keys())
        self._sql[key] = names
        return names

    def invalidate(self, name: str | None = None, schema: str | None = None) -> None:
        """Forget one table (or all), after DDL changed it."""
        with self._lock:
            if name is None:
                self._tables.clear()
                self._sql.clear()
            else:
                self._tables.pop((schema, name), None)


class BoundCatalog:
    """A :class:`ReflectingCatalog` seen by one caller: misses are looked up on its connection.

    Each query binds its own view, so concurrent queries (threads, or asyncio tasks sharing
    one thread) never reflect through one another's connection.
    """

    __slots__ = ("_cache", "_connect")

    def __init__(self, cache: ReflectingCatalog, connect: Callable[[], AbstractContextManager[sa.Connection]]) -> None:
        self._cache = cache
        self._connect = connect

    def table(self, name: str, schema: str | None = None) -> sa.Table:
        """The reflected table (see :meth:`ReflectingCatalog.table`)."""
        return self._cache.table(name, schema, connect=self._connect)

    def sql_columns(self, text: str, params: Mapping[str, Any]) -> list[str]:
        """The output columns of a raw SELECT (see :meth:`ReflectingCatalog.sql_columns`)."""
        return self._cache.sql_columns(text, params, connect=self._connect)
