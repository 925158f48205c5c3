"""``df.group_by(...)``: grouped rows waiting for ``agg``, ``count`` or ``pivot``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from moltres.expressions import nodes as n
from moltres.expressions.column import Column, column_of, to_node
from moltres.logical import plan as p
from moltres.utils.exceptions import ValidationError

if TYPE_CHECKING:
    from moltres.dataframe.frame import Frame

__all__ = ["GroupedData"]

F_ = TypeVar("F_", bound="Frame[Any]")

_AGG_NAMES: dict[str, Any] = {
    "sum": n.Sum,
    "avg": n.Avg,
    "mean": n.Avg,
    "min": n.Min,
    "max": n.Max,
    "count": n.Count,
    "count_distinct": n.CountDistinct,
    "stddev": n.StdDev,
    "collect_list": n.CollectList,
}


def _agg_node(expr: Column | Mapping[str, str]) -> list[n.Node]:
    if isinstance(expr, Column):
        return [expr.node]
    if isinstance(expr, Mapping):
        out: list[n.Node] = []
        for column, func in expr.items():
            cls = _AGG_NAMES.get(str(func).lower())
            if cls is None:
                raise ValidationError(
                    f"unknown aggregate {func!r} for column '{column}'",
                    suggestion="use one of: " + ", ".join(sorted(_AGG_NAMES)),
                )
            out.append(n.Alias(cls(column_of(column)), f"{str(func).lower()}_{column}"))
        return out
    raise ValidationError(
        f"agg() takes aggregate expressions or a {{'column': 'sum'}} dict, got {type(expr).__name__}",
        suggestion="agg(F.sum('amount').alias('total')) or agg({'amount': 'sum'})",
    )


class GroupedData(Generic[F_]):
    """Rows grouped by key columns; ``agg`` turns each group into one row.

    Example:
        >>> g = db.table("orders").group_by("user_id")
        >>> g.count().order_by("user_id").first()
        {'user_id': 1, 'count': 2}
    """

    __slots__ = ("_frame", "_keys", "_pivot")

    def __init__(self, frame: F_, keys: tuple[n.Node, ...], pivot: tuple[n.Node, tuple[Any, ...]] | None = None):
        self._frame = frame
        self._keys = keys
        self._pivot = pivot

    def agg(self, *exprs: Column | Mapping[str, str], **named: Column) -> F_:
        """One row per group with these aggregates (expressions, or ``{"col": "sum"}``).

        Example:
            >>> from moltres.expressions import functions as F
            >>> db.table("orders").group_by("user_id").agg({"amount": "max"}).order_by("user_id").first()
            {'user_id': 1, 'max_amount': 20.0}
        """
        nodes: list[n.Node] = []
        for e in exprs:
            if e.__class__ is Column:  # the usual case, without a call
                nodes.append(e.node)
            else:
                nodes.extend(_agg_node(e))
        for name, e in named.items():
            nodes.append(n.Alias(to_node(e), name))
        if not nodes:
            raise ValidationError("agg() needs at least one aggregate", suggestion="agg(F.count('*'))")
        if self._pivot is not None:
            nodes = self._pivoted(nodes)
        return self._frame._with(p.Aggregate(self._frame._plan, self._keys, tuple(nodes)))

    def _pivoted(self, aggs: list[n.Node]) -> list[n.Node]:
        assert self._pivot is not None
        pivot_col, values = self._pivot
        out: list[n.Node] = []
        for value in values:
            for item in aggs:
                name = None
                agg = item
                if isinstance(item, n.Alias):
                    name, agg = item.name, item.arg
                fields = [f for f in agg.__dataclass_fields__ if isinstance(getattr(agg, f), n.Node)]
                if not fields:
                    raise ValidationError("pivot() needs aggregates over a column, such as F.sum('amount')")
                arg = getattr(agg, fields[0])
                guarded = n.Case(((n.Compare(n.CompareOp.EQ, pivot_col, to_node(value)), arg),))
                if isinstance(arg, n.Star):
                    guarded = n.Case(((n.Compare(n.CompareOp.EQ, pivot_col, to_node(value)), to_node(1)),))
                rebuilt = type(agg)(**{**{f: getattr(agg, f) for f in agg.__dataclass_fields__}, fields[0]: guarded})
                label = str(value) if len(aggs) == 1 else f"{value}_{name or type(agg).__name__.lower()}"
                out.append(n.Alias(rebuilt, label))
        return out

    def pivot(self, column: str | Column, values: Sequence[Any] | None = None) -> GroupedData[F_]:
        """Turn the distinct values of `column` into output columns.

        Without `values`, one extra query finds the distinct values first (sync frames only).

        Example:
            >>> from moltres.expressions import functions as F
            >>> by_status = db.table("orders").group_by("user_id").pivot("status", ["paid"])
            >>> by_status.agg(F.sum("amount")).order_by("user_id").first()
            {'user_id': 1, 'paid': 30.0}
        """
        node = column_of(column)
        if values is None:
            finder = getattr(self._frame, "_distinct_values", None)
            if finder is None:
                raise ValidationError(
                    "pivot() on an async DataFrame needs values=",
                    suggestion="pass the values: pivot('status', ['new', 'paid'])",
                )
            values = finder(node)
        return GroupedData(self._frame, self._keys, (node, tuple(values)))

    def count(self) -> F_:
        """Number of rows in each group, as column ``count``."""
        return self.agg(Column(n.Alias(n.Count(n.Star()), "count")))

    def _simple(self, cls: Any, cols: Sequence[str], prefix: str) -> F_:
        if not cols:
            raise ValidationError(f"{prefix}() needs at least one column name")
        return self.agg(*[Column(n.Alias(cls(column_of(c)), f"{prefix}_{c}")) for c in cols])

    def sum(self, *cols: str) -> F_:
        """Sum of each named column per group, as ``sum_<col>``."""
        return self._simple(n.Sum, cols, "sum")

    def avg(self, *cols: str) -> F_:
        """Mean of each named column per group, as ``avg_<col>``."""
        return self._simple(n.Avg, cols, "avg")

    mean = avg

    def min(self, *cols: str) -> F_:
        """Minimum of each named column per group, as ``min_<col>``."""
        return self._simple(n.Min, cols, "min")

    def max(self, *cols: str) -> F_:
        """Maximum of each named column per group, as ``max_<col>``."""
        return self._simple(n.Max, cols, "max")
