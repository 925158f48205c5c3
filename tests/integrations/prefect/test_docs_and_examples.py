"""Every Prefect example of docs/workflow-integration.md and examples/prefect_flow.py, run for real.

The guide's Python blocks that mention Prefect run here, in order, in one namespace, with
the guide's placeholder DSN replaced by the test's database. Every flow a block defines
is called and must finish without error.
"""

from __future__ import annotations

import re
import runpy
from pathlib import Path
from typing import Any

import pytest

from moltres import connect

pytest.importorskip("prefect")

ROOT = Path(__file__).resolve().parents[3]
GUIDE = ROOT / "docs" / "workflow-integration.md"
PLACEHOLDER = "postgresql://etl:secret@db.example.com/warehouse"


def prefect_blocks() -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.DOTALL)
    return [block for block in blocks if "prefect" in block.lower()]


def test_the_guide_has_prefect_examples():
    assert len(prefect_blocks()) >= 8


def test_guide_examples_run(dsn, users):
    from prefect import Flow

    namespace: dict[str, Any] = {"__name__": "workflow_guide"}
    results: dict[str, Any] = {}
    for number, block in enumerate(prefect_blocks(), start=1):
        code = compile(block.replace(PLACEHOLDER, dsn), f"{GUIDE.name}[prefect block {number}]", "exec")
        before = {id(v) for v in namespace.values()}
        exec(code, namespace)
        for value in list(namespace.values()):
            if isinstance(value, Flow) and id(value) not in before:
                results[value.name] = value()

    assert results["moltres_example"] == {"table": "active_users_summary", "rows": 3, "mode": "append"}
    # users older than 25: three of the fixture plus the one write_pipeline added
    assert results["conditional-pipeline"] == {"table": "checked_users", "rows": 4, "mode": "overwrite"}
    assert results["quality-pipeline"]["overall_status"] == "passed"
    with connect(dsn) as db:
        assert db.table("all_users").count() == 5  # four users plus the one write_pipeline added
        assert db.table("user_names").count() == 5


def test_example_flow_runs(dsn, users):
    module = runpy.run_path(str(ROOT / "examples" / "prefect_flow.py"), run_name="example_flow")

    result = module["users_pipeline"](dsn)

    assert result == {"table": "users_snapshot", "rows": 4, "mode": "overwrite"}
