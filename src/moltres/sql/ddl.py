"""Statements SQLAlchemy lacks: ``CREATE TABLE ... AS SELECT`` and ``EXPLAIN``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement

__all__ = ["CreateTableAs", "Explain", "Verbatim"]


class CreateTableAs(Executable, ClauseElement):
    """``CREATE [TEMPORARY] TABLE name AS <select>``, with the select's parameters bound.

    Example:
        >>> import sqlalchemy as sa
        >>> stmt = CreateTableAs("adults", sa.select(sa.literal_column("1").label("x")))
        >>> print(stmt.compile(dialect=sa.create_engine("sqlite://").dialect))
        CREATE TABLE adults AS SELECT 1 AS x
    """

    inherit_cache = False

    def __init__(self, name: str, select: Any, *, schema: str | None = None, temporary: bool = False) -> None:
        self.name = name
        self.select = select
        self.schema = schema
        self.temporary = temporary


@compiles(CreateTableAs)
def _create_table_as(element: CreateTableAs, compiler: Any, **kw: Any) -> str:
    preparer = compiler.preparer
    target = preparer.quote(element.name)
    if element.schema:
        target = f"{preparer.quote_schema(element.schema)}.{target}"
    temporary = "TEMPORARY " if element.temporary else ""
    return f"CREATE {temporary}TABLE {target} AS {compiler.process(element.select, **kw)}"


class Verbatim(Executable, ClauseElement):
    """A statement whose identifiers the dialect's preparer already quoted, passed on unchanged.

    Unlike ``sa.text``, it does not escape ``%`` a second time: the preparer doubles ``%`` in
    identifiers for ``format``-style drivers (psycopg, PyMySQL), and ``sa.text`` would double
    it again, so a table named ``100%`` could not be dropped or renamed.

    Example:
        >>> import sqlalchemy as sa
        >>> print(Verbatim("DROP TABLE t").compile(dialect=sa.create_engine("sqlite://").dialect))
        DROP TABLE t
    """

    inherit_cache = False

    def __init__(self, sql: str) -> None:
        self.sql = sql


@compiles(Verbatim)
def _verbatim(element: Verbatim, compiler: Any, **kw: Any) -> str:
    return element.sql


class Explain(Executable, ClauseElement):
    """``EXPLAIN <select>`` (``EXPLAIN QUERY PLAN`` on SQLite), with the select's parameters bound.

    Example:
        >>> import sqlalchemy as sa
        >>> print(Explain(sa.select(sa.literal_column("1"))).compile(dialect=sa.create_engine("sqlite://").dialect))
        EXPLAIN QUERY PLAN SELECT 1
    """

    inherit_cache = False

    def __init__(self, select: Any) -> None:
        self.select = select


@compiles(Explain)
def _explain(element: Explain, compiler: Any, **kw: Any) -> str:
    return f"EXPLAIN {compiler.process(element.select, **kw)}"


@compiles(Explain, "sqlite")
def _explain_sqlite(element: Explain, compiler: Any, **kw: Any) -> str:
    return f"EXPLAIN QUERY PLAN {compiler.process(element.select, **kw)}"
