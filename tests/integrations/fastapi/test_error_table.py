"""The one table from moltres errors (and database error codes) to HTTP statuses."""

from __future__ import annotations

import sqlite3

import psycopg.errors as pg
import pymysql
import pytest
import sqlalchemy as sa

from moltres.integrations._http_errors import (
    database_error_code,
    error_headers,
    error_payload,
    status_for,
)
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


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (ValidationError("bad"), 400, "validation_error"),
        (ColumnNotFoundError("emial", ["email"]), 400, "column_not_found"),
        (TableNotFoundError("userz", ["users"]), 404, "table_not_found"),
        (DatabaseConnectionError("down"), 503, "database_unavailable"),
        (QueryTimeoutError("slow"), 504, "query_timeout"),
        (ExecutionError("failed"), 500, "database_error"),
        (CompilationError("cannot"), 500, "compilation_error"),
        (UnsupportedOperationError("no"), 500, "unsupported_operation"),
        (MissingDependencyError("pip install"), 500, "missing_dependency"),
        (MoltresError("anything"), 500, "internal_error"),
    ],
)
def test_status_by_exception_class(error, status, code):
    found = status_for(error)
    assert (found.status, found.code) == (status, code)


def test_a_subclass_outside_the_table_takes_its_nearest_base():
    class Custom(TableNotFoundError):
        pass

    assert status_for(Custom("t")).status == 404
    assert status_for(RuntimeError("not ours")).status == 500


def _sqlite_error(*statements: str) -> sqlite3.Error:
    con = sqlite3.connect(":memory:")
    try:
        for statement in statements[:-1]:
            con.execute(statement)
        con.execute(statements[-1])
    except sqlite3.Error as exc:
        return exc
    finally:
        con.close()
    raise AssertionError("the last statement should fail")


def _wrapped(driver_error: BaseException) -> ExecutionError:
    """Wrap a driver error the way the executor does: SQLAlchemy's, then ours, context chained."""
    try:
        try:
            raise sa.exc.IntegrityError("INSERT ...", {}, driver_error)
        except sa.exc.DBAPIError:
            raise ExecutionError("a constraint was violated", sql="INSERT INTO t VALUES (?)") from None
    except ExecutionError as exc:
        return exc


def test_sqlite_constraint_code_gives_409():
    driver = _sqlite_error(
        "CREATE TABLE t (id INTEGER PRIMARY KEY)", "INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (1)"
    )
    error = _wrapped(driver)
    assert database_error_code(error) == 1555  # SQLITE_CONSTRAINT_PRIMARYKEY
    assert status_for(error).status == 409
    assert error_payload(error, debug=False) == {
        "error": "conflict",
        "status": 409,
        "message": "The change conflicts with data already stored.",
    }


def test_message_text_is_never_consulted():
    # The message says "no such table", the class and code say nothing: a plain 500.
    error = ExecutionError("no such table: users; timeout; could not connect")
    assert status_for(error).status == 500
    assert database_error_code(error) is None


@pytest.mark.parametrize(
    ("driver", "status"),
    [
        (pg.UndefinedTable("x"), 404),
        (pg.UndefinedColumn("x"), 400),
        (pg.UniqueViolation("x"), 409),
        (pg.ForeignKeyViolation("x"), 409),
        (pg.InvalidTextRepresentation("x"), 400),
        (pg.QueryCanceled("x"), 504),
        (pg.DeadlockDetected("x"), 503),
        (pg.ConnectionFailure("x"), 503),
        (pg.InternalError_("x"), 500),
        (pymysql.err.ProgrammingError(1146, "Table 'x' doesn't exist"), 404),
        (pymysql.err.IntegrityError(1062, "Duplicate entry"), 409),
        (pymysql.err.OperationalError(3024, "max_execution_time exceeded"), 504),
        (pymysql.err.OperationalError(2013, "Lost connection"), 503),
        (pymysql.err.OperationalError(9999, "unknown"), 500),
    ],
)
def test_status_by_database_code(driver, status):
    assert status_for(_wrapped(driver)).status == status


def test_debug_payload_adds_suggestion_sql_context_and_code():
    error = _wrapped(pg.UniqueViolation("duplicate key"))
    error.suggestion = "check for duplicate keys"
    body = error_payload(error, debug=True)
    assert body["suggestion"] == "check for duplicate keys"
    assert body["sql"] == "INSERT INTO t VALUES (?)"
    assert body["database_code"] == "23505"
    assert body["type"] == "ExecutionError"
    assert body["message"] == "a constraint was violated"


def test_production_payload_hides_suggestion_sql_and_driver_text():
    error = QueryTimeoutError("query cancelled after 5s", sql="SELECT secret FROM vault", suggestion="add an index")
    body = error_payload(error, debug=False)
    assert body == {"error": "query_timeout", "status": 504, "message": "The query took too long and was cancelled."}
    assert "vault" not in str(body)


def test_client_errors_keep_their_own_message_in_production():
    body = error_payload(ColumnNotFoundError("emial", ["id", "email"], table="users"), debug=False)
    assert body["message"].startswith("column 'emial' does not exist in 'users'")
    assert "suggestion" not in body


def test_retry_after_only_when_retrying_can_help():
    assert error_headers(DatabaseConnectionError("down")) == {"Retry-After": "1"}
    assert error_headers(ValidationError("bad")) == {}
