"""moltres: a lazy, PySpark-style DataFrame that runs inside the SQL database you already have.

Example:
    >>> from moltres import connect, col
    >>> db = connect("sqlite://")
    >>> db.sql("SELECT 1 AS one").collect()
    [{'one': 1}]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from moltres.database import Database, connect
from moltres.expressions.column import Column, col, lit
from moltres.table.schema import column

if TYPE_CHECKING:
    from moltres.async_database import AsyncDatabase, async_connect

__all__ = ["AsyncDatabase", "Column", "Database", "async_connect", "col", "column", "connect", "lit"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # the async side needs greenlet and an async driver; load it only when asked for
    if name in ("AsyncDatabase", "async_connect"):
        from moltres import async_database

        return getattr(async_database, name)
    raise AttributeError(f"module 'moltres' has no attribute {name!r}")
