"""Data-quality checks as plain dicts, built by the :class:`DataQualityCheck` factories.

A check is a ``dict`` with at least ``type`` and ``name`` (and ``column`` when it is about
one column), so it can be written in a config file, passed between Airflow or Prefect
tasks, and logged. The factories validate their arguments and fill in the defaults; a
hand-written dict is validated the same way by :func:`normalize_check` when it is run.

Keys every check has:

- ``type``: what to check (``"not_null"``, ``"range"``, ... see :data:`CHECK_TYPES`).
- ``name``: how the report calls it; by default ``"<type>_<column>"`` (``"not_null_email"``).
- ``severity``: ``"error"`` (a failure fails the report) or ``"warn"`` (it is reported as
  a warning and the report still passes).
- ``where``: ``None``, or a filter (a SQL string such as ``"status = 'active'"`` or a
  boolean ``Column``); only rows for which it is true are checked.
- ``mostly`` (row-level checks only): the fraction of checked rows that must pass,
  ``1.0`` by default. ``mostly=0.99`` lets 1% of the rows fail.

Example:
    >>> DataQualityCheck.column_not_null("email")
    {'type': 'not_null', 'name': 'not_null_email', 'severity': 'error', 'where': None, 'column': 'email', 'mostly': 1.0}
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from moltres.expressions.column import Column
from moltres.utils.exceptions import ValidationError

__all__ = [
    "CHECK_TYPES",
    "PYTHON_TYPES",
    "ROW_CHECKS",
    "STATS",
    "Check",
    "DataQualityCheck",
    "Severity",
    "normalize_check",
    "python_type_of",
    "sql_type_holds",
]

#: A check: a plain dict (see the module docstring for its keys).
Check = dict[str, Any]
Severity = Literal["error", "warn"]

#: Checks that judge each row: they report failing rows, show samples and take ``mostly=``.
ROW_CHECKS = frozenset(
    {
        "not_null",
        "range",
        "unique",
        "type",
        "completeness",
        "accepted_values",
        "pattern",
        "value_length",
        "unique_combination",
        "foreign_key",
        "expression",
    }
)
#: Checks that judge one value computed over all the (filtered) rows.
TABLE_CHECKS = frozenset({"row_count", "row_count_change", "freshness", "stat", "custom"})
#: Every check type.
CHECK_TYPES = ROW_CHECKS | TABLE_CHECKS

#: The Python types ``column_type`` understands, by name.
PYTHON_TYPES: dict[str, type] = {
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
    "date": dt.date,
    "datetime": dt.datetime,
}
#: The statistics ``column_stat`` computes.
STATS = ("mean", "min", "max", "sum")

# The type names databases report, by the Python type they hold (base name, upper case,
# without length or precision). TINYINT is also MySQL's BOOLEAN.
_TYPE_NAMES: dict[str, frozenset[str]] = {
    "int": frozenset(
        {"INTEGER", "INT", "BIGINT", "SMALLINT", "TINYINT", "MEDIUMINT", "INT2", "INT4", "INT8", "HUGEINT", "SERIAL"}
        | {"BIGSERIAL", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT"}
    ),
    "float": frozenset({"REAL", "FLOAT", "FLOAT4", "FLOAT8", "DOUBLE", "DOUBLE PRECISION", "NUMERIC", "DECIMAL"}),
    "str": frozenset(
        {"TEXT", "VARCHAR", "CHAR", "CHARACTER", "CHARACTER VARYING", "NVARCHAR", "NCHAR", "CLOB", "STRING"}
        | {"TINYTEXT", "MEDIUMTEXT", "LONGTEXT", "CITEXT", "ENUM"}
    ),
    "bool": frozenset({"BOOLEAN", "BOOL", "TINYINT"}),
    "date": frozenset({"DATE"}),
    "datetime": frozenset(
        {"DATETIME", "TIMESTAMP", "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP WITHOUT TIME ZONE"}
    ),
}
_PARAMS = re.compile(r"\(.*?\)")
_UNDECLARED = frozenset({"", "NULL", "NULLTYPE"})

_SEVERITIES = ("error", "warn")
_SLUG = re.compile(r"[^0-9a-zA-Z]+")


def base_type_name(sql_type: str) -> str:
    """A SQL type name without length or precision, upper case.

    Example:
        >>> base_type_name("varchar(20)"), base_type_name("NUMERIC(10, 2)")
        ('VARCHAR', 'NUMERIC')
    """
    return " ".join(_PARAMS.sub("", sql_type).upper().split())


def sql_type_holds(sql_type: str, python_type: str) -> bool | None:
    """Whether a SQL type (as ``df.schema`` names it) holds values of a Python type, by name.

    Returns None when the database declares no type (``"NULL"``: a computed or raw-SQL column).

    Example:
        >>> sql_type_holds("BIGINT", "int"), sql_type_holds("TEXT", "int"), sql_type_holds("NULL", "int")
        (True, False, None)
    """
    base = base_type_name(sql_type)
    if base in _UNDECLARED:
        return None
    return base in _TYPE_NAMES[python_type]


def python_type_of(sql_type: str) -> str | None:
    """The name of the Python type a SQL type holds (``"int"``, ``"str"``, ...), or None when unknown.

    Example:
        >>> python_type_of("VARCHAR(20)"), python_type_of("DOUBLE PRECISION"), python_type_of("JSON")
        ('str', 'float', None)
    """
    base = base_type_name(sql_type)
    return next((name for name, names in _TYPE_NAMES.items() if base in names), None)


def _fail(message: str, suggestion: str) -> ValidationError:
    return ValidationError(message, suggestion=suggestion)


def _column_name(value: object, what: str = "column") -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(f"{what} must be a column name, got {value!r}", "DataQualityCheck.column_not_null('email')")
    return value


def _fraction(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise _fail(f"{what} must be a fraction between 0 and 1, got {value!r}", f"{what}=0.95")
    return float(value)


def _number(value: object, what: str) -> float | int | None:
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or (isinstance(value, float) and math.isnan(value))
    ):
        raise _fail(f"{what} must be a number, got {value!r}", f"{what}=0")
    return value


def _bounds(check: Mapping[str, Any], *, required: bool = True, non_negative: bool = False) -> tuple[Any, Any]:
    low = _number(check.get("min"), "min")
    high = _number(check.get("max"), "max")
    kind = check["type"]
    if required and low is None and high is None:
        raise _fail(f"a {kind} check needs min=, max= or both", f"{kind}(..., min=0, max=100)")
    if low is not None and high is not None and low > high:
        raise _fail(f"min={low!r} is greater than max={high!r}", "swap them")
    if non_negative and ((low is not None and low < 0) or (high is not None and high < 0)):
        raise _fail(f"a {kind} check takes non-negative bounds, got min={low!r}, max={high!r}", "min=0")
    return low, high


def _condition(value: object, what: str) -> str | Column | None:
    """Accept a SQL boolean string (parsed now, so mistakes show at once) or a Column."""
    if value is None or isinstance(value, Column):
        return value
    if isinstance(value, str) and value.strip():
        from moltres.expressions.parser import parse_expression

        parse_expression(value)
        return value
    raise _fail(
        f"{what} must be a boolean Column or a SQL expression string, got {type(value).__name__}",
        f"{what}=col('status') == 'active' or {what}=\"status = 'active'\"",
    )


def _slug(text: str) -> str:
    return _SLUG.sub("_", text).strip("_").lower()[:40]


def _default_name(check: Mapping[str, Any]) -> str:
    kind = check["type"]
    if kind == "stat":
        return f"{check['stat']}_{check['column']}"
    if kind == "unique_combination":
        return "unique_combination_" + "_".join(check["columns"])
    if kind == "custom":
        fn_name = getattr(check["fn"], "__name__", "")
        return f"custom_{fn_name}" if fn_name and fn_name != "<lambda>" else "custom"
    if kind == "expression":
        text = check["expression"]
        return f"expression_{_slug(text)}" if isinstance(text, str) and _slug(text) else "expression"
    if "column" in check:
        return f"{kind}_{check['column']}"
    return str(kind)


def _normalize_params(out: Check) -> None:
    kind = out["type"]
    if kind in ("not_null", "range", "unique", "type", "completeness", "accepted_values", "pattern"):
        out["column"] = _column_name(out.get("column"))
    if kind in ("value_length", "foreign_key", "freshness", "stat"):
        out["column"] = _column_name(out.get("column"))
    if kind in ("range", "stat", "row_count"):
        out["min"], out["max"] = _bounds(out, non_negative=kind == "row_count")
    elif kind == "value_length":
        out["min"], out["max"] = _bounds(out, non_negative=True)
    elif kind == "type":
        expected = out.get("expected_type")
        if isinstance(expected, type):
            expected = next((k for k, v in PYTHON_TYPES.items() if v is expected), expected)
        if expected not in PYTHON_TYPES:
            raise _fail(
                f"column_type takes one of {', '.join(PYTHON_TYPES)}, got {expected!r}",
                "DataQualityCheck.column_type('age', int)",
            )
        out["expected_type"] = expected
    elif kind == "completeness":
        out["threshold"] = _fraction(out.get("threshold", 1.0), "threshold")
    elif kind == "accepted_values":
        values = out.get("values")
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
            raise _fail(
                "accepted_values needs a non-empty list of values", "accepted_values('status', ['new', 'paid'])"
            )
        out["values"] = list(values)
    elif kind == "pattern":
        regex = out.get("regex")
        if not isinstance(regex, str) or not regex:
            raise _fail(
                "column_pattern needs a regular expression string", r"column_pattern('email', r'^[^@]+@[^@]+$')"
            )
    elif kind == "unique_combination":
        columns = out.get("columns")
        if isinstance(columns, str) or not isinstance(columns, Sequence) or not columns:
            raise _fail("unique_combination needs a list of column names", "unique_combination(['user_id', 'day'])")
        out["columns"] = [_column_name(c) for c in columns]
    elif kind == "foreign_key":
        out["ref_table"] = _column_name(out.get("ref_table"), "ref_table")
        out["ref_column"] = _column_name(out.get("ref_column"), "ref_column")
    elif kind == "freshness":
        age = out.get("max_age_seconds")
        if isinstance(age, dt.timedelta):
            age = age.total_seconds()
        if isinstance(age, bool) or not isinstance(age, (int, float)) or age <= 0:
            raise _fail(
                f"freshness needs a positive max_age, got {age!r}",
                "freshness('updated_at', max_age=timedelta(hours=1))",
            )
        out["max_age_seconds"] = float(age)
    elif kind == "row_count_change":
        baseline = out.get("baseline")
        if isinstance(baseline, bool) or (
            not (isinstance(baseline, int) and baseline >= 0) and not isinstance(baseline, str)
        ):
            raise _fail(
                f"row_count_change needs baseline= a row count or a table name, got {baseline!r}",
                "row_count_change(baseline=1000, tolerance=0.1)",
            )
        out["tolerance"] = _number(out.get("tolerance", 0.1), "tolerance")
        if out["tolerance"] is None or out["tolerance"] < 0:
            raise _fail("tolerance must be a non-negative fraction", "tolerance=0.1 allows a 10% change")
    elif kind == "expression":
        if out.get("expression") is None:
            raise _fail("an expression check needs expression=", "expression(col('end') >= col('start'))")
        out["expression"] = _condition(out["expression"], "expression")
    elif kind == "custom" and not callable(out.get("fn")):
        raise _fail("a custom check needs fn=, a callable that receives the rows", "custom(lambda rows: len(rows) > 0)")
    if kind == "stat" and out.get("stat") not in STATS:
        raise _fail(
            f"column_stat takes one of {', '.join(STATS)}, got {out.get('stat')!r}",
            "column_stat('age', 'mean', min=18)",
        )


def normalize_check(check: Mapping[str, Any]) -> Check:
    """Validate a check and fill in its defaults; return a new dict.

    Hand-written dicts are accepted (``{"type": "not_null", "column": "email"}``), and so are
    the older ``"column_*"`` type names (``"column_not_null"``).

    Args:
        check: The check.

    Returns:
        The complete check.

    Raises:
        ValidationError: An unknown type, or a missing or malformed argument.

    Example:
        >>> normalize_check({"type": "column_range", "column": "age", "min": 0})["name"]
        'range_age'
    """
    if not isinstance(check, Mapping):
        raise _fail(
            f"a check is a dict, got {type(check).__name__}",
            "build checks with DataQualityCheck, e.g. DataQualityCheck.column_not_null('email')",
        )
    kind = check.get("type")
    if isinstance(kind, str) and kind not in CHECK_TYPES and kind.startswith("column_"):
        kind = kind.removeprefix("column_")
    if kind not in CHECK_TYPES:
        raise _fail(f"unknown check type {check.get('type')!r}", "use one of: " + ", ".join(sorted(CHECK_TYPES)))
    out: Check = {"type": kind, "name": None, "severity": "error", "where": None, **check}
    out["type"] = kind
    if out["severity"] not in _SEVERITIES:
        raise _fail(f"severity must be 'error' or 'warn', got {out['severity']!r}", "severity='warn'")
    out["where"] = _condition(out["where"], "where")
    if kind in ROW_CHECKS and kind != "completeness":
        out["mostly"] = _fraction(out.get("mostly", 1.0), "mostly")
    elif out.get("mostly") is not None:
        hint = "completeness takes threshold= instead" if kind == "completeness" else "it computes one value"
        raise _fail(f"mostly= applies to row-level checks, not to {kind} ({hint})", "drop mostly=")
    else:
        out.pop("mostly", None)
    _normalize_params(out)
    if out["name"] is None:
        out["name"] = _default_name(out)
    if not isinstance(out["name"], str) or not out["name"]:
        raise _fail(f"a check name must be a non-empty string, got {out['name']!r}", "check_name='emails_present'")
    return out


def _build(kind: str, check_name: str | None, severity: str, where: str | Column | None, **params: Any) -> Check:
    given = {k: v for k, v in params.items() if not (k == "mostly" and v is None)}
    return normalize_check({"type": kind, "name": check_name, "severity": severity, "where": where, **given})


class DataQualityCheck:
    """Factories for data-quality checks; each returns a plain dict.

    Every factory takes ``check_name=`` (the name in the report), ``severity="error"|"warn"``
    and ``where=`` (check only the rows matching a filter). Row-level checks also take
    ``mostly=``, the fraction of checked rows that must pass. Run them with
    :class:`~moltres.quality.QualityChecker`: all built-in checks on one DataFrame become one
    SQL statement.

    Example:
        >>> checks = [
        ...     DataQualityCheck.column_not_null("email"),
        ...     DataQualityCheck.column_range("age", min=0, max=150),
        ...     DataQualityCheck.custom(lambda rows: len(rows) > 0, check_name="has_rows"),
        ... ]
        >>> [c["name"] for c in checks]
        ['not_null_email', 'range_age', 'has_rows']
    """

    @staticmethod
    def column_not_null(
        column: str,
        *,
        check_name: str | None = None,
        mostly: float | None = None,
        severity: Severity = "error",
        where: str | Column | None = None,
    ) -> Check:
        """Every value of `column` is non-NULL.

        NULLs: a NULL is exactly what fails.

        Example:
            >>> DataQualityCheck.column_not_null("email", mostly=0.99)["mostly"]
            0.99
        """
        return _build("not_null", check_name, severity, where, column=column, mostly=mostly)

    @staticmethod
    def column_range(
        column: str,
        *,
        min: float | None = None,
        max: float | None = None,
        check_name: str | None = None,
        mostly: float | None = None,
        severity: Severity = "error",
        where: str | Column | None = None,
    ) -> Check:
        """Every value of `column` lies within ``[min, max]`` (both inclusive; either may be omitted).

        NULLs: not checked (neither pass nor fail); combine with :meth:`column_not_null`.

        Example:
            >>> DataQualityCheck.column_range("age", min=0, max=150)["name"]
            'range_age'
        """
        return _build("range", check_name, severity, where, column=column, min=min, max=max, mostly=mostly)

    @staticmethod
    def column_unique(
        column: str,
        *,
        check_name: str | None = None,
        mostly: float | None = None,
        severity: Severity = "error",
        where: str | Column | None = None,
    ) -> Check:
        """No value of `column` appears twice.

        The failing-row count is the number of rows that repeat a value seen before
        (``count(column) - count(distinct column)``); the sample shows rows whose value
        occurs more than once. NULLs: ignored, as in a SQL ``UNIQUE`` constraint.

        Example:
            >>> DataQualityCheck.column_unique("email")["type"]
            'unique'
        """
        return _build("unique", check_name, severity, where, column=column, mostly=mostly)

    @staticmethod
    def column_type(
        column: str,
        expected_type: type | str,
        *,
        check_name: str | None = None,
        mostly: float | None = None,
        severity: Severity = "error",
        where: str | Column | None = None,
    ) -> Check:
        """The SQL type of `column` holds `expected_type`: int, float, str, bool, date or datetime.

        The check reads the type the database declares for the column (no rows are
        scanned to decide it): ``int`` matches integer types, ``float`` floating-point and
        decimal types, ``str`` character types, ``bool`` booleans (and MySQL's
        ``TINYINT(1)``), ``date`` dates, ``datetime`` timestamps. On a mismatch every
        non-NULL value counts as failing. A column whose type the database does not declare
        (a computed column, raw SQL on SQLite) fails with a message saying so. SQLite lets
        a column hold values of any type; this check cannot see those. NULLs: not counted.

        Example:
            >>> DataQualityCheck.column_type("age", int)["expected_type"]
            'int'
        """
        return _build("type", check_name, severity, where, column=column, expected_type=expected_type, mostly=mostly)

    @staticmethod
    def row_count(
        *,
        min: int | None = None,
        max: int | None = None,
        check_name: str | None = None,
        severity: Severity = "error",
        where: str | Column | None = None,
    ) -> Check:
        """The number of rows lies within ``[min, max]``.

        NULLs: every row counts, whatever it holds. Takes no ``mostly=``: it judges one number.

        Example:
            >>> DataQualityCheck.row_count(min=1, max=1000)["name"]
            'row_count'
        """
        return _build("row_count", check_name, severity, where, min=min, max=max)

    @staticmethod
    def column_completeness(
        column: str,
        *,
        threshold: float = 1.0,
        check_name: str | None = None,
        severity: Severity = "error",
        where: str | Column | None = None,
    ) -> Check:
        """At least `threshold` (a fraction) of the rows have a non-NULL `column`.

        NULLs: they are the incomplete rows. ``threshold`` plays the part of ``mostly=``.

        Example:
            >>> DataQualityCheck.column_completeness("email", threshold=0.9)["threshold"]
            0.9
        """
        return _build("completeness", check_name, severity, where, column=column, threshold=threshold)

    @staticmethod
    def custom(
        fn: Callable[[list[dict[str, Any]]], object],
        *,
        check_name: str | None = None,
        severity: Severity = "error",
        where: str | Column | None = None,
    ) -> Check:
        """Run your own function on the rows: it passes when `fn` returns something true.

        `fn` receives the **collected rows** (a list of dicts), so this is the one check that
        loads the DataFrame into Python: keep it for small frames, or filter with
        ``where=``. An exception raised by `fn` fails the check with its message. NULLs: as
        ``None`` values in the rows.

        Example:
            >>> DataQualityCheck.custom(lambda rows: len(rows) > 0, check_name="has_rows")["name"]
            'has_rows'
        """
        return _build("custom", check_name, severity, where, fn=fn)

    @staticmethod
    def accepted_values(
        column: str,
        values: Sequence[Any],
        *,
        check_name: str | None = None,
        mostly: float | None = None,
        severity: Severity = "error",
        where: str | Column | None = None,
    ) -> Check:
        """Every value of `column` is one of `values` (dbt's ``accepted_values``).

        NULLs: not checked; combine with :meth:`column_not_null`.

        Example:
            >>> DataQualityCheck.accepted_values("status", ["new", "paid"])["values"]
            ['new', 'paid']
        """
        return _build("accepted_values", check_name, severity, where, column=column, values=values, mostly=mostly)

    @staticmethod
    def column_pattern(
        column: str,
        regex: str,
        *,
        check_name: str | None = None,
        mostly: float | None = None,
        severity: Severity = "error",
        where: str | Column | None = None,
    ) -> Check:
        """Every value of `column` matches the regular expression `regex` (a search, anchor it with ``^...$``).

        The database evaluates the pattern: PostgreSQL ``~``, MySQL/MariaDB ``REGEXP``,
        DuckDB ``regexp_matches``, SQLite the ``REGEXP`` function moltres registers on the
        connections it opens (Python's ``re``). Keep to the syntax they share. NULLs: not
        checked.

        Example:
            >>> DataQualityCheck.column_pattern("email", r"^[^@]+@[^@]+$")["name"]
            'pattern_email'
        """
        return _build("pattern", check_name, severity, where, column=column, regex=regex, mostly=mostly)

    @staticmethod
    def value_length(
        column: str,
        *,
        min: int | None = None,
        max: int | None = None,
        check_name: str | None = None,
        mostly: float | None = None,
        severity: Severity = "error",
        where: str | Column | None = None,
    ) -> Check:
        """The length in characters of every value of `column` lies within ``[min, max]``.

        NULLs: not checked.

        Example:
            >>> DataQualityCheck.value_length("code", min=2, max=3)["max"]
            3
        """
        return _build("value_length", check_name, severity, where, column=column, min=min, max=max, mostly=mostly)

    @staticmethod
    def unique_combination(
        columns: Sequence[str],
        *,
        check_name: str | None = None,
        mostly: float | None = None,
        severity: Severity = "error",
        where: str | Column | None = None,
    ) -> Check:
        """No combination of values of `columns` appears twice (a composite key).

        The failing-row count is the number of rows that repeat a combination seen before.
        NULLs: rows with a NULL in any of the columns are not checked, as in a SQL
        ``UNIQUE`` constraint.

        Example:
            >>> DataQualityCheck.unique_combination(["user_id", "day"])["name"]
            'unique_combination_user_id_day'
        """
        return _build("unique_combination", check_name, severity, where, columns=columns, mostly=mostly)

    @staticmethod
    def foreign_key(
        column: str,
        ref_table: str,
        ref_column: str,
        *,
        check_name: str | None = None,
        mostly: float | None = None,
        severity: Severity = "error",
        where: str | Column | None = None,
    ) -> Check:
        """Every value of `column` exists in ``ref_table.ref_column`` (referential integrity).

        `ref_table` is a table of the same database; the check counts the orphans with an
        anti-join. NULLs: not checked (a NULL reference is no reference).

        Example:
            >>> DataQualityCheck.foreign_key("user_id", "users", "id")["ref_table"]
            'users'
        """
        return _build(
            "foreign_key",
            check_name,
            severity,
            where,
            column=column,
            ref_table=ref_table,
            ref_column=ref_column,
            mostly=mostly,
        )

    @staticmethod
    def freshness(
        column: str,
        *,
        max_age: dt.timedelta | float,
        check_name: str | None = None,
        severity: Severity = "error",
        where: str | Column | None = None,
    ) -> Check:
        """The newest value of `column` (a date or timestamp) is at most `max_age` old.

        `max_age` is a ``timedelta`` or a number of seconds. The newest value is computed by
        the database (``max(column)``) and compared with the current time: timestamps
        without a time zone are read as UTC, dates are compared with today's UTC date.
        NULLs: ignored; a column that is all NULL fails.

        Example:
            >>> DataQualityCheck.freshness("updated_at", max_age=dt.timedelta(hours=1))["max_age_seconds"]
            3600.0
        """
        return _build("freshness", check_name, severity, where, column=column, max_age_seconds=max_age)

    @staticmethod
    def row_count_change(
        *,
        baseline: int | str,
        tolerance: float = 0.1,
        check_name: str | None = None,
        severity: Severity = "error",
        where: str | Column | None = None,
    ) -> Check:
        """The row count is within `tolerance` (a fraction) of a baseline.

        Args:
            baseline: The expected row count, or the name of a table of the same database
                whose row count is the baseline (yesterday's snapshot, say).
            tolerance: The allowed relative change: ``0.1`` accepts 90 to 110 rows for a
                baseline of 100. With a baseline of 0 only 0 rows pass.
            check_name: The name in the report.
            severity: ``"error"`` or ``"warn"``.
            where: Count only the rows matching this filter.

        Returns:
            The check. NULLs: every row counts.

        Example:
            >>> DataQualityCheck.row_count_change(baseline=100, tolerance=0.05)["tolerance"]
            0.05
        """
        return _build("row_count_change", check_name, severity, where, baseline=baseline, tolerance=tolerance)

    @staticmethod
    def expression(
        expression: str | Column,
        *,
        check_name: str | None = None,
        mostly: float | None = None,
        severity: Severity = "error",
        where: str | Column | None = None,
    ) -> Check:
        """Every row satisfies a boolean expression: a Column (``col("end") >= col("start")``) or a SQL string.

        A string is parsed by moltres (values become bound parameters), not pasted into SQL.
        NULLs: a row where the expression is NULL passes, as in dbt's
        ``expression_is_true`` (wrap columns in ``coalesce`` to be strict).

        Example:
            >>> DataQualityCheck.expression("ends_at >= starts_at")["name"]
            'expression_ends_at_starts_at'
        """
        return _build("expression", check_name, severity, where, expression=expression, mostly=mostly)

    @staticmethod
    def column_stat(
        column: str,
        stat: Literal["mean", "min", "max", "sum"],
        *,
        min: float | None = None,
        max: float | None = None,
        check_name: str | None = None,
        severity: Severity = "error",
        where: str | Column | None = None,
    ) -> Check:
        """A statistic of `column` (``mean``, ``min``, ``max`` or ``sum``) lies within ``[min, max]``.

        NULLs: ignored by the statistic, as SQL aggregates do; a column that is all NULL
        has no statistic and fails.

        Example:
            >>> DataQualityCheck.column_stat("age", "mean", min=18, max=65)["name"]
            'mean_age'
        """
        return _build("stat", check_name, severity, where, column=column, stat=stat, min=min, max=max)
