"""Every ``F.*`` function and Column method, evaluated by each database and checked against Python.

One small table per backend and module (``data``); each case selects one expression from the
row ``id = 1`` (or filters all rows, for predicates) and compares the value with what Python
computes. A function a dialect cannot express must raise ``CompilationError`` naming the
dialect and an alternative (``notimpl``).
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from moltres import col, lit
from moltres.expressions import functions as F
from moltres.table.schema import column
from moltres.utils.exceptions import CompilationError, UnsupportedOperationError, ValidationError
from tests._backends import Backend

if TYPE_CHECKING:
    from moltres import Column, Database

ROWS: list[dict[str, Any]] = [
    {
        "id": 1,
        "name": "Ada Lovelace",
        "s": "  Hello World  ",
        "x": -2.5,
        "n": 7,
        "d": dt.date(2024, 5, 17),
        "ts": dt.datetime(2024, 5, 17, 13, 45, 30),
        "j": json.dumps({"a": {"b": 5}, "tags": ["x", "y"], "name": "Ada", "ok": True, "f": 1.5}),
        "nul": None,
        "tricky": "50%_off \\ 'quoted' ünï",
    },
    {
        "id": 2,
        "name": "alan turing",
        "s": "x",
        "x": 3.75,
        "n": -4,
        "d": dt.date(2023, 12, 31),
        "ts": dt.datetime(2023, 12, 31, 23, 59, 59),
        "j": json.dumps({"a": {"b": 7}, "tags": [], "name": "Alan"}),
        "nul": "set",
        "tricky": "50 percent off",
    },
    {
        "id": 3,
        "name": "Grace Hopper",
        "s": "",
        "x": 0.0,
        "n": 0,
        "d": dt.date(2000, 2, 29),
        "ts": dt.datetime(2000, 2, 29, 0, 0, 0),
        "j": json.dumps({"a": {"b": None}, "tags": ["z"], "name": "Grace"}),
        "nul": None,
        "tricky": "%_",
    },
]
ROW = ROWS[0]


@pytest.fixture(scope="module")
def data(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    from moltres import connect

    with backend.fresh(tmp_path_factory.mktemp(backend.name)) as url:
        db = connect(url)
        try:
            db.create_table(
                "t",
                [
                    column("id", "INTEGER", primary_key=True),
                    column("name", "VARCHAR(50)"),
                    column("s", "VARCHAR(50)"),
                    column("x", "DOUBLE"),
                    column("n", "INTEGER"),
                    column("d", "DATE"),
                    column("ts", "TIMESTAMP"),
                    column("j", "TEXT"),
                    column("nul", "VARCHAR(10)"),
                    column("tricky", "VARCHAR(50)"),
                ],
            ).collect()
            db.insert("t", ROWS)
            yield db
        finally:
            db.close()


def normalize(value: Any, like: Any) -> Any:
    """Bring a database value to the Python type of the expected value."""
    if value is None or like is None:
        return value
    if isinstance(value, decimal.Decimal):
        value = float(value)
    if isinstance(like, bool):
        return bool(value)
    if isinstance(like, float) and isinstance(value, (int, float)):
        return float(value)
    if isinstance(like, int) and isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(like, dt.datetime) and isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    if type(like) is dt.date and isinstance(value, dt.datetime):
        assert value.time() == dt.time(0), value
        return value.date()
    if type(like) is dt.date and isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    if isinstance(like, list) and isinstance(value, str):
        return json.loads(value)
    return value


def value_of(db: Database, expr: Column, row_id: int = 1) -> Any:
    rows = db.table("t").where(col("id") == row_id).select(expr.alias("v")).collect()
    assert len(rows) == 1
    return rows[0]["v"]


def check(db: Database, expr: Column, expected: Any, row_id: int = 1) -> None:
    got = normalize(value_of(db, expr, row_id), expected)
    if isinstance(expected, float):
        assert got == pytest.approx(expected), (got, expected)
    else:
        assert got == expected, (got, expected)


# ------------------------------------------------------------------------------------ scalar functions

SCALARS: list[tuple[str, Callable[[], Column], Any]] = [
    # arithmetic
    ("add", lambda: col("n") + 3, 10),
    ("radd", lambda: 3 + col("n"), 10),
    ("sub", lambda: col("n") - col("x"), 9.5),
    ("rsub", lambda: 1 - col("n"), -6),
    ("mul", lambda: col("n") * col("x"), -17.5),
    ("div_is_true_division", lambda: col("n") / 2, 3.5),
    ("div_keeps_precision", lambda: col("n") / 3, 7 / 3),
    ("div_of_float", lambda: col("x") / col("n"), -2.5 / 7),
    ("rdiv", lambda: 14 / col("n"), 2.0),
    ("mod_operator", lambda: col("n") % 3, 1),
    ("neg", lambda: -col("x"), 2.5),
    ("precedence", lambda: (col("n") + 1) * 2 - col("n") / 7, 15.0),
    ("pow_operator", lambda: col("n") ** 2, 49.0),
    # strings
    ("lower", lambda: F.lower("name"), "ada lovelace"),
    ("upper", lambda: F.upper(col("name")), "ADA LOVELACE"),
    ("trim", lambda: F.trim("s"), "Hello World"),
    ("ltrim", lambda: F.ltrim("s"), "Hello World  "),
    ("rtrim", lambda: F.rtrim("s"), "  Hello World"),
    ("length", lambda: F.length("name"), 12),
    ("length_unicode", lambda: F.length("tricky"), len(ROW["tricky"])),
    ("substring", lambda: F.substring("name", 1, 3), "Ada"),
    ("substring_to_end", lambda: F.substring("name", 5), "Lovelace"),
    ("substr_method", lambda: col("name").substr(5, 4), "Love"),
    ("concat", lambda: F.concat("name", lit("!"), lit(" "), F.upper("name")), "Ada Lovelace! ADA LOVELACE"),
    ("concat_number", lambda: F.concat(lit("n="), col("n").cast("TEXT")), "n=7"),
    ("replace", lambda: F.replace("name", "a", "4"), "Ad4 Lovel4ce"),
    ("replace_special", lambda: F.replace("tricky", "%_", "#"), "50#off \\ 'quoted' ünï"),
    # math
    ("abs", lambda: F.abs("x"), 2.5),
    ("abs_int", lambda: F.abs(col("n") * -1), 7),
    ("round_digits", lambda: F.round(col("x") / 3, 2), -0.83),
    ("round_int_column", lambda: F.round("n"), 7),
    ("round_no_tie", lambda: F.round(lit(2.7182818), 3), 2.718),
    ("floor", lambda: F.floor("x"), -3),
    ("ceil", lambda: F.ceil("x"), -2),
    ("sqrt", lambda: F.sqrt(col("n") + 9), 4.0),
    ("pow", lambda: F.pow("n", 2), 49.0),
    ("power_fraction", lambda: F.power(lit(16.0), 0.5), 4.0),
    ("mod", lambda: F.mod("n", 4), 3),
    # conditionals
    ("when", lambda: F.when(col("n") > 5, "big").otherwise("small"), "big"),
    ("when_chain", lambda: F.when(col("n") > 10, "huge").when(col("n") > 5, "big").otherwise("small"), "big"),
    ("when_no_otherwise", lambda: F.when(col("n") > 10, "huge"), None),
    ("coalesce", lambda: F.coalesce("nul", "name"), "Ada Lovelace"),
    ("coalesce_literal", lambda: F.coalesce(col("nul"), lit("none")), "none"),
    # casts
    ("cast_int_to_text", lambda: col("n").cast("TEXT"), "7"),
    ("cast_varchar", lambda: col("n").cast("VARCHAR(10)"), "7"),
    ("cast_text_to_int", lambda: lit("42").cast("INTEGER"), 42),
    ("cast_int_to_real", lambda: col("n").cast("REAL") / 2, 3.5),
    ("cast_to_double", lambda: lit("1.5").cast("DOUBLE"), 1.5),
    ("cast_to_date", lambda: lit("2024-02-29").cast("DATE"), dt.date(2024, 2, 29)),
    ("cast_timestamp_to_date", lambda: col("ts").cast("DATE"), dt.date(2024, 5, 17)),
    ("cast_to_timestamp", lambda: lit("2024-02-29 10:11:12").cast("TIMESTAMP"), dt.datetime(2024, 2, 29, 10, 11, 12)),
    ("astype", lambda: col("n").astype("BIGINT"), 7),
    # dates
    ("year", lambda: F.year("d"), 2024),
    ("month", lambda: F.month("d"), 5),
    ("day", lambda: F.day("d"), 17),
    ("dayofmonth", lambda: F.dayofmonth("d"), 17),
    ("quarter", lambda: F.quarter("d"), 2),
    ("hour", lambda: F.hour("ts"), 13),
    ("minute", lambda: F.minute("ts"), 45),
    ("second", lambda: F.second("ts"), 30),
    ("year_of_timestamp", lambda: F.year("ts"), 2024),
    ("date_add", lambda: F.date_add("d", 20), dt.date(2024, 6, 6)),
    ("date_add_negative", lambda: F.date_add("d", -17), dt.date(2024, 4, 30)),
    ("date_add_column", lambda: F.date_add("d", col("n")), dt.date(2024, 5, 24)),
    ("date_sub", lambda: F.date_sub("d", 17), dt.date(2024, 4, 30)),
    ("date_diff", lambda: F.date_diff("d", lit(dt.date(2024, 1, 1))), 137),
    ("date_diff_negative", lambda: F.datediff(lit(dt.date(2024, 1, 1)), "d"), -137),
    ("date_trunc_year", lambda: F.date_trunc("year", "d"), dt.date(2024, 1, 1)),
    ("date_trunc_quarter", lambda: F.date_trunc("quarter", "d"), dt.date(2024, 4, 1)),
    ("date_trunc_month", lambda: F.date_trunc("month", "d"), dt.date(2024, 5, 1)),
    ("date_trunc_day_of_timestamp", lambda: F.date_trunc("day", "ts"), dt.date(2024, 5, 17)),
    ("date_trunc_hour", lambda: F.date_trunc("hour", "ts"), dt.datetime(2024, 5, 17, 13, 0, 0)),
    ("date_trunc_minute", lambda: F.date_trunc("minute", "ts"), dt.datetime(2024, 5, 17, 13, 45, 0)),
    ("date_literal_compare", lambda: col("d") > lit(dt.date(2024, 5, 1)), True),
    # JSON
    ("json_extract", lambda: F.json_extract("j", "$.a.b"), "5"),
    ("json_extract_string", lambda: F.json_extract("j", "$.name"), "Ada"),
    ("json_extract_index", lambda: F.get_json_object("j", "$.tags[1]"), "y"),
    ("json_extract_missing", lambda: F.json_extract("j", "$.nope"), None),
    ("json_extract_boolean", lambda: F.json_extract("j", "$.ok"), "true"),
    ("json_extract_float", lambda: F.json_extract("j", "$.f"), "1.5"),
    ("get_json_method", lambda: col("j").get_json("$.a.b"), "5"),
    # literals round-trip as parameters
    ("lit_str", lambda: lit('it\'s \\ "q" ünï'), 'it\'s \\ "q" ünï'),
    ("lit_float", lambda: lit(0.1) + lit(0.2), 0.3),
    ("lit_date", lambda: lit(dt.date(1999, 12, 31)), dt.date(1999, 12, 31)),
    ("lit_none", lambda: lit(None), None),
]


@pytest.mark.parametrize(("case", "build", "expected"), SCALARS, ids=[c[0] for c in SCALARS])
def test_scalar_function(data: Database, case: str, build: Callable[[], Column], expected: Any) -> None:
    check(data, build(), expected)


def test_scalar_functions_on_null_input(data: Database) -> None:
    for expr in (
        F.upper("nul"),
        F.length("nul"),
        F.concat("nul", "name"),
        F.trim("nul"),
        F.abs(col("nul").cast("INTEGER")),
    ):
        assert value_of(data, expr) is None


def test_string_functions_on_every_row(data: Database) -> None:
    rows = (
        data.table("t")
        .select("id", F.upper("name").alias("u"), F.length("s").alias("l"), F.trim("s").alias("t"))
        .order_by("id")
        .collect()
    )
    assert [(r["u"], r["l"], r["t"]) for r in rows] == [(x["name"].upper(), len(x["s"]), x["s"].strip()) for x in ROWS]


def test_date_parts_on_every_row(data: Database) -> None:
    rows = (
        data.table("t")
        .select(
            "id",
            F.year("d").alias("y"),
            F.month("d").alias("m"),
            F.day("d").alias("dd"),
            F.date_add("d", 1).alias("next"),
        )
        .order_by("id")
        .collect()
    )
    for r, x in zip(rows, ROWS, strict=True):
        assert (r["y"], r["m"], r["dd"]) == (x["d"].year, x["d"].month, x["d"].day)
        assert normalize(r["next"], x["d"]) == x["d"] + dt.timedelta(days=1)


def test_current_date_and_timestamp(data: Database) -> None:
    today = normalize(value_of(data, F.current_date()), dt.date.today())
    assert abs((today - dt.date.today()).days) <= 1
    now = value_of(data, F.current_timestamp())
    if isinstance(now, str):
        now = dt.datetime.fromisoformat(now)
    assert isinstance(now, dt.datetime)
    assert abs((now.replace(tzinfo=None) - dt.datetime.now()).total_seconds()) < 2 * 86400


def test_division_by_zero_is_null_or_an_error(data: Database) -> None:
    from moltres.utils.exceptions import ExecutionError

    try:
        got = value_of(data, col("n") / 0)
    except ExecutionError:
        assert data.dialect_name in ("postgresql",)
    else:
        assert got is None or math.isinf(got)


# ------------------------------------------------------------------------------------ functions some dialects lack


@pytest.mark.notimpl(["sqlite", "mysql"], raises=UnsupportedOperationError, reason="no array type")
def test_split(data: Database) -> None:
    assert value_of(data, F.split("name", " ")) == ["Ada", "Lovelace"]


def test_split_error_names_dialect_and_alternative(data: Database) -> None:
    if data.dialect_name not in ("sqlite", "mysql"):
        pytest.skip("split() compiles here")
    with pytest.raises(CompilationError) as info:
        value_of(data, F.split("name", " "))
    assert data.dialect_name.lower() in str(info.value).lower()
    assert info.value.suggestion


def test_regexp_extract(data: Database) -> None:
    assert value_of(data, F.regexp_extract("name", "L[a-z]+")) == "Lovelace"


def test_stddev_and_collect_list(data: Database) -> None:
    import statistics

    row = data.table("t").agg(F.stddev("x").alias("sd"), F.collect_list("n").alias("ns")).first()
    assert row is not None
    assert float(row["sd"]) == pytest.approx(statistics.stdev(r["x"] for r in ROWS))
    ns = row["ns"] if not isinstance(row["ns"], str) else json.loads(row["ns"])
    assert sorted(ns) == sorted(r["n"] for r in ROWS)


# ------------------------------------------------------------------------------------ predicates

PREDICATES: list[tuple[str, Callable[[], Column], Callable[[dict[str, Any]], bool]]] = [
    ("eq", lambda: col("n") == 7, lambda r: r["n"] == 7),
    ("ne", lambda: col("n") != 7, lambda r: r["n"] != 7),
    ("lt", lambda: col("x") < 0, lambda r: r["x"] < 0),
    ("le", lambda: col("n") <= 0, lambda r: r["n"] <= 0),
    ("gt", lambda: col("x") > 0, lambda r: r["x"] > 0),
    ("ge", lambda: col("n") >= 0, lambda r: r["n"] >= 0),
    ("column_vs_column", lambda: col("x") < col("n"), lambda r: r["x"] < r["n"]),
    ("and", lambda: (col("n") > -5) & (col("x") > 0), lambda r: r["n"] > -5 and r["x"] > 0),
    ("or", lambda: (col("n") > 5) | (col("x") > 1), lambda r: r["n"] > 5 or r["x"] > 1),
    ("not", lambda: ~(col("n") > 5), lambda r: not r["n"] > 5),
    ("isin", lambda: col("n").isin([7, 0]), lambda r: r["n"] in (7, 0)),
    ("isin_varargs", lambda: col("name").isin("Grace Hopper", "nobody"), lambda r: r["name"] == "Grace Hopper"),
    ("isin_empty", lambda: col("n").isin([]), lambda r: False),
    ("not_isin", lambda: ~col("n").isin([7]), lambda r: r["n"] != 7),
    ("between", lambda: col("n").between(0, 7), lambda r: 0 <= r["n"] <= 7),
    ("between_dates", lambda: col("d").between(dt.date(2023, 1, 1), dt.date(2023, 12, 31)), lambda r: r["id"] == 2),
    ("like", lambda: col("name").like("%a%"), lambda r: "a" in r["name"]),
    ("like_underscore", lambda: col("name").like("_da%"), lambda r: r["name"][1:3] == "da"),
    ("ilike", lambda: col("name").ilike("A%"), lambda r: r["name"].lower().startswith("a")),
    (
        "rlike",
        lambda: col("name").rlike("^[A-Z][a-z]+ [A-Z]"),
        lambda r: re.search("^[A-Z][a-z]+ [A-Z]", r["name"]) is not None,
    ),
    ("rlike_is_case_sensitive", lambda: col("name").rlike("^a"), lambda r: r["name"].startswith("a")),
    ("rlike_unanchored", lambda: col("name").rlike("o[a-z]+r"), lambda r: re.search("o[a-z]+r", r["name"]) is not None),
    ("startswith", lambda: col("name").startswith("Ada"), lambda r: r["name"].startswith("Ada")),
    ("startswith_wildcards_literal", lambda: col("tricky").startswith("50%"), lambda r: r["tricky"].startswith("50%")),
    ("startswith_underscore_literal", lambda: col("tricky").startswith("%_"), lambda r: r["tricky"].startswith("%_")),
    ("endswith", lambda: col("name").endswith("per"), lambda r: r["name"].endswith("per")),
    ("contains", lambda: col("name").contains("ing"), lambda r: "ing" in r["name"]),
    ("contains_backslash", lambda: col("tricky").contains("\\ 'q"), lambda r: "\\ 'q" in r["tricky"]),
    ("contains_percent", lambda: col("tricky").contains("%"), lambda r: "%" in r["tricky"]),
    ("is_null", lambda: col("nul").is_null(), lambda r: r["nul"] is None),
    ("is_not_null", lambda: col("nul").isNotNull(), lambda r: r["nul"] is not None),
    ("eq_none_is_null", lambda: col("nul") == None, lambda r: r["nul"] is None),  # noqa: E711
    ("null_comparison_is_not_true", lambda: col("nul") != "set", lambda r: r["nul"] is not None and r["nul"] != "set"),
    (
        "string_predicate",
        lambda: F.expr("n > 0 AND name LIKE 'A%'"),
        lambda r: r["n"] > 0 and r["name"].startswith("A"),
    ),
    ("boolean_column_from_cast", lambda: (col("n") > 0).cast("BOOLEAN"), lambda r: r["n"] > 0),
]


@pytest.mark.parametrize(("case", "build", "oracle"), PREDICATES, ids=[c[0] for c in PREDICATES])
def test_predicate(
    data: Database, case: str, build: Callable[[], Column], oracle: Callable[[dict[str, Any]], bool]
) -> None:
    got = [r["id"] for r in data.table("t").where(build()).select("id").order_by("id").collect()]
    assert got == [r["id"] for r in ROWS if oracle(r)]


def test_predicates_as_values(data: Database) -> None:
    rows = (
        data.table("t").select("id", (col("n") > 0).alias("pos"), col("nul").is_null().alias("missing")).order_by("id")
    )
    assert [(bool(r["pos"]), bool(r["missing"])) for r in rows.collect()] == [
        (r["n"] > 0, r["nul"] is None) for r in ROWS
    ]


# ------------------------------------------------------------------------------------ builders without a database


def test_function_argument_validation() -> None:
    with pytest.raises(ValidationError):
        F.coalesce()
    with pytest.raises(ValidationError):
        F.concat()
    with pytest.raises(ValidationError):
        F.round("x", 1.5)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="unknown date_trunc unit"):
        F.date_trunc("fortnight", "d")
    with pytest.raises(ValidationError, match=r"\$"):
        F.json_extract("j", "a.b")
    with pytest.raises(ValidationError):
        col("x").cast("")
    with pytest.raises(ValidationError):
        lit(object())
    with pytest.raises(ValidationError):
        col("")


def test_otherwise_and_when_chain_rules() -> None:
    with pytest.raises(ValidationError):
        col("a").otherwise(1)
    with pytest.raises(ValidationError):
        col("a").when(col("a") > 1, 2)
    closed = F.when(col("a") > 1, "x").otherwise("y")
    with pytest.raises(ValidationError):
        closed.when(col("a") > 2, "z")
    with pytest.raises(ValidationError):
        closed.otherwise("w")


def test_math_functions_on_null(data: Database) -> None:
    for fn in (F.floor, F.ceil, F.sqrt, F.abs):
        assert value_of(data, fn(col("nul").cast("DOUBLE"))) is None
    assert value_of(data, F.round(col("nul").cast("DOUBLE"), 1)) is None
    assert value_of(data, F.pow(col("nul").cast("DOUBLE"), 2)) is None


def test_casts_return_python_types(data: Database) -> None:
    assert isinstance(value_of(data, col("n").cast("DOUBLE")), float)
    assert isinstance(value_of(data, col("x").cast("INTEGER")), int)
    assert isinstance(value_of(data, col("n").cast("TEXT")), str)
    assert isinstance(value_of(data, lit("2024-01-02").cast("DATE")), dt.date)
