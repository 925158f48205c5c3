"""The synchronous :class:`DataFrame`: the builders of ``Frame`` plus terminals that run.

Example:
    >>> df = db.table("users").select("name").where(col("age") > 40)
    >>> df.collect()
    [{'name': 'Grace'}]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal, overload

from moltres.dataframe.frame import Frame
from moltres.engine.executor import Executor, Rows, explain_plan
from moltres.expressions import nodes as n
from moltres.logical import plan as p
from moltres.sql.compiler import CompiledQuery
from moltres.sql.types import type_name
from moltres.utils.exceptions import ValidationError

if TYPE_CHECKING:
    import pandas
    import polars
    import pyarrow

__all__ = ["DataFrame", "check_batch_size", "check_named", "count_plan", "output_schema", "read_count", "render_table"]

DEFAULT_BATCH = 10_000


def render_table(columns: list[str], rows: Rows, *, max_width: int = 40) -> str:
    """Format rows as a plain-text table.

    Example:
        >>> print(render_table(["id", "name"], [{"id": 1, "name": "Ada"}]))
        +----+------+
        | id | name |
        +----+------+
        | 1  | Ada  |
        +----+------+
    """

    def cell(value: Any) -> str:
        text = "NULL" if value is None else str(value)
        return text if len(text) <= max_width else text[: max_width - 1] + "…"

    body = [[cell(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(line[i]) for line in body]) for i, c in enumerate(columns)]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    lines = [rule, "| " + " | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=False)) + " |", rule]
    lines += ["| " + " | ".join(v.ljust(w) for v, w in zip(line, widths, strict=False)) + " |" for line in body]
    lines.append(rule)
    return "\n".join(lines)


# What the sync and async terminals share (AsyncDataFrame imports these).


def output_schema(compiled: CompiledQuery) -> list[tuple[str, str]]:
    """``(name, SQL type)`` for each column a compiled query returns."""
    return [(c, type_name(t)) for c, t in zip(compiled.columns, compiled.types, strict=False)]


def check_batch_size(size: object) -> int:
    """`size` if it is a positive integer; else a ValidationError."""
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise ValidationError(f"batch size must be a positive integer, got {size!r}")
    return size


def check_named(named: object) -> bool:
    """`named` if it is a bool; else a ValidationError."""
    if not isinstance(named, bool):
        raise ValidationError(
            f"named= takes True (rows as dicts) or False (rows as tuples), got {named!r}",
            suggestion="df.iter_batches(10_000, named=False)",
        )
    return named


def count_plan(plan: p.Plan) -> p.Plan:
    """The plan that counts the rows of `plan` into one row ``{"count": n}``."""
    return p.Aggregate(plan, (), (n.Alias(n.Count(n.Star()), "count"),))


def read_count(rows: Rows) -> int:
    """The number in the result of :func:`count_plan`."""
    return int(rows[0]["count"])


class DataFrame(Frame[Executor]):
    """A lazy query on a database. Builders return new frames; terminals run SQL.

    Build one with ``db.table(name)``, ``db.sql(text)`` or ``db.create_dataframe(rows)``.
    """

    __slots__ = ()

    # -------------------------------------------------------------------------------- compile

    def _compiled(self, dialect: str | None = None) -> tuple[CompiledQuery, dict[str, Any]]:
        return self._executor.compile(self._plan, dialect)

    def to_sql(self, dialect: str | None = None) -> str:
        """The SQL this frame runs, with placeholders for values.

        Args:
            dialect: Render for another database (``"postgresql"``, ``"mysql"``, ...).

        Example:
            >>> print(db.table("users").select("name").where(col("age") > 40).to_sql())
            SELECT users.name
            FROM users
            WHERE users.age > ?
        """
        return self._compiled(dialect)[0].sql

    @property
    def sql(self) -> str:
        """The SQL text (same as :meth:`to_sql`)."""
        return self.to_sql()

    def show_sql(self) -> None:
        """Print the SQL this frame runs.

        Example:
            >>> db.table("users").select("id").show_sql()
            SELECT users.id
            FROM users
        """
        print(self.to_sql())

    @property
    def params(self) -> dict[str, Any]:
        """The values bound to the SQL's placeholders.

        Example:
            >>> db.table("users").where(col("age") > 40).params
            {'p0': 40}
        """
        return self._compiled()[1]

    @property
    def columns(self) -> list[str]:
        """The output column names (no query runs, tables are reflected once).

        Example:
            >>> db.table("users").columns
            ['id', 'name', 'age']
        """
        return list(self._compiled()[0].columns)

    @property
    def schema(self) -> list[tuple[str, str]]:
        """``(name, SQL type)`` for each output column.

        Example:
            >>> db.table("users").schema[0]
            ('id', 'INTEGER')
        """
        return output_schema(self._compiled()[0])

    dtypes = schema

    # -------------------------------------------------------------------------------- actions

    @overload
    def collect(
        self, stream: Literal[False] = False, *, batch_size: int = ..., timeout: float | None = ...
    ) -> Rows: ...

    @overload
    def collect(
        self, stream: Literal[True], *, batch_size: int = ..., timeout: float | None = ...
    ) -> Iterator[Rows]: ...

    def collect(
        self, stream: bool = False, *, batch_size: int = DEFAULT_BATCH, timeout: float | None = None
    ) -> Rows | Iterator[Rows]:
        """Run the query and return every row as a dict, or an iterator of chunks with ``stream=True``.

        Args:
            stream: Yield lists of at most `batch_size` rows from a server-side cursor.
            batch_size: Rows per chunk when streaming.
            timeout: Cancel the query after this many seconds.

        Example:
            >>> db.table("users").select("id").order_by("id").collect()
            [{'id': 1}, {'id': 2}, {'id': 3}]
            >>> [len(chunk) for chunk in db.table("users").collect(stream=True, batch_size=2)]
            [2, 1]
        """
        if stream:
            return self.iter_batches(batch_size, timeout=timeout)
        return self._executor.fetch_all(self._plan, timeout=timeout)

    @overload
    def iter_batches(
        self, size: int = ..., *, timeout: float | None = ..., named: Literal[True] = ...
    ) -> Iterator[Rows]: ...

    @overload
    def iter_batches(
        self, size: int = ..., *, timeout: float | None = ..., named: Literal[False]
    ) -> Iterator[list[tuple[Any, ...]]]: ...

    def iter_batches(
        self, size: int = DEFAULT_BATCH, *, timeout: float | None = None, named: bool = True
    ) -> Iterator[Rows] | Iterator[list[tuple[Any, ...]]]:
        """Yield the rows in lists of at most `size`, holding only one list in memory.

        Args:
            size: Rows per list.
            timeout: Cancel the query after this many seconds.
            named: Rows as dicts (the default), or with ``named=False`` as tuples in the order
                of :attr:`columns`, as the driver fetched them: no dict is built per row,
                which makes streaming a large result about 1.5 times faster.

        Example:
            >>> sum(len(b) for b in db.table("users").iter_batches(2))
            3
            >>> df = db.table("users").select("id", "name").order_by("id")
            >>> df.columns, next(df.iter_batches(2, named=False))
            (['id', 'name'], [(1, 'Ada'), (2, 'Alan')])
        """
        return self._executor.stream(self._plan, check_batch_size(size), timeout=timeout, named=check_named(named))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for batch in self.iter_batches():
            yield from batch

    def first(self) -> dict[str, Any] | None:
        """The first row, or None when there is none.

        Example:
            >>> db.table("users").order_by("id").first()
            {'id': 1, 'name': 'Ada', 'age': 36}
        """
        rows = self.limit(1).collect()
        return rows[0] if rows else None

    def head(self, n: int = 5) -> Rows:
        """The first `n` rows.

        Example:
            >>> len(db.table("users").head(2))
            2
        """
        return self.limit(n).collect()

    take = head

    def count(self) -> int:
        """The number of rows, counted by the database.

        Example:
            >>> db.table("users").where(col("age") > 30).count()
            2
        """
        return read_count(self._executor.fetch_all(count_plan(self._plan)))

    def show(self, n: int = 20, *, truncate: int = 40) -> None:
        """Print the first `n` rows as a table.

        Example:
            >>> db.table("users").select("id", "name").order_by("id").show(1)
            +----+------+
            | id | name |
            +----+------+
            | 1  | Ada  |
            +----+------+
        """
        compiled = self._compiled()[0]
        print(render_table(list(compiled.columns), self.limit(n).collect(), max_width=truncate))

    def explain(self) -> str:
        """The database's plan for this query (``EXPLAIN``), as text.

        Example:
            >>> "users" in db.table("users").explain().lower()
            True
        """
        return self._executor.run(explain_plan, self._executor.state, self._plan)

    def _distinct_values(self, node: n.Node) -> list[Any]:
        plan = p.Sort(p.Distinct(p.Project(self._plan, (n.Alias(node, "v"),))), (n.SortKey(n.Col("v")),))
        return [row["v"] for row in self._executor.fetch_all(plan)]

    # -------------------------------------------------------------------------------- interop

    def to_pandas(self) -> pandas.DataFrame:
        """The rows as a pandas DataFrame (needs ``moltres[pandas]``).

        Example:
            >>> db.table("users").to_pandas().shape
            (3, 3)
        """
        from moltres.io.formats.pandas import to_pandas

        return to_pandas(self)

    def to_polars(self) -> polars.DataFrame:
        """The rows as a polars DataFrame (needs ``moltres[polars]``).

        Example:
            >>> db.table("users").to_polars().shape
            (3, 3)
        """
        from moltres.io.formats.polars import to_polars

        return to_polars(self)

    def to_arrow(self) -> pyarrow.Table:
        """The rows as an Arrow table (needs ``moltres[parquet]``).

        Example:
            >>> db.table("users").to_arrow().num_rows
            3
        """
        from moltres.io.formats.arrow import to_arrow

        return to_arrow(self)

    def to_dicts(self) -> Rows:
        """Alias of :meth:`collect`."""
        return self.collect()
