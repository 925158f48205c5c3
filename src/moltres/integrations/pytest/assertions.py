"""Assertions for DataFrames: :func:`assert_dataframe_equal` and :func:`assert_schema`.

Both take moltres DataFrames or plain rows (a list of dicts, ``Records``), and fail with a
message that shows what differs: the schema differences, the row counts, and the first
rows found on one side only.

Example:
    >>> from moltres import connect
    >>> db = connect("sqlite://")
    >>> df = db.create_dataframe([{"id": 1, "name": "Ada"}, {"id": 2, "name": "Alan"}])
    >>> assert_dataframe_equal(df, [{"id": 2, "name": "Alan"}, {"id": 1, "name": "Ada"}])
    >>> assert_schema(df, {"id": int, "name": str})
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = ["assert_dataframe_equal", "assert_schema"]

_SHOWN = 5


@dataclass
class _Side:
    """One side of a comparison: its columns, what kind of value each holds, and its rows."""

    columns: list[str]
    kinds: dict[str, str | None]
    declared: dict[str, str]
    rows: list[dict[str, Any]]


def _value_kind(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, (float, Decimal)):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, dt.datetime):
        return "datetime"
    if isinstance(value, dt.date):
        return "date"
    return type(value).__name__


def _kinds_from_values(columns: list[str], rows: list[dict[str, Any]]) -> dict[str, str | None]:
    kinds: dict[str, str | None] = {}
    for name in columns:
        found = {_value_kind(row.get(name)) for row in rows} - {None}
        kinds[name] = found.pop() if len(found) == 1 else None
    return kinds


def _side(value: Any, what: str) -> _Side:
    from moltres.dataframe.dataframe import DataFrame
    from moltres.quality.checks import python_type_of

    if isinstance(value, DataFrame):
        schema = value.schema
        rows = value.collect()
        columns = [name for name, _ in schema]
        by_values = _kinds_from_values(columns, rows)
        kinds = {name: python_type_of(kind) or by_values[name] for name, kind in schema}
        return _Side(columns, kinds, dict(schema), rows)
    if hasattr(value, "collect") and hasattr(value, "schema"):
        raise TypeError(
            f"{what} is a {type(value).__name__}; collect its rows first (rows = await df.collect()) and pass them"
        )
    from moltres.io.records import normalize_rows

    rows = normalize_rows(value)
    columns = list(dict.fromkeys(name for row in rows for name in row))
    return _Side(columns, _kinds_from_values(columns, rows), {}, rows)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _equal(left: Any, right: Any, rtol: float) -> bool:
    if _number(left) and _number(right):
        if isinstance(left, int) and isinstance(right, int):
            return left == right
        a, b = float(left), float(right)
        if math.isnan(a) and math.isnan(b):
            return True
        return math.isclose(a, b, rel_tol=rtol, abs_tol=0.0 if rtol == 0 else rtol * 1e-3)
    return bool(left == right)


def _sort_key(value: Any) -> tuple[Any, ...]:
    # Sort any mix of values: NULLs first, then by kind, numbers by a rounded value so that
    # numbers equal within rtol sort alike.
    if value is None:
        return (0,)
    if _number(value):
        number = float(value)
        return (1, "number", 0.0 if math.isnan(number) else float(f"{number:.9g}"))
    return (1, type(value).__name__, str(value))


def _row_key(row: Mapping[str, Any], columns: list[str]) -> tuple[Any, ...]:
    return tuple(_sort_key(row.get(name)) for name in columns)


def _rows_equal(left: Mapping[str, Any], right: Mapping[str, Any], columns: list[str], rtol: float) -> bool:
    return all(_equal(left.get(name), right.get(name), rtol) for name in columns)


def _show(rows: list[dict[str, Any]], columns: list[str]) -> list[str]:
    lines = [f"    {_project(row, columns)}" for row in rows[:_SHOWN]]
    if len(rows) > _SHOWN:
        lines.append(f"    ... and {len(rows) - _SHOWN} more")
    return lines


def _project(row: Mapping[str, Any], columns: list[str]) -> dict[str, Any]:
    return {name: row.get(name) for name in columns}


def _schema_problems(left: _Side, right: _Side, check_dtypes: bool) -> list[str]:
    problems = []
    only_left = [c for c in left.columns if c not in right.columns]
    only_right = [c for c in right.columns if c not in left.columns]
    if only_left:
        problems.append(f"  columns only in left: {only_left}")
    if only_right:
        problems.append(f"  columns only in right: {only_right}")
    if check_dtypes:
        for name in left.columns:
            if name not in right.columns:
                continue
            a, b = left.kinds.get(name), right.kinds.get(name)
            if a is not None and b is not None and a != b:
                described = [
                    f"{side.declared[name]} ({kind})" if name in side.declared else kind
                    for side, kind in ((left, a), (right, b))
                ]
                problems.append(f"  column {name!r}: left holds {described[0]}, right {described[1]}")
    return problems


def _row_problems(left: _Side, right: _Side, columns: list[str], check_order: bool, rtol: float) -> list[str]:
    problems = []
    if len(left.rows) != len(right.rows):
        problems.append(f"  left has {len(left.rows)} rows, right has {len(right.rows)}")
    if check_order:
        for i, (a, b) in enumerate(zip(left.rows, right.rows, strict=False)):
            if not _rows_equal(a, b, columns, rtol):
                problems.append(f"  first difference at row {i}:")
                problems.append(f"    left:  {_project(a, columns)}")
                problems.append(f"    right: {_project(b, columns)}")
                break
        return problems
    ordered_left = sorted(left.rows, key=lambda r: _row_key(r, columns))
    ordered_right = sorted(right.rows, key=lambda r: _row_key(r, columns))
    if len(ordered_left) == len(ordered_right) and all(
        _rows_equal(a, b, columns, rtol) for a, b in zip(ordered_left, ordered_right, strict=True)
    ):
        return problems
    counts_left = Counter(_row_key(r, columns) for r in ordered_left)
    counts_right = Counter(_row_key(r, columns) for r in ordered_right)
    extra_left = counts_left - counts_right
    extra_right = counts_right - counts_left
    only_left = [r for r in ordered_left if _take(extra_left, _row_key(r, columns))]
    only_right = [r for r in ordered_right if _take(extra_right, _row_key(r, columns))]
    if only_left:
        problems.append(f"  rows only in left ({len(only_left)}):")
        problems.extend(_show(only_left, columns))
    if only_right:
        problems.append(f"  rows only in right ({len(only_right)}):")
        problems.extend(_show(only_right, columns))
    if not only_left and not only_right:
        pairs = zip(ordered_left, ordered_right, strict=True)
        first = next((a, b) for a, b in pairs if not _rows_equal(a, b, columns, rtol))
        problems.append(f"  values differ beyond rtol={rtol}; first differing rows, in sorted order:")
        problems.append(f"    left:  {_project(first[0], columns)}")
        problems.append(f"    right: {_project(first[1], columns)}")
    return problems


def _take(counts: Counter[tuple[Any, ...]], key: tuple[Any, ...]) -> bool:
    if counts[key] > 0:
        counts[key] -= 1
        return True
    return False


def assert_dataframe_equal(
    left: Any,
    right: Any,
    *,
    check_order: bool = False,
    check_dtypes: bool = True,
    rtol: float = 1e-9,
) -> None:
    """Assert that two DataFrames (or a DataFrame and rows) hold the same columns and rows.

    Args:
        left: A moltres DataFrame, ``Records`` or a list of dicts.
        right: The same kinds.
        check_order: Compare rows position by position; by default rows are compared as
            a multiset (the order of rows without ``ORDER BY`` is up to the database).
        check_dtypes: Compare what each column holds (``int``, ``float``, ``str``, ``bool``,
            ``date``, ``datetime``), from the declared SQL types of a DataFrame or from the
            values of rows. Decimals and floats count as the same kind.
        rtol: Relative tolerance for non-integer numbers (``0`` compares exactly).

    Raises:
        AssertionError: With the schema differences, the row counts, and up to five rows
            found on one side only (or the first differing row with ``check_order=True``).

    Example:
        >>> from moltres import connect
        >>> db = connect("sqlite://")
        >>> assert_dataframe_equal(db.sql("SELECT 0.1 + 0.2 AS x"), [{"x": 0.3}])
    """
    __tracebackhide__ = True
    a, b = _side(left, "left"), _side(right, "right")
    problems = _schema_problems(a, b, check_dtypes)
    shared = [c for c in a.columns if c in b.columns]
    problems += _row_problems(a, b, shared, check_order, rtol)
    if problems:
        raise AssertionError("DataFrames differ:\n" + "\n".join(problems))


def _expected_columns(expected: Any) -> list[tuple[str, Any]]:
    if isinstance(expected, Mapping):
        return list(expected.items())
    out: list[tuple[str, Any]] = []
    for item in expected:
        if isinstance(item, str):
            out.append((item, None))
        elif isinstance(item, Sequence) and len(item) == 2:
            out.append((str(item[0]), item[1]))
        elif hasattr(item, "name") and hasattr(item, "type_name"):
            out.append((item.name, item.type_name))
        else:
            raise TypeError(f"cannot read a column from {item!r}; use (name, type), a column(...) or a name")
    return out


def _type_matches(actual: str, expected: Any, exact: bool) -> bool:
    from moltres.quality.checks import PYTHON_TYPES, base_type_name, python_type_of, sql_type_holds

    if expected is None:
        return True
    if isinstance(expected, type):
        name = next((k for k, v in PYTHON_TYPES.items() if v is expected), None)
        if name is None:
            raise TypeError(f"assert_schema() knows the Python types {', '.join(PYTHON_TYPES)}, not {expected!r}")
        return bool(sql_type_holds(actual, name))
    wanted = base_type_name(str(expected))
    if wanted == base_type_name(actual):
        return True
    if exact:
        return False
    kind = python_type_of(wanted)
    return kind is not None and kind == python_type_of(actual)


def assert_schema(df: Any, expected: Any, *, exact_types: bool = False) -> None:
    """Assert that a DataFrame has these columns, in this order, with these types.

    Args:
        df: A moltres DataFrame.
        expected: ``{name: type}``, ``[(name, type), ...]``, ``[column(...), ...]`` or column
            names. A type is a SQL type name (``"INTEGER"``), a Python type (``int``, ``str``,
            ``float``, ``bool``, ``date``, ``datetime``) or None (any type).
        exact_types: Compare SQL type names exactly (ignoring length and case). By default
            names holding the same kind of value match (``INTEGER`` and ``BIGINT``, ``TEXT``
            and ``VARCHAR(20)``), so one assertion holds on every database.

    Raises:
        AssertionError: Listing each difference.

    Example:
        >>> from moltres import connect
        >>> db = connect("sqlite://")
        >>> assert_schema(db.sql("SELECT 1 AS n"), ["n"])
    """
    __tracebackhide__ = True
    actual = list(df.schema)
    wanted = _expected_columns(expected)
    problems = []
    names = [name for name, _ in actual]
    wanted_names = [name for name, _ in wanted]
    if names != wanted_names:
        missing = [n for n in wanted_names if n not in names]
        extra = [n for n in names if n not in wanted_names]
        if missing:
            problems.append(f"  missing columns: {missing}")
        if extra:
            problems.append(f"  unexpected columns: {extra}")
        if not missing and not extra:
            problems.append(f"  columns in another order: {names}, expected {wanted_names}")
    types = dict(actual)
    for name, kind in wanted:
        if name in types and not _type_matches(types[name], kind, exact_types):
            shown = kind.__name__ if isinstance(kind, type) else kind
            problems.append(f"  column {name!r} is {types[name]}, expected {shown}")
    if problems:
        raise AssertionError("schema differs:\n" + "\n".join(problems))
