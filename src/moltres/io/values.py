"""Values from files: infer a column's SQL type from samples, and convert text to that type.

Text formats (CSV, text) give strings; JSON gives Python scalars. Both are typed the same
way: a column gets the narrowest of ``BOOLEAN``, ``BIGINT``, ``DOUBLE``, ``DATE``,
``TIMESTAMP``, ``TIMESTAMP WITH TIME ZONE`` that fits every sampled value, else ``TEXT``
(``JSON`` for nested JSON values). A column with no value at all is ``TEXT``.

Example:
    >>> infer_text_type(["1", "2", ""])
    'BIGINT'
    >>> infer_text_type(["1", "2.5"])
    'DOUBLE'
    >>> text_converter(parse_type("DATE"))("2024-02-29")
    datetime.date(2024, 2, 29)
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
import uuid
from collections.abc import Callable, Collection, Iterable
from typing import Any

import sqlalchemy as sa

from moltres.sql.types import parse_type, type_name

__all__ = [
    "FALSE_TOKENS",
    "TRUE_TOKENS",
    "Converter",
    "infer_text_type",
    "infer_value_type",
    "merge_types",
    "parse_type",
    "text_converter",
    "value_converter",
]

Converter = Callable[[Any], Any]

TRUE_TOKENS = frozenset({"true", "t", "yes", "y", "on", "1"})
FALSE_TOKENS = frozenset({"false", "f", "no", "n", "off", "0"})
# inference is stricter than conversion: only words make a boolean column, not 0/1
_BOOL_WORDS = frozenset({"true", "false"})

_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf|infinity|nan)$", re.IGNORECASE)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?$")
_TIMESTAMP_TZ = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)$")

_BIGINT_MAX = 2**63 - 1

# the order types widen in; a pair not on one chain widens to TEXT
_NUMBER_CHAIN = ("BIGINT", "DOUBLE")
_TIME_CHAIN = ("DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE")


def merge_types(a: str | None, b: str | None) -> str | None:
    """The narrowest type that holds values of both types (None means "no value seen yet").

    Example:
        >>> merge_types("BIGINT", "DOUBLE"), merge_types("DATE", "TIMESTAMP"), merge_types("DATE", "BIGINT")
        ('DOUBLE', 'TIMESTAMP', 'TEXT')
    """
    if a is None or a == b:
        return b
    if b is None:
        return a
    for chain in (_NUMBER_CHAIN, _TIME_CHAIN):
        if a in chain and b in chain:
            return chain[max(chain.index(a), chain.index(b))]
    return "TEXT"


def _text_type(value: str) -> str:
    v = value.strip()
    if v.lower() in _BOOL_WORDS:
        return "BOOLEAN"
    if _INT.match(v):
        return "BIGINT" if abs(int(v)) <= _BIGINT_MAX else "DOUBLE"
    if _FLOAT.match(v):
        return "DOUBLE"
    if _DATE.match(v) and _valid(dt.date.fromisoformat, v):
        return "DATE"
    if _TIMESTAMP.match(v) and _valid(_parse_timestamp, v):
        return "TIMESTAMP"
    if _TIMESTAMP_TZ.match(v) and _valid(_parse_timestamp, v):
        return "TIMESTAMP WITH TIME ZONE"
    return "TEXT"


def _valid(parse: Callable[[str], object], value: str) -> bool:
    try:
        parse(value)
    except ValueError:
        return False
    return True


def infer_text_type(values: Iterable[str], nulls: Collection[str] = ("",)) -> str:
    """The SQL type for a column of text values; values in `nulls` are skipped.

    Example:
        >>> infer_text_type(["2024-01-01", "2024-01-02 10:00"])
        'TIMESTAMP'
        >>> infer_text_type(["true", "FALSE"]), infer_text_type(["007", "x"]), infer_text_type([""])
        ('BOOLEAN', 'TEXT', 'TEXT')
    """
    present = [v for v in dict.fromkeys(values) if v not in nulls]
    if not present:
        return "TEXT"
    at_once = _column_type(present)
    if at_once is not None:
        return at_once
    found: str | None = None
    for value in present:
        found = merge_types(found, _text_type(value))
        if found == "TEXT":
            return found
    return found or "TEXT"


# What each type takes, matched against a whole column at once (values joined by NUL): the
# type merge_types would reach value by value, without a Python call per value. BOOLEAN,
# BIGINT, DOUBLE, then the time chain, where each type also takes the narrower ones. Each
# value's pattern must match a text in one way only (the same language as _INT, _FLOAT ...
# but no `\d+\.?\d*`): the regex engine retries every other way of every earlier value
# when a column fails to match, which is exponential in the number of values otherwise.
_WORD = r"[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]"
_WHOLE = r"[+-]?\d+"
_REAL = r"[+-]?(?:\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)"
_DAY = r"\d{4}-\d{2}-\d{2}"
_CLOCK = _DAY + r"[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?"
_ZONED = _CLOCK + r"(?:Z|[+-]\d{2}(?::?\d{2})?)"
_SEPARATOR = "\x00"


def _whole_column(pattern: str, flags: int = 0) -> re.Pattern[str]:
    value = rf"\s*(?:{pattern})\s*"
    return re.compile(f"{value}(?:{_SEPARATOR}{value})*", flags)


_COLUMN_TYPES = (
    ("BOOLEAN", _whole_column(_WORD)),
    ("BIGINT", _whole_column(_WHOLE)),
    ("DOUBLE", _whole_column(_REAL, re.IGNORECASE)),
    ("DATE", _whole_column(_DAY)),
    ("TIMESTAMP", _whole_column(f"{_CLOCK}|{_DAY}")),
    ("TIMESTAMP WITH TIME ZONE", _whole_column(f"{_ZONED}|{_CLOCK}|{_DAY}")),
)


def _column_type(values: list[str]) -> str | None:
    """The type of distinct, non-null `values` from one pass of a regular expression per type.

    None when it cannot tell at once (a value holding the separator, or integers long
    enough to overflow): :func:`infer_text_type` then types the values one by one.
    """
    joined = _SEPARATOR.join(values)
    if joined.count(_SEPARATOR) != len(values) - 1:
        return None
    for name, pattern in _COLUMN_TYPES:
        if pattern.fullmatch(joined) is None:
            continue
        if name == "BIGINT" and max(map(len, values)) > 18:
            return None  # 19 digits may not fit in 64 bits
        if name in _TIME_CHAIN and not _all_valid(name, values):
            continue  # a day or an hour that does not exist (2024-02-30): wider types fail too
        return name
    return "TEXT"


def _all_valid(name: str, values: list[str]) -> bool:
    """Whether every value that matched the pattern of time type `name` is a real day and time."""
    try:
        # (a loop in C for days, the common case)
        list(map(dt.date.fromisoformat, map(str.strip, values)) if name == "DATE" else map(_parse_time, values))
    except ValueError:
        return False
    return True


def _parse_time(value: str) -> object:
    v = value.strip()
    return dt.date.fromisoformat(v) if _DATE.match(v) else _parse_timestamp(v)


def infer_value_type(value: object) -> str | None:
    """The SQL type for one JSON-like Python value (None for null).

    Example:
        >>> infer_value_type(3), infer_value_type({"a": 1}), infer_value_type(None)
        ('BIGINT', 'JSON', None)
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int):
        return "BIGINT" if abs(value) <= _BIGINT_MAX else "DOUBLE"
    if isinstance(value, float):
        return "DOUBLE"
    if isinstance(value, (dict, list)):
        return "JSON"
    return "TEXT"


def _parse_timestamp(value: str) -> dt.datetime:
    v = value.strip()
    if v.endswith(("Z", "z")):
        v = v[:-1] + "+00:00"
    elif len(v) > 5 and v[-5] in "+-" and v[-3] != ":" and v[-4:].isdigit():
        v = v[:-2] + ":" + v[-2:]  # +0100 -> +01:00 (Python 3.10 wants the colon)
    elif len(v) > 3 and v[-3] in "+-" and v[-2:].isdigit() and v[-6] != "-":
        v += ":00"  # +01 -> +01:00
    return dt.datetime.fromisoformat(v)


def _parse_instant(value: str) -> dt.datetime:
    """A timestamp for a time-zone-aware column: with an offset, in UTC (as Arrow and the databases store it)."""
    parsed = _parse_timestamp(value)
    return parsed if parsed.tzinfo is None else parsed.astimezone(dt.timezone.utc)


def _parse_bool(value: str) -> bool:
    v = value.strip().lower()
    if v in TRUE_TOKENS:
        return True
    if v in FALSE_TOKENS:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _parse_int(value: str) -> int:
    if "_" in value:
        raise ValueError(f"not an integer: {value!r}")
    return int(value)


def _parse_flag(value: str) -> int:
    try:
        return _parse_int(value)
    except ValueError:
        return int(_parse_bool(value))


def _parse_float(value: str) -> float:
    if "_" in value:
        raise ValueError(f"not a number: {value!r}")
    return float(value)


def _parse_decimal(value: str) -> decimal.Decimal:
    try:
        return decimal.Decimal(value.strip())
    except decimal.InvalidOperation:
        raise ValueError(f"not a decimal number: {value!r}") from None


def _parse_json(value: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc.msg}") from None


def _text_parser(type_: sa.types.TypeEngine[Any]) -> Callable[[str], Any] | None:
    """How to turn text into a value of `type_` (None: keep the text)."""
    if isinstance(type_, sa.Boolean):
        return _parse_bool
    if isinstance(type_, sa.Integer):
        # a one-digit integer is how MySQL and MariaDB store booleans (TINYINT(1))
        return _parse_flag if getattr(type_, "display_width", None) == 1 else _parse_int
    if isinstance(type_, sa.Float):  # Float and Double (before Numeric: Float subclasses it)
        return _parse_float
    if isinstance(type_, sa.Numeric):
        return _parse_decimal
    if isinstance(type_, sa.DateTime):
        return _parse_instant if type_.timezone else _parse_timestamp
    if isinstance(type_, sa.Date):
        return lambda v: dt.date.fromisoformat(v.strip())
    if isinstance(type_, sa.Time):
        return lambda v: dt.time.fromisoformat(v.strip())
    if isinstance(type_, sa.JSON):
        return _parse_json
    if isinstance(type_, sa.Uuid):
        return uuid.UUID
    if isinstance(type_, sa.LargeBinary):
        return lambda v: v.encode()
    return None


def text_converter(type_: sa.types.TypeEngine[Any], nulls: Collection[str] = ("",)) -> Converter:
    """A function from a text field to a value of `type_`; null tokens become None.

    It raises ``ValueError`` on text that is not a value of the type.

    Example:
        >>> to_int = text_converter(parse_type("INTEGER"), nulls=("", "NA"))
        >>> to_int("42"), to_int("NA")
        (42, None)
        >>> to_int("4x2")
        Traceback (most recent call last):
        ...
        ValueError: invalid literal for int() with base 10: '4x2'
    """
    parse = _text_parser(type_)
    null_set = frozenset(nulls)
    if null_set == {""}:
        if parse is None:
            return lambda v: v or None
        return lambda v: parse(v) if v else None
    if parse is None:
        return lambda v: None if v in null_set else v
    return lambda v: None if v in null_set else parse(v)


def value_converter(type_: sa.types.TypeEngine[Any]) -> Converter:
    """A function from a JSON value (str, number, bool, list, dict) to a value of `type_`.

    Numbers, booleans and nested values going into text columns become their JSON text.

    Example:
        >>> value_converter(parse_type("TEXT"))({"a": 1}), value_converter(parse_type("DOUBLE"))(2)
        ('{"a": 1}', 2.0)
    """
    parse = _text_parser(type_)
    if isinstance(type_, sa.JSON):
        return lambda v: v
    if isinstance(type_, (sa.String, sa.Enum)) or parse is None:
        return lambda v: v if v is None or isinstance(v, str) else json.dumps(v)
    if isinstance(type_, sa.Boolean):

        def to_bool(v: Any) -> bool | None:
            if v is None or isinstance(v, bool):
                return v
            if isinstance(v, str):
                return _parse_bool(v)
            raise ValueError(f"not a boolean: {v!r}")

        return to_bool
    if isinstance(type_, sa.Integer):

        def to_int(v: Any) -> int | None:
            if v is None or (isinstance(v, int) and not isinstance(v, bool)):
                return v
            if isinstance(v, float) and v.is_integer():
                return int(v)
            if isinstance(v, str):
                return _parse_int(v)
            raise ValueError(f"not an integer: {v!r}")

        return to_int
    if isinstance(type_, sa.Float):

        def to_float(v: Any) -> float | None:
            if v is None:
                return v
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return float(v)
            if isinstance(v, str):
                return _parse_float(v)
            raise ValueError(f"not a number: {v!r}")

        return to_float

    def from_text(v: Any) -> Any:
        if v is None:
            return v
        if isinstance(v, (dict, list, bool)):
            raise ValueError(f"not a {type_name(type_)}: {v!r}")
        return parse(str(v))

    return from_text
