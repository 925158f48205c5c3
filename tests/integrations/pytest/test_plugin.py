"""The pytest plugin, run the way users run it: generated test modules under ``pytester``."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import sqlalchemy as sa

from moltres import connect
from tests._backends import ServerBackend

EVERYTHING = """
import asyncio
import pytest
from moltres import column, col
from moltres.io.records import Records
from moltres.integrations.pytest import (
    assert_dataframe_equal, assert_query_count, assert_schema, create_test_df, make_rows,
    moltres_async_db, moltres_db, test_data,
)

USERS = [column("id", "INTEGER", primary_key=True), column("name", "TEXT")]


def test_moltres_db_is_a_database(moltres_db):
    moltres_db.create_table("users", USERS).collect()
    moltres_db.insert("users", [{"id": 1, "name": "Ada"}])
    assert moltres_db.table("users").select("name").collect() == [{"name": "Ada"}]


def test_the_previous_test_left_nothing(moltres_db):
    assert "users" not in moltres_db.tables()


def test_query_logger_counts_the_statements_the_test_asked_for(moltres_db, query_logger):
    moltres_db.create_table("users", USERS).collect()
    moltres_db.insert("users", [{"id": 1, "name": "Ada"}])
    assert [q.split()[0] for q in query_logger.queries] == ["CREATE", "INSERT"]
    assert query_logger.catalog_queries  # the insert reflected "users": recorded, not counted
    query_logger.reset()
    df = moltres_db.table("users").select()
    df.collect()
    assert query_logger.count == 1
    assert "SELECT" in query_logger.queries[0]
    with assert_query_count(2):
        df.collect()
        df.count()


def test_data_files_load_by_stem(moltres_db, test_data):
    moltres_db.create_table("users", test_data["users_schema"]).collect()
    Records(_data=test_data["users"], _database=moltres_db).insert_into("users")
    assert moltres_db.table("users").count() == len(test_data["users"]) == 2
    assert test_data["events"] == [{"kind": "login"}, {"kind": "logout"}]
    assert test_data["settings"] == {"retries": 3}


def test_helpers(moltres_db):
    rows = make_rows({"id": "INTEGER", "email": "TEXT"}, 3, seed=1)
    df = create_test_df(moltres_db, rows, name="people")
    assert_dataframe_equal(df, list(reversed(rows)))
    assert_schema(df, {"id": int, "email": str})


@pytest.mark.moltres_db("sqlite")
def test_marker_picks_the_backend(moltres_db, moltres_backend):
    assert moltres_backend.name == moltres_db.dialect_name == "sqlite"


@pytest.mark.moltres_performance
def test_timed(moltres_db):
    moltres_db.create_table("users", USERS).collect()
    assert moltres_db.table("users").count() == 0


def test_async_database(moltres_async_db):
    async def main():
        db = await moltres_async_db
        assert db is await moltres_async_db
        await db.create_table("users", USERS).collect()
        await db.insert("users", [{"id": 1, "name": "Ada"}])
        return await db.table("users").select("name").collect()

    assert asyncio.run(main()) == [{"name": "Ada"}]
"""


def write_test_data(pytester: pytest.Pytester) -> None:
    folder = pytester.mkdir("test_data")
    (folder / "users.csv").write_text("id,name\n1,Ada\n2,Alan\n")
    (folder / "users_schema.json").write_text(
        '[{"name": "id", "type": "INTEGER", "primary_key": true}, {"name": "name", "type": "TEXT"}]'
    )
    (folder / "events.jsonl").write_text('{"kind": "login"}\n\n{"kind": "logout"}\n')
    (folder / "settings.json").write_text('{"retries": 3}')


def test_every_fixture_and_marker_works_in_a_generated_module(pytester, run_pytest):
    pytester.makepyfile(test_everything=EVERYTHING)
    write_test_data(pytester)
    result = run_pytest("-v")
    result.assert_outcomes(passed=8)
    result.stdout.fnmatch_lines(["*test_marker_picks_the_backend[[]sqlite[]] PASSED*"])
    result.stdout.fnmatch_lines(["*= moltres performance =*", "*ms*queries*ms in SQL*test_timed*"])


def test_a_failing_assert_dataframe_equal_prints_the_diff(pytester, run_pytest):
    pytester.makepyfile(
        """
        from moltres.integrations.pytest import assert_dataframe_equal, create_test_df

        def test_differs(moltres_db):
            df = create_test_df(moltres_db, [{"id": 1, "name": "Ada"}, {"id": 2, "name": "Bob"}], name="users")
            assert_dataframe_equal(df, [{"id": 1, "name": "Ada"}, {"id": 2, "name": "Alan"}, {"id": 3, "name": "Eve"}])
        """
    )
    result = run_pytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*AssertionError: DataFrames differ:",
            "*left has 2 rows, right has 3",
            "*rows only in left (1):",
            "*{'id': 2, 'name': 'Bob'}",
            "*rows only in right (2):",
            "*{'id': 2, 'name': 'Alan'}",
            "*{'id': 3, 'name': 'Eve'}",
        ]
    )


ISOLATION = """
import pytest
from moltres import column

def test_writes(moltres_db):
    moltres_db.create_table("isolation_probe", [column("a", "INTEGER")]).collect()
    moltres_db.insert("isolation_probe", [{"a": 1}])
    assert moltres_db.table("isolation_probe").count() == 1

def test_sees_nothing(moltres_db):
    assert "isolation_probe" not in moltres_db.tables()
    moltres_db.create_table("isolation_probe", [column("a", "INTEGER")]).collect()

def test_fails_after_writing(moltres_db):
    moltres_db.create_table("u", [column("a", "INTEGER")]).collect()
    raise AssertionError("this test fails on purpose")
"""


def namespaces(backend) -> set[str]:
    with backend.admin.connect() as conn:
        names = conn.execute(sa.text("SELECT schema_name FROM information_schema.schemata")).scalars()
        return {n for n in names if n.startswith("moltres_t_")}


def test_each_backend_isolates_tests_and_cleans_up_after_failures(backend, dsn, pytester, run_pytest):
    pytester.makepyfile(test_isolation=ISOLATION)
    before = namespaces(backend) if isinstance(backend, ServerBackend) else set()
    result = run_pytest(f"--moltres-dsn={dsn}")
    result.assert_outcomes(passed=2, failed=1)
    with connect(dsn) as db:  # the configured database itself was never changed
        assert not {"isolation_probe", "u"} & set(db.tables())
    if isinstance(backend, ServerBackend):
        assert namespaces(backend) <= before  # MariaDB's per-test databases were dropped


# Only PostgreSQL aborts the enclosing transaction when a statement fails.
@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgresql)], indirect=True)
def test_postgresql_statements_after_a_failed_one_need_a_savepoint(backend, dsn, pytester, run_pytest):
    pytester.makepyfile(
        """
        import pytest
        from moltres.utils.exceptions import MoltresError

        def test_recovers(moltres_db):
            with pytest.raises(MoltresError), moltres_db.transaction():
                moltres_db.execute("SELECT no_such_column FROM pg_class")
            assert moltres_db.sql("SELECT 1 AS one").collect() == [{"one": 1}]
        """
    )
    run_pytest(f"--moltres-dsn={dsn}").assert_outcomes(passed=1)


def test_async_fixture_on_each_backend(backend, dsn, pytester, run_pytest):
    pytester.makepyfile(
        """
        import asyncio
        from moltres import column

        def test_async(moltres_async_db, moltres_backend):
            async def main():
                db = await moltres_async_db
                await db.create_table("isolation_probe", [column("a", "INTEGER")]).collect()
                await db.insert("isolation_probe", [{"a": 1}, {"a": 2}])
                return await db.table("isolation_probe").count(), db.dialect_name

            assert asyncio.run(main()) == (2, moltres_backend.name)

        def test_isolated(moltres_async_db):
            async def main():
                db = await moltres_async_db
                return "isolation_probe" in await db.tables()

            assert asyncio.run(main()) is False
        """
    )
    result = run_pytest(f"--moltres-dsn={dsn}", "-rs")
    if backend.name == "duckdb":
        result.assert_outcomes(skipped=2)
        result.stdout.fnmatch_lines(["*DuckDB has no asyncio driver*"])
    else:
        result.assert_outcomes(passed=2)


def test_marker_runs_the_test_once_per_backend(backend, dsn, pytester, run_pytest):
    names = ", ".join(repr(name) for name in dict.fromkeys(["sqlite", backend.name]))
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.moltres_db({names})
        def test_on(moltres_db, moltres_backend):
            assert moltres_db.dialect_name == moltres_backend.name
        """
    )
    result = run_pytest(f"--moltres-dsn={dsn}", "-v")
    result.assert_outcomes(passed=len(set(["sqlite", backend.name])))
    result.stdout.fnmatch_lines([f"*test_on[[]{backend.name}[]] PASSED*"])


def test_an_unconfigured_backend_skips_or_fails_when_servers_are_required(pytester, run_pytest, monkeypatch):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.moltres_db("postgresql")
        def test_pg(moltres_db):
            pass

        @pytest.mark.moltres_db("mariadb")
        def test_unreachable(moltres_db):
            pass
        """
    )
    unreachable = "--moltres-dsn=mysql://root@127.0.0.1:1/test"
    result = run_pytest(unreachable, "-rs")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(
        ["*no PostgreSQL DSN configured: pass --moltres-dsn=postgresql://*", "*MariaDB/MySQL unavailable at*"]
    )
    monkeypatch.setenv("MOLTRES_REQUIRE_SERVERS", "1")
    failed = run_pytest(unreachable)
    failed.assert_outcomes(errors=2)
    failed.stdout.fnmatch_lines(["*MOLTRES_REQUIRE_SERVERS=1 is set*"])


def test_dsns_come_from_the_option_the_environment_or_the_ini_file(pytester, run_pytest, monkeypatch, tmp_path):
    pytester.makepyfile(
        """
        def test_where(moltres_db, moltres_backend):
            print("BACKEND", moltres_backend.name, moltres_backend.dsn)
        """
    )
    assert "BACKEND sqlite sqlite://" in run_pytest("-s").stdout.str()  # in memory by default
    pytester.makeini("[pytest]\nmoltres_dsn =\n    duckdb:///:memory:\n")
    assert "BACKEND duckdb duckdb:///:memory:" in run_pytest("-s").stdout.str()
    monkeypatch.setenv("MOLTRES_TEST_DSN", f"sqlite:///{tmp_path / 'env.sqlite'}")
    assert "env.sqlite" in run_pytest("-s").stdout.str()
    assert "cli.sqlite" in run_pytest("-s", f"--moltres-dsn=sqlite:///{tmp_path / 'cli.sqlite'}").stdout.str()


def test_an_unknown_backend_in_a_marker_stops_collection(pytester, run_pytest):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.moltres_db("oracle")
        def test_x(moltres_db):
            pass
        """
    )
    result = run_pytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED  # a collection error: nothing runs
    result.stdout.fnmatch_lines(["*@pytest.mark.moltres_db: unknown moltres backend 'oracle'; known: sqlite, *"])


def test_markers_are_registered(run_pytest):
    result = run_pytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.moltres_db(*backends):*", "@pytest.mark.moltres_performance:*"])


def test_loading_the_plugin_imports_no_driver_dialect_or_dataframe_library():
    code = textwrap.dedent(
        """
        import sys
        import moltres.integrations.pytest.plugin
        import moltres.integrations.pytest
        heavy = [m for m in sys.modules if m.split(".")[0] in {"pandas", "polars", "pyarrow", "psycopg", "pymysql",
                 "asyncpg", "aiomysql", "aiosqlite", "duckdb", "duckdb_engine"}
                 or m.startswith("sqlalchemy.dialects.")
                 or m.startswith("moltres.integrations.pytest.") and not m.endswith(".plugin")]
        print(sorted(heavy))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_packaging_declares_the_entry_point():
    from importlib.metadata import entry_points
    from pathlib import Path

    pyproject = (Path(__file__).parents[3] / "pyproject.toml").read_text(encoding="utf-8")
    section = pyproject.split("[project.entry-points.pytest11]", 1)[1].split("[", 1)[0]
    assert 'moltres = "moltres.integrations.pytest.plugin"' in section
    for point in entry_points(group="pytest11"):  # when moltres is installed, pytest finds it
        if point.name == "moltres":
            assert point.load().__name__ == "moltres.integrations.pytest.plugin"
