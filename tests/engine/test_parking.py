"""The connection kept between direct statements (moltres.engine.parking).

Reads and one-statement writes outside a transaction keep their connection out of the pool
for the next one. These tests hold that to what the pool promised: every statement sees
committed data, nothing waits on a parked connection, the pool's listeners and checks still
run, and the connection goes back on close, after a while, and never crosses a fork.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

from moltres import col, connect
from moltres.engine import parking
from moltres.table.schema import column
from moltres.utils.exceptions import MoltresError
from tests.engine._connections import assert_no_transaction_open

if TYPE_CHECKING:
    from moltres import Database


@pytest.fixture
def items(db: Database) -> Database:
    db.create_table("items", [column("id", "INTEGER", primary_key=True), column("name", "TEXT")]).collect()
    db.insert("items", [{"id": i, "name": f"item {i}"} for i in range(1, 6)])
    return db


def parks(db: Database) -> bool:
    """Whether this backend's driver can tell that a connection is idle (PyMySQL cannot)."""
    return db.dialect_name != "mysql"


def test_statements_in_a_row_share_one_connection(items: Database) -> None:
    items.table("items").where(col("id") == 1).collect()
    first = items.executor.parking.parked
    assert len(first) == (1 if parks(items) else 0)
    assert items.update("items", where=col("id") == 1, set={"name": "pen"}) == 1
    assert items.insert("items", [{"id": 6, "name": "ink"}]) == 1
    assert items.table("items").where(col("id") == 1).collect() == [{"id": 1, "name": "pen"}]
    assert items.executor.parking.parked == first  # the very same DB-API connection, never given back
    assert_no_transaction_open(items)


def test_each_write_is_committed_for_everyone_else(items: Database, dsn: str) -> None:
    items.update("items", where=col("id") == 2, set={"name": "pencil"})
    items.delete("items", where=col("id") == 3)
    with connect(dsn) as other:
        assert other.table("items").where(col("id") <= 3).order_by("id").collect() == [
            {"id": 1, "name": "item 1"},
            {"id": 2, "name": "pencil"},
        ]


def test_reads_see_what_others_committed_since(items: Database, dsn: str) -> None:
    assert items.table("items").count() == 5  # parks a connection
    with connect(dsn) as other:
        other.insert("items", [{"id": 7, "name": "new"}])
    assert items.table("items").where(col("id") == 7).collect() == [{"id": 7, "name": "new"}]


def test_a_parked_connection_goes_back_after_a_while(items: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    if not parks(items):
        pytest.skip("PyMySQL cannot tell an idle connection: nothing is parked")
    slot = items.executor.parking
    items.table("items").collect()  # parks its connection
    checkouts: list[Any] = []
    checkout = slot._connect

    def counted() -> Any:
        checkouts.append(1)
        return checkout()

    monkeypatch.setattr(slot, "_connect", counted)
    items.table("items").collect()
    items.table("items").collect()
    assert len(checkouts) == 0  # both on the parked connection
    monkeypatch.setattr(parking, "HOLD_SECONDS", 0.0)
    items.table("items").collect()
    items.table("items").collect()
    assert len(checkouts) == 2  # each read now gives the parked one back and checks one out
    assert_no_transaction_open(items)


def test_pool_listeners_see_every_statement(items: Database) -> None:
    seen: list[str] = []
    pool = items.engine.pool
    sa.event.listen(pool, "checkout", lambda *args: seen.append("out"))
    sa.event.listen(pool, "checkin", lambda *args: seen.append("in"))
    for i in (1, 2, 3):
        items.table("items").where(col("id") == i).collect()
    assert seen == ["out", "in"] * 3 or seen == ["in"] + ["out", "in"] * 3  # (a parked one came back first)
    assert items.executor.parking.parked == ()


def test_a_pool_with_nothing_to_spare_is_not_held(dsn: str) -> None:
    engine = sa.create_engine(sa.make_url(dsn), pool_size=1, max_overflow=0, pool_timeout=2)
    try:
        with connect(engine=engine) as db:
            db.create_table("items", [column("id", "INTEGER", primary_key=True)]).collect()
            db.insert("items", [{"id": 1}])
            assert db.table("items").collect() == [{"id": 1}]
            assert db.executor.parking.parked == ()
            with engine.connect() as conn:  # the pool's only connection: available at once
                assert conn.exec_driver_sql("SELECT 1").scalar() == 1
            with db.transaction():
                db.insert("items", [{"id": 2}])
            assert db.table("items").count() == 2
    finally:
        engine.dispose()


def test_close_gives_the_parked_connection_back(dsn: str) -> None:
    engine = sa.create_engine(sa.make_url(dsn))
    try:
        db = connect(engine=engine)  # moltres's own checkout listener (SQL functions) does not stop parking
        db.sql("SELECT 1 AS one").collect()
        assert len(db.executor.parking.parked) == (1 if parks(db) else 0)
        db.close()
        assert db.executor.parking.parked == ()
        assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        engine.dispose()


def test_many_threads_share_the_pool(items: Database) -> None:
    errors: list[BaseException] = []
    found: dict[int, list[dict[str, Any]]] = {}

    def work(n: int) -> None:
        try:
            for _ in range(25):
                found[n] = items.table("items").where(col("id") == n).collect()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(1, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert found == {n: ([{"id": n, "name": f"item {n}"}] if n <= 5 else []) for n in range(1, 9)}
    assert len(items.executor.parking.parked) <= 1
    assert_no_transaction_open(items)


def test_a_connection_killed_while_parked(items: Database, dsn: str) -> None:
    if items.dialect_name != "postgresql":
        pytest.skip("PostgreSQL only: needs pg_terminate_backend")
    items.table("items").collect()
    (parked,) = items.executor.parking.parked
    with connect(dsn) as admin:
        admin.sql("SELECT pg_terminate_backend(:pid) AS done", pid=parked.info.backend_pid).collect()
    with pytest.raises(MoltresError) as info:
        items.table("items").collect()
    assert "connection" in str(info.value).lower() or "terminat" in str(info.value).lower()
    assert items.table("items").count() == 5  # a new connection from the pool
    assert_no_transaction_open(items)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_never_uses_the_parents_connection(items: Database) -> None:
    if not parks(items) or items.dialect_name == "duckdb":
        pytest.skip("nothing parked (PyMySQL), or a database file a child process cannot open (DuckDB)")
    items.table("items").collect()
    (parent,) = items.executor.parking.parked
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child process
        code = 1
        try:
            items.engine.dispose(close=False)  # what SQLAlchemy asks of a forked child
            rows = items.table("items").where(col("id") == 1).collect()
            (child,) = items.executor.parking.parked
            code = 0 if rows == [{"id": 1, "name": "item 1"}] and child is not parent else 2
        finally:
            os.write(writer, bytes([code]))
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        status = pipe.read()
    os.waitpid(pid, 0)
    assert status == b"\x00"
    assert items.table("items").count() == 5  # the parent's connection still works
    assert items.executor.parking.parked == (parent,)


def test_a_slot_parked_by_another_process_is_left_alone(items: Database) -> None:
    if not parks(items):
        pytest.skip("PyMySQL cannot tell an idle connection: nothing is parked")
    items.table("items").collect()
    (inherited,) = items.executor.parking.parked
    items.executor.parking._pid = -1  # as a forked child sees its parent's slot
    assert items.table("items").count() == 5
    assert items.executor.parking.parked != (inherited,)
    assert items.executor.parking._inherited[0].dbapi is inherited  # kept, never used nor closed


def test_pre_ping_pools_check_every_statement(items: Database, dsn: str) -> None:
    engine = sa.create_engine(sa.make_url(dsn), pool_pre_ping=True)
    try:
        with connect(engine=engine) as db:
            assert db.table("items").count() == 5
            assert db.executor.parking.parked == ()
            if db.dialect_name == "postgresql":  # a connection the server dropped is replaced unseen
                with engine.connect() as conn:
                    pid = conn.connection.driver_connection.info.backend_pid  # type: ignore[union-attr]
                with connect(dsn) as admin:
                    admin.sql("SELECT pg_terminate_backend(:pid) AS done", pid=pid).collect()
                assert db.table("items").count() == 5
    finally:
        engine.dispose()


def test_ctrl_c_during_a_read_throws_the_connection_away(items: Database) -> None:
    if items.dialect_name != "postgresql":
        pytest.skip("PostgreSQL only: needs a statement that runs long enough to interrupt (pg_sleep)")
    import signal

    def interrupt(*args: Any) -> None:
        raise KeyboardInterrupt

    items.table("items").collect()
    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        with pytest.raises(KeyboardInterrupt):
            items.sql("SELECT pg_sleep(5) AS slept").collect()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert items.executor.parking.parked == ()
    assert items.table("items").count() == 5
    assert_no_transaction_open(items)


def test_dispose_closes_the_parked_connection(items: Database) -> None:
    items.table("items").collect()
    parked = items.executor.parking.parked
    items.engine.dispose()  # e.g. to free a DuckDB file for another process
    assert items.executor.parking.parked == ()
    for dbapi in parked:
        with pytest.raises(Exception):  # noqa: B017 - each driver has its own "connection closed" error
            dbapi.cursor().execute("SELECT 1")
    assert items.table("items").count() == 5  # from the new pool
    assert_no_transaction_open(items)
