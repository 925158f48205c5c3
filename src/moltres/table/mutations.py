"""Statements that change tables: lazy DDL, and row inserts, updates, deletes and upserts.

Each function here takes a sync ``Connection``; the sync and async databases run the same
functions, the async one through ``run_sync``.
"""

from __future__ import annotations

import contextlib
import itertools
import operator
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

from moltres.engine import operations
from moltres.engine.executor import Connect, DriverWrite, QueryState, direct_form, on, schema_change
from moltres.expressions import nodes as n
from moltres.expressions.column import Column, to_node
from moltres.sql.ddl import Verbatim
from moltres.sql.dialects.base import bind_column, check_columns, insert_sql
from moltres.utils.collector import collector_paused
from moltres.utils.exceptions import ColumnNotFoundError, ValidationError

__all__ = [
    "AsyncDDLOperation",
    "DDLOperation",
    "create_index",
    "create_table",
    "delete_rows",
    "drop_table",
    "insert_rows",
    "merge_rows",
    "normalize_keys",
    "row_tuples",
    "stage_rows",
    "update_rows",
]

R = TypeVar("R")


class DDLOperation(Generic[R]):
    """A schema change that runs when you call ``collect()``, like a query.

    Example:
        >>> from moltres.table.schema import column
        >>> op = db.create_table("tags", [column("id", "INTEGER", primary_key=True)])
        >>> op.collect()
        True
    """

    def __init__(self, description: str, run: Callable[[], R]) -> None:
        self.description = description
        self._run = run

    def collect(self) -> R:
        """Run the statement now."""
        return self._run()

    execute = collect

    def __repr__(self) -> str:
        return f"{type(self).__name__}<{self.description}>"


class AsyncDDLOperation(DDLOperation[Awaitable[R]]):
    """A schema change of an ``AsyncDatabase``: it runs when awaited, directly or via ``collect()``.

    Example:
        >>> async def demo(adb):
        ...     created = await adb.create_table("tags", [column("id", "INTEGER")])
        ...     again = await adb.create_table("tags", [column("id", "INTEGER")], if_not_exists=True).collect()
        ...     return created, again
        >>> arun(demo)
        (True, False)
    """

    async def collect(self) -> R:
        """Run the statement now."""
        return await self._run()

    execute = collect

    def __await__(self) -> Generator[Any, None, R]:
        return self.collect().__await__()


def _table(state: QueryState, conn: sa.Connection, name: str) -> sa.Table:
    return state.catalog(on(conn)).table(name)


# DDL as plain functions over a Connection (run by Executor.atomic or AsyncExecutor.atomic).
# Each forgets what it changed, so the next query reflects the table anew.


@schema_change
def create_table(conn: sa.Connection, state: QueryState, table: sa.Table, if_not_exists: bool) -> bool:
    """``CREATE TABLE`` from a SQLAlchemy table; False when it exists and `if_not_exists` is set."""
    try:
        if if_not_exists and sa.inspect(conn).has_table(table.name, schema=table.schema):
            return False
        table.create(conn)
        return True
    finally:
        state.forget(table.name, table.schema)


@schema_change
def drop_table(conn: sa.Connection, state: QueryState, name: str, schema: str | None, if_exists: bool) -> bool:
    """``DROP TABLE``; False when there is no such table and `if_exists` is set."""
    preparer = conn.dialect.identifier_preparer
    target = preparer.quote(name) if schema is None else f"{preparer.quote_schema(schema)}.{preparer.quote(name)}"
    try:
        if if_exists and not sa.inspect(conn).has_table(name, schema=schema):
            return False
        conn.execute(Verbatim(f"DROP TABLE {target}"))
        return True
    finally:
        state.forget(name, schema)


@schema_change
def create_index(
    conn: sa.Connection, state: QueryState, name: str, table: str, columns: Sequence[str], unique: bool
) -> bool:
    """``CREATE [UNIQUE] INDEX name ON table (columns)``, naming a missing column if there is one."""
    target = _table(state, conn, table)
    check_columns(target, columns)
    sa.Index(name, *[target.c[c] for c in columns], unique=unique).create(conn)
    return True


def stage_rows(conn: sa.Connection, state: QueryState, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> int:
    """Create `table` and fill it with `rows`, in one go; return the row count."""
    create_table(conn, state, table, False)
    return insert_rows(conn, state, table.name, rows)


def normalize_keys(table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Check row keys against the table's columns and give every row the same keys.

    A key absent from every row is left out, so the column's default applies; a key absent
    from only some rows becomes NULL there.
    """
    known = set(table.c.keys())
    keys: dict[str, None] = {}
    for row in rows:
        for key in row:
            if key not in known:
                raise ColumnNotFoundError(key, list(table.c.keys()), table=table.name)
            keys[key] = None
    return [{k: row.get(k) for k in keys} for row in rows]


def row_tuples(table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The columns the rows give (first-seen order, checked against the table) and the rows as tuples.

    Same rules as :func:`normalize_keys`, without building a dict per row: large inserts go to
    the driver as tuples.

    Example:
        >>> t = sa.table("t", sa.column("a"), sa.column("b"))
        >>> row_tuples(t, [{"a": 1}, {"b": 2, "a": 3}])
        (['a', 'b'], [(1, None), (3, 2)])
    """
    names = list(rows[0]) if rows else []
    values: list[tuple[Any, ...]] | None = None
    with collector_paused(len(rows)):
        # the usual case, every row with the same keys, converts at C speed; anything else
        # (keys missing from some rows, or extra ones) takes the general path
        if len(names) > 1 and sum(map(len, rows)) == len(names) * len(rows):
            with contextlib.suppress(KeyError):
                values = list(map(operator.itemgetter(*names), rows))
        if values is None:
            names = list(dict.fromkeys(itertools.chain.from_iterable(rows)))
            values = [tuple(map(row.get, names)) for row in rows]
    check_columns(table, names)
    return names, values


# Plain Python values the driver binds as they are; anything else (a dict or list stored as
# JSON or a nested type, an object an adapter converts) takes the usual path.
_PLAIN = frozenset({int, float, str, bool, bytes, type(None)})


def _one_row_insert(
    connect: Connect, state: QueryState, name: str, rows: Sequence[Mapping[str, Any]]
) -> DriverWrite | None:
    """A one-row insert as a single driver statement (see :func:`~moltres.engine.executor.direct_form`).

    The statement and its columns' bind processors are built once per table and column list.
    """
    if len(rows) != 1:
        return None
    row = rows[0]
    values = tuple(row.values())
    if not values or not _PLAIN.issuperset(map(type, values)):
        return None
    columns = tuple(row)
    sql, processors, keys, table = state.memo(
        (insert_rows, name, columns), lambda: _insert_form(state, state.catalog(connect).table(name), columns)
    )
    if processors:
        converted = list(values)
        for i, processor in processors:
            converted[i] = bind_column(processor, (converted[i],), table, columns[i])[0]
        values = tuple(converted)
    return sql, values if keys is None else dict(zip(keys, values, strict=True))


def _insert_form(
    state: QueryState, table: sa.Table, columns: tuple[str, ...]
) -> tuple[str, tuple[tuple[int, Callable[[Any], Any]], ...], tuple[str, ...] | None, sa.Table]:
    """The INSERT of `columns` in the driver's terms: its SQL, bind processors by position, parameter names, table."""
    check_columns(table, columns)
    dialect = state.dialect
    processors = []
    for i, column in enumerate(columns):
        processor = table.c[column].type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            processors.append((i, processor))
    keys = tuple(f"p{i}" for i in range(len(columns))) if dialect.paramstyle == "named" else None
    return insert_sql(dialect, table, columns), tuple(processors), keys, table


@direct_form(_one_row_insert)
def insert_rows(conn: sa.Connection, state: QueryState, name: str, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert rows into table `name`, batched; return the count."""
    table = _table(state, conn, name)
    if not rows:
        return 0
    # the tuples are made, sent and freed before the collector runs again: it never scans them
    with collector_paused(len(rows)):
        streamed = state.rules.insert_dicts(conn, table, rows)
        if streamed is not None:  # made and sent a chunk at a time
            return streamed
        columns, values = row_tuples(table, rows)
        count = operations.insert_tuples(conn, state.rules, table, columns, values)
        del values
    return count


def _columns(table: sa.Table) -> dict[str, Any]:
    return dict(table.c)


def _set_nodes(table: sa.Table, values: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[Any, ...]]:
    """The assigned columns and, for each, an expression node or (dict, list: JSON) the raw value."""
    if not isinstance(values, Mapping) or not values:
        raise ValidationError(
            "set= must be a non-empty dict of column to new value",
            suggestion="db.update('users', where=col('id') == 1, set={'name': 'Ada'})",
        )
    check_columns(table, values)
    nodes = tuple(
        to_node(v) if isinstance(v, Column) or not isinstance(v, (dict, list)) else v for v in values.values()
    )
    return tuple(values), nodes


def _where_node(where: Column | str | None) -> n.Node | None:
    if where is None or isinstance(where, Column):
        return None if where is None else where.node
    if isinstance(where, str):
        from moltres.expressions.parser import parse_expression

        return parse_expression(where)
    raise ValidationError(
        f"where= takes a Column or a SQL expression string, got {type(where).__name__}",
        suggestion="where=col('id') == 1",
    )


def _prepare(
    state: QueryState, table: sa.Table, kind: str, keys: tuple[str, ...], nodes: tuple[Any, ...], where: n.Node | None
) -> tuple[Any, dict[str, Any]]:
    """The UPDATE (``keys`` set to ``nodes``) or DELETE statement and its parameters.

    Statements are cached by table and expression shape, as queries are, unless a value is
    a dict or list (stored as JSON), which SQLAlchemy binds itself.
    """

    def build(compiler: Any) -> Any:
        columns = dict(table.c)
        unique = not cacheable
        if kind == "delete":
            stmt: Any = sa.delete(table)
        else:
            stmt = sa.update(table).values(
                {
                    key: compiler.compile_expression(node, columns, unique=unique) if isinstance(node, n.Node) else node
                    for key, node in zip(keys, nodes, strict=True)
                }
            )
        if where is not None:
            stmt = stmt.where(compiler.compile_expression(where, columns, unique=unique))
        return stmt

    cacheable = all(isinstance(node, n.Node) for node in nodes)
    if not cacheable:
        return build(state.rules.compiler_class(state.dialect)), {}
    return state.prepare_statement((kind, table.name, table.schema, keys), (*nodes, where), build)


def _update(
    state: QueryState, table: sa.Table, where: Column | str | None, values: Mapping[str, Any]
) -> tuple[Any, dict[str, Any]]:
    keys, nodes = _set_nodes(table, values)
    return _prepare(state, table, "update", keys, nodes, _where_node(where))


def _delete(state: QueryState, table: sa.Table, where: Column | str | None) -> tuple[Any, dict[str, Any]]:
    return _prepare(state, table, "delete", (), (), _where_node(where))


def _direct_update(
    connect: Connect, state: QueryState, name: str, where: Column | str | None, values: Mapping[str, Any]
) -> DriverWrite | None:
    return state.driver_write(*_update(state, state.catalog(connect).table(name), where, values))


def _direct_delete(connect: Connect, state: QueryState, name: str, where: Column | str | None) -> DriverWrite | None:
    return state.driver_write(*_delete(state, state.catalog(connect).table(name), where))


@direct_form(_direct_update)
def update_rows(
    conn: sa.Connection, state: QueryState, name: str, where: Column | str | None, values: Mapping[str, Any]
) -> int:
    """``UPDATE name SET ... WHERE ...``; return the number of rows changed."""
    stmt, params = _update(state, _table(state, conn, name), where, values)
    return max(conn.execute(stmt, params).rowcount, 0)


@direct_form(_direct_delete)
def delete_rows(conn: sa.Connection, state: QueryState, name: str, where: Column | str | None) -> int:
    """``DELETE FROM name WHERE ...``; return the number of rows removed."""
    stmt, params = _delete(state, _table(state, conn, name), where)
    return max(conn.execute(stmt, params).rowcount, 0)


def merge_rows(
    conn: sa.Connection,
    state: QueryState,
    name: str,
    rows: Sequence[Mapping[str, Any]],
    on: Sequence[str],
    update: Sequence[str] | None,
) -> int:
    """Insert rows, updating existing ones matched on the `on` key columns; return rows written."""
    table = _table(state, conn, name)
    if not rows:
        return 0
    check_columns(table, on)
    normalized = normalize_keys(table, rows)
    columns = list(normalized[0])
    for key in on:
        if key not in columns:
            raise ValidationError(f"every row needs the key column '{key}' for merge", table=name)
    targets = [c for c in (update if update is not None else columns) if c not in on]
    operations.upsert_rows(conn, state.rules, table, normalized, list(on), targets)
    # drivers disagree on what an upsert's rowcount means (MySQL counts updates twice,
    # psycopg reports -1 for batches): report the rows written, which is the same everywhere
    return len(normalized)
