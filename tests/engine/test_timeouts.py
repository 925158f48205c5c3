"""query_timeout on every backend, per connection and per action: a slow query is cancelled
with QueryTimeoutError and the connection stays usable."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from moltres import connect
from moltres.utils.exceptions import QueryTimeoutError

if TYPE_CHECKING:
    from moltres import Database

# Each runs for seconds unless cancelled (the limits below are fractions of a second).
SLOW = {
    "sqlite": "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000000000) "
    "SELECT count(*) AS x FROM c",
    "postgresql": "SELECT pg_sleep(20) AS x",
    "mysql": "SELECT SLEEP(20) AS x",
    "duckdb": "SELECT sum(a.range * b.range) AS x FROM range(1000000) a, range(1000000) b",
}


@pytest.fixture
def limited(dsn: str) -> Iterator[Database]:
    with connect(dsn, query_timeout=0.3) as db:
        yield db


def test_connection_timeout_cancels_a_slow_query(limited: Database) -> None:
    with pytest.raises(QueryTimeoutError) as info:
        limited.sql(SLOW[limited.dialect_name]).collect()
    assert "timeout" in str(info.value)
    assert info.value.suggestion
    assert info.value.retryable
    # the connection is usable afterwards, and fast queries are not affected
    assert limited.sql("SELECT 1 AS one").collect() == [{"one": 1}]


def test_per_action_timeout(db: Database) -> None:
    slow = db.sql(SLOW[db.dialect_name])
    with pytest.raises(QueryTimeoutError, match="timeout"):
        slow.collect(timeout=0.2)
    with pytest.raises(QueryTimeoutError):
        list(slow.collect(stream=True, timeout=0.2))
    with pytest.raises(QueryTimeoutError):
        list(slow.iter_batches(10, timeout=0.2))
    assert db.sql("SELECT 2 AS two").collect() == [{"two": 2}]


def test_per_action_timeout_overrides_the_connection_default(limited: Database) -> None:
    # a generous per-action limit lets a query finish that the connection default would cut
    quick = {
        "sqlite": "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000) SELECT count(*) AS x FROM c",
        "postgresql": "SELECT pg_sleep(0.35) AS x",
        "mysql": "SELECT SLEEP(0.35) AS x",
        "duckdb": "SELECT count(*) AS x FROM range(1000)",
    }[limited.dialect_name]
    assert len(limited.sql(quick).collect(timeout=30)) == 1
    with pytest.raises(QueryTimeoutError):
        limited.sql(SLOW[limited.dialect_name]).collect(timeout=0.2)


def test_timeout_is_reset_after_each_statement(db: Database) -> None:
    with pytest.raises(QueryTimeoutError):
        db.sql(SLOW[db.dialect_name]).collect(timeout=0.2)
    # a later statement without a limit is not cancelled by the earlier one's setting
    if db.dialect_name == "postgresql":
        assert db.sql("SELECT pg_sleep(0.35) AS x").collect() is not None
    elif db.dialect_name == "mysql":
        assert db.sql("SELECT SLEEP(0.35) AS x").collect() == [{"x": 0}]
    else:
        assert db.sql("SELECT 1 AS x").collect() == [{"x": 1}]


def test_timeout_inside_a_transaction_rolls_it_back(db: Database) -> None:
    from moltres.table.schema import column

    db.create_table("t", [column("a", "INTEGER")]).collect()
    with pytest.raises(QueryTimeoutError), db.transaction():
        db.insert("t", [{"a": 1}])
        db.sql(SLOW[db.dialect_name]).collect(timeout=0.2)
    assert db.table("t").count() == 0
