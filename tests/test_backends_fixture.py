"""The suite's own machinery: private namespaces per test, server probing, notimpl, golden SQL."""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests._backends import STALE_AFTER_SECONDS, ServerBackend
from tests.conftest import BACKENDS_KEY

REPO = Path(__file__).resolve().parent.parent
SERVERS = [
    pytest.param("postgresql", marks=pytest.mark.postgresql, id="postgresql"),
    pytest.param("mysql", marks=pytest.mark.mysql, id="mysql"),
]


def test_the_core_environment_has_every_backend_driver(pytestconfig):
    # Missing drivers skip (integration envs install only what they use); here, in the core
    # suite, a missing one would quietly skip a whole backend, so it fails instead.
    missing = [b.missing_driver() for b in pytestconfig.stash[BACKENDS_KEY].values()]
    assert [reason for reason in missing if reason] == []


# --- private namespaces ---------------------------------------------------------------------


@pytest.mark.parametrize("attempt", [1, 2])
def test_each_test_starts_with_an_empty_private_namespace(dsn, attempt):
    # Both attempts create the same table; the second would fail if the first leaked into it.
    engine = sa.create_engine(dsn)
    try:
        assert sa.inspect(engine).get_table_names() == []
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE probe (id INTEGER)"))
            conn.execute(sa.text("INSERT INTO probe (id) VALUES (:id)"), {"id": attempt})
        assert sa.inspect(engine).get_table_names() == ["probe"]
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT id FROM probe")).scalars().all() == [attempt]
    finally:
        engine.dispose()


@pytest.mark.parametrize("attempt", [1, 2])
def test_db_fixture_is_a_moltres_database_private_to_the_test(db, backend, attempt):
    from moltres import column

    assert db.dialect_name == backend.name
    assert db.tables() == []
    db.create_table("probe", [column("id", "INTEGER")]).collect()
    db.insert("probe", [{"id": attempt}])
    assert db.tables() == ["probe"]
    assert db.table("probe").collect() == [{"id": attempt}]


@pytest.mark.parametrize("backend", SERVERS, indirect=True)
def test_unqualified_names_resolve_to_the_test_namespace(backend, dsn):
    engine = sa.create_engine(dsn)
    current = "SELECT current_schema()" if backend.name == "postgresql" else "SELECT DATABASE()"
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql(current).scalar() == backend.namespace_of(dsn)
        assert engine.dialect.default_schema_name == backend.namespace_of(dsn)
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", SERVERS, indirect=True)
def test_namespace_is_dropped_even_when_the_test_fails_holding_locks(backend, tmp_path):
    assert isinstance(backend, ServerBackend)
    engine = None
    with pytest.raises(RuntimeError, match="test body failed"), backend.fresh(tmp_path) as dsn:
        namespace = backend.namespace_of(dsn)
        assert backend.namespace_exists(namespace)
        engine = sa.create_engine(dsn)
        left_open = engine.connect()
        left_open.execute(sa.text("CREATE TABLE probe (id INTEGER)"))
        left_open.execute(sa.text("INSERT INTO probe (id) VALUES (1)"))  # uncommitted, holds locks
        raise RuntimeError("test body failed")
    assert not backend.namespace_exists(namespace)
    # Teardown ended the straggler's session on the server; drop the client side without a rollback.
    left_open.invalidate()
    assert engine is not None
    engine.dispose()


@pytest.mark.parametrize("backend", SERVERS, indirect=True)
def test_namespaces_left_by_killed_runs_are_swept_and_live_ones_kept(backend):
    assert isinstance(backend, ServerBackend)
    hex16 = uuid.uuid4().hex[:16]
    killed = f"t_{int(time.time()) - STALE_AFTER_SECONDS - 60:08x}_{hex16}"
    live = f"t_{int(time.time()) - 60:08x}_{hex16}"
    with backend.admin.connect() as conn:
        backend._create(conn, killed)
        backend._create(conn, live)
        try:
            backend._sweep(conn)
            assert not backend.namespace_exists(killed)
            assert backend.namespace_exists(live)
        finally:
            backend._drop(conn, live)
            backend._drop(conn, killed)


# --- inner pytest runs: probing, notimpl, golden files ---------------------------------------


@pytest.fixture(scope="session")
def drivers_imported(pytestconfig):
    """Import every driver before pytester snapshots sys.modules (session scope: first).

    pytester forgets the modules an inner run imported, and duckdb imported a second time
    aborts the interpreter.
    """
    for backend in pytestconfig.stash[BACKENDS_KEY].values():
        backend.missing_driver()


@pytest.fixture
def inner(drivers_imported, pytester, monkeypatch):
    """A pytester project with this suite's conftest and pytest configuration."""
    monkeypatch.delenv("MOLTRES_REQUIRE_SERVERS", raising=False)
    # Entry-point plugins (hypothesis, moltres's own) are re-imported, and their whole
    # distributions assertion-rewritten, on every in-process run: ~1 s each. Not needed here.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makeconftest((REPO / "tests" / "conftest.py").read_text(encoding="utf-8"))
    pytester.makepyprojecttoml((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return pytester


def write_test(pytester, source):
    """Write the inner project's one test module, under its configured testpaths."""
    path = pytester.path / "tests" / "test_inner.py"
    path.parent.mkdir(exist_ok=True)
    path.write_text(source, encoding="utf-8")


UNREACHABLE = "postgresql+psycopg://postgres:s3cret@127.0.0.1:1/test"


def test_unreachable_server_skips_with_the_reason(inner, monkeypatch):
    monkeypatch.setenv("MOLTRES_TEST_POSTGRESQL_DSN", UNREACHABLE)
    write_test(inner, "def test_uses_backend(backend):\n    pass\n")
    result = inner.runpytest("-m", "postgresql", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*PostgreSQL unreachable at postgresql+psycopg://postgres:***@127.0.0.1:1/test*"])
    assert "s3cret" not in result.stdout.str()


def test_unreachable_server_fails_when_servers_are_required(inner, monkeypatch):
    monkeypatch.setenv("MOLTRES_TEST_POSTGRESQL_DSN", UNREACHABLE)
    monkeypatch.setenv("MOLTRES_REQUIRE_SERVERS", "1")
    write_test(
        inner,
        "def test_first(backend):\n    pass\n\ndef test_second(dsn):\n    pass\n",
    )
    result = inner.runpytest("-m", "postgresql or sqlite")
    result.assert_outcomes(passed=2, errors=2)
    result.stdout.fnmatch_lines(["*PostgreSQL unreachable*", "*MOLTRES_REQUIRE_SERVERS=1 is set*"])
    assert "s3cret" not in result.stdout.str()


def test_missing_driver_skips_even_when_servers_are_required(inner, monkeypatch):
    monkeypatch.setenv("MOLTRES_TEST_POSTGRESQL_DSN", "postgresql+pg8000://postgres@127.0.0.1/test")
    monkeypatch.setitem(sys.modules, "pg8000", None)  # as if not installed, whether it is or not
    monkeypatch.setenv("MOLTRES_REQUIRE_SERVERS", "1")
    write_test(inner, "def test_uses_backend(backend):\n    pass\n")
    result = inner.runpytest("-m", "postgresql", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*PostgreSQL: the driver for postgresql+pg8000 is not installed*"])
    assert "s3cret" not in result.stdout.str()


NOTIMPL_TESTS = """
import pytest

@pytest.mark.notimpl(["sqlite"], raises=ZeroDivisionError, reason="sqlite cannot")
def test_fails_where_declared(backend):
    if backend.name == "sqlite":
        1 / 0

@pytest.mark.notimpl(["sqlite"], raises=ZeroDivisionError, reason="declared, yet it works")
def test_passes_where_declared(backend):
    pass

@pytest.mark.notimpl(["sqlite"], raises=ZeroDivisionError, reason="fails for another reason")
def test_fails_with_another_error(backend):
    raise KeyError("unrelated")
"""


def test_notimpl_is_a_strict_xfail_on_the_named_backends_only(inner):
    write_test(inner, NOTIMPL_TESTS)
    result = inner.runpytest("-m", "sqlite or duckdb", "-rxXf")
    # sqlite: xfailed, XPASS(strict) -> failed, KeyError -> failed; duckdb: passed, passed, failed.
    result.assert_outcomes(passed=2, xfailed=1, failed=3)
    result.stdout.fnmatch_lines(
        [
            "XFAIL*test_fails_where_declared?sqlite?*notimpl: sqlite cannot*",
            "FAILED*test_passes_where_declared?sqlite?*",
        ]
    )


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ('notimpl("sqlite", raises=KeyError, reason="r")', "takes a list of backend names"),
        ('notimpl(["sqlit"], raises=KeyError, reason="r")', "unknown backends ['sqlit']"),
        ('notimpl(["sqlite"], reason="r")', "needs raises="),
        ('notimpl(["sqlite"], raises=KeyError)', "needs reason="),
    ],
)
def test_notimpl_rejects_malformed_declarations(inner, marker, message):
    write_test(inner, f"import pytest\n\n@pytest.mark.{marker}\ndef test_x(backend):\n    pass\n")
    result = inner.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()


def test_notimpl_needs_a_test_that_runs_on_backends(inner):
    write_test(
        inner,
        'import pytest\n\n@pytest.mark.notimpl(["sqlite"], raises=KeyError, reason="r")\ndef test_x():\n    pass\n',
    )
    result = inner.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "only applies to tests that run on every backend" in result.stderr.str()


GOLDEN_FILE_TEST = """
import sqlalchemy as sa

def test_query(golden_sql):
    users = sa.table("users", sa.column("id"), sa.column("age"))
    golden_sql(sa.select(users.c.id).where(users.c.age > 25))
"""


def test_golden_files_are_written_by_update_golden_and_then_enforced(inner):
    write_test(inner, GOLDEN_FILE_TEST)
    missing = inner.runpytest()
    missing.assert_outcomes(failed=1)
    missing.stdout.fnmatch_lines(["*no golden file*create it with pytest --update-golden*"])

    inner.runpytest("--update-golden").assert_outcomes(passed=1)
    folder = inner.path / "sql" / "golden" / "test_query"
    assert sorted(p.name for p in folder.iterdir()) == [
        "duckdb.sql",
        "mysql.sql",
        "postgresql.sql",
        "sqlite.sql",
    ]
    assert (folder / "sqlite.sql").read_text() == "SELECT users.id\nFROM users\nWHERE users.age > ?\n"
    inner.runpytest().assert_outcomes(passed=1)

    (folder / "mysql.sql").write_text("SELECT users.id FROM users WHERE users.age > 25\n")
    changed = inner.runpytest()
    changed.assert_outcomes(failed=1)
    changed.stdout.fnmatch_lines(
        ["*golden SQL differs*", "mysql:", "*expected: SELECT users.id FROM users WHERE users.age > 25"]
    )


# --- golden SQL inline -------------------------------------------------------------------------

users = sa.table("users", sa.column("id", sa.Integer), sa.column("name", sa.String), sa.column("age", sa.Integer))


def test_golden_sql_compiles_for_every_dialect_with_bound_parameters(golden_sql):
    golden_sql(
        sa.select(users.c.id).where(users.c.age > 25),
        {
            "sqlite": "SELECT users.id FROM users WHERE users.age > ?",
            "postgresql": "SELECT users.id FROM users WHERE users.age > %(age_1)s::INTEGER",
            "mysql": "SELECT users.id FROM users WHERE users.age > %s",
            "duckdb": "SELECT users.id FROM users WHERE users.age > %(age_1)s",
        },
        params={"age_1": 25},
    )


def test_golden_sql_compiles_a_dataframe_for_every_dialect(tmp_path, golden_sql):
    from moltres import col, column, connect

    with connect(f"sqlite:///{tmp_path / 'golden.sqlite'}") as db:
        db.create_table("users", [column("id", "INTEGER", primary_key=True), column("age", "INTEGER")]).collect()
        golden_sql(
            db.table("users").select("id").where(col("age") > 25),
            {
                "sqlite": "SELECT users.id FROM users WHERE users.age > ?",
                "postgresql": "SELECT users.id FROM users WHERE users.age > %(p0)s::INTEGER",
                "mysql": "SELECT users.id FROM users WHERE users.age > %(p0)s",
                "duckdb": "SELECT users.id FROM users WHERE users.age > $1",
            },
            params={"p0": 25},
        )


def test_golden_sql_expects_an_error_where_a_dialect_cannot_compile(golden_sql):
    golden_sql(
        sa.select(users.c.name.regexp_replace("a", "b")),
        {
            "sqlite": sa.exc.CompileError,
            "postgresql": "SELECT REGEXP_REPLACE(users.name, %(name_1)s::VARCHAR, %(name_2)s::VARCHAR) AS anon_1 FROM users",
            "mysql": "SELECT REGEXP_REPLACE(users.name, %s, %s) AS anon_1 FROM users",
            "duckdb": "SELECT REGEXP_REPLACE(users.name, %(name_1)s, %(name_2)s) AS anon_1 FROM users",
        },
    )


@pytest.mark.parametrize(
    ("expected", "params", "message"),
    [
        ({"postgresql": "SELECT users.id FROM users WHERE users.age > 25"}, None, "postgresql:"),
        ({"mysql": sa.exc.CompileError}, None, "mysql: expected CompileError"),
        ({}, {"age_1": 26}, "do not carry {'age_1': 26}"),
    ],
)
def test_golden_sql_reports_every_mismatch(golden_sql, expected, params, message):
    right = {
        "sqlite": "SELECT users.id FROM users WHERE users.age > ?",
        "postgresql": "SELECT users.id FROM users WHERE users.age > %(age_1)s::INTEGER",
        "mysql": "SELECT users.id FROM users WHERE users.age > %s",
        "duckdb": "SELECT users.id FROM users WHERE users.age > %(age_1)s",
    }
    with pytest.raises(pytest.fail.Exception, match="golden SQL differs") as failure:
        golden_sql(sa.select(users.c.id).where(users.c.age > 25), {**right, **expected}, params=params)
    assert message in str(failure.value)


def test_golden_sql_needs_every_backend(golden_sql):
    with pytest.raises(pytest.UsageError, match="one entry per backend"):
        golden_sql(sa.select(users.c.id), {"sqlite": "SELECT users.id FROM users"})
