"""Window specifications: ``Window.partition_by(...).order_by(...).rows_between(...)``."""

from __future__ import annotations

from dataclasses import dataclass, replace

from typing_extensions import Self

from moltres.expressions import nodes as n
from moltres.expressions.column import Column, column_of

__all__ = ["Window", "WindowSpec"]


def _sort_key(value: object) -> n.SortKey:
    node = column_of(value)
    return node if isinstance(node, n.SortKey) else n.SortKey(node)


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """How rows are grouped, ordered and framed for a window function.

    Example:
        >>> from moltres import col
        >>> Window.partition_by("dept").order_by(col("day")).rows_between(Window.unbounded_preceding, 0).frame
        Frame(kind='rows', start=None, end=0)
    """

    partitions: tuple[n.Node, ...] = ()
    orderings: tuple[n.SortKey, ...] = ()
    frame: n.Frame | None = None

    def partition_by(self, *cols: str | Column) -> Self:
        """Split rows into partitions by these columns."""
        return replace(self, partitions=self.partitions + tuple(column_of(c) for c in cols))

    def order_by(self, *cols: str | Column) -> Self:
        """Order rows within each partition."""
        return replace(self, orderings=self.orderings + tuple(_sort_key(c) for c in cols))

    def rows_between(self, start: int | None, end: int | None) -> Self:
        """Frame by physical rows; ``None`` (or ``Window.unbounded_*``) means unbounded."""
        return replace(self, frame=n.Frame("rows", start, end))

    def range_between(self, start: int | None, end: int | None) -> Self:
        """Frame by value range; ``None`` (or ``Window.unbounded_*``) means unbounded."""
        return replace(self, frame=n.Frame("range", start, end))

    partitionBy = partition_by
    orderBy = order_by
    rowsBetween = rows_between
    rangeBetween = range_between


class Window:
    """Start a window specification.

    Example:
        >>> from moltres import col
        >>> from moltres.expressions import functions as F
        >>> w = Window.partition_by("customer_id").order_by("placed_at")
        >>> running = F.sum(col("amount")).over(w.rows_between(Window.unbounded_preceding, Window.current_row))
    """

    unbounded_preceding: None = None
    unbounded_following: None = None
    unboundedPreceding: None = None
    unboundedFollowing: None = None
    current_row = 0
    currentRow = 0

    @staticmethod
    def partition_by(*cols: str | Column) -> WindowSpec:
        """A window partitioned by these columns."""
        return WindowSpec().partition_by(*cols)

    partitionBy = partition_by

    @staticmethod
    def order_by(*cols: str | Column) -> WindowSpec:
        """A window over all rows, ordered by these columns."""
        return WindowSpec().order_by(*cols)

    orderBy = order_by
