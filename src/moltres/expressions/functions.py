"""Column functions, PySpark style: ``from moltres.expressions import functions as F``.

Each function is a plain constructor that returns a :class:`~moltres.expressions.column.Column`.
Where a function takes a column, a string names a column (``F.sum("amount")``); use
:func:`lit` for a literal string.

Example:
    >>> from moltres.expressions import functions as F
    >>> from moltres import col
    >>> F.sum(col("amount")).alias("total").name
    'total'
"""

from __future__ import annotations

from moltres.expressions import nodes as n
from moltres.expressions.column import Column, col, column_of, lit, to_node, wrap
from moltres.utils.exceptions import ValidationError

__all__ = [
    "col",
    "column",
    "lit",
    "when",
    "coalesce",
    "expr",
    "lower",
    "upper",
    "trim",
    "ltrim",
    "rtrim",
    "length",
    "substring",
    "concat",
    "replace",
    "split",
    "regexp_extract",
    "abs",
    "round",
    "floor",
    "ceil",
    "sqrt",
    "pow",
    "power",
    "mod",
    "current_date",
    "current_timestamp",
    "year",
    "quarter",
    "month",
    "day",
    "dayofmonth",
    "hour",
    "minute",
    "second",
    "date_add",
    "date_sub",
    "date_diff",
    "datediff",
    "date_trunc",
    "json_extract",
    "get_json_object",
    "count",
    "count_distinct",
    "countDistinct",
    "sum",
    "avg",
    "mean",
    "min",
    "max",
    "stddev",
    "collect_list",
    "row_number",
    "rank",
    "dense_rank",
    "lag",
    "lead",
    "asc",
    "desc",
]

ColumnOrName = Column | str

column = col


_c = column_of  # a string names a column here


def expr(text: str) -> Column:
    """Parse a SQL expression such as ``"age > 18 AND name LIKE 'A%'"`` into a Column.

    The text is parsed, not pasted into SQL: literals become bound parameters and names must
    be columns.

    Example:
        >>> expr("age + 1").node
        Add(left=Col(name='age', table=None), right=Lit(value=1, kind=<class 'int'>))
    """
    from moltres.expressions.parser import parse_expression

    return wrap(parse_expression(text))


# ------------------------------------------------------------------------------------ conditionals


def when(condition: Column, value: object) -> Column:
    """Start a ``CASE WHEN``; continue with ``.when(...)`` and close with ``.otherwise(...)``.

    Example:
        >>> F_when = when(col("age") >= 18, "adult").otherwise("minor")
        >>> len(F_when.node.whens)
        1
    """
    return wrap(n.Case(((to_node(condition), to_node(value)),)))


def coalesce(*cols: ColumnOrName) -> Column:
    """The first argument that is not NULL; strings name columns.

    Example:
        >>> coalesce("nickname", lit("anonymous")).node.args[1]
        Lit(value='anonymous', kind=<class 'str'>)
    """
    if not cols:
        raise ValidationError("coalesce() needs at least one argument")
    return wrap(n.Coalesce(tuple(_c(c) for c in cols)))


# ------------------------------------------------------------------------------------ strings


def lower(c: ColumnOrName) -> Column:
    """Lower-case a string column.

    Example:
        >>> lower("name").node
        Lower(arg=Col(name='name', table=None))
    """
    return wrap(n.Lower(_c(c)))


def upper(c: ColumnOrName) -> Column:
    """Upper-case a string column."""
    return wrap(n.Upper(_c(c)))


def trim(c: ColumnOrName) -> Column:
    """Strip spaces from both ends."""
    return wrap(n.Trim(_c(c)))


def ltrim(c: ColumnOrName) -> Column:
    """Strip leading spaces."""
    return wrap(n.LTrim(_c(c)))


def rtrim(c: ColumnOrName) -> Column:
    """Strip trailing spaces."""
    return wrap(n.RTrim(_c(c)))


def length(c: ColumnOrName) -> Column:
    """Number of characters."""
    return wrap(n.Length(_c(c)))


def substring(c: ColumnOrName, start: int, length: int | None = None) -> Column:
    """Characters from a 1-based `start`, `length` of them (or to the end)."""
    return wrap(n.Substring(_c(c), to_node(start), None if length is None else to_node(length)))


def concat(*cols: ColumnOrName) -> Column:
    """Join strings end to end; wrap literal strings in :func:`lit`.

    Example:
        >>> len(concat("first", lit(" "), "last").node.args)
        3
    """
    if not cols:
        raise ValidationError("concat() needs at least one argument")
    return wrap(n.Concat(tuple(_c(c) for c in cols)))


def replace(c: ColumnOrName, search: str, replacement: str) -> Column:
    """Replace every occurrence of `search` with `replacement`."""
    return wrap(n.Replace(_c(c), to_node(search), to_node(replacement)))


def split(c: ColumnOrName, delimiter: str) -> Column:
    """Split into an array (PostgreSQL and DuckDB; other dialects raise CompilationError)."""
    return wrap(n.Split(_c(c), to_node(delimiter)))


def regexp_extract(c: ColumnOrName, pattern: str) -> Column:
    """The first substring matching a regular expression (not on SQLite)."""
    return wrap(n.RegexpExtract(_c(c), to_node(pattern)))


# ------------------------------------------------------------------------------------ numbers


def abs(c: ColumnOrName) -> Column:
    """Absolute value."""
    return wrap(n.Abs(_c(c)))


def round(c: ColumnOrName, digits: int = 0) -> Column:
    """Round to `digits` decimal places.

    Example:
        >>> round("price", 2).node.digits
        2
    """
    if not isinstance(digits, int):
        raise ValidationError("round() takes an integer number of digits")
    return wrap(n.Round(_c(c), digits))


def floor(c: ColumnOrName) -> Column:
    """Largest integer not above the value."""
    return wrap(n.Floor(_c(c)))


def ceil(c: ColumnOrName) -> Column:
    """Smallest integer not below the value."""
    return wrap(n.Ceil(_c(c)))


def sqrt(c: ColumnOrName) -> Column:
    """Square root."""
    return wrap(n.Sqrt(_c(c)))


def pow(base: ColumnOrName, exponent: object) -> Column:
    """`base` raised to `exponent` (a number or a column)."""
    return wrap(n.Power(_c(base), to_node(exponent)))


power = pow


def mod(c: ColumnOrName, divisor: object) -> Column:
    """Remainder of integer division."""
    return wrap(n.Mod(_c(c), to_node(divisor)))


# ------------------------------------------------------------------------------------ dates


def current_date() -> Column:
    """Today's date on the database server."""
    return wrap(n.CurrentDate())


def current_timestamp() -> Column:
    """The current timestamp on the database server."""
    return wrap(n.CurrentTimestamp())


def _extract(part: n.DatePart, c: ColumnOrName) -> Column:
    return wrap(n.Extract(part, _c(c)))


def year(c: ColumnOrName) -> Column:
    """The year of a date, as an integer.

    Example:
        >>> year("placed_at").node.part.value
        'year'
    """
    return _extract(n.DatePart.YEAR, c)


def quarter(c: ColumnOrName) -> Column:
    """The quarter (1-4) of a date."""
    return _extract(n.DatePart.QUARTER, c)


def month(c: ColumnOrName) -> Column:
    """The month (1-12) of a date."""
    return _extract(n.DatePart.MONTH, c)


def day(c: ColumnOrName) -> Column:
    """The day of the month of a date."""
    return _extract(n.DatePart.DAY, c)


dayofmonth = day


def hour(c: ColumnOrName) -> Column:
    """The hour of a timestamp."""
    return _extract(n.DatePart.HOUR, c)


def minute(c: ColumnOrName) -> Column:
    """The minute of a timestamp."""
    return _extract(n.DatePart.MINUTE, c)


def second(c: ColumnOrName) -> Column:
    """The second of a timestamp."""
    return _extract(n.DatePart.SECOND, c)


def date_add(c: ColumnOrName, days: object) -> Column:
    """A date plus a number of days (negative to go back)."""
    return wrap(n.DateAdd(_c(c), to_node(days)))


def date_sub(c: ColumnOrName, days: int) -> Column:
    """A date minus a number of days."""
    return wrap(n.DateAdd(_c(c), to_node(-days)))


def date_diff(end: ColumnOrName, start: ColumnOrName) -> Column:
    """Whole days from `start` to `end` (PySpark's ``datediff`` argument order)."""
    return wrap(n.DateDiff(_c(end), _c(start)))


datediff = date_diff


def date_trunc(unit: str, c: ColumnOrName) -> Column:
    """Truncate to the start of the ``"year"``, ``"quarter"``, ``"month"``, ``"day"``, ``"hour"``, ...

    Example:
        >>> date_trunc("month", "placed_at").node.unit.value
        'month'
    """
    try:
        part = n.DatePart(unit.lower())
    except (ValueError, AttributeError):
        choices = ", ".join(p.value for p in n.DatePart)
        raise ValidationError(f"unknown date_trunc unit {unit!r}", suggestion=f"use one of: {choices}") from None
    return wrap(n.DateTrunc(part, _c(c)))


# ------------------------------------------------------------------------------------ JSON


def json_extract(c: ColumnOrName, path: str) -> Column:
    """The scalar at a JSON path such as ``"$.address.city"``, as text.

    Example:
        >>> json_extract("payload", "$.user.id").node.path
        '$.user.id'
    """
    if not isinstance(path, str) or not path.startswith("$"):
        raise ValidationError(f"a JSON path starts with '$', got {path!r}", suggestion="'$.field.sub'")
    return wrap(n.JsonExtract(_c(c), path))


get_json_object = json_extract


# ------------------------------------------------------------------------------------ aggregates


def count(c: ColumnOrName = "*") -> Column:
    """Count rows (``"*"``) or the non-NULL values of a column.

    Example:
        >>> count("*").node
        Count(arg=Star(table=None))
    """
    return wrap(n.Count(_c(c)))


def count_distinct(c: ColumnOrName) -> Column:
    """Count distinct non-NULL values."""
    return wrap(n.CountDistinct(_c(c)))


countDistinct = count_distinct


def sum(c: ColumnOrName) -> Column:
    """Sum of the non-NULL values."""
    return wrap(n.Sum(_c(c)))


def avg(c: ColumnOrName) -> Column:
    """Mean of the non-NULL values."""
    return wrap(n.Avg(_c(c)))


mean = avg


def min(c: ColumnOrName) -> Column:
    """Smallest value."""
    return wrap(n.Min(_c(c)))


def max(c: ColumnOrName) -> Column:
    """Largest value."""
    return wrap(n.Max(_c(c)))


def stddev(c: ColumnOrName) -> Column:
    """Sample standard deviation (not on SQLite)."""
    return wrap(n.StdDev(_c(c)))


def collect_list(c: ColumnOrName) -> Column:
    """The values of each group as an array (PostgreSQL, DuckDB) or JSON array (MySQL)."""
    return wrap(n.CollectList(_c(c)))


# ------------------------------------------------------------------------------------ windows


def row_number() -> Column:
    """1, 2, 3, ... within a window; use with ``.over(window)``."""
    return wrap(n.RowNumber())


def rank() -> Column:
    """Rank with gaps after ties; use with ``.over(window)``."""
    return wrap(n.Rank())


def dense_rank() -> Column:
    """Rank without gaps; use with ``.over(window)``."""
    return wrap(n.DenseRank())


def lag(c: ColumnOrName, offset: int = 1, default: object = None) -> Column:
    """The value `offset` rows earlier in the window."""
    return wrap(n.Lag(_c(c), offset, None if default is None else to_node(default)))


def lead(c: ColumnOrName, offset: int = 1, default: object = None) -> Column:
    """The value `offset` rows later in the window."""
    return wrap(n.Lead(_c(c), offset, None if default is None else to_node(default)))


def asc(c: ColumnOrName) -> Column:
    """Sort key, ascending."""
    return wrap(n.SortKey(_c(c)))


def desc(c: ColumnOrName) -> Column:
    """Sort key, descending."""
    return wrap(n.SortKey(_c(c), descending=True))
