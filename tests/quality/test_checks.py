"""Check definitions: the factories build plain dicts, and bad input is refused early."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from moltres import col
from moltres.quality import DataQualityCheck as Q
from moltres.quality import normalize_check
from moltres.quality.checks import CHECK_TYPES, ROW_CHECKS, python_type_of, sql_type_holds
from moltres.utils.exceptions import ValidationError


def test_every_factory_returns_a_json_serializable_dict_with_type_and_name():
    checks = [
        Q.column_not_null("email"),
        Q.column_range("age", min=0, max=150),
        Q.column_unique("email"),
        Q.column_type("age", int),
        Q.row_count(min=1, max=1000),
        Q.column_completeness("email", threshold=0.9),
        Q.accepted_values("status", ["new", "paid"]),
        Q.column_pattern("email", r"^[^@]+@[^@]+$"),
        Q.value_length("code", min=2, max=3),
        Q.unique_combination(["user_id", "day"]),
        Q.foreign_key("user_id", "users", "id"),
        Q.freshness("updated_at", max_age=dt.timedelta(hours=1)),
        Q.row_count_change(baseline=100, tolerance=0.1),
        Q.expression("ends_at >= starts_at"),
        Q.column_stat("age", "mean", min=18, max=65),
    ]
    assert {c["type"] for c in checks} == CHECK_TYPES - {"custom"}
    for check in checks:
        assert isinstance(check, dict)
        assert json.loads(json.dumps(check)) == check
        assert check["severity"] == "error" and check["where"] is None
        assert ("mostly" in check) == (check["type"] in ROW_CHECKS and check["type"] != "completeness")


@pytest.mark.parametrize(
    ("check", "name"),
    [
        (Q.column_not_null("email"), "not_null_email"),
        (Q.column_range("age", min=0), "range_age"),
        (Q.column_unique("email"), "unique_email"),
        (Q.column_type("age", "int"), "type_age"),
        (Q.row_count(min=1), "row_count"),
        (Q.column_completeness("email"), "completeness_email"),
        (Q.accepted_values("s", ["a"]), "accepted_values_s"),
        (Q.column_pattern("email", "@"), "pattern_email"),
        (Q.value_length("code", max=3), "value_length_code"),
        (Q.unique_combination(["a", "b"]), "unique_combination_a_b"),
        (Q.foreign_key("user_id", "users", "id"), "foreign_key_user_id"),
        (Q.freshness("ts", max_age=60), "freshness_ts"),
        (Q.row_count_change(baseline=1), "row_count_change"),
        (Q.expression("a > b"), "expression_a_b"),
        (Q.column_stat("age", "max", max=150), "max_age"),
        (Q.custom(lambda rows: True), "custom"),
    ],
)
def test_default_names_are_type_and_column(check, name):
    assert check["name"] == name


def test_check_name_severity_where_and_mostly_are_kept():
    check = Q.column_not_null("email", check_name="emails", severity="warn", where="active = 1", mostly=0.95)
    assert (check["name"], check["severity"], check["where"], check["mostly"]) == ("emails", "warn", "active = 1", 0.95)
    column_filter = col("active") == 1
    assert Q.column_unique("email", where=column_filter)["where"] is column_filter


def test_custom_check_is_named_after_its_function():
    def emails_look_right(rows):
        return True

    assert Q.custom(emails_look_right)["name"] == "custom_emails_look_right"
    assert Q.custom(emails_look_right, check_name="x")["fn"] is emails_look_right


def test_hand_written_dicts_and_old_type_names_are_accepted():
    assert normalize_check({"type": "not_null", "column": "email"})["name"] == "not_null_email"
    assert normalize_check({"type": "column_range", "column": "age", "max": 9})["type"] == "range"
    assert normalize_check({"type": "type", "column": "d", "expected_type": dt.date})["expected_type"] == "date"


@pytest.mark.parametrize(
    ("build", "fragment"),
    [
        (lambda: normalize_check({"type": "nope"}), "unknown check type 'nope'"),
        (lambda: normalize_check("not_null"), "a check is a dict"),  # type: ignore[arg-type]  # the wrong type is the point
        (lambda: normalize_check({"type": "not_null"}), "column must be a column name"),
        (lambda: Q.column_range("age"), "needs min=, max= or both"),
        (lambda: Q.column_range("age", min=5, max=1), "greater than max"),
        (lambda: Q.column_range("age", min="0"), "min must be a number"),  # type: ignore[arg-type]  # the wrong type is the point
        (lambda: Q.column_type("age", list), "column_type takes one of"),
        (lambda: Q.column_not_null("a", mostly=1.5), "mostly must be a fraction"),
        (lambda: Q.column_not_null("a", severity="fatal"), "severity must be"),  # type: ignore[arg-type]  # the wrong type is the point
        (lambda: Q.column_completeness("a", threshold=-0.1), "threshold must be a fraction"),
        (lambda: Q.accepted_values("s", []), "non-empty list"),
        (lambda: Q.accepted_values("s", "abc"), "non-empty list"),
        (lambda: Q.unique_combination("a"), "list of column names"),
        (lambda: Q.freshness("ts", max_age=0), "positive max_age"),
        (lambda: Q.row_count_change(baseline=-1), "row count or a table name"),
        (lambda: Q.row_count_change(baseline=1, tolerance=-1), "tolerance"),
        (lambda: Q.column_stat("a", "median", min=1), "column_stat takes one of"),  # type: ignore[arg-type]  # the wrong type is the point
        (lambda: Q.custom("not callable"), "callable"),  # type: ignore[arg-type]  # the wrong type is the point
        (lambda: Q.expression("a >"), ""),
        (lambda: Q.column_not_null("a", where=42), "where must be a boolean Column or a SQL expression"),  # type: ignore[arg-type]  # the wrong type is the point
        (lambda: normalize_check({"type": "row_count", "min": 1, "mostly": 0.5}), "mostly= applies to row-level"),
        (lambda: Q.value_length("c", min=-1), "non-negative"),
    ],
)
def test_bad_arguments_raise_validation_errors(build, fragment):
    with pytest.raises(ValidationError, match=None) as info:
        build()
    assert fragment in str(info.value)


def test_sql_type_families():
    assert sql_type_holds("VARCHAR(20)", "str") is True
    assert sql_type_holds("NUMERIC(10, 2)", "float") is True
    assert sql_type_holds("TINYINT", "bool") is True  # MySQL's BOOLEAN
    assert sql_type_holds("DATETIME", "date") is False
    assert sql_type_holds("NULL", "int") is None
    assert python_type_of("TIMESTAMP") == "datetime"
    assert python_type_of("INTERVAL") is None
