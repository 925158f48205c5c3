"""The operators inside real Airflow 3 DAG runs (``dag.test()``), on SQLite and PostgreSQL.

Each run costs a few seconds, so each test covers one behaviour end to end and asserts on
what lands in the database and in XCom.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
import sqlalchemy as sa

from moltres import col, connect
from moltres.table.schema import column

pytest.importorskip("airflow.sdk")

from airflow.sdk import DAG, task

from moltres.integrations.airflow import (

    MoltresDataQualityOperator,
    MoltresQueryOperator,
    MoltresStagingCleanupOperator,
    MoltresToTableOperator,
)

START = dt.datetime(2024, 1, 1)


def _rows(dsn: str, table: str, order: str = "id") -> list[dict]:
    with connect(dsn) as db:
        return db.table(table).select().order_by(order).collect()


def _exists(dsn: str, table: str) -> bool:
    with connect(dsn) as db:
        return db.table_exists(table)


def test_query_quality_write_pipeline(run_dag, dsn, users, dag_id):
    """The seed's DAG: query >> quality >> write, with input_key found two tasks upstream."""
    with DAG(dag_id, schedule=None, start_date=START) as dag:
        query_task = MoltresQueryOperator(
            task_id="query_users",
            dsn=dsn,
            query=lambda db: db.table("users").select("id", "name", "age").where(col("active") == True),  # noqa: E712
            output_key="active_users",
        )
        quality_check = MoltresDataQualityOperator(
            task_id="check_quality",
            dsn=dsn,
            query=lambda db: db.table("users").select(),
            checks=[
                DataQualityCheck.column_not_null("email"),
                DataQualityCheck.column_range("age", min=0, max=150),
            ],
        )
        write_task = MoltresToTableOperator(
            task_id="write_results",
            dsn=dsn,
            table_name="active_users_summary",
            input_key="active_users",
        )
        query_task >> quality_check >> write_task

    run = run_dag(dag)

    assert run_dag.states(run) == dict.fromkeys(["query_users", "check_quality", "write_results"], "success")
    assert _rows(dsn, "active_users_summary") == [
        {"id": 1, "name": "Ada", "age": 36},
        {"id": 3, "name": "Cy", "age": 64},
        {"id": 4, "name": "Di", "age": 29},
    ]
    report = run_dag.xcom(run, "check_quality", key="check_quality")
    assert report["overall_status"] == "passed"
    payload = run_dag.xcom(run, "query_users", key="active_users")
    assert payload["row_count"] == 3 and payload["columns"] == ["id", "name", "age"]
    assert run_dag.xcom(run, "write_results") == {"table": "active_users_summary", "rows": 3, "mode": "append"}


def test_failing_check_fails_the_run_and_leaves_the_target_untouched(run_dag, dsn, users, dag_id):
    with connect(dsn) as db:
        db.create_table("target", [column("id", "INTEGER"), column("name", "TEXT")]).collect()
        db.insert("target", [{"id": 99, "name": "before"}])

    with DAG(dag_id, schedule=None, start_date=START) as dag:
        query_task = MoltresQueryOperator(
            task_id="query", dsn=dsn, query=lambda db: db.table("users").select("id", "name")
        )
        quality = MoltresDataQualityOperator(
            task_id="quality",
            dsn=dsn,
            query=lambda db: db.table("users").select(),
            checks=[
                DataQualityCheck.column_range("age", min=18, max=150),
                DataQualityCheck.column_not_null("email"),
            ],
            retries=3,
            retry_delay=dt.timedelta(0),
        )
        write = MoltresToTableOperator(task_id="write", dsn=dsn, table_name="target", data=query_task.output)
        query_task >> quality >> write

    run = run_dag(dag)

    assert run.state == "failed"
    states = run_dag.states(run)
    assert states["quality"] == "failed"
    assert states["write"] == "upstream_failed"
    assert run_dag.tries(run)["quality"] == 1  # a failed check is not retried
    assert _rows(dsn, "target") == [{"id": 99, "name": "before"}]
    report = run_dag.xcom(run, "quality", key="quality")  # pushed before the task failed
    assert report["overall_status"] == "failed"
    failed = [r["name"] for r in report["results"] if r["status"] == "failed"]
    assert failed == ["range_age"]


def test_xcom_round_trip_keeps_dates_decimals_and_bytes(run_dag, backend, dsn, dag_id):
    rows = [
        {
            "id": 1,
            "day": dt.date(2024, 2, 29),
            "at": dt.datetime(2024, 2, 29, 23, 59, 58, 123456),
            "price": Decimal("12345678.9012"),
            "blob": b"\x00\xffmoltres",
        },
        {"id": 2, "day": None, "at": None, "price": Decimal("0.0001"), "blob": None},
    ]
    with connect(dsn) as db:
        db.create_table(
            "prices",
            [
                column("id", "INTEGER"),
                column("day", "DATE"),
                column("at", "TIMESTAMP"),
                column("price", "NUMERIC(20,4)"),
                column("blob", "BLOB"),
            ],
        ).collect()
        db.insert("prices", rows)
        expected = db.table("prices").select().order_by("id").collect()

    with DAG(dag_id, schedule=None, start_date=START) as dag:
        query_task = MoltresQueryOperator(task_id="read", dsn=dsn, query=lambda db: db.table("prices").select())
        MoltresToTableOperator(task_id="copy", dsn=dsn, table_name="prices_copy", data=query_task.output)

    run = run_dag(dag)

    assert run.state == "success"
    payload = run_dag.xcom(run, "read", key="read")
    json.dumps(payload)  # what Airflow stored is plain JSON
    copied = _rows(dsn, "prices_copy")
    if backend.name == "sqlite":  # SQLite itself stores NUMERIC as a binary float
        for row in [*copied, *expected]:
            row["price"] = row["price"].quantize(Decimal("0.0001"))
    assert copied == expected  # what the database gave, through JSON and back
    if backend.name == "postgresql":
        assert payload["types"] == {"day": "date", "at": "datetime", "price": "decimal", "blob": "bytes"}
        assert [r["price"] for r in copied] == [Decimal("12345678.9012"), Decimal("0.0001")]
        assert copied[0]["day"] == dt.date(2024, 2, 29)
        assert copied[0]["at"] == dt.datetime(2024, 2, 29, 23, 59, 58, 123456)
        assert bytes(copied[0]["blob"]) == b"\x00\xffmoltres"


def test_conn_id_from_an_airflow_conn_environment_variable(run_dag, dsn, users, dag_id, warehouse_conn):
    with DAG(dag_id, schedule=None, start_date=START) as dag:
        adults = MoltresQueryOperator(
            task_id="adults",
            conn_id="{{ 'ware' ~ 'house' }}",  # conn_id is templated
            query=lambda db: db.table("users").select("id").where(col("age") >= 18),
        )
        MoltresToTableOperator(task_id="write", conn_id="warehouse", table_name="adults", data=adults.output)

    run = run_dag(dag)

    assert run_dag.states(run) == {"adults": "success", "write": "success"}
    assert [r["id"] for r in _rows(dsn, "adults")] == [1, 3, 4]


def test_staging_path_copies_inside_the_database_and_cleans_up(run_dag, dsn, users, dag_id):
    with DAG(dag_id, schedule=None, start_date=START) as dag:
        stage = MoltresQueryOperator(
            task_id="stage",
            dsn=dsn,
            query=lambda db: db.table("users").select("id", "name").where(col("age") > 20),
            output="table",
            stage_table="{{ 'stage_' ~ task.task_id }}",
        )
        write = MoltresToTableOperator(task_id="write", dsn=dsn, table_name="grown_ups", mode="overwrite")
        cleanup = MoltresStagingCleanupOperator(task_id="cleanup", dsn=dsn, stage_tasks=[stage])
        stage >> write >> cleanup.as_teardown(setups=stage)

    run = run_dag(dag)

    assert run_dag.states(run) == {"stage": "success", "write": "success", "cleanup": "success"}
    reference = run_dag.xcom(run, "stage", key="stage")
    assert reference == {"format": "moltres.table/v1", "table": "stage_stage", "row_count": 3, "conn_id": None}
    assert [r["name"] for r in _rows(dsn, "grown_ups")] == ["Ada", "Cy", "Di"]
    assert not _exists(dsn, "stage_stage")
    assert run_dag.xcom(run, "cleanup") == ["stage_stage"]


def test_oversized_xcom_fails_at_once_and_says_to_stage(run_dag, dsn, users, dag_id, capfd):
    with DAG(dag_id, schedule=None, start_date=START) as dag:
        MoltresQueryOperator(
            task_id="too_big",
            dsn=dsn,
            query=lambda db: db.table("users").select(),
            xcom_max_rows=2,
            retries=3,
            retry_delay=dt.timedelta(0),
        )

    run = run_dag(dag)

    assert run_dag.states(run) == {"too_big": "failed"}
    assert run_dag.tries(run) == {"too_big": 1}
    assert 'use output="table"' in capfd.readouterr().out


def test_connection_failure_is_retried(run_dag, dag_id, tmp_path):
    missing = tmp_path / "no" / "such" / "dir" / "db.sqlite"
    with DAG(dag_id, schedule=None, start_date=START) as dag:
        MoltresQueryOperator(
            task_id="unreachable",
            dsn=f"sqlite:///{missing}",
            query=lambda db: db.sql("SELECT 1 AS one"),
            retries=1,
            retry_delay=dt.timedelta(0),
        )

    run = run_dag(dag)

    assert run_dag.states(run) == {"unreachable": "failed"}
    assert run_dag.tries(run) == {"unreachable": 2}  # the first failure was retried once


def test_taskflow_decorator_and_session(run_dag, dsn, users, dag_id):
    engine = sa.create_engine(dsn)
    session = sa.orm.Session(engine)
    with DAG(dag_id, schedule=None, start_date=START) as dag:

        @task.moltres(session=session)
        def older_than(db, min_age: int):
            return db.table("users").select("id", "name").where(col("age") > min_age)

        @task.moltres(dsn=dsn)
        def count_users(db):
            return db.table("users").count()

        older = older_than(30)
        write = MoltresToTableOperator(task_id="write", dsn=dsn, table_name="older", data=older)
        older >> write >> count_users()

    try:
        run = run_dag(dag)
    finally:
        session.close()
        engine.dispose()

    assert run_dag.states(run) == {"older_than": "success", "write": "success", "count_users": "success"}
    assert [r["name"] for r in _rows(dsn, "older")] == ["Ada", "Cy"]
    assert run_dag.xcom(run, "count_users") == 4
    assert run_dag.xcom(run, "older_than")["format"] == "moltres.rows/v1"
