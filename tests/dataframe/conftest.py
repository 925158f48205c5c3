"""A small shop dataset, loaded once per module and backend, for tests that only read.

Tests that change tables use the per-test ``db`` fixture instead; ``shop`` must never be
written to (its tables are shared by every test of the module on that backend).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from moltres.table.schema import column
from tests._backends import Backend

if TYPE_CHECKING:
    from moltres import Database

USERS: list[dict[str, Any]] = [
    {"id": 1, "name": "Ada", "age": 36, "city": "London", "born": dt.date(1815, 12, 10), "score": 9.5},
    {"id": 2, "name": "Alan", "age": 41, "city": "Wilmslow", "born": dt.date(1912, 6, 23), "score": 8.0},
    {"id": 3, "name": "Grace", "age": 85, "city": "New York", "born": dt.date(1906, 12, 9), "score": None},
    {"id": 4, "name": "Linus", "age": 28, "city": None, "born": None, "score": 7.25},
    {"id": 5, "name": "Edsger", "age": 72, "city": "Austin", "born": dt.date(1930, 5, 11), "score": 8.0},
]

ORDERS: list[dict[str, Any]] = [
    {"id": 10, "user_id": 1, "amount": 10.0, "status": "paid", "placed": dt.date(2024, 1, 5)},
    {"id": 11, "user_id": 1, "amount": 20.0, "status": "paid", "placed": dt.date(2024, 1, 20)},
    {"id": 12, "user_id": 2, "amount": 5.5, "status": "new", "placed": dt.date(2024, 2, 1)},
    {"id": 13, "user_id": 3, "amount": 100.0, "status": "paid", "placed": dt.date(2024, 2, 14)},
    {"id": 14, "user_id": 3, "amount": 1.25, "status": "cancelled", "placed": dt.date(2024, 3, 3)},
    {"id": 15, "user_id": 9, "amount": 42.0, "status": "new", "placed": dt.date(2024, 3, 30)},
]


def seed(db: Database) -> None:
    """Create and fill ``users`` and ``orders``."""
    db.create_table(
        "users",
        [
            column("id", "INTEGER", primary_key=True),
            column("name", "VARCHAR(50)", nullable=False),
            column("age", "INTEGER"),
            column("city", "VARCHAR(50)"),
            column("born", "DATE"),
            column("score", "DOUBLE"),
        ],
    ).collect()
    db.create_table(
        "orders",
        [
            column("id", "INTEGER", primary_key=True),
            column("user_id", "INTEGER"),
            column("amount", "DOUBLE"),
            column("status", "VARCHAR(20)"),
            column("placed", "DATE"),
        ],
    ).collect()
    db.insert("users", USERS)
    db.insert("orders", ORDERS)


@pytest.fixture(scope="module")
def shop(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """A read-only database holding ``users`` and ``orders`` (see :data:`USERS`, :data:`ORDERS`)."""
    from moltres import connect

    with backend.fresh(tmp_path_factory.mktemp(backend.name)) as url:
        database = connect(url)
        try:
            seed(database)
            yield database
        finally:
            database.close()
