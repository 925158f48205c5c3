"""Checks shared by the read-path and write-path tests."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from moltres import Database


def _assert_idle(db: Database, driver: Any, *, parked: bool) -> None:
    if db.dialect_name == "postgresql":
        assert driver.autocommit is parked  # parked connections wait in autocommit mode
        assert driver.info.transaction_status == 0  # IDLE
    elif db.dialect_name == "sqlite":
        assert driver.in_transaction is False


def assert_no_transaction_open(db: Database) -> None:
    """Every connection is back in the pool or parked idle, and the one handed out next has no transaction open."""
    assert in_use(db) == 0
    for dbapi in db.executor.parking.parked:
        _assert_idle(db, getattr(dbapi, "driver_connection", dbapi), parked=True)
    raw = db.engine.raw_connection()
    try:
        _assert_idle(db, raw.driver_connection, parked=False)
    finally:
        raw.close()


def in_use(db: Database) -> int:
    """Connections checked out of the pool, not counting the one parked for the next direct statement."""
    return db.engine.pool.checkedout() - len(db.executor.parking.parked)  # type: ignore[attr-defined, no-any-return]
