"""Every test module in docs/pytest-plugin.md passes under the plugin, on every backend."""

from __future__ import annotations

import re
from pathlib import Path

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "pytest-plugin.md"
BLOCK = re.compile(r"```python\n# (test_\w+\.py)\n(.*?)```", re.DOTALL)


def test_pytest_plugin_guide_passes(backend, dsn, pytester, run_pytest):
    modules = BLOCK.findall(GUIDE.read_text(encoding="utf-8"))
    assert len(modules) >= 8
    for name, code in modules:
        pytester.path.joinpath(name).write_text(code, encoding="utf-8")
    folder = pytester.mkdir("test_data")  # the layout the guide shows
    (folder / "people.csv").write_text("id,name,age\n1,Ada,36\n2,Alan,41\n")
    (folder / "people_schema.json").write_text(
        '[{"name": "id", "type": "INTEGER", "primary_key": true}, {"name": "name", "type": "TEXT"}, '
        '{"name": "age", "type": "INTEGER"}]'
    )
    result = run_pytest(f"--moltres-dsn={dsn}", "-rs")
    skipped = {"sqlite": 1, "postgresql": 0, "mysql": 1, "duckdb": 2}[
        backend.name
    ]  # PostgreSQL unconfigured; DuckDB async
    result.assert_outcomes(passed=11 - skipped, skipped=skipped)
    result.stdout.fnmatch_lines(["*= moltres performance =*", "*test_timing.py::test_report_query"])
