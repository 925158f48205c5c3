"""What differs between databases beyond SQL text: errors, timeouts, upserts, connection setup.

Each dialect module defines a :class:`Compiler` subclass (SQL differences) and a
:class:`Rules` subclass (runtime differences). Nothing outside ``sql/dialects/`` asks which
database it is talking to; it asks the rules.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import sqlalchemy as sa

from moltres.sql.compiler import Compiler

__all__ = ["ErrorKind", "Rules"]


class ErrorKind:
    """Names for the kinds of database error moltres tells apart."""

    TABLE_NOT_FOUND = "table_not_found"
    COLUMN_NOT_FOUND = "column_not_found"
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    DEADLOCK = "deadlock"
    CONSTRAINT = "constraint"
    SYNTAX = "syntax"
    OTHER = "other"


class Rules:
    """Runtime behaviour of one database; subclasses override what differs."""

    name: ClassVar[str] = "default"
    compiler_class: ClassVar[type[Compiler]] = Compiler
    # pip extra that provides the driver for each SQLAlchemy driver name
    driver_extras: ClassVar[dict[str, str]] = {}
    # DDL inside a transaction is rolled back with it (false on MySQL: DDL commits implicitly)
    transactional_ddl: ClassVar[bool] = True
    # SAVEPOINTs exist (false on DuckDB): nested work inside a transaction can roll back alone
    supports_savepoints: ClassVar[bool] = True
    supports_server_side_cursors: ClassVar[bool] = False
    # the SQLSTATE or error number of each kind of error, where the driver gives one
    error_codes: ClassVar[dict[str, str]] = {}

    def on_connect(self, dbapi_connection: Any) -> None:
        """Prepare a new DB-API connection (register functions, set session options)."""

    def configure_engine(self, engine: sa.Engine) -> None:
        """Attach engine-level event handlers this database needs."""

    def error_code(self, exc: BaseException) -> str | None:
        """The driver's error code for an exception, as a string, if it has one."""
        orig = getattr(exc, "orig", exc)
        for attr in ("sqlstate", "pgcode"):
            code = getattr(orig, attr, None)
            if code:
                return str(code)
        args = getattr(orig, "args", ())
        if args and isinstance(args[0], int):
            return str(args[0])
        return None

    def classify(self, exc: BaseException) -> str:
        """Which :class:`ErrorKind` a database exception is."""
        code = self.error_code(exc)
        if code is not None:
            for kind, codes in self.error_codes.items():
                if code in codes.split():
                    return kind
        if isinstance(exc, sa.exc.OperationalError) and getattr(exc, "connection_invalidated", False):
            return ErrorKind.CONNECTION
        if isinstance(exc, sa.exc.IntegrityError):
            return ErrorKind.CONSTRAINT
        return self.classify_message(str(getattr(exc, "orig", exc)))

    def classify_message(self, message: str) -> str:
        """Classify by message, for drivers that give no codes (SQLite, DuckDB)."""
        return ErrorKind.OTHER

    @contextlib.contextmanager
    def statement_timeout(self, connection: sa.Connection, seconds: float | None) -> Iterator[None]:
        """Cancel statements run inside this block after `seconds`."""
        yield

    def upsert(
        self, table: sa.Table, rows: Sequence[dict[str, Any]], keys: Sequence[str], update: Sequence[str]
    ) -> Any:
        """An INSERT that updates the `update` columns when a row with the same `keys` exists."""
        from sqlalchemy.dialects import sqlite

        stmt = sqlite.insert(table)
        if not update:
            return stmt.on_conflict_do_nothing(index_elements=list(keys))
        return stmt.on_conflict_do_update(index_elements=list(keys), set_={c: stmt.excluded[c] for c in update})

    def bulk_insert(self, connection: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
        """Insert many rows; drivers with a faster path than executemany override this."""
        connection.execute(table.insert(), list(rows))

    def reflect(self, conn: sa.Connection, name: str, schema: str | None) -> sa.Table:
        """Describe an existing table (columns and types) from the database."""
        return sa.Table(name, sa.MetaData(), schema=schema, autoload_with=conn)

    def adapt_table(self, table: sa.Table) -> sa.Table:
        """Adjust a table definition before ``CREATE TABLE`` (a hook for dialect quirks)."""
        return table

    def temporary_prefix(self) -> str:
        """The keyword that makes a table temporary."""
        return "TEMPORARY"
