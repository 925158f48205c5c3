"""Fixtures for the Streamlit tests: a small SQLite database file with users and orders."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from moltres import Database, column, connect

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "streamlit_app.py"

USERS = [
    {"id": i, "name": name, "age": age, "city": city}
    for i, (name, age, city) in enumerate(
        [("Ada", 36, "London"), ("Grace", 45, None), ("Linus", 21, "Helsinki"), ("Alan", 41, "Wilmslow")], start=1
    )
]


@pytest.fixture
def app_dsn(tmp_path: Path) -> str:
    """A SQLite file with a `users` table."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    with connect(url) as db:
        db.create_table(
            "users",
            [
                column("id", "INTEGER", primary_key=True),
                column("name", "TEXT"),
                column("age", "INTEGER"),
                column("city", "TEXT"),
            ],
        ).collect()
        db.insert("users", USERS)
    return url


@pytest.fixture
def app_db(app_dsn: str) -> Iterator[Database]:
    with connect(app_dsn) as database:
        yield database
