"""Airflow operators that run moltres queries, writes and data-quality checks in the database.

Every operator connects in one of three ways, exactly one per operator (checked when the
DAG file is parsed):

- ``conn_id``: an Airflow Connection. The engine comes from the provider hook's
  ``get_sqlalchemy_engine()``, so connections from secrets backends and ``AIRFLOW_CONN_*``
  variables work, with the provider's own URL building.
- ``dsn``: a SQLAlchemy URL. Its password is registered with Airflow's secrets masker, so it
  never appears in task logs or rendered fields.
- ``session``: a SQLAlchemy ``Session`` (for DAGs run in-process, such as ``dag.test()``).

Failures are classified for Airflow's retry logic: a lost connection, a timeout or a
deadlock raises ``AirflowException`` (retried per the task's ``retries``); a failed quality
check, a bad argument, an unknown table or column, or SQL the database rejects raises
``AirflowFailException``, which fails the task without retrying. The moltres error is kept
as the cause, and its message carries the suggestion.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from moltres.integrations._workflow import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_ROWS,
    WriteMode,
    check_write_mode,
    encode_rows,
    is_retryable,
    is_staging_reference,
    jsonable,
    stage_table_name,
    staging_reference,
    write_to_table,
)
from moltres.utils.exceptions import MoltresError, ValidationError
from moltres.utils.optional import require

require("airflow.sdk", "airflow")

from airflow.sdk import BaseHook, BaseOperator, XComArg  # noqa: E402

try:
    from airflow.sdk.exceptions import AirflowException, AirflowFailException
except ImportError:  # Airflow 3.0 kept them in airflow.exceptions
    from airflow.exceptions import AirflowException, AirflowFailException  # type: ignore[no-redef, attr-defined, unused-ignore]

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from moltres import Database
    from moltres.dataframe.dataframe import DataFrame

__all__ = [
    "MoltresDataQualityOperator",
    "MoltresQueryOperator",
    "MoltresStagingCleanupOperator",
    "MoltresToTableOperator",
]

QueryFn = Callable[["Database"], "DataFrame"]
Output = Literal["xcom", "table"]


def _mask_secret(secret: str) -> None:
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # Airflow 3.0
        from airflow.sdk.execution_time.secrets_masker import (  # type: ignore[no-redef, import-not-found, unused-ignore]
            mask_secret,
        )
    mask_secret(secret)


def _mask_dsn(dsn: str) -> None:
    """Register the DSN's password (and the DSN itself) with Airflow's secrets masker."""
    import sqlalchemy as sa

    try:
        password = sa.make_url(dsn).password
    except sa.exc.ArgumentError:
        return  # a templated or malformed DSN: connect() reports it, masked
    if password:
        _mask_secret(str(password))


def _failure_message(exc: BaseException) -> str:
    context = getattr(exc, "context", None)
    where = ", ".join(f"{k}={v}" for k, v in context.items()) if context else ""
    text = f"{type(exc).__name__}: {exc}"
    return f"{text}\nContext: {where}" if where else text


@contextlib.contextmanager
def _airflow_failures() -> Iterator[None]:
    """Re-raise moltres and database errors as retryable or non-retryable Airflow failures."""
    import sqlalchemy as sa

    try:
        yield
    except AirflowException:
        raise
    except (MoltresError, sa.exc.SQLAlchemyError) as exc:
        if is_retryable(exc):
            raise AirflowException(_failure_message(exc)) from exc
        raise AirflowFailException(_failure_message(exc)) from exc


class _MoltresOperator(BaseOperator):  # type: ignore[misc, unused-ignore]
    """Connection handling and failure translation shared by the moltres operators."""

    template_fields: Sequence[str] = ("conn_id", "dsn")
    ui_color = "#f6e7c1"

    def __init__(
        self,
        *,
        conn_id: str | None = None,
        dsn: str | None = None,
        session: Session | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        given = [name for name, value in (("conn_id", conn_id), ("dsn", dsn), ("session", session)) if value]
        if len(given) != 1:
            found = f"got {' and '.join(given)}" if given else "got none"
            raise ValidationError(
                f"{type(self).__name__} '{self.task_id}' needs exactly one of conn_id, dsn or session ({found})",
                suggestion='pass conn_id="my_connection" (an Airflow Connection), dsn="postgresql://..." '
                "or session=<SQLAlchemy Session>",
            )
        if dsn:
            _mask_dsn(dsn)
        self.conn_id = conn_id
        self.dsn = dsn
        self.session = session

    @contextlib.contextmanager
    def _database(self, query_timeout: float | None = None) -> Iterator[Database]:
        """Open a Database on the configured connection, and close what was opened here."""
        from moltres import connect

        if self.session is not None:
            db = connect(session=self.session, query_timeout=query_timeout)
            try:
                yield db
            finally:
                db.close()
            return
        if self.dsn:
            _mask_dsn(self.dsn)  # the rendered value, if the DSN was templated
            db = connect(self.dsn, query_timeout=query_timeout)
            try:
                yield db
            finally:
                db.close()
            return
        hook = BaseHook.get_connection(str(self.conn_id)).get_hook()  # type: ignore[no-untyped-call, unused-ignore]
        if not hasattr(hook, "get_sqlalchemy_engine"):
            raise ValidationError(
                f"connection '{self.conn_id}' uses {type(hook).__name__}, which cannot give a SQLAlchemy engine",
                suggestion="use a SQL connection type (postgres, sqlite, mysql, ...) whose provider is installed",
            )
        engine = hook.get_sqlalchemy_engine()
        db = connect(engine=engine, query_timeout=query_timeout)
        try:
            yield db
        finally:
            db.close()
            engine.dispose()

    @property
    def result_key(self) -> str:
        """The XCom key this operator's result is pushed under."""
        return "return_value"

    def _publish(self, context: Any, value: Any) -> Any:
        """Push `value` under :attr:`result_key`; returned instead when that is ``return_value``."""
        if self.result_key == "return_value":
            return value
        if self.do_xcom_push:
            context["ti"].xcom_push(key=self.result_key, value=value)
        return None


class _ResultKeyMixin:
    """Push the result under ``output_key`` (default: the task id) and point ``.output`` at it."""

    output_key: str | None
    task_id: str

    @property
    def result_key(self) -> str:
        """The XCom key the result is pushed under: ``output_key``, or else the task id."""
        return self.output_key or self.task_id

    @property
    def output(self) -> XComArg:
        """The result as an ``XComArg``, for ``data=query_task.output`` or a TaskFlow call."""
        return XComArg(operator=self, key=self.result_key)  # type: ignore[call-overload, no-any-return, unused-ignore]


class MoltresQueryOperator(_ResultKeyMixin, _MoltresOperator):
    """Run a moltres query in the database and pass its result to downstream tasks.

    With ``output="xcom"`` (the default) the rows go to XCom as JSON-safe data that loses
    nothing (dates ISO, ``Decimal`` as exact strings, bytes base64, see
    :func:`~moltres.integrations._workflow.encode_rows`), capped at ``xcom_max_rows`` rows
    and ``xcom_max_bytes`` bytes: past the cap the task fails and says to stage instead.
    With ``output="table"`` the result is written by ``CREATE TABLE ... AS SELECT`` into a
    staging table inside the database, and only a reference (table name, row count,
    ``conn_id``) goes to XCom. Drop staging tables with :class:`MoltresStagingCleanupOperator`.

    Args:
        task_id: The task id.
        query: A callable that receives the ``Database`` and returns a DataFrame.
        conn_id: An Airflow connection id (templated). Exactly one of conn_id, dsn, session.
        dsn: A SQLAlchemy URL (templated); its password is masked in logs.
        session: A SQLAlchemy session.
        output_key: The XCom key of the result; defaults to the task id. ``.output`` reads it.
        query_timeout: Seconds after which the database cancels the query (a retryable failure).
        do_xcom_push: Whether to push the result at all.
        output: ``"xcom"`` for rows, ``"table"`` for a staging table.
        stage_table: The staging table's name (templated); defaults to a name unique to the
            DAG, task and run.
        xcom_max_rows: Most rows pushed with ``output="xcom"``; None for no limit.
        xcom_max_bytes: Most bytes of JSON pushed with ``output="xcom"``; None for no limit.
        **kwargs: Any ``BaseOperator`` argument (``retries``, ``execution_timeout``, ...).

    Example:
        >>> query_task = MoltresQueryOperator(
        ...     task_id="query_users",
        ...     conn_id="warehouse",
        ...     query=lambda db: db.table("users").select().where(col("active") == True),
        ...     output_key="active_users",
        ... )
    """

    template_fields: Sequence[str] = ("conn_id", "dsn", "stage_table")
    outputs: ClassVar[tuple[str, ...]] = ("xcom", "table")

    def __init__(
        self,
        *,
        query: QueryFn,
        conn_id: str | None = None,
        dsn: str | None = None,
        session: Session | None = None,
        output_key: str | None = None,
        query_timeout: float | None = None,
        do_xcom_push: bool = True,
        output: Output = "xcom",
        stage_table: str | None = None,
        xcom_max_rows: int | None = DEFAULT_MAX_ROWS,
        xcom_max_bytes: int | None = DEFAULT_MAX_BYTES,
        **kwargs: Any,
    ) -> None:
        super().__init__(conn_id=conn_id, dsn=dsn, session=session, do_xcom_push=do_xcom_push, **kwargs)
        if not callable(query):
            raise ValidationError(
                f"MoltresQueryOperator '{self.task_id}': query must be a callable, not {type(query).__name__}",
                suggestion='pass query=lambda db: db.table("users").select()',
            )
        if output not in self.outputs:
            raise ValidationError(
                f"MoltresQueryOperator '{self.task_id}': unknown output {output!r}",
                suggestion='use output="xcom" (rows) or output="table" (a staging table)',
            )
        self.query = query
        self.output_key = output_key
        self.query_timeout = query_timeout
        self.output_mode: Output = output
        self.stage_table = stage_table
        self.xcom_max_rows = xcom_max_rows
        self.xcom_max_bytes = xcom_max_bytes

    def execute(self, context: Any) -> Any:
        """Run the query and push the rows or the staging reference."""
        with _airflow_failures(), self._database(self.query_timeout) as db:
            df = _build(self.query, db, self.task_id)
            return self._deliver(df, db, context)

    def _deliver(self, df: DataFrame, db: Database, context: Any) -> Any:
        """Stage `df` or encode its rows, per ``output``, and publish the result."""
        if self.output_mode == "table":
            ti = context["ti"]
            name = self.stage_table or stage_table_name(
                self.dag_id, self.task_id, str(ti.run_id), str(getattr(ti, "map_index", -1))
            )
            df.write.mode("overwrite").save_as_table(name)
            count = db.table(name).count()
            self.log.info("Staged %d rows in table %s", count, name)
            return self._publish(context, staging_reference(name, count, conn_id=self.conn_id))
        if not self.do_xcom_push:
            count = sum(len(chunk) for chunk in df.collect(stream=True))
            self.log.info("Query returned %d rows (not pushed: do_xcom_push=False)", count)
            return None
        # Closed explicitly: over the cap, encoding stops midway through the cursor.
        with contextlib.closing(df.collect(stream=True)) as chunks:  # type: ignore[type-var, unused-ignore]
            payload = encode_rows(chunks, df.columns, max_rows=self.xcom_max_rows, max_bytes=self.xcom_max_bytes)
        self.log.info("Query returned %d rows; pushing them as XCom %r", payload["row_count"], self.result_key)
        return self._publish(context, payload)


def _build(query: QueryFn, db: Database, task_id: str) -> DataFrame:
    df = query(db)
    if not hasattr(df, "collect") or not hasattr(df, "write"):
        raise ValidationError(
            f"the query of task '{task_id}' returned {type(df).__name__}, not a DataFrame",
            suggestion='return a DataFrame, such as lambda db: db.table("users").select()',
        )
    return df


class MoltresToTableOperator(_MoltresOperator):
    """Write rows or a staged result from an upstream task into a table, atomically.

    The input is ``data`` (such as ``query_task.output``, a list of dicts or a staging
    reference), or else the XCom ``input_key``, looked up across the task's upstream
    tasks, nearest first (so a write two steps after the query finds its output). Without
    either, the result of the single upstream moltres task is used. A staging table on the
    same database is copied inside it (``INSERT ... SELECT``); rows are inserted in batches,
    in one transaction. A missing table is created with types inferred from the data.

    Args:
        task_id: The task id.
        table_name: The target table (templated).
        input_key: The XCom key to read, from the upstream tasks.
        data: The input itself; an ``XComArg`` is resolved at run time.
        mode: ``"append"``, ``"overwrite"``, ``"ignore"`` or ``"error_if_exists"``.
        if_exists: An alias of ``mode``.
        conn_id: An Airflow connection id (templated). Exactly one of conn_id, dsn, session.
        dsn: A SQLAlchemy URL (templated); its password is masked in logs.
        session: A SQLAlchemy session.
        **kwargs: Any ``BaseOperator`` argument.

    Example:
        >>> write_task = MoltresToTableOperator(
        ...     task_id="write_results",
        ...     conn_id="warehouse",
        ...     table_name="active_users_summary",
        ...     input_key="active_users",
        ...     mode="overwrite",
        ... )
    """

    template_fields: Sequence[str] = ("conn_id", "dsn", "table_name", "input_key")

    def __init__(
        self,
        *,
        table_name: str,
        input_key: str | None = None,
        data: Any = None,
        mode: WriteMode | None = None,
        if_exists: WriteMode | None = None,
        conn_id: str | None = None,
        dsn: str | None = None,
        session: Session | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(conn_id=conn_id, dsn=dsn, session=session, **kwargs)
        if mode is not None and if_exists is not None and mode != if_exists:
            raise ValidationError(
                f"MoltresToTableOperator '{self.task_id}': mode={mode!r} and if_exists={if_exists!r} disagree",
                suggestion="pass only one of them (if_exists is an alias of mode)",
            )
        if not table_name:
            raise ValidationError(
                f"MoltresToTableOperator '{self.task_id}' needs a table_name",
                suggestion='pass table_name="target_table"',
            )
        self.table_name = table_name
        self.input_key = input_key
        self.data = data
        self.mode: WriteMode = check_write_mode(mode or if_exists or "append")
        if isinstance(data, XComArg):
            XComArg.apply_upstream_relationship(self, data)

    def execute(self, context: Any) -> dict[str, Any]:
        """Write the input into the table; return (and push) a short summary."""
        with _airflow_failures():
            value = self._input(context)
            with self._database() as db:
                count = write_to_table(db, self.table_name, value, self.mode)
        self.log.info("Wrote %d rows into %s (mode=%s)", count, self.table_name, self.mode)
        return {"table": self.table_name, "rows": count, "mode": self.mode}

    def _input(self, context: Any) -> Any:
        if self.data is not None:
            return self.data.resolve(context) if isinstance(self.data, XComArg) else self.data
        ti = context["ti"]
        level = sorted(self.upstream_task_ids)
        seen: set[str] = set()
        searched: list[str] = []
        while level:
            found: dict[str, Any] = {}
            for task_id in level:
                key = self.input_key or _result_key_of(self.dag.get_task(task_id))
                value = ti.xcom_pull(task_ids=task_id, key=key)
                searched.append(f"{task_id}[{key}]")
                if value is not None:
                    found[task_id] = value
            if len(found) == 1:
                return next(iter(found.values()))
            if found:
                raise ValidationError(
                    f"task '{self.task_id}': several upstream tasks pushed its input: {', '.join(sorted(found))}",
                    suggestion="pass data=<task>.output to say which one",
                )
            if self.input_key is None:
                break  # without a key, only the direct upstream task's own result counts
            seen.update(level)
            level = sorted({up for t in level for up in self.dag.get_task(t).upstream_task_ids} - seen)
        what = f"XCom key '{self.input_key}'" if self.input_key else "a result"
        raise ValidationError(
            f"task '{self.task_id}' found no input: no upstream task pushed {what} "
            f"(searched {', '.join(searched) or 'nothing: the task has no upstream tasks'})",
            suggestion="set the query task upstream of this one (query >> write), check input_key "
            "against the query's output_key, or pass data=query_task.output",
        )


def _result_key_of(task: Any) -> str:
    key = getattr(task, "result_key", None)
    return key if isinstance(key, str) else "return_value"


class MoltresDataQualityOperator(_ResultKeyMixin, _MoltresOperator):
    """Run data-quality checks in the database and fail the task when they do not pass.

    The checks run through :class:`~moltres.integrations.data_quality.QualityChecker`,
    pushed down as SQL. The report (JSON-safe) is pushed to XCom before the task fails, so a
    failed run still shows which checks failed; the failure lists each of them and does not
    retry.

    Args:
        task_id: The task id.
        query: A callable that receives the ``Database`` and returns the DataFrame to check.
        checks: The checks, from ``DataQualityCheck`` factories (plain dicts).
        fail_on_error: Whether failed checks fail the task.
        fail_fast: Whether to stop at the first failed check.
        output_key: The XCom key of the report; defaults to the task id.
        do_xcom_push: Whether to push the report.
        conn_id: An Airflow connection id (templated). Exactly one of conn_id, dsn, session.
        dsn: A SQLAlchemy URL (templated); its password is masked in logs.
        session: A SQLAlchemy session.
        **kwargs: Any ``BaseOperator`` argument.

    Example:
        >>> quality_check = MoltresDataQualityOperator(
        ...     task_id="check_quality",
        ...     conn_id="warehouse",
        ...     query=lambda db: db.table("users").select(),
        ...     checks=[DataQualityCheck.column_not_null("email")],
        ... )
    """

    def __init__(
        self,
        *,
        query: QueryFn,
        checks: Sequence[Any],
        fail_on_error: bool = True,
        fail_fast: bool = False,
        output_key: str | None = None,
        do_xcom_push: bool = True,
        conn_id: str | None = None,
        dsn: str | None = None,
        session: Session | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(conn_id=conn_id, dsn=dsn, session=session, do_xcom_push=do_xcom_push, **kwargs)
        if not callable(query):
            raise ValidationError(
                f"MoltresDataQualityOperator '{self.task_id}': query must be a callable",
                suggestion='pass query=lambda db: db.table("users").select()',
            )
        if not checks:
            raise ValidationError(
                f"MoltresDataQualityOperator '{self.task_id}' has no checks",
                suggestion='pass checks=[DataQualityCheck.column_not_null("email"), ...]',
            )
        self.query = query
        self.checks = list(checks)
        self.fail_on_error = fail_on_error
        self.fail_fast = fail_fast
        self.output_key = output_key

    def execute(self, context: Any) -> Any:
        """Run the checks, push the report, and fail when a check failed."""
        from moltres.integrations.data_quality import QualityChecker

        with _airflow_failures(), self._database() as db:
            df = _build(self.query, db, self.task_id)
            report = QualityChecker(fail_fast=self.fail_fast).check(df, self.checks)
        summary = jsonable(report.to_dict())
        self.log.info("Data quality: %s\n%s", report.overall_status, report)
        published = self._publish(context, summary)
        if not report.passed and self.fail_on_error:
            failed = [r for r in summary.get("results", []) if r.get("status") == "failed"]
            lines = "\n".join(f"- {r.get('name')}: {r.get('message')}" for r in failed)
            raise AirflowFailException(f"{len(failed)} data quality check(s) failed:\n{lines}")
        return published


class MoltresStagingCleanupOperator(_MoltresOperator):
    """Drop the staging tables made by ``MoltresQueryOperator(output="table")`` tasks.

    Use it as a teardown, so it runs whether the writes succeed or fail::

        stage >> write >> cleanup.as_teardown(setups=stage)

    Args:
        task_id: The task id.
        stage_tasks: The staging query tasks (operators or task ids) whose tables to drop.
        tables: More table names to drop (templated).
        conn_id: An Airflow connection id (templated). Exactly one of conn_id, dsn, session.
        dsn: A SQLAlchemy URL (templated); its password is masked in logs.
        session: A SQLAlchemy session.
        **kwargs: Any ``BaseOperator`` argument.

    Example:
        >>> cleanup = MoltresStagingCleanupOperator(
        ...     task_id="drop_staging", conn_id="warehouse", stage_tasks=[stage]
        ... )
    """

    template_fields: Sequence[str] = ("conn_id", "dsn", "tables")

    def __init__(
        self,
        *,
        stage_tasks: Sequence[BaseOperator | str] = (),
        tables: Sequence[str] = (),
        conn_id: str | None = None,
        dsn: str | None = None,
        session: Session | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("trigger_rule", "all_done")
        super().__init__(conn_id=conn_id, dsn=dsn, session=session, **kwargs)
        self.stage_task_ids = [t if isinstance(t, str) else t.task_id for t in stage_tasks]
        self.tables = list(tables)

    def execute(self, context: Any) -> list[str]:
        """Drop every staging table found; missing ones are skipped. Return the names dropped."""
        ti = context["ti"]
        names = list(self.tables)
        for task_id in self.stage_task_ids:
            reference = ti.xcom_pull(task_ids=task_id, key=_result_key_of(self.dag.get_task(task_id)))
            if is_staging_reference(reference):
                names.append(str(reference["table"]))
        with _airflow_failures(), self._database() as db:
            for name in names:
                db.drop_table(name, if_exists=True).collect()
        self.log.info("Dropped staging tables: %s", ", ".join(names) or "(none)")
        return names
