"""The moltres tasks inside real Prefect 3 flows, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from moltres import col, connect
from moltres.io.records import Records
from moltres.table.schema import column
from moltres.utils.exceptions import TableNotFoundError, ValidationError

pytest.importorskip("prefect")

from prefect import flow
from prefect_sqlalchemy import SqlAlchemyConnector

from moltres.integrations.data_quality import DataQualityCheck
from moltres.integrations.prefect import (
    MOLTRES_SQL_CACHE,
    DataQualityFailed,
    QualityResult,
    moltres_data_quality,
    moltres_query,
    moltres_to_table,
    retry_on_retryable_error,
)


def _rows(dsn: str, table: str, order: str = "id") -> list[dict[str, Any]]:
    with connect(dsn) as db:
        return db.table(table).select().order_by(order).collect()


@pytest.mark.parametrize("min_age", [0, 18], ids=["check_fails", "check_passes"])
def test_conditional_pipeline_gates_the_write_on_the_report(dsn, users, min_age):
    """The seed's conditional_pipeline: the quality report decides whether the write runs."""

    @flow
    def conditional_pipeline():
        adults = moltres_query(dsn=dsn, query=lambda db: db.table("users").select("id", "name").where(col("age") > 25))
        quality_report = moltres_data_quality(
            dsn=dsn,
            query=lambda db: db.table("users").select(),
            checks=[
                DataQualityCheck.column_not_null("email"),
                DataQualityCheck.column_range("age", min=min_age, max=150),
            ],
        )
        if quality_report["overall_status"] == "passed":
            return moltres_to_table(dsn=dsn, table_name="checked", data=adults, mode="overwrite")
        return {"status": "failed", "report": quality_report}

    result = conditional_pipeline()

    with connect(dsn) as db:
        written = db.table_exists("checked")
    if min_age == 0:
        assert result == {"table": "checked", "rows": 3, "mode": "overwrite"}
        assert [r["name"] for r in _rows(dsn, "checked")] == ["Ada", "Cy", "Di"]
    else:
        assert result["status"] == "failed"
        assert result["report"].passed is False
        assert not written


def test_query_returns_python_values_and_parallel_submissions(dsn):
    with connect(dsn) as db:
        db.create_table(
            "orders", [column("id", "INTEGER"), column("day", "DATE"), column("amount", "NUMERIC(12,2)")]
        ).collect()
        db.insert("orders", [{"id": i, "day": dt.date(2024, 1, i), "amount": Decimal(f"{i}.25")} for i in range(1, 7)])
    seen_threads: set[str] = set()

    def select(low: int, high: int):
        def query(db):
            seen_threads.add(threading.current_thread().name)
            return db.table("orders").select("id", "day", "amount").where((col("id") >= low) & (col("id") < high))

        return query

    @flow
    def parallel_pipeline():
        futures = [moltres_query.submit(dsn=dsn, query=select(low, low + 2)) for low in (1, 3, 5)]
        return [row for future in futures for row in future.result()]

    rows = parallel_pipeline()

    assert [r["id"] for r in rows] == [1, 2, 3, 4, 5, 6]
    if dsn.startswith("postgresql"):
        assert rows[0] == {"id": 1, "day": dt.date(2024, 1, 1), "amount": Decimal("1.25")}
    assert len(seen_threads) >= 2  # the submissions ran concurrently, on the task runner's threads


def test_connection_failure_is_retried_then_succeeds(tmp_path: Path):
    folder = tmp_path / "not-yet"
    failures: list[str] = []

    def outage_over_then_ask_moltres(task, task_run, state) -> bool:
        failures.append(type(state.result(raise_on_failure=False)).__name__)
        folder.mkdir(exist_ok=True)  # the "outage" ends before the retry
        return retry_on_retryable_error(task, task_run, state)

    def query(db):
        return db.sql("SELECT 1 AS one")

    retrying = moltres_query.with_options(
        retries=2, retry_delay_seconds=0, retry_condition_fn=outage_over_then_ask_moltres
    )

    @flow
    def pipeline():
        return retrying(dsn=f"sqlite:///{folder / 'db.sqlite'}", query=query)

    assert pipeline() == [{"one": 1}]
    assert failures == ["DatabaseConnectionError"]  # one failed attempt, then success


def test_quality_failure_is_not_retried(dsn, users):
    attempts: list[int] = []

    def query(db):
        attempts.append(1)
        return db.table("users").select()

    strict = moltres_data_quality.with_options(retries=3, retry_delay_seconds=0)

    @flow
    def pipeline():
        return strict(dsn=dsn, query=query, checks=[DataQualityCheck.column_range("age", min=18)], fail_on_error=True)

    with pytest.raises(DataQualityFailed, match="range_age") as failure:
        pipeline()

    assert len(attempts) == 1
    assert failure.value.report["overall_status"] == "failed"


def test_unknown_table_is_not_retried(dsn):
    attempts: list[int] = []

    def query(db):
        attempts.append(1)
        return db.table("no_such_table").select()

    @flow
    def pipeline():
        return moltres_query.with_options(retries=2, retry_delay_seconds=0)(dsn=dsn, query=query)

    with pytest.raises(TableNotFoundError):
        pipeline()
    assert len(attempts) == 1


def test_to_table_modes_records_and_staging(dsn, users):
    @flow
    def pipeline():
        staged = moltres_query(
            dsn=dsn,
            query=lambda db: db.table("users").select("id", "name").where(col("active") == True),  # noqa: E712
            output="table",
            stage_table="stage_active",
        )
        first = moltres_to_table(dsn=dsn, table_name="active", data=staged, mode="overwrite")
        again = moltres_to_table(dsn=dsn, table_name="active", data=staged, mode="ignore")
        more = moltres_to_table(
            dsn=dsn, table_name="active", data=Records.from_list([{"id": 9, "name": "Lin"}]), mode="append"
        )
        return staged, first, again, more

    staged, first, again, more = pipeline()

    assert staged == {"format": "moltres.table/v1", "table": "stage_active", "row_count": 3, "conn_id": None}
    assert first["rows"] == 3 and again["rows"] == 0 and more["rows"] == 1
    assert [r["name"] for r in _rows(dsn, "active")] == ["Ada", "Cy", "Di", "Lin"]


def test_to_table_takes_an_airflow_xcom_payload_without_loss(dsn):
    """Rows handed over from an Airflow task (its JSON-safe XCom payload) land with their types."""
    from moltres.integrations._workflow import encode_rows

    rows = [
        {"id": 1, "day": dt.date(2024, 2, 29), "price": Decimal("19.99")},
        {"id": 2, "day": None, "price": Decimal("0.10")},
    ]
    payload = encode_rows([rows], ["id", "day", "price"])
    assert payload["rows"][0]["price"] == "19.99"  # a string in transit, not a lossy float
    with connect(dsn) as db:
        db.create_table(
            "priced", [column("id", "INTEGER"), column("day", "DATE"), column("price", "NUMERIC(10, 2)")]
        ).collect()

    @flow
    def handover():
        return moltres_to_table(dsn=dsn, table_name="priced", data=payload)

    assert handover()["rows"] == 2
    assert _rows(dsn, "priced") == rows
    with pytest.raises(ValidationError, match="too large"):
        encode_rows([rows], ["id", "day", "price"], max_rows=1)


def test_staging_tables_are_named_after_their_task_run(dsn, users):
    @flow
    def pipeline():
        everyone = moltres_query(dsn=dsn, query=lambda db: db.table("users").select("id"), output="table")
        older = moltres_query(
            dsn=dsn, query=lambda db: db.table("users").select("id").where(col("id") > 2), output="table"
        )
        return everyone, older

    everyone, older = pipeline()

    assert everyone["table"] != older["table"]
    for reference, count in ((everyone, 4), (older, 2)):
        assert re.fullmatch(r"moltres_stage_moltres_query_[a-z0-9_]+", reference["table"])
        assert len(reference["table"]) <= 63  # PostgreSQL's identifier limit
        assert reference["row_count"] == count
        with connect(dsn) as db:
            assert db.table(reference["table"]).count() == count


def test_to_table_refuses_skips_or_empties_as_the_mode_says(dsn, users):
    def write(data, mode, table_name="users"):
        @flow
        def pipeline():
            return moltres_to_table(dsn=dsn, table_name=table_name, data=data, mode=mode)

        return pipeline()

    newcomer = [{"id": 5, "name": "Eve", "email": "eve@example.com", "age": 41, "active": True}]
    for data in (newcomer, []):
        with pytest.raises(ValidationError, match="table 'users' already exists"):
            write(data, "error_if_exists")
    with pytest.raises(ValidationError, match="single mapping, not rows"):
        write(newcomer[0], "append")
    assert len(_rows(dsn, "users")) == 4  # nothing above wrote

    assert write([], "append", table_name="nothing_yet") == {"table": "nothing_yet", "rows": 0, "mode": "append"}
    assert write([], "overwrite") == {"table": "users", "rows": 0, "mode": "overwrite"}

    with connect(dsn) as db:
        assert not db.table_exists("nothing_yet")  # no rows, no columns to create it from
        assert db.table("users").count() == 0  # overwrite with no rows empties, keeps the table


def test_driver_error_escaping_moltres_is_retried_when_the_database_says_busy(tmp_path: Path):
    """A query callable that uses SQLAlchemy directly raises driver errors moltres never wrapped.

    SQLite's "database is locked" (SQLITE_BUSY) passes once the lock goes: it is retried.
    """
    path = tmp_path / "busy.sqlite"
    with connect(f"sqlite:///{path}") as db:
        db.create_table("jobs", [column("id", "INTEGER")]).collect()
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the write lock; reads still pass
    failures: list[BaseException] = []

    def lock_released_then_ask_moltres(task, task_run, state) -> bool:
        failures.append(state.result(raise_on_failure=False))
        if holder.in_transaction:
            holder.rollback()
        return retry_on_retryable_error(task, task_run, state)

    def claim(db):
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA busy_timeout = 0")  # fail at once instead of waiting 5 s
            conn.exec_driver_sql("INSERT INTO jobs (id) VALUES (1)")
            conn.commit()
        return db.table("jobs").select()

    retrying = moltres_query.with_options(
        retries=2, retry_delay_seconds=0, retry_condition_fn=lock_released_then_ask_moltres
    )

    @flow
    def pipeline():
        return retrying(dsn=f"sqlite:///{path}", query=claim)

    try:
        assert pipeline() == [{"id": 1}]
    finally:
        holder.close()
    assert [type(error) for error in failures] == [sa.exc.OperationalError]
    assert "database is locked" in str(failures[0])


def test_driver_error_escaping_moltres_is_not_retried_when_the_statement_is_wrong(dsn):
    attempts: list[int] = []

    def query(db):
        attempts.append(1)
        with db.engine.connect() as conn:
            conn.exec_driver_sql("SELEC 1")
        return db.sql("SELECT 1 AS one")

    @flow
    def pipeline():
        return moltres_query.with_options(retries=2, retry_delay_seconds=0)(dsn=dsn, query=query)

    with pytest.raises(sa.exc.DBAPIError, match="syntax"):
        pipeline()
    assert len(attempts) == 1


def test_write_failure_leaves_the_target_as_it_was(dsn):
    with connect(dsn) as db:
        db.create_table("target", [column("id", "INTEGER", primary_key=True), column("name", "TEXT")]).collect()
        db.insert("target", [{"id": 1, "name": "kept"}])

    @flow
    def pipeline():
        # overwrite empties the table, then the duplicate key fails the insert: all rolled back
        return moltres_to_table(
            dsn=dsn, table_name="target", data=[{"id": 2, "name": "a"}, {"id": 2, "name": "b"}], mode="overwrite"
        )

    with pytest.raises(Exception, match=r"constraint|UNIQUE|duplicate"):
        pipeline()
    assert _rows(dsn, "target") == [{"id": 1, "name": "kept"}]


def test_block_by_instance_and_by_saved_name(dsn, users):
    connector = SqlAlchemyConnector(connection_info=dsn)
    connector.save("moltres-test-warehouse", overwrite=True)

    @flow
    def pipeline():
        by_instance = moltres_query(block=connector, query=lambda db: db.table("users").select("id"))
        by_name = moltres_query(block="moltres-test-warehouse", query=lambda db: db.table("users").select("name"))
        return by_instance, by_name

    by_instance, by_name = pipeline()
    assert [r["id"] for r in by_instance] == [1, 2, 3, 4]
    assert sorted(r["name"] for r in by_name) == ["Ada", "Bob", "Cy", "Di"]


def test_session_argument(dsn, users):
    engine = sa.create_engine(dsn)
    try:
        with sa.orm.Session(engine) as session:

            @flow
            def pipeline():
                return moltres_query(
                    session=session, query=lambda db: db.table("users").select("id").where(col("id") == 2)
                )

            assert pipeline() == [{"id": 2}]
    finally:
        engine.dispose()


def test_sql_cache_policy_reuses_results_for_the_same_sql_and_parameters(dsn, users):
    cached = moltres_query.with_options(cache_policy=MOLTRES_SQL_CACHE)

    @flow
    def pipeline(min_age: int):
        return cached(
            dsn=dsn, query=lambda db: db.table("users").select("id").where(col("age") > min_age), return_state=True
        )

    first = pipeline(30)
    second = pipeline(30)
    other = pipeline(60)

    assert first.is_completed() and first.name != "Cached"
    assert second.name == "Cached"
    assert second.result() == first.result() == [{"id": 1}, {"id": 3}]
    assert other.name != "Cached" and other.result() == [{"id": 3}]


def test_sql_cache_policy_keys_on_date_and_decimal_parameters(dsn):
    with connect(dsn) as db:
        db.create_table(
            "orders", [column("id", "INTEGER"), column("day", "DATE"), column("amount", "NUMERIC(12,2)")]
        ).collect()
        db.insert("orders", [{"id": i, "day": dt.date(2024, 1, i), "amount": Decimal(f"{i}.25")} for i in range(1, 7)])
    cached = moltres_query.with_options(cache_policy=MOLTRES_SQL_CACHE)

    @flow
    def pipeline(since: dt.date, minimum: Decimal):
        return cached(
            dsn=dsn,
            query=lambda db: db.table("orders").select("id").where((col("day") >= since) & (col("amount") >= minimum)),
            return_state=True,
        )

    first = pipeline(dt.date(2024, 1, 3), Decimal("4.25"))
    second = pipeline(dt.date(2024, 1, 3), Decimal("4.25"))
    later = pipeline(dt.date(2024, 1, 5), Decimal("4.25"))
    dearer = pipeline(dt.date(2024, 1, 3), Decimal("6.25"))

    assert first.name != "Cached" and second.name == "Cached"
    assert second.result() == first.result() == [{"id": 4}, {"id": 5}, {"id": 6}]
    assert later.name != "Cached" and later.result() == [{"id": 5}, {"id": 6}]
    assert dearer.name != "Cached" and dearer.result() == [{"id": 6}]


def test_arguments_are_validated(dsn):
    @flow
    def two_connections():
        return moltres_query(dsn=dsn, session=object(), query=lambda db: db.table("users"))

    @flow
    def no_connection():
        return moltres_to_table(table_name="t", data=[{"a": 1}])

    @flow
    def not_a_query():
        return moltres_query(dsn=dsn, query="SELECT 1")

    @flow
    def bad_mode():
        return moltres_to_table(dsn=dsn, table_name="t", data=[{"a": 1}], mode="apend")

    @flow
    def bad_block():
        return moltres_query(block=42, query=lambda db: db.sql("SELECT 1 AS x"))

    @flow
    def not_a_frame():
        return moltres_query(dsn=dsn, query=lambda db: [{"x": 1}])

    @flow
    def bad_output():
        return moltres_query(dsn=dsn, query=lambda db: db.sql("SELECT 1 AS x"), output="xcom")

    for pipeline, message in [
        (two_connections, "exactly one of dsn, block or session .got dsn and session"),
        (no_connection, "got none"),
        (not_a_query, "query must be a callable"),
        (bad_mode, "unknown save mode"),
        (bad_block, "SqlAlchemyConnector"),
        (not_a_frame, "the query returned list, not a DataFrame"),
        (bad_output, "unknown output 'xcom'"),
    ]:
        with pytest.raises(ValidationError, match=message):
            pipeline()


def test_quality_result_reads_as_dict_and_attributes():
    report = QualityResult({"overall_status": "failed", "results": [{"name": "x", "status": "failed"}]})
    assert report["overall_status"] == report.overall_status == "failed"
    assert report.passed is False
    assert report.results == [{"name": "x", "status": "failed"}]
    assert "x" in str(DataQualityFailed(report))
