"""A complete Prefect 3 flow with moltres: parallel queries, a quality gate, an atomic write.

Set ``MOLTRES_DSN`` to a database holding a ``users`` table (id, name, email, age,
active) and run ``python examples/prefect_flow.py``, or deploy ``users_pipeline`` as usual.
"""

from __future__ import annotations

import os

from prefect import flow

from moltres import col
from moltres.integrations.data_quality import DataQualityCheck
from moltres.integrations.prefect import moltres_data_quality, moltres_query, moltres_to_table

# Transient failures (lost connection, timeout, deadlock) are retried; real errors are not.
query_with_retries = moltres_query.with_options(retries=3, retry_delay_seconds=2)


@flow(name="moltres_users_pipeline")
def users_pipeline(dsn: str) -> dict:
    young = query_with_retries.submit(dsn=dsn, query=lambda db: db.table("users").where(col("age") < 30))
    older = query_with_retries.submit(dsn=dsn, query=lambda db: db.table("users").where(col("age") >= 30))

    report = moltres_data_quality(
        dsn=dsn,
        query=lambda db: db.table("users").select(),
        checks=[
            DataQualityCheck.column_not_null("email"),
            DataQualityCheck.column_range("age", min=0, max=150),
        ],
    )
    if not report.passed:
        return {"status": "failed", "report": report}

    rows = young.result() + older.result()
    return moltres_to_table(dsn=dsn, table_name="users_snapshot", data=rows, mode="overwrite")


if __name__ == "__main__":
    print(users_pipeline(os.environ["MOLTRES_DSN"]))
