"""Doctest set-up: every docstring example runs against a small, fresh SQLite database.

The examples refer to ``db`` (with tables ``users`` and ``orders``), ``col``, ``lit``, ``F``,
``column`` and ``Window``, as a user's session would, and to ``tmp``, a fresh folder (a
``pathlib.Path``) for the files they read and write. Async examples call ``arun(work)``: it
runs ``await work(adb)`` under ``asyncio.run``, with ``adb`` an ``AsyncDatabase`` on the same
file, and returns the result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from moltres import col, column, connect, lit
from moltres.expressions import functions as F
from moltres.expressions.window import Window

USERS = [
    {"id": 1, "name": "Ada", "age": 36},
    {"id": 2, "name": "Alan", "age": 30},
    {"id": 3, "name": "Grace", "age": 45},
]
ORDERS = [
    {"id": 1, "user_id": 1, "amount": 10.0, "status": "paid"},
    {"id": 2, "user_id": 1, "amount": 20.0, "status": "paid"},
    {"id": 3, "user_id": 2, "amount": 5.5, "status": "new"},
]


@pytest.fixture(autouse=True)
def _doctest_database(doctest_namespace: dict[str, Any], tmp_path: Any) -> Iterator[None]:
    url = f"sqlite:///{tmp_path / 'doctest.db'}"
    db = connect(url)
    db.create_table(
        "users",
        [column("id", "INTEGER", primary_key=True), column("name", "TEXT"), column("age", "INTEGER")],
    ).collect()
    db.create_table(
        "orders",
        [
            column("id", "INTEGER", primary_key=True),
            column("user_id", "INTEGER"),
            column("amount", "REAL"),
            column("status", "TEXT"),
        ],
    ).collect()
    db.insert("users", USERS)
    db.insert("orders", ORDERS)
    doctest_namespace.update(
        db=db, col=col, lit=lit, F=F, column=column, Window=Window, arun=_async_runner(url), tmp=tmp_path
    )
    yield
    db.close()


def _async_runner(url: str) -> Callable[[Callable[[Any], Awaitable[Any]]], Any]:
    def arun(work: Callable[[Any], Awaitable[Any]]) -> Any:
        async def main() -> Any:
            from moltres import async_connect

            async with await async_connect(url) as adb:
                return await work(adb)

        return asyncio.run(main())

    return arun
