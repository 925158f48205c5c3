"""Every Airflow example of docs/workflow-integration.md and examples/airflow_dag.py, run for real.

The guide's Python blocks that do not mention Prefect run here, in order, in one namespace,
with the guide's placeholder DSN replaced by the test's database and the ``warehouse``
connection pointing at it. Every DAG a block defines is run with ``dag.test()`` and must
succeed. (The Prefect blocks run in the Prefect environment.)
"""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest

from moltres import connect

pytest.importorskip("airflow.sdk")

ROOT = Path(__file__).resolve().parents[3]
GUIDE = ROOT / "docs" / "workflow-integration.md"
PLACEHOLDER = "postgresql://etl:secret@db.example.com/warehouse"


def airflow_blocks() -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.DOTALL)
    return [block for block in blocks if "prefect" not in block.lower()]


def test_the_guide_has_airflow_examples():
    assert len(airflow_blocks()) >= 8


def test_guide_examples_run(run_dag, dsn, users, warehouse_conn):
    from airflow.sdk import DAG

    namespace: dict = {"__name__": "workflow_guide"}
    ran: list[str] = []
    for number, block in enumerate(airflow_blocks(), start=1):
        code = compile(block.replace(PLACEHOLDER, dsn), f"{GUIDE.name}[airflow block {number}]", "exec")
        before = {id(v) for v in namespace.values()}
        exec(code, namespace)
        for value in list(namespace.values()):
            if isinstance(value, DAG) and id(value) not in before:
                run = run_dag(value)
                assert run.state == "success", (number, value.dag_id, run_dag.states(run))
                ran.append(value.dag_id)

    assert "moltres_example" in ran and "moltres_taskflow" in ran
    with connect(dsn) as db:
        assert {"active_users_summary", "adults", "seniors", "older_users", "active_users"} <= set(db.tables())
        assert db.table("older_users").count() == 2


def test_example_dag_runs(run_dag, dsn, users, warehouse_conn):
    module = runpy.run_path(str(ROOT / "examples" / "airflow_dag.py"), run_name="example_dag")

    run = run_dag(module["dag"])

    assert run.state == "success", run_dag.states(run)
    with connect(dsn) as db:
        assert db.table("active_users").count() == 3
        assert db.table("adults").count() == 3
        assert [t for t in db.tables() if t.startswith("moltres_stage_")] == []
