"""Fixtures for the IO tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

if TYPE_CHECKING:
    from moltres import Database


@pytest.fixture
def stored_tables(db: Database) -> Callable[[], list[str]]:
    """The tables in the test's namespace as the database's catalog lists them, sorted.

    Unlike ``db.tables()``, it includes moltres' staging tables (``moltres_read_...``), so a
    test can check that a failed load left none behind.
    """

    def names() -> list[str]:
        return sorted(sa.inspect(db.engine).get_table_names())

    return names
