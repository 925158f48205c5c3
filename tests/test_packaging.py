"""What `import moltres` costs, and the public names it promises (DESIGN.md, "Public API contract")."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import textwrap

import pytest

# Optional libraries (DESIGN.md "Optional dependencies") plus the drivers the extras install:
# `import moltres` needs SQLAlchemy alone, so none of these may be loaded by importing it.
OPTIONAL = (
    "pandas",
    "polars",
    "pyarrow",
    "airflow",
    "prefect",
    "django",
    "streamlit",
    "fastapi",
    "numpy",
    "psycopg",
    "pymysql",
    "duckdb",
    "duckdb_engine",
    "asyncpg",
    "aiomysql",
    "aiosqlite",
)

CORE_MODULES = (
    "moltres",
    "moltres.expressions.functions",
    "moltres.table.schema",
    "moltres.io.records",
    "moltres.utils.exceptions",
)

CONTRACT = {
    "moltres": ["connect", "async_connect", "col", "lit", "column", "Database", "AsyncDatabase"],
    "moltres.table.schema": ["column", "ColumnDef"],
    "moltres.io.records": ["Records", "AsyncRecords"],
    "moltres.utils.exceptions": [
        "MoltresError",
        "ValidationError",
        "CompilationError",
        "ExecutionError",
        "DatabaseConnectionError",
        "QueryTimeoutError",
        "TableNotFoundError",
        "ColumnNotFoundError",
        "MissingDependencyError",
    ],
    # The functions the CORE issue lists; `F.*` is how the seeds write them.
    "moltres.expressions.functions": [
        "col",
        "lit",
        "when",
        "coalesce",
        "lower",
        "upper",
        "trim",
        "length",
        "substring",
        "concat",
        "replace",
        "split",
        "abs",
        "round",
        "floor",
        "ceil",
        "sqrt",
        "pow",
        "mod",
        "current_date",
        "year",
        "month",
        "day",
        "date_add",
        "date_diff",
        "date_trunc",
        "count",
        "count_distinct",
        "sum",
        "avg",
        "min",
        "max",
        "stddev",
        "collect_list",
        "row_number",
        "rank",
        "dense_rank",
        "lag",
        "lead",
    ],
}


def run_python(code: str) -> str:
    """Run `code` in a fresh interpreter (nothing imported yet) and return its stdout."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_importing_moltres_loads_no_optional_dependency():
    modules = run_python(
        f"""
        import json, sys
        for name in {CORE_MODULES!r}:
            __import__(name)
        print(json.dumps(sorted(sys.modules)))
        """
    )
    loaded = {name.partition(".")[0] for name in json.loads(modules)}
    assert sorted(loaded & set(OPTIONAL)) == []


def test_moltres_runs_a_query_on_sqlite_with_every_optional_dependency_missing(tmp_path):
    # The bare install: a finder that refuses every optional library, as if not installed.
    dsn = f"sqlite:///{tmp_path / 'bare.sqlite'}"
    result = run_python(
        f"""
        import importlib.abc, json, sys

        class NotInstalled(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name.partition(".")[0] in {OPTIONAL!r}:
                    raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
                return None

        sys.meta_path.insert(0, NotInstalled())

        from moltres import col, column, connect

        with connect({dsn!r}) as db:
            db.create_table("users", [column("id", "INTEGER", primary_key=True), column("age", "INTEGER")]).collect()
            db.insert("users", [{{"id": 1, "age": 20}}, {{"id": 2, "age": 40}}])
            print(json.dumps(db.table("users").select("id").where(col("age") > 25).collect()))
        """
    )
    assert json.loads(result) == [{"id": 2}]


@pytest.mark.parametrize("module", sorted(CONTRACT))
def test_public_api_names_import(module):
    imported = importlib.import_module(module)
    missing = [name for name in CONTRACT[module] if not hasattr(imported, name)]
    assert missing == [], f"{module} lacks public names {missing}"


def test_top_level_exports_are_the_contract():
    import moltres

    assert set(CONTRACT["moltres"]) <= set(moltres.__all__)
    assert [name for name in moltres.__all__ if not hasattr(moltres, name)] == []


def test_column_is_one_function_under_both_paths():
    import moltres
    from moltres.table import schema

    assert moltres.column is schema.column
