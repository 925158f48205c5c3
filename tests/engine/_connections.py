"""Checks shared by the read-path and write-path tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from moltres import Database


def assert_no_transaction_open(db: Database) -> None:
    """Every connection is back in the pool, and the one handed out next has no transaction open."""
    assert db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    raw = db.engine.raw_connection()
    try:
        driver = raw.driver_connection
        if db.dialect_name == "postgresql":
            assert driver.autocommit is False  # type: ignore[union-attr]
            assert driver.info.transaction_status == 0  # type: ignore[union-attr]  # IDLE
        elif db.dialect_name == "sqlite":
            assert driver.in_transaction is False  # type: ignore[union-attr]
    finally:
        raw.close()
