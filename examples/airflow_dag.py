"""A complete Airflow 3 DAG with moltres: query, quality gate, staging, write, cleanup.

Put this file in your DAGs folder, create an Airflow connection ``warehouse`` (for example
``AIRFLOW_CONN_WAREHOUSE=postgresql://etl:secret@db.example.com:5432/warehouse``) holding a
``users`` table (id, name, email, age, active), and trigger ``moltres_users_daily``. To
run it once locally, without a scheduler: ``python examples/airflow_dag.py``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from moltres import col
from moltres.integrations.airflow import (
    DataQualityCheck,
    MoltresDataQualityOperator,
    MoltresQueryOperator,
    MoltresStagingCleanupOperator,
    MoltresToTableOperator,
)

CONN_ID = "warehouse"

with DAG(
    "moltres_users_daily",
    schedule="@daily",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    default_args={"owner": "data_team", "retries": 2, "retry_delay": timedelta(minutes=1)},
    tags=["moltres"],
) as dag:
    # Small result: rows through XCom (JSON-safe, capped).
    active_users = MoltresQueryOperator(
        task_id="active_users",
        conn_id=CONN_ID,
        query=lambda db: db.table("users").select("id", "name", "email").where(col("active") == True),  # noqa: E712
    )

    # Quality gate: a failed check fails the run (without retrying) before anything is written.
    quality = MoltresDataQualityOperator(
        task_id="check_users",
        conn_id=CONN_ID,
        query=lambda db: db.table("users").select(),
        checks=[
            DataQualityCheck.column_not_null("email"),
            DataQualityCheck.column_unique("email"),
            DataQualityCheck.column_range("age", min=0, max=150),
        ],
    )

    write_active = MoltresToTableOperator(
        task_id="write_active_users",
        conn_id=CONN_ID,
        table_name="active_users",
        data=active_users.output,
        mode="overwrite",
    )

    # Large result: staged inside the database, copied with INSERT ... SELECT, then dropped.
    stage_adults = MoltresQueryOperator(
        task_id="stage_adults",
        conn_id=CONN_ID,
        query=lambda db: db.table("users").select("id", "name", "age").where(col("age") >= 18),
        output="table",
    )
    write_adults = MoltresToTableOperator(
        task_id="write_adults",
        conn_id=CONN_ID,
        table_name="adults",
        data=stage_adults.output,
        mode="overwrite",
    )
    cleanup = MoltresStagingCleanupOperator(task_id="drop_staging", conn_id=CONN_ID, stage_tasks=[stage_adults])

    [active_users, stage_adults] >> quality >> [write_active, write_adults]
    write_adults >> cleanup.as_teardown(setups=stage_adults)


if __name__ == "__main__":
    dag.test()
