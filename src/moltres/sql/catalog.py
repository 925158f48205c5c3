"""What the compiler needs to know about stored tables, without knowing how it is found out.

The engine layer implements :class:`Catalog` by reflecting a live database (and caching);
:class:`StaticCatalog` answers from a dict, for compiling offline.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import sqlalchemy as sa

from moltres.utils.exceptions import TableNotFoundError

__all__ = ["Catalog", "StaticCatalog"]


class Catalog(Protocol):
    """Where the compiler looks up tables and the columns of raw SQL queries."""

    def table(self, name: str, schema: str | None = None) -> sa.Table:
        """The table's SQLAlchemy description; raises ``TableNotFoundError`` if it is missing."""
        ...

    def sql_columns(self, text: str, params: Mapping[str, Any]) -> list[str]:
        """The output column names of a raw SELECT."""
        ...


class StaticCatalog:
    """A catalog held in memory: ``{"table": {"column": sa_type_or_name}}``.

    Example:
        >>> cat = StaticCatalog({"users": {"id": "INTEGER", "name": "TEXT"}})
        >>> [c.name for c in cat.table("users").c]
        ['id', 'name']
    """

    def __init__(
        self,
        tables: Mapping[str, Mapping[str, Any]],
        sql_columns: Mapping[str, list[str]] | None = None,
    ) -> None:
        from moltres.sql.types import parse_type

        self._metadata = sa.MetaData()
        self._tables = {
            name: sa.Table(name, self._metadata, *[sa.Column(c, parse_type(t)) for c, t in cols.items()])
            for name, cols in tables.items()
        }
        self._sql_columns = dict(sql_columns or {})

    def table(self, name: str, schema: str | None = None) -> sa.Table:
        """Look up a table by name."""
        try:
            return self._tables[name]
        except KeyError:
            raise TableNotFoundError(name, self._tables) from None

    def sql_columns(self, text: str, params: Mapping[str, Any]) -> list[str]:
        """The declared columns of a raw query."""
        return list(self._sql_columns.get(text, []))
