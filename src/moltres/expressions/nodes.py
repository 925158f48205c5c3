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
import operator
from collections.abc import Callable
from dataclasses import MISSING, FrozenInstanceError, dataclass
from types import CodeType, FunctionType, MemberDescriptorType
from typing import Any, ClassVar, TypeAlias, TypeVar

from typing_extensions import dataclass_transform

Scalar: TypeAlias = (
    bool | int | float | str | bytes | decimal.Decimal | dt.date | dt.datetime | dt.time | dt.timedelta | None
)


class Value:
    """Structural ``repr``, ``==`` and ``hash`` for the node and plan dataclasses, written once.

    ``@dataclass`` would generate (and compile) these methods for each of the ~90 classes
    when moltres is imported; read from the fields at call time instead, they cost nothing
    at import and behave the same: equal when the class and every field are equal. Values
    are immutable: setting or deleting a field raises ``dataclasses.FrozenInstanceError``.

    Example:
        >>> Col("a") == Col("a"), Col("a") == Col("a", "t"), hash(Col("a")) == hash(Col("a"))
        (True, False, True)
        >>> Col("a")
        Col(name='a', table=None)
        >>> Col("a").name = "b"
        Traceback (most recent call last):
        dataclasses.FrozenInstanceError: cannot assign to field 'name'
    """

    __slots__ = ()
    __dataclass_fields__: ClassVar[dict[str, Any]]

    def __repr__(self) -> str:
        cls = type(self)
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in _names(cls))
        return f"{cls.__qualname__}({fields})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        getter = _getter(type(self))
        return bool(getter(self) == getter(other))

    def __hash__(self) -> int:
        return hash(_getter(type(self))(self))

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:  # copy and pickle rebuild through __init__
        return type(self), _getter(type(self))(self)


_GETTERS: dict[type, Callable[[Any], tuple[Any, ...]]] = {}


def _names(cls: type) -> tuple[str, ...]:
    return tuple(cls.__dataclass_fields__)  # type: ignore[attr-defined]


def _getter(cls: type) -> Callable[[Any], tuple[Any, ...]]:
    getter = _GETTERS.get(cls)
    if getter is None:
        names = _names(cls)
        if len(names) == 1:
            one = operator.attrgetter(names[0])
            getter = _GETTERS[cls] = lambda obj: (one(obj),)
        elif names:
            getter = _GETTERS[cls] = operator.attrgetter(*names)
        else:
            getter = _GETTERS[cls] = lambda obj: ()
    return getter


# One compiled __init__ per list of field names, shared by every class with that list (most
# nodes have one of a few: (arg,), (left, right), (child,) ...); each class gets its own
# function object around it, with its own defaults and its own slot setters: field i is set
# by global ``_set{i}``, the ``__set__`` of the class's slot for it (a quarter faster than
# ``object.__setattr__``, which looks the name up on each call).
_INITS: dict[tuple[str, ...], CodeType] = {}


def _init_code(names: tuple[str, ...]) -> CodeType:
    code = _INITS.get(names)
    if code is None:
        # the names are the class's own field names, checked to be identifiers below
        body = "".join(f"    _set{i}(self, {name})\n" for i, name in enumerate(names)) or "    pass\n"
        source = f"def __init__(self, {', '.join(names)}):\n{body}" if names else f"def __init__(self):\n{body}"
        namespace: dict[str, Any] = {}
        exec(source, {}, namespace)
        code = _INITS[names] = namespace["__init__"].__code__
    return code


def _slot_setter(cls: type, name: str) -> Callable[[Any, Any], None]:
    for klass in cls.__mro__:
        slot = klass.__dict__.get(name)
        if slot is not None:
            assert isinstance(slot, MemberDescriptorType), (cls, name)
            setter: Callable[[Any, Any], None] = slot.__set__
            return setter
    raise AssertionError(f"{cls.__name__} has no slot for field {name!r}")


T = TypeVar("T", bound=type)


@dataclass_transform(frozen_default=True)
def value(cls: T) -> T:
    """Make `cls` an immutable, slotted dataclass with :class:`Value`'s repr, equality and hash.

    The dataclass machinery records the fields (``dataclasses.fields`` works) and adds the
    slots; the ``__init__`` runs shared code (see :func:`_init_code`) and immutability comes
    from :class:`Value`, so that no code is compiled per class at import.
    """
    made: Any = dataclass(init=False, repr=False, eq=False, slots=True)(cls)
    fields = list(made.__dataclass_fields__.values())
    names = tuple(f.name for f in fields)
    assert all(name.isidentifier() for name in names)
    defaults = tuple(f.default for f in fields if f.default is not MISSING)
    setters = {f"_set{i}": _slot_setter(made, name) for i, name in enumerate(names)}
    init = FunctionType(_init_code(names), setters, "__init__", defaults or None)
    init.__qualname__ = f"{made.__qualname__}.__init__"
    made.__init__ = init
    return made  # type: ignore[no-any-return]


@value
class Node(Value):
    """Base of all expression nodes: immutable, compared and hashed by value."""


# ---------------------------------------------------------------------------- references and literals


@value
class Col(Node):
    """A column, optionally qualified by a table or alias name."""

    name: str
    table: str | None = None


@value
class Star(Node):
    """Every column of the source (``*``), optionally of one table."""

    table: str | None = None


@value
class Lit(Node):
    """A literal value; always sent to the database as a bound parameter."""

    value: Scalar | tuple[Scalar, ...]
    kind: type  # 1, 1.0 and True must stay three different nodes


@value
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


@value
class Compare(Node):
    """Compare two expressions."""

    op: CompareOp
    left: Node
    right: Node


@value
class Add(Node):
    """Add two numbers."""

    left: Node
    right: Node


@value
class Sub(Node):
    """Subtract the right number from the left."""

    left: Node
    right: Node


@value
class Mul(Node):
    """Multiply two numbers."""

    left: Node
    right: Node


@value
class Div(Node):
    """Divide, always as true (non-integer) division."""

    left: Node
    right: Node


@value
class Mod(Node):
    """The remainder of integer division."""

    left: Node
    right: Node


@value
class Neg(Node):
    """Negate a number."""

    arg: Node


@value
class And(Node):
    """Both predicates hold."""

    left: Node
    right: Node


@value
class Or(Node):
    """Either predicate holds."""

    left: Node
    right: Node


@value
class Not(Node):
    """The predicate does not hold."""

    arg: Node


@value
class IsNull(Node):
    """The value is NULL."""

    arg: Node


@value
class IsNotNull(Node):
    """The value is not NULL."""

    arg: Node


@value
class InList(Node):
    """The value equals one of a list of values."""

    arg: Node
    values: tuple[Node, ...]


@value
class Between(Node):
    """``low <= value <= high``."""

    arg: Node
    low: Node
    high: Node


@value
class Like(Node):
    """SQL ``LIKE`` pattern match (``%`` and ``_`` wildcards), case-sensitive where the database is."""

    arg: Node
    pattern: Node


@value
class ILike(Node):
    """Case-insensitive ``LIKE``."""

    arg: Node
    pattern: Node


@value
class RLike(Node):
    """Regular-expression match."""

    arg: Node
    pattern: Node


@value
class StartsWith(Node):
    """The string starts with a prefix (wildcards in the prefix are escaped)."""

    arg: Node
    prefix: Node


@value
class EndsWith(Node):
    """The string ends with a suffix (wildcards in the suffix are escaped)."""

    arg: Node
    suffix: Node


@value
class Contains(Node):
    """The string contains a substring (wildcards in the substring are escaped)."""

    arg: Node
    substring: Node


@value
class Cast(Node):
    """Convert a value to a SQL type named like ``"INTEGER"`` or ``"VARCHAR(20)"``."""

    arg: Node
    to: str


@value
class Case(Node):
    """``CASE WHEN ... THEN ... ELSE ... END``."""

    whens: tuple[tuple[Node, Node], ...]
    default: Node | None = None


@value
class Coalesce(Node):
    """The first argument that is not NULL."""

    args: tuple[Node, ...]


# ---------------------------------------------------------------------------- strings


@value
class Lower(Node):
    """Lower-case a string."""

    arg: Node


@value
class Upper(Node):
    """Upper-case a string."""

    arg: Node


@value
class Trim(Node):
    """Strip spaces from both ends."""

    arg: Node


@value
class LTrim(Node):
    """Strip leading spaces."""

    arg: Node


@value
class RTrim(Node):
    """Strip trailing spaces."""

    arg: Node


@value
class Length(Node):
    """The number of characters in a string."""

    arg: Node


@value
class Substring(Node):
    """Characters from a 1-based ``start``, ``length`` of them (or to the end)."""

    arg: Node
    start: Node
    length: Node | None = None


@value
class Concat(Node):
    """Join strings end to end; NULL parts make the result NULL."""

    args: tuple[Node, ...]


@value
class Replace(Node):
    """Replace every occurrence of ``search`` by ``replacement``."""

    arg: Node
    search: Node
    replacement: Node


@value
class Split(Node):
    """Split a string into an array on a delimiter."""

    arg: Node
    delimiter: Node


@value
class RegexpExtract(Node):
    """The part of a string matched by a regular expression."""

    arg: Node
    pattern: Node


# ---------------------------------------------------------------------------- numbers


@value
class Abs(Node):
    """Absolute value."""

    arg: Node


@value
class Round(Node):
    """Round to ``digits`` decimal places."""

    arg: Node
    digits: int = 0


@value
class Floor(Node):
    """The largest integer not above the value."""

    arg: Node


@value
class Ceil(Node):
    """The smallest integer not below the value."""

    arg: Node


@value
class Sqrt(Node):
    """Square root."""

    arg: Node


@value
class Power(Node):
    """``base`` raised to ``exponent``."""

    base: Node
    exponent: Node


# ---------------------------------------------------------------------------- dates and times


@value
class CurrentDate(Node):
    """Today's date on the database server."""


@value
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


@value
class Extract(Node):
    """One field of a date or timestamp, as an integer."""

    part: DatePart
    arg: Node


@value
class DateAdd(Node):
    """A date plus a whole number of days."""

    arg: Node
    days: Node


@value
class DateDiff(Node):
    """Whole days from ``start`` to ``end``."""

    end: Node
    start: Node


@value
class DateTrunc(Node):
    """Truncate a timestamp to the start of its year, month, day, ..."""

    unit: DatePart
    arg: Node


# ---------------------------------------------------------------------------- JSON


@value
class JsonExtract(Node):
    """A scalar at a JSON path such as ``$.address.city``, as text."""

    arg: Node
    path: str


# ---------------------------------------------------------------------------- aggregates


@value
class Aggregate(Node):
    """Base of aggregate functions, so plans can tell them from scalar expressions."""


@value
class Count(Aggregate):
    """Count non-NULL values, or rows when ``arg`` is ``Star()``."""

    arg: Node


@value
class CountDistinct(Aggregate):
    """Count distinct non-NULL values."""

    arg: Node


@value
class Sum(Aggregate):
    """Sum of non-NULL values."""

    arg: Node


@value
class Avg(Aggregate):
    """Mean of non-NULL values."""

    arg: Node


@value
class Min(Aggregate):
    """Smallest value."""

    arg: Node


@value
class Max(Aggregate):
    """Largest value."""

    arg: Node


@value
class StdDev(Aggregate):
    """Sample standard deviation."""

    arg: Node


@value
class CollectList(Aggregate):
    """Gather the values of a group into an array."""

    arg: Node


# ---------------------------------------------------------------------------- windows


@value
class RowNumber(Node):
    """1, 2, 3, ... within a window partition."""


@value
class Rank(Node):
    """Rank with gaps after ties."""


@value
class DenseRank(Node):
    """Rank without gaps after ties."""


@value
class Lag(Node):
    """The value ``offset`` rows before the current one in the window."""

    arg: Node
    offset: int = 1
    default: Node | None = None


@value
class Lead(Node):
    """The value ``offset`` rows after the current one in the window."""

    arg: Node
    offset: int = 1
    default: Node | None = None


@value
class SortKey(Node):
    """An ordering term: expression, direction and where NULLs go."""

    arg: Node
    descending: bool = False
    nulls_first: bool | None = None


@value
class Frame(Node):
    """A window frame: ``ROWS`` or ``RANGE`` between two offsets (None means unbounded)."""

    kind: str  # "rows" | "range"
    start: int | None
    end: int | None


@value
class Over(Node):
    """A function evaluated over a window."""

    func: Node
    partition_by: tuple[Node, ...] = ()
    order_by: tuple[SortKey, ...] = ()
    frame: Frame | None = None
