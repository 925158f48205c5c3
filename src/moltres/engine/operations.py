"""Multi-statement operations as plain functions over a sync ``Connection``.

The sync executor calls them inside a transaction; the async executor runs the very same
functions through ``AsyncConnection.run_sync``. Each one either fully happens or, on error,
leaves the database as it was.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from moltres.sql.ddl import CreateTableAs, Verbatim
from moltres.sql.dialects.base import Rules

__all__ = ["create_table_as", "insert_rows", "insert_select", "insert_tuples", "overwrite_table", "upsert_rows"]

# Rows per INSERT batch: bounds memory and keeps each statement under driver limits.
BATCH_SIZE = 10_000


def insert_rows(conn: sa.Connection, rules: Rules, table: sa.Table, rows: Sequence[dict[str, Any]]) -> int:
    """Insert rows in batches through the dialect's fastest path; return the row count."""
    for start in range(0, len(rows), BATCH_SIZE):
        rules.bulk_insert(conn, table, rows[start : start + BATCH_SIZE])
    return len(rows)


def insert_tuples(
    conn: sa.Connection, rules: Rules, table: sa.Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> int:
    """Insert rows given as tuples in `columns` order, in batches, through the dialect's fastest path.

    Batches are of ``rules.copy_batch_rows`` rows where the database streams them (PostgreSQL's
    COPY: one statement per batch, whatever its size), else of :data:`BATCH_SIZE`.
    """
    step = rules.copy_batch_rows or BATCH_SIZE
    for start in range(0, len(rows), step):
        rules.insert_tuples(conn, table, columns, rows[start : start + step])
    return len(rows)


def insert_select(conn: sa.Connection, table: sa.Table, select: Any, columns: Sequence[str]) -> int:
    """``INSERT INTO table (columns) SELECT ...``: rows never pass through Python."""
    statement = table.insert().from_select(list(columns), select)
    # SQLAlchemy 2.1 only reports an INSERT ... SELECT's row count when asked to keep it
    result = conn.execute(statement, execution_options={"preserve_rowcount": True})
    return max(result.rowcount, 0)


class _Untyped(sa.types.UserDefinedType[Any]):
    """A column declared without a type (SQLite then stores each value as it comes)."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return ""


def create_table_as(
    conn: sa.Connection, name: str, select: Any, *, schema: str | None = None, rules: Rules | None = None
) -> int:
    """``CREATE TABLE name AS SELECT ...``; return the number of rows it holds.

    Where the database's ``CREATE TABLE AS`` forgets declared types (SQLite), the table is
    created from the query's column types first and then filled with ``INSERT ... SELECT``.
    """
    if rules is not None and not rules.ctas_keeps_types:
        columns = [
            sa.Column(c.name, _Untyped() if isinstance(c.type, sa.types.NullType) else c.type)
            for c in select.selected_columns
        ]
        table = sa.Table(name, sa.MetaData(), *columns, schema=schema)
        table.create(conn)
        return insert_select(conn, table, select, [c.name for c in columns])
    conn.execute(CreateTableAs(name, select, schema=schema))
    count = conn.execute(sa.select(sa.func.count()).select_from(sa.table(name, schema=schema)))
    return int(count.scalar_one())


def overwrite_table(
    conn: sa.Connection,
    rules: Rules,
    name: str,
    select: Any,
    *,
    schema: str | None = None,
    exists: bool = True,
) -> int:
    """Replace a table's contents with the result of `select`, atomically.

    The new rows go into a fresh table, which then takes the old one's place, so a failing
    query leaves the old table untouched. Where DDL is transactional the swap is one
    transaction; on MySQL ``RENAME TABLE`` swaps both names in one atomic step.
    """
    if not exists:
        return create_table_as(conn, name, select, schema=schema, rules=rules)
    staging = f"{name[:40]}__moltres_{uuid.uuid4().hex[:8]}"
    preparer = conn.dialect.identifier_preparer

    def qualified(table: str) -> str:
        return preparer.quote(table) if schema is None else f"{preparer.quote_schema(schema)}.{preparer.quote(table)}"

    try:
        count = create_table_as(conn, staging, select, schema=schema, rules=rules)
    except BaseException:
        if not rules.transactional_ddl:
            conn.execute(Verbatim(f"DROP TABLE IF EXISTS {qualified(staging)}"))
        raise
    if rules.transactional_ddl:
        conn.execute(Verbatim(f"DROP TABLE {qualified(name)}"))
        conn.execute(Verbatim(f"ALTER TABLE {qualified(staging)} RENAME TO {preparer.quote(name)}"))
    else:
        retired = f"{name[:40]}__moltres_old_{uuid.uuid4().hex[:8]}"
        conn.execute(
            Verbatim(
                f"RENAME TABLE {qualified(name)} TO {qualified(retired)}, {qualified(staging)} TO {qualified(name)}"
            )
        )
        conn.execute(Verbatim(f"DROP TABLE {qualified(retired)}"))
    return count


def upsert_rows(
    conn: sa.Connection,
    rules: Rules,
    table: sa.Table,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    update: Sequence[str],
) -> int:
    """Insert rows, updating the `update` columns of rows whose `keys` already exist."""
    total = 0
    for start in range(0, len(rows), BATCH_SIZE):
        batch = list(rows[start : start + BATCH_SIZE])
        result = conn.execute(rules.upsert(table, batch, keys, update), batch)
        total += max(result.rowcount, 0)
    return total
