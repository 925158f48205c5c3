"""Prefect 3 tasks that run moltres queries, writes and data-quality checks in the database.

Each task connects through exactly one of ``dsn=`` (a SQLAlchemy URL), ``block=`` (a
``prefect-sqlalchemy`` ``SqlAlchemyConnector``, or the name of a saved one) or
``session=`` (a SQLAlchemy ``Session``). None of them returns a live database object: they
return plain data (rows as dicts, a report dict, a summary dict, or a staging-table
reference) that Prefect can hash, persist and pass between tasks.

Retries are opt-in, as in Prefect, and sensible once enabled: every task carries
:func:`retry_on_retryable_error` as its ``retry_condition_fn``, so
``moltres_query.with_options(retries=3)`` retries a lost connection, a timeout or a deadlock,
never a failed quality check, an unknown table or a bad argument. Caching is off
(``NO_CACHE``); :data:`MOLTRES_SQL_CACHE` is an opt-in policy keyed on the compiled SQL, its
parameters and the database.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from moltres.integrations._workflow import (
    StagingReference,
    WriteMode,
    check_write_mode,
    is_retryable,
    jsonable,
    stage_table_name,
    staging_reference,
    write_to_table,
)
from moltres.utils.exceptions import MoltresError, ValidationError
from moltres.utils.optional import require

require("prefect", "prefect")

from prefect import task  # noqa: E402
from prefect.cache_policies import NO_CACHE, CachePolicy  # noqa: E402

if TYPE_CHECKING:
    from prefect.client.schemas.objects import State, TaskRun
    from prefect.context import TaskRunContext
    from sqlalchemy.orm import Session

    from moltres import Database
    from moltres.dataframe.dataframe import DataFrame

__all__ = [
    "MOLTRES_SQL_CACHE",
    "DataQualityFailed",
    "MoltresSQLCachePolicy",
    "QualityResult",
    "moltres_data_quality",
    "moltres_query",
    "moltres_to_table",
    "retry_on_retryable_error",
]

QueryFn = Callable[["Database"], "DataFrame"]


class DataQualityFailed(MoltresError):
    """Raised by ``moltres_data_quality(fail_on_error=True)`` when a check fails; never retried.

    Attributes:
        report: The quality report, as returned when ``fail_on_error`` is off.
    """

    def __init__(self, report: QualityResult) -> None:
        failed = [r for r in report.get("results", []) if r.get("status") == "failed"]
        lines = "".join(f"\n- {r.get('name')}: {r.get('message')}" for r in failed)
        super().__init__(
            f"{len(failed)} data quality check(s) failed:{lines}",
            suggestion="fix the data upstream, or relax the checks (mostly=, severity='warn')",
        )
        self.report = report


class QualityResult(dict[str, Any]):
    """A quality report as a plain dict, also readable as attributes.

    ``report["overall_status"] == "passed"`` and ``report.passed`` both work; it pickles and
    serializes to JSON like the dict it is.

    Example:
        >>> QualityResult({"overall_status": "passed", "results": []}).passed
        True
    """

    @property
    def passed(self) -> bool:
        """Whether every check passed."""
        return self.get("overall_status") == "passed"

    @property
    def overall_status(self) -> str:
        """``"passed"`` or ``"failed"``."""
        return str(self.get("overall_status"))

    @property
    def results(self) -> list[dict[str, Any]]:
        """One dict per check: name, type, status, counts, sample, message."""
        return list(self.get("results", []))


def retry_on_retryable_error(task: Any, task_run: TaskRun, state: State[Any]) -> bool:
    """Retry a moltres task only when the failure may pass: connection, timeout, deadlock.

    The default ``retry_condition_fn`` of every moltres task. It has effect once the task has
    ``retries``: ``moltres_query.with_options(retries=3, retry_delay_seconds=5)``.

    Args:
        task: The Prefect task.
        task_run: The failed task run.
        state: Its ``Failed`` state, which holds the exception.

    Returns:
        True to retry.

    Example:
        >>> from prefect.states import Failed
        >>> from moltres.utils.exceptions import DatabaseConnectionError
        >>> retry_on_retryable_error(None, None, Failed(data=DatabaseConnectionError("gone")))
        True
    """
    try:
        exc = state.result(raise_on_failure=False)
    except Exception as error:  # the result could not be read back: judge that error instead
        exc = error
    return isinstance(exc, BaseException) and is_retryable(exc)


@contextlib.contextmanager
def _database(
    dsn: str | None, block: Any, session: Session | None, query_timeout: float | None = None
) -> Iterator[Database]:
    """Open a Database on exactly one of `dsn`, `block` or `session`; close it afterwards."""
    from moltres import connect

    given = [name for name, value in (("dsn", dsn), ("block", block), ("session", session)) if value]
    if len(given) != 1:
        found = f"got {' and '.join(given)}" if given else "got none"
        raise ValidationError(
            f"a moltres task needs exactly one of dsn, block or session ({found})",
            suggestion='pass dsn="postgresql://...", block=SqlAlchemyConnector.load("warehouse") '
            "(or its name) or session=<SQLAlchemy Session>",
        )
    if session is not None:
        db = connect(session=session, query_timeout=query_timeout)
    elif dsn:
        db = connect(dsn, query_timeout=query_timeout)
    else:
        db = connect(engine=_block_engine(block), query_timeout=query_timeout)
    try:
        yield db
    finally:
        db.close()


def _block_engine(block: Any) -> Any:
    if isinstance(block, str):
        connector = require("prefect_sqlalchemy", "prefect").SqlAlchemyConnector
        block = connector.load(block)
    get_engine = getattr(block, "get_engine", None)
    if get_engine is None:
        raise ValidationError(
            f"block= takes a prefect-sqlalchemy SqlAlchemyConnector or its name, not {type(block).__name__}",
            suggestion='block=SqlAlchemyConnector.load("warehouse"), or block="warehouse"',
        )
    return get_engine()


def _frame(query: QueryFn | None, db: Database) -> DataFrame:
    if not callable(query):
        raise ValidationError(
            "query must be a callable that receives the Database and returns a DataFrame",
            suggestion='query=lambda db: db.table("users").select()',
        )
    df = query(db)
    if not hasattr(df, "collect") or not hasattr(df, "write"):
        raise ValidationError(
            f"the query returned {type(df).__name__}, not a DataFrame",
            suggestion='return a DataFrame, such as lambda db: db.table("users").select()',
        )
    return df


# --- caching -------------------------------------------------------------------------------------


@dataclass
class MoltresSQLCachePolicy(CachePolicy):  # type: ignore[misc, unused-ignore]
    """A Prefect cache policy keyed on the SQL a moltres task runs, its parameters and the database.

    Two runs that compile to the same statement with the same bound values on the same
    database (URL without the password) share a cached result, whatever lambdas built the
    query. Results must be persisted for a cache to work across runs; Prefect does so
    when a cache policy is set. Compiling the key opens a connection to reflect the tables.

    Example:
        >>> cached = moltres_query.with_options(
        ...     cache_policy=MOLTRES_SQL_CACHE, cache_expiration=timedelta(hours=1)
        ... )
    """

    def compute_key(
        self,
        task_ctx: TaskRunContext,
        inputs: dict[str, Any],
        flow_parameters: dict[str, Any],
        **kwargs: Any,
    ) -> str | None:
        """Hash the task name, the database, the compiled SQL, its parameters and options."""
        with _database(inputs.get("dsn"), inputs.get("block"), inputs.get("session")) as db:
            df = _frame(inputs.get("query"), db)
            parts = {
                "task": task_ctx.task.name,
                "database": db.engine.url.render_as_string(hide_password=True),
                "sql": df.to_sql(),
                "params": jsonable(df.params),
                "options": jsonable(
                    {k: inputs.get(k) for k in ("output", "stage_table", "checks", "fail_fast") if k in inputs}
                ),
            }
        text = json.dumps(parts, sort_keys=True, default=repr)
        return hashlib.sha256(text.encode()).hexdigest()


#: The opt-in SQL cache policy: ``moltres_query.with_options(cache_policy=MOLTRES_SQL_CACHE)``.
MOLTRES_SQL_CACHE = MoltresSQLCachePolicy()


# --- tasks ------------------------------------------------------------------------------------------


@task(name="moltres_query", cache_policy=NO_CACHE, retry_condition_fn=retry_on_retryable_error)
def moltres_query(
    *,
    query: QueryFn,
    dsn: str | None = None,
    block: Any = None,
    session: Session | None = None,
    query_timeout: float | None = None,
    output: Literal["rows", "table"] = "rows",
    stage_table: str | None = None,
) -> list[dict[str, Any]] | StagingReference:
    """Run a moltres query and return its rows, or stage them in a table.

    Args:
        query: A callable that receives the ``Database`` and returns a DataFrame.
        dsn: A SQLAlchemy URL. Exactly one of dsn, block, session.
        block: A ``SqlAlchemyConnector`` block, or the name of a saved one.
        session: A SQLAlchemy session.
        query_timeout: Seconds after which the database cancels the query (retryable).
        output: ``"rows"`` returns a list of dicts; ``"table"`` writes the result into a
            staging table inside the database (``CREATE TABLE ... AS SELECT``) and returns a
            reference to it, for results too large to pass around.
        stage_table: The staging table's name; defaults to one unique to the task run.

    Returns:
        The rows, or a staging reference ``{"format", "table", "row_count", "conn_id"}``.

    Example:
        >>> @flow
        ... def adults():
        ...     return moltres_query(dsn=DSN, query=lambda db: db.table("users").where(col("age") > 25))
    """
    with _database(dsn, block, session, query_timeout) as db:
        df = _frame(query, db)
        if output == "rows":
            return df.collect()
        if output != "table":
            raise ValidationError(f"unknown output {output!r}", suggestion='use output="rows" or output="table"')
        name = stage_table or _stage_name()
        count = df.write.mode("overwrite").save_as_table(name)
        return staging_reference(name, count)


def _stage_name() -> str:
    from prefect.context import TaskRunContext

    context = TaskRunContext.get()
    run = context.task_run if context is not None else None
    return stage_table_name("prefect", run.name if run else "moltres_query", str(run.id if run else ""))


@task(name="moltres_to_table", cache_policy=NO_CACHE, retry_condition_fn=retry_on_retryable_error)
def moltres_to_table(
    *,
    table_name: str,
    data: Any,
    dsn: str | None = None,
    block: Any = None,
    session: Session | None = None,
    mode: WriteMode = "append",
) -> dict[str, Any]:
    """Write rows, ``Records`` or a staged result into a table, atomically.

    A staging reference from ``moltres_query(output="table")`` on the same database is
    copied inside it (``INSERT ... SELECT``). A missing table is created with column types
    inferred from the data.

    Args:
        table_name: The target table.
        data: A list of dicts, ``Records``, or a staging reference.
        dsn: A SQLAlchemy URL. Exactly one of dsn, block, session.
        block: A ``SqlAlchemyConnector`` block, or the name of a saved one.
        session: A SQLAlchemy session.
        mode: ``"append"``, ``"overwrite"``, ``"ignore"`` or ``"error_if_exists"``.

    Returns:
        ``{"table": table_name, "rows": <rows written>, "mode": mode}``.

    Example:
        >>> @flow
        ... def load():
        ...     return moltres_to_table(dsn=DSN, table_name="users", data=[{"id": 9, "name": "Lin"}])
    """
    chosen = check_write_mode(mode)
    with _database(dsn, block, session) as db:
        count = write_to_table(db, table_name, data, chosen)
    return {"table": table_name, "rows": count, "mode": chosen}


@task(name="moltres_data_quality", cache_policy=NO_CACHE, retry_condition_fn=retry_on_retryable_error)
def moltres_data_quality(
    *,
    query: QueryFn,
    checks: Sequence[Any],
    dsn: str | None = None,
    block: Any = None,
    session: Session | None = None,
    fail_fast: bool = False,
    fail_on_error: bool = False,
) -> QualityResult:
    """Run data-quality checks in the database and return the report as a dict.

    Args:
        query: A callable that receives the ``Database`` and returns the DataFrame to check.
        checks: The checks, from ``DataQualityCheck`` factories.
        dsn: A SQLAlchemy URL. Exactly one of dsn, block, session.
        block: A ``SqlAlchemyConnector`` block, or the name of a saved one.
        session: A SQLAlchemy session.
        fail_fast: Stop at the first failed check.
        fail_on_error: Raise :class:`DataQualityFailed` (never retried) when a check fails,
            instead of returning a failed report for the flow to act on.

    Returns:
        The report: ``report["overall_status"]`` (``"passed"``/``"failed"``), also
        ``report.passed``, and ``report["results"]``.

    Example:
        >>> @flow
        ... def gate():
        ...     report = moltres_data_quality(
        ...         dsn=DSN,
        ...         query=lambda db: db.table("users"),
        ...         checks=[DataQualityCheck.column_not_null("name")],
        ...     )
        ...     return report.passed
    """
    from moltres.integrations.data_quality import QualityChecker

    with _database(dsn, block, session) as db:
        df = _frame(query, db)
        report = QualityChecker(fail_fast=fail_fast).check(df, list(checks))
    result = QualityResult(report.to_dict())
    if fail_on_error and not result.passed:
        raise DataQualityFailed(result)
    return result
