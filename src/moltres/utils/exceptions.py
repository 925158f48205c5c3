"""Every error moltres raises.

Each error says what went wrong, where (table, column, dialect, the SQL without values) and
what to do about it (``suggestion``). They all subclass :class:`MoltresError`, so one
``except MoltresError`` catches anything the library raises on purpose.

Example:
    >>> from moltres.utils.exceptions import ColumnNotFoundError
    >>> err = ColumnNotFoundError("emial", ["id", "email"], table="users")
    >>> err.suggestion
    "did you mean 'email'?"
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "MoltresError",
    "ValidationError",
    "CompilationError",
    "ExecutionError",
    "DatabaseConnectionError",
    "QueryTimeoutError",
    "TableNotFoundError",
    "ColumnNotFoundError",
    "MissingDependencyError",
    "UnsupportedOperationError",
    "DataQualityError",
    "DataFormatError",
    "SourceNotFoundError",
    "closest_match",
]


def closest_match(name: str, candidates: Iterable[str]) -> str | None:
    """Return the candidate most similar to `name`, or None when nothing is close.

    Example:
        >>> closest_match("emial", ["id", "email", "age"])
        'email'
    """
    options = list(candidates)
    by_lower = {c.lower(): c for c in options}
    if name.lower() in by_lower:
        return by_lower[name.lower()]
    found = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[found[0]] if found else None


class MoltresError(Exception):
    r"""Base class of every moltres error.

    Args:
        message: What went wrong, in one sentence.
        suggestion: What the user can do about it.
        context: Where it happened (table, column, dialect, operation ...).

    Example:
        >>> str(MoltresError("boom", suggestion="try again"))
        'boom\nSuggestion: try again'
    """

    def __init__(self, message: str, *, suggestion: str | None = None, **context: object) -> None:
        super().__init__(message)
        self.message = message
        self.suggestion = suggestion
        self.context: dict[str, object] = {k: v for k, v in context.items() if v is not None}

    def __str__(self) -> str:
        text = self.message
        if self.suggestion:
            text += f"\nSuggestion: {self.suggestion}"
        return text


class ValidationError(MoltresError, ValueError):
    """An argument is wrong: a bad type, an unknown mode, an invalid identifier."""


class CompilationError(MoltresError):
    """A plan cannot be turned into SQL for this dialect."""


class UnsupportedOperationError(CompilationError):
    """The dialect has no way to express an operation; the message names an alternative."""


class ExecutionError(MoltresError):
    """The database refused or failed a statement.

    ``sql`` holds the statement text with placeholders, never the parameter values.
    """

    def __init__(
        self,
        message: str,
        *,
        sql: str | None = None,
        suggestion: str | None = None,
        retryable: bool = False,
        **context: object,
    ) -> None:
        super().__init__(message, suggestion=suggestion, **context)
        self.sql = sql
        self.retryable = retryable

    def __str__(self) -> str:
        text = super().__str__()
        if self.sql:
            text += f"\nSQL: {self.sql}"
        return text


class DatabaseConnectionError(ExecutionError):
    """The database could not be reached, or the DSN is malformed. Passwords are masked."""

    def __init__(self, message: str, *, suggestion: str | None = None, **context: object) -> None:
        super().__init__(message, suggestion=suggestion, retryable=True, **context)  # type: ignore[arg-type]  # context never holds sql


class QueryTimeoutError(ExecutionError):
    """A statement ran longer than its ``query_timeout`` and was cancelled."""

    def __init__(
        self, message: str, *, sql: str | None = None, suggestion: str | None = None, **context: object
    ) -> None:
        super().__init__(message, sql=sql, suggestion=suggestion, retryable=True, **context)


class TableNotFoundError(ExecutionError):
    """A table named in a query does not exist."""

    def __init__(
        self,
        table: str,
        known: Iterable[str] = (),
        *,
        sql: str | None = None,
        suggestion: str | None = None,
    ) -> None:
        known = sorted(known)
        match = closest_match(table, known)
        if suggestion is None:
            if match:
                suggestion = f"did you mean '{match}'?"
            else:
                suggestion = "create it with db.create_table(...) or check db.tables()"
        super().__init__(f"table '{table}' does not exist", sql=sql, suggestion=suggestion, table=table)
        self.table = table
        self.known_tables = known


class ColumnNotFoundError(ValidationError):
    """A column named in a query does not exist in its source; lists the known ones."""

    def __init__(self, column: str, known: Iterable[str], *, table: str | None = None) -> None:
        known = list(known)
        match = closest_match(column, known)
        where = "" if not table else f" in {table}" if "'" in table or " " in table else f" in '{table}'"
        message = f"column '{column}' does not exist{where}; known columns: {', '.join(known) or '(none)'}"
        suggestion = f"did you mean '{match}'?" if match else "use one of the known columns"
        super().__init__(message, suggestion=suggestion, table=table, column=column)
        self.column = column
        self.known_columns = known


class DataQualityError(MoltresError):
    """Data-quality checks failed where they gate something (an ETL load); ``report`` holds the results."""

    def __init__(self, message: str, *, report: object = None, suggestion: str | None = None) -> None:
        super().__init__(message, suggestion=suggestion or "see error.report for each check's failing rows and samples")
        self.report = report


class MissingDependencyError(MoltresError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


class DataFormatError(ValidationError):
    """Input data does not fit its format or schema: a malformed row, a value of the wrong type.

    ``path``, ``line`` (1-based, in the file) and ``column`` say where, when known.

    Example:
        >>> err = DataFormatError("not a number: 'x'", path="a.csv", line=3, column="age")
        >>> (err.line, err.column)
        (3, 'age')
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        column: str | None = None,
        suggestion: str | None = None,
    ) -> None:
        where = ", ".join(
            part
            for part in (
                path,
                f"line {line}" if line is not None else None,
                f"column '{column}'" if column is not None else None,
            )
            if part
        )
        super().__init__(
            f"{where}: {message}" if where else message,
            suggestion=suggestion,
            path=path,
            line=line,
            column=column,
        )
        self.reason = message
        self.path = path
        self.line = line
        self.column = column


class SourceNotFoundError(MoltresError, FileNotFoundError):
    """A file to read does not exist; also a ``FileNotFoundError``."""
