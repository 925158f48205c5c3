"""Tables for the data-quality tests, and a counter of the statements a block sends."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from moltres import Database, column

NOW = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)

#: people: one NULL email, one duplicate email, one age out of range, one NULL age,
#: two codes of the wrong length, one status outside "active".
PEOPLE = [
    {
        "id": 1,
        "email": "a@x.org",
        "age": 30,
        "status": "active",
        "code": "AB",
        "joined": NOW - dt.timedelta(hours=1),
        "score": 1.5,
    },
    {
        "id": 2,
        "email": None,
        "age": 200,
        "status": "active",
        "code": "ABCD",
        "joined": NOW - dt.timedelta(days=3),
        "score": 2.5,
    },
    {"id": 3, "email": "a@x.org", "age": None, "status": "gone", "code": "x", "joined": None, "score": None},
    {
        "id": 4,
        "email": "b@y.com",
        "age": 45,
        "status": "active",
        "code": "AB",
        "joined": NOW - dt.timedelta(days=2),
        "score": 3.0,
    },
]
#: orders: one orphan (person 9), one repeated (person_id, day), one NULL person_id.
ORDERS = [
    {"id": 1, "person_id": 1, "day": 1},
    {"id": 2, "person_id": 9, "day": 1},
    {"id": 3, "person_id": 1, "day": 1},
    {"id": 4, "person_id": None, "day": 2},
]


@pytest.fixture
def people(db: Database) -> Database:
    """`db` with the people and orders tables filled."""
    db.create_table(
        "people",
        [
            column("id", "INTEGER", primary_key=True),
            column("email", "TEXT"),
            column("age", "INTEGER"),
            column("status", "TEXT"),
            column("code", "VARCHAR(10)"),
            column("joined", "TIMESTAMP"),
            column("score", "REAL"),
        ],
    ).collect()
    db.create_table(
        "orders", [column("id", "INTEGER", primary_key=True), column("person_id", "INTEGER"), column("day", "INTEGER")]
    ).collect()
    db.insert("people", PEOPLE)
    db.insert("orders", ORDERS)
    return db


_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@contextlib.contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """Collect the SQL of every statement sent on `db`'s engine (transaction control left out)."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        if not statement.lstrip().upper().startswith(_CONTROL):
            seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
