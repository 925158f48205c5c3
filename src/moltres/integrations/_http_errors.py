"""The one table from moltres errors to HTTP responses, shared by the Django and FastAPI glue.

A status is chosen from the exception's *class* (walking its MRO, most specific first) and,
for a plain :class:`ExecutionError`, from the database's own error *code* (SQLSTATE on
PostgreSQL, the errno on MySQL/MariaDB, the result code on SQLite) found on the driver
exception that caused it. Message text is never matched: drivers translate and reword it.

The payload never carries SQL, parameter values or a suggestion unless ``debug`` is on. In
production only messages that moltres wrote about the caller's own request (an unknown
column, an unknown table, a bad argument) are shown; everything else gets a fixed title.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from moltres.utils.exceptions import (
    ColumnNotFoundError,
    CompilationError,
    DatabaseConnectionError,
    ExecutionError,
    MissingDependencyError,
    MoltresError,
    QueryTimeoutError,
    TableNotFoundError,
    UnsupportedOperationError,
    ValidationError,
)

__all__ = ["ErrorStatus", "database_error_code", "error_headers", "error_payload", "status_for"]


@dataclass(frozen=True, slots=True)
class ErrorStatus:
    """How one kind of error is answered over HTTP.

    Attributes:
        status: The HTTP status code.
        code: A stable, machine-readable name for the kind of error.
        title: The public message used when the error's own message is not shown.
        public_detail: Whether the error's own message is safe to show in production.
    """

    status: int
    code: str
    title: str
    public_detail: bool = False


_BAD_REQUEST = ErrorStatus(400, "validation_error", "The request is not valid.", public_detail=True)
_NOT_FOUND = ErrorStatus(404, "table_not_found", "The requested table does not exist.", public_detail=True)
_CONFLICT = ErrorStatus(409, "conflict", "The change conflicts with data already stored.")
_INVALID_DATA = ErrorStatus(400, "invalid_data", "A value does not fit its column.")
_UNAVAILABLE = ErrorStatus(503, "database_unavailable", "The database is unavailable; try again later.")
_BUSY = ErrorStatus(503, "database_busy", "The database is busy; try again later.")
_TIMEOUT = ErrorStatus(504, "query_timeout", "The query took too long and was cancelled.")
_INTERNAL = ErrorStatus(500, "database_error", "The database could not complete the request.")

# By exception class; the lookup walks type(exc).__mro__, so subclasses win over their bases.
EXCEPTION_STATUS: dict[type[BaseException], ErrorStatus] = {
    TableNotFoundError: _NOT_FOUND,
    ColumnNotFoundError: ErrorStatus(
        400, "column_not_found", "The request names a column that does not exist.", public_detail=True
    ),
    QueryTimeoutError: _TIMEOUT,
    DatabaseConnectionError: _UNAVAILABLE,
    MissingDependencyError: ErrorStatus(500, "missing_dependency", "The server is missing a component."),
    ValidationError: _BAD_REQUEST,
    UnsupportedOperationError: ErrorStatus(500, "unsupported_operation", "The query is not supported here."),
    CompilationError: ErrorStatus(500, "compilation_error", "The query could not be built."),
    ExecutionError: _INTERNAL,
    MoltresError: ErrorStatus(500, "internal_error", "The server could not complete the request."),
}

# By database error code, consulted for a plain ExecutionError only. PostgreSQL SQLSTATEs
# match exactly first, then by their two-character class.
SQLSTATE_STATUS: dict[str, ErrorStatus] = {
    "42P01": _NOT_FOUND,  # undefined_table
    "42703": EXCEPTION_STATUS[ColumnNotFoundError],  # undefined_column
    "57014": _TIMEOUT,  # query_canceled (statement_timeout)
    "55P03": _BUSY,  # lock_not_available
    "40001": _BUSY,  # serialization_failure
    "40P01": _BUSY,  # deadlock_detected
    "57P01": _UNAVAILABLE,  # admin_shutdown
    "57P03": _UNAVAILABLE,  # cannot_connect_now
}
SQLSTATE_CLASS_STATUS: dict[str, ErrorStatus] = {
    "08": _UNAVAILABLE,  # connection exception
    "22": _INVALID_DATA,  # data exception
    "23": _CONFLICT,  # integrity constraint violation
    "53": _UNAVAILABLE,  # insufficient resources
}
MYSQL_ERRNO_STATUS: dict[int, ErrorStatus] = {
    1146: _NOT_FOUND,  # ER_NO_SUCH_TABLE
    1054: EXCEPTION_STATUS[ColumnNotFoundError],  # ER_BAD_FIELD_ERROR
    1062: _CONFLICT,  # ER_DUP_ENTRY
    1048: _CONFLICT,  # ER_BAD_NULL_ERROR
    1451: _CONFLICT,  # ER_ROW_IS_REFERENCED_2
    1452: _CONFLICT,  # ER_NO_REFERENCED_ROW_2
    1264: _INVALID_DATA,  # ER_WARN_DATA_OUT_OF_RANGE
    1366: _INVALID_DATA,  # ER_TRUNCATED_WRONG_VALUE_FOR_FIELD
    1406: _INVALID_DATA,  # ER_DATA_TOO_LONG
    1205: _BUSY,  # ER_LOCK_WAIT_TIMEOUT
    1213: _BUSY,  # ER_LOCK_DEADLOCK
    1040: _UNAVAILABLE,  # ER_CON_COUNT_ERROR
    2002: _UNAVAILABLE,  # CR_CONNECTION_ERROR
    2003: _UNAVAILABLE,  # CR_CONN_HOST_ERROR
    2006: _UNAVAILABLE,  # CR_SERVER_GONE_ERROR
    2013: _UNAVAILABLE,  # CR_SERVER_LOST
    1317: _TIMEOUT,  # ER_QUERY_INTERRUPTED
    3024: _TIMEOUT,  # ER_QUERY_TIMEOUT (max_execution_time)
}
# SQLite primary result codes (the low byte of the extended code).
SQLITE_CODE_STATUS: dict[int, ErrorStatus] = {
    5: _BUSY,  # SQLITE_BUSY
    6: _BUSY,  # SQLITE_LOCKED
    9: _TIMEOUT,  # SQLITE_INTERRUPT (progress-handler timeout)
    13: _UNAVAILABLE,  # SQLITE_FULL
    14: _UNAVAILABLE,  # SQLITE_CANTOPEN
    19: _CONFLICT,  # SQLITE_CONSTRAINT
    20: _INVALID_DATA,  # SQLITE_MISMATCH
}


def _driver_error(exc: BaseException) -> BaseException | None:
    """Find the DB-API exception behind `exc`, following causes and SQLAlchemy's ``.orig``."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        orig = getattr(current, "orig", None)
        if isinstance(orig, BaseException):
            return orig
        if current is not exc and type(current).__module__.split(".")[0] in _DRIVER_MODULES:
            return current
        current = current.__cause__ or current.__context__
    return None


_DRIVER_MODULES = frozenset({"sqlite3", "psycopg", "psycopg2", "pymysql", "MySQLdb", "asyncpg", "aiomysql"})


def database_error_code(exc: BaseException) -> str | int | None:
    """Return the database's own code for the failure behind `exc`, if a driver gave one.

    Args:
        exc: A moltres error (or any exception) raised while running a statement.

    Returns:
        The PostgreSQL SQLSTATE (``"23505"``), the MySQL errno (``1062``), the SQLite
        extended result code (``2067``), or None.

    Example:
        >>> import sqlite3
        >>> con = sqlite3.connect(":memory:")
        >>> _ = con.execute("CREATE TABLE t (id INTEGER UNIQUE)")
        >>> _ = con.execute("INSERT INTO t VALUES (1)")
        >>> try:
        ...     con.execute("INSERT INTO t VALUES (1)")
        ... except sqlite3.IntegrityError as err:
        ...     database_error_code(err)
        2067
    """
    driver = _driver_error(exc) or exc
    for attribute in ("sqlstate", "pgcode"):
        value = getattr(driver, attribute, None)
        if isinstance(value, str) and value:
            return value
    sqlite_code = getattr(driver, "sqlite_errorcode", None)
    if isinstance(sqlite_code, int):
        return sqlite_code
    if type(driver).__module__.split(".")[0] in {"pymysql", "MySQLdb", "aiomysql"}:
        args = getattr(driver, "args", ())
        if args and isinstance(args[0], int):
            return args[0]
    return None


def _status_for_code(exc: BaseException) -> ErrorStatus | None:
    code = database_error_code(exc)
    if code is None:
        return None
    if isinstance(code, str):
        return SQLSTATE_STATUS.get(code) or SQLSTATE_CLASS_STATUS.get(code[:2])
    driver = _driver_error(exc) or exc
    if isinstance(getattr(driver, "sqlite_errorcode", None), int):
        return SQLITE_CODE_STATUS.get(code & 0xFF)
    return MYSQL_ERRNO_STATUS.get(code)


def status_for(exc: BaseException) -> ErrorStatus:
    """Choose the HTTP answer for a moltres error.

    Args:
        exc: The error, usually a :class:`MoltresError`.

    Returns:
        The matching :class:`ErrorStatus`; 500 when nothing more specific applies.

    Example:
        >>> from moltres.utils.exceptions import TableNotFoundError
        >>> status_for(TableNotFoundError("userz", ["users"])).status
        404
    """
    for klass in type(exc).__mro__:
        found = EXCEPTION_STATUS.get(klass)
        if found is None:
            continue
        if klass is ExecutionError or klass is MoltresError:
            # A generic failure: the database's own code can say more than the class.
            return _status_for_code(exc) or found
        return found
    return EXCEPTION_STATUS[MoltresError]


def error_payload(exc: BaseException, *, debug: bool) -> dict[str, Any]:
    """Build the JSON body that describes `exc` to an HTTP client.

    Args:
        exc: The error to describe.
        debug: Add the suggestion, the SQL (with placeholders, never values), the context
            and the database code. Never turn this on in production.

    Returns:
        ``{"error": code, "status": int, "message": str}`` plus the debug fields.

    Example:
        >>> from moltres.utils.exceptions import ColumnNotFoundError
        >>> body = error_payload(ColumnNotFoundError("emial", ["id", "email"]), debug=False)
        >>> body["status"], body["error"]
        (400, 'column_not_found')
        >>> "suggestion" in body
        False
    """
    found = status_for(exc)
    message = getattr(exc, "message", None) if isinstance(exc, MoltresError) else None
    show_message = debug or found.public_detail
    payload: dict[str, Any] = {
        "error": found.code,
        "status": found.status,
        "message": message if (show_message and message) else found.title,
    }
    if debug:
        payload["type"] = type(exc).__name__
        suggestion = getattr(exc, "suggestion", None)
        if suggestion:
            payload["suggestion"] = suggestion
        sql = getattr(exc, "sql", None)
        if sql:
            payload["sql"] = sql
        context = getattr(exc, "context", None)
        if context:
            payload["context"] = {key: str(value) for key, value in context.items()}
        code = database_error_code(exc)
        if code is not None:
            payload["database_code"] = code
    return payload


def error_headers(exc: BaseException) -> dict[str, str]:
    """Return extra response headers for `exc`: ``Retry-After`` when trying again may work.

    Example:
        >>> from moltres.utils.exceptions import DatabaseConnectionError
        >>> error_headers(DatabaseConnectionError("down"))
        {'Retry-After': '1'}
    """
    if status_for(exc).status == 503:
        return {"Retry-After": "1"}
    return {}
