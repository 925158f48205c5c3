"""Type inference and text conversion for file values (no database)."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from moltres.io.values import infer_text_type, infer_value_type, merge_types, text_converter, value_converter
from moltres.sql.types import parse_type


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1", "-2", "+3"], "BIGINT"),
        (["1", "2.5"], "DOUBLE"),
        (["1e3", "NaN", "inf"], "DOUBLE"),
        (["true", "False", "TRUE"], "BOOLEAN"),
        (["1", "0"], "BIGINT"),  # digits are numbers, not booleans
        (["2024-01-02", "1999-12-31"], "DATE"),
        (["2024-01-02 10:00", "2024-01-02T10:00:01.5"], "TIMESTAMP"),
        (["2024-01-02", "2024-01-02 10:00:00"], "TIMESTAMP"),
        (["2024-01-02T10:00:00Z", "2024-01-02 10:00:00+01:00"], "TIMESTAMP WITH TIME ZONE"),
        (["2024-02-30"], "TEXT"),  # not a real date
        (["007", "x"], "TEXT"),
        (["1", "true"], "TEXT"),
        (["2024-01-02", "5"], "TEXT"),
        (["", ""], "TEXT"),
        ([str(2**63)], "DOUBLE"),
    ],
)
def test_infer_text_type(values: list[str], expected: str) -> None:
    assert infer_text_type(values) == expected


def test_null_tokens_are_skipped_by_inference() -> None:
    assert infer_text_type(["NA", "3"], nulls=("NA",)) == "BIGINT"
    assert infer_text_type(["NA", "3"]) == "TEXT"


def test_infer_value_type_and_merge() -> None:
    assert [infer_value_type(v) for v in (True, 1, 1.5, "x", [1], {"a": 1}, None)] == [
        "BOOLEAN",
        "BIGINT",
        "DOUBLE",
        "TEXT",
        "JSON",
        "JSON",
        None,
    ]
    assert merge_types("BIGINT", "DOUBLE") == "DOUBLE"
    assert merge_types("BOOLEAN", "BIGINT") == "TEXT"
    assert merge_types(None, "DATE") == "DATE"
    assert merge_types("JSON", "TEXT") == "TEXT"


@pytest.mark.parametrize(
    ("type_name", "text", "value"),
    [
        ("INTEGER", "42", 42),
        ("BIGINT", "-7", -7),
        ("DOUBLE", "2.5", 2.5),
        ("NUMERIC(10,2)", "3.10", decimal.Decimal("3.10")),
        ("BOOLEAN", "Yes", True),
        ("BOOLEAN", "0", False),
        ("DATE", "2024-02-29", dt.date(2024, 2, 29)),
        ("TIMESTAMP", "2024-02-29 10:11:12", dt.datetime(2024, 2, 29, 10, 11, 12)),
        ("TIMESTAMP WITH TIME ZONE", "2024-01-01T00:00:00Z", dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)),
        ("TIME", "10:11", dt.time(10, 11)),
        ("JSON", '{"a": [1]}', {"a": [1]}),
        ("TEXT", "hello", "hello"),
        ("TEXT", "", None),
        ("INTEGER", "", None),
    ],
)
def test_text_converter(type_name: str, text: str, value: object) -> None:
    assert text_converter(parse_type(type_name))(text) == value


@pytest.mark.parametrize(
    ("type_name", "text"),
    [("INTEGER", "4.5"), ("INTEGER", "1_000"), ("DOUBLE", "abc"), ("BOOLEAN", "maybe"), ("DATE", "2024-13-01")],
)
def test_text_converter_rejects(type_name: str, text: str) -> None:
    with pytest.raises(ValueError):
        text_converter(parse_type(type_name))(text)


def test_value_converter_coerces_json_values() -> None:
    assert value_converter(parse_type("DOUBLE"))(3) == 3.0
    assert value_converter(parse_type("BIGINT"))(3.0) == 3
    assert value_converter(parse_type("TEXT"))([1, 2]) == "[1, 2]"
    assert value_converter(parse_type("DATE"))("2024-01-02") == dt.date(2024, 1, 2)
    assert value_converter(parse_type("JSON"))({"a": 1}) == {"a": 1}
    for type_name, bad in (("BIGINT", 1.5), ("BIGINT", True), ("BOOLEAN", 3), ("DATE", [1])):
        with pytest.raises(ValueError):
            value_converter(parse_type(type_name))(bad)


@given(st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1))
def test_integers_infer_and_convert_back(n: int) -> None:
    text = str(n)
    assert infer_text_type([text]) == "BIGINT"
    assert text_converter(parse_type("BIGINT"))(text) == n


@given(st.floats(allow_nan=False))
def test_floats_convert_back(x: float) -> None:
    text = repr(x)
    assert infer_text_type([text]) in ("BIGINT", "DOUBLE")
    assert text_converter(parse_type("DOUBLE"))(text) == x


@given(st.dates())
def test_dates_infer_and_convert_back(d: dt.date) -> None:
    text = d.isoformat()
    assert infer_text_type([text]) == "DATE"
    assert text_converter(parse_type("DATE"))(text) == d


_SPELLINGS = st.sampled_from(
    [
        "1",
        "-2",
        " +3 ",
        "2.5",
        "1e3",
        ".5",
        "NaN",
        "-Infinity",
        "true",
        "FALSE",
        "2024-01-02",
        " 2024-02-29",
        "2024-02-30",
        "2024-01-02 10:00",
        "2024-01-02T10:00:01.5",
        "2024-01-02 25:00",
        "2024-01-02T10:00:00Z",
        "2024-01-02 10:00+0100",
        "x",
        "007",
        "9" * 18,
        "-" + "9" * 19,
        str(2**63),
        "\x00",
        "1\n2",
    ]
)


@given(st.lists(st.one_of(_SPELLINGS, st.text(max_size=5)), max_size=8))
def test_inference_of_a_whole_column_agrees_with_value_by_value(values: list[str]) -> None:
    from moltres.io.values import _text_type

    expected: str | None = None
    for value in values:
        if value:
            expected = merge_types(expected, _text_type(value))
    assert infer_text_type(values) == (expected or "TEXT")


@pytest.mark.parametrize(
    "spell",
    [
        str,
        lambda i: f"{i}.{i}e-{i % 3}",
        lambda i: "True" if i % 2 else "false",
        lambda i: (dt.date(2000, 1, 1) + dt.timedelta(days=i)).isoformat(),
        lambda i: f"2024-01-02T10:{i % 60:02d}:00.{i}",
        lambda i: f" 2024-01-02 10:00:{i % 60:02d}+0{i % 10}:30 ",
    ],
)
def test_inference_of_a_long_column_that_ends_badly_is_quick(spell: Any) -> None:
    # a pattern that matched a value in several ways would take exponential time here
    values = [spell(i) for i in range(3000)]
    assert infer_text_type(values) != "TEXT"
    assert infer_text_type([*values, "oops"]) == "TEXT"
