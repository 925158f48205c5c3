"""connect(): DSNs, engine=, session=, MOLTRES_DSN, closing, and connection errors."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from moltres import Database, col, connect
from moltres.table.schema import column
from moltres.utils.exceptions import DatabaseConnectionError, ValidationError

if TYPE_CHECKING:
    from pathlib import Path

    from tests._backends import Backend

SECRET = "s3cr3t-pw"


# ------------------------------------------------------------------------------------ on every backend


def test_connect_dsn(db: Database, backend: Backend) -> None:
    assert isinstance(db, Database)
    assert db.dialect_name == backend.name
    assert isinstance(db.engine, sa.Engine)
    assert db.sql("SELECT 1 AS one").collect() == [{"one": 1}]


def test_connect_engine_is_not_disposed(dsn: str) -> None:
    engine = connect(dsn).engine  # a moltres-made engine, whose URL carries the right driver
    url = engine.url
    engine.dispose()
    mine = sa.create_engine(url)
    try:
        with connect(engine=mine) as db:
            db.create_table("t", [column("a", "INTEGER")]).collect()
            db.insert("t", [{"a": 1}])
            assert db.engine is mine
        # moltres did not create the engine, so closing the Database leaves it usable
        with mine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM t")).scalar() == 1
    finally:
        mine.dispose()


def test_connect_session_never_commits(dsn: str) -> None:
    with connect(dsn) as setup:
        setup.create_table("t", [column("a", "INTEGER")]).collect()
        engine_url = setup.engine.url
    engine = sa.create_engine(engine_url)
    try:
        with Session(engine) as session:
            db = connect(session=session)
            assert db.insert("t", [{"a": 1}, {"a": 2}]) == 2
            assert db.update("t", where=col("a") == 2, set={"a": 3}) == 1
            assert db.table("t").count() == 2  # moltres reads through the session's transaction
            if db.dialect_name != "duckdb":  # no SAVEPOINT: a transaction() block cannot nest in the session's
                with db.transaction():
                    db.insert("t", [{"a": 4}])
            else:
                db.insert("t", [{"a": 4}])
            db.close()  # must not close or commit the session
            assert session.execute(sa.text("SELECT count(*) FROM t")).scalar() == 3
            session.rollback()  # the owner decides: nothing was committed behind its back
        with Session(engine) as session:
            db = connect(session=session)
            db.insert("t", [{"a": 9}])
            session.commit()
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT a FROM t")).scalars().all() == [9]
    finally:
        engine.dispose()


def test_session_rollback_inside_moltres_transaction_block_only_undoes_the_block(dsn: str) -> None:
    with connect(dsn) as setup:
        setup.create_table("t", [column("a", "INTEGER")]).collect()
        url = setup.engine.url
    if url.get_backend_name() == "duckdb":
        pytest.skip("DuckDB has no SAVEPOINT: a moltres transaction inside a session cannot nest")
    engine = sa.create_engine(url)
    try:
        with Session(engine) as session:
            db = connect(session=session)
            db.insert("t", [{"a": 1}])
            with pytest.raises(RuntimeError), db.transaction():
                db.insert("t", [{"a": 2}])
                raise RuntimeError("undo the block")
            assert [r["a"] for r in db.table("t").collect()] == [1]
            session.commit()
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT a FROM t")).scalars().all() == [1]
    finally:
        engine.dispose()


def test_context_manager_closes(dsn: str) -> None:
    with connect(dsn) as db:
        assert db.sql("SELECT 1 AS x").collect() == [{"x": 1}]
    with pytest.raises(DatabaseConnectionError, match="closed"):
        db.sql("SELECT 1 AS x").collect()
    db.close()  # closing twice is harmless


def test_repr_masks_the_password(dsn: str) -> None:
    url = sa.make_url(dsn)
    if url.password is None and url.get_backend_name() in ("sqlite", "duckdb"):
        assert "Database<" in repr(connect(dsn))
        return
    with connect(dsn) as db:
        assert "***" in repr(db) or url.password is None


# ------------------------------------------------------------------------------------ MOLTRES_DSN


def test_moltres_dsn_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MOLTRES_DSN", f"sqlite:///{tmp_path / 'env.db'}")
    with connect() as db:
        assert db.dialect_name == "sqlite"
        db.create_table("t", [column("a", "INTEGER")]).collect()
    assert (tmp_path / "env.db").exists()


def test_no_dsn_at_all(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOLTRES_DSN", raising=False)
    with pytest.raises(DatabaseConnectionError, match="no database given") as info:
        connect()
    assert info.value.suggestion and "MOLTRES_DSN" in info.value.suggestion


def test_explicit_dsn_beats_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOLTRES_DSN", "nosuchdb://nowhere")
    with connect("sqlite://") as db:
        assert db.dialect_name == "sqlite"


# ------------------------------------------------------------------------------------ errors


def check_masked(error: BaseException) -> str:
    text = str(error) + str(getattr(error, "suggestion", ""))
    assert SECRET not in text
    assert SECRET not in repr(error)
    return text


@pytest.mark.parametrize(
    "dsn",
    ["not a dsn", "://x", f"postgresql://user:{SECRET}@host:notaport/db", ""],
    ids=["words", "no-scheme", "bad-port", "empty"],
)
def test_malformed_dsn(dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOLTRES_DSN", raising=False)
    with pytest.raises(DatabaseConnectionError) as info:
        connect(dsn)
    check_masked(info.value)
    assert info.value.suggestion


def test_unknown_dialect() -> None:
    with pytest.raises(DatabaseConnectionError, match="unknown database dialect") as info:
        connect(f"nosuchdb://user:{SECRET}@host/db")
    text = check_masked(info.value)
    assert "sqlite" in text and "postgresql" in text


@pytest.mark.parametrize(
    ("dsn", "extra"),
    [
        (f"postgresql+psycopg2://user:{SECRET}@localhost/db", None),
        (f"mysql+mysqldb://user:{SECRET}@localhost/db", "mysql"),
        (f"postgresql+pg8000://user:{SECRET}@localhost/db", "postgresql"),
    ],
)
def test_missing_driver_names_what_to_install(dsn: str, extra: str | None) -> None:
    pytest.importorskip("sqlalchemy")
    driver = sa.make_url(dsn).get_driver_name()
    try:
        sa.make_url(dsn).get_dialect().import_dbapi()
    except ImportError:
        pass
    else:
        pytest.skip(f"{driver} is installed here")
    with pytest.raises(DatabaseConnectionError, match="not installed") as info:
        connect(dsn)
    suggestion = str(info.value.suggestion)
    check_masked(info.value)
    assert driver in suggestion
    if extra is not None:
        assert f"moltres[{extra}]" in suggestion
    assert "moltres[psycopg2]" not in suggestion and "moltres[mysqldb]" not in suggestion


@pytest.mark.parametrize("scheme", ["postgresql", "mysql"])
def test_unreachable_server(scheme: str) -> None:
    with pytest.raises(DatabaseConnectionError, match="could not connect") as info:
        connect(f"{scheme}://user:{SECRET}@127.0.0.1:1/db")
    text = check_masked(info.value)
    assert "127.0.0.1" in text
    assert info.value.retryable


def test_wrong_password_is_masked_too(backend: Backend) -> None:
    if not backend.is_server:
        pytest.skip("embedded databases have no password")
    url = sa.make_url(str(backend.admin_url)).set(username="moltres_nobody", password=SECRET)  # type: ignore[attr-defined]
    with pytest.raises(DatabaseConnectionError) as info:
        connect(url.render_as_string(hide_password=False))
    check_masked(info.value)


def test_unopenable_file(tmp_path: Path) -> None:
    with pytest.raises(DatabaseConnectionError):
        connect(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}")


def test_connect_argument_validation() -> None:
    engine = sa.create_engine("sqlite://")
    with pytest.raises(ValidationError):
        connect("sqlite://", engine=engine)
    with pytest.raises(ValidationError):
        connect(engine="sqlite://")  # type: ignore[arg-type]
    for bad in (0, -1, "5"):
        with pytest.raises(ValidationError):
            connect("sqlite://", query_timeout=bad)  # type: ignore[arg-type]
    with pytest.raises(DatabaseConnectionError):
        connect(42)  # type: ignore[arg-type]
    engine.dispose()


def test_engine_we_do_not_own_gets_moltres_sql_functions_only() -> None:
    """connect(engine=...) adds the SQL functions moltres relies on, and nothing else."""
    import sqlalchemy as sa

    from moltres import col, connect
    from moltres.expressions import functions as F

    engine = sa.create_engine("sqlite://")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x REAL)")
        conn.exec_driver_sql("INSERT INTO t VALUES (1), (2), (4)")
    db = connect(engine=engine)
    assert db.table("t").agg(F.stddev("x").alias("s")).collect()[0]["s"] > 1.5
    assert db.table("t").where(col("x").rlike("^4")).count() == 1
    with engine.connect() as conn:
        scoped = connect(engine=conn)
        assert scoped.table("t").agg(F.stddev("x").alias("s")).first() is not None
        raw = conn.connection.dbapi_connection
        assert raw is not None
        assert raw.isolation_level == ""  # pysqlite's own handling kept
