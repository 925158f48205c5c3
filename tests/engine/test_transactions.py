"""Transactions on every backend: commit, rollback on exception, nested savepoints."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from moltres import col
from moltres.table.schema import column
from moltres.utils.exceptions import ExecutionError, UnsupportedOperationError

if TYPE_CHECKING:
    from moltres import Database


@pytest.fixture
def accounts(db: Database) -> Database:
    db.create_table("accounts", [column("id", "INTEGER", primary_key=True), column("balance", "INTEGER")]).collect()
    db.insert("accounts", [{"id": 1, "balance": 100}, {"id": 2, "balance": 0}])
    return db


def balances(db: Database) -> list[int]:
    return [r["balance"] for r in db.table("accounts").order_by("id").collect()]


def transfer(db: Database, amount: int) -> None:
    db.update("accounts", where=col("id") == 1, set={"balance": col("balance") - amount})
    db.update("accounts", where=col("id") == 2, set={"balance": col("balance") + amount})


def test_commit(accounts: Database) -> None:
    with accounts.transaction() as tx:
        assert tx is accounts
        transfer(accounts, 30)
        assert balances(accounts) == [70, 30]  # reads in the block see its writes
    assert balances(accounts) == [70, 30]


def test_committed_work_is_visible_to_a_new_connection(accounts: Database, dsn: str) -> None:
    from moltres import connect

    with accounts.transaction():
        transfer(accounts, 10)
    with connect(dsn) as other:
        assert [r["balance"] for r in other.table("accounts").order_by("id").collect()] == [90, 10]


def test_rollback_on_exception(accounts: Database) -> None:
    with pytest.raises(RuntimeError, match="boom"), accounts.transaction():
        transfer(accounts, 30)
        accounts.insert("accounts", [{"id": 3, "balance": 5}])
        raise RuntimeError("boom")
    assert balances(accounts) == [100, 0]


def test_rollback_on_database_error(accounts: Database) -> None:
    with pytest.raises(ExecutionError), accounts.transaction():
        transfer(accounts, 30)
        accounts.insert("accounts", [{"id": 1, "balance": 5}])  # duplicate key
    assert balances(accounts) == [100, 0]


@pytest.mark.notimpl(["duckdb"], raises=UnsupportedOperationError, reason="DuckDB has no SAVEPOINT")
def test_nested_transaction_rolls_back_alone(accounts: Database) -> None:
    with accounts.transaction():
        transfer(accounts, 10)
        with pytest.raises(RuntimeError), accounts.transaction():
            transfer(accounts, 50)
            assert balances(accounts) == [40, 60]
            raise RuntimeError("inner")
        assert balances(accounts) == [90, 10]
        with accounts.transaction():
            transfer(accounts, 1)
    assert balances(accounts) == [89, 11]


@pytest.mark.notimpl(["duckdb"], raises=UnsupportedOperationError, reason="DuckDB has no SAVEPOINT")
def test_outer_rollback_undoes_committed_savepoints(accounts: Database) -> None:
    with pytest.raises(RuntimeError), accounts.transaction():
        with accounts.transaction():
            transfer(accounts, 10)
        with accounts.transaction(), accounts.transaction():
            transfer(accounts, 10)
        raise RuntimeError("outer")
    assert balances(accounts) == [100, 0]


@pytest.mark.notimpl(
    ["duckdb"], raises=ExecutionError, reason="DuckDB has no SAVEPOINT: an error aborts the whole transaction"
)
def test_failed_statement_inside_a_transaction_can_be_caught(accounts: Database) -> None:
    with accounts.transaction():
        transfer(accounts, 10)
        with pytest.raises(ExecutionError):
            accounts.insert("accounts", [{"id": 3, "balance": 1}, {"id": 1, "balance": 1}])
        accounts.insert("accounts", [{"id": 4, "balance": 4}])
    assert balances(accounts) == [90, 10, 4]


def test_ddl_inside_a_transaction(accounts: Database) -> None:
    # MySQL commits DDL implicitly; the block must still work (without a SAVEPOINT to lose)
    with accounts.transaction():
        accounts.create_table("log", [column("msg", "TEXT")]).collect()
        accounts.insert("log", [{"msg": "created"}])
        transfer(accounts, 5)
        accounts.table("accounts").write.mode("overwrite").save_as_table("snapshot")
    assert accounts.table("log").count() == 1
    assert [r["balance"] for r in accounts.table("snapshot").order_by("id").collect()] == [95, 5]


def test_rows_written_in_a_transaction_with_many_batches_roll_back(accounts: Database) -> None:
    with pytest.raises(RuntimeError), accounts.transaction():
        accounts.insert("accounts", [{"id": i, "balance": i} for i in range(10, 10_020)])  # two batches
        assert accounts.table("accounts").count() == 10_012
        raise RuntimeError("undo")
    assert accounts.table("accounts").count() == 2


def test_uncommitted_work_is_invisible_to_other_connections(accounts: Database, dsn: str) -> None:
    from moltres import connect

    if accounts.dialect_name in ("sqlite", "duckdb"):
        pytest.skip("an embedded file: one writer, and readers would wait for its lock")
    with connect(dsn) as other:
        with accounts.transaction():
            transfer(accounts, 1)
            assert [r["balance"] for r in other.table("accounts").order_by("id").collect()] == [100, 0]
        assert [r["balance"] for r in other.table("accounts").order_by("id").collect()] == [99, 1]
