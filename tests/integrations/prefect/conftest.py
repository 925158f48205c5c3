"""Real Prefect 3 for the task tests: one ``prefect_test_harness`` for the whole session.

The harness starts a temporary Prefect server with its own SQLite database (about 15 s), so
it is started once, before the first test, and stopped at the end. Database backends come
from the suite-wide ``backend``/``dsn`` fixtures; this environment installs the SQLite and
PostgreSQL drivers only, and ``requirements/test-prefect.dirs`` deselects the others.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

USERS = [
    {"id": 1, "name": "Ada", "email": "ada@example.com", "age": 36, "active": True},
    {"id": 2, "name": "Bob", "email": "bob@example.com", "age": 17, "active": False},
    {"id": 3, "name": "Cy", "email": "cy@example.com", "age": 64, "active": True},
    {"id": 4, "name": "Di", "email": "di@example.com", "age": 29, "active": True},
]


def pytest_configure(config: pytest.Config) -> None:
    # Prefect's server and client warn about their own dependencies; not ours to fix.
    for line in (
        "ignore::DeprecationWarning:prefect.*",
        "ignore::DeprecationWarning:pydantic.*",
        "ignore::DeprecationWarning:websockets.*",
        "ignore::pytest.PytestUnraisableExceptionWarning",
    ):
        config.addinivalue_line("filterwarnings", line)


@pytest.fixture(scope="session", autouse=True)
def prefect_server() -> Iterator[None]:
    """A temporary Prefect API for the session (flows and blocks need one)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def users(dsn: str) -> list[dict[str, Any]]:
    """Create and fill a ``users`` table (id, name, email, age, active) in the test's database."""
    from moltres import connect
    from moltres.table.schema import column

    with connect(dsn) as db:
        db.create_table(
            "users",
            [
                column("id", "INTEGER", primary_key=True),
                column("name", "TEXT"),
                column("email", "TEXT"),
                column("age", "INTEGER"),
                column("active", "BOOLEAN"),
            ],
        ).collect()
        db.insert("users", USERS)
    return USERS


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run on SQLite and PostgreSQL only: the drivers this environment installs."""
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend") if callspec is not None else None
        (drop if backend in ("mysql", "duckdb") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
