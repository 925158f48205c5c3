"""Every DataFrame builder, written once for the sync and async frames.

A frame is a logical plan plus the executor that will run it. Builders return a new frame
and never touch the database; only the terminal methods of :class:`DataFrame` and
:class:`AsyncDataFrame` do.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from typing_extensions import Self

from moltres.dataframe.grouped import GroupedData
from moltres.expressions import nodes as n
from moltres.expressions.column import Column, column_of, parse_column_name, to_node
from moltres.logical import plan as p
from moltres.sql.compiler import LEFT, RIGHT, validate_identifiers
from moltres.utils.exceptions import ValidationError

if TYPE_CHECKING:
    from moltres.dataframe.writer import DataFrameWriter

__all__ = ["Frame"]

E = TypeVar("E")

_new = object.__new__

_JOIN_ALIASES: dict[str, p.JoinHow] = {
    "inner": "inner",
    "left": "left",
    "left_outer": "left",
    "leftouter": "left",
    "right": "right",
    "right_outer": "right",
    "rightouter": "right",
    "full": "full",
    "outer": "full",
    "full_outer": "full",
    "fullouter": "full",
    "cross": "cross",
    "semi": "semi",
    "left_semi": "semi",
    "leftsemi": "semi",
    "anti": "anti",
    "left_anti": "anti",
    "leftanti": "anti",
}


def _predicate(value: Column | str) -> n.Node:
    if isinstance(value, str):
        from moltres.expressions.parser import parse_expression

        return parse_expression(value)
    if isinstance(value, Column):
        return value.node
    raise ValidationError(
        f"a filter takes a Column or a SQL expression string, got {type(value).__name__}",
        suggestion="df.where(col('age') > 18) or df.where('age > 18')",
    )


def _column_expr(value: object) -> n.Node:
    if value.__class__ is str:  # the usual case first
        return parse_column_name(value)
    if isinstance(value, str):
        return column_of(value)
    if isinstance(value, Column):
        return value.node
    raise ValidationError(
        f"expected a column name or a Column, got {type(value).__name__}",
        suggestion="pass col('name'), F.expression(...), or the column name as a string",
    )


def _sort_key(value: object, ascending: bool | None) -> n.SortKey:
    node = value.node if value.__class__ is Column else _column_expr(value)
    if isinstance(node, n.SortKey):
        return node
    return n.SortKey(node, ascending is False, None)


class Frame(Generic[E]):
    """The builders shared by :class:`DataFrame` and :class:`AsyncDataFrame`."""

    __slots__ = ("_database", "_executor", "_plan")

    def __init__(self, plan: p.Plan, executor: E, database: Any = None) -> None:
        self._plan = plan
        self._executor = executor
        self._database = database

    def _with(self, plan: p.Plan) -> Self:
        # every builder ends here: set the slots directly rather than through __init__
        frame: Self = _new(self.__class__)
        frame._plan = plan
        frame._executor = self._executor
        frame._database = self._database
        return frame

    @property
    def plan(self) -> p.Plan:
        """The logical plan this frame will run."""
        return self._plan

    @property
    def database(self) -> Any:
        """The :class:`~moltres.Database` (or ``AsyncDatabase``) this frame reads from."""
        return self._database

    def __repr__(self) -> str:
        return f"{type(self).__name__}<{type(self._plan).__name__}>"

    # -------------------------------------------------------------------------------- columns

    def select(self, *cols: str | Column) -> Self:
        """Keep or compute these columns; with no argument, keep every column.

        Args:
            cols: Column names (``"*"`` for all, ``"t.*"`` for one input's) or expressions.

        Example:
            >>> db.table("users").select("name", (col("age") + 1).alias("next_age")).collect()[0]
            {'name': 'Ada', 'next_age': 37}
        """
        if len(cols) == 1 and isinstance(cols[0], (list, tuple)):
            cols = tuple(cols[0])
        if not cols:
            return self
        return self._with(p.Project(self._plan, tuple([_column_expr(c) for c in cols])))

    def select_expr(self, *exprs: str) -> Self:
        """Select SQL expression strings such as ``"price * qty AS total"`` (parsed, never pasted).

        Example:
            >>> db.table("users").select_expr("name", "age * 2 AS double_age").collect()[0]
            {'name': 'Ada', 'double_age': 72}
        """
        from moltres.expressions.parser import parse_select_item

        if not exprs:
            raise ValidationError("select_expr() needs at least one expression", suggestion="select_expr('a + 1 AS b')")
        for e in exprs:
            if not isinstance(e, str):
                raise ValidationError(f"select_expr() takes strings, got {type(e).__name__}", suggestion="use select()")
        return self._with(p.Project(self._plan, tuple(parse_select_item(e) for e in exprs)))

    selectExpr = select_expr

    def where(self, predicate: Column | str) -> Self:
        """Keep the rows for which `predicate` is true.

        Args:
            predicate: A boolean column expression, or a SQL snippet such as ``"age > 18"``.

        Example:
            >>> db.table("users").where(col("age") > 40).collect()
            [{'id': 3, 'name': 'Grace', 'age': 45}]
        """
        node = predicate.node if predicate.__class__ is Column else _predicate(predicate)
        return self._with(p.Filter(self._plan, node))

    filter = where

    def with_column(self, name: str, expr: Column | object) -> Self:
        """Add a column, or replace the one with that name.

        Example:
            >>> db.table("users").with_column("senior", col("age") > 40).select("name", "senior").collect()[-1]
            {'name': 'Grace', 'senior': True}
        """
        validate_identifiers([name])
        return self._with(p.WithColumns(self._plan, ((name, to_node(expr)),)))

    withColumn = with_column

    def with_columns(self, mapping: Mapping[str, Column | object] | None = None, /, **named: Column | object) -> Self:
        """Add or replace several columns, each computed from the input columns.

        Example:
            >>> db.table("users").with_columns({"a": lit(1)}, b=col("age")).select("a", "b").first()
            {'a': 1, 'b': 36}
        """
        items = {**(mapping or {}), **named}
        if not items:
            raise ValidationError(
                "with_columns() needs at least one column",
                suggestion="with_columns(total=col('a') + col('b'))",
            )
        validate_identifiers(items)
        return self._with(p.WithColumns(self._plan, tuple((k, to_node(v)) for k, v in items.items())))

    withColumns = with_columns

    def drop(self, *names: str) -> Self:
        """Remove these columns.

        Example:
            >>> db.table("users").drop("age").columns
            ['id', 'name']
        """
        for name in names:
            if not isinstance(name, str):
                raise ValidationError(f"drop() takes column names, got {type(name).__name__}")
        return self._with(p.Drop(self._plan, tuple(names)))

    def with_column_renamed(self, existing: str, new: str) -> Self:
        """Rename a column.

        Example:
            >>> db.table("users").with_column_renamed("name", "full_name").columns
            ['id', 'full_name', 'age']
        """
        validate_identifiers([new])
        return self._with(p.Rename(self._plan, ((existing, new),)))

    withColumnRenamed = with_column_renamed

    def alias(self, name: str) -> Self:
        """Name this input so its columns can be qualified: ``col("u.id")``.

        Example:
            >>> u = db.table("users").alias("u")
            >>> u.select(col("u.name")).first()
            {'name': 'Ada'}
        """
        validate_identifiers([name])
        return self._with(p.SubqueryAlias(self._plan, name))

    # -------------------------------------------------------------------------------- rows

    def order_by(self, *cols: str | Column, ascending: bool | None = None) -> Self:
        """Sort rows; use ``col("x").desc()``, ``.nulls_last()`` etc. for direction.

        Example:
            >>> [r["name"] for r in db.table("users").order_by(col("age").desc()).collect()]
            ['Grace', 'Ada', 'Alan']
        """
        if len(cols) == 1 and isinstance(cols[0], (list, tuple)):
            cols = tuple(cols[0])
        if not cols:
            raise ValidationError("order_by() needs at least one column", suggestion="order_by('name')")
        return self._with(p.Sort(self._plan, tuple([_sort_key(c, ascending) for c in cols])))

    sort = order_by
    orderBy = order_by

    def limit(self, n: int) -> Self:
        """Keep at most `n` rows.

        Example:
            >>> len(db.table("users").limit(2).collect())
            2
        """
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ValidationError(f"limit() takes a non-negative integer, got {n!r}")
        return self._with(p.Limit(self._plan, n))

    def offset(self, n: int) -> Self:
        """Skip the first `n` rows.

        Example:
            >>> db.table("users").order_by("id").offset(2).collect()[0]["name"]
            'Grace'
        """
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ValidationError(f"offset() takes a non-negative integer, got {n!r}")
        return self._with(p.Limit(self._plan, None, n))

    def distinct(self) -> Self:
        """Remove duplicate rows.

        Example:
            >>> db.table("users").select(lit(1).alias("one")).distinct().collect()
            [{'one': 1}]
        """
        return self._with(p.Distinct(self._plan))

    def drop_duplicates(self, subset: Sequence[str] | None = None) -> Self:
        """Keep one row per distinct value of `subset` (all columns when omitted).

        Example:
            >>> db.table("users").with_column("k", lit(1)).drop_duplicates(["k"]).count()
            1
        """
        if subset is None:
            return self.distinct()
        if isinstance(subset, str):
            subset = [subset]
        return self._with(p.DropDuplicates(self._plan, tuple(subset)))

    dropDuplicates = drop_duplicates

    def sample(self, fraction: float, seed: int | None = None) -> Self:
        """About `fraction` of the rows, chosen at random by the database.

        Example:
            >>> db.table("users").sample(1.0).count()
            3
        """
        if not isinstance(fraction, (int, float)) or not 0 <= fraction <= 1:
            raise ValidationError(f"sample() takes a fraction between 0 and 1, got {fraction!r}")
        return self._with(p.Sample(self._plan, float(fraction), seed))

    def explode(self, column: str, alias: str | None = None) -> Self:
        """One row per element of an array column (PostgreSQL, DuckDB; JSON arrays on SQLite).

        Example:
            >>> db.sql("SELECT '[1, 2]' AS xs").explode("xs", "x").select("x").count()
            2
        """
        return self._with(p.Explode(self._plan, column, alias or column))

    def cte(self, name: str) -> Self:
        """Compute this frame once as ``WITH name AS (...)``; refer to its columns as ``name.col``.

        Example:
            >>> adults = db.table("users").where(col("age") > 40).cte("adults")
            >>> adults.select(col("adults.name")).collect()
            [{'name': 'Grace'}]
        """
        validate_identifiers([name])
        return self._with(p.WithCTE(self._plan, name))

    # -------------------------------------------------------------------------------- combining

    def _same_source(self, other: object, what: str) -> Frame[E]:
        if not isinstance(other, Frame):
            raise ValidationError(
                f"{what}() takes another DataFrame, got {type(other).__name__}",
                suggestion="build it with db.table(...) on the same database",
            )
        if other._executor is not self._executor:
            raise ValidationError(
                f"{what}() needs both DataFrames on the same database",
                suggestion="copy one side over first: other.write.save_as_table(...) on this database",
            )
        return other

    def join(
        self,
        other: Frame[E],
        on: str | Column | Sequence[str] | Sequence[Column] | Sequence[tuple[str, str]] | None = None,
        how: str = "inner",
    ) -> Self:
        """Join with another frame of the same database.

        Args:
            other: The right side.
            on: A column name or list of names present on both sides (kept once), a boolean
                expression or list of them, or ``[("left_col", "right_col"), ...]``.
            how: ``inner``, ``left``, ``right``, ``full``, ``cross``, ``semi`` or ``anti``.

        Example:
            >>> orders = db.table("orders")
            >>> db.table("users").join(orders, on=[("id", "user_id")]).select("name", "amount").first()
            {'name': 'Ada', 'amount': 10.0}
        """
        other = self._same_source(other, "join")
        key = how.lower() if isinstance(how, str) else how
        kind = _JOIN_ALIASES.get(key) if isinstance(key, str) else None
        if kind is None:
            raise ValidationError(
                f"unknown join type {how!r}",
                suggestion="use one of: inner, left, right, full, cross, semi, anti",
            )
        using: tuple[str, ...] = ()
        condition: n.Node | None = None
        if on is None:
            if kind != "cross":
                raise ValidationError(
                    f"a {kind} join needs on=",
                    suggestion="join(other, on='id'), on=[('user_id', 'id')], or on=col('a.x') == col('b.y')",
                )
        elif isinstance(on, str):
            using = (on,)
        elif isinstance(on, Column):
            condition = on.node
        elif isinstance(on, (list, tuple)) and on:
            first = on[0]  # looked at first: only lists of its kind pass the check below
            if isinstance(first, str) and all(isinstance(x, str) for x in on):
                using = tuple([str(x) for x in on])
            elif isinstance(first, tuple) and all(isinstance(x, tuple) and len(x) == 2 for x in on):
                condition = _and_all(
                    [_equal_pair(str(pair[0]), str(pair[1])) for pair in on if isinstance(pair, tuple)]
                )
            elif isinstance(first, Column) and all(isinstance(x, Column) for x in on):
                condition = _and_all([x.node for x in on if isinstance(x, Column)])
            else:
                raise ValidationError(
                    "on= must be all column names, all (left, right) pairs, or all expressions",
                    suggestion="on=['id'], on=[('user_id', 'id')] or on=[col('a.x') == col('b.y')]",
                )
        else:
            raise ValidationError(
                f"on= cannot be {type(on).__name__}",
                suggestion="on='id', on=[('user_id', 'id')] or on=col('a.x') == col('b.y')",
            )
        return self._with(p.Join(self._plan, other._plan, kind, condition, using))

    def cross_join(self, other: Frame[E]) -> Self:
        """Every combination of rows of the two frames.

        Example:
            >>> db.table("users").cross_join(db.table("users").alias("b")).count()
            9
        """
        return self.join(other, how="cross")

    crossJoin = cross_join

    def _set(self, other: Frame[E], kind: p.SetKind, *, distinct: bool, by_name: bool = False, what: str) -> Self:
        other = self._same_source(other, what)
        return self._with(p.SetOperation(self._plan, other._plan, kind, distinct, by_name))

    def union(self, other: Frame[E]) -> Self:
        """Rows of both frames, duplicates removed (SQL ``UNION``; see :meth:`union_all`).

        Example:
            >>> db.table("users").union(db.table("users")).count()
            3
        """
        return self._set(other, "union", distinct=True, what="union")

    def union_all(self, other: Frame[E]) -> Self:
        """Rows of both frames, duplicates kept (SQL ``UNION ALL``, PySpark's ``union``).

        Example:
            >>> db.table("users").union_all(db.table("users")).count()
            6
        """
        return self._set(other, "union", distinct=False, what="union_all")

    unionAll = union_all

    def union_by_name(self, other: Frame[E]) -> Self:
        """``UNION ALL`` matching columns by name rather than position.

        Example:
            >>> a = db.table("users").select("id", "name")
            >>> a.union_by_name(db.table("users").select("name", "id")).count()
            6
        """
        return self._set(other, "union", distinct=False, by_name=True, what="union_by_name")

    unionByName = union_by_name

    def intersect(self, other: Frame[E]) -> Self:
        """Rows present in both frames.

        Example:
            >>> db.table("users").intersect(db.table("users").where(col("id") == 1)).count()
            1
        """
        return self._set(other, "intersect", distinct=True, what="intersect")

    def except_(self, other: Frame[E]) -> Self:
        """Rows of this frame that are not in `other`.

        Example:
            >>> db.table("users").except_(db.table("users").where(col("id") == 1)).count()
            2
        """
        return self._set(other, "except", distinct=True, what="except_")

    subtract = except_
    exceptAll = except_

    # -------------------------------------------------------------------------------- grouping

    def group_by(self, *cols: str | Column) -> GroupedData[Self]:
        """Group rows by these columns; follow with ``.agg(...)``.

        Example:
            >>> db.table("orders").group_by("user_id").agg(F.sum("amount").alias("total")).order_by("user_id").first()
            {'user_id': 1, 'total': 30.0}
        """
        if len(cols) == 1 and isinstance(cols[0], (list, tuple)):
            cols = tuple(cols[0])
        return GroupedData(self, tuple([_column_expr(c) for c in cols]))

    groupBy = group_by
    groupby = group_by

    def agg(self, *exprs: Column | Mapping[str, str], **named: Column) -> Self:
        """Aggregate the whole frame into one row.

        Example:
            >>> db.table("users").agg(F.max("age").alias("oldest"))._plan.__class__.__name__
            'Aggregate'
        """
        return self.group_by().agg(*exprs, **named)

    # -------------------------------------------------------------------------------- writing

    @property
    def write(self) -> DataFrameWriter[Self]:
        """Write this frame to a table or file: ``df.write.mode("overwrite").save_as_table("t")``."""
        from moltres.dataframe.writer import DataFrameWriter

        return DataFrameWriter(self)


# Join keys repeat across queries; their conditions are immutable values, so build each once.
@functools.lru_cache(maxsize=1024)
def _equal_pair(left: str, right: str) -> n.Node:
    return n.Compare(n.CompareOp.EQ, n.Col(left, LEFT), n.Col(right, RIGHT))


def _and_all(terms: Iterable[n.Node]) -> n.Node:
    items = list(terms)
    out = items[0]
    for term in items[1:]:
        out = n.And(out, term)
    return out
