"""The user-facing :class:`Column`: a thin wrapper around an expression node.

`Column` is the only place that overloads Python operators; the nodes it wraps stay plain
values. ``col("age") > 18`` builds a node, it does not compare anything.

Example:
    >>> from moltres import col
    >>> (col("age") > 18).node
    Compare(op=<CompareOp.GT: '>'>, left=Col(name='age', table=None), right=Lit(value=18, kind=<class 'int'>))
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from moltres.expressions import nodes as n
from moltres.utils.exceptions import ValidationError

if TYPE_CHECKING:
    from moltres.expressions.window import WindowSpec

__all__ = ["Column", "ColumnLike", "col", "column_of", "lit", "parse_column_name", "to_node", "wrap"]

_SCALAR_TYPES = (
    bool,
    int,
    float,
    str,
    bytes,
    decimal.Decimal,
    dt.datetime,
    dt.date,
    dt.time,
    dt.timedelta,
    type(None),
)
_SCALARS = frozenset(_SCALAR_TYPES)

ColumnLike = "Column | str"


def to_node(value: object) -> n.Node:
    """Turn a Column, node or Python value into an expression node (values become literals).

    Example:
        >>> to_node(3)
        Lit(value=3, kind=<class 'int'>)
    """
    kind = value.__class__
    if kind in _SCALARS:  # the usual literal first (exact classes; subclasses take the long way)
        return n.Lit(value, kind)  # type: ignore[arg-type]  # kind is one of the scalar classes
    if isinstance(value, Column):
        return value.node
    if isinstance(value, n.Node):
        return value
    if isinstance(value, _SCALAR_TYPES):
        return n.Lit(value, type(value))
    if isinstance(value, (list, tuple)):
        items = tuple(value)
        if all(isinstance(v, _SCALAR_TYPES) for v in items):
            return n.Lit(items, tuple)
    raise ValidationError(
        f"cannot use a value of type {type(value).__name__} in an expression",
        suggestion="use a column (col('name')), a number, a string, a date, or None",
    )


def column_of(value: object) -> n.Node:
    """Turn a column name or Column into a node: strings name columns here, not literals.

    Example:
        >>> column_of("age")
        Col(name='age', table=None)
    """
    if isinstance(value, str):
        return parse_column_name(value)
    if isinstance(value, Column):
        return value.node
    if isinstance(value, n.Node):
        return value
    raise ValidationError(
        f"expected a column name or a Column, got {type(value).__name__}",
        suggestion="pass col('name') or the name as a string",
    )


# Column names repeat across queries; their nodes are immutable, so parse each name once.
@functools.lru_cache(maxsize=4096)
def parse_column_name(name: str) -> n.Node:
    """The node a column name stands for: ``"a"``, ``"t.a"``, ``"*"`` or ``"t.*"`` (cached).

    Example:
        >>> parse_column_name("t.a"), parse_column_name("*")
        (Col(name='a', table='t'), Star(table=None))
    """
    if name == "*":
        return n.Star()
    if name.endswith(".*") and name.count(".") == 1:
        return n.Star(name[:-2])
    if "." in name and name.count(".") == 1 and " " not in name:
        table, column = name.split(".")
        if table and column:
            return n.Col(column, table)
    return n.Col(name)


class Column:
    """An expression over the columns of a DataFrame.

    Build one with :func:`col` or :func:`lit` and combine it with Python operators:
    ``+ - * / %``, comparisons, ``&`` (and), ``|`` (or) and ``~`` (not).

    Example:
        >>> from moltres import col
        >>> expr = (col("price") * col("qty")).alias("total")
        >>> expr.name
        'total'
    """

    __slots__ = ("node",)

    node: n.Node

    def __init__(self, node: n.Node) -> None:
        object.__setattr__(self, "node", node)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Column is immutable")

    # Comparisons build SQL; use `equals` for structural equality.
    def __eq__(self, other: object) -> Column:  # type: ignore[override]
        return wrap(n.Compare(n.CompareOp.EQ, self.node, to_node(other)))

    def __ne__(self, other: object) -> Column:  # type: ignore[override]
        return wrap(n.Compare(n.CompareOp.NE, self.node, to_node(other)))

    def __lt__(self, other: object) -> Column:
        return wrap(n.Compare(n.CompareOp.LT, self.node, to_node(other)))

    def __le__(self, other: object) -> Column:
        return wrap(n.Compare(n.CompareOp.LE, self.node, to_node(other)))

    def __gt__(self, other: object) -> Column:
        return wrap(n.Compare(n.CompareOp.GT, self.node, to_node(other)))

    def __ge__(self, other: object) -> Column:
        return wrap(n.Compare(n.CompareOp.GE, self.node, to_node(other)))

    __hash__ = None  # type: ignore[assignment]

    def __bool__(self) -> bool:
        raise ValidationError(
            "a Column has no truth value",
            suggestion="combine conditions with & (and), | (or) and ~ (not), each side in parentheses",
        )

    def __add__(self, other: object) -> Column:
        return wrap(n.Add(self.node, to_node(other)))

    def __radd__(self, other: object) -> Column:
        return wrap(n.Add(to_node(other), self.node))

    def __sub__(self, other: object) -> Column:
        return wrap(n.Sub(self.node, to_node(other)))

    def __rsub__(self, other: object) -> Column:
        return wrap(n.Sub(to_node(other), self.node))

    def __mul__(self, other: object) -> Column:
        return wrap(n.Mul(self.node, to_node(other)))

    def __rmul__(self, other: object) -> Column:
        return wrap(n.Mul(to_node(other), self.node))

    def __truediv__(self, other: object) -> Column:
        return wrap(n.Div(self.node, to_node(other)))

    def __rtruediv__(self, other: object) -> Column:
        return wrap(n.Div(to_node(other), self.node))

    def __mod__(self, other: object) -> Column:
        return wrap(n.Mod(self.node, to_node(other)))

    def __rmod__(self, other: object) -> Column:
        return wrap(n.Mod(to_node(other), self.node))

    def __pow__(self, other: object) -> Column:
        return wrap(n.Power(self.node, to_node(other)))

    def __neg__(self) -> Column:
        return wrap(n.Neg(self.node))

    def __and__(self, other: object) -> Column:
        return wrap(n.And(self.node, to_node(other)))

    def __rand__(self, other: object) -> Column:
        return wrap(n.And(to_node(other), self.node))

    def __or__(self, other: object) -> Column:
        return wrap(n.Or(self.node, to_node(other)))

    def __ror__(self, other: object) -> Column:
        return wrap(n.Or(to_node(other), self.node))

    def __invert__(self) -> Column:
        return wrap(n.Not(self.node))

    def __repr__(self) -> str:
        return f"Column<{self.node!r}>"

    def __iter__(self) -> Any:
        raise TypeError("a Column is not iterable")

    # -------------------------------------------------------------------------------- naming

    def equals(self, other: Column) -> bool:
        """Structural equality; ``==`` builds SQL.

        Example:
            >>> col("a").equals(col("a"))
            True
        """
        return self.node == other.node

    @property
    def name(self) -> str | None:
        """The output name this expression gets in a result, when it has an obvious one."""
        node = self.node
        if isinstance(node, n.Alias):
            return node.name
        if isinstance(node, n.Col):
            return node.name
        return None

    def alias(self, name: str) -> Column:
        """Name the expression in the output.

        Example:
            >>> col("a").alias("b").name
            'b'
        """
        if not isinstance(name, str) or not name:
            raise ValidationError("an alias must be a non-empty string", suggestion="col('a').alias('total')")
        inner = self.node.arg if isinstance(self.node, n.Alias) else self.node
        return wrap(n.Alias(inner, name))

    name_as = alias

    # -------------------------------------------------------------------------------- predicates

    def is_null(self) -> Column:
        """True where the value is NULL."""
        return wrap(n.IsNull(self.node))

    def is_not_null(self) -> Column:
        """True where the value is not NULL."""
        return wrap(n.IsNotNull(self.node))

    isNull = is_null
    isNotNull = is_not_null

    def isin(self, *values: object) -> Column:
        """True where the value is one of `values` (a list or several arguments).

        Example:
            >>> col("status").isin("new", "open").node.values[0]
            Lit(value='new', kind=<class 'str'>)
        """
        items: Iterable[object] = values
        if len(values) == 1 and isinstance(values[0], (list, tuple, set, frozenset)):
            items = values[0]
        nodes = tuple(to_node(v) for v in items)
        return wrap(n.InList(self.node, nodes))

    def between(self, low: object, high: object) -> Column:
        """True where ``low <= value <= high``."""
        return wrap(n.Between(self.node, to_node(low), to_node(high)))

    def like(self, pattern: object) -> Column:
        """SQL ``LIKE`` with ``%`` and ``_`` wildcards."""
        return wrap(n.Like(self.node, to_node(pattern)))

    def ilike(self, pattern: object) -> Column:
        """Case-insensitive ``LIKE``."""
        return wrap(n.ILike(self.node, to_node(pattern)))

    def rlike(self, pattern: object) -> Column:
        """Regular-expression match (not on SQLite, which has no REGEXP function by default)."""
        return wrap(n.RLike(self.node, to_node(pattern)))

    def startswith(self, prefix: object) -> Column:
        """True where the string starts with `prefix`; wildcards in it are matched literally."""
        return wrap(n.StartsWith(self.node, to_node(prefix)))

    def endswith(self, suffix: object) -> Column:
        """True where the string ends with `suffix`; wildcards in it are matched literally."""
        return wrap(n.EndsWith(self.node, to_node(suffix)))

    def contains(self, substring: object) -> Column:
        """True where the string contains `substring`; wildcards in it are matched literally."""
        return wrap(n.Contains(self.node, to_node(substring)))

    startsWith = startswith
    endsWith = endswith

    # -------------------------------------------------------------------------------- conversion

    def cast(self, to: str) -> Column:
        """Convert to a SQL type such as ``"INTEGER"``, ``"TEXT"``, ``"REAL"`` or ``"DATE"``.

        Example:
            >>> col("age").cast("TEXT").node.to
            'TEXT'
        """
        if not isinstance(to, str) or not to.strip():
            raise ValidationError("cast() takes a SQL type name", suggestion="col('x').cast('INTEGER')")
        return wrap(n.Cast(self.node, to.strip()))

    astype = cast

    def when(self, condition: object, value: object) -> Column:
        """Add a branch to a ``F.when(...)`` chain."""
        if not isinstance(self.node, n.Case) or self.node.default is not None:
            raise ValidationError(
                "when() can only follow F.when(...) or another when()",
                suggestion="start the chain with F.when(condition, value)",
            )
        branch = (to_node(condition), to_node(value))
        return wrap(n.Case((*self.node.whens, branch)))

    def otherwise(self, value: object) -> Column:
        """Close a ``F.when(...)`` chain with the value for rows no branch matched."""
        if not isinstance(self.node, n.Case) or self.node.default is not None:
            raise ValidationError(
                "otherwise() can only follow F.when(...)",
                suggestion="F.when(col('a') > 1, 'big').otherwise('small')",
            )
        return wrap(n.Case(self.node.whens, to_node(value)))

    # -------------------------------------------------------------------------------- ordering

    def asc(self) -> Column:
        """Sort ascending (NULL placement is the database's default)."""
        return wrap(n.SortKey(self._unsorted(), False, None))

    def desc(self) -> Column:
        """Sort descending (NULL placement is the database's default)."""
        return wrap(n.SortKey(self._unsorted(), True, None))

    def asc_nulls_first(self) -> Column:
        """Sort ascending with NULLs first."""
        return wrap(n.SortKey(self._unsorted(), descending=False, nulls_first=True))

    def asc_nulls_last(self) -> Column:
        """Sort ascending with NULLs last."""
        return wrap(n.SortKey(self._unsorted(), descending=False, nulls_first=False))

    def desc_nulls_first(self) -> Column:
        """Sort descending with NULLs first."""
        return wrap(n.SortKey(self._unsorted(), descending=True, nulls_first=True))

    def desc_nulls_last(self) -> Column:
        """Sort descending with NULLs last."""
        return wrap(n.SortKey(self._unsorted(), descending=True, nulls_first=False))

    def nulls_first(self) -> Column:
        """Put NULLs first, keeping the direction already chosen."""
        key = self.node if isinstance(self.node, n.SortKey) else n.SortKey(self.node)
        return wrap(n.SortKey(key.arg, key.descending, True))

    def nulls_last(self) -> Column:
        """Put NULLs last, keeping the direction already chosen."""
        key = self.node if isinstance(self.node, n.SortKey) else n.SortKey(self.node)
        return wrap(n.SortKey(key.arg, key.descending, False))

    def _unsorted(self) -> n.Node:
        return self.node.arg if isinstance(self.node, n.SortKey) else self.node

    # -------------------------------------------------------------------------------- windows

    def over(self, window: WindowSpec | None = None) -> Column:
        """Evaluate a ranking, offset or aggregate function over a window.

        Example:
            >>> from moltres.expressions import functions as F
            >>> from moltres.expressions.window import Window
            >>> w = Window.partition_by("dept").order_by(col("salary").desc())
            >>> F.row_number().over(w).node.partition_by
            (Col(name='dept', table=None),)
        """
        from moltres.expressions.window import WindowSpec

        spec = window if window is not None else WindowSpec()
        func = self.node
        name = None
        if isinstance(self.node, n.Alias):
            func, name = self.node.arg, self.node.name
        over = n.Over(func, spec.partitions, spec.orderings, spec.frame)
        return wrap(n.Alias(over, name) if name else over)

    # -------------------------------------------------------------------------------- shortcuts

    def substr(self, start: int, length: int | None = None) -> Column:
        """Characters from a 1-based `start`, `length` of them."""
        return wrap(n.Substring(self.node, to_node(start), None if length is None else to_node(length)))

    def get_json(self, path: str) -> Column:
        """The scalar at a JSON path like ``$.a.b``, as text."""
        from moltres.expressions.functions import json_extract

        return json_extract(self, path)


_new = object.__new__
_set_node: Any = Column.__dict__["node"].__set__


def wrap(node: n.Node) -> Column:
    """``Column(node)``, made without the class call (every operator and function makes one).

    Example:
        >>> wrap(n.Col("a")).equals(Column(n.Col("a")))
        True
    """
    column: Column = _new(Column)
    _set_node(column, node)
    return column


def col(name: str) -> Column:
    """Refer to a column by name; ``"table.column"`` qualifies it and ``"*"`` means all columns.

    Example:
        >>> col("users.age").node
        Col(name='age', table='users')
    """
    if name.__class__ is str and name:  # the usual case: a Column is immutable, so one per name will do
        return _named_column(name)
    if not isinstance(name, str) or not name:
        raise ValidationError(f"col() takes a column name, got {name!r}", suggestion="col('age') or col('users.age')")
    return wrap(parse_column_name(name))


@functools.lru_cache(maxsize=4096)
def _named_column(name: str) -> Column:
    return wrap(parse_column_name(name))


def lit(value: object) -> Column:
    """A literal value, sent to the database as a bound parameter.

    Example:
        >>> lit(5).node
        Lit(value=5, kind=<class 'int'>)
    """
    return wrap(to_node(value))
