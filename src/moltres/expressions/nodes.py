"""Expression nodes: small, frozen, hashable values that describe a computation.

Nodes never hold SQLAlchemy objects or connections. Equality and hashing are structural,
so plans built from them can be compared in tests and used as cache keys.

Example:
    >>> Compare(CompareOp.GT, Col("age"), Lit(18, int)) == Compare(CompareOp.GT, Col("age"), Lit(18, int))
    True
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from dataclasses import dataclass
from typing import TypeAlias

Scalar: TypeAlias = (
    bool | int | float | str | bytes | decimal.Decimal | dt.date | dt.datetime | dt.time | dt.timedelta | None
)


@dataclass(frozen=True, slots=True)
class Node:
    """Base of all expression nodes: immutable, compared and hashed by value."""


# ---------------------------------------------------------------------------- references and literals


@dataclass(frozen=True, slots=True)
class Col(Node):
    """A column, optionally qualified by a table or alias name."""

    name: str
    table: str | None = None


@dataclass(frozen=True, slots=True)
class Star(Node):
    """Every column of the source (``*``), optionally of one table."""

    table: str | None = None


@dataclass(frozen=True, slots=True)
class Lit(Node):
    """A literal value; always sent to the database as a bound parameter."""

    value: Scalar | tuple[Scalar, ...]
    kind: type  # 1, 1.0 and True must stay three different nodes


@dataclass(frozen=True, slots=True)
class Alias(Node):
    """Give an expression an output name."""

    arg: Node
    name: str


# ---------------------------------------------------------------------------- operators


class CompareOp(enum.Enum):
    """The comparison operators."""

    EQ = "=="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="


@dataclass(frozen=True, slots=True)
class Compare(Node):
    """Compare two expressions."""

    op: CompareOp
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Add(Node):
    """Add two numbers."""

    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Sub(Node):
    """Subtract the right number from the left."""

    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Mul(Node):
    """Multiply two numbers."""

    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Div(Node):
    """Divide, always as true (non-integer) division."""

    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Mod(Node):
    """The remainder of integer division."""

    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Neg(Node):
    """Negate a number."""

    arg: Node


@dataclass(frozen=True, slots=True)
class And(Node):
    """Both predicates hold."""

    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Or(Node):
    """Either predicate holds."""

    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Not(Node):
    """The predicate does not hold."""

    arg: Node


@dataclass(frozen=True, slots=True)
class IsNull(Node):
    """The value is NULL."""

    arg: Node


@dataclass(frozen=True, slots=True)
class IsNotNull(Node):
    """The value is not NULL."""

    arg: Node


@dataclass(frozen=True, slots=True)
class InList(Node):
    """The value equals one of a list of values."""

    arg: Node
    values: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Between(Node):
    """``low <= value <= high``."""

    arg: Node
    low: Node
    high: Node


@dataclass(frozen=True, slots=True)
class Like(Node):
    """SQL ``LIKE`` pattern match (``%`` and ``_`` wildcards), case-sensitive where the database is."""

    arg: Node
    pattern: Node


@dataclass(frozen=True, slots=True)
class ILike(Node):
    """Case-insensitive ``LIKE``."""

    arg: Node
    pattern: Node


@dataclass(frozen=True, slots=True)
class RLike(Node):
    """Regular-expression match."""

    arg: Node
    pattern: Node


@dataclass(frozen=True, slots=True)
class StartsWith(Node):
    """The string starts with a prefix (wildcards in the prefix are escaped)."""

    arg: Node
    prefix: Node


@dataclass(frozen=True, slots=True)
class EndsWith(Node):
    """The string ends with a suffix (wildcards in the suffix are escaped)."""

    arg: Node
    suffix: Node


@dataclass(frozen=True, slots=True)
class Contains(Node):
    """The string contains a substring (wildcards in the substring are escaped)."""

    arg: Node
    substring: Node


@dataclass(frozen=True, slots=True)
class Cast(Node):
    """Convert a value to a SQL type named like ``"INTEGER"`` or ``"VARCHAR(20)"``."""

    arg: Node
    to: str


@dataclass(frozen=True, slots=True)
class Case(Node):
    """``CASE WHEN ... THEN ... ELSE ... END``."""

    whens: tuple[tuple[Node, Node], ...]
    default: Node | None = None


@dataclass(frozen=True, slots=True)
class Coalesce(Node):
    """The first argument that is not NULL."""

    args: tuple[Node, ...]


# ---------------------------------------------------------------------------- strings


@dataclass(frozen=True, slots=True)
class Lower(Node):
    """Lower-case a string."""

    arg: Node


@dataclass(frozen=True, slots=True)
class Upper(Node):
    """Upper-case a string."""

    arg: Node


@dataclass(frozen=True, slots=True)
class Trim(Node):
    """Strip spaces from both ends."""

    arg: Node


@dataclass(frozen=True, slots=True)
class LTrim(Node):
    """Strip leading spaces."""

    arg: Node


@dataclass(frozen=True, slots=True)
class RTrim(Node):
    """Strip trailing spaces."""

    arg: Node


@dataclass(frozen=True, slots=True)
class Length(Node):
    """The number of characters in a string."""

    arg: Node


@dataclass(frozen=True, slots=True)
class Substring(Node):
    """Characters from a 1-based ``start``, ``length`` of them (or to the end)."""

    arg: Node
    start: Node
    length: Node | None = None


@dataclass(frozen=True, slots=True)
class Concat(Node):
    """Join strings end to end; NULL parts make the result NULL."""

    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Replace(Node):
    """Replace every occurrence of ``search`` by ``replacement``."""

    arg: Node
    search: Node
    replacement: Node


@dataclass(frozen=True, slots=True)
class Split(Node):
    """Split a string into an array on a delimiter."""

    arg: Node
    delimiter: Node


@dataclass(frozen=True, slots=True)
class RegexpExtract(Node):
    """The part of a string matched by a regular expression."""

    arg: Node
    pattern: Node


# ---------------------------------------------------------------------------- numbers


@dataclass(frozen=True, slots=True)
class Abs(Node):
    """Absolute value."""

    arg: Node


@dataclass(frozen=True, slots=True)
class Round(Node):
    """Round to ``digits`` decimal places."""

    arg: Node
    digits: int = 0


@dataclass(frozen=True, slots=True)
class Floor(Node):
    """The largest integer not above the value."""

    arg: Node


@dataclass(frozen=True, slots=True)
class Ceil(Node):
    """The smallest integer not below the value."""

    arg: Node


@dataclass(frozen=True, slots=True)
class Sqrt(Node):
    """Square root."""

    arg: Node


@dataclass(frozen=True, slots=True)
class Power(Node):
    """``base`` raised to ``exponent``."""

    base: Node
    exponent: Node


# ---------------------------------------------------------------------------- dates and times


@dataclass(frozen=True, slots=True)
class CurrentDate(Node):
    """Today's date on the database server."""


@dataclass(frozen=True, slots=True)
class CurrentTimestamp(Node):
    """The current date and time on the database server."""


class DatePart(enum.Enum):
    """A field of a date or timestamp."""

    YEAR = "year"
    QUARTER = "quarter"
    MONTH = "month"
    DAY = "day"
    HOUR = "hour"
    MINUTE = "minute"
    SECOND = "second"


@dataclass(frozen=True, slots=True)
class Extract(Node):
    """One field of a date or timestamp, as an integer."""

    part: DatePart
    arg: Node


@dataclass(frozen=True, slots=True)
class DateAdd(Node):
    """A date plus a whole number of days."""

    arg: Node
    days: Node


@dataclass(frozen=True, slots=True)
class DateDiff(Node):
    """Whole days from ``start`` to ``end``."""

    end: Node
    start: Node


@dataclass(frozen=True, slots=True)
class DateTrunc(Node):
    """Truncate a timestamp to the start of its year, month, day, ..."""

    unit: DatePart
    arg: Node


# ---------------------------------------------------------------------------- JSON


@dataclass(frozen=True, slots=True)
class JsonExtract(Node):
    """A scalar at a JSON path such as ``$.address.city``, as text."""

    arg: Node
    path: str


# ---------------------------------------------------------------------------- aggregates


@dataclass(frozen=True, slots=True)
class Aggregate(Node):
    """Base of aggregate functions, so plans can tell them from scalar expressions."""


@dataclass(frozen=True, slots=True)
class Count(Aggregate):
    """Count non-NULL values, or rows when ``arg`` is ``Star()``."""

    arg: Node


@dataclass(frozen=True, slots=True)
class CountDistinct(Aggregate):
    """Count distinct non-NULL values."""

    arg: Node


@dataclass(frozen=True, slots=True)
class Sum(Aggregate):
    """Sum of non-NULL values."""

    arg: Node


@dataclass(frozen=True, slots=True)
class Avg(Aggregate):
    """Mean of non-NULL values."""

    arg: Node


@dataclass(frozen=True, slots=True)
class Min(Aggregate):
    """Smallest value."""

    arg: Node


@dataclass(frozen=True, slots=True)
class Max(Aggregate):
    """Largest value."""

    arg: Node


@dataclass(frozen=True, slots=True)
class StdDev(Aggregate):
    """Sample standard deviation."""

    arg: Node


@dataclass(frozen=True, slots=True)
class CollectList(Aggregate):
    """Gather the values of a group into an array."""

    arg: Node


# ---------------------------------------------------------------------------- windows


@dataclass(frozen=True, slots=True)
class RowNumber(Node):
    """1, 2, 3, ... within a window partition."""


@dataclass(frozen=True, slots=True)
class Rank(Node):
    """Rank with gaps after ties."""


@dataclass(frozen=True, slots=True)
class DenseRank(Node):
    """Rank without gaps after ties."""


@dataclass(frozen=True, slots=True)
class Lag(Node):
    """The value ``offset`` rows before the current one in the window."""

    arg: Node
    offset: int = 1
    default: Node | None = None


@dataclass(frozen=True, slots=True)
class Lead(Node):
    """The value ``offset`` rows after the current one in the window."""

    arg: Node
    offset: int = 1
    default: Node | None = None


@dataclass(frozen=True, slots=True)
class SortKey(Node):
    """An ordering term: expression, direction and where NULLs go."""

    arg: Node
    descending: bool = False
    nulls_first: bool | None = None


@dataclass(frozen=True, slots=True)
class Frame(Node):
    """A window frame: ``ROWS`` or ``RANGE`` between two offsets (None means unbounded)."""

    kind: str  # "rows" | "range"
    start: int | None
    end: int | None


@dataclass(frozen=True, slots=True)
class Over(Node):
    """A function evaluated over a window."""

    func: Node
    partition_by: tuple[Node, ...] = ()
    order_by: tuple[SortKey, ...] = ()
    frame: Frame | None = None
