"""Translate driver exceptions into moltres errors that say what happened and what to do."""

from __future__ import annotations

import re

import sqlalchemy as sa

from moltres.engine.url import mask_password
from moltres.sql.dialects.base import ErrorKind, Rules
from moltres.utils.exceptions import (
    DatabaseConnectionError,
    ExecutionError,
    MoltresError,
    QueryTimeoutError,
    TableNotFoundError,
)

__all__ = ["translate_error"]

_QUOTED = re.compile(r"""["'`]([^"'`]+)["'`]""")


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return mask_password(text[0] if text else type(orig).__name__)


def translate_error(
    exc: BaseException, rules: Rules, *, sql: str | None = None, timeout: float | None = None
) -> MoltresError:
    """Turn a driver or SQLAlchemy exception into the matching moltres error.

    Example:
        >>> from moltres.sql.dialects import rules_for
        >>> err = translate_error(RuntimeError("boom"), rules_for("sqlite"))
        >>> type(err).__name__
        'ExecutionError'
    """
    if isinstance(exc, MoltresError):
        return exc
    statement = sql if sql is not None else getattr(exc, "statement", None)
    kind = rules.classify(exc)
    message = _first_line(exc)
    if kind == ErrorKind.TIMEOUT:
        limit = f" after {timeout:g}s" if timeout else ""
        return QueryTimeoutError(
            f"query cancelled: it ran longer than its timeout{limit}",
            sql=statement,
            suggestion="raise query_timeout, add a filter, or add an index for this query",
        )
    if kind == ErrorKind.CONNECTION:
        return DatabaseConnectionError(
            f"lost or could not open the connection to {rules.name}: {message}",
            suggestion="check that the server is running and reachable; the operation can be retried",
        )
    if kind == ErrorKind.TABLE_NOT_FOUND:
        match = _QUOTED.search(message)
        name = match.group(1).split(".")[-1] if match else message.rsplit(" ", 1)[-1]
        return TableNotFoundError(name, sql=statement)
    if kind == ErrorKind.COLUMN_NOT_FOUND:
        return ExecutionError(
            f"unknown column: {message}",
            sql=statement,
            suggestion="check the column names with df.columns or db.schema('table')",
        )
    if kind == ErrorKind.DEADLOCK:
        return ExecutionError(
            f"the database aborted the statement to resolve a lock conflict: {message}",
            sql=statement,
            retryable=True,
            suggestion="retry the transaction",
        )
    if kind == ErrorKind.CONSTRAINT:
        return ExecutionError(
            f"a constraint was violated: {message}",
            sql=statement,
            suggestion="check for duplicate keys, NULLs in NOT NULL columns, or missing referenced rows",
        )
    if kind == ErrorKind.ABORTED_TRANSACTION:
        return ExecutionError(
            f"an earlier statement failed, and the database ignores the rest of its transaction: {message}",
            sql=statement,
            suggestion="let the error leave the transaction() block (it rolls back), or wrap the statement "
            "you expect to fail in its own `with db.transaction():` (a savepoint) to catch its error and go on",
        )
    if isinstance(exc, sa.exc.OperationalError) and "connect" in message.lower():
        return DatabaseConnectionError(
            f"could not connect to {rules.name}: {message}",
            suggestion="check the host, port, user and password, and that the server is running",
        )
    return ExecutionError(f"the database rejected the statement: {message}", sql=statement)
